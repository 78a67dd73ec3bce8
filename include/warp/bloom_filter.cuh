// warp/bloom_filter.cuh: an owning blocked Bloom filter, on the GPU or the host.
//
// Each key sets `hashes` bits inside one block of BlockBytes (32, 64 or 128 bytes), so add and
// contains touch one block; on the CUDA backend a cooperative tile of BlockBytes / 16 lanes handles
// a key, one 16-byte piece of the block per lane. No false negatives; the false-positive rate is
// predicted by predicted_false_positive_rate() (see bloom/block_pattern.cuh for the model).
//
//   warp::bloom_filter<std::uint64_t> filter{warp::bloom_sizing{n, 0.01}};   // 1 % at n keys
//   filter.add(keys, keys + n);
//   filter.contains(queries, queries + m, flags);
//   filter.save("kmers.bloom");  auto again = warp::bloom_filter<std::uint64_t>::load("kmers.bloom");
#pragma once

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include <unistd.h>

#include <cuda/stream_ref>

#include <warp/detail/bloom_filter/block_pattern.cuh>
#include <warp/detail/bloom_filter/bulk_ops.cuh>
#include <warp/detail/bloom_filter/file_format.cuh>
#include <warp/bloom_filter_ref.cuh>
#include <warp/core/backend.cuh>
#include <warp/core/error.cuh>
#include <warp/detail/executor.cuh>
#include <warp/detail/memory.cuh>
#include <warp/hash/hash.cuh>
#include <warp/detail/bulk/driver.cuh>
#include <warp/detail/open_addressing/bulk_ops.cuh>
#include <warp/detail/files.cuh>
#include <warp/core/memory_resource.cuh>

namespace warp {

/// Size a Bloom filter for `expected_keys` at a target false-positive rate in (0, 1).
struct bloom_sizing {
  std::size_t expected_keys;
  double false_positive_rate;
};


template <class Key, int BlockBytes = 64, class Hash = hash::default_hash<Key>>
class bloom_filter {
 public:
  using key_type = Key;
  using hasher = Hash;
  using ref_type = bloom_filter_ref<Key, BlockBytes, Hash>;
  using mutable_ref_type = bloom_filter_mutable_ref<Key, BlockBytes, Hash>;
  using pattern = typename ref_type::pattern;
  static constexpr int block_bytes = BlockBytes;
  static constexpr int tile_size = ref_type::tile_size;

  /// A filter of at least `num_bits` bits (rounded up to whole blocks) setting `hashes` bits per key.
  /// `memory`: where the bits come from (null: the backend's default; see core/memory_resource.cuh).
  bloom_filter(std::size_t num_bits, int hashes, backend where = default_backend(),
               cuda::stream_ref stream = default_stream(), Hash h = {}, memory_resource* memory = nullptr)
      : backend_{where}, memory_{memory} {
    require_backend(where);
    device_ = warp::detail::device_of(where);
    auto const scope = activate();
    if (num_bits == 0) { throw invalid_argument("bloom_filter: the number of bits must be positive, got 0"); }
    if (hashes < 1 || hashes > pattern::max_hashes) {
      throw invalid_argument("bloom_filter: hashes per key must be in [1, " + std::to_string(pattern::max_hashes) +
                             "], got " + std::to_string(hashes));
    }
    // Rounded up without overflow: num_bits may be anything up to SIZE_MAX.
    std::size_t const blocks = num_bits / pattern::block_bits + (num_bits % pattern::block_bits != 0 ? 1 : 0);
    if (blocks > bloom::detail::max_filter_bytes / BlockBytes) {
      throw invalid_argument("bloom_filter: " + std::to_string(num_bits) + " bits need " + std::to_string(blocks) +
                             " blocks of " + std::to_string(BlockBytes) + " bytes, more than the supported " +
                             std::to_string(bloom::detail::max_filter_bytes) + " bytes");
    }
    allocate(blocks, hashes, h, stream, memory);
    clear(stream);
  }

  /// A filter sized for `s.expected_keys` at false-positive rate `s.false_positive_rate`: the
  /// fewest bits (and the best hash count for them) whose predicted rate meets the target.
  explicit bloom_filter(bloom_sizing s, backend where = default_backend(), cuda::stream_ref stream = default_stream(),
                        Hash h = {}, memory_resource* memory = nullptr)
      : bloom_filter(plan(s), where, stream, h, memory) {}

