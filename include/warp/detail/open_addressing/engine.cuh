// warp/detail/open_addressing/engine.cuh: the one probing engine behind every container.
//
// `probing_engine` is a trivially copyable view of a slot array plus its sentinels, hasher and
// sticky status word. Its operations are written once, as __host__ __device__ code templated on a
// tile (a cooperative_groups::thread_block_tile<N> on the device, warp::one_lane_tile on the host
// and for scalar device calls):
//   upsert(tile, key, value, on_present)  insert; on a present key call on_present (keep, assign, apply)
//   find(tile, key)                       value and whether it was found
//   erase(tile, key)                      empty the slot, or leave a tombstone (erased_key)
// Every loop is bounded: the probe sequence visits each window once, and a retry only follows a
// CAS lost to another thread's successful write, which can happen at most once per slot.
//
// Insertion with tombstones: a key may live beyond an erased slot, so an insert keeps probing past
// tombstones until it meets its key or an empty slot, and only then claims the first available
// (empty or erased) slot it saw. Concurrent inserts of one key all pick the same first available
// slot, so a key is never stored twice. Inserts and erases must not run concurrently.
//
// Erasing without a tombstone: every probe walk stops at the first window holding an empty slot,
// so no stored key's walk passes through such a window. Hence an erase whose window already holds
// an empty slot can empty its slot too (no walk needs it filled). With linear probing that asks
// for it (erase_reads_next_window), a full window w is also emptied into when window w + 1 holds
// an empty slot and only keys homed at w + 1: a key homed at or before w and stored beyond w + 1
// would have found w + 1 without an empty slot (every window its walk passed is full), so no
// walk crosses w. Only the other erases leave a tombstone. Empty slots never fill during an erase phase, so concurrent erases and
// lookups agree. At moderate load most windows hold an empty slot, so a cache-like table (erases
// and inserts in balance) rarely accumulates tombstones or needs a rehash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <cuda/atomic>

#include <warp/detail/atomic.cuh>
#include <warp/core/config.cuh>
#include <warp/core/functional.cuh>
#include <warp/core/outcome.cuh>
#include <warp/core/tile.cuh>
#include <warp/probing.cuh>
#include <warp/detail/open_addressing/slot.cuh>

namespace warp::detail {

/// N objects left uninitialised until written. Keys with default member initializers (a struct
/// whose fields default to 0) made `Key keys[N]` zero the whole array on every window of every
/// probe, a `rep stos` that cost a fifth of a host upsert.
template <class T, std::size_t N>
struct uninitialized_array {
  static_assert(std::is_trivially_copyable_v<T>, "table keys are trivially copyable");
  union {
    T items[N];
  };
  WARP_HD WARP_FORCEINLINE uninitialized_array() noexcept {}
};

/// on_present policies of upsert.
struct keep_existing {
  template <class V>
  WARP_HD WARP_FORCEINLINE V operator()(V const& stored, V const&) const noexcept { return stored; }
  static constexpr bool modifies = false;
};
struct assign_new {
  template <class V>
  WARP_HD WARP_FORCEINLINE V operator()(V const&, V const& incoming) const noexcept { return incoming; }
  static constexpr bool modifies = true;
};
template <class Op>
struct apply_op {
  Op op;
  template <class V>
  WARP_HD WARP_FORCEINLINE V operator()(V const& stored, V const& incoming) const noexcept {
    return op(stored, incoming);
  }
  static constexpr bool modifies = true;
};

/// Sums of arithmetic values are applied with one atomic add instead of a CAS loop, so that hot
/// keys (counting, histograms) do not serialize on retries. The value sits inside a slot that other
/// threads CAS as a whole; both NVIDIA GPUs and x86 keep such mixed-size atomics coherent.
template <class OnPresent, class V>
struct adds_natively : std::false_type {};
template <class V>
struct adds_natively<apply_op<op::plus>, V>
    : std::bool_constant<std::is_arithmetic_v<V> && !std::is_same_v<V, bool> && (sizeof(V) == 4 || sizeof(V) == 8)> {};

/// Reductions whose identity is known (0 for sums): when a table's empty_value is that identity,
/// a key_then_value slot's value starts as the identity the moment the key lands, so the inserter
/// applies its value like any later update instead of storing it (see try_claim), and no update
/// ever waits for, or is overwritten by, the inserter's store.
template <class OnPresent>
struct reduction_identity {
  static constexpr bool exists = false;
};
template <>
struct reduction_identity<apply_op<op::plus>> {
  static constexpr bool exists = true;
  template <class V>
  WARP_HD static constexpr V value() noexcept { return V{0}; }
};
template <class C>
struct reduction_identity<apply_op<op::saturating_plus<C>>> {
  static constexpr bool exists = true;
  template <class V>
  WARP_HD static constexpr V value() noexcept { return V{0}; }
};

template <class T>
struct find_result {
  bool found;
  T value;
};

template <class Key, class Value, class Probing>
class probing_engine {
 public:
  using key_type = Key;
  using value_type = Value;
  using slot_type = slot<Key, Value>;
  using layout = slot_layout<Key, Value>;
  using probing = Probing;
  using hasher = typename Probing::template hasher<Key>;
  static constexpr int window_size = Probing::window_size;
  static constexpr int tile_size = Probing::tile_size;
  /// False for key-only tables (hash_set): their slots hold just the key.
  static constexpr bool has_value = !std::is_same_v<Value, no_value>;
  /// Whether the probing scheme asks for a host miss filter (with_miss_filter): one byte per slot
  /// in `filter` (null on CUDA tables, which ignore it).
  static constexpr bool filtered = has_miss_filter<Probing>::value;

