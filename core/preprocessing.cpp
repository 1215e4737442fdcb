#include "core/preprocessing.hpp"

#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "core/error.hpp"
#include "core/file_io.hpp"
#include "core/shape.hpp"

namespace plexus::utils {
namespace {

std::string dims_str(const std::vector<std::ptrdiff_t>& s) {
  return fmt::format("({})", fmt::join(s, ", "));
}

Tensor::shape_type resolve_shape(const Tensor& x, const std::vector<std::ptrdiff_t>& shape) {
  bool infer = false;
  for (std::ptrdiff_t d : shape) {
    if (d == -1) {
      if (infer) {
        throw Error("reshape: only one dimension can be -1, received {} for an array of shape {}",
                    dims_str(shape), shape_str(shape_of(x)));
      }
      infer = true;
    } else if (d < 0) {
      throw Error("reshape: invalid dimension {} in {} (dimensions are >= 0, or -1 to infer)", d,
                  dims_str(shape));
    }
  }
  const auto size = static_cast<Dim>(x.size());
  const auto out = reshaped(shape, size, "reshape");
  if (!out && infer) {
    throw Error("reshape: cannot reshape an array of shape {} ({} elements) into {}",
                shape_str(shape_of(x)), size, dims_str(shape));
  }
  if (!out) {
    throw Error("reshape: cannot reshape an array of shape {} ({} elements) into {} ({} elements)",
                shape_str(shape_of(x)), size, dims_str(shape),
                checked_known_product(shape, 0, "reshape"));
  }
  return Tensor::shape_type(out->begin(), out->end());
}

// x seen as (outer, n, inner) around `axis`.
struct AxisView {
  std::size_t outer = 1, n = 1, inner = 1;
  Tensor::shape_type reduced;
};

AxisView axis_view(const Tensor& x, std::ptrdiff_t axis, const char* what) {
  if (x.dimension() == 0) throw Error("{}: expected an array with at least one axis", what);
  const std::size_t a = normalize_axis(axis, x.dimension(), what);
  AxisView v;
  for (std::size_t i = 0; i < x.dimension(); ++i) {
    if (i < a) v.outer *= x.shape()[i];
    if (i > a) v.inner *= x.shape()[i];
    if (i != a) v.reduced.push_back(x.shape()[i]);
  }
  v.n = x.shape()[a];
  if (v.n == 0) {
    throw Error("{}: axis {} of an array of shape {} is empty", what, axis, shape_str(shape_of(x)));
  }
  return v;
}

// Mean and sum of squared deviations over the axis, in double (two passes).
void moments(const Tensor& x, const AxisView& v, std::vector<double>& mu, std::vector<double>& m2) {
  const float* p = x.data();
  mu.assign(v.outer * v.inner, 0.0);
  m2.assign(v.outer * v.inner, 0.0);
  for (std::size_t o = 0; o < v.outer; ++o) {
    for (std::size_t k = 0; k < v.n; ++k) {
      const float* row = p + (o * v.n + k) * v.inner;
      for (std::size_t i = 0; i < v.inner; ++i) mu[o * v.inner + i] += row[i];
    }
  }
  for (double& m : mu) m /= static_cast<double>(v.n);
  for (std::size_t o = 0; o < v.outer; ++o) {
    for (std::size_t k = 0; k < v.n; ++k) {
      const float* row = p + (o * v.n + k) * v.inner;
      for (std::size_t i = 0; i < v.inner; ++i) {
        const double d = row[i] - mu[o * v.inner + i];
        m2[o * v.inner + i] += d * d;
      }
    }
  }
}

Tensor from_doubles(const Tensor::shape_type& shape, const std::vector<double>& v) {
  Tensor t(shape);
  std::transform(v.begin(), v.end(), t.data(), [](double d) { return static_cast<float>(d); });
  return t;
}

}  // namespace

Tensor reshape(const Tensor& x, const std::vector<std::ptrdiff_t>& shape) {
  Tensor out = x;
  return reshape(std::move(out), shape);
}

Tensor reshape(Tensor&& x, const std::vector<std::ptrdiff_t>& shape) {
  const auto s = resolve_shape(x, shape);
  x.reshape(s);
  return std::move(x);
}

Tensor mean(const Tensor& x, std::ptrdiff_t axis) {
  const AxisView v = axis_view(x, axis, "mean");
  std::vector<double> mu, m2;
  moments(x, v, mu, m2);
  return from_doubles(v.reduced, mu);
}

Tensor variance(const Tensor& x, std::ptrdiff_t axis, int ddof) {
  const AxisView v = axis_view(x, axis, "variance");
  if (ddof < 0 || static_cast<std::size_t>(ddof) >= v.n) {
    throw Error("variance: ddof={} needs more than {} samples along axis {}, received {}", ddof,
                ddof, axis, v.n);
  }
  std::vector<double> mu, m2;
  moments(x, v, mu, m2);
  for (double& m : m2) m /= static_cast<double>(v.n - static_cast<std::size_t>(ddof));
  return from_doubles(v.reduced, m2);
}

Tensor stddev(const Tensor& x, std::ptrdiff_t axis, int ddof) {
  Tensor var = variance(x, axis, ddof);
  for (float& f : var) f = std::sqrt(f);
  return var;
}

Tensor standardize(const Tensor& x) { return StandardScaler().fit_transform(x); }

Tensor normalize(const Tensor& x, std::ptrdiff_t axis, int order) {
  if (order != 1 && order != 2) throw Error("normalize: order must be 1 or 2, received {}", order);
  const AxisView v = axis_view(x, axis, "normalize");
  Tensor out = x;
  float* p = out.data();
  for (std::size_t o = 0; o < v.outer; ++o) {
    for (std::size_t i = 0; i < v.inner; ++i) {
      double norm = 0.0;
      for (std::size_t k = 0; k < v.n; ++k) {
        const double e = p[(o * v.n + k) * v.inner + i];
        norm += order == 1 ? std::abs(e) : e * e;
      }
      if (order == 2) norm = std::sqrt(norm);
      if (norm == 0.0) continue;
      for (std::size_t k = 0; k < v.n; ++k) {
        float& e = p[(o * v.n + k) * v.inner + i];
        e = static_cast<float>(e / norm);
      }
    }
  }
  return out;
}

// --- StandardScaler -----------------------------------------------------------------------

StandardScaler& StandardScaler::fit(const Tensor& x) {
  if (!all_finite(x)) throw Error("StandardScaler.fit: the data holds NaN or Inf values");
  const AxisView v = axis_view(x, 0, "StandardScaler.fit");
  std::vector<double> mu, m2;
  moments(x, v, mu, m2);
  mean_ = from_doubles(v.reduced, mu);
  scale_ = Tensor(v.reduced);
  for (std::size_t i = 0; i < m2.size(); ++i) {
    const double sd = std::sqrt(m2[i] / static_cast<double>(v.n));
    scale_.data()[i] = sd == 0.0 ? 1.0f : static_cast<float>(sd);
  }
  fitted_ = true;
  return *this;
}

void StandardScaler::check(const Tensor& x, const char* what) const {
  if (!fitted_) throw Error("StandardScaler.{}: call fit() first", what);
  Shape trailing = shape_of(x);
  if (!trailing.empty()) trailing.erase(trailing.begin());
  if (x.dimension() == 0 || trailing != shape_of(mean_)) {
    throw Error(
        "StandardScaler.{}: expected samples of shape {} (fitted), received an array of "
        "shape {}",
        what, shape_str(shape_of(mean_)), shape_str(shape_of(x)));
  }
}

Tensor StandardScaler::transform(const Tensor& x) const {
  check(x, "transform");
  Tensor out = x;
  const std::size_t d = mean_.size();
  float* p = out.data();
  for (std::size_t i = 0; i < out.size(); ++i)
    p[i] = (p[i] - mean_.data()[i % d]) / scale_.data()[i % d];
  return out;
}

Tensor StandardScaler::inverse_transform(const Tensor& x) const {
  check(x, "inverse_transform");
  Tensor out = x;
  const std::size_t d = mean_.size();
  float* p = out.data();
  for (std::size_t i = 0; i < out.size(); ++i)
    p[i] = p[i] * scale_.data()[i % d] + mean_.data()[i % d];
  return out;
}

// --- LabelEncoder -------------------------------------------------------------------------

LabelEncoder& LabelEncoder::fit(const std::vector<std::string>& labels) {
  if (labels.empty()) throw Error("LabelEncoder.fit: no labels given");
  classes_ = labels;
  std::sort(classes_.begin(), classes_.end());
  classes_.erase(std::unique(classes_.begin(), classes_.end()), classes_.end());
  return *this;
}

Tensor LabelEncoder::transform(const std::vector<std::string>& labels) const {
  if (classes_.empty()) throw Error("LabelEncoder.transform: call fit() first");
  Tensor out(Tensor::shape_type{labels.size()});
  for (std::size_t i = 0; i < labels.size(); ++i) {
    auto it = std::lower_bound(classes_.begin(), classes_.end(), labels[i]);
    if (it == classes_.end() || *it != labels[i]) {
      throw Error(
          "LabelEncoder.transform: label \"{}\" at index {} was not seen by fit(); known "
          "classes: {}",
          labels[i], i, fmt::join(classes_, ", "));
    }
    out.data()[i] = static_cast<float>(it - classes_.begin());
  }
  return out;
}

std::vector<std::string> LabelEncoder::inverse_transform(const Tensor& ids) const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const float v = ids.data()[i];
    if (!(v >= 0) || v != std::floor(v) || v >= static_cast<float>(classes_.size())) {
      throw Error("LabelEncoder.inverse_transform: {} at index {} is not a class id in [0, {})", v,
                  i, classes_.size());
    }
    out.push_back(classes_[static_cast<std::size_t>(v)]);
  }
  return out;
}

}  // namespace plexus::utils

