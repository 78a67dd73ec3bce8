// examples/common/json.hpp: the pieces of JSON the example tools read (lsh_dedup's JSON Lines
// records, kv_replay's traces): a cursor over text that reports errors as file:line:column, and
// strings with every JSON escape (\uXXXX and surrogate pairs to UTF-8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/cli.hpp"

namespace example::json {

struct json_cursor {
  std::string const& text;
  std::size_t pos;
  std::string const& path;
  std::size_t line;
  std::size_t line_start;
  [[noreturn]] void fail(std::string const& what) const {
    throw input_error(path + ":" + std::to_string(line) + ":" + std::to_string(pos - line_start + 1) + ": " + what);
  }
  void skip_space() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\r')) { ++pos; }
  }
  char peek() const { return pos < text.size() ? text[pos] : '\n'; }
};

inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

inline std::uint32_t hex4(json_cursor& c) {
  if (c.pos + 4 > c.text.size()) { c.fail("truncated \\u escape"); }
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    char const h = c.text[c.pos++];
    v <<= 4;
    if (h >= '0' && h <= '9') {
      v |= static_cast<std::uint32_t>(h - '0');
    } else if (h >= 'a' && h <= 'f') {
      v |= static_cast<std::uint32_t>(h - 'a' + 10);
    } else if (h >= 'A' && h <= 'F') {
      v |= static_cast<std::uint32_t>(h - 'A' + 10);
    } else {
      c.fail("bad hex digit in \\u escape");
    }
  }
  return v;
}

inline std::string json_string(json_cursor& c) {
  ++c.pos;  // the opening quote
  std::string out;
  for (;;) {
    if (c.pos >= c.text.size() || c.text[c.pos] == '\n') { c.fail("string never closed"); }
    char const ch = c.text[c.pos++];
    if (ch == '"') { return out; }
    if (ch != '\\') {
      out += ch;
      continue;
    }
    if (c.pos >= c.text.size()) { c.fail("truncated escape"); }
    char const e = c.text[c.pos++];
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        std::uint32_t cp = hex4(c);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (c.pos + 2 > c.text.size() || c.text[c.pos] != '\\' || c.text[c.pos + 1] != 'u') {
            c.fail("unpaired surrogate in \\u escape");
          }
          c.pos += 2;
          std::uint32_t const low = hex4(c);
          if (low < 0xDC00 || low > 0xDFFF) { c.fail("unpaired surrogate in \\u escape"); }
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          c.fail("unpaired surrogate in \\u escape");
        }
        append_utf8(out, cp);
        break;
      }
      default: c.fail(std::string("unknown escape \\") + e);
    }
  }
}

}  // namespace example::json