  probing_engine() = default;
  probing_engine(slot_type* slots, std::size_t num_windows, Key empty, Key erased, bool has_erased,
                 Value empty_val, hasher h, std::uint32_t* status, std::uint8_t* filter = nullptr) noexcept
      : slots_{slots}, num_windows_{num_windows}, empty_key_{empty}, erased_key_{erased},
        has_erased_{has_erased}, empty_value_{empty_val}, hash_{h}, status_{status}, filter_{filter} {}

  WARP_HD WARP_FORCEINLINE std::size_t capacity() const noexcept { return num_windows_ * window_size; }
  WARP_HD WARP_FORCEINLINE std::size_t num_windows() const noexcept { return num_windows_; }
  WARP_HD WARP_FORCEINLINE slot_type* slots() const noexcept { return slots_; }
  WARP_HD WARP_FORCEINLINE Key empty_key() const noexcept { return empty_key_; }
  WARP_HD WARP_FORCEINLINE Key erased_key() const noexcept { return erased_key_; }
  WARP_HD WARP_FORCEINLINE Value empty_value() const noexcept { return empty_value_; }
  WARP_HD WARP_FORCEINLINE std::uint32_t* status_word() const noexcept { return status_; }
  WARP_HD WARP_FORCEINLINE hasher hash_function() const noexcept { return hash_; }
  /// The miss filter's bytes (capacity() of them), or null.
  WARP_HD WARP_FORCEINLINE std::uint8_t* filter() const noexcept { return filter_; }

  WARP_HD WARP_FORCEINLINE bool is_sentinel(Key const& k) const noexcept {
    return bitwise_equal(k, empty_key_) || (has_erased_ && bitwise_equal(k, erased_key_));
  }
  /// True when slot `i` holds a key (neither empty nor erased).
  WARP_HD WARP_FORCEINLINE bool is_filled(std::size_t i) const noexcept { return !is_sentinel(load_key(i)); }
  WARP_HD WARP_FORCEINLINE bool is_erased(std::size_t i) const noexcept {
    return has_erased_ && bitwise_equal(load_key(i), erased_key_);
  }
  /// The key in slot `i`, never a torn one.
  ///
  /// A 16-byte key is read as two 8-byte halves (no single-copy-atomic 16-byte load is promised),
  /// so a read racing with the CAS that fills or erases the slot can return half of the old key
  /// and half of the new. Within one phase (inserts only, or erases only) a slot's key changes only
  /// between a sentinel and a key, so a torn read always carries a half of a sentinel: only reads
  /// that share a half with a sentinel (and, when the two sentinels share a half, exact sentinels)
  /// are confirmed with one atomic 16-byte access. Keys that share no half with the sentinels, the
  /// common case, cost nothing extra.
  WARP_HD WARP_FORCEINLINE Key load_key(std::size_t i) const noexcept {
    Key k = atomic_load(slots_[i].key_ptr());
    if constexpr (sizeof(Key) == 16) {
      if (may_be_torn(k)) { k = atomic_load_exact(slots_[i].key_ptr(), k); }
    }
    return k;
  }
  WARP_HD WARP_FORCEINLINE Value load_value(std::size_t i) const noexcept {
    if constexpr (has_value) {
      return atomic_load(slots_[i].value_ptr());
    } else {
      (void)i;
      return {};
    }
  }

