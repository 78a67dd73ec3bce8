// warp/detail/atomic.cuh: relaxed atomic load, store and compare-and-swap on 4-, 8- and 16-byte
// trivially copyable objects, valid in host and device code.
//
// 4- and 8-byte objects go through cuda::atomic_ref on the matching unsigned integer. 16-byte
// compare-and-swap uses the sm_90 `atom.cas.b128` instruction on the device (CUDA 13.0's
// cuda::atomic_ref does not compile for 16-byte types) and cmpxchg16b on x86-64 hosts (the GCC
// __atomic builtins, through libatomic, elsewhere).
//   std::uint64_t expected = 0;
//   bool won = warp::detail::atomic_cas(&slot, expected, std::uint64_t{42});
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include <cuda/atomic>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include <warp/core/config.cuh>

// 16-byte compare-and-swap exists on the host (cmpxchg16b) and on sm_90 and newer devices.
#if WARP_DEVICE_COMPILATION && __CUDA_ARCH__ < 900
#define WARP_HAS_CAS128 0
#else
#define WARP_HAS_CAS128 1
#endif

namespace warp::detail {

/// The unsigned machine word of a size (4, 8, and, below, 16 bytes).
template <std::size_t Bytes>
struct unsigned_of_size;
template <>
struct unsigned_of_size<4> { using type = std::uint32_t; };
template <>
struct unsigned_of_size<8> { using type = unsigned long long; };

/// Bitwise copy into another trivially copyable type of the same size (std::bit_cast for C++17).
template <class To, class From>
WARP_HD WARP_FORCEINLINE To bit_cast(From const& from) noexcept {
  static_assert(sizeof(To) == sizeof(From), "bit_cast needs equal sizes");
  To to;
  std::memcpy(&to, &from, sizeof(To));
  return to;
}

/// Bitwise equality: keys are compared as bytes, so padding-free trivially copyable types,
/// floating point keys (where -0.0 != +0.0 and NaN == NaN bitwise) and structs all work.
template <class T>
WARP_HD WARP_FORCEINLINE bool bitwise_equal(T const& a, T const& b) noexcept {
  if constexpr (sizeof(T) == 4) {
    return bit_cast<std::uint32_t>(a) == bit_cast<std::uint32_t>(b);
  } else if constexpr (sizeof(T) == 8) {
    return bit_cast<std::uint64_t>(a) == bit_cast<std::uint64_t>(b);
  } else {
    static_assert(sizeof(T) % 8 == 0, "keys and values wider than 8 bytes must be multiples of 8 bytes");
    // memcpy, not pointer casts: the words may not alias T under strict aliasing.
    bool equal = true;
    for (std::size_t i = 0; i < sizeof(T); i += 8) {
      std::uint64_t wa, wb;
      std::memcpy(&wa, reinterpret_cast<unsigned char const*>(&a) + i, 8);
      std::memcpy(&wb, reinterpret_cast<unsigned char const*>(&b) + i, 8);
      equal &= wa == wb;
    }
    return equal;
  }
}

struct alignas(16) u128_words {
  std::uint64_t lo;
  std::uint64_t hi;
};
/// The machine word a 16-byte object (a packed slot) is read and swapped as.
template <>
struct unsigned_of_size<16> { using type = u128_words; };

/// Relaxed atomic load of a 4- or 8-byte object; a 16-byte object is loaded as two 8-byte halves
/// (each half atomic, the pair not): a read racing with a 16-byte CAS may tear, which callers must
/// allow for (see probing_engine::load_key and atomic_load_exact).
template <class T>
WARP_HD WARP_FORCEINLINE T atomic_load(T const* address) noexcept {
  if constexpr (sizeof(T) == 4 || sizeof(T) == 8) {
    using U = typename unsigned_of_size<sizeof(T)>::type;
    cuda::atomic_ref<U, cuda::thread_scope_device> ref{*const_cast<U*>(reinterpret_cast<U const*>(address))};
    return bit_cast<T>(ref.load(cuda::std::memory_order_relaxed));
  } else {
    static_assert(sizeof(T) == 16, "atomic_load supports 4-, 8- and 16-byte objects");
#if !WARP_DEVICE_COMPILATION && defined(__x86_64__) && defined(__SSE2__)
    // One aligned 16-byte SSE load (atomic on CPUs with AVX, and at worst torn like the two
    // halves below). Loading the halves into general registers and building the key from them
    // went through the stack, and the 16-byte reload of two 8-byte stores stalled store
    // forwarding on every slot read.
    __m128i v;
    asm volatile("movdqa %1, %0" : "=x"(v) : "m"(*reinterpret_cast<__m128i const*>(address)));
    T out;
    std::memcpy(&out, &v, 16);
    return out;
#else
    auto* words = const_cast<unsigned long long*>(reinterpret_cast<unsigned long long const*>(address));
    cuda::atomic_ref<unsigned long long, cuda::thread_scope_device> lo{words[0]};
    cuda::atomic_ref<unsigned long long, cuda::thread_scope_device> hi{words[1]};
    u128_words w{lo.load(cuda::std::memory_order_relaxed), hi.load(cuda::std::memory_order_relaxed)};
    return bit_cast<T>(w);
#endif
  }
}

/// Relaxed atomic store of a 4- or 8-byte object.
template <class T>
WARP_HD WARP_FORCEINLINE void atomic_store(T* address, T const& value) noexcept {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "atomic_store supports 4- and 8-byte objects");
  using U = typename unsigned_of_size<sizeof(T)>::type;
  cuda::atomic_ref<U, cuda::thread_scope_device> ref{*reinterpret_cast<U*>(address)};
  ref.store(bit_cast<U>(value), cuda::std::memory_order_relaxed);
}

