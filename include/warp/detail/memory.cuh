// warp/detail/memory.cuh: owning buffers on either backend, and staging of caller arrays.
//
// `buffer<T>` owns `n` objects from a memory_resource (the backend's default unless given one):
// stream-ordered device memory on CUDA, aligned host memory on the host. It remembers the device
// it was allocated on and the stream it was last used on, and frees there. Allocation failures
// throw warp::out_of_memory with the bytes requested and the bytes free.
//
// Bulk APIs accept caller arrays in host or device memory. `input_view` and `output_view` give the
// backend a pointer it can dereference: on the CUDA backend a host array is copied to a temporary
// device buffer (and outputs copied back); on the host backend a device array is rejected with a
// clear error rather than dereferenced.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/config.cuh>
#include <warp/core/error.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/detail/backend/cuda.cuh>
#include <warp/detail/backend/host.cuh>

namespace warp::detail {

/// What an array is, for error messages: an operation and the array's role in it ("find" and
/// ": keys"), joined only when a message is made. Bulk calls of a few keys spent more time
/// formatting these labels up front (four string allocations) than probing.
struct array_label {
  char const* op = "";
  char const* role = "";
  array_label(char const* what) noexcept : op{what} {}  // NOLINT: a plain string is a whole label
  array_label(char const* o, char const* r) noexcept : op{o}, role{r} {}
  [[nodiscard]] std::string str() const { return std::string(op) + role; }
};

/// The device CUDA work of this thread goes to now (-1 on the host backend).
inline int device_of(backend b) { return b == backend::cuda ? cuda_backend::current_device() : -1; }

inline memory_resource& resource_or_default(backend b, memory_resource* mr) noexcept {
  return mr != nullptr ? *mr : default_memory_resource(b);
}

/// Move-only owning array of trivially copyable T on one backend.
template <class T>
class buffer {
  static_assert(std::is_trivially_copyable_v<T>, "buffer holds trivially copyable objects");

 public:
  buffer() = default;
  buffer(backend b, std::size_t n, cuda::stream_ref stream, memory_resource* mr = nullptr)
      : backend_{b}, size_{n}, stream_{stream.get()}, device_{device_of(b)}, resource_{&resource_or_default(b, mr)} {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) {
      throw out_of_memory("buffer of " + std::to_string(n) + " objects of " + std::to_string(sizeof(T)) +
                              " bytes (the size overflows)",
                          std::numeric_limits<std::size_t>::max(), 0);
    }
    data_ = static_cast<T*>(resource_->allocate(n * sizeof(T), stream));
  }
  buffer(buffer&& other) noexcept { swap(other); }
  buffer& operator=(buffer&& other) noexcept {
    buffer tmp{std::move(other)};
    swap(tmp);
    return *this;
  }
  buffer(buffer const&) = delete;
  buffer& operator=(buffer const&) = delete;
  ~buffer() { release(); }

  void swap(buffer& other) noexcept {
    std::swap(backend_, other.backend_);
    std::swap(size_, other.size_);
    std::swap(stream_, other.stream_);
    std::swap(device_, other.device_);
    std::swap(resource_, other.resource_);
    std::swap(data_, other.data_);
  }

  /// The stream the buffer is freed on: the last one that used it, so that the free waits for that work.
  void use_on(cuda::stream_ref stream) noexcept { stream_ = stream.get(); }

  [[nodiscard]] T* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] backend where() const noexcept { return backend_; }

 private:
  void release() noexcept {
    if (data_ == nullptr) { return; }
    if (backend_ == backend::cuda) {
#if WARP_CUDA_ENABLED
      int previous = -1;
      bool const switched = device_ >= 0 && cudaGetDevice(&previous) == cudaSuccess && previous != device_ &&
                            cudaSetDevice(device_) == cudaSuccess;
      resource_->deallocate(data_, size_ * sizeof(T), cuda::stream_ref{stream_});
      if (switched) { (void)cudaSetDevice(previous); }
#endif
    } else {
      resource_->deallocate(data_, size_ * sizeof(T), cuda::stream_ref{stream_});
    }
    data_ = nullptr;
  }

  backend backend_ = backend::host;
  std::size_t size_ = 0;
  cudaStream_t stream_ = nullptr;
  int device_ = -1;
  memory_resource* resource_ = nullptr;
  T* data_ = nullptr;
};

enum class memory_kind { host_only, device_only, both };

/// Where `p` lives, as far as the CUDA runtime knows (host_only without CUDA or a device).
inline memory_kind memory_kind_of(void const* p) {
#if WARP_CUDA_ENABLED
  if (p == nullptr || !cuda_available()) { return memory_kind::host_only; }
  cudaPointerAttributes attributes{};
  if (cudaPointerGetAttributes(&attributes, p) != cudaSuccess) {
    (void)cudaGetLastError();
    return memory_kind::host_only;
  }
  switch (attributes.type) {
    case cudaMemoryTypeDevice: return memory_kind::device_only;
    case cudaMemoryTypeManaged: return memory_kind::both;
    case cudaMemoryTypeHost: return attributes.devicePointer != nullptr ? memory_kind::both : memory_kind::host_only;
    default: return memory_kind::host_only;
  }
#else
  (void)p;
  return memory_kind::host_only;
#endif
}

