// warp/distributed/nccl.cuh: one GPU per rank over NCCL (CUDA backend).
//
// Two ways to make the ranks, as NCCL offers them:
//   - one process driving several GPUs: nccl_communicator::init_all({0, 1, 2, 3}) returns one
//     communicator per device (ncclCommInitAll); run each rank's calls on its own host thread
//     (each with its device current) because every call is collective;
//   - one process per GPU: rank 0 makes an id and the others get it (id_over_mpi(MPI_COMM_WORLD)
//     when warp::mpi is linked too, or id_through_file(path, rank) on a shared file system), and
//     each makes nccl_communicator{id, ranks, rank, device} (ncclCommInitRank).
// Counts and bytes move with grouped ncclSend / ncclRecv on the caller's stream (stream-ordered: the
// received buffer is ready for work enqueued on that stream after the call).
//
// Needs warp::nccl (CMake found nccl.h and libnccl, and the translation unit is CUDA; it defines
// WARP_HAVE_NCCL). Without it the class still compiles and constructing one throws backend_unavailable.
#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/config.cuh>
#include <warp/core/error.cuh>
#include <warp/distributed/communicator.cuh>

#if defined(WARP_HAVE_NCCL) && WARP_CUDA_ENABLED
#define WARP_NCCL_ENABLED 1
#include <nccl.h>

#include <warp/detail/backend/cuda.cuh>
#include <warp/detail/files.cuh>
#include <warp/detail/memory.cuh>
#ifdef WARP_HAVE_MPI
#include <mpi.h>
#endif
#else
#define WARP_NCCL_ENABLED 0
#endif

namespace warp::distributed {

#if WARP_NCCL_ENABLED

namespace detail {
inline void nccl_check(ncclResult_t code, char const* call, int rank) {
  if (code == ncclSuccess) { return; }
  throw communication_error("NCCL rank " + std::to_string(rank) + ": " + call + " failed: " + ncclGetErrorString(code));
}
}  // namespace detail

class nccl_communicator final : public communicator {
 public:
  using unique_id = ncclUniqueId;

  /// A fresh id for ncclCommInitRank (made on one rank, given to all).
  static unique_id make_id() {
    unique_id id;
    detail::nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId", -1);
    return id;
  }

  /// One communicator per device of `devices`, all in this process (ncclCommInitAll).
  static std::vector<std::unique_ptr<nccl_communicator>> init_all(std::vector<int> const& devices) {
    if (devices.empty()) { throw invalid_argument("nccl_communicator::init_all: no devices"); }
    std::vector<ncclComm_t> comms(devices.size());
    detail::nccl_check(ncclCommInitAll(comms.data(), static_cast<int>(devices.size()), devices.data()),
                       "ncclCommInitAll", -1);
    std::vector<std::unique_ptr<nccl_communicator>> out;
    for (std::size_t r = 0; r < devices.size(); ++r) {
      out.emplace_back(new nccl_communicator{comms[r], static_cast<int>(r), static_cast<int>(devices.size()), devices[r]});
    }
    return out;
  }

  /// The id through a file that every rank can read (a shared file system): rank 0 makes it and
  /// writes it (to a temporary, renamed into place), the others wait for the file, at most
  /// `timeout` (then communication_error). The caller removes the file afterwards.
  static unique_id id_through_file(std::string const& path, int rank,
                                   std::chrono::milliseconds timeout = std::chrono::seconds{60}) {
    unique_id id{};
    if (rank == 0) {
      id = make_id();
      warp::detail::atomic_file_writer out{path, "nccl_communicator"};
      out.write(reinterpret_cast<char const*>(&id), sizeof(id));
      out.commit();
      return id;
    }
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      std::ifstream in{path, std::ios::binary};
      if (in && in.read(reinterpret_cast<char*>(&id), sizeof(id)) && in.gcount() == sizeof(id)) { return id; }
      if (std::chrono::steady_clock::now() > deadline) {
        throw communication_error("NCCL rank " + std::to_string(rank) + ": no NCCL id appeared in " + path + " within " +
                                  std::to_string(timeout.count()) + " ms");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
  }

#ifdef WARP_HAVE_MPI
  /// The id broadcast from rank 0 of an MPI communicator (the usual way: one process per GPU).
  static unique_id id_over_mpi(MPI_Comm comm) {
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    unique_id id{};
    if (rank == 0) { id = make_id(); }
    if (MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, comm) != MPI_SUCCESS) {
      throw communication_error("NCCL rank " + std::to_string(rank) + ": MPI_Bcast of the NCCL id failed");
    }
    return id;
  }
#endif