/// Relaxed device-scope atomic add of a 4- or 8-byte arithmetic value; returns the previous value.
template <class T>
WARP_HD WARP_FORCEINLINE T atomic_add(T* address, T amount) noexcept {
  static_assert(std::is_arithmetic_v<T> && (sizeof(T) == 4 || sizeof(T) == 8), "atomic_add takes 4- or 8-byte numbers");
  if constexpr (std::is_integral_v<T> && sizeof(T) == 8) {
    // std::uint64_t is unsigned long on Linux; the device atomics are written for unsigned long long.
    using U = std::conditional_t<std::is_signed_v<T>, long long, unsigned long long>;
    cuda::atomic_ref<U, cuda::thread_scope_device> ref{*reinterpret_cast<U*>(address)};
    return static_cast<T>(ref.fetch_add(static_cast<U>(amount), cuda::std::memory_order_relaxed));
  } else {
    cuda::atomic_ref<T, cuda::thread_scope_device> ref{*address};
    return ref.fetch_add(amount, cuda::std::memory_order_relaxed);
  }
}

/// Relaxed device-scope atomic minimum of a 4- or 8-byte unsigned integer; returns the previous value.
template <class T>
WARP_HD WARP_FORCEINLINE T atomic_min(T* address, T value) noexcept {
  static_assert(std::is_unsigned_v<T> && (sizeof(T) == 4 || sizeof(T) == 8), "atomic_min takes 4- or 8-byte unsigned integers");
  using U = typename unsigned_of_size<sizeof(T)>::type;
  cuda::atomic_ref<U, cuda::thread_scope_device> ref{*reinterpret_cast<U*>(address)};
  return static_cast<T>(ref.fetch_min(static_cast<U>(value), cuda::std::memory_order_relaxed));
}

/// Relaxed device-scope atomic maximum of a 4- or 8-byte unsigned integer; returns the previous value.
template <class T>
WARP_HD WARP_FORCEINLINE T atomic_max(T* address, T value) noexcept {
  static_assert(std::is_unsigned_v<T> && (sizeof(T) == 4 || sizeof(T) == 8), "atomic_max takes 4- or 8-byte unsigned integers");
  using U = typename unsigned_of_size<sizeof(T)>::type;
  cuda::atomic_ref<U, cuda::thread_scope_device> ref{*reinterpret_cast<U*>(address)};
  return static_cast<T>(ref.fetch_max(static_cast<U>(value), cuda::std::memory_order_relaxed));
}

