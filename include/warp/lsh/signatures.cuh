// warp/lsh/signatures.cuh: MinHash signatures of a batch of documents, on the GPU or the host.
//
//   warp::lsh::minhash_options o;
//   o.mode = warp::lsh::permutation::mersenne61;
//   o.shingles = {warp::lsh::shingle_kind::characters, 5};
//   warp::lsh::minhasher<std::uint64_t> mh{128, o};             // k = 128, parameters from o.seed
//   std::vector<std::uint64_t> sig = mh.signatures(docs);        // docs.count x k, row-major
//
// Each document's shingles are hashed once (shingles.cuh); the k values of its signature are
// minima over its shingle hashes h of a permutation, chosen by `mode`:
// - permutation::cudf: cuDF's nvtext::minhash / minhash64 (the "permuted" form): h is
//   MurmurHash3_x86_32 (32-bit signatures) or the first half of MurmurHash3_x64_128 (64-bit) of
//   the shingle, seeded, at least 1; value = (h * a_i + b_i) wrapping in the signature's width,
//   then (64-bit only) mod 2^61 - 1. Bitwise what cuDF returns for the same seed, a, b and width.
// - permutation::mersenne61: exact universal hashing, h = xxHash64 of the shingle reduced mod
//   p = 2^61 - 1, value = (a_i * h + b_i) mod p with the 128-bit product (a_i in [1, p),
//   b_i in [0, p)); 32-bit signatures keep the low 32 bits.
// - permutation::one_permutation: one hash per shingle (xxHash64) and k bins: the high bits of h
//   pick the bin, a remix of h is the value, each bin keeps its minimum; empty bins are filled by
//   optimal densification (Shrivastava, ICML 2017): bin i takes the value of the first non-empty
//   bin among j_t = H(i, t), t = 1, 2, ..., with H shared by all documents (after 8k + 32 tries, the
//   next non-empty bin in order). Its estimator is the same as MinHash's: the fraction of equal
//   positions. Values are kept below the type's maximum, which marks an empty bin.
// An empty document's signature is all zeros (as cuDF's). Results do not depend on the batch the
// document is in, the backend, or the stream.
//
// Synchronisation: signatures() waits for its work. `out` (docs.count * k values) may be host or
// device memory on the CUDA backend, host memory on the host backend.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/config.cuh>
#include <warp/core/error.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/detail/atomic.cuh>
#include <warp/detail/executor.cuh>
#include <warp/detail/memory.cuh>
#include <warp/hash/detail/bytes.cuh>
#include <warp/hash/murmur3.cuh>
#include <warp/lsh/detail/signature_kernels.cuh>
#include <warp/lsh/documents.cuh>
#include <warp/lsh/minhash_options.cuh>
#include <warp/lsh/detail/shingling.cuh>
#include <warp/lsh/shingles.cuh>

namespace warp::lsh {




/// MinHash signatures of width T (std::uint32_t or std::uint64_t) with k values per document.
template <class T>
class minhasher {
  static_assert(std::is_same_v<T, std::uint32_t> || std::is_same_v<T, std::uint64_t>,
                "minhasher makes 32- or 64-bit signatures");

 public:
  using value_type = T;
  static constexpr int tile_size = 32;

  /// k values per document, with parameters (a, b) drawn from options.seed (none for one_permutation).
  minhasher(std::uint32_t k, minhash_options options = {}, backend where = default_backend(),
            cuda::stream_ref stream = default_stream(), memory_resource* memory = nullptr)
      : minhasher(drawn(k, options), options, where, stream, memory) {}

  /// The caller's parameters (cuDF's parameter_a and parameter_b); k = a.size().
  minhasher(std::vector<std::uint64_t> a, std::vector<std::uint64_t> b, minhash_options options = {},
            backend where = default_backend(), cuda::stream_ref stream = default_stream(),
            memory_resource* memory = nullptr)
      : minhasher(parameters{std::move(a), std::move(b), 0}, options, where, stream, memory) {}

  [[nodiscard]] std::uint32_t k() const noexcept { return k_; }
  [[nodiscard]] minhash_options const& options() const noexcept { return options_; }
  [[nodiscard]] std::vector<std::uint64_t> const& parameter_a() const noexcept { return a_host_; }
  [[nodiscard]] std::vector<std::uint64_t> const& parameter_b() const noexcept { return b_host_; }
  [[nodiscard]] backend where() const noexcept { return where_; }

