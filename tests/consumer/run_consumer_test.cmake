# Installs the build tree into a scratch prefix, configures tests/consumer against it with
# find_package(warp CONFIG), builds it and runs the consumer programs; then builds the consumer
# again with warp taken in through add_subdirectory.
file(REMOVE_RECURSE "${CONSUMER_WORK_DIR}")
set(prefix "${CONSUMER_WORK_DIR}/prefix")
set(build "${CONSUMER_WORK_DIR}/build")

function(run_step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer test step failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

run_step(${CMAKE_COMMAND} --install "${WARP_BUILD_DIR}" --prefix "${prefix}")
set(cuda_args -DCONSUMER_CUDA=OFF)
if(WARP_CUDA)
  set(cuda_args -DCONSUMER_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHS}")
endif()
run_step(${CMAKE_COMMAND} -S "${WARP_SOURCE_DIR}/tests/consumer" -B "${build}" "-DCMAKE_PREFIX_PATH=${prefix}"
         -DCMAKE_BUILD_TYPE=Release ${cuda_args})
run_step(${CMAKE_COMMAND} --build "${build}" -j 2)
run_step("${build}/consumer_host")
if(WARP_CUDA)
  run_step("${build}/consumer_cuda")
endif()

# The same consumer taking warp in with add_subdirectory (host program only, to keep it quick).
set(sub_build "${CONSUMER_WORK_DIR}/build-subdirectory")
run_step(${CMAKE_COMMAND} -S "${WARP_SOURCE_DIR}/tests/consumer" -B "${sub_build}" -DCMAKE_BUILD_TYPE=Release
         "-DWARP_SOURCE_DIR=${WARP_SOURCE_DIR}" -DCONSUMER_CUDA=OFF -DWARP_ENABLE_CUDA=OFF)
run_step(${CMAKE_COMMAND} --build "${sub_build}" -j 2 --target consumer_host)
run_step("${sub_build}/consumer_host")
