// examples/lsh_dedup/records.hpp: reading record tables for the dedup tool: CSV or TSV (any
// one-character separator and quote character, RFC 4180 quoting: a quoted field may hold the
// separator, line breaks and doubled quotes) with a header row, or JSON Lines (one flat object a
// line; string, number, true/false and null values). Every error names the file, the line and
// the column (or field), and happens before the tool writes anything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/cli.hpp"
#include "common/json.hpp"

namespace lsh_tool {

using input_error = example::input_error;

enum class table_format { csv, jsonl };

struct table_options {
  table_format format = table_format::csv;
  char separator = ',';
  char quote = '"';
};

/// A table: column names and rows of fields, all strings.
struct table {
  std::string path;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::size_t> row_lines;  // the line each row starts on (1-based)

  /// The index of column `name`; an input_error listing the columns when there is none.
  [[nodiscard]] std::size_t column(std::string const& name) const {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == name) { return i; }
    }
    std::string known;
    for (auto const& c : columns) { known += (known.empty() ? "" : ", ") + ("'" + c + "'"); }
    throw input_error(path + ": no column '" + name + "' (the columns are " + known + ")");
  }
};

inline std::string read_whole_file(std::string const& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in) { throw input_error(path + ": cannot open for reading"); }
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) { throw input_error(path + ": read error"); }
  return s.str();
}

/// Splits `text` into records of fields (CSV rules with the given separator and quote).
inline std::vector<std::vector<std::string>> parse_delimited(std::string const& text, std::string const& path,
                                                             char separator, char quote,
                                                             std::vector<std::size_t>* record_lines) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> fields;
  std::string field;
  std::size_t line = 1, column = 1, record_line = 1;
  bool in_quotes = false, quoted_field = false, any = false;
  std::size_t quote_line = 0, quote_column = 0;
  auto end_field = [&] {
    fields.push_back(std::move(field));
    field.clear();
    quoted_field = false;
  };
  auto end_record = [&] {
    end_field();
    records.push_back(std::move(fields));
    fields.clear();
    if (record_lines != nullptr) { record_lines->push_back(record_line); }
    any = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char const c = text[i];
    if (!any) {
      record_line = line;
      any = true;
    }
    if (in_quotes) {
      if (c == quote) {
        if (i + 1 < text.size() && text[i + 1] == quote) {
          field += quote;
          ++i;
          ++column;
        } else {
          in_quotes = false;
        }
      } else {
        field += c;
        if (c == '\n') {
          ++line;
          column = 0;
        }
      }
    } else if (c == separator) {
      end_field();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      // CRLF: the '\n' ends the record.
    } else if (c == '\n' || c == '\r') {
      end_record();
      ++line;
      column = 0;
    } else if (c == quote && field.empty() && !quoted_field) {
      in_quotes = true;
      quoted_field = true;
      quote_line = line;
      quote_column = column;
    } else if (quoted_field) {
      throw input_error(path + ":" + std::to_string(line) + ":" + std::to_string(column) +
                        ": unexpected character after a closing quote");
    } else {
      field += c;
    }
    ++column;
  }
  if (in_quotes) {
    throw input_error(path + ":" + std::to_string(quote_line) + ":" + std::to_string(quote_column) +
                      ": quoted field never closed");
  }
  if (any) { end_record(); }
  return records;
}

/// Reads a CSV/TSV table with a header row; every row must have as many fields as the header.
inline table read_delimited(std::string const& path, char separator, char quote) {
  std::string const text = read_whole_file(path);
  table t;
  t.path = path;
  std::vector<std::size_t> lines;
  auto records = parse_delimited(text, path, separator, quote, &lines);
  if (records.empty()) { throw input_error(path + ": empty file (a header row is needed)"); }
  t.columns = std::move(records[0]);
  for (std::size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != t.columns.size()) {
      throw input_error(path + ":" + std::to_string(lines[r]) + ": the row has " + std::to_string(records[r].size()) +
                        " fields, the header has " + std::to_string(t.columns.size()) + " (separator '" +
                        std::string(1, separator) + "')");
    }
    t.rows.push_back(std::move(records[r]));
    t.row_lines.push_back(lines[r]);
  }
  return t;
}

