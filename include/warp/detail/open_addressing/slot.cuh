// warp/detail/open_addressing/slot.cuh: how a (key, value) pair is laid out in a slot, and which
// compare-and-swap strategy updates it.
//
// - packed: the whole slot is 8 or 16 bytes and is replaced by one 64- or 128-bit CAS, so a key and
//   its value become visible together and a reader never sees a key without its value.
// - key_then_value: wider slots (a 16-byte key with a value), and 16-byte pairs on devices without
//   16-byte CAS (before sm_90), CAS the key, then store the value.
//   Until the store lands the slot's value reads as the table's empty_value, which `find` reports
//   as absent; updates of such a key wait for the store.
// Slots are zero-padded so that a slot built in registers compares bitwise equal to one in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <warp/detail/atomic.cuh>
#include <warp/detail/loads.cuh>
#include <warp/core/config.cuh>

namespace warp::detail {

constexpr std::size_t round_up(std::size_t n, std::size_t m) { return (n + m - 1) / m * m; }

/// The value type of key-only tables (hash_set): a slot then holds just the key (4, 8 or 16 bytes).
struct no_value {
  WARP_HD constexpr bool operator==(no_value) const noexcept { return true; }
};

template <class Key, class Value>
struct slot_layout {
  static_assert(std::is_trivially_copyable_v<Key>, "keys must be trivially copyable");
  static_assert(std::is_trivially_copyable_v<Value>, "values must be trivially copyable");
  static_assert(sizeof(Key) == 4 || sizeof(Key) == 8 || sizeof(Key) == 16, "keys must be 4, 8 or 16 bytes");
  static_assert(sizeof(Value) == 4 || sizeof(Value) == 8, "values must be 4 or 8 bytes");

  static constexpr std::size_t value_offset = round_up(sizeof(Key), sizeof(Value));
  static constexpr std::size_t used_bytes = value_offset + sizeof(Value);
  // Without 16-byte CAS (devices before sm_90) a 16-byte pair falls back to key_then_value; the
  // layout (size, offsets) is the same either way, only the update strategy differs.
  static constexpr bool packed = used_bytes <= (WARP_HAS_CAS128 ? 16 : 8);
  static constexpr std::size_t size = used_bytes <= 8 ? 8 : round_up(used_bytes, 16);
  static constexpr std::size_t alignment = size <= 16 ? size : 16;
};

template <class Key>
struct slot_layout<Key, no_value> {
  static_assert(std::is_trivially_copyable_v<Key>, "keys must be trivially copyable");
  static_assert(sizeof(Key) == 4 || sizeof(Key) == 8 || sizeof(Key) == 16, "keys must be 4, 8 or 16 bytes");
  static constexpr std::size_t value_offset = sizeof(Key);
  static constexpr std::size_t used_bytes = sizeof(Key);
  static constexpr bool packed = used_bytes <= (WARP_HAS_CAS128 ? 16 : 8);
  static constexpr std::size_t size = sizeof(Key);
  static constexpr std::size_t alignment = size;
};

template <class Key, class Value>
struct alignas(slot_layout<Key, Value>::alignment) slot {
  using layout = slot_layout<Key, Value>;
  unsigned char bytes[layout::size];

  WARP_HD WARP_FORCEINLINE static slot make(Key const& k, Value const& v) noexcept {
    slot s;
    for (std::size_t i = 0; i < layout::size; ++i) { s.bytes[i] = 0; }
    std::memcpy(s.bytes, &k, sizeof(Key));
    std::memcpy(s.bytes + layout::value_offset, &v, sizeof(Value));
    return s;
  }
  WARP_HD WARP_FORCEINLINE Key* key_ptr() noexcept { return reinterpret_cast<Key*>(bytes); }
  WARP_HD WARP_FORCEINLINE Value* value_ptr() noexcept { return reinterpret_cast<Value*>(bytes + layout::value_offset); }
  WARP_HD WARP_FORCEINLINE Key key() const noexcept { Key k; std::memcpy(&k, bytes, sizeof(Key)); return k; }
  WARP_HD WARP_FORCEINLINE Value value() const noexcept {
    Value v;
    std::memcpy(&v, bytes + layout::value_offset, sizeof(Value));
    return v;
  }
};

/// A key-only slot: the key is the whole slot.
template <class Key>
struct alignas(slot_layout<Key, no_value>::alignment) slot<Key, no_value> {
  using layout = slot_layout<Key, no_value>;
  unsigned char bytes[layout::size];

