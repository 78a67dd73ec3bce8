// warp/detail/files.cuh: the file handling every container and program shares.
//
// - write_file_atomically / atomic_file_writer: the bytes go to a unique temporary in the target's directory
//   (mkstemp), which is written, fsynced and renamed over the target, and the directory is
//   fsynced; on any failure the temporary is removed and the target is left as it was. Two
//   writers of one path never share a temporary, so the target is always one complete file.
// - regular_file_size: the size of a file that must exist and be a regular file (a directory or a
//   missing file is an error naming it), so that readers can check sizes claimed by headers
//   against the file before allocating anything.
// - mapped_file: a regular file mapped read-only, so that a reader can check and parse a large
//   file in place instead of zeroing a buffer and copying the file into it.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
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

/// A file written in pieces and installed atomically (see the file comment): the bytes go to a
/// unique temporary next to `path`; commit() flushes it and renames it over `path`. Destroyed
/// without commit() (an error on the way), it removes the temporary and leaves `path` as it was.
/// `who` names the caller in errors.
class atomic_file_writer {
 public:
  atomic_file_writer(std::string path, std::string who) : path_{std::move(path)}, who_{std::move(who)} {
    std::string const name = path_ + ".tmp.XXXXXX";
    std::vector<char> pattern(name.begin(), name.end());
    pattern.push_back('\0');
    fd_ = ::mkstemp(pattern.data());
    if (fd_ < 0) {
      int const e = errno;
      throw error(who_ + ": cannot create a temporary file next to " + path_ + ": " + errno_text(e));
    }
    temporary_ = pattern.data();
  }
  ~atomic_file_writer() { discard(); }
  atomic_file_writer(atomic_file_writer const&) = delete;
  atomic_file_writer& operator=(atomic_file_writer const&) = delete;

  void write(void const* data, std::size_t bytes) {
    if (fd_ < 0) { throw error(who_ + ": " + path_ + " was already installed or discarded"); }
    if (!write_all(fd_, data, bytes)) { fail("writing", errno); }
  }

  void commit() {
    if (fd_ < 0) { throw error(who_ + ": " + path_ + " was already installed or discarded"); }
    if (::fchmod(fd_, 0644) != 0) { fail("setting the mode of", errno); }
    if (::fsync(fd_) != 0) { fail("flushing", errno); }
    int const fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {
      int const e = errno;
      ::unlink(temporary_.c_str());
      throw error(who_ + ": closing " + temporary_ + " failed: " + errno_text(e));
    }
    if (::rename(temporary_.c_str(), path_.c_str()) != 0) {
      int const e = errno;
      ::unlink(temporary_.c_str());
      throw error(who_ + ": cannot rename " + temporary_ + " to " + path_ + ": " + errno_text(e));
    }
    // The rename is durable once the directory entry is on disk.
    std::string const directory = path_.find('/') == std::string::npos ? std::string{"."} : path_.substr(0, path_.rfind('/') + 1);
    int const dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
    if (dir >= 0) {
      (void)::fsync(dir);
      ::close(dir);
    }
  }

 private:
  void discard() noexcept {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(temporary_.c_str());
      fd_ = -1;
    }
  }
  [[noreturn]] void fail(std::string const& what, int e) {
    discard();
    throw error(who_ + ": " + what + " " + temporary_ + " failed: " + errno_text(e));
  }
  std::string path_;
  std::string who_;
  std::string temporary_;
  int fd_ = -1;
};

/// Writes the pieces to `path` atomically (see the file comment). `who` names the caller in errors.
inline void write_file_atomically(std::string const& path, std::string const& who, std::vector<file_piece> const& pieces) {
  atomic_file_writer out{path, who};
  for (file_piece const& piece : pieces) { out.write(piece.data, piece.bytes); }
  out.commit();
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

/// A whole regular file mapped read-only (an empty file maps to no bytes). Errors name the file.
class mapped_file {
 public:
  mapped_file(std::string const& path, std::string const& who) : size_{regular_file_size(path, who)} {
    if (size_ == 0) { return; }
    int const fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int const e = errno;
      throw error(who + ": cannot open " + path + ": " + errno_text(e));
    }
#ifdef MAP_POPULATE
    int const flags = MAP_PRIVATE | MAP_POPULATE;  // fault the pages in now, in one pass
#else
    int const flags = MAP_PRIVATE;
#endif
    void* const p = ::mmap(nullptr, static_cast<std::size_t>(size_), PROT_READ, flags, fd, 0);
    int const e = errno;
    ::close(fd);
    if (p == MAP_FAILED) { throw error(who + ": cannot map " + path + ": " + errno_text(e)); }
    data_ = static_cast<char const*>(p);
  }
  ~mapped_file() {
    if (data_ != nullptr) { ::munmap(const_cast<char*>(data_), static_cast<std::size_t>(size_)); }
  }
  mapped_file(mapped_file const&) = delete;
  mapped_file& operator=(mapped_file const&) = delete;

  [[nodiscard]] char const* data() const noexcept { return data_; }
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

 private:
  std::uint64_t size_;
  char const* data_ = nullptr;
};

}  // namespace warp::detail