namespace plexus::datasets {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

void split(std::string_view line, char delimiter, std::vector<std::string>& fields) {
  fields.clear();
  if (delimiter == ' ') {
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && is_blank(line[i])) ++i;
      if (i == line.size()) break;
      const std::size_t start = i;
      while (i < line.size() && !is_blank(line[i])) ++i;
      fields.emplace_back(line.substr(start, i - start));
    }
    return;
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = line.find(delimiter, start);
    fields.emplace_back(
        trim(line.substr(start, end == std::string_view::npos ? end : end - start)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
}

std::size_t resolve_column(std::ptrdiff_t c, std::size_t columns, const std::string& what) {
  const auto n = static_cast<std::ptrdiff_t>(columns);
  if (c < -n || c >= n)
    throw Error("{}: column {} is out of range for {} columns", what, c, columns);
  return static_cast<std::size_t>(c < 0 ? c + n : c);
}

}  // namespace

std::vector<std::string> CsvText::column(std::ptrdiff_t c) const {
  std::vector<std::string> out;
  if (rows.empty()) return out;
  const std::size_t k = resolve_column(c, num_columns(), "CsvText.column");
  for (const auto& r : rows) out.push_back(r[k]);
  return out;
}

CsvText read_csv_text(const std::filesystem::path& path, const CsvOptions& options) {
  if (options.delimiter == '\n' || options.delimiter == '\r' || options.delimiter == '\0') {
    throw Error("read_csv_text: invalid delimiter for {}", path.string());
  }
  const std::string text = detail::read_file_bytes(path, options.max_bytes, "the CSV text");
  const std::string file = path.string();
  std::string_view rest(text);
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);
  CsvText out;
  std::vector<std::string> fields;
  std::vector<std::size_t> keep;
  std::size_t columns = 0, first_line = 0, line_no = 0;
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    ++line_no;
    if (line_no <= options.skip_rows || trim(line).empty()) continue;
    split(line, options.delimiter, fields);
    if (out.rows.empty()) {
      columns = fields.size();
      first_line = line_no;
      if (options.usecols.empty()) {
        for (std::size_t c = 0; c < columns; ++c) keep.push_back(c);
      }
      for (const std::ptrdiff_t c : options.usecols) {
        keep.push_back(resolve_column(c, columns, fmt::format("{}:{}: usecols", file, line_no)));
      }
    } else if (fields.size() != columns) {
      throw Error("{}:{}: expected {} columns (as on line {}), got {}", file, line_no, columns,
                  first_line, fields.size());
    }
    std::vector<std::string> row;
    row.reserve(keep.size());
    for (const std::size_t c : keep) row.push_back(std::move(fields[c]));
    out.rows.push_back(std::move(row));
  }
  if (out.rows.empty()) throw Error("{}: no data rows", file);
  return out;
}

