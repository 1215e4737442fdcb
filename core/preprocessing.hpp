// Data preparation as a NumPy / scikit-learn user writes it, safely: every helper checks
// its arguments and throws px::Error with the shapes instead of crashing (xtensor 0.24's
// reshape_view(x, {-1, 784}) throws std::bad_alloc and stddev(x, {0}) can segfault).
//
//   px::Tensor flat = px::utils::reshape(images, {-1, 784});     // x.reshape(-1, 784)
//   px::Tensor mu = px::utils::mean(x, 0), sd = px::utils::stddev(x, 0);   // np.mean/np.std
//   px::Tensor z = px::utils::standardize(x);                     // (x - mean) / std per column
//   px::utils::StandardScaler sc; sc.fit(x_train); sc.transform(x_test);   // sklearn's
//   px::utils::LabelEncoder enc; px::Tensor y = enc.fit_transform(species);  // text -> 0..k-1
//   auto iris = px::datasets::load_csv_labeled("iris.csv");      // numeric x, encoded y
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/datasets.hpp"
#include "core/tensor.hpp"

namespace plexus::utils {

// x with a new shape holding the same elements (row-major, a copy): NumPy's
// x.reshape(shape). At most one dimension may be -1; it is inferred from the size. Throws
// px::Error naming both shapes when the sizes differ, a dimension is < -1, or -1 appears
// twice or cannot be inferred.
Tensor reshape(const Tensor& x, const std::vector<std::ptrdiff_t>& shape);
// The same, reusing x's buffer (no copy).
Tensor reshape(Tensor&& x, const std::vector<std::ptrdiff_t>& shape);

// Mean over `axis` (NumPy's np.mean(x, axis)): x's shape without that axis. Accumulates in
// double. Throws px::Error on an empty axis or an axis out of range.
Tensor mean(const Tensor& x, std::ptrdiff_t axis = 0);
// Variance over `axis`: sum((x - mean)^2) / (n - ddof). ddof = 0 is NumPy's default (the
// population variance); ddof = 1 the sample variance (pandas' default). n - ddof must be > 0.
Tensor variance(const Tensor& x, std::ptrdiff_t axis = 0, int ddof = 0);
// sqrt(variance(x, axis, ddof)) — np.std(x, axis, ddof=ddof).
Tensor stddev(const Tensor& x, std::ptrdiff_t axis = 0, int ddof = 0);

// (x - mean) / std per column of a (samples, features...) tensor, statistics over axis 0
// with the population std (scikit-learn's StandardScaler, NumPy's std). A column whose
// std is 0 is only centred (divided by 1), as scikit-learn does.
Tensor standardize(const Tensor& x);

// Keras's keras.utils.normalize(x, axis=-1, order=2): x divided by its L-order norm along
// `axis` (order 1 or 2); a zero norm leaves the slice unchanged.
Tensor normalize(const Tensor& x, std::ptrdiff_t axis = -1, int order = 2);

// scikit-learn's StandardScaler: fit() learns per-column mean and population std (axis 0)
// from training data; transform() applies (x - mean) / std to any data with the same
// trailing shape (a test set), inverse_transform() undoes it.
class StandardScaler {
 public:
  StandardScaler& fit(const Tensor& x);
  Tensor transform(const Tensor& x) const;
  Tensor fit_transform(const Tensor& x) { return fit(x).transform(x); }
  Tensor inverse_transform(const Tensor& x) const;
  const Tensor& mean() const { return mean_; }
  const Tensor& scale() const { return scale_; }  // std, with 0 replaced by 1
  bool fitted() const { return fitted_; }

 private:
  void check(const Tensor& x, const char* what) const;
  Tensor mean_, scale_;
  bool fitted_ = false;
};

// scikit-learn's LabelEncoder: text labels to class ids 0..k-1, classes sorted (so
// "Iris-setosa" = 0, "Iris-versicolor" = 1, "Iris-virginica" = 2). transform() of a label
// not seen by fit() throws px::Error naming it and the known classes.
class LabelEncoder {
 public:
  LabelEncoder& fit(const std::vector<std::string>& labels);
  Tensor transform(const std::vector<std::string>& labels) const;  // shape (n,), float ids
  Tensor fit_transform(const std::vector<std::string>& labels) {
    return fit(labels).transform(labels);
  }
  std::vector<std::string> inverse_transform(const Tensor& ids) const;
  const std::vector<std::string>& classes() const { return classes_; }

 private:
  std::vector<std::string> classes_;
};

}  // namespace plexus::utils

namespace plexus::datasets {

// A CSV file as text: rows of fields, nothing converted (for files with text columns).
// The same parsing rules as load_csv (delimiter ' ' = whitespace, skip_rows, blank lines
// skipped, BOM and "\r\n" accepted, usecols); ragged rows raise px::Error naming the line.
struct CsvText {
  std::vector<std::vector<std::string>> rows;
  std::size_t num_columns() const { return rows.empty() ? 0 : rows[0].size(); }
  // Column c (negative counts from the end) as text.
  std::vector<std::string> column(std::ptrdiff_t c) const;
};
CsvText read_csv_text(const std::filesystem::path& path, const CsvOptions& options = {});

struct LabeledCsvOptions {
  char delimiter = ',';
  std::size_t skip_rows = 0;
  // The column holding the label (text or numbers); negative counts from the end.
  std::ptrdiff_t label_column = -1;
};
// x: every other column, parsed as numbers, (rows, cols - 1); y: the label column encoded
// by a LabelEncoder, (rows,); classes: the encoder's classes (y's names, sorted).
struct LabeledData {
  Tensor x;
  Tensor y;
  std::vector<std::string> classes;
};
// Iris: `auto [x, y, classes] = px::datasets::load_csv_labeled(dir / "iris.csv");`
// A feature field that is not a number raises px::Error naming file, line and column.
LabeledData load_csv_labeled(const std::filesystem::path& path,
                             const LabeledCsvOptions& options = {});

}  // namespace plexus::datasets