  /// Sets sticky status bits (reads first so that a flood of failures does not serialize).
  WARP_HD WARP_FORCEINLINE void raise(std::uint32_t bits) const noexcept {
    if (bits == 0 || status_ == nullptr) { return; }
    cuda::atomic_ref<std::uint32_t, cuda::thread_scope_device> s{*status_};
    if ((s.load(cuda::std::memory_order_relaxed) & bits) != bits) { s.fetch_or(bits, cuda::std::memory_order_relaxed); }
  }

  /// Host bulk loops call this a few keys ahead, so that the first window of each key is already
  /// on its way from memory when the key is probed (hides DRAM latency on the CPU).
  WARP_HD WARP_FORCEINLINE void prefetch(Key const& key) const noexcept {
#if !WARP_DEVICE_COMPILATION
    // Every cache line of the first window (windows of wide slots span several).
    detail::probe_position const pos = Probing::begin(hash_, key, num_windows_);
    prefetch_lines(slots_ + pos.window * window_size, window_size * sizeof(slot_type));
#else
    (void)key;
#endif
  }
  /// The same for an insert, which also writes its miss-filter bit (lookups request the filter
  /// only when they read it: for hits its line would be one more fetch from memory).
  WARP_HD WARP_FORCEINLINE void prefetch_for_insert(Key const& key) const noexcept {
    prefetch(key);
    if constexpr (filtered) { prefetch_filter(filter_spot(key)); }
  }

  /// Miss filter (host tables of a with_miss_filter scheme). Every key owns two bits of one of
  /// the filter's capacity() bytes, from one remix of its hash: a blocked Bloom filter of 8 bits
  /// per slot with one-byte blocks and two bits per key (about 1.5 % false positives at load 0.5,
  /// 4 % at 0.9; one bit per key would let 6 % and 11 % through). A key's byte has nothing to do
  /// with its slots, whose line is another fetch anyway. The bulk lookups compute the position
  /// once per key and keep it.
  struct filter_position {
    std::size_t byte;
    std::uint8_t mask;
  };
  WARP_HD WARP_FORCEINLINE filter_position filter_spot(Key const& key) const noexcept {
    std::uint64_t const bits = warp::hash::fmix64(static_cast<std::uint64_t>(hash_(key)) ^ 0x632be59bd9b4e019ull);
    std::uint32_t const first = static_cast<std::uint32_t>(bits & 7u);
    std::uint32_t const second = (first + 1u + static_cast<std::uint32_t>((bits >> 3) % 7u)) & 7u;  // another bit
    return {static_cast<std::size_t>(hash::detail::mulhi64(bits, capacity())),
            static_cast<std::uint8_t>((1u << first) | (1u << second))};
  }
  /// Requests the filter's line of a position a few keys before may_contain reads it.
  WARP_HD WARP_FORCEINLINE void prefetch_filter(filter_position const& at) const noexcept {
#if !WARP_DEVICE_COMPILATION
    if constexpr (filtered) {
      if (filter_ != nullptr) { prefetch_lines(filter_ + at.byte, 1); }
    }
#else
    (void)at;
#endif
  }
  /// False only when the key of `at` is certainly absent (a bit of it is clear); always true without
  /// a filter. Only where nothing inserts during the call (bulk lookups).
  WARP_HD WARP_FORCEINLINE bool may_contain(filter_position const& at) const noexcept {
#if !WARP_DEVICE_COMPILATION
    if constexpr (filtered) {
      if (filter_ != nullptr) { return (filter_[at.byte] & at.mask) == at.mask; }
    }
#endif
    (void)at;
    return true;
  }
  WARP_HD WARP_FORCEINLINE bool may_contain(Key const& key) const noexcept {
    if constexpr (filtered) { return may_contain(filter_spot(key)); }
    (void)key;
    return true;
  }

