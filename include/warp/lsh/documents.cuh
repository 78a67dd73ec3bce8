// warp/lsh/documents.cuh: a batch of documents as a strings column, laid out as Arrow and cuDF lay
// strings out: one byte buffer and count + 1 64-bit offsets; document i is
// bytes[offsets[i] .. offsets[i + 1]). The first offset need not be 0 (a slice of a larger column).
// Both arrays may be in host or device memory; empty documents are allowed.
//
//   std::vector<std::string> texts = {...};
//   warp::lsh::document_batch batch = warp::lsh::document_batch::from(texts);   // owns a copy
//   warp::lsh::documents docs = batch.view();
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/error.cuh>
#include <warp/detail/memory.cuh>

namespace warp::lsh {

/// A non-owning view of `count` documents.
struct documents {
  char const* bytes = nullptr;
  std::int64_t const* offsets = nullptr;  // count + 1 entries
  std::size_t count = 0;
};

/// Host storage for a strings column built from std::string-like values (tests, tools).
struct document_batch {
  std::vector<char> bytes;
  std::vector<std::int64_t> offsets{0};

  void push_back(std::string_view text) {
    bytes.insert(bytes.end(), text.begin(), text.end());
    offsets.push_back(static_cast<std::int64_t>(bytes.size()));
  }
  template <class Range>
  static document_batch from(Range const& texts) {
    document_batch b;
    for (auto const& t : texts) { b.push_back(std::string_view{t}); }
    return b;
  }
  [[nodiscard]] std::size_t size() const noexcept { return offsets.size() - 1; }
  [[nodiscard]] documents view() const noexcept { return {bytes.data(), offsets.data(), size()}; }
};

namespace detail {

/// The offsets of `docs` on the host (copied when they live in device memory), checked: they
/// start at 0 or more and never decrease. Throws naming the first bad offset.
inline std::vector<std::int64_t> checked_host_offsets(documents const& docs, char const* what) {
  std::vector<std::int64_t> offsets(docs.count + 1);
  if (docs.offsets == nullptr) { throw invalid_argument(std::string(what) + ": the offsets are a null pointer"); }
  if (warp::detail::is_device_only(docs.offsets)) {
    warp::detail::copy_bytes(backend::cuda, offsets.data(), docs.offsets, offsets.size() * sizeof(std::int64_t),
                             default_stream());
    warp::detail::synchronize(backend::cuda, default_stream());
  } else {
    for (std::size_t i = 0; i <= docs.count; ++i) { offsets[i] = docs.offsets[i]; }
  }
  if (offsets[0] < 0) {
    throw invalid_argument(std::string(what) + ": offset 0 is negative (" + std::to_string(offsets[0]) + ")");
  }
  for (std::size_t i = 0; i < docs.count; ++i) {
    if (offsets[i + 1] < offsets[i]) {
      throw invalid_argument(std::string(what) + ": document " + std::to_string(i) + " ends at offset " +
                             std::to_string(offsets[i + 1]) + ", before it starts (" + std::to_string(offsets[i]) +
                             ")");
    }
  }
  if (docs.bytes == nullptr && offsets[docs.count] > offsets[0]) {
    throw invalid_argument(std::string(what) + ": the bytes are a null pointer but the documents hold " +
                           std::to_string(offsets[docs.count] - offsets[0]) + " bytes");
  }
  return offsets;
}

}  // namespace detail
}  // namespace warp::lsh