  /// Rank `rank` of `ranks` on `device` (ncclCommInitRank; collective over the ranks).
  nccl_communicator(unique_id const& id, int ranks, int rank, int device) : rank_{rank}, size_{ranks}, device_{device} {
    warp::detail::cuda_backend::device_guard const on{device_};
    detail::nccl_check(ncclCommInitRank(&comm_, ranks, id, rank), "ncclCommInitRank", rank);
  }
  nccl_communicator(nccl_communicator const&) = delete;
  nccl_communicator& operator=(nccl_communicator const&) = delete;
  ~nccl_communicator() override {
    if (comm_ != nullptr) { ncclCommDestroy(comm_); }
  }

  [[nodiscard]] int rank() const noexcept override { return rank_; }
  [[nodiscard]] int size() const noexcept override { return size_; }
  [[nodiscard]] backend where() const noexcept override { return backend::cuda; }
  [[nodiscard]] char const* transport() const noexcept override { return "nccl"; }
  [[nodiscard]] int device() const noexcept { return device_; }
  [[nodiscard]] ncclComm_t native() const noexcept { return comm_; }

  void exchange_counts(std::uint64_t const* send, std::uint64_t* recv) override {
    warp::detail::cuda_backend::device_guard const on{device_};
    std::size_t const p = static_cast<std::size_t>(size_);
    cuda::stream_ref const stream{cudaStream_t{}};
    warp::detail::buffer<std::uint64_t> staged{backend::cuda, 2 * p, stream};
    warp::detail::copy_bytes(backend::cuda, staged.data(), send, p * sizeof(std::uint64_t), stream);
    std::vector<std::uint64_t> bytes(p, sizeof(std::uint64_t));
    exchange(staged.data(), bytes.data(), staged.data() + p, bytes.data(), stream);
    warp::detail::copy_bytes(backend::cuda, recv, staged.data() + p, p * sizeof(std::uint64_t), stream);
    warp::detail::synchronize(backend::cuda, stream);
  }

  void exchange(void const* send, std::uint64_t const* send_bytes, void* recv, std::uint64_t const* recv_bytes,
                cuda::stream_ref stream) override {
    warp::detail::cuda_backend::device_guard const on{device_};
    std::uint64_t s = 0, r = 0;
    detail::nccl_check(ncclGroupStart(), "ncclGroupStart", rank_);
    for (int q = 0; q < size_; ++q) {
      if (send_bytes[q] != 0) {
        detail::nccl_check(ncclSend(static_cast<char const*>(send) + s, send_bytes[q], ncclChar, q, comm_, stream.get()),
                           "ncclSend", rank_);
      }
      if (recv_bytes[q] != 0) {
        detail::nccl_check(ncclRecv(static_cast<char*>(recv) + r, recv_bytes[q], ncclChar, q, comm_, stream.get()),
                           "ncclRecv", rank_);
      }
      s += send_bytes[q];
      r += recv_bytes[q];
    }
    detail::nccl_check(ncclGroupEnd(), "ncclGroupEnd", rank_);
  }

 private:
  nccl_communicator(ncclComm_t comm, int rank, int size, int device)
      : comm_{comm}, rank_{rank}, size_{size}, device_{device} {}

  ncclComm_t comm_ = nullptr;
  int rank_;
  int size_;
  int device_;
};

#else

/// Built without NCCL (or in a translation unit that is not CUDA): constructing one says so.
class nccl_communicator final : public communicator {
 public:
  struct unique_id {};
  static unique_id make_id() { unavailable(); }
  static unique_id id_through_file(std::string const&, int) { unavailable(); }
  static std::vector<std::unique_ptr<nccl_communicator>> init_all(std::vector<int> const&) { unavailable(); }
  nccl_communicator(unique_id const&, int, int, int) { unavailable(); }
  [[nodiscard]] int rank() const noexcept override { return 0; }
  [[nodiscard]] int size() const noexcept override { return 1; }
  [[nodiscard]] backend where() const noexcept override { return backend::cuda; }
  [[nodiscard]] char const* transport() const noexcept override { return "nccl"; }
  void exchange_counts(std::uint64_t const*, std::uint64_t*) override {}
  void exchange(void const*, std::uint64_t const*, void*, std::uint64_t const*, cuda::stream_ref) override {}

 private:
  [[noreturn]] static void unavailable() {
    throw backend_unavailable(
        "nccl_communicator: warp was built without NCCL (needs nvcc and nccl.h / libnccl from the CUDA toolkit; link "
        "warp::nccl)");
  }
};

#endif

}  // namespace warp::distributed
