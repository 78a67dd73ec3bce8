// warp/distributed/sharded_map.cuh: one key -> value map spread over the P ranks of a
// communicator, one single_value_map shard per rank.
//
// Every bulk call is collective: each rank passes its own batch (possibly empty), the batch is
// split by owner (a hash of the key independent of the shards' own hash), sent to the owners in
// one all-to-all-v, applied there by the shard's bulk call, and per-key results come back in the
// caller's order. The counts are those a single map given all ranks' batches concatenated in rank
// order would return: mutations return the total over all ranks (the same on every rank), lookups
// this rank's own hits.
//
//   warp::distributed::in_process_group group{4};      // or mpi_communicator / nccl_communicator
//   warp::distributed::run_ranks(group, [&](warp::distributed::communicator& comm) {
//     warp::distributed::sharded_map<std::uint64_t, std::uint64_t> map{
//         comm, 1 << 20, warp::empty_key{~0ull}, warp::empty_value{0ull}};
//     std::size_t new_keys = map.insert(keys.begin(), keys.end(), values.begin(), outcomes.data());
//     std::size_t hits = map.find(queries.begin(), queries.end(), found.data());
//   });
//
// A full shard reports its keys as no_room in the outcomes and in status() (collective: all shards
// or-ed); nothing is dropped silently. Grow it with rehash() on every rank.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda/stream_ref>

#include <warp/core/memory_resource.cuh>
#include <warp/core/outcome.cuh>
#include <warp/core/sentinels.cuh>
#include <warp/detail/bulk/driver.cuh>
#include <warp/distributed/communicator.cuh>
#include <warp/distributed/detail/routing.cuh>
#include <warp/distributed/detail/sharded_base.cuh>
#include <warp/probing.cuh>
#include <warp/single_value_map.cuh>

namespace warp::distributed {

template <class Key, class Value, class Probing = linear_probing<4, 2>>
class sharded_map : public detail::sharded_base<single_value_map<Key, Value, Probing>> {
  using base = detail::sharded_base<single_value_map<Key, Value, Probing>>;

 public:
  using typename base::shard_type;

  /// A shard of `shard_capacity` slots on this rank, on the communicator's backend. Not collective.
  sharded_map(communicator& comm, std::size_t shard_capacity, empty_key<Key> empty, empty_value<Value> missing,
              sharding s = {}, cuda::stream_ref stream = default_stream(), memory_resource* memory = nullptr)
      : base{comm, shard_type{shard_capacity, empty, missing, comm.where(), stream, {}, memory}, s, memory} {}
  /// With an erased_key sentinel, so that erase() works.
  sharded_map(communicator& comm, std::size_t shard_capacity, empty_key<Key> empty, empty_value<Value> missing,
              erased_key<Key> erased, sharding s = {}, cuda::stream_ref stream = default_stream(),
              memory_resource* memory = nullptr)
      : base{comm, shard_type{shard_capacity, empty, missing, erased, comm.where(), stream, {}, memory}, s, memory} {}

  /// Inserts the pairs whose key is not present. Returns the number of new keys over all ranks.
  /// `outcomes` (optional, last - first entries, host or device) receives each of this rank's keys' outcome.
  template <class KeyIt, class ValueIt>
  std::size_t insert(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                     cuda::stream_ref stream = default_stream()) {
    return upsert("sharded_map::insert", first, last, values, outcomes, stream,
                  [&](Key const* k, Key const* k_end, Value const* v, insert_outcome* o) {
                    return this->shard_.insert(k, k_end, v, o, stream);
                  });
  }
  /// Inserts new keys and overwrites present ones' values. Returns the number of new keys over all ranks.
  template <class KeyIt, class ValueIt>
  std::size_t insert_or_assign(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                               cuda::stream_ref stream = default_stream()) {
    return upsert("sharded_map::insert_or_assign", first, last, values, outcomes, stream,
                  [&](Key const* k, Key const* k_end, Value const* v, insert_outcome* o) {
                    return this->shard_.insert_or_assign(k, k_end, v, o, stream);
                  });
  }
  /// Reduce by key with `op` (a __host__ __device__ functor). Returns the number of new keys over all ranks.
  template <class KeyIt, class ValueIt, class Op>
  std::size_t insert_or_apply(KeyIt first, KeyIt last, ValueIt values, Op op, insert_outcome* outcomes = nullptr,
                              cuda::stream_ref stream = default_stream()) {
    return upsert("sharded_map::insert_or_apply", first, last, values, outcomes, stream,
                  [&](Key const* k, Key const* k_end, Value const* v, insert_outcome* o) {
                    return this->shard_.insert_or_apply(k, k_end, v, op, o, stream);
                  });
  }

  /// Each of this rank's keys' value, or the empty_value sentinel. Returns how many of them were
  /// found (a stored value equal to the sentinel reads as absent).
  template <class KeyIt>
  std::size_t find(KeyIt first, KeyIt last, Value* out, cuda::stream_ref stream = default_stream()) const {
    return this->routed_lookup("sharded_map::find", first, last, out, stream,
                  [&](Key const* k, Key const* k_end, Value* o) { this->shard_.find(k, k_end, o, stream); },
                  detail::differs_from<Value>{this->shard_.empty_value_sentinel()});
  }

  /// out[i] (optional): whether this rank's key i is present. Returns how many were.
  template <class KeyIt>
  std::size_t contains(KeyIt first, KeyIt last, bool* out, cuda::stream_ref stream = default_stream()) const {
    return this->routed_lookup("sharded_map::contains", first, last, out, stream,
                  [&](Key const* k, Key const* k_end, bool* o) { this->shard_.contains(k, k_end, o, stream); },
                  detail::is_true{});
  }

  /// Erases the keys (needs the erased_key constructor). Returns the number erased over all ranks.
  template <class KeyIt>
  std::size_t erase(KeyIt first, KeyIt last, cuda::stream_ref stream = default_stream()) {
    (void)this->shard_.erased_key_sentinel();  // throws on every rank alike when there is none, before any exchange
    std::size_t const n = warp::detail::checked_distance(first, last);
    auto r = this->template route_batch<Value>("sharded_map::erase", first, n, static_cast<Value const*>(nullptr),
                                               false, stream);
    std::size_t const erased =
        r.received() == 0 ? 0 : this->shard_.erase(r.keys.data(), r.keys.data() + r.received(), stream);
    return static_cast<std::size_t>(all_reduce_sum(this->comm(), erased));
  }

  [[nodiscard]] Key empty_key_sentinel() const noexcept { return this->shard_.empty_key_sentinel(); }
  [[nodiscard]] Value empty_value_sentinel() const noexcept { return this->shard_.empty_value_sentinel(); }

 private:
  template <class KeyIt, class ValueIt, class Local>
  std::size_t upsert(char const* op, KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes,
                     cuda::stream_ref stream, Local local_call) {
    std::size_t const n = warp::detail::checked_distance(first, last);
    auto r = this->template route_batch<Value>(op, first, n, values, true, stream);
    warp::detail::buffer<insert_outcome> local{this->where(), r.received(), stream, this->memory_};
    std::size_t const fresh =
        r.received() == 0 ? 0 : local_call(r.keys.data(), r.keys.data() + r.received(), r.values.data(), local.data());
    detail::return_to_callers(this->comm(), this->executor_on(stream), r, local.data(), outcomes, op);
    return static_cast<std::size_t>(all_reduce_sum(this->comm(), fresh));
  }
};

}  // namespace warp::distributed
