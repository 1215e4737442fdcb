// Numeric CSV reading (numpy.loadtxt's job in the Keras examples).
#include <fmt/format.h>

#include <charconv>
#include <string_view>

#include "core/datasets.hpp"
#include "core/error.hpp"
#include "core/file_io.hpp"
#include "core/shape.hpp"

namespace plexus::datasets {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

void split_fields(std::string_view line, char delimiter, std::vector<std::string_view>& fields) {
  fields.clear();
  if (delimiter == ' ') {
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && is_space(line[i])) ++i;
      if (i == line.size()) break;
      const std::size_t start = i;
      while (i < line.size() && !is_space(line[i])) ++i;
      fields.push_back(line.substr(start, i - start));
    }
    return;
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = line.find(delimiter, start);
    fields.push_back(trim(line.substr(start, end == std::string_view::npos ? end : end - start)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
}

// Parses the whole field as a float; false when it is not exactly one number.
bool parse_float(std::string_view s, float& out, bool& out_of_range) {
  out_of_range = false;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || s.front() == '+') return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec == std::errc::result_out_of_range && end == s.data() + s.size()) {
    out_of_range = true;
    return false;
  }
  return ec == std::errc() && end == s.data() + s.size();
}

// Long fields are cut in messages.
std::string quoted(std::string_view field) {
  if (field.size() <= 40) return fmt::format("\"{}\"", field);
  return fmt::format("\"{}...\"", field.substr(0, 37));
}

// Explains why fields[c] is not a number, with a hint when the likely cause is a header
// line or a wrong delimiter.
[[noreturn]] void throw_bad_field(const std::string& file, std::size_t line_no, std::size_t c,
                                  const std::vector<std::string_view>& fields, bool first_row,
                                  char delimiter, bool out_of_range) {
  const std::string_view field = fields[c];
  if (out_of_range) {
    throw Error("{}:{}: column {}: {} is out of the float range", file, line_no, c + 1,
                quoted(field));
  }
  float v;
  bool unused;
  std::string hint;
  std::vector<std::string_view> parts;
  for (const char d : {' ', ';', ',', '|'}) {
    if (d == delimiter) continue;
    split_fields(field, d, parts);
    bool all_numbers = parts.size() >= 2;
    for (const std::string_view p : parts) all_numbers = all_numbers && parse_float(p, v, unused);
    if (all_numbers) {
      hint = d == ' '
                 ? " (the line looks whitespace-separated: pass .delimiter = ' ')"
                 : fmt::format(" (the line looks separated by '{}': pass .delimiter = '{}')", d, d);
      break;
    }
  }
  // A first row without a single number is most likely a header.
  bool any_number = false;
  for (const std::string_view f : fields) any_number = any_number || parse_float(f, v, unused);
  if (hint.empty() && first_row && !any_number) {
    hint = fmt::format(" (if line {} is a header, pass .skip_rows = {})", line_no, line_no);
  }
  if (field.empty()) {
    throw Error("{}:{}: column {}: empty field, expected a number{}", file, line_no, c + 1, hint);
  }
  throw Error("{}:{}: column {}: {} is not a number{}", file, line_no, c + 1, quoted(field), hint);
}

}  // namespace

Tensor load_csv(const std::filesystem::path& path, const CsvOptions& options) {
  if (options.delimiter == '\n' || options.delimiter == '\r' || options.delimiter == '\0') {
    throw Error("load_csv: invalid delimiter for {}", path.string());
  }
  const std::string text = detail::read_file_bytes(path, options.max_bytes, "the CSV text");
  const std::string file = path.string();
  std::string_view rest(text);
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);  // UTF-8 byte-order mark

  std::vector<float> values;
  std::vector<std::string_view> fields;
  std::vector<std::size_t> keep;  // column indices kept, resolved on the first data row
  std::size_t columns = 0;        // fields per row, fixed by the first data row
  std::size_t first_line = 0;     // line number of the first data row
  std::size_t rows = 0;
  std::size_t line_no = 0;
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    ++line_no;
    if (line_no <= options.skip_rows) continue;
    if (trim(line).empty()) continue;
    split_fields(line, options.delimiter, fields);

    if (rows == 0) {
      columns = fields.size();
      first_line = line_no;
      if (options.usecols.empty()) {
        for (std::size_t c = 0; c < columns; ++c) keep.push_back(c);
      }
      for (const std::ptrdiff_t c : options.usecols) {
        const auto n = static_cast<std::ptrdiff_t>(columns);
        if (c < -n || c >= n) {
          throw Error("{}:{}: usecols index {} is out of range for {} columns", file, line_no, c,
                      columns);
        }
        keep.push_back(static_cast<std::size_t>(c < 0 ? c + n : c));
      }
    } else if (fields.size() != columns) {
      throw Error("{}:{}: expected {} columns (as on line {}), got {}", file, line_no, columns,
                  first_line, fields.size());
    }
    for (const std::size_t c : keep) {
      float v;
      bool out_of_range;
      if (parse_float(fields[c], v, out_of_range)) {
        values.push_back(v);
        continue;
      }
      throw_bad_field(file, line_no, c, fields, rows == 0, options.delimiter, out_of_range);
    }
    ++rows;
  }
  if (rows == 0) {
    throw Error("{}: no data rows (the file is empty or holds only blank{} lines)", file,
                options.skip_rows ? " or skipped" : "");
  }
  Tensor t = allocate_tensor({static_cast<Dim>(rows), static_cast<Dim>(keep.size())}, file);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

}  // namespace plexus::datasets
