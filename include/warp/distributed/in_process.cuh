// warp/distributed/in_process.cuh: P ranks in one process, one thread each, exchanging through
// memory. It runs every line of the sharded algorithm that the MPI and NCCL transports run, so
// multi-shard behaviour is tested on any machine, and it lets one process drive several GPUs
// (backend::cuda: copies between the ranks' device buffers).
//
//   warp::distributed::in_process_group group{4};
//   warp::distributed::run_ranks(group, [&](warp::distributed::communicator& comm) {
//     warp::distributed::sharded_map<std::uint64_t, std::uint64_t> map{comm, 1 << 20, ...};
//     map.insert(my_keys.begin(), my_keys.end(), my_values.begin());
//   });
//
// A rank that throws aborts the group: ranks waiting in a collective call throw
// communication_error at once instead of waiting for it, and run_ranks rethrows the first
// failure. A collective that a peer never joins fails after the group's timeout.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <cuda/stream_ref>

#include <warp/detail/memory.cuh>
#include <warp/distributed/communicator.cuh>

namespace warp::distributed {

class in_process_group;

/// Rank `rank()` of an in_process_group (made by the group; valid while it lives).
class in_process_communicator final : public communicator {
 public:
  in_process_communicator(in_process_group& group, int rank) : group_{&group}, rank_{rank} {}
  [[nodiscard]] int rank() const noexcept override { return rank_; }
  [[nodiscard]] int size() const noexcept override;
  [[nodiscard]] backend where() const noexcept override;
  [[nodiscard]] char const* transport() const noexcept override { return "in-process"; }
  void exchange_counts(std::uint64_t const* send, std::uint64_t* recv) override;
  void exchange(void const* send, std::uint64_t const* send_bytes, void* recv, std::uint64_t const* recv_bytes,
                cuda::stream_ref stream) override;

 private:
  in_process_group* group_;
  int rank_;
};

class in_process_group {
 public:
  /// `ranks` ranks whose buffers live on `where`; a collective waits at most `timeout` for its peers.
  explicit in_process_group(int ranks, backend where = backend::host,
                            std::chrono::milliseconds timeout = std::chrono::seconds{120})
      : size_{ranks}, where_{where}, timeout_{timeout} {
    if (ranks < 1) { throw invalid_argument("in_process_group: needs at least 1 rank, got " + std::to_string(ranks)); }
    posted_.resize(static_cast<std::size_t>(ranks));
    for (int r = 0; r < ranks; ++r) { ranks_.push_back(std::make_unique<in_process_communicator>(*this, r)); }
  }
  in_process_group(in_process_group const&) = delete;
  in_process_group& operator=(in_process_group const&) = delete;

  [[nodiscard]] int size() const noexcept { return size_; }
  [[nodiscard]] backend where() const noexcept { return where_; }
  /// The communicator of rank r, to be used by one thread at a time.
  [[nodiscard]] in_process_communicator& at(int r) {
    if (r < 0 || r >= size_) {
      throw invalid_argument("in_process_group: rank " + std::to_string(r) + " of a group of " + std::to_string(size_));
    }
    return *ranks_[static_cast<std::size_t>(r)];
  }

  /// Fails every current and later collective of the group with `why` (a rank that cannot go on).
  void abort(std::string const& why) {
    std::lock_guard<std::mutex> lock{mutex_};
    if (!aborted_) {
      aborted_ = true;
      why_ = why;
    }
    wake_.notify_all();
  }
  [[nodiscard]] bool aborted() const {
    std::lock_guard<std::mutex> lock{mutex_};
    return aborted_;
  }

 private:
  friend class in_process_communicator;

  // What a rank posts for its peers to read during one collective.
  struct posted {
    void const* data = nullptr;
    std::uint64_t const* bytes = nullptr;
  };

  // A reusable barrier: the last rank to arrive opens it for the others.
  void arrive_and_wait(int rank, char const* call) {
    std::unique_lock<std::mutex> lock{mutex_};
    if (aborted_) { throw communication_error(failure(rank, call)); }
    std::uint64_t const generation = generation_;
    if (++arrived_ == size_) {
      arrived_ = 0;
      ++generation_;
      wake_.notify_all();
      return;
    }
    bool const opened =
        wake_.wait_for(lock, timeout_, [&] { return generation_ != generation || aborted_; });
    if (!opened) {
      aborted_ = true;
      why_ = "rank " + std::to_string(rank) + " waited " + std::to_string(timeout_.count()) + " ms in " + call +
             " for peers that never joined it";
      wake_.notify_all();
    }
    if (generation_ == generation) { throw communication_error(failure(rank, call)); }
  }

