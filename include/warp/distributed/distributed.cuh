// warp/distributed/distributed.cuh: everything of warp::distributed (sharded tables over a
// communicator: in-process, MPI, NCCL).
#pragma once

#include <warp/distributed/communicator.cuh>
#include <warp/distributed/in_process.cuh>
#include <warp/distributed/mpi.cuh>
#include <warp/distributed/nccl.cuh>
#include <warp/distributed/sharded_bloom_filter.cuh>
#include <warp/distributed/sharded_candidates.cuh>
#include <warp/distributed/sharded_map.cuh>
#include <warp/distributed/sharded_multimap.cuh>