/// True when a CUDA kernel can dereference `p` (device, managed, or mapped host memory).
inline bool is_device_accessible(void const* p) { return memory_kind_of(p) != memory_kind::host_only; }

/// True when `p` is device memory the host cannot dereference.
inline bool is_device_only(void const* p) { return memory_kind_of(p) == memory_kind::device_only; }

/// Copies bytes between any two arrays the backend can address (stream-ordered on CUDA, where
/// either side may be host or device memory; a plain memcpy on the host backend).
inline void copy_bytes(backend b, void* dst, void const* src, std::size_t bytes, cuda::stream_ref stream) {
  if (b == backend::cuda) { return cuda_backend::copy(dst, src, bytes, stream, -1); }
  host::copy(dst, src, bytes);
}

/// Sets `bytes` bytes at p (the backend's memory) to zero; stream-ordered on CUDA.
inline void fill_zero(backend b, void* p, std::size_t bytes, cuda::stream_ref stream) {
  if (b == backend::cuda) { return cuda_backend::fill_zero(p, bytes, stream, -1); }
  host::fill_zero(p, bytes);
}

/// Waits for the work enqueued on `stream` (the host backend's work is done when its call returns).
inline void synchronize(backend b, cuda::stream_ref stream) {
  if (b == backend::cuda) { cuda_backend::synchronize(stream, -1); }
}

/// Iterators into std::vector (and other contiguous host containers exposing `T*` through
/// operator->) are turned into plain pointers, so that the CUDA backend can stage them.
template <class It>
struct contiguous_pointer {
  using value_t = typename std::iterator_traits<It>::value_type;
  static constexpr bool is_mutable = std::is_same_v<It, typename std::vector<value_t>::iterator>;
  static constexpr bool is_const = std::is_same_v<It, typename std::vector<value_t>::const_iterator>;
  static constexpr bool convert =
      !std::is_pointer_v<It> && !std::is_same_v<value_t, bool> && (is_mutable || is_const);
  using type = std::conditional_t<convert, std::conditional_t<is_const, value_t const*, value_t*>, It>;
  /// `n`: the range's length; an empty range is never dereferenced (its begin() may be end()).
  static type get(It it, std::size_t n) {
    if constexpr (convert) {
      return n == 0 ? type{} : &*it;
    } else {
      (void)n;
      return it;
    }
  }
};
template <class It>
using normalized_iterator_t = typename contiguous_pointer<It>::type;

/// A caller's input array as the backend can read it. Non-pointer iterators are passed through.
template <class It>
class input_view {
 public:
  input_view(backend b, It first, std::size_t n, array_label what, cuda::stream_ref stream,
             memory_resource* mr = nullptr)
      : it_{first} {
    if constexpr (std::is_pointer_v<It>) {
      using T = std::remove_cv_t<std::remove_pointer_t<It>>;
      if (n != 0 && first == nullptr) { throw invalid_argument(what.str() + " is a null pointer"); }
      if (n == 0) { return; }
      if (b == backend::cuda && !is_device_accessible(first)) {
        staged_ = buffer<T>{b, n, stream, mr};
        copy_bytes(b, staged_.data(), first, n * sizeof(T), stream);
        it_ = staged_.data();
      } else if (b == backend::host && is_device_only(first)) {
        throw invalid_argument(what.str() + " points to device memory but the container uses the host backend");
      }
    } else {
      (void)b;
      (void)n;
      (void)what;
      (void)stream;
      (void)mr;
    }
  }
  [[nodiscard]] It get() const noexcept { return it_; }

 private:
  using value_t = std::remove_cv_t<std::remove_pointer_t<std::conditional_t<std::is_pointer_v<It>, It, int*>>>;
  It it_;
  buffer<value_t> staged_{};
};

/// A caller's output array as the backend can write it; host arrays on the CUDA backend are
/// written through a device buffer copied back by finish() (stream-ordered).
template <class T>
class output_view {
 public:
  output_view(backend b, T* first, std::size_t n, array_label what, cuda::stream_ref stream,
              memory_resource* mr = nullptr)
      : user_{first}, ptr_{first}, n_{n} {
    if (n != 0 && first == nullptr) { throw invalid_argument(what.str() + " is a null pointer"); }
    if (n == 0) { return; }
    if (b == backend::cuda && !is_device_accessible(first)) {
      staged_ = buffer<T>{b, n, stream, mr};
      ptr_ = staged_.data();
    } else if (b == backend::host && is_device_only(first)) {
      throw invalid_argument(what.str() + " points to device memory but the container uses the host backend");
    }
  }
  [[nodiscard]] T* get() const noexcept { return ptr_; }
  /// Copies a staged result back (stream-ordered); a no-op when the caller's array was used directly.
  void finish(cuda::stream_ref stream, std::size_t count) {
    if (staged_.data() != nullptr) { copy_bytes(backend::cuda, user_, staged_.data(), count * sizeof(T), stream); }
  }
  void finish(cuda::stream_ref stream) { finish(stream, n_); }

 private:
  T* user_;
  T* ptr_;
  std::size_t n_;
  buffer<T> staged_{};
};

}  // namespace warp::detail
