// warp/core/memory.cuh: owning buffers on either backend, and staging of caller arrays.
//
// `buffer<T>` owns `n` objects in device memory (CUDA backend, stream-ordered allocation) or in
// 64-byte aligned host memory (host backend). Allocation failures throw warp::out_of_memory with
// the bytes requested and the bytes free.
//
// Bulk APIs accept caller arrays in host or device memory. `input_view` and `output_view` give the
// backend a pointer it can dereference: on the CUDA backend a host array is copied to a temporary
// device buffer (and outputs copied back); on the host backend a device array is rejected with a
// clear error rather than dereferenced.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>
#include <iterator>
#include <utility>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/config.cuh>
#include <warp/core/cuda_check.cuh>
#include <warp/core/error.cuh>

namespace warp::detail {

inline std::size_t host_free_bytes() {
  long const pages = sysconf(_SC_AVPHYS_PAGES);
  long const page_size = sysconf(_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page_size) : 0;
}

inline std::size_t host_physical_bytes() {
  long const pages = sysconf(_SC_PHYS_PAGES);
  long const page_size = sysconf(_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page_size) : 0;
}

inline void* allocate_bytes(backend b, std::size_t bytes, cuda::stream_ref stream) {
  if (bytes == 0) { return nullptr; }
  if (b == backend::host) {
    // With memory overcommit on, malloc of more than the machine has succeeds and the OOM killer
    // strikes later, when the table is filled; refuse it here instead, with the numbers.
    std::size_t const physical = host_physical_bytes();
    if (physical != 0 && bytes > physical) { throw out_of_memory("host allocation (larger than physical memory)", bytes, host_free_bytes()); }
    // Large tables are probed at random: 2 MiB pages remove most TLB misses, which otherwise cost
    // as much as the cache miss itself. Small arrays only need cache-line alignment.
    constexpr std::size_t huge_page = std::size_t{2} << 20;
    std::size_t const alignment = bytes >= 2 * huge_page ? huge_page : 64;
    std::size_t const rounded = (bytes + alignment - 1) / alignment * alignment;
    void* p = std::aligned_alloc(alignment, rounded);
    if (p == nullptr) { throw out_of_memory("host allocation", bytes, host_free_bytes()); }
#ifdef MADV_HUGEPAGE
    if (alignment == huge_page) { (void)madvise(p, rounded, MADV_HUGEPAGE); }  // a hint; failure is harmless
#endif
    return p;
  }
#if WARP_CUDA_ENABLED
  void* p = nullptr;
  cudaError_t const status = cudaMallocAsync(&p, bytes, stream.get());
  if (status == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    std::size_t free_bytes = 0, total_bytes = 0;
    (void)cudaMemGetInfo(&free_bytes, &total_bytes);
    throw out_of_memory("device allocation (cudaMallocAsync)", bytes, free_bytes);
  }
  WARP_CUDA_TRY(status);
  return p;
#else
  (void)stream;
  throw backend_unavailable("device allocation requested without CUDA support");
#endif
}

inline void free_bytes(backend b, void* p, cuda::stream_ref stream) noexcept {
  if (p == nullptr) { return; }
  if (b == backend::host) {
    std::free(p);
    return;
  }
#if WARP_CUDA_ENABLED
  (void)cudaFreeAsync(p, stream.get());
#else
  (void)stream;
#endif
}

/// Move-only owning array of trivially copyable T on one backend.
template <class T>
class buffer {
  static_assert(std::is_trivially_copyable_v<T>, "buffer holds trivially copyable objects");

 public:
  buffer() = default;
  buffer(backend b, std::size_t n, cuda::stream_ref stream)
      : backend_{b}, size_{n}, stream_{stream.get()},
        data_{static_cast<T*>(allocate_bytes(b, n * sizeof(T), stream))} {}
  buffer(buffer&& other) noexcept { swap(other); }
  buffer& operator=(buffer&& other) noexcept {
    buffer tmp{std::move(other)};
    swap(tmp);
    return *this;
  }
  buffer(buffer const&) = delete;
  buffer& operator=(buffer const&) = delete;
  ~buffer() { free_bytes(backend_, data_, cuda::stream_ref{stream_}); }

  void swap(buffer& other) noexcept {
    std::swap(backend_, other.backend_);
    std::swap(size_, other.size_);
    std::swap(stream_, other.stream_);
    std::swap(data_, other.data_);
  }

  [[nodiscard]] T* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] backend where() const noexcept { return backend_; }

 private:
  backend backend_ = backend::host;
  std::size_t size_ = 0;
  cudaStream_t stream_ = nullptr;
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
  if (bytes == 0) { return; }
  if (b == backend::host) {
    std::memcpy(dst, src, bytes);
    return;
  }
#if WARP_CUDA_ENABLED
  WARP_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream.get()));
#else
  (void)stream;
  throw backend_unavailable("cuda copy requested without CUDA support");
#endif
}

/// Sets `bytes` bytes at p (the backend's memory) to zero; stream-ordered on CUDA.
inline void fill_zero(backend b, void* p, std::size_t bytes, cuda::stream_ref stream) {
  if (bytes == 0) { return; }
  if (b == backend::cuda) {
#if WARP_CUDA_ENABLED
    WARP_CUDA_TRY(cudaMemsetAsync(p, 0, bytes, stream.get()));
#else
    throw backend_unavailable("cuda memset requested without CUDA support");
#endif
    return;
  }
  (void)stream;
  std::memset(p, 0, bytes);
}

inline void synchronize(backend b, cuda::stream_ref stream) {
#if WARP_CUDA_ENABLED
  if (b == backend::cuda) { WARP_CUDA_TRY(cudaStreamSynchronize(stream.get())); }
#else
  (void)b;
  (void)stream;
#endif
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
  static type get(It it) {
    if constexpr (convert) {
      return &*it;
    } else {
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
  input_view(backend b, It first, std::size_t n, char const* what, cuda::stream_ref stream)
      : it_{first} {
    if constexpr (std::is_pointer_v<It>) {
      using T = std::remove_cv_t<std::remove_pointer_t<It>>;
      if (n != 0 && first == nullptr) { throw invalid_argument(std::string(what) + " is a null pointer"); }
      if (n == 0) { return; }
      if (b == backend::cuda && !is_device_accessible(first)) {
        staged_ = buffer<T>{b, n, stream};
        copy_bytes(b, staged_.data(), first, n * sizeof(T), stream);
        it_ = staged_.data();
      } else if (b == backend::host && is_device_only(first)) {
        throw invalid_argument(std::string(what) +
                               " points to device memory but the container uses the host backend");
      }
    } else {
      (void)b;
      (void)n;
      (void)what;
      (void)stream;
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
  output_view(backend b, T* first, std::size_t n, char const* what, cuda::stream_ref stream)
      : user_{first}, ptr_{first}, n_{n} {
    if (n != 0 && first == nullptr) { throw invalid_argument(std::string(what) + " is a null pointer"); }
    if (n == 0) { return; }
    if (b == backend::cuda && !is_device_accessible(first)) {
      staged_ = buffer<T>{b, n, stream};
      ptr_ = staged_.data();
    } else if (b == backend::host && is_device_only(first)) {
      throw invalid_argument(std::string(what) +
                             " points to device memory but the container uses the host backend");
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
