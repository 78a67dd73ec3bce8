// warp/detail/open_addressing/table_members.cuh: the member functions every container on the
// owning table shares, written once so that their names and semantics are the same everywhere.
// A container derives from table_members<Itself> and names the table `table_` (friend access);
// it hides a member only where its meaning differs (multi_value_map::clear also resets the
// dropped-value counter, for instance).
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/outcome.cuh>

namespace warp::detail {

template <class Derived>
class table_members {
 public:
  /// Number of stored keys (multi-value tables: stored pairs). Counts the slots; synchronises.
  [[nodiscard]] std::size_t size(cuda::stream_ref stream = default_stream()) const {
    auto const scope = table().activate();
    return table().size(stream);
  }
  /// The same, written to `out` (host or device memory) without synchronising.
  void size_async(std::uint64_t* out, cuda::stream_ref stream = default_stream()) const {
    auto const scope = table().activate();
    table().size_async(out, stream);
  }
  [[nodiscard]] bool empty(cuda::stream_ref stream = default_stream()) const { return size(stream) == 0; }
  /// Removes everything and resets the sticky status; clear waits, clear_async only enqueues.
  void clear(cuda::stream_ref stream = default_stream()) {
    auto const scope = table().activate();
    table().clear(stream);
  }
  void clear_async(cuda::stream_ref stream = default_stream()) {
    auto const scope = table().activate();
    table().clear_async(stream);
  }
  /// Sticky error bits since construction or the last clear()/clear_status() (synchronises).
  [[nodiscard]] table_status status(cuda::stream_ref stream = default_stream()) const {
    auto const scope = table().activate();
    return table().status(stream);
  }
  void clear_status(cuda::stream_ref stream = default_stream()) {
    auto const scope = table().activate();
    table().clear_status(stream);
  }
  /// Slots in the table.
  [[nodiscard]] std::size_t capacity() const noexcept { return table().capacity(); }
  /// size() / capacity() (synchronises).
  [[nodiscard]] double load_factor(cuda::stream_ref stream = default_stream()) const {
    auto const scope = table().activate();
    return table().load_factor(stream);
  }
  /// Bytes of memory the container owns on its backend.
  [[nodiscard]] std::size_t memory_bytes() const noexcept { return table().memory_bytes(); }
  [[nodiscard]] backend where() const noexcept { return table().where(); }
  /// The CUDA device the container lives on (-1 on the host backend).
  [[nodiscard]] int device() const noexcept { return table().device(); }
  /// The hasher the container was built with.
  [[nodiscard]] auto hash_function() const noexcept { return table().engine().hash_function(); }

 protected:
  auto const& table() const noexcept { return static_cast<Derived const&>(*this).table_; }
  auto& table() noexcept { return static_cast<Derived&>(*this).table_; }
};

}  // namespace warp::detail