namespace detail {

using example::json::json_cursor;
using example::json::json_string;

/// A scalar value as text (strings unescaped; numbers and literals as written; null as "").
inline std::string json_scalar(json_cursor& c) {
  char const ch = c.peek();
  if (ch == '"') { return json_string(c); }
  if (ch == '{' || ch == '[') { c.fail("nested objects and arrays are not supported (flat records only)"); }
  std::size_t const start = c.pos;
  while (c.pos < c.text.size() && c.text[c.pos] != ',' && c.text[c.pos] != '}' && c.text[c.pos] != '\n' &&
         c.text[c.pos] != ' ' && c.text[c.pos] != '\t' && c.text[c.pos] != '\r') {
    ++c.pos;
  }
  std::string const word = c.text.substr(start, c.pos - start);
  if (word == "null") { return ""; }
  if (word == "true" || word == "false") { return word; }
  if (word.empty()) { c.fail("a value is missing"); }
  char* end = nullptr;
  (void)std::strtod(word.c_str(), &end);
  if (end == nullptr || *end != '\0') { c.fail("'" + word + "' is not a JSON value"); }
  return word;
}

}  // namespace detail

/// Reads JSON Lines: the columns are the keys of the first object; every object must have them
/// (extra keys are ignored); blank lines are skipped.
inline table read_json_lines(std::string const& path) {
  std::string const text = read_whole_file(path);
  table t;
  t.path = path;
  std::size_t line = 1;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t const eol = text.find('\n', pos);
    std::size_t const end = eol == std::string::npos ? text.size() : eol;
    detail::json_cursor c{text, pos, path, line, pos};
    c.skip_space();
    if (c.pos < end) {
      if (c.peek() != '{') { c.fail("a JSON object is expected"); }
      ++c.pos;
      std::unordered_map<std::string, std::string> fields;
      std::vector<std::string> order;
      c.skip_space();
      if (c.peek() == '}') {
        ++c.pos;
      } else {
        for (;;) {
          c.skip_space();
          if (c.peek() != '"') { c.fail("a key in double quotes is expected"); }
          std::string key = detail::json_string(c);
          c.skip_space();
          if (c.peek() != ':') { c.fail("':' is expected after key '" + key + "'"); }
          ++c.pos;
          c.skip_space();
          std::string value = detail::json_scalar(c);
          if (fields.count(key) == 0) { order.push_back(key); }
          fields[key] = std::move(value);
          c.skip_space();
          if (c.peek() == ',') {
            ++c.pos;
            continue;
          }
          if (c.peek() == '}') {
            ++c.pos;
            break;
          }
          c.fail("',' or '}' is expected");
        }
      }
      c.skip_space();
      if (c.pos < end) { c.fail("text after the object"); }
      if (t.columns.empty() && t.rows.empty()) { t.columns = order; }
      std::vector<std::string> row(t.columns.size());
      for (std::size_t i = 0; i < t.columns.size(); ++i) {
        auto const it = fields.find(t.columns[i]);
        if (it == fields.end()) {
          throw input_error(path + ":" + std::to_string(line) + ": the object has no key '" + t.columns[i] +
                            "' (the first object's keys are the columns)");
        }
        row[i] = std::move(it->second);
      }
      t.rows.push_back(std::move(row));
      t.row_lines.push_back(line);
    }
    pos = end + 1;
    ++line;
  }
  if (t.rows.empty()) { throw input_error(path + ": no records"); }
  return t;
}

inline table read_table(std::string const& path, table_options const& o) {
  return o.format == table_format::jsonl ? read_json_lines(path) : read_delimited(path, o.separator, o.quote);
}

}  // namespace lsh_tool
