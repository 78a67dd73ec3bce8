// warp/core/error.cuh: the exception types thrown by host APIs.
//
// Every host-side misuse (bad capacity, sizes that disagree, null pointers, out of memory, a failed
// CUDA call) throws a subclass of warp::error whose message names what was wrong and the numbers
// involved, e.g.
//   try { warp::single_value_map<int, int> m{0, ...}; } catch (warp::invalid_argument const& e) { ... }
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace warp {

/// Base of every exception the library throws.
class error : public std::runtime_error {
 public:
  explicit error(std::string const& what) : std::runtime_error("warp: " + what) {}
};

/// An argument was out of range or inconsistent with another (capacity 0, load factor 2, ...).
class invalid_argument : public error {
 public:
  using error::error;
};

/// An operation is not valid in the current state (erase without an erased-key sentinel, ...).
class logic_error : public error {
 public:
  using error::error;
};

/// An allocation failed; carries the bytes requested and the bytes the backend reported free.
class out_of_memory : public error {
 public:
  out_of_memory(std::string const& where, std::size_t requested, std::size_t available)
      : error(where + ": out of memory allocating " + std::to_string(requested) + " bytes (" +
              std::to_string(available) + " bytes free)"),
        requested_bytes(requested),
        available_bytes(available) {}
  std::size_t requested_bytes;
  std::size_t available_bytes;
};

/// The requested backend does not exist here (no device, no driver, built without nvcc).
class backend_unavailable : public error {
 public:
  using error::error;
};

/// A CUDA runtime call failed; the message names the call and the CUDA error.
class cuda_error : public error {
 public:
  cuda_error(std::string const& call, int code, std::string const& name, std::string const& text)
      : error("CUDA call " + call + " failed with " + name + " (" + std::to_string(code) + "): " +
              text),
        code(code) {}
  int code;
};

}  // namespace warp