  template <class Tile, class OnPresent>
  WARP_HD insert_outcome upsert(Tile const& tile, Key const& key, Value const& value,
                                OnPresent const& on_present) const noexcept {
    if (is_sentinel(key)) {
      if (tile.thread_rank() == 0) { raise(table_status::invalid_key_bit); }
      return insert_outcome::invalid_key;
    }
    constexpr std::uint32_t lanes = Tile::num_threads();
    constexpr std::uint32_t per_lane = window_size / lanes;
    static_assert(window_size % lanes == 0, "the tile size must divide the window size");
    std::uint32_t const lane = tile.thread_rank();

    for (;;) {  // one pass per lost claim (bounded by the number of slots)
      detail::probe_position pos = Probing::begin(hash_, key, num_windows_);
      std::size_t avail = npos;  // first empty or erased slot seen, as a slot index
      for (std::size_t step = 0; step < num_windows_; ++step, pos.advance()) {
        std::size_t const base = pos.window * window_size + lane * per_lane;
        int match = -1;
        int first_avail = -1;
        bool has_empty = false;
        uninitialized_array<Key, per_lane> lane_keys;
        Key(&keys)[per_lane] = lane_keys.items;
        load_lane_keys(base, keys);
        // Branch-free scan: where a key sits among the lane's slots is random, so branches would mispredict.
        for (std::uint32_t j = 0; j < per_lane; ++j) {
          bool const is_match = bitwise_equal(keys[j], key);
          bool const is_empty = bitwise_equal(keys[j], empty_key_);
          bool const is_free = is_empty || (has_erased_ && bitwise_equal(keys[j], erased_key_));
          match = (match < 0 && is_match) ? static_cast<int>(j) : match;
          first_avail = (first_avail < 0 && is_free) ? static_cast<int>(j) : first_avail;
          has_empty |= is_empty;
        }
        std::uint32_t const match_mask = tile.ballot(match >= 0);
        if (match_mask != 0) {
          std::uint32_t const src = lowest_lane(match_mask);
          if (lane == src) { update_present(base + static_cast<std::size_t>(match), value, on_present); }
          tile.sync();
          return insert_outcome::already_present;
        }
        if (avail == npos) {
          std::uint32_t const avail_mask = tile.ballot(first_avail >= 0);
          if (avail_mask != 0) {
            std::uint32_t const src = lowest_lane(avail_mask);
            int const j = tile.shfl(first_avail, src);
            avail = pos.window * window_size + src * per_lane + static_cast<std::size_t>(j);
          }
        }
        if (tile.any(has_empty)) { break; }  // the key cannot be further along
      }
      if (avail == npos) {
        if (lane == 0) { raise(table_status::no_room_bit); }
        return insert_outcome::no_room;
      }
      // Claim the first available slot with the lane that owns it.
      std::uint32_t const owner = static_cast<std::uint32_t>((avail % window_size) / per_lane);
      int claim = 0;  // 1: inserted, 2: found our key there, 0: lost to another key
      if (lane == owner) {
        mark_filter(key);  // before the key is visible: a lookup that can see it sees its bit
        claim = try_claim(avail, key, value, on_present);
      }
      claim = tile.shfl(claim, owner);
      if (claim == 1) { return insert_outcome::inserted; }
      if (claim == 2) { return insert_outcome::already_present; }
    }
  }

  /// The index of the slot holding `key`, or `npos`. Slots do not move until the next rehash, so
  /// containers can keep per-key data in arrays parallel to the slots (bucket_list_map does).
  template <slot_reads Reads = slot_reads::concurrent, class Tile>
  WARP_HD std::size_t find_index(Tile const& tile, Key const& key) const noexcept {
    if (is_sentinel(key)) { return npos; }
    located const at = locate<Reads>(tile, key);
    return at.found ? at.index : npos;
  }
  static constexpr std::size_t npos = ~std::size_t{0};

  /// `Reads`: slot_reads::read_only only where nothing writes the table during the call (bulk
  /// lookups); device refs keep the default.
  template <slot_reads Reads = slot_reads::concurrent, class Tile>
  WARP_HD find_result<Value> find(Tile const& tile, Key const& key) const noexcept {
    if (is_sentinel(key)) { return {false, empty_value_}; }
    return result_of(locate<Reads>(tile, key));
  }