  /// Writes docs.count * k values to out (document i's at out[i * k ..)). Throws before writing
  /// anything when the offsets are inconsistent or (strict UTF-8) a document is not valid UTF-8,
  /// naming the document and the byte offset.
  void signatures(documents docs, T* out, cuda::stream_ref stream = default_stream()) const {
    std::vector<std::int64_t> const offsets = detail::checked_host_offsets(docs, "minhasher::signatures");
    if (docs.count == 0) { return; }
    if (docs.count > std::numeric_limits<std::size_t>::max() / k_) {
      throw invalid_argument("minhasher::signatures: " + std::to_string(docs.count) + " documents times k = " +
                             std::to_string(k_) + " overflows");
    }
    warp::detail::output_view<T> o{where_, out, docs.count * k_, "minhasher::signatures output", stream, memory_};
    auto const batches = plan(offsets);
    bool const check_utf8 =
        options_.shingles.utf8 == utf8_policy::strict && options_.shingles.kind != shingle_kind::dna;
    if (check_utf8) {
      for (auto const& r : batches) { check_batch(docs, offsets, r, stream); }
    }
    for (auto const& r : batches) { run_batch(docs, offsets, r, o.get(), stream); }
    o.finish(stream);
    warp::detail::synchronize(where_, stream);
  }
  /// The signatures in host memory.
  [[nodiscard]] std::vector<T> signatures(documents docs, cuda::stream_ref stream = default_stream()) const {
    std::vector<T> out(docs.count * static_cast<std::size_t>(k_));
    signatures(docs, out.data(), stream);
    return out;
  }

 private:
  struct parameters {
    std::vector<std::uint64_t> a, b;
    std::uint32_t k;  // one_permutation: the number of bins (a and b are empty)
  };
  struct batch_range {
    std::size_t first, last;  // documents [first, last)
  };

  minhasher(parameters p, minhash_options options, backend where, cuda::stream_ref stream, memory_resource* memory)
      : options_{options}, where_{where}, memory_{memory} {
    validate(options_.shingles);
    require_backend(where);
    if (options_.batch_bytes == 0) { throw invalid_argument("minhash_options.batch_bytes must be at least 1"); }
    if (options_.mode == permutation::one_permutation) {
      k_ = p.k != 0 ? p.k : static_cast<std::uint32_t>(p.a.size());
      if (!p.a.empty() || !p.b.empty()) {
        throw invalid_argument("minhasher: one_permutation hashing takes no parameters a and b");
      }
    } else {
      if (p.a.size() != p.b.size()) {
        throw invalid_argument("minhasher: parameters a and b differ in length (" + std::to_string(p.a.size()) +
                               " and " + std::to_string(p.b.size()) + ")");
      }
      k_ = static_cast<std::uint32_t>(p.a.size() > max_signature_length ? max_signature_length + 1 : p.a.size());
      check_parameters(p.a, p.b);
    }
    if (k_ == 0 || k_ > max_signature_length) {
      throw invalid_argument("minhasher: k must be 1 to " + std::to_string(max_signature_length) + ", got " +
                             std::to_string(p.a.empty() ? p.k : p.a.size()));
    }
    if (options_.mode == permutation::cudf && sizeof(T) == 4 && options_.seed > 0xffffffffull) {
      throw invalid_argument("minhasher: cuDF's 32-bit minhash takes a 32-bit seed, got " + std::to_string(options_.seed));
    }
    a_host_ = std::move(p.a);
    b_host_ = std::move(p.b);
    if (!a_host_.empty()) {
      a_ = warp::detail::buffer<std::uint64_t>{where, k_, stream, memory};
      b_ = warp::detail::buffer<std::uint64_t>{where, k_, stream, memory};
      warp::detail::copy_bytes(where, a_.data(), a_host_.data(), k_ * sizeof(std::uint64_t), stream);
      warp::detail::copy_bytes(where, b_.data(), b_host_.data(), k_ * sizeof(std::uint64_t), stream);
      warp::detail::synchronize(where, stream);
    }
    hasher_.seed = options_.seed;
    hasher_.function = options_.mode != permutation::cudf ? detail::byte_hash::xxhash64
                       : sizeof(T) == 4                    ? detail::byte_hash::murmur3_32
                                                           : detail::byte_hash::murmur3_x64_128;
  }