  WARP_HD WARP_FORCEINLINE static slot make(Key const& k, no_value) noexcept {
    slot s;
    std::memcpy(s.bytes, &k, sizeof(Key));
    return s;
  }
  WARP_HD WARP_FORCEINLINE Key* key_ptr() noexcept { return reinterpret_cast<Key*>(bytes); }
  WARP_HD WARP_FORCEINLINE Key key() const noexcept { Key k; std::memcpy(&k, bytes, sizeof(Key)); return k; }
  WARP_HD WARP_FORCEINLINE no_value value() const noexcept { return {}; }
};


/// Relaxed load of a whole packed slot in one memory instruction (key and value together, so a
/// lookup needs one trip to memory). Each 8-byte half is single-copy atomic; a packed slot's key
/// never changes while its value is updated, so the pair read is always a pair that was stored.
template <class Key, class Value>
WARP_HD WARP_FORCEINLINE slot<Key, Value> load_slot(slot<Key, Value> const* address) noexcept {
  static_assert(slot_layout<Key, Value>::packed, "load_slot reads packed slots");
  if constexpr (slot_layout<Key, Value>::size == 4) {
    return bit_cast<slot<Key, Value>>(atomic_load(reinterpret_cast<std::uint32_t const*>(address)));
  } else if constexpr (slot_layout<Key, Value>::size == 8) {
    return bit_cast<slot<Key, Value>>(atomic_load(reinterpret_cast<unsigned long long const*>(address)));
  } else {
#if WARP_DEVICE_COMPILATION
    u128_words w;
    asm volatile("ld.relaxed.gpu.v2.u64 {%0, %1}, [%2];" : "=l"(w.lo), "=l"(w.hi) : "l"(address) : "memory");
    return bit_cast<slot<Key, Value>>(w);
#else
    return bit_cast<slot<Key, Value>>(atomic_load(reinterpret_cast<u128_words const*>(address)));
#endif
  }
}

/// How a probe reads slots (see detail/loads.cuh).
using slot_reads = reads;

/// Reads N consecutive packed slots (one lane's run of a window) with as few memory instructions
/// as possible: 16-byte vector loads on the device when the run allows, one memcpy on the host
/// (the compiler barrier keeps the copy a snapshot instead of letting later uses re-read memory).
template <slot_reads Reads = slot_reads::concurrent, std::size_t N, class Key, class Value>
WARP_HD WARP_FORCEINLINE void load_slots(slot<Key, Value> const* address, slot<Key, Value> (&out)[N]) noexcept {
  static_assert(slot_layout<Key, Value>::packed, "load_slots reads packed slots");
  constexpr std::size_t bytes = N * sizeof(slot<Key, Value>);
#if WARP_DEVICE_COMPILATION
  if constexpr (bytes % 16 == 0) {
    // The run starts at a multiple of its own size inside a 256-byte aligned allocation.
    u128_words words[bytes / 16];
    load_pieces16<Reads>(address, words, static_cast<int>(bytes / 16));
    std::memcpy(out, words, bytes);
  } else if constexpr (Reads == slot_reads::read_only && (sizeof(slot<Key, Value>) == 4 || sizeof(slot<Key, Value>) == 8)) {
    using word = typename unsigned_of_size<sizeof(slot<Key, Value>)>::type;
    for (std::size_t j = 0; j < N; ++j) { out[j] = bit_cast<slot<Key, Value>>(load_word<Reads>(reinterpret_cast<word const*>(address + j))); }
  } else {
    for (std::size_t j = 0; j < N; ++j) { out[j] = load_slot(address + j); }
  }
#else
  std::memcpy(out, address, bytes);
  asm volatile("" ::: "memory");
#endif
}

/// Strong CAS of a whole packed slot; on failure `expected` receives what was there.
template <class Key, class Value>
WARP_HD WARP_FORCEINLINE bool cas_slot(slot<Key, Value>* address, slot<Key, Value>& expected,
                                       slot<Key, Value> const& desired) noexcept {
  using word = typename unsigned_of_size<slot_layout<Key, Value>::size>::type;
  word e = bit_cast<word>(expected);
  bool const ok = atomic_cas(reinterpret_cast<word*>(address), e, bit_cast<word>(desired));
  expected = bit_cast<slot<Key, Value>>(e);
  return ok;
}

}  // namespace warp::detail