/// Relaxed device-scope atomic or of a 64-bit word; returns the previous value.
WARP_HD WARP_FORCEINLINE std::uint64_t atomic_or(std::uint64_t* address, std::uint64_t bits) noexcept {
  cuda::atomic_ref<unsigned long long, cuda::thread_scope_device> ref{*reinterpret_cast<unsigned long long*>(address)};
  return ref.fetch_or(bits, cuda::std::memory_order_relaxed);
}

/// Strong compare-and-swap. On failure `expected` receives the value found.
template <class T>
WARP_HD WARP_FORCEINLINE bool atomic_cas(T* address, T& expected, T const& desired) noexcept {
  if constexpr (sizeof(T) == 4 || sizeof(T) == 8) {
    using U = typename unsigned_of_size<sizeof(T)>::type;
    cuda::atomic_ref<U, cuda::thread_scope_device> ref{*reinterpret_cast<U*>(address)};
    U old = bit_cast<U>(expected);
    bool const swapped =
        ref.compare_exchange_strong(old, bit_cast<U>(desired), cuda::std::memory_order_relaxed);
    expected = bit_cast<T>(old);
    return swapped;
  } else {
    static_assert(sizeof(T) == 16, "atomic_cas supports 4-, 8- and 16-byte objects");
    u128_words const cmp = bit_cast<u128_words>(expected);
    u128_words const val = bit_cast<u128_words>(desired);
#if WARP_DEVICE_COMPILATION
#if __CUDA_ARCH__ >= 900
    u128_words old;
    asm volatile(
        "{\n\t.reg .b128 d, c, v;\n\t"
        "mov.b128 c, {%2, %3};\n\t"
        "mov.b128 v, {%4, %5};\n\t"
        "atom.relaxed.gpu.cas.b128 d, [%6], c, v;\n\t"
        "mov.b128 {%0, %1}, d;\n\t}"
        : "=l"(old.lo), "=l"(old.hi)
        : "l"(cmp.lo), "l"(cmp.hi), "l"(val.lo), "l"(val.hi), "l"(address)
        : "memory");
    expected = bit_cast<T>(old);
    return old.lo == cmp.lo && old.hi == cmp.hi;
#else
    // 16-byte atomics need sm_90 (Hopper) or newer; older devices stop here with a trap rather
    // than silently racing.
    (void)cmp;
    (void)val;
    __trap();
    return false;
#endif
#elif defined(__x86_64__)
    // cmpxchg16b inline: through libatomic it is a call and a dispatch per slot claimed or erased.
    std::uint64_t lo = cmp.lo, hi = cmp.hi;
    bool swapped;
    asm volatile("lock cmpxchg16b %1\n\tsete %0"
                 : "=q"(swapped), "+m"(*reinterpret_cast<u128_words*>(address)), "+a"(lo), "+d"(hi)
                 : "b"(val.lo), "c"(val.hi)
                 : "memory", "cc");
    expected = bit_cast<T>(u128_words{lo, hi});
    return swapped;
#else
    unsigned __int128 old = bit_cast<unsigned __int128>(cmp);
    bool const swapped = __atomic_compare_exchange_n(
        reinterpret_cast<unsigned __int128*>(address), &old, bit_cast<unsigned __int128>(val),
        false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    expected = bit_cast<T>(old);
    return swapped;
#endif
  }
}

/// The value at a 16-byte location read as one atomic access: a compare-and-swap that expects
/// `guess` and, when it matches, writes the same bytes back (so memory is unchanged either way).
/// Costs an atomic; the engine uses it only to confirm a two-halves read that may have torn.
template <class T>
WARP_HD WARP_FORCEINLINE T atomic_load_exact(T* address, T const& guess) noexcept {
  static_assert(sizeof(T) == 16, "atomic_load_exact is for 16-byte objects");
  T found = guess;
  (void)atomic_cas(address, found, guess);
  return found;
}

/// True when two 16-byte objects agree in their low or in their high 8 bytes.
template <class T>
WARP_HD WARP_FORCEINLINE bool shares_a_half(T const& a, T const& b) noexcept {
  static_assert(sizeof(T) == 16, "shares_a_half compares 16-byte objects");
  u128_words const x = bit_cast<u128_words>(a), y = bit_cast<u128_words>(b);
  return x.lo == y.lo || x.hi == y.hi;
}

}  // namespace warp::detail