  /// Where a staged lookup (below) stands: its probe position and the slot addresses whose
  /// cache lines have been requested from memory.
  struct lookup_cursor {
    detail::probe_position pos;
    std::size_t step;
    std::uintptr_t ready_begin;
    std::uintptr_t ready_end;
  };

  /// Staged lookups for the host's bulk loops (one thread probes a whole window). A lookup runs
  /// only over windows whose lines were prefetched; when its walk reaches a line not requested
  /// yet, it requests it and returns false, and the loop resumes it a few keys later instead of
  /// stalling on memory. Misses (which walk to an empty slot) and long walks at high load gain;
  /// hits in the first window run as before. start_lookup expects prefetch(key) to have been
  /// issued. Both return true, with `result` set as find() sets it, once the lookup is settled.
  template <slot_reads Reads = slot_reads::concurrent>
  WARP_HD bool start_lookup(Key const& key, lookup_cursor& c, find_result<Value>& result) const noexcept {
    if (is_sentinel(key)) {
      result = {false, empty_value_};
      return true;
    }
    c.pos = Probing::begin(hash_, key, num_windows_);
    c.step = 0;
    mark_ready(c, false);  // the first window: what prefetch(key) requested
    return walk_ready<Reads>(key, c, result);
  }
  template <slot_reads Reads = slot_reads::concurrent>
  WARP_HD bool resume_lookup(Key const& key, lookup_cursor& c, find_result<Value>& result) const noexcept {
    return walk_ready<Reads>(key, c, result);
  }

  /// Erases `key`: its slot becomes empty when its window holds an empty slot already, else a
  /// tombstone (see the file comment). Returns true when this call erased it.
  template <class Tile>
  WARP_HD bool erase(Tile const& tile, Key const& key) const noexcept {
    return erase_reporting(tile, key) != erase_result::absent;
  }

  /// What an erase did: nothing (the key was absent or another erase won), emptied the key's
  /// slot, or left a tombstone there. The owning table counts tombstones with it.
  using erase_result = erase_outcome;
  template <class Tile>
  WARP_HD erase_result erase_reporting(Tile const& tile, Key const& key) const noexcept {
    if (is_sentinel(key) || !has_erased_) { return erase_result::absent; }
    located const at = locate<slot_reads::concurrent, true>(tile, key);
    if (!at.found) { return erase_result::absent; }
    bool empties = at.window_has_empty;
    if constexpr (detail::erase_reads_next_window_of<Probing>::value) {
      if (!empties) { empties = no_walk_crosses(tile, at.index / window_size); }
    }
    std::uint32_t r = 0;
    if (tile.thread_rank() == 0 && erase_slot(at.index, key, empties ? empty_key_ : erased_key_)) {
      r = static_cast<std::uint32_t>(empties ? erase_result::emptied : erase_result::tombstone);
    }
    return static_cast<erase_result>(tile.shfl(r, 0));
  }

 private:

  struct located {
    bool found;
    std::size_t index;  // slot holding the key (when found), the same on every lane
    Value value;        // its value, for packed slots (read with the key in one load)
    bool window_has_empty = false;  // (when found) the key's window holds an empty slot
  };

  // The keys of one lane's slots (slots base .. base + N - 1).
  template <std::size_t N>
  WARP_HD WARP_FORCEINLINE void load_lane_keys(std::size_t base, Key (&keys)[N]) const noexcept {
    if constexpr (layout::packed) {
      slot_type lane_slots[N];
      load_slots(slots_ + base, lane_slots);
      for (std::size_t j = 0; j < N; ++j) { keys[j] = lane_slots[j].key(); }
    } else {
      for (std::size_t j = 0; j < N; ++j) { keys[j] = load_key(base + j); }
    }
  }