LabeledData load_csv_labeled(const std::filesystem::path& path, const LabeledCsvOptions& options) {
  const CsvText table =
      read_csv_text(path, {.delimiter = options.delimiter, .skip_rows = options.skip_rows});
  const std::size_t columns = table.num_columns();
  const std::size_t label =
      resolve_column(options.label_column, columns, "load_csv_labeled " + path.string());
  if (columns < 2) {
    throw Error("load_csv_labeled: {} has {} column; expected features and a label column",
                path.string(), columns);
  }
  LabeledData out;
  out.x = Tensor(Tensor::shape_type{table.rows.size(), columns - 1});
  float* x = out.x.data();
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    for (std::size_t c = 0; c < columns; ++c) {
      if (c == label) continue;
      std::string_view f = table.rows[r][c];
      if (!f.empty() && f.front() == '+') f.remove_prefix(1);
      float v = 0.0f;
      const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
      if (f.empty() || ec != std::errc() || end != f.data() + f.size()) {
        throw Error(
            "{}: data row {}: column {}: \"{}\" is not a number (only column {} may hold "
            "text labels)",
            path.string(), r + 1, c + 1, table.rows[r][c], label + 1);
      }
      *x++ = v;
    }
  }
  utils::LabelEncoder enc;
  out.y = enc.fit_transform(table.column(static_cast<std::ptrdiff_t>(label)));
  out.classes = enc.classes();
  return out;
}

}  // namespace plexus::datasets
