// warp/kvcache/detail/head_changes.cuh: the index heads that one mutating call of block_table
// changes (block hash -> its new first block, no_block when the hash goes), kept on the host
// until the call writes them back in bulk. A flat open-addressing table reused from call to
// call: reset costs the entries of the last call, not the capacity, and a call makes no
// allocation once the table has grown to its largest batch (std::unordered_map allocated a node
// per change, which cost more than the change).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <warp/kvcache/block_hash.cuh>

namespace warp::kvcache::detail {

class head_changes {
 public:
  struct entry {
    block_hash key;
    std::uint32_t head;
    std::uint32_t slot;  // where the table points at this entry, for reset
  };

  /// Forgets the last call's changes and makes room for `n` keys without growing.
  void reset(std::size_t n) {
    for (entry const& e : entries_) { slots_[e.slot] = 0; }
    entries_.clear();
    std::size_t want = 16;
    while (want < 2 * n) { want *= 2; }
    if (want > slots_.size()) { slots_.assign(want, 0); }
    entries_.reserve(n);
  }

  /// The recorded head of `key`, or nullptr when this call has not changed it.
  [[nodiscard]] std::uint32_t const* find(block_hash const& key) const noexcept {
    for (std::size_t s = home(key);; s = (s + 1) & (slots_.size() - 1)) {
      std::uint32_t const e = slots_[s];
      if (e == 0) { return nullptr; }
      if (entries_[e - 1].key == key) { return &entries_[e - 1].head; }
    }
  }

  /// Records `head` as key's head (replacing an earlier record). At most `n` keys per reset.
  void set(block_hash const& key, std::uint32_t head) {
    std::size_t s = home(key);
    for (;; s = (s + 1) & (slots_.size() - 1)) {
      std::uint32_t const e = slots_[s];
      if (e == 0) { break; }
      if (entries_[e - 1].key == key) {
        entries_[e - 1].head = head;
        return;
      }
    }
    if (2 * (entries_.size() + 1) > slots_.size()) { grow(); return set(key, head); }
    entries_.push_back({key, head, static_cast<std::uint32_t>(s)});
    slots_[s] = static_cast<std::uint32_t>(entries_.size());
  }

  /// Every changed key once, in the order of its first change.
  [[nodiscard]] std::vector<entry> const& entries() const noexcept { return entries_; }

 private:
  // Block hashes are uniform already: their low bits are the home slot.
  [[nodiscard]] std::size_t home(block_hash const& key) const noexcept {
    return static_cast<std::size_t>(key.low ^ key.high) & (slots_.size() - 1);
  }
  void grow() {  // only when a caller records more keys than it reset for
    std::vector<entry> kept;
    kept.swap(entries_);
    slots_.assign(2 * slots_.size(), 0);
    for (entry const& e : kept) { set(e.key, e.head); }
  }

  std::vector<std::uint32_t> slots_ = std::vector<std::uint32_t>(16, 0);  // entry index + 1; 0: empty
  std::vector<entry> entries_;
};

}  // namespace warp::kvcache::detail