  bloom_filter(bloom_filter&&) noexcept = default;
  bloom_filter& operator=(bloom_filter&&) noexcept = default;
  bloom_filter(bloom_filter const&) = delete;
  bloom_filter& operator=(bloom_filter const&) = delete;

  /// Adds the keys. Returns how many were possibly present already (all their bits were set).
  template <class KeyIt>
  std::size_t add(KeyIt first, KeyIt last, cuda::stream_ref stream = default_stream()) {
    return insert(first, last, nullptr, warp::detail::completion::wait, stream);
  }
  /// `possibly_present` (optional, host or device memory): receives add()'s count, stream-ordered.
  template <class KeyIt>
  void add_async(KeyIt first, KeyIt last, cuda::stream_ref stream = default_stream(),
                 std::uint64_t* possibly_present = nullptr) {
    insert(first, last, nullptr, warp::detail::completion::enqueue, stream, possibly_present);
  }
  /// Adds the keys; was_present[i] tells whether key i was possibly present before its add (within
  /// one call, a key repeated in the input may or may not see its own earlier copy).
  template <class KeyIt>
  std::size_t add_and_test(KeyIt first, KeyIt last, bool* was_present, cuda::stream_ref stream = default_stream()) {
    if (was_present == nullptr) { throw invalid_argument("add_and_test: was_present is a null pointer"); }
    return insert(first, last, was_present, warp::detail::completion::wait, stream);
  }

  /// out[i] = whether key i is possibly in the filter (never false for an added key). Returns the
  /// number of positives.
  template <class KeyIt>
  std::size_t contains(KeyIt first, KeyIt last, bool* out, cuda::stream_ref stream = default_stream()) const {
    return query(first, last, out, warp::detail::completion::wait, stream);
  }
  /// `positives` (optional, host or device memory): receives the number of positives, stream-ordered.
  template <class KeyIt>
  void contains_async(KeyIt first, KeyIt last, bool* out, cuda::stream_ref stream = default_stream(),
                      std::uint64_t* positives = nullptr) const {
    query(first, last, out, warp::detail::completion::enqueue, stream, positives);
  }

  void clear(cuda::stream_ref stream = default_stream()) {
    clear_async(stream);
    warp::detail::synchronize(backend_, stream);
  }
  void clear_async(cuda::stream_ref stream = default_stream()) {
    auto const scope = activate();
    warp::detail::fill_zero(backend_, words_.data(), num_words() * sizeof(std::uint64_t), stream);
  }

  /// this |= other (then this contains everything either contained).
  void merge_union(bloom_filter const& other, cuda::stream_ref stream = default_stream()) { merge(other, false, stream); }
  /// this &= other (no false negatives for keys added to both).
  void merge_intersection(bloom_filter const& other, cuda::stream_ref stream = default_stream()) { merge(other, true, stream); }

  /// Whether `other` has the same geometry, hash count and hash function (seed), so that merging
  /// and comparing bits is meaningful.
  [[nodiscard]] bool compatible(bloom_filter const& other) const noexcept {
    return num_blocks_ == other.num_blocks_ && hashes_ == other.hashes_ &&
           bloom::detail::seed_of<Hash>::get(hash_) == bloom::detail::seed_of<Hash>::get(other.hash_);
  }

  // ---- raw bits ---------------------------------------------------------------------------------

  /// The filter's 64-bit words, in the backend's memory (device memory on CUDA).
  [[nodiscard]] std::uint64_t* words() noexcept { return words_.data(); }
  [[nodiscard]] std::uint64_t const* words() const noexcept { return words_.data(); }
  [[nodiscard]] std::size_t num_words() const noexcept { return num_blocks_ * pattern::words; }
  /// A host copy of the words.
  [[nodiscard]] std::vector<std::uint64_t> copy_words(cuda::stream_ref stream = default_stream()) const {
    auto const scope = activate();
    std::vector<std::uint64_t> out(num_words());
    warp::detail::copy_bytes(backend_, out.data(), words_.data(), out.size() * sizeof(std::uint64_t), stream);
    warp::detail::synchronize(backend_, stream);
    return out;
  }
  /// Replaces the words with `bits` (num_words() entries, host memory).
  void assign_words(std::vector<std::uint64_t> const& bits, cuda::stream_ref stream = default_stream()) {
    auto const scope = activate();
    if (bits.size() != num_words()) {
      throw invalid_argument("assign_words: got " + std::to_string(bits.size()) + " words, the filter has " +
                             std::to_string(num_words()));
    }
    warp::detail::copy_bytes(backend_, words_.data(), bits.data(), bits.size() * sizeof(std::uint64_t), stream);
    warp::detail::synchronize(backend_, stream);
  }
  /// Number of set bits.
  [[nodiscard]] std::size_t popcount(cuda::stream_ref stream = default_stream()) const {
    auto const scope = activate();
    return static_cast<std::size_t>(warp::detail::count_items<1>(exec(stream), num_words(),
                                                                 bloom::detail::popcount_fn{words_.data()}));
  }

