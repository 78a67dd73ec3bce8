// warp/distributed/detail/routing.cuh: the part of every sharded bulk call that is not the local
// table operation: which rank owns a key, the multisplit of a batch by owner, the all-to-all of
// keys (and values) to their owners, and the way back of per-key results to the caller's order.
//
// A batch of n keys becomes a `route`: owner[i] (the rank of key i), perm[i] (its position in the
// send buffer, which is grouped by owner, rank 0's keys first), the per-peer send counts and the
// per-peer receive counts (exchanged). The owners run their local operation on what they
// received, in received order, and send one result per key back with the counts reversed; the
// caller's result i is then back[perm[i]].
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/config.cuh>
#include <warp/core/error.cuh>
#include <warp/detail/atomic.cuh>
#include <warp/detail/executor.cuh>
#include <warp/detail/memory.cuh>
#include <warp/distributed/communicator.cuh>
#include <warp/hash/detail/bytes.cuh>
#include <warp/hash/murmur3.cuh>
#include <warp/hash/xxh3.cuh>

namespace warp::distributed::detail {

using warp::detail::buffer;
using warp::detail::executor;

/// The rank that owns a key: XXH3-64 of the key's bytes under the sharding seed, mapped to
/// [0, ranks) by a multiply-high. The shards' own hash (MurmurHash3's finalizer for 4- and 8-byte
/// keys, unseeded XXH3 for wider ones) is a different function, so the keys of one shard still
/// spread over all of its slots; key % P is never used.
template <class Key>
struct owner_of {
  std::uint64_t seed;
  std::uint64_t ranks;
  WARP_HD WARP_FORCEINLINE std::uint32_t operator()(Key const& key) const noexcept {
    return static_cast<std::uint32_t>(hash::detail::mulhi64(hash::xxh3_64(&key, sizeof(Key), seed), ranks));
  }
};

// Pass 1: each key's owner, and how many keys each owner gets.
template <class Key, class KeyIt>
struct count_owners_fn {
  KeyIt keys;
  owner_of<Key> owner;
  std::uint32_t* owners;
  unsigned long long* counts;
  template <class Tile>
  WARP_HD unsigned operator()(Tile const&, std::size_t i) const {
    std::uint32_t const r = owner(static_cast<Key>(keys[i]));
    owners[i] = r;
    warp::detail::atomic_add(counts + r, 1ull);
    return 0u;
  }
};

// Pass 2: each key (and value) to the next free position of its owner's part of the send buffer.
template <class Key, class Value, class KeyIt, class ValueIt>
struct scatter_fn {
  KeyIt keys;
  ValueIt values;  // unused when Value is void-like (send_values null)
  std::uint32_t const* owners;
  unsigned long long* cursors;
  std::uint64_t* perm;
  Key* send_keys;
  Value* send_values;
  template <class Tile>
  WARP_HD unsigned operator()(Tile const&, std::size_t i) const {
    auto const at = warp::detail::atomic_add(cursors + owners[i], 1ull);
    perm[i] = at;
    send_keys[at] = static_cast<Key>(keys[i]);
    if (send_values != nullptr) { send_values[at] = static_cast<Value>(values[i]); }
    return 0u;
  }
};

// The way back: out[i] = back[perm[i]]; counts the results for which `counted` holds.
template <class T, class Counted>
struct gather_back_fn {
  T const* back;
  std::uint64_t const* perm;
  T* out;
  Counted counted;
  template <class Tile>
  WARP_HD unsigned operator()(Tile const&, std::size_t i) const {
    T const v = back[perm[i]];
    out[i] = v;
    return counted(v) ? 1u : 0u;
  }
};

// What the way back counts: nothing, found values (not the empty_value sentinel), true flags.
struct count_none {
  template <class T>
  WARP_HD bool operator()(T const&) const noexcept { return false; }
};
template <class T>
struct differs_from {
  T sentinel;
  WARP_HD bool operator()(T const& v) const noexcept { return !(v == sentinel); }
};
struct is_true {
  WARP_HD bool operator()(bool v) const noexcept { return v; }
};

/// bytes = items * size, checked (the counts come from peers).
inline std::uint64_t checked_bytes(std::uint64_t items, std::size_t size, char const* what) {
  if (size != 0 && items > std::numeric_limits<std::uint64_t>::max() / size) {
    throw invalid_argument(std::string(what) + ": " + std::to_string(items) + " items of " + std::to_string(size) +
                           " bytes overflow a 64-bit size");
  }
  return items * size;
}

/// All-to-all-v of typed items; counts are per peer, in items.
template <class T>
void exchange_items(communicator& comm, T const* send, std::vector<std::uint64_t> const& send_counts, T* recv,
                    std::vector<std::uint64_t> const& recv_counts, cuda::stream_ref stream) {
  std::vector<std::uint64_t> send_bytes(send_counts.size()), recv_bytes(recv_counts.size());
  for (std::size_t p = 0; p < send_counts.size(); ++p) {
    send_bytes[p] = checked_bytes(send_counts[p], sizeof(T), "exchange");
    recv_bytes[p] = checked_bytes(recv_counts[p], sizeof(T), "exchange");
  }
  comm.exchange(send, send_bytes.data(), recv, recv_bytes.data(), stream);
}

inline std::uint64_t sum(std::vector<std::uint64_t> const& v) {
  std::uint64_t s = 0;
  for (auto x : v) { s += x; }
  return s;
}

/// exchange_counts that also checks that every rank is in the same call: each count carries, in
/// its top 16 bits, 8 bits of a hash of the operation's name and 8 of the sharding seed (counts
/// stay below 2^48, checked). A rank that called another collective, or built its container with
/// another seed, then differs from some peer; every rank sees a differing tag and throws, naming
/// the peer and what differs, instead of exchanging mismatched buffers or waiting for ever.
inline void exchange_counts_checked(communicator& comm, std::uint64_t const* send, std::uint64_t* recv, char const* op,
                                    std::uint64_t seed) {
  constexpr int shift = 48;
  std::uint64_t const op_tag = warp::hash::xxh3_64(op, std::char_traits<char>::length(op), 0) & 0xffu;
  std::uint64_t const seed_tag = warp::hash::fmix64(seed ^ 0x5eedu) & 0xffu;
  std::uint64_t const tag = (op_tag << 8 | seed_tag) << shift;
  std::size_t const ranks = static_cast<std::size_t>(comm.size());
  std::vector<std::uint64_t> tagged(ranks);
  for (std::size_t p = 0; p < ranks; ++p) {
    if (send[p] >> shift != 0) {
      throw invalid_argument(std::string(op) + ": " + std::to_string(send[p]) + " items for rank " + std::to_string(p) +
                             " exceed the 2^48 a call can route");
    }
    tagged[p] = send[p] | tag;
  }
  comm.exchange_counts(tagged.data(), recv);
  std::string differs;
  for (std::size_t p = 0; p < ranks; ++p) {
    std::uint64_t const theirs = recv[p] >> shift, ours = tag >> shift;
    recv[p] &= (std::uint64_t{1} << shift) - 1;
    if (theirs == ours || !differs.empty()) { continue; }
    differs = (theirs >> 8) != (ours >> 8) ? "is in another collective call than this rank's " + std::string(op) + " (calls out of step)"
                                           : "uses another sharding seed than this rank's (every rank must pass the same `sharding`)";
    differs = std::string(op) + " on rank " + std::to_string(comm.rank()) + ": rank " + std::to_string(p) + " " + differs;
  }
  if (!differs.empty()) { throw invalid_argument(differs); }
}

/// One batch routed to its owners: the plan, and the keys (and values) each rank received.
template <class Key, class Value>
struct route {
  std::size_t n = 0;                      ///< the caller's keys
  buffer<std::uint64_t> perm;             ///< caller index -> send position
  std::vector<std::uint64_t> send_counts;  ///< per peer, in keys
  std::vector<std::uint64_t> recv_counts;  ///< per peer, in keys
  buffer<Key> keys;                       ///< received, rank-major
  buffer<Value> values;                   ///< received (empty when the call sends no values)
  [[nodiscard]] std::size_t received() const noexcept { return keys.size(); }
};

/// Partitions keys[0, n) (and values, when Value is not void and values is given) by owner and
/// sends each part to its owner. Collective; `op` names the call (in errors, and in the check that
/// every rank makes the same one).
template <class Key, class Value, class KeyIt, class ValueIt>
route<Key, Value> route_to_owners(communicator& comm, executor const& ex, KeyIt keys, ValueIt values, bool with_values,
                                  std::size_t n, std::uint64_t seed, char const* op) {
  std::size_t const ranks = static_cast<std::size_t>(comm.size());
  route<Key, Value> r;
  r.n = n;
  r.send_counts.assign(ranks, 0);
  r.recv_counts.assign(ranks, 0);
  buffer<Key> send_keys{ex.where, n, ex.stream, ex.memory};
  buffer<Value> send_values{ex.where, with_values ? n : 0, ex.stream, ex.memory};
  r.perm = buffer<std::uint64_t>{ex.where, n, ex.stream, ex.memory};
  owner_of<Key> const owner{seed, ranks};
  if (n != 0 && ex.where == backend::host) {
    // On the host one thread splits the batch: threads sharing P counters would pass their cache
    // lines back and forth on every key, and one pass in input order keeps each owner's keys in
    // the caller's order.
    buffer<std::uint32_t> owners{ex.where, n, ex.stream, ex.memory};
    for (std::size_t i = 0; i < n; ++i) {
      std::uint32_t const o = owner(static_cast<Key>(keys[i]));
      owners.data()[i] = o;
      ++r.send_counts[o];
    }
    std::vector<std::uint64_t> cursor(ranks, 0);
    for (std::size_t p = 1; p < ranks; ++p) { cursor[p] = cursor[p - 1] + r.send_counts[p - 1]; }
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t const at = cursor[owners.data()[i]]++;
      r.perm.data()[i] = at;
      send_keys.data()[at] = static_cast<Key>(keys[i]);
      if (with_values) { send_values.data()[at] = static_cast<Value>(values[i]); }
    }
  } else if (n != 0) {
    buffer<std::uint32_t> owners{ex.where, n, ex.stream, ex.memory};
    buffer<unsigned long long> counts{ex.where, ranks, ex.stream, ex.memory};
    warp::detail::fill_zero(ex.where, counts.data(), ranks * sizeof(unsigned long long), ex.stream);
    warp::detail::for_each_item<1>(ex, n, count_owners_fn<Key, KeyIt>{keys, owner, owners.data(), counts.data()});
    std::vector<unsigned long long> host_counts(ranks);
    warp::detail::copy_bytes(ex.where, host_counts.data(), counts.data(), ranks * sizeof(unsigned long long), ex.stream);
    warp::detail::synchronize(ex.where, ex.stream);
    std::vector<unsigned long long> starts(ranks);
    unsigned long long at = 0;
    for (std::size_t p = 0; p < ranks; ++p) {
      r.send_counts[p] = host_counts[p];
      starts[p] = at;
      at += host_counts[p];
    }
    // The cursors start at each owner's first position (reusing the counts' memory).
    warp::detail::copy_bytes(ex.where, counts.data(), starts.data(), ranks * sizeof(unsigned long long), ex.stream);
    warp::detail::for_each_item<1>(ex, n,
                                   scatter_fn<Key, Value, KeyIt, ValueIt>{keys, values, owners.data(), counts.data(),
                                                                          r.perm.data(), send_keys.data(),
                                                                          with_values ? send_values.data() : nullptr});
    warp::detail::synchronize(ex.where, ex.stream);  // `starts` (host) is read by the copy above
  }
  exchange_counts_checked(comm, r.send_counts.data(), r.recv_counts.data(), op, seed);
  std::uint64_t const received = sum(r.recv_counts);
  r.keys = buffer<Key>{ex.where, static_cast<std::size_t>(received), ex.stream, ex.memory};
  exchange_items(comm, send_keys.data(), r.send_counts, r.keys.data(), r.recv_counts, ex.stream);
  if (with_values) {
    r.values = buffer<Value>{ex.where, static_cast<std::size_t>(received), ex.stream, ex.memory};
    exchange_items(comm, send_values.data(), r.send_counts, r.values.data(), r.recv_counts, ex.stream);
  }
  return r;
}

/// Sends one result per received key back to the keys' senders and writes them in the caller's
/// order to `out` (caller memory, host or device; may be null, then nothing comes back but the
/// call is still collective). Returns how many of the caller's results satisfy `counted`.
template <class Key, class Value, class T, class Counted = count_none>
std::uint64_t return_to_callers(communicator& comm, executor const& ex, route<Key, Value> const& r,
                                T const* local_results, T* out, char const* what, Counted counted = {}) {
  buffer<T> back{ex.where, r.n, ex.stream, ex.memory};
  exchange_items(comm, local_results, r.recv_counts, back.data(), r.send_counts, ex.stream);
  if (out == nullptr || r.n == 0) { return 0; }
  warp::detail::output_view<T> view{ex.where, out, r.n, what, ex.stream, ex.memory};
  std::uint64_t const counted_total =
      warp::detail::count_items<1>(ex, r.n, gather_back_fn<T, Counted>{back.data(), r.perm.data(), view.get(), counted});
  view.finish(ex.stream);
  warp::detail::synchronize(ex.where, ex.stream);
  return counted_total;
}

}  // namespace warp::distributed::detail
