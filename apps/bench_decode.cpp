// Decode throughput: one pass of image_dataset_from_directory over a folder of image files
// (decode, TensorFlow's resize, batching; no model), against PyTorch's DataLoader + PIL on
// the same folder in the same run (apps/peers/decode_peer.py, with as many worker
// processes as plexus has decode threads).
//
//   bench_decode --folder /tmp/digits/train --workers 2 [--peer apps/peers/decode_peer.py]
//
// The folder holds class subfolders of images (apps/image_classification --keep writes one).
// Each side runs --repeats times; the best pass is reported (the first warms the page cache).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <plexus.hpp>

namespace px = plexus;

namespace {
std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw px::Error("cannot run \"{}\"", cmd);
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  if (pclose(p) != 0) throw px::Error("\"{}\" failed:\n{}", cmd, out);
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  std::string folder, peer = PLEXUS_DECODE_PEER, python = "/usr/bin/python3",
                      color_mode = "grayscale";
  int workers = 2, batch = 128, repeats = 2;
  std::size_t height = 28, width = 28;
  CLI::App cli{"Image decode throughput: plexus's image_dataset_from_directory vs PyTorch"};
  cli.add_option("--folder", folder, "Folder of class subfolders of images")->required();
  cli.add_option("--workers", workers, "Decode threads (PyTorch: worker processes)")
      ->capture_default_str();
  cli.add_option("--batch-size", batch, "Batch size")->capture_default_str();
  cli.add_option("--height", height, "image_size height")->capture_default_str();
  cli.add_option("--width", width, "image_size width")->capture_default_str();
  cli.add_option("--color-mode", color_mode, "grayscale or rgb")->capture_default_str();
  cli.add_option("--repeats", repeats, "Passes per side (the best is reported)")
      ->capture_default_str();
  cli.add_option("--peer", peer, "decode_peer.py (\"\" to skip)")->capture_default_str();
  cli.add_option("--python", python, "Python with torch, torchvision, PIL")->capture_default_str();
  CLI11_PARSE(cli, argc, argv);
  try {
    auto ds = px::utils::image_dataset_from_directory(
        folder, px::kw::image_size = {height, width}, px::kw::color_mode = color_mode,
        px::kw::batch_size = batch, px::kw::seed = 1, px::kw::num_parallel_calls = workers,
        px::kw::verbose = false);
    double best = 1e30;
    std::size_t n = 0;
    for (int r = 0; r < repeats; ++r) {
      n = 0;
      const auto t0 = std::chrono::steady_clock::now();
      for (const px::StepData& b : ds) n += b.x[0].shape()[0];
      best = std::min(best,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    const double ours = static_cast<double>(n) / best;
    fmt::print(
        "plexus image_dataset_from_directory: {} images in {:.2f} s: {:.0f} images/s "
        "({} decode threads)\n",
        n, best, ours, workers);
    if (peer.empty()) return 0;
    double theirs = 0;
    for (int r = 0; r < repeats; ++r) {
      const std::string out =
          run(fmt::format("{} {} {} --workers {} --batch-size {} --color-mode {}", python, peer,
                          folder, workers, batch, color_mode));
      const auto at = out.find("images_per_s=");
      if (at == std::string::npos) throw px::Error("unexpected peer output: {}", out);
      theirs = std::max(theirs, std::stod(out.substr(at + 13)));
    }
    fmt::print("PyTorch DataLoader + PIL:            {:.0f} images/s ({} worker processes)\n",
               theirs, workers);
    fmt::print("plexus / PyTorch: {:.2f}x\n", ours / theirs);
    return 0;
  } catch (const px::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