  // ---- files ------------------------------------------------------------------------------------

  /// Writes the filter to `path` (header + words) atomically: under a unique temporary name in
  /// the same directory, flushed to disk, then renamed into place, so a failure (or a concurrent
  /// save to the same path) never leaves a half-written filter at `path`.
  void save(std::string const& path, cuda::stream_ref stream = default_stream()) const {
    std::vector<std::uint64_t> const bits = copy_words(stream);
    bloom::detail::file_header header{};
    std::memcpy(header.magic, bloom::detail::file_magic, sizeof(header.magic));
    header.version = bloom::detail::file_version;
    header.block_bytes = BlockBytes;
    header.hashes = static_cast<std::uint32_t>(hashes_);
    header.key_bytes = sizeof(Key);
    header.hash_seed = bloom::detail::seed_of<Hash>::get(hash_);
    header.num_blocks = num_blocks_;
    header.payload_bytes = bits.size() * sizeof(std::uint64_t);
    header.payload_checksum = hash::xxh3_64(bits.data(), header.payload_bytes, 0);
    header.header_checksum = bloom::detail::header_checksum(header);
    warp::detail::write_file_atomically(path, "bloom_filter::save",
                                        {{&header, sizeof(header)}, {bits.data(), static_cast<std::size_t>(header.payload_bytes)}});
  }

  /// Reads a filter written by save(). Everything is validated before anything large is
  /// allocated: a missing file, a directory, a file that is not a warp Bloom filter, of another
  /// version, block size or key size, whose header was altered, whose sizes disagree with the
  /// file's size, or whose bits are corrupt is a warp::error naming the file.
  static bloom_filter load(std::string const& path, backend where = default_backend(),
                           cuda::stream_ref stream = default_stream(), memory_resource* memory = nullptr) {
    std::string const who = "bloom_filter::load";
    std::uint64_t const file_bytes = warp::detail::regular_file_size(path, who);
    auto fail = [&](std::string const& why) { return invalid_argument(who + ": " + path + ": " + why); };
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) { throw error(who + ": cannot open " + path + ": " + std::strerror(errno)); }
    struct closer {
      std::FILE* f;
      ~closer() { std::fclose(f); }
    } const guard{f};
    bloom::detail::file_header header{};
    std::size_t const got = std::fread(&header, 1, sizeof(header), f);
    if (got < sizeof(bloom::detail::file_magic) || std::memcmp(header.magic, bloom::detail::file_magic, sizeof(header.magic)) != 0) {
      throw fail("not a warp Bloom filter file (bad magic)");
    }
    if (got != sizeof(header)) { throw fail("truncated header (" + std::to_string(got) + " of 64 bytes)"); }
    if (header.version != bloom::detail::file_version) {
      throw fail("unsupported format version " + std::to_string(header.version) + " (this build reads version " +
                 std::to_string(bloom::detail::file_version) + ")");
    }
    if (bloom::detail::header_checksum(header) != header.header_checksum) {
      throw fail("header checksum mismatch: a header field was altered or is corrupt");
    }
    if (header.block_bytes != static_cast<std::uint32_t>(BlockBytes)) {
      throw fail("the file has " + std::to_string(header.block_bytes) + "-byte blocks, this filter type uses " +
                 std::to_string(BlockBytes));
    }
    if (header.key_bytes != sizeof(Key)) {
      throw fail("the file holds " + std::to_string(header.key_bytes) + "-byte keys, this filter type uses " +
                 std::to_string(sizeof(Key)));
    }
    if (header.hashes < 1 || header.hashes > static_cast<std::uint32_t>(pattern::max_hashes) || header.num_blocks == 0 ||
        header.num_blocks > bloom::detail::max_filter_bytes / BlockBytes ||
        header.payload_bytes != header.num_blocks * static_cast<std::uint64_t>(BlockBytes)) {
      throw fail("inconsistent header (hashes " + std::to_string(header.hashes) + ", blocks " +
                 std::to_string(header.num_blocks) + ", payload " + std::to_string(header.payload_bytes) + " bytes)");
    }
    if (file_bytes != sizeof(header) + header.payload_bytes) {
      throw fail("the header promises " + std::to_string(header.payload_bytes) + " bytes of bits but the file holds " +
                 std::to_string(file_bytes - sizeof(header)) + (file_bytes < sizeof(header) + header.payload_bytes
                                                                    ? " (truncated)"
                                                                    : " (trailing bytes)"));
    }
    std::vector<std::uint64_t> bits(header.payload_bytes / sizeof(std::uint64_t));
    std::size_t const read = std::fread(bits.data(), 1, header.payload_bytes, f);
    if (read != header.payload_bytes) {
      throw fail("truncated: expected " + std::to_string(header.payload_bytes) + " bytes of bits, found " + std::to_string(read));
    }
    if (hash::xxh3_64(bits.data(), header.payload_bytes, 0) != header.payload_checksum) {
      throw fail("checksum mismatch: the bits are corrupt");
    }
    Hash h{};
    assign_seed(h, header.hash_seed, 0);  // hashers with a `seed` member get the saved one
    bloom_filter filter{header.num_blocks * static_cast<std::size_t>(pattern::block_bits), static_cast<int>(header.hashes),
                        where, stream, h, memory};
    filter.assign_words(bits, stream);
    return filter;
  }

