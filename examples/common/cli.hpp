// examples/common/cli.hpp: strict command-line parsing and up-front checks for the example
// programs, so that bad input is a clear error before any work is done.
//   int k = example::parse_integer<int>(argv[2], "k", 1, 32);   // "21abc" is an error, not 21
//   example::require_readable(argv[3], "query file");
//   example::require_writable_prefix(prefix);                  // its directory exists and is writable
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>
#include <cstdio>

#include <sys/stat.h>
#include <unistd.h>

#include <warp/core/backend.cuh>

namespace example {

struct input_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// `text` as an integer in [lo, hi]; anything else (trailing characters, a sign where none fits,
/// out of range) is an input_error naming the argument and what was given.
template <class T>
T parse_integer(char const* text, char const* name, T lo, T hi) {
  std::string const given = text == nullptr ? "" : text;
  auto fail = [&] {
    return input_error(std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                       "], got '" + given + "'");
  };
  if (given.empty() || std::isspace(static_cast<unsigned char>(given[0]))) { throw fail(); }
  errno = 0;
  char* end = nullptr;
  long long const v = std::strtoll(given.c_str(), &end, 10);
  if (errno != 0 || end == nullptr || *end != '\0') { throw fail(); }
  if (v < static_cast<long long>(lo) || v > static_cast<long long>(hi)) { throw fail(); }
  return static_cast<T>(v);
}

/// `text` as a finite number in [lo, hi].
inline double parse_real(char const* text, char const* name, double lo, double hi) {
  std::string const given = text == nullptr ? "" : text;
  auto fail = [&] {
    return input_error(std::string(name) + " must be a number in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                       "], got '" + given + "'");
  };
  if (given.empty() || std::isspace(static_cast<unsigned char>(given[0]))) { throw fail(); }
  errno = 0;
  char* end = nullptr;
  double const v = std::strtod(given.c_str(), &end);
  if (errno != 0 || end == nullptr || *end != '\0' || !std::isfinite(v) || v < lo || v > hi) { throw fail(); }
  return v;
}

/// Throws unless `path` is a readable regular file.
inline void require_readable(std::string const& path, char const* what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw input_error(std::string(what) + " " + path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) { throw input_error(std::string(what) + " " + path + " is a directory"); }
  if (::access(path.c_str(), R_OK) != 0) { throw input_error(std::string(what) + " " + path + ": " + std::strerror(errno)); }
}

/// Throws unless the directory that `path_or_prefix` would be written in exists and is writable.
inline void require_writable_prefix(std::string const& path_or_prefix) {
  std::size_t const slash = path_or_prefix.rfind('/');
  std::string const dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_or_prefix.substr(0, slash));
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw input_error("output directory " + dir + " does not exist (for " + path_or_prefix + ")");
  }
  if (::access(dir.c_str(), W_OK) != 0) { throw input_error("output directory " + dir + " is not writable"); }
}

/// The backend a program's --backend option names: "host", "cuda", or "" for the default (CUDA when a
/// device is usable); throws when the one asked for cannot run here.
inline warp::backend backend_option(std::string const& name) {
  if (!name.empty() && name != "host" && name != "cuda") {
    throw input_error("--backend must be host or cuda, got '" + name + "'");
  }
  warp::backend const b = name.empty() ? warp::default_backend() : name == "cuda" ? warp::backend::cuda : warp::backend::host;
  warp::require_backend(b);
  return b;
}

/// Walks a command line's options from argv[first]: next() gives the next option (false at the
/// end; --help or -h prints `usage` and exits 0), value() the argument that follows it, an
/// input_error naming the option when there is none.
class option_reader {
 public:
  option_reader(int argc, char** argv, int first, char const* usage) : argc_{argc}, argv_{argv}, i_{first - 1}, usage_{usage} {}
  bool next() {
    if (++i_ >= argc_) { return false; }
    option_ = argv_[i_];
    if (option_ == "--help" || option_ == "-h") {
      std::fputs(usage_, stdout);
      std::exit(0);
    }
    return true;
  }
  [[nodiscard]] std::string const& option() const noexcept { return option_; }
  char const* value() {
    if (i_ + 1 >= argc_) { throw input_error(option_ + " needs a value"); }
    return argv_[++i_];
  }

 private:
  int argc_;
  char** argv_;
  int i_;
  char const* usage_;
  std::string option_;
};

/// The comma-separated items of `text` (an option's value); an empty item or list is an
/// input_error naming `what`.
inline std::vector<std::string> split_list(std::string const& text, std::string const& what) {
  std::vector<std::string> out;
  std::string item;
  std::size_t start = 0;
  for (;;) {
    std::size_t const comma = text.find(',', start);
    item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) { throw input_error(what + ": an empty item in '" + text + "'"); }
    out.push_back(item);
    if (comma == std::string::npos) { return out; }
    start = comma + 1;
  }
}

}  // namespace example
