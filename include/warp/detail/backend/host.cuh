// warp/detail/backend/host.cuh: what the host backend does for each backend primitive (allocate,
// free, copy, zero, wait, run a loop over items, prefix sum). The CUDA twin is backend/cuda.cuh;
// detail/memory.cuh, detail/executor.cuh and detail/scan.cuh pick one of the two once per call.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

#include <sys/mman.h>
#include <unistd.h>

#include <warp/core/config.cuh>
#include <warp/core/error.cuh>
#include <warp/core/tile.cuh>

namespace warp::detail::host {

inline std::size_t free_bytes() {
  long const pages = sysconf(_SC_AVPHYS_PAGES);
  long const page_size = sysconf(_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page_size) : 0;
}

inline std::size_t physical_bytes() {
  long const pages = sysconf(_SC_PHYS_PAGES);
  long const page_size = sysconf(_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page_size) : 0;
}

/// Aligned host memory: 2 MiB pages (a hint) for arrays of 4 MiB and more, else 64-byte lines.
inline void* allocate(std::size_t bytes) {
  if (bytes == 0) { return nullptr; }
  // With memory overcommit on, malloc of more than the machine has succeeds and the OOM killer
  // strikes later, when the table is filled; refuse it here instead, with the numbers.
  std::size_t const physical = physical_bytes();
  if (physical != 0 && bytes > physical) { throw out_of_memory("host allocation (larger than physical memory)", bytes, free_bytes()); }
  // Large tables are probed at random: 2 MiB pages remove most TLB misses, which otherwise cost
  // as much as the cache miss itself. Small arrays only need cache-line alignment.
  constexpr std::size_t huge_page = std::size_t{2} << 20;
  std::size_t const alignment = bytes >= 2 * huge_page ? huge_page : 64;
  if (bytes > ~std::size_t{0} - alignment) { throw out_of_memory("host allocation (size overflows)", bytes, free_bytes()); }
  std::size_t const rounded = (bytes + alignment - 1) / alignment * alignment;
  void* p = std::aligned_alloc(alignment, rounded);
  if (p == nullptr) { throw out_of_memory("host allocation", bytes, free_bytes()); }
#ifdef MADV_HUGEPAGE
  if (alignment == huge_page) { (void)madvise(p, rounded, MADV_HUGEPAGE); }  // a hint; failure is harmless
#endif
  return p;
}

inline void deallocate(void* p) noexcept { std::free(p); }

inline void copy(void* dst, void const* src, std::size_t bytes) {
  if (bytes != 0) { std::memcpy(dst, src, bytes); }
}

inline void fill_zero(void* p, std::size_t bytes) {
  if (bytes != 0) { std::memset(p, 0, bytes); }
}

template <class F, class = void>
struct has_prefetch : std::false_type {};
template <class F>
struct has_prefetch<F, std::void_t<decltype(std::declval<F const&>().prefetch(std::size_t{}))>> : std::true_type {};

/// Functors with a staged form (lookups): start(i, cursor, count) settles item i or leaves it
/// waiting for memory; resume(i, cursor, count) goes on with it.
template <class F, class = void>
struct has_staged_form : std::false_type {};
template <class F>
struct has_staged_form<F, std::void_t<typename F::cursor_type,
                                      decltype(std::declval<F const&>().start(std::size_t{}, std::declval<typename F::cursor_type&>(),
                                                                              std::declval<std::uint32_t&>()))>>
    : std::true_type {};

#ifndef WARP_PREFETCH_DISTANCE
#define WARP_PREFETCH_DISTANCE 32
#endif

/// Staged functors of tables with a miss filter (lookup_items over a with_miss_filter engine).
template <class F, class = void>
struct filtered_lookups : std::false_type {};
template <class F>
struct filtered_lookups<F, std::void_t<decltype(F::filtered)>> : std::bool_constant<F::filtered> {};

/// Items [first, last) of a staged functor on one thread. Item i + distance is prefetched before
/// item i starts; an item whose walk reaches a line not yet requested waits in a ring of
/// `parked` items (its next line on the way) and is resumed when the ring is full, i.e. after
/// about `parked` more items, instead of stalling the thread on a cache miss.
///
/// With a miss filter the items run in blocks of 256, each in one of two modes, chosen at the
/// block's start from the hit rate of the items settled since the last choice:
///   slots first (a hit rate of 2/3 or more, and the first block): as above, the filter unread;
///   filter first: an item's filter byte is requested 2 x distance ahead and read distance ahead
///     (its slots are requested only when its bit is set) and again when the item starts, where a
///     clear bit settles it as absent without a slot read.
/// Measured on the development VM (2^22 u64 keys, load 0.5, one thread): filter first would cost a
/// hit about 1.3-1.4x (the filter's line, which the slots streaming through the cache evict) and
/// saves a miss about 2x; 2/3 is near where the two cost the same. Each mode has its own loop, so
/// that hits in slots-first blocks run the plain loop.
template <class F>
unsigned long long run_staged(std::int64_t first, std::int64_t last, F const& f) {
  constexpr std::int64_t distance = WARP_PREFETCH_DISTANCE;
  constexpr int parked = 16;
  struct waiting {
    std::size_t item;
    typename F::cursor_type cursor;
  };
  waiting ring[parked]{};  // initialised: only the first `size` entries from `head` are read, but compilers cannot tell
  int head = 0;
  int size = 0;
  unsigned long long total = 0;  // the settled items' counts (hits)
  std::int64_t settled = 0;      // items settled
  std::uint32_t count = 0;
  // Resumes the oldest waiting item; one still unsettled goes to the back of the ring.
  auto resume_oldest = [&]() __attribute__((always_inline)) {
    waiting w = ring[head];
    head = (head + 1) % parked;
    --size;
    if (f.resume(w.item, w.cursor, count)) {
      total += count;
      ++settled;
    } else {
      ring[(head + size) % parked] = w;
      ++size;
    }
  };
  // Starts item i (its first window's lines requested, or about to arrive); parks it when its walk
  // goes on beyond them.
  auto start = [&](std::int64_t i) __attribute__((always_inline)) {
    waiting w{static_cast<std::size_t>(i), {}};
    if (f.start(w.item, w.cursor, count)) {
      total += count;
      ++settled;
      return;
    }
    while (size == parked) { resume_oldest(); }  // ends: every resume scans one more window
    ring[(head + size) % parked] = w;
    ++size;
  };

  bool filtering = false;
  if constexpr (filtered_lookups<F>::value) { filtering = f.filtering(); }
  if (!filtering) {
    for (std::int64_t i = first; i < last; ++i) {
      if (i + distance < last) { f.prefetch(static_cast<std::size_t>(i + distance)); }
      start(i);
    }
  } else if constexpr (filtered_lookups<F>::value) {
    constexpr std::int64_t block = 256;
    constexpr std::int64_t ahead = 2 * distance;  // where filter lines are requested
    static_assert(ahead <= block, "a block prepares the items of the next one only");
    static_assert((ahead & (ahead - 1)) == 0, "the ring of filter positions is indexed by masking");
    // Filter positions of the items between i and i + ahead, computed once each (2 x ahead
    // entries: item i + ahead is written before item i is read in the same step).
    typename F::filter_position spots[2 * ahead];
    auto spot = [&](std::int64_t j) -> typename F::filter_position& { return spots[j & (2 * ahead - 1)]; };
    // One step of each mode: prepare the items ahead, then settle or start item i (`check`: by
    // its filter bit first).
    auto item = [&](std::int64_t i, bool check) __attribute__((always_inline)) {
      if (check && !f.may_contain(spot(i))) {
        f.settle_absent(static_cast<std::size_t>(i));
        ++settled;
      } else {
        start(i);
      }
    };
    auto filter_step = [&](std::int64_t i, bool check) __attribute__((always_inline)) {
      if (i + ahead < last) {
        spot(i + ahead) = f.filter_spot(static_cast<std::size_t>(i + ahead));
        f.prefetch_filter(spot(i + ahead));
      }
      if (i + distance < last && f.may_contain(spot(i + distance))) { f.prefetch(static_cast<std::size_t>(i + distance)); }
      item(i, check);
    };
    auto slot_step = [&](std::int64_t i, bool check) __attribute__((always_inline)) {
      if (i + distance < last) { f.prefetch(static_cast<std::size_t>(i + distance)); }
      item(i, check);
    };
    // Each block runs in the mode its predecessors' hit rate chose. Items [lo, lo + distance)
    // of a block were prepared by the block before: their slots requested (slots first), or their
    // filter position known and their slots requested only where their bit is set (filter first).
    bool previous = false;  // the previous block ran filter first
    unsigned long long hits_at_choice = 0;
    std::int64_t settled_at_choice = 0;
    for (std::int64_t lo = first; lo < last; lo += block) {
      std::int64_t const hi = std::min(last, lo + block);
      std::int64_t const seen = settled - settled_at_choice;
      unsigned long long const hits = total - hits_at_choice;
      bool const filter_first = seen == 0 ? previous : 3 * hits < 2 * static_cast<unsigned long long>(seen);
      hits_at_choice = total;
      settled_at_choice = settled;
      std::int64_t const prepared = std::min(hi, lo + distance);
      if (filter_first) {
        if (!previous) {
          for (std::int64_t j = lo + distance; j < std::min(last, lo + ahead); ++j) {
            spot(j) = f.filter_spot(static_cast<std::size_t>(j));
            f.prefetch_filter(spot(j));
          }
        }
        std::int64_t i = lo;
        for (; i < prepared; ++i) { filter_step(i, previous); }
        for (; i < hi; ++i) { filter_step(i, true); }
      } else {
        std::int64_t i = lo;
        for (; i < prepared; ++i) { slot_step(i, previous); }
        for (; i < hi; ++i) { slot_step(i, false); }
      }
      previous = filter_first;
    }
  }
  while (size > 0) { resume_oldest(); }
  return total;
}

/// Below this many items a loop runs on the calling thread: waking a thread team costs more than
/// the work (a bulk call with one key spent over 90 % of its time in OpenMP's barrier when the
/// KV-cache pool made one call per block).
#ifndef WARP_HOST_MIN_PARALLEL_ITEMS
#define WARP_HOST_MIN_PARALLEL_ITEMS 2048
#endif

/// A functor whose items are large (a whole request, not one key) says from how many items on a
/// thread team pays, as `static constexpr std::int64_t host_min_parallel_items`.
template <class F, class = void>
struct min_parallel_items {
  static constexpr std::int64_t value = WARP_HOST_MIN_PARALLEL_ITEMS;
};
template <class F>
struct min_parallel_items<F, std::void_t<decltype(F::host_min_parallel_items)>> {
  static constexpr std::int64_t value = F::host_min_parallel_items;
};

/// Calls f(one_lane_tile, i) for i in [0, n) on OpenMP threads and returns the summed results.
/// The callback may run concurrently from several threads.
template <class F>
unsigned long long for_each_item(std::size_t n, F const& f) {
  one_lane_tile const tile{};
  unsigned long long total = 0;
  auto const count = static_cast<std::int64_t>(n);
  if (count < min_parallel_items<F>::value) {
    // Not even an OpenMP region: entering one with if(false) still costs a futex system call in
    // libgomp, which was most of a bulk call of a few keys.
    if constexpr (has_staged_form<F>::value) {
      return count == 0 ? 0 : run_staged(0, count, f);
    } else if constexpr (has_prefetch<F>::value) {
      constexpr std::int64_t distance = WARP_PREFETCH_DISTANCE;
      for (std::int64_t i = 0; i < count; ++i) {
        if (i + distance < count) { f.prefetch(static_cast<std::size_t>(i + distance)); }
        total += f(tile, static_cast<std::size_t>(i));
      }
    } else {
      for (std::int64_t i = 0; i < count; ++i) { total += f(tile, static_cast<std::size_t>(i)); }
    }
    return total;
  }
  if constexpr (has_staged_form<F>::value) {
    // Chunks of consecutive items, each run through the staged pipeline on one thread.
    constexpr std::int64_t chunk = 4096;
    std::int64_t const chunks = (count + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (std::int64_t c = 0; c < chunks; ++c) {
      total += run_staged(c * chunk, std::min(count, (c + 1) * chunk), f);
    }
  } else if constexpr (has_prefetch<F>::value) {
    // Issue the memory access of item i + distance before working on item i: the CPU then has
    // `distance` independent cache misses in flight instead of the few its load queue allows
    // (measured on the development VM: 2-2.5x on find and insert of a 4M-key table).
    // WARP_PREFETCH_DISTANCE overrides the distance.
    constexpr std::int64_t distance = WARP_PREFETCH_DISTANCE;
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (std::int64_t i = 0; i < count; ++i) {
      if (i + distance < count) { f.prefetch(static_cast<std::size_t>(i + distance)); }
      total += f(tile, static_cast<std::size_t>(i));
    }
  } else if constexpr (min_parallel_items<F>::value < WARP_HOST_MIN_PARALLEL_ITEMS) {
    // Large items of uneven size (requests of any length): handed out one by one.
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : total)
    for (std::int64_t i = 0; i < count; ++i) { total += f(tile, static_cast<std::size_t>(i)); }
  } else {
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (std::int64_t i = 0; i < count; ++i) { total += f(tile, static_cast<std::size_t>(i)); }
  }
  return total;
}

/// out[i] = in[0] + ... + in[i - 1] for i in [0, n] (in[n] is ignored).
inline void exclusive_scan(std::uint64_t const* in, std::uint64_t* out, std::size_t n) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i <= n; ++i) {
    std::uint64_t const c = i < n ? in[i] : 0;
    out[i] = sum;
    sum += c;
  }
}

}  // namespace warp::detail::host