  // ---- properties -------------------------------------------------------------------------------

  [[nodiscard]] std::size_t num_bits() const noexcept { return num_blocks_ * pattern::block_bits; }
  [[nodiscard]] std::size_t num_blocks() const noexcept { return num_blocks_; }
  [[nodiscard]] int hashes() const noexcept { return hashes_; }
  [[nodiscard]] backend where() const noexcept { return backend_; }
  /// The CUDA device the filter lives on (-1 on the host backend).
  [[nodiscard]] int device() const noexcept { return device_; }
  [[nodiscard]] std::size_t memory_bytes() const noexcept { return num_words() * sizeof(std::uint64_t); }
  /// The false-positive rate this filter is predicted to have once `keys` distinct keys are in it.
  [[nodiscard]] double predicted_false_positive_rate(std::size_t keys) const {
    return bloom::predicted_false_positive_rate(num_blocks_, pattern::block_bits, hashes_, keys);
  }

  /// Lookup view (contains) for user kernels or host threads.
  [[nodiscard]] ref_type ref() const noexcept { return ref_type{words_.data(), num_blocks_, hashes_, hash_}; }
  /// View that also adds keys.
  [[nodiscard]] mutable_ref_type mutable_ref() noexcept { return mutable_view(); }

 private:
  struct geometry {
    std::size_t bits;
    int hashes;
  };
  bloom_filter(geometry g, backend where, cuda::stream_ref stream, Hash h, memory_resource* memory)
      : bloom_filter(g.bits, g.hashes, where, stream, h, memory) {}

  static geometry plan(bloom_sizing s) {
    if (s.expected_keys == 0) { throw invalid_argument("bloom_sizing: expected keys must be positive, got 0"); }
    if (!(s.false_positive_rate > 0.0 && s.false_positive_rate < 1.0)) {
      throw invalid_argument("bloom_sizing: false-positive rate must be in (0, 1), got " + std::to_string(s.false_positive_rate));
    }
    // Grow the filter by ~2 % steps from below the classic (unblocked) optimum: shortlist the best
    // hash count with the cheap textbook formula, confirm with the exact prediction.
    double bits_per_key = std::max(1.0, -std::log(s.false_positive_rate) / (std::log(2.0) * std::log(2.0)) * 0.9);
    double const max_blocks = static_cast<double>(bloom::detail::max_filter_bytes / BlockBytes);
    for (int step = 0; step < 600; ++step, bits_per_key *= 1.02) {
      double const wanted = std::ceil(bits_per_key * static_cast<double>(s.expected_keys) / pattern::block_bits);
      if (!(wanted <= max_blocks)) {
        throw invalid_argument("bloom_sizing: " + std::to_string(s.expected_keys) + " keys at false-positive rate " +
                               std::to_string(s.false_positive_rate) + " need about " + std::to_string(wanted) +
                               " blocks of " + std::to_string(BlockBytes) + " bytes, more than the supported " +
                               std::to_string(bloom::detail::max_filter_bytes) + " bytes");
      }
      std::size_t const blocks = static_cast<std::size_t>(wanted);
      int guess = 1;
      double best_guess = 2.0;
      for (int k = 1; k <= pattern::max_hashes; ++k) {
        double const p = bloom::approximate_false_positive_rate(blocks, pattern::block_bits, k, s.expected_keys);
        if (p < best_guess) { best_guess = p; guess = k; }
      }
      if (best_guess > s.false_positive_rate) { continue; }  // the exact rate is never lower
      for (int k = std::max(1, guess - 1); k <= std::min(pattern::max_hashes, guess + 1); ++k) {
        if (bloom::predicted_false_positive_rate(blocks, pattern::block_bits, k, s.expected_keys) <= s.false_positive_rate) {
          return {blocks * pattern::block_bits, k};
        }
      }
    }
    throw invalid_argument("bloom_sizing: false-positive rate " + std::to_string(s.false_positive_rate) +
                           " is out of reach for a blocked filter of " + std::to_string(BlockBytes) + "-byte blocks");
  }

