// warp/detail/files.cuh: the file handling every container and program shares.
//
// - write_file_atomically: the bytes go to a unique temporary in the target's directory
//   (mkstemp), which is written, fsynced and renamed over the target, and the directory is
//   fsynced; on any failure the temporary is removed and the target is left as it was. Two
//   writers of one path never share a temporary, so the target is always one complete file.
// - regular_file_size: the size of a file that must exist and be a regular file (a directory or a
//   missing file is an error naming it), so that readers can check sizes claimed by headers
//   against the file before allocating anything.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <warp/core/error.cuh>

namespace warp::detail {

inline std::string errno_text(int e) { return std::strerror(e); }

/// Writes all of [data, data + bytes) to fd; false (errno set) on failure.
inline bool write_all(int fd, void const* data, std::size_t bytes) {
  auto const* p = static_cast<unsigned char const*>(data);
  while (bytes != 0) {
    ssize_t const n = ::write(fd, p, bytes);
    if (n < 0) {
      if (errno == EINTR) { continue; }
      return false;
    }
    p += n;
    bytes -= static_cast<std::size_t>(n);
  }
  return true;
}

/// One piece of a file: bytes to write in order.
struct file_piece {
  void const* data;
  std::size_t bytes;
};

/// Writes the pieces to `path` atomically (see the file comment). `who` names the caller in errors.
inline void write_file_atomically(std::string const& path, std::string const& who, std::vector<file_piece> const& pieces) {
  std::string const slash = path.find('/') == std::string::npos ? std::string{} : path.substr(0, path.rfind('/') + 1);
  std::string const directory = slash.empty() ? std::string{"."} : slash;
  std::string name = path + ".tmp.XXXXXX";
  std::vector<char> pattern(name.begin(), name.end());
  pattern.push_back('\0');
  int const fd = ::mkstemp(pattern.data());
  if (fd < 0) {
    int const e = errno;
    throw error(who + ": cannot create a temporary file next to " + path + ": " + errno_text(e));
  }
  std::string const temporary{pattern.data()};
  auto fail = [&](std::string const& what, int e) {
    ::close(fd);
    ::unlink(temporary.c_str());
    throw error(who + ": " + what + " " + temporary + " failed: " + errno_text(e));
  };
  for (file_piece const& piece : pieces) {
    if (!write_all(fd, piece.data, piece.bytes)) { fail("writing", errno); }
  }
  if (::fchmod(fd, 0644) != 0) { fail("setting the mode of", errno); }
  if (::fsync(fd) != 0) { fail("flushing", errno); }
  if (::close(fd) != 0) {
    int const e = errno;
    ::unlink(temporary.c_str());
    throw error(who + ": closing " + temporary + " failed: " + errno_text(e));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    int const e = errno;
    ::unlink(temporary.c_str());
    throw error(who + ": cannot rename " + temporary + " to " + path + ": " + errno_text(e));
  }
  // The rename is durable once the directory entry is on disk.
  int const dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
}

/// The size of `path`, which must be a regular file.
inline std::uint64_t regular_file_size(std::string const& path, std::string const& who) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int const e = errno;
    throw error(who + ": cannot open " + path + ": " + errno_text(e));
  }
  if (S_ISDIR(st.st_mode)) { throw error(who + ": " + path + " is a directory, not a file"); }
  if (!S_ISREG(st.st_mode)) { throw error(who + ": " + path + " is not a regular file"); }
  return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace warp::detail