  // What one lane's slots of one window hold for `key`: the first matching slot (-1: none), its
  // value (packed slots read it with the key) and whether an empty slot ends the probe sequence.
  struct window_scan {
    int match;
    bool has_empty;
    Value value;
  };
  template <slot_reads Reads, std::uint32_t PerLane>
  WARP_HD WARP_FORCEINLINE window_scan scan_lane(std::size_t base, Key const& key) const noexcept {
    window_scan s{-1, false, empty_value_};
    if constexpr (layout::packed) {
      slot_type lane_slots[PerLane];
      load_slots<Reads>(slots_ + base, lane_slots);  // keys and values in one go
      for (std::uint32_t j = 0; j < PerLane; ++j) {
        Key const k = lane_slots[j].key();
        bool const take = s.match < 0 && bitwise_equal(k, key);
        s.match = take ? static_cast<int>(j) : s.match;
        s.value = take ? lane_slots[j].value() : s.value;
        s.has_empty |= bitwise_equal(k, empty_key_);
      }
    } else {
      for (std::uint32_t j = 0; j < PerLane; ++j) {
        Key const k = load_key(base + j);
        if (s.match < 0 && bitwise_equal(k, key)) { s.match = static_cast<int>(j); }
        s.has_empty |= bitwise_equal(k, empty_key_);
      }
    }
    return s;
  }

  // Walks the probe sequence until the key or an empty slot; tombstones are stepped over.
  // `ForErase`: also tell whether the key's window holds an empty slot (a tile vote that lookups
  // need not pay).
  template <slot_reads Reads = slot_reads::concurrent, bool ForErase = false, class Tile>
  WARP_HD located locate(Tile const& tile, Key const& key) const noexcept {
    constexpr std::uint32_t per_lane = window_size / Tile::num_threads();
    std::uint32_t const lane = tile.thread_rank();
    detail::probe_position pos = Probing::begin(hash_, key, num_windows_);
    for (std::size_t step = 0; step < num_windows_; ++step, pos.advance()) {
      std::size_t const base = pos.window * window_size + lane * per_lane;
      window_scan const s = scan_lane<Reads, per_lane>(base, key);
      std::uint32_t const match_mask = tile.ballot(s.match >= 0);
      if (match_mask != 0) {
        std::uint32_t const src = lowest_lane(match_mask);
        std::size_t const index = tile.shfl(base + static_cast<std::size_t>(s.match), src);
        bool window_has_empty = false;
        if constexpr (ForErase) { window_has_empty = tile.any(s.has_empty); }
        if constexpr (has_value) {
          return {true, index, tile.shfl(s.value, src), window_has_empty};
        } else {
          return {true, index, s.value, window_has_empty};
        }
      }
      if (tile.any(s.has_empty)) { break; }
    }
    return {false, 0, empty_value_};
  }

  // Linear probing: whether window w + 1 holds an empty slot and no key homed before it, so that
  // no stored key's walk passes through the full window w (see the file comment). Costs a read
  // of window w + 1, usually another cache line.
  template <class Tile>
  WARP_HD bool no_walk_crosses(Tile const& tile, std::size_t w) const noexcept {
    constexpr std::uint32_t per_lane = window_size / Tile::num_threads();
    std::size_t const next = w + 1 == num_windows_ ? 0 : w + 1;
    if (next == w) { return false; }
    std::size_t const base = next * window_size + tile.thread_rank() * per_lane;
    uninitialized_array<Key, per_lane> lane_keys;
    Key(&keys)[per_lane] = lane_keys.items;
    load_lane_keys(base, keys);
    bool has_empty = false;
    for (std::uint32_t j = 0; j < per_lane; ++j) {
      has_empty |= bitwise_equal(keys[j], empty_key_);
    }
    if (!tile.any(has_empty)) { return false; }  // the usual case at high load: no keys hashed
    bool spilled = false;
    for (std::uint32_t j = 0; j < per_lane; ++j) {
      if (!is_sentinel(keys[j])) { spilled |= Probing::begin(hash_, keys[j], num_windows_).window != next; }
    }
    return !tile.any(spilled);
  }

  // A located key as find() returns it.
  WARP_HD WARP_FORCEINLINE find_result<Value> result_of(located const& at) const noexcept {
    if (!at.found) { return {false, empty_value_}; }
    if constexpr (layout::packed || !has_value) {
      return {true, at.value};
    } else {
      // A stored key is found whatever its value. (Racing with the insert of this very key, the
      // value may still read as the empty_value: the key lands a moment before its value.)
      return {true, atomic_load(slots_[at.index].value_ptr())};
    }
  }

  static constexpr std::size_t window_bytes = window_size * sizeof(slot_type);
  static constexpr std::uintptr_t line_bytes = 64;