  template <class H>
  static auto assign_seed(H& h, std::uint64_t seed, int) -> decltype(h.seed = seed, void()) {
    h.seed = seed;
  }
  template <class H>
  static void assign_seed(H&, std::uint64_t, long) {}

  void allocate(std::size_t blocks, int hashes, Hash h, cuda::stream_ref stream, memory_resource* memory) {
    num_blocks_ = blocks;
    hashes_ = hashes;
    hash_ = h;
    words_ = warp::detail::buffer<std::uint64_t>{backend_, blocks * pattern::words, stream, memory};
  }

  template <class KeyIt>
  std::size_t insert(KeyIt first, KeyIt last, bool* was_present, warp::detail::completion mode, cuda::stream_ref stream,
                     std::uint64_t* count_out = nullptr) {
    auto const scope = activate();
    return static_cast<std::size_t>(warp::detail::run_keyed<tile_size>(
        exec(stream), was_present ? "add_and_test" : "add", first, last, was_present, false,
        mode, [&](auto keys, bool* out) { return bloom::detail::add_fn<mutable_ref_type, decltype(keys)>{{mutable_view(), keys}, out}; },
        warp::detail::count_sink{count_out}));
  }

  template <class KeyIt>
  std::size_t query(KeyIt first, KeyIt last, bool* out, warp::detail::completion mode, cuda::stream_ref stream,
                    std::uint64_t* count_out = nullptr) const {
    auto const scope = activate();
    return static_cast<std::size_t>(warp::detail::run_keyed<tile_size>(
        exec(stream), "contains", first, last, out, true, mode,
        [&](auto keys, bool* flags) { return bloom::detail::contains_fn<ref_type, decltype(keys)>{{ref(), keys}, flags}; },
        warp::detail::count_sink{count_out}));
  }

  void merge(bloom_filter const& other, bool intersect, cuda::stream_ref stream) {
    auto const scope = activate();
    if (!compatible(other)) {
      throw invalid_argument(std::string(intersect ? "merge_intersection" : "merge_union") +
                             ": filters differ (blocks " + std::to_string(num_blocks_) + " vs " +
                             std::to_string(other.num_blocks_) + ", hashes " + std::to_string(hashes_) + " vs " +
                             std::to_string(other.hashes_) + ", or hash seed)");
    }
    if (other.backend_ != backend_) { throw invalid_argument("merge: both filters must use the same backend"); }
    warp::detail::for_each_item<1>(exec(stream), num_words(),
                                   bloom::detail::merge_fn{words_.data(), other.words_.data(), intersect});
    warp::detail::synchronize(backend_, stream);
  }

  mutable_ref_type mutable_view() const noexcept { return mutable_ref_type{words_.data(), num_blocks_, hashes_, hash_}; }
  warp::detail::executor exec(cuda::stream_ref stream) const {
    words_.use_on(stream);
    return warp::detail::executor{backend_, stream, memory_};
  }
  warp::detail::device_scope activate() const { return warp::detail::device_scope{device_}; }

  backend backend_;
  int device_ = -1;
  memory_resource* memory_ = nullptr;
  mutable warp::detail::buffer<std::uint64_t> words_{};
  std::size_t num_blocks_ = 0;
  int hashes_ = 0;
  Hash hash_{};
};

}  // namespace warp
