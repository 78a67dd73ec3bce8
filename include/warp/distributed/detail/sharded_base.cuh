// warp/distributed/detail/sharded_base.cuh: what every sharded container offers around its one
// local shard. sharded_routing: the communicator, the placement of keys on ranks and the routing
// of a batch to its owners (every sharded container, the Bloom filter included). sharded_base:
// size, capacity, load factors and their imbalance, status, clear, rehash, gathering every pair,
// written once for sharded_map and sharded_multimap.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/core/outcome.cuh>
#include <warp/detail/bulk/driver.cuh>
#include <warp/detail/executor.cuh>
#include <warp/detail/memory.cuh>
#include <warp/distributed/communicator.cuh>
#include <warp/distributed/detail/routing.cuh>

namespace warp::distributed {

/// How keys are assigned to ranks. Every rank of one container must use the same seed.
struct sharding {
  std::uint64_t seed = 0x9e3779b97f4a7c15ull;
};

namespace detail {

/// The placement of keys on the ranks of a communicator and the routing of batches to them. Calls
/// marked collective must be made by every rank, in the same order; the others are local.
template <class Key>
class sharded_routing {
 public:
  using key_type = Key;

  [[nodiscard]] communicator& comm() const noexcept { return *comm_; }
  [[nodiscard]] int rank() const noexcept { return comm_->rank(); }
  [[nodiscard]] int ranks() const noexcept { return comm_->size(); }
  [[nodiscard]] backend where() const noexcept { return comm_->where(); }
  [[nodiscard]] std::uint64_t sharding_seed() const noexcept { return seed_; }
  /// The rank that owns `key` (the same on every rank).
  [[nodiscard]] int owner(key_type const& key) const noexcept {
    return static_cast<int>(owner_of<key_type>{seed_, static_cast<std::uint64_t>(comm_->size())}(key));
  }


 protected:
  sharded_routing(communicator& comm, sharding s, memory_resource* memory)
      : comm_{&comm}, seed_{s.seed}, memory_{memory} {}

  [[nodiscard]] warp::detail::executor executor_on(cuda::stream_ref stream) const {
    return warp::detail::executor{comm_->where(), stream, memory_};
  }

  /// Routes a batch (keys, and values when with_values) to the owners. Collective.
  template <class Value, class KeyIt, class ValueIt>
  route<key_type, Value> route_batch(char const* op, KeyIt first, std::size_t n, ValueIt values, bool with_values,
                                     cuda::stream_ref stream) const {
    auto const ex = executor_on(stream);
    auto keys = warp::detail::make_input(ex, first, n, {op, ": keys"});
    if (with_values) {
      auto vals = warp::detail::make_input(ex, values, n, {op, ": values"});
      return route_to_owners<key_type, Value>(*comm_, ex, keys.get(), vals.get(), true, n, seed_, op);
    }
    return route_to_owners<key_type, Value>(*comm_, ex, keys.get(), static_cast<Value const*>(nullptr), false, n,
                                            seed_, op);
  }

  /// Routes the keys, looks them up in the owners' shards (local_call(keys, keys_end, results)),
  /// brings one Result per key back into out (optional) and returns how many of this rank's keys
  /// satisfy `counted`. Collective.
  template <class Result, class KeyIt, class Local, class Counted>
  std::size_t routed_lookup(char const* op, KeyIt first, KeyIt last, Result* out, cuda::stream_ref stream,
                            Local local_call, Counted counted) const {
    std::size_t const n = warp::detail::checked_distance(first, last);
    // No values travel with a lookup; char stands for their type.
    auto r = route_batch<char>(op, first, n, static_cast<char const*>(nullptr), false, stream);
    warp::detail::buffer<Result> local{where(), r.received(), stream, memory_};
    if (r.received() != 0) { local_call(r.keys.data(), r.keys.data() + r.received(), local.data()); }
    warp::detail::buffer<Result> mine{where(), out == nullptr ? n : 0, stream, memory_};
    return static_cast<std::size_t>(return_to_callers(*comm_, executor_on(stream), r, local.data(),
                                                      out != nullptr ? out : mine.data(), op, counted));
  }

  communicator* comm_;
  std::uint64_t seed_;
  memory_resource* memory_;
};

/// Shard: the local container (single_value_map, multi_value_map).
template <class Shard>
class sharded_base : public sharded_routing<typename Shard::key_type> {
  using routing = sharded_routing<typename Shard::key_type>;

 public:
  using key_type = typename Shard::key_type;
  using mapped_type = typename Shard::mapped_type;
  using shard_type = Shard;

  /// This rank's shard, read-only (inserting through it would put keys on a rank that does not own them).
  [[nodiscard]] Shard const& shard() const noexcept { return shard_; }