  static parameters drawn(std::uint32_t k, minhash_options const& o) {
    parameters p{{}, {}, k};
    if (o.mode == permutation::one_permutation || k == 0 || k > max_signature_length) { return p; }
    std::uint64_t state = o.seed ^ 0x5851F42D4C957F2Dull;
    p.a.resize(k);
    p.b.resize(k);
    // cuDF 32-bit parameters are 32-bit; the others lie in [1, p) and [0, p).
    std::uint64_t const range = o.mode == permutation::cudf && sizeof(T) == 4 ? 0xffffffffull : mersenne61_prime - 1;
    for (std::uint32_t i = 0; i < k; ++i) {
      p.a[i] = 1 + detail::splitmix64(state) % range;
      p.b[i] = detail::splitmix64(state) % (range + 1);
    }
    return p;
  }

  void check_parameters(std::vector<std::uint64_t> const& a, std::vector<std::uint64_t> const& b) const {
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (options_.mode == permutation::cudf && sizeof(T) == 4 && (a[i] > 0xffffffffull || b[i] > 0xffffffffull)) {
        throw invalid_argument("minhasher: cuDF 32-bit parameters are 32-bit; a[" + std::to_string(i) + "] = " +
                               std::to_string(a[i]) + ", b[" + std::to_string(i) + "] = " + std::to_string(b[i]));
      }
      if (options_.mode == permutation::mersenne61 &&
          (a[i] == 0 || a[i] >= mersenne61_prime || b[i] >= mersenne61_prime)) {
        throw invalid_argument("minhasher: mersenne61 parameters need a in [1, 2^61 - 1) and b in [0, 2^61 - 1); a[" +
                               std::to_string(i) + "] = " + std::to_string(a[i]) + ", b[" + std::to_string(i) +
                               "] = " + std::to_string(b[i]));
      }
    }
  }

  /// Batches of whole documents of about batch_bytes bytes (a longer document is a batch of its own),
  /// and at most batch_bytes / (k * sizeof(T)) documents when one_permutation needs a bin array.
  std::vector<batch_range> plan(std::vector<std::int64_t> const& offsets) const {
    std::vector<batch_range> out;
    std::size_t const n = offsets.size() - 1;
    std::size_t const max_docs =
        options_.mode == permutation::one_permutation
            ? std::max<std::size_t>(1, options_.batch_bytes / (static_cast<std::size_t>(k_) * sizeof(T)))
            : std::numeric_limits<std::size_t>::max();
    std::size_t first = 0;
    while (first < n) {
      std::size_t last = first + 1;
      while (last < n && last - first < max_docs &&
             static_cast<std::uint64_t>(offsets[last + 1] - offsets[first]) <= options_.batch_bytes) {
        ++last;
      }
      out.push_back({first, last});
      first = last;
    }
    return out;
  }

  /// The batch's bytes and relative offsets as the backend reads them.
  struct staged_batch {
    warp::detail::buffer<unsigned char> bytes;
    warp::detail::buffer<std::int64_t> offsets;
    unsigned char const* bytes_ptr;
    std::size_t size_bytes;
  };
  staged_batch stage(documents const& docs, std::vector<std::int64_t> const& offsets, batch_range r,
                     cuda::stream_ref stream) const {
    std::size_t const count = r.last - r.first;
    std::vector<std::int64_t> relative(count + 1);
    for (std::size_t i = 0; i <= count; ++i) { relative[i] = offsets[r.first + i] - offsets[r.first]; }
    auto const size = static_cast<std::size_t>(relative[count]);
    staged_batch s{warp::detail::buffer<unsigned char>{},
                   warp::detail::buffer<std::int64_t>{where_, count + 1, stream, memory_}, nullptr, size};
    warp::detail::copy_bytes(where_, s.offsets.data(), relative.data(), relative.size() * sizeof(std::int64_t), stream);
    auto const* source = reinterpret_cast<unsigned char const*>(docs.bytes) + offsets[r.first];
    if (size == 0) {
      s.bytes_ptr = source;
    } else if (where_ == backend::cuda && !warp::detail::is_device_accessible(docs.bytes)) {
      s.bytes = warp::detail::buffer<unsigned char>{where_, size, stream, memory_};
      warp::detail::copy_bytes(where_, s.bytes.data(), source, size, stream);
      s.bytes_ptr = s.bytes.data();
    } else if (where_ == backend::host && warp::detail::is_device_only(docs.bytes)) {
      throw invalid_argument("minhasher::signatures: the bytes are in device memory but the minhasher uses the host backend");
    } else {
      s.bytes_ptr = source;
    }
    // The relative offsets vector dies here: wait for its copy.
    warp::detail::synchronize(where_, stream);
    return s;
  }

