// warp/distributed/mpi.cuh: one process per rank over MPI (host backend; Debian's Open MPI).
//
// Needs warp::mpi (CMake: find_package(MPI) found an implementation; it defines WARP_HAVE_MPI).
// Without it the communicator still compiles, and making one throws backend_unavailable naming
// what is missing. The caller owns MPI's lifetime (MPI_Init / MPI_Finalize, or mpi_session below).
//
//   warp::distributed::mpi_session mpi{argc, argv};
//   warp::distributed::mpi_communicator comm;               // MPI_COMM_WORLD
//   warp::distributed::sharded_map<std::uint64_t, std::uint64_t> map{comm, ...};
//
// Counts go through MPI_Alltoall; bytes through MPI_Alltoallv when every count and displacement
// fits MPI's int, else through pairwise MPI_Isend / MPI_Irecv in pieces of at most 1 GiB. Errors
// are returned (MPI_ERRORS_RETURN on the communicator) and thrown as communication_error.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/error.cuh>
#include <warp/distributed/communicator.cuh>

#ifdef WARP_HAVE_MPI
#include <mpi.h>
#endif

namespace warp::distributed {

#ifdef WARP_HAVE_MPI

namespace detail {
inline void mpi_check(int code, char const* call, int rank) {
  if (code == MPI_SUCCESS) { return; }
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw communication_error("MPI rank " + std::to_string(rank) + ": " + call + " failed: " + std::string(text, length));
}
}  // namespace detail

/// MPI_Init_thread on construction (unless MPI is already initialised), MPI_Finalize on destruction.
class mpi_session {
 public:
  mpi_session(int& argc, char**& argv) {
    int ready = 0;
    MPI_Initialized(&ready);
    if (ready == 0) {
      int provided = 0;
      detail::mpi_check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread", -1);
      owns_ = true;
    }
  }
  mpi_session(mpi_session const&) = delete;
  mpi_session& operator=(mpi_session const&) = delete;
  ~mpi_session() {
    if (owns_) { MPI_Finalize(); }
  }

 private:
  bool owns_ = false;
};

class mpi_communicator final : public communicator {
 public:
  explicit mpi_communicator(MPI_Comm comm = MPI_COMM_WORLD) : comm_{comm} {
    int ready = 0;
    MPI_Initialized(&ready);
    if (ready == 0) { throw logic_error("mpi_communicator: MPI is not initialised (call MPI_Init or make an mpi_session)"); }
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    detail::mpi_check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank", -1);
    detail::mpi_check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size", rank_);
  }
  [[nodiscard]] int rank() const noexcept override { return rank_; }
  [[nodiscard]] int size() const noexcept override { return size_; }
  [[nodiscard]] backend where() const noexcept override { return backend::host; }
  [[nodiscard]] char const* transport() const noexcept override { return "mpi"; }
  [[nodiscard]] MPI_Comm native() const noexcept { return comm_; }

  void exchange_counts(std::uint64_t const* send, std::uint64_t* recv) override {
    detail::mpi_check(MPI_Alltoall(send, 1, MPI_UINT64_T, recv, 1, MPI_UINT64_T, comm_), "MPI_Alltoall", rank_);
  }

  void exchange(void const* send, std::uint64_t const* send_bytes, void* recv, std::uint64_t const* recv_bytes,
                cuda::stream_ref) override {
    std::size_t const p = static_cast<std::size_t>(size_);
    std::vector<std::uint64_t> send_at(p), recv_at(p);
    std::uint64_t s = 0, r = 0;
    for (std::size_t q = 0; q < p; ++q) {
      send_at[q] = s;
      recv_at[q] = r;
      s += send_bytes[q];
      r += recv_bytes[q];
    }
    // Alltoallv takes int counts and displacements: usable when every byte offset fits.
    if (s <= INT_MAX && r <= INT_MAX) {
      std::vector<int> sc(p), sd(p), rc(p), rd(p);
      for (std::size_t q = 0; q < p; ++q) {
        sc[q] = static_cast<int>(send_bytes[q]);
        sd[q] = static_cast<int>(send_at[q]);
        rc[q] = static_cast<int>(recv_bytes[q]);
        rd[q] = static_cast<int>(recv_at[q]);
      }
      detail::mpi_check(MPI_Alltoallv(send, sc.data(), sd.data(), MPI_BYTE, recv, rc.data(), rd.data(), MPI_BYTE, comm_),
                        "MPI_Alltoallv", rank_);
      return;
    }
    constexpr std::uint64_t piece = std::uint64_t{1} << 30;
    std::vector<MPI_Request> requests;
    for (std::size_t q = 0; q < p; ++q) {
      for (std::uint64_t at = 0; at < recv_bytes[q]; at += piece) {
        int const n = static_cast<int>(std::min(piece, recv_bytes[q] - at));
        requests.emplace_back();
        detail::mpi_check(MPI_Irecv(static_cast<char*>(recv) + recv_at[q] + at, n, MPI_BYTE, static_cast<int>(q), 0x5a,
                                    comm_, &requests.back()),
                          "MPI_Irecv", rank_);
      }
    }
    for (std::size_t q = 0; q < p; ++q) {
      for (std::uint64_t at = 0; at < send_bytes[q]; at += piece) {
        int const n = static_cast<int>(std::min(piece, send_bytes[q] - at));
        requests.emplace_back();
        detail::mpi_check(MPI_Isend(static_cast<char const*>(send) + send_at[q] + at, n, MPI_BYTE, static_cast<int>(q),
                                    0x5a, comm_, &requests.back()),
                          "MPI_Isend", rank_);
      }
    }
    detail::mpi_check(MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE),
                      "MPI_Waitall", rank_);
  }

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

#else

/// Built without MPI: constructing one says so.
class mpi_communicator final : public communicator {
 public:
  mpi_communicator() {
    throw backend_unavailable(
        "mpi_communicator: warp was built without MPI (CMake's find_package(MPI) found none; install Open MPI, "
        "e.g. Debian's libopenmpi-dev, and link warp::mpi)");
  }
  [[nodiscard]] int rank() const noexcept override { return 0; }
  [[nodiscard]] int size() const noexcept override { return 1; }
  [[nodiscard]] backend where() const noexcept override { return backend::host; }
  [[nodiscard]] char const* transport() const noexcept override { return "mpi"; }
  void exchange_counts(std::uint64_t const*, std::uint64_t*) override {}
  void exchange(void const*, std::uint64_t const*, void*, std::uint64_t const*, cuda::stream_ref) override {}
};

#endif

}  // namespace warp::distributed
