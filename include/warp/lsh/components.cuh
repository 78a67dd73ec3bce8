// warp/lsh/components.cuh: connected components of the candidate graph (duplicate clusters), on
// the GPU or the host.
//
//   std::vector<std::uint32_t> label = warp::lsh::connected_components(docs, candidates.pairs, where);
//   // label[d] is the smallest document index of d's cluster: its representative
//
// Hook-and-shortcut label propagation, the same code on both backends: every node starts as its
// own label; each round, every edge hooks the larger of its endpoints' labels onto the smaller
// (an atomic minimum on the label's own entry), then every node jumps to its label's label until
// the labels are stable. Labels only decrease and stay inside the component, so the fixed point is
// each component's smallest index, whatever the order of the atomic updates: both backends, any
// stream and any thread count give the same labels. Rounds: O(log n) on typical graphs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/error.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/detail/atomic.cuh>
#include <warp/detail/executor.cuh>
#include <warp/detail/memory.cuh>
#include <warp/lsh/candidates.cuh>

namespace warp::lsh {

namespace detail {

struct init_labels_fn {
  std::uint32_t* labels;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    labels[i] = static_cast<std::uint32_t>(i);
    return 0;
  }
};

/// One hooking pass; returns 1 for each edge whose endpoints had different labels.
struct hook_fn {
  document_pair const* edges;
  std::uint32_t* labels;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t e) const {
    std::uint32_t const u = warp::detail::atomic_load(labels + edges[e].first);
    std::uint32_t const v = warp::detail::atomic_load(labels + edges[e].second);
    if (u == v) { return 0; }
    if (u < v) {
      warp::detail::atomic_min(labels + v, u);
    } else {
      warp::detail::atomic_min(labels + u, v);
    }
    return 1;
  }
};

/// Pointer jumping: every node to its label's final label.
struct shortcut_fn {
  std::uint32_t* labels;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    std::uint32_t l = warp::detail::atomic_load(labels + i);
    for (;;) {
      std::uint32_t const next = warp::detail::atomic_load(labels + l);
      if (next == l) { break; }
      l = next;
    }
    warp::detail::atomic_min(labels + i, l);
    return 0;
  }
};

}  // namespace detail

/// Labels of `nodes` nodes joined by `edges` (indices below `nodes`; host memory, checked): the
/// smallest node index of each component. For clean-clean pairs (a, b), number B's documents
/// after A's (edge {a, n_a + b}) first; see components_of_clean_pairs.
inline std::vector<std::uint32_t> connected_components(std::size_t nodes, std::vector<document_pair> const& edges,
                                                       backend where = default_backend(),
                                                       cuda::stream_ref stream = default_stream(),
                                                       memory_resource* memory = nullptr) {
  require_backend(where);
  if (nodes >= max_documents) {
    throw invalid_argument("connected_components: " + std::to_string(nodes) + " nodes; at most " +
                           std::to_string(max_documents - 1));
  }
  for (std::size_t e = 0; e < edges.size(); ++e) {
    if (edges[e].first >= nodes || edges[e].second >= nodes) {
      throw invalid_argument("connected_components: edge " + std::to_string(e) + " (" + std::to_string(edges[e].first) +
                             ", " + std::to_string(edges[e].second) + ") names a node beyond " +
                             std::to_string(nodes) + " nodes");
    }
  }
  std::vector<std::uint32_t> out(nodes);
  if (nodes == 0) { return out; }
  warp::detail::executor const ex{where, stream, memory};
  warp::detail::buffer<std::uint32_t> labels{where, nodes, stream, memory};
  warp::detail::for_each_item<1>(ex, nodes, detail::init_labels_fn{labels.data()});
  if (!edges.empty()) {
    warp::detail::input_view<document_pair const*> e{where, edges.data(), edges.size(), "connected_components edges",
                                                     stream, memory};
    // Every round that finds an edge with two labels lowers a label (the hook, or the shortcut when
    // the hooked entry was already lower), so the loop ends.
    for (;;) {
      std::uint64_t const active = warp::detail::count_items<1>(ex, edges.size(), detail::hook_fn{e.get(), labels.data()});
      if (active == 0) { break; }
      warp::detail::for_each_item<1>(ex, nodes, detail::shortcut_fn{labels.data()});
    }
  }
  warp::detail::copy_bytes(where, out.data(), labels.data(), nodes * sizeof(std::uint32_t), stream);
  warp::detail::synchronize(where, stream);
  return out;
}

/// Components of a clean-clean candidate set: labels of A's documents [0, n_a) then B's
/// [n_a, n_a + n_b), each the smallest index (in that numbering) of its component.
inline std::vector<std::uint32_t> components_of_clean_pairs(std::size_t n_a, std::size_t n_b,
                                                            std::vector<document_pair> const& pairs,
                                                            backend where = default_backend(),
                                                            cuda::stream_ref stream = default_stream(),
                                                            memory_resource* memory = nullptr) {
  std::vector<document_pair> edges(pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (pairs[i].second >= n_b || pairs[i].first >= n_a) {
      throw invalid_argument("components_of_clean_pairs: pair " + std::to_string(i) + " (" +
                             std::to_string(pairs[i].first) + ", " + std::to_string(pairs[i].second) +
                             ") is outside " + std::to_string(n_a) + " x " + std::to_string(n_b) + " documents");
    }
    edges[i] = {pairs[i].first, static_cast<std::uint32_t>(n_a + pairs[i].second)};
  }
  return connected_components(n_a + n_b, edges, where, stream, memory);
}

}  // namespace warp::lsh
