// warp/frozen_multimap.cuh: the read-only CSR form of a bucket_list_map (bucket_list_map::freeze):
// key -> row through an open-addressing row table, row offsets, and all values in one array (row
// r's values are values()[row_offsets()[r] .. row_offsets()[r + 1])). The fastest multi-value
// lookups: count() and the two-pass retrieve() touch one slot and one contiguous range per key.
//   auto frozen = bucket_lists.freeze();
//   frozen.retrieve(queries, queries + q, offsets, out, capacity);
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/error.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/core/sentinels.cuh>
#include <warp/detail/bulk/two_pass.cuh>
#include <warp/detail/frozen_multimap/lookups.cuh>
#include <warp/detail/iterators.cuh>
#include <warp/detail/open_addressing/table.cuh>
#include <warp/probing.cuh>

namespace warp {

template <class Key, class Value, class Probing>
class bucket_list_map;

template <class Key, class Value, class Probing = linear_probing<4, 2>>
class frozen_multimap
    : public detail::two_pass_lookups<frozen_multimap<Key, Value, Probing>, Key, Value, Probing::tile_size> {
  using row_table = detail::open_addressing_table<Key, std::uint64_t, Probing>;
  using engine_type = typename row_table::engine_type;
  friend class detail::two_pass_lookups<frozen_multimap, Key, Value, Probing::tile_size>;
  friend class bucket_list_map<Key, Value, Probing>;

 public:
  using key_type = Key;
  using mapped_type = Value;
  static constexpr int tile_size = Probing::tile_size;

  /// A frozen table from CSR arrays in host or device memory (a saved freeze(), for instance):
  /// key i's values are values[offsets[i] .. offsets[i + 1]). The offsets must start at 0 and
  /// never decrease, and the keys must be distinct and not `empty`: each is checked, and a
  /// violation throws naming the index, before the table is used. Waits for its work.
  static frozen_multimap from_csr(Key const* keys, std::size_t num_keys, std::uint64_t const* offsets, Value const* values,
                                  empty_key<Key> empty, backend where = default_backend(),
                                  cuda::stream_ref stream = default_stream(), typename row_table::hasher h = {},
                                  memory_resource* memory = nullptr) {
    require_backend(where);
    // The offsets are validated on the host: read in place when they are host memory, else staged.
    std::vector<std::uint64_t> staged;
    std::uint64_t const* host_offsets = offsets;
    if (detail::is_device_only(offsets)) {
      staged.resize(num_keys + 1);
      detail::copy_bytes(backend::cuda, staged.data(), offsets, staged.size() * sizeof(std::uint64_t), stream);
      detail::synchronize(backend::cuda, stream);
      host_offsets = staged.data();
    }
    if (host_offsets[0] != 0) {
      throw invalid_argument("frozen_multimap::from_csr: offsets[0] is " + std::to_string(host_offsets[0]) + ", not 0");
    }
    for (std::size_t i = 0; i < num_keys; ++i) {
      if (host_offsets[i + 1] < host_offsets[i]) {
        throw invalid_argument("frozen_multimap::from_csr: offsets[" + std::to_string(i + 1) + "] = " +
                               std::to_string(host_offsets[i + 1]) + " is below offsets[" + std::to_string(i) +
                               "] = " + std::to_string(host_offsets[i]));
      }
    }
    std::uint64_t const num_values = host_offsets[num_keys];
    detail::buffer<Key> k{where, num_keys == 0 ? 1 : num_keys, stream, memory};
    detail::buffer<std::uint64_t> o{where, num_keys + 1, stream, memory};
    detail::buffer<Value> v{where, num_values == 0 ? 1 : num_values, stream, memory};
    detail::copy_bytes(where, k.data(), keys, num_keys * sizeof(Key), stream);
    detail::copy_bytes(where, o.data(), host_offsets, (num_keys + 1) * sizeof(std::uint64_t), stream);
    detail::copy_bytes(where, v.data(), values, num_values * sizeof(Value), stream);
    frozen_multimap f{empty.value, h, where, stream, memory, k, num_keys, std::move(o), std::move(v), num_values};
    if (std::size_t const rows = f.rows_.size(stream); rows != num_keys) {
      throw invalid_argument("frozen_multimap::from_csr: " + std::to_string(num_keys) + " keys hold only " +
                             std::to_string(rows) + " distinct ones that are not the empty sentinel");
    }
    return f;
  }

  /// The row find_rows() gives an absent key.
  static constexpr std::uint64_t no_row = ~std::uint64_t{0};

  /// rows_out[i] = the row of key i (its values are values()[row_offsets()[r] ..
  /// row_offsets()[r + 1])), or no_row when the key is absent: one probe per key and nothing
  /// copied, for callers that gather from the CSR arrays themselves (a host loop that consumes
  /// each key's values in place, instead of count() + retrieve(), which probe two or three times).
  /// rows_out may be host or backend memory. Returns how many keys were found; synchronises.
  template <class KeyIt>
  std::size_t find_rows(KeyIt first, KeyIt last, std::uint64_t* rows_out, cuda::stream_ref stream = default_stream()) const {
    auto const scope = lookup_scope();
    return rows_.find(first, last, rows_out, detail::completion::wait, stream);
  }

  /// Number of distinct keys (rows), and of values.
  [[nodiscard]] std::size_t num_keys() const noexcept { return num_rows_; }
  [[nodiscard]] std::uint64_t size() const noexcept { return num_values_; }
  [[nodiscard]] bool empty() const noexcept { return num_values_ == 0; }
  [[nodiscard]] backend where() const noexcept { return rows_.where(); }
  [[nodiscard]] int device() const noexcept { return rows_.device(); }
  /// The CSR arrays, in the backend's memory: num_keys() + 1 offsets and size() values.
  [[nodiscard]] std::uint64_t const* row_offsets() const noexcept { return row_offsets_.data(); }
  [[nodiscard]] Value const* values() const noexcept { return values_.data(); }
  [[nodiscard]] std::size_t memory_bytes() const noexcept {
    return rows_.memory_bytes() + (num_rows_ + 1) * sizeof(std::uint64_t) + num_values_ * sizeof(Value);
  }

 private:
  /// From the source's distinct keys (backend memory), their CSR offsets and values.
  frozen_multimap(Key empty, typename row_table::hasher h, backend where, cuda::stream_ref stream, memory_resource* memory,
                  detail::buffer<Key> const& keys, std::size_t num_keys, detail::buffer<std::uint64_t>&& offsets,
                  detail::buffer<Value>&& values, std::uint64_t num_values)
      : rows_{num_keys * 10 / 7 + 8, empty, ~std::uint64_t{0}, empty, false, where, stream, h, memory},
        row_offsets_{std::move(offsets)},
        values_{std::move(values)},
        num_rows_{num_keys},
        num_values_{num_values} {
    rows_.upsert("freeze", keys.data(), keys.data() + num_keys, detail::counting_iterator<std::uint64_t>{0}, nullptr,
                 detail::keep_existing{}, detail::completion::wait, stream);
  }

  detail::device_scope lookup_scope() const { return rows_.activate(); }
  detail::executor lookup_executor(cuda::stream_ref stream) const {
    row_offsets_.use_on(stream);
    values_.use_on(stream);
    return rows_.on(stream);
  }
  auto counter() const {
    return [e = rows_.engine(), ro = row_offsets_.data()](auto keys, std::uint64_t* counts) {
      return detail::frozen_count_fn<engine_type, decltype(keys)>{{e, keys}, ro, counts};
    };
  }
  auto writer() const {
    return [e = rows_.engine(), ro = row_offsets_.data(), rv = values_.data()](auto keys, std::uint64_t const* offsets,
                                                                               Value* out) {
      return detail::frozen_retrieve_fn<engine_type, decltype(keys), Value>{{e, keys}, ro, rv, offsets, out};
    };
  }

  row_table rows_;
  mutable detail::buffer<std::uint64_t> row_offsets_;
  mutable detail::buffer<Value> values_;
  std::size_t num_rows_;
  std::uint64_t num_values_;
};

}  // namespace warp
