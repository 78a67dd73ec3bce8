// warp/distributed/communicator.cuh: what a sharded table needs from a transport, and nothing more.
//
// A communicator joins P ranks (one shard each). Every call is collective: all P ranks make it, in
// the same order, each with its own arguments. The sharded containers (sharded_map.cuh,
// sharded_multimap.cuh) run one algorithm (partition by shard, exchange, local bulk call, exchange
// back) over any communicator; the three implementations differ only in how bytes move:
//   in_process.cuh   P ranks as threads of one process, exchanging through memory (tests, any machine)
//   mpi.cuh          one process per rank over MPI (host backend; Debian's Open MPI)
//   nccl.cuh         one GPU per rank over NCCL (CUDA backend; one process for all GPUs or one per GPU)
// `where()` says which backend the exchanged buffers (and so the shards) live on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/error.cuh>

namespace warp::distributed {

/// A collective call failed: a peer rank failed or timed out, the transport reported an error, or
/// the ranks disagreed about the sizes they exchange. The message names the rank and the call.
class communication_error : public warp::error {
 public:
  using warp::error::error;
};

class communicator {
 public:
  virtual ~communicator() = default;

  [[nodiscard]] virtual int rank() const noexcept = 0;
  [[nodiscard]] virtual int size() const noexcept = 0;
  /// The backend of the buffers passed to exchange() (and of the shards built on this communicator).
  [[nodiscard]] virtual backend where() const noexcept = 0;
  /// "in-process", "mpi" or "nccl", for messages and benchmark labels.
  [[nodiscard]] virtual char const* transport() const noexcept = 0;

  /// All-to-all of one count per peer: send[p] goes to rank p, recv[p] comes from rank p (host
  /// arrays of size() entries). Synchronous.
  virtual void exchange_counts(std::uint64_t const* send, std::uint64_t* recv) = 0;

  /// All-to-all-v of bytes in rank-major layout: `send` holds send_bytes[0] bytes for rank 0, then
  /// send_bytes[1] for rank 1, ...; `recv` receives recv_bytes[p] bytes from rank p at offset
  /// recv_bytes[0] + ... + recv_bytes[p - 1]. The byte counts are host arrays of size() entries
  /// and must agree with what the peers send (exchange_counts gives them). Buffers are in where()'s
  /// memory; work already enqueued on `stream` that fills `send` is waited for, and `recv` is
  /// complete, stream-ordered, when the call returns (a device transport may leave it enqueued).
  virtual void exchange(void const* send, std::uint64_t const* send_bytes, void* recv, std::uint64_t const* recv_bytes,
                        cuda::stream_ref stream) = 0;

 protected:
  communicator() = default;
  communicator(communicator const&) = default;
  communicator& operator=(communicator const&) = default;
};

/// Sum of one value over all ranks (every rank gets the result), built on exchange_counts.
inline std::uint64_t all_reduce_sum(communicator& comm, std::uint64_t value) {
  std::vector<std::uint64_t> send(static_cast<std::size_t>(comm.size()), value), recv(send.size());
  comm.exchange_counts(send.data(), recv.data());
  std::uint64_t total = 0;
  for (auto v : recv) { total += v; }
  return total;
}

/// Every rank's value, in rank order, on every rank.
inline std::vector<std::uint64_t> all_gather(communicator& comm, std::uint64_t value) {
  std::vector<std::uint64_t> send(static_cast<std::size_t>(comm.size()), value), recv(send.size());
  comm.exchange_counts(send.data(), recv.data());
  return recv;
}

/// Bitwise or of one value over all ranks (sticky status words).
inline std::uint64_t all_reduce_or(communicator& comm, std::uint64_t value) {
  std::uint64_t bits = 0;
  for (auto v : all_gather(comm, value)) { bits |= v; }
  return bits;
}

}  // namespace warp::distributed
