// Training curves as a picture: px::utils::plot_history (what Keras users draw with
// matplotlib from history.history).
//
//   px::History hist = model.fit(x, y, {.epochs = 20, .validation_split = 0.2});
//   px::utils::plot_history(hist, "curves.png");   // rendered by gnuplot
//   px::utils::plot_history(hist, "curves.svg");   // written directly, no external program
//
// One panel per metric family, side by side: "loss" (with the per-output "<name>_loss" of a
// multi-output model), "accuracy" (with "<name>_accuracy"), and so on; x is the epoch
// (1-based), the training value is a solid line and its "val_" twin a dashed line of the
// same colour. Non-finite values leave a gap.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "optim/model_options.hpp"

namespace plexus::utils {

struct PlotHistoryOptions {
  std::string title{};              // drawn above the panels; empty: none
  std::vector<std::string> keys{};  // plot only these keys and their "val_" twins; empty: all
  int panel_width = 480;            // pixels per panel
  int panel_height = 360;
  int columns = 2;  // panels per row; further panels wrap onto new rows
};

// Writes the curves of `history` to `path`: ".svg" is written by plexus itself, ".png" is
// rendered by gnuplot (`gnuplot` on PATH, Debian package gnuplot-nox). The file appears
// complete or not at all (it is written under a temporary name and renamed). Throws
// px::Error on an empty history, an unknown key, another extension, or when gnuplot is
// missing or fails.
void plot_history(const History& history, std::string_view path,
                  const PlotHistoryOptions& options = {});

// The SVG document plot_history writes for ".svg" (for embedding or testing).
std::string history_to_svg(const History& history, const PlotHistoryOptions& options = {});

}  // namespace plexus::utils