  // Marks the lines from window `c.pos.window` on as requested; `request` also prefetches them.
  // With linear probing (stride 1) the next line is taken too: a walk that leaves its window
  // usually goes on into it.
  WARP_HD WARP_FORCEINLINE void mark_ready(lookup_cursor& c, bool request) const noexcept {
    auto const begin = reinterpret_cast<std::uintptr_t>(slots_ + c.pos.window * window_size);
    std::uintptr_t const extra = request && c.pos.stride == 1 ? line_bytes : 0;
    c.ready_begin = begin & ~(line_bytes - 1);
    c.ready_end = ((begin + window_bytes + line_bytes - 1) & ~(line_bytes - 1)) + extra;
    if (request) { prefetch_lines(reinterpret_cast<void const*>(c.ready_begin), c.ready_end - c.ready_begin); }
  }

  // Scans windows from the cursor on while their lines have been requested. Returns true with the
  // result once the key or an empty slot is met; false when the next window's lines still have to
  // come from memory (they are now requested and the cursor points at that window).
  template <slot_reads Reads>
  WARP_HD bool walk_ready(Key const& key, lookup_cursor& c, find_result<Value>& result) const noexcept {
    for (; c.step < num_windows_; ++c.step, c.pos.advance()) {
      auto const begin = reinterpret_cast<std::uintptr_t>(slots_ + c.pos.window * window_size);
      if (begin < c.ready_begin || begin + window_bytes > c.ready_end) {
        mark_ready(c, true);
        return false;
      }
      std::size_t const base = c.pos.window * window_size;
      window_scan const s = scan_lane<Reads, window_size>(base, key);
      if (s.match >= 0) {
        result = result_of(located{true, base + static_cast<std::size_t>(s.match), s.value});
        return true;
      }
      if (s.has_empty) { break; }
    }
    result = {false, empty_value_};
    return true;
  }

  WARP_HD WARP_FORCEINLINE void mark_filter(Key const& key) const noexcept {
#if !WARP_DEVICE_COMPILATION
    if constexpr (filtered) {
      if (filter_ != nullptr) {
        filter_position const at = filter_spot(key);
        // Read first: a key inserted again after its erase, and a key whose two bits other keys
        // set already, skip the locked update (the line was prefetched with the slot's, so the
        // load costs little when the update follows).
        // (Host-only code: the GCC builtins, which libcu++'s atomic_ref wraps, on one byte.)
        if ((__atomic_load_n(filter_ + at.byte, __ATOMIC_RELAXED) & at.mask) != at.mask) {
          __atomic_fetch_or(filter_ + at.byte, at.mask, __ATOMIC_RELAXED);
        }
      }
    }
#else
    (void)key;
#endif
  }

  static constexpr int max_value_wait = 1 << 16;

  WARP_HD WARP_FORCEINLINE bool may_be_torn(Key const& k) const noexcept {
    if constexpr (sizeof(Key) == 16) {
      bool const erased_in_use = has_erased_;
      if (is_sentinel(k)) { return erased_in_use && shares_a_half(empty_key_, erased_key_); }
      return shares_a_half(k, empty_key_) || (erased_in_use && shares_a_half(k, erased_key_));
    } else {
      (void)k;
      return false;
    }
  }

  // 1: the slot now holds (key, value); 2: another thread stored `key` there first (on_present was
  // applied); 0: another key took the slot.
  template <class OnPresent>
  WARP_HD int try_claim(std::size_t i, Key const& key, Value const& value, OnPresent const& on_present) const noexcept {
    slot_type* s = slots_ + i;
    if constexpr (layout::packed) {
      // The slot is empty or erased; either way its value is empty_value (erase resets it).
      Key const seen = atomic_load(s->key_ptr());
      if (!is_sentinel(seen)) {
        if (bitwise_equal(seen, key)) {
          update_present(i, value, on_present);
          return 2;
        }
        return 0;
      }
      slot_type expected = slot_type::make(seen, empty_value_);
      if (cas_slot(s, expected, slot_type::make(key, value))) { return 1; }
      if (bitwise_equal(expected.key(), key)) {
        update_present(i, value, on_present);
        return 2;
      }
      return 0;
    } else {
      Key expected = load_key(i);
      if (!is_sentinel(expected)) {
        if (bitwise_equal(expected, key)) {
          update_present(i, value, on_present);
          return 2;
        }
        return 0;
      }
      if (atomic_cas(s->key_ptr(), expected, key)) {
        if constexpr (has_value) {
          if (starts_from_identity(on_present)) {
            apply_to_value(s, value, on_present, false);  // concurrent updates may already have landed
          } else {
            atomic_store(s->value_ptr(), value);
          }
        }
        return 1;
      }
      if (bitwise_equal(expected, key)) {
        update_present(i, value, on_present);
        return 2;
      }
      return 0;
    }
  }

