// warp/distributed/sharded_bloom_filter.cuh: one Bloom filter spread over the P ranks of a
// communicator, one bloom_filter shard per rank. A key's bits all live on the rank that owns it
// (the sharding hash, independent of the filter's own), so a sharded filter of P shards of m bits
// answers like P separate filters of m bits, each given the keys it owns: the false-positive rate
// of one filter of P m bits holding all the keys, with P times the memory and the bandwidth.
//
//   warp::distributed::sharded_bloom_filter<std::uint64_t> filter{comm, warp::bloom_sizing{keys_per_rank, 0.01}};
//   filter.add(keys.begin(), keys.end());                          // collective
//   std::size_t positives = filter.contains(q.begin(), q.end(), answers.data());  // collective
//
// add and contains are collective (each rank passes its own batch, possibly empty); the others
// are local to the calling rank.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda/stream_ref>

#include <warp/bloom_filter.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/detail/bulk/driver.cuh>
#include <warp/distributed/communicator.cuh>
#include <warp/distributed/detail/routing.cuh>
#include <warp/distributed/detail/sharded_base.cuh>

namespace warp::distributed {

template <class Key, int BlockBytes = 64, class Hash = hash::default_hash<Key>>
class sharded_bloom_filter : public detail::sharded_routing<Key> {
  using routing = detail::sharded_routing<Key>;

 public:
  using shard_type = bloom_filter<Key, BlockBytes, Hash>;

  /// A shard of at least `shard_bits` bits setting `hashes` bits per key, on the communicator's
  /// backend. Not collective; every rank must pass the same geometry and hash.
  sharded_bloom_filter(communicator& comm, std::size_t shard_bits, int hashes, sharding s = {},
                       cuda::stream_ref stream = default_stream(), Hash h = {}, memory_resource* memory = nullptr)
      : routing{comm, s, memory}, shard_{shard_bits, hashes, comm.where(), stream, h, memory} {}
  /// A shard sized for `per_rank.expected_keys` keys (the total over P) at the target rate.
  sharded_bloom_filter(communicator& comm, bloom_sizing per_rank, sharding s = {},
                       cuda::stream_ref stream = default_stream(), Hash h = {}, memory_resource* memory = nullptr)
      : routing{comm, s, memory}, shard_{per_rank, comm.where(), stream, h, memory} {}

  /// Adds this rank's keys. Returns how many keys over all ranks were possibly present already
  /// (all their bits set before their add). Collective.
  template <class KeyIt>
  std::size_t add(KeyIt first, KeyIt last, cuda::stream_ref stream = default_stream()) {
    std::size_t const n = warp::detail::checked_distance(first, last);
    auto r = this->template route_batch<char>("sharded_bloom_filter::add", first, n, static_cast<char const*>(nullptr),
                                              false, stream);
    std::size_t const present =
        r.received() == 0 ? 0 : shard_.add(r.keys.data(), r.keys.data() + r.received(), stream);
    return static_cast<std::size_t>(all_reduce_sum(this->comm(), present));
  }

  /// out[i] (optional, host or device memory): whether this rank's key i is possibly present
  /// (never false for a key added on any rank). Returns this rank's positives. Collective.
  template <class KeyIt>
  std::size_t contains(KeyIt first, KeyIt last, bool* out, cuda::stream_ref stream = default_stream()) const {
    return this->routed_lookup(
        "sharded_bloom_filter::contains", first, last, out, stream,
        [&](Key const* k, Key const* k_end, bool* o) { shard_.contains(k, k_end, o, stream); }, detail::is_true{});
  }

  /// Local: empties this rank's shard (call it on every rank to empty the filter).
  void clear(cuda::stream_ref stream = default_stream()) { shard_.clear(stream); }
  /// This rank's shard, read-only (adding through it would put keys on a rank that does not own them).
  [[nodiscard]] shard_type const& shard() const noexcept { return shard_; }
  /// Bits over all shards. Collective.
  [[nodiscard]] std::size_t num_bits() const {
    return static_cast<std::size_t>(all_reduce_sum(this->comm(), shard_.num_words() * 64));
  }
  /// The rate predicted once `total_keys` distinct keys over all ranks are in: each shard holds
  /// about total_keys / P of them. Local (every rank computes the same).
  [[nodiscard]] double predicted_false_positive_rate(std::size_t total_keys) const {
    std::size_t const ranks = static_cast<std::size_t>(this->ranks());
    return shard_.predicted_false_positive_rate((total_keys + ranks - 1) / ranks);
  }
  [[nodiscard]] std::size_t memory_bytes() const noexcept { return shard_.num_words() * sizeof(std::uint64_t); }

 private:
  shard_type shard_;
};

}  // namespace warp::distributed
