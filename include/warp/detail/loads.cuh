// warp/detail/loads.cuh: the memory reads the probing engine and the Bloom filter share.
//
// - `reads`: how a lookup reads the table. `concurrent`: relaxed GPU-scope loads, right while other
//   threads write (device refs, inserts). `read_only`: nothing writes during the kernel (a bulk
//   lookup, stream-ordered after the writes), so loads may take the read-only data path
//   (ld.global.nc), which the random-gather roofline uses too.
// - load_pieces16: 16-byte vector loads of consecutive 16-byte pieces (one lane's share of a
//   window or of a Bloom block).
// - load_word: one 4- or 8-byte word with the chosen read mode.
// - prefetch_lines: a host hint that the cache lines of [p, p + bytes) will be read soon (the bulk
//   loops issue it a few items ahead); nothing on the device.
#pragma once

#include <cstddef>
#include <cstdint>

#include <warp/core/config.cuh>
#include <warp/detail/atomic.cuh>

namespace warp::detail {

enum class reads { concurrent, read_only };

template <reads Reads>
WARP_HD WARP_FORCEINLINE void load_pieces16(void const* p, u128_words* out, int count) noexcept {
  auto const* at = static_cast<u128_words const*>(p);
  for (int i = 0; i < count; ++i) {
#if WARP_DEVICE_COMPILATION
    if constexpr (Reads == reads::read_only) {
      asm("ld.global.nc.v2.u64 {%0, %1}, [%2];" : "=l"(out[i].lo), "=l"(out[i].hi) : "l"(at + i));
    } else {
      asm volatile("ld.relaxed.gpu.v2.u64 {%0, %1}, [%2];" : "=l"(out[i].lo), "=l"(out[i].hi) : "l"(at + i) : "memory");
    }
#else
    // Each 8-byte half is single-copy atomic on x86-64.
    out[i].lo = atomic_load(&at[i].lo);
    out[i].hi = atomic_load(&at[i].hi);
#endif
  }
}

template <reads Reads, class Word>
WARP_HD WARP_FORCEINLINE Word load_word(Word const* p) noexcept {
  static_assert(sizeof(Word) == 4 || sizeof(Word) == 8, "words are 4 or 8 bytes");
#if WARP_DEVICE_COMPILATION
  if constexpr (Reads == reads::read_only && sizeof(Word) == 4) {
    std::uint32_t w;
    asm("ld.global.nc.u32 %0, [%1];" : "=r"(w) : "l"(p));
    return bit_cast<Word>(w);
  } else if constexpr (Reads == reads::read_only) {
    unsigned long long w;
    asm("ld.global.nc.u64 %0, [%1];" : "=l"(w) : "l"(p));
    return bit_cast<Word>(w);
  }
#endif
  return atomic_load(p);
}

WARP_HD WARP_FORCEINLINE void prefetch_lines(void const* p, std::size_t bytes) noexcept {
#if !WARP_DEVICE_COMPILATION
  // From the line holding p to the one holding its last byte: a range that starts inside a line
  // and crosses into the next needs both.
  auto const first = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{63};
  auto const end = reinterpret_cast<std::uintptr_t>(p) + bytes;
  for (std::uintptr_t line = first; line < end; line += 64) {
    void const* const address = reinterpret_cast<void const*>(line);
#if defined(__x86_64__)
    // Inline asm, not __builtin_prefetch: GCC 12's mod/ref analysis deems a function whose only
    // effect is a prefetch side-effect free and deletes the call.
    asm volatile("prefetcht0 (%0)" : : "r"(address));
#else
    __builtin_prefetch(address);
#endif
  }
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace warp::detail