  template <class OnPresent>
  WARP_HD void update_present(std::size_t i, Value const& incoming, OnPresent const& on_present) const noexcept {
    if constexpr (!OnPresent::modifies) {
      (void)i;
      (void)incoming;
      (void)on_present;
    } else if constexpr (layout::packed) {
      slot_type* s = slots_ + i;
      if constexpr (adds_natively<OnPresent, Value>::value) {
        (void)atomic_add(s->value_ptr(), incoming);
      } else {
        Key const k = atomic_load(s->key_ptr());
        slot_type expected = slot_type::make(k, atomic_load(s->value_ptr()));
        // Retries only when another thread changed the value in between.
        while (!cas_slot(s, expected, slot_type::make(k, on_present(expected.value(), incoming)))) {
          if (!bitwise_equal(expected.key(), k)) { return; }  // erased concurrently: nothing to update
        }
      }
    } else {
      // key_then_value: without a known identity the inserter's plain store may still be on its
      // way; wait for it (bounded: a stored value may legitimately equal empty_value).
      apply_to_value(slots_ + i, incoming, on_present, !starts_from_identity(on_present));
    }
  }

  template <class OnPresent>
  WARP_HD WARP_FORCEINLINE bool starts_from_identity(OnPresent const&) const noexcept {
    if constexpr (reduction_identity<OnPresent>::exists) {
      return bitwise_equal(empty_value_, reduction_identity<OnPresent>::template value<Value>());
    } else {
      return false;
    }
  }

  // Applies on_present to a key_then_value slot's value with one atomic add or a CAS loop.
  template <class OnPresent>
  WARP_HD void apply_to_value(slot_type* s, Value const& incoming, OnPresent const& on_present, bool wait) const noexcept {
    if constexpr (adds_natively<OnPresent, Value>::value) {
      if (wait) { (void)wait_for_value(s); }
      (void)atomic_add(s->value_ptr(), incoming);
    } else {
      Value current = wait ? wait_for_value(s) : atomic_load(s->value_ptr());
      while (!atomic_cas(s->value_ptr(), current, on_present(current, incoming))) {
      }
    }
  }

  // key_then_value slots: the inserting thread stores the value right after its key CAS. Wait for
  // it, but only for a bounded time: a stored value may legitimately equal empty_value.
  WARP_HD Value wait_for_value(slot_type* s) const noexcept {
    Value current = atomic_load(s->value_ptr());
    for (int spin = 0; spin < max_value_wait && bitwise_equal(current, empty_value_); ++spin) {
      current = atomic_load(s->value_ptr());
    }
    return current;
  }

  // `key` -> `becomes` (the empty or the erased key) in slot i, with the empty value.
  WARP_HD bool erase_slot(std::size_t i, Key const& key, Key const& becomes) const noexcept {
    slot_type* s = slots_ + i;
    if constexpr (layout::packed) {
      slot_type expected = slot_type::make(key, load_value(i));
      for (;;) {
        if (cas_slot(s, expected, slot_type::make(becomes, empty_value_))) { return true; }
        if (!bitwise_equal(expected.key(), key)) { return false; }  // another erase won
      }
    } else {
      Key expected = key;
      if (!atomic_cas(s->key_ptr(), expected, becomes)) { return false; }
      if constexpr (has_value) { atomic_store(s->value_ptr(), empty_value_); }
      return true;
    }
  }

  slot_type* slots_ = nullptr;
  std::size_t num_windows_ = 0;
  Key empty_key_{};
  Key erased_key_{};
  bool has_erased_ = false;
  Value empty_value_{};
  hasher hash_{};
  std::uint32_t* status_ = nullptr;
  std::uint8_t* filter_ = nullptr;
};

}  // namespace warp::detail