  std::string failure(int rank, char const* call) const {
    return "in-process rank " + std::to_string(rank) + " of " + std::to_string(size_) + ": " + call +
           " abandoned: " + why_;
  }

  int size_;
  backend where_;
  std::chrono::milliseconds timeout_;
  std::vector<std::unique_ptr<in_process_communicator>> ranks_;
  std::vector<posted> posted_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  int arrived_ = 0;
  std::uint64_t generation_ = 0;
  bool aborted_ = false;
  std::string why_;
};

inline int in_process_communicator::size() const noexcept { return group_->size_; }
inline backend in_process_communicator::where() const noexcept { return group_->where_; }

inline void in_process_communicator::exchange_counts(std::uint64_t const* send, std::uint64_t* recv) {
  group_->posted_[static_cast<std::size_t>(rank_)] = {send, nullptr};
  group_->arrive_and_wait(rank_, "exchange_counts");
  for (int p = 0; p < group_->size_; ++p) {
    recv[p] = static_cast<std::uint64_t const*>(group_->posted_[static_cast<std::size_t>(p)].data)[rank_];
  }
  group_->arrive_and_wait(rank_, "exchange_counts");  // the peers' send arrays stay valid until all have read
}

inline void in_process_communicator::exchange(void const* send, std::uint64_t const* send_bytes, void* recv,
                                              std::uint64_t const* recv_bytes, cuda::stream_ref stream) {
  backend const b = group_->where_;
  warp::detail::synchronize(b, stream);  // the send buffer is complete before peers read it
  group_->posted_[static_cast<std::size_t>(rank_)] = {send, send_bytes};
  group_->arrive_and_wait(rank_, "exchange");
  std::uint64_t at = 0;
  for (int p = 0; p < group_->size_; ++p) {
    in_process_group::posted const& peer = group_->posted_[static_cast<std::size_t>(p)];
    std::uint64_t from = 0;
    for (int q = 0; q < rank_; ++q) { from += peer.bytes[q]; }
    std::uint64_t const n = peer.bytes[rank_];
    if (n != recv_bytes[p]) {
      std::string const why = "rank " + std::to_string(rank_) + " expected " + std::to_string(recv_bytes[p]) +
                              " bytes from rank " + std::to_string(p) + ", which sends " + std::to_string(n);
      group_->abort(why);
      throw communication_error("in-process exchange: " + why);
    }
    if (n != 0) {
      warp::detail::copy_bytes(b, static_cast<char*>(recv) + at, static_cast<char const*>(peer.data) + from, n, stream);
    }
    at += n;
  }
  warp::detail::synchronize(b, stream);
  group_->arrive_and_wait(rank_, "exchange");
}

/// Runs fn(communicator&) for every rank of the group on its own thread and waits for all. A rank
/// that throws aborts the group (its peers' collectives fail at once); the first failure is rethrown.
template <class F>
void run_ranks(in_process_group& group, F&& fn) {
  std::vector<std::exception_ptr> failures(static_cast<std::size_t>(group.size()));
  std::mutex first_mutex;
  int first = -1;
  std::vector<std::thread> threads;
  threads.reserve(failures.size());
  for (int r = 0; r < group.size(); ++r) {
    threads.emplace_back([&, r] {
      try {
        fn(static_cast<communicator&>(group.at(r)));
      } catch (std::exception const& e) {
        failures[static_cast<std::size_t>(r)] = std::current_exception();
        {
          std::lock_guard<std::mutex> lock{first_mutex};
          if (first < 0 && !group.aborted()) { first = r; }
        }
        group.abort("rank " + std::to_string(r) + " failed: " + e.what());
      }
    });
  }
  for (auto& t : threads) { t.join(); }
  if (first >= 0) { std::rethrow_exception(failures[static_cast<std::size_t>(first)]); }
  for (auto const& f : failures) {
    if (f) { std::rethrow_exception(f); }
  }
}

}  // namespace warp::distributed