  void check_batch(documents const& docs, std::vector<std::int64_t> const& offsets, batch_range r,
                   cuda::stream_ref stream) const {
    staged_batch const s = stage(docs, offsets, r, stream);
    warp::detail::buffer<unsigned long long> bad{where_, 1, stream, memory_};
    unsigned long long none = ~0ull;
    warp::detail::copy_bytes(where_, bad.data(), &none, sizeof(none), stream);
    warp::detail::executor const ex{where_, stream, memory_};
    warp::detail::for_each_item<1>(ex, r.last - r.first, detail::utf8_check_fn{{s.bytes_ptr, s.offsets.data()}, bad.data()});
    unsigned long long first_bad = none;
    warp::detail::copy_bytes(where_, &first_bad, bad.data(), sizeof(first_bad), stream);
    warp::detail::synchronize(where_, stream);
    if (first_bad == none) { return; }
    std::size_t const d = r.first + static_cast<std::size_t>(first_bad);
    auto const n = static_cast<std::size_t>(offsets[d + 1] - offsets[d]);
    std::vector<unsigned char> text(n);
    warp::detail::copy_bytes(where_ == backend::cuda ? backend::cuda : backend::host, text.data(),
                             reinterpret_cast<unsigned char const*>(docs.bytes) + offsets[d], n, stream);
    warp::detail::synchronize(where_, stream);
    std::int64_t const at = detail::first_invalid_utf8(text.data(), n);
    throw invalid_argument("minhasher::signatures: document " + std::to_string(d) + " is not valid UTF-8 at byte " +
                           std::to_string(at) + " (of " + std::to_string(n) +
                           "); use utf8_policy::bytes to take its bytes as they are");
  }

  void run_batch(documents const& docs, std::vector<std::int64_t> const& offsets, batch_range r, T* out,
                 cuda::stream_ref stream) const {
    staged_batch const s = stage(docs, offsets, r, stream);
    std::size_t const count = r.last - r.first;
    warp::detail::executor const ex{where_, stream, memory_};
    detail::batch_view const view{s.bytes_ptr, s.offsets.data()};
    warp::detail::buffer<std::uint64_t> hashes{where_, s.size_bytes == 0 ? 1 : s.size_bytes, stream, memory_};
    warp::detail::for_each_item<tile_size>(ex, count, detail::shingle_hash_fn{view, options_.shingles, hasher_, hashes.data()});
    T* rows = out + r.first * k_;
    if (options_.mode == permutation::one_permutation) {
      warp::detail::buffer<T> bins{where_, count * k_, stream, memory_};
      warp::detail::for_each_item<tile_size>(ex, count, detail::oph_bins_fn<T>{view, hasher_, hashes.data(), k_, bins.data()});
      warp::detail::for_each_item<tile_size>(ex, count, detail::densify_fn<T>{bins.data(), k_, rows});
      bins.use_on(stream);
    } else {
      warp::detail::for_each_item<tile_size>(
          ex, count,
          detail::permuted_signature_fn<T>{view, hasher_, hashes.data(), a_.data(), b_.data(), k_, options_.mode, rows});
    }
    hashes.use_on(stream);
  }

  minhash_options options_;
  backend where_;
  memory_resource* memory_;
  std::uint32_t k_ = 0;
  std::vector<std::uint64_t> a_host_, b_host_;
  warp::detail::buffer<std::uint64_t> a_{}, b_{};
  detail::shingle_hasher hasher_{};
};

}  // namespace warp::lsh