  /// Pairs over all shards. Collective.
  [[nodiscard]] std::size_t size(cuda::stream_ref stream = default_stream()) const {
    return static_cast<std::size_t>(all_reduce_sum(*comm_, shard_.size(stream)));
  }
  [[nodiscard]] bool empty(cuda::stream_ref stream = default_stream()) const { return size(stream) == 0; }
  /// Slots over all shards. Collective.
  [[nodiscard]] std::size_t capacity() const { return static_cast<std::size_t>(all_reduce_sum(*comm_, shard_.capacity())); }
  /// Every shard's load factor, in rank order, on every rank. Collective.
  [[nodiscard]] std::vector<double> load_factors(cuda::stream_ref stream = default_stream()) const {
    auto const sizes = all_gather(*comm_, shard_.size(stream));
    auto const capacities = all_gather(*comm_, shard_.capacity());
    std::vector<double> loads(sizes.size());
    for (std::size_t p = 0; p < sizes.size(); ++p) {
      loads[p] = static_cast<double>(sizes[p]) / static_cast<double>(capacities[p]);
    }
    return loads;
  }
  /// The fullest shard's size over the mean shard size (1 when balanced or empty). Collective.
  [[nodiscard]] double imbalance(cuda::stream_ref stream = default_stream()) const {
    auto const sizes = all_gather(*comm_, shard_.size(stream));
    std::uint64_t const most = *std::max_element(sizes.begin(), sizes.end());
    double const mean = static_cast<double>(detail::sum(sizes)) / static_cast<double>(sizes.size());
    return mean == 0 ? 1.0 : static_cast<double>(most) / mean;
  }
  /// The sticky status of all shards, or-ed: a full shard anywhere shows here. Collective.
  [[nodiscard]] table_status status(cuda::stream_ref stream = default_stream()) const {
    return table_status{static_cast<std::uint32_t>(all_reduce_or(*comm_, shard_.status(stream).bits))};
  }
  /// This shard's status (local).
  [[nodiscard]] table_status shard_status(cuda::stream_ref stream = default_stream()) const {
    return shard_.status(stream);
  }
  /// Local: clears this rank's shard status (call it on every rank to clear all).
  void clear_status(cuda::stream_ref stream = default_stream()) { shard_.clear_status(stream); }
  /// Local: empties this rank's shard (call it on every rank to empty the container).
  void clear(cuda::stream_ref stream = default_stream()) { shard_.clear(stream); }
  /// Local: rebuilds this rank's shard with room for `shard_capacity` entries (a full shard is
  /// grown this way; keys never move between ranks).
  void rehash(std::size_t shard_capacity, cuda::stream_ref stream = default_stream()) {
    shard_.rehash(shard_capacity, stream);
  }
  [[nodiscard]] std::size_t memory_bytes() const noexcept { return shard_.memory_bytes(); }

  /// Local: this shard's pairs (in no particular order); the outputs hold `capacity` entries
  /// (checked). Returns the number written.
  std::size_t retrieve_shard(key_type* keys_out, mapped_type* values_out, std::size_t capacity,
                             cuda::stream_ref stream = default_stream()) const {
    return shard_.retrieve_all(keys_out, values_out, capacity, stream);
  }

  /// Every pair of every shard, gathered on rank `root` into outputs of `capacity` entries (checked
  /// there, after the exchange, so that no rank is left waiting); the other ranks pass null and get
  /// 0. Collective. Rank order: rank 0's pairs first.
  std::size_t retrieve_all(key_type* keys_out, mapped_type* values_out, std::size_t capacity, int root = 0,
                           cuda::stream_ref stream = default_stream()) const {
    std::size_t const ranks_n = static_cast<std::size_t>(comm_->size());
    if (root < 0 || root >= comm_->size()) {
      throw invalid_argument("retrieve_all: root " + std::to_string(root) + " is not a rank of " +
                             std::to_string(ranks_n));
    }
    auto const ex = executor_on(stream);
    std::size_t const local = shard_.size(stream);
    warp::detail::buffer<key_type> keys{ex.where, local, stream, memory_};
    warp::detail::buffer<mapped_type> values{ex.where, local, stream, memory_};
    std::size_t const got = local == 0 ? 0 : shard_.retrieve_all(keys.data(), values.data(), local, stream);
    std::vector<std::uint64_t> send(ranks_n, 0), recv(ranks_n, 0);
    send[static_cast<std::size_t>(root)] = got;
    comm_->exchange_counts(send.data(), recv.data());
    std::size_t const total = static_cast<std::size_t>(detail::sum(recv));
    warp::detail::buffer<key_type> all_keys{ex.where, total, stream, memory_};
    warp::detail::buffer<mapped_type> all_values{ex.where, total, stream, memory_};
    exchange_items(*comm_, keys.data(), send, all_keys.data(), recv, stream);
    exchange_items(*comm_, values.data(), send, all_values.data(), recv, stream);
    if (comm_->rank() != root) { return 0; }
    if (total > capacity) {
      throw invalid_argument("retrieve_all: the shards hold " + std::to_string(total) + " pairs but the output holds " +
                             std::to_string(capacity));
    }
    if (total == 0) { return 0; }
    warp::detail::output_view<key_type> k{ex.where, keys_out, total, "retrieve_all: keys output", stream, memory_};
    warp::detail::copy_bytes(ex.where, k.get(), all_keys.data(), total * sizeof(key_type), stream);
    k.finish(stream);
    if (values_out != nullptr) {
      warp::detail::output_view<mapped_type> v{ex.where, values_out, total, "retrieve_all: values output", stream,
                                               memory_};
      warp::detail::copy_bytes(ex.where, v.get(), all_values.data(), total * sizeof(mapped_type), stream);
      v.finish(stream);
    }
    warp::detail::synchronize(ex.where, stream);
    return total;
  }

 protected:
  sharded_base(communicator& comm, Shard&& shard, sharding s, memory_resource* memory)
      : routing{comm, s, memory}, shard_{std::move(shard)} {}

  using routing::comm_;
  using routing::executor_on;
  using routing::memory_;
  Shard shard_;
};

}  // namespace detail
}  // namespace warp::distributed
