# Dependencies of the header library, shared by the build tree and the installed package config:
# the CUDA toolkit's headers (libcu++ is used on the host too), OpenMP for the host backend, and
# libatomic for 16-byte host compare-and-swap.
include(CMakeFindDependencyMacro)
find_dependency(CUDAToolkit)
find_dependency(OpenMP COMPONENTS CXX)
# Optional: the genomics module's readers (warp::genomics) link zlib and liblzma.
find_package(ZLIB QUIET)
find_package(LibLZMA QUIET)
# Optional: the distributed module's transports. MPI (Debian's libopenmpi-dev) for warp::mpi,
# NCCL (in the CUDA toolkit) for warp::nccl.
find_package(MPI QUIET COMPONENTS CXX)
find_path(WARP_NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
find_library(WARP_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR})

function(warp_link_dependencies target)
  # CUDA 13 keeps CCCL (libcu++, CUB, Thrust) under include/cccl; nvcc adds it itself, a host
  # compiler needs it spelled out.
  set(cccl_dirs "")
  foreach(dir IN LISTS CUDAToolkit_INCLUDE_DIRS)
    if(EXISTS "${dir}/cccl/cuda/atomic")
      list(APPEND cccl_dirs "${dir}/cccl")
    endif()
  endforeach()
  target_include_directories(${target} SYSTEM INTERFACE ${cccl_dirs} ${CUDAToolkit_INCLUDE_DIRS})
  target_link_libraries(${target} INTERFACE OpenMP::OpenMP_CXX atomic)
  target_compile_options(${target} INTERFACE
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-fopenmp --extended-lambda --expt-relaxed-constexpr>)
endfunction()
