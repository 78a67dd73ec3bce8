# Copies the non-system shared libraries a binary needs (Google Benchmark, abseil, ...) next to it,
# for running on a machine that has the CUDA driver but not Debian's -dev packages.
execute_process(COMMAND ldd ${BINARY} OUTPUT_VARIABLE deps)
string(REPLACE "\n" ";" lines "${deps}")
foreach(line IN LISTS lines)
  if(line MATCHES "=> (/[^ ]*(libbenchmark|libabsl|libgtest)[^ ]*)")
    file(COPY ${CMAKE_MATCH_1} DESTINATION ${DEST} FOLLOW_SYMLINK_CHAIN)
  endif()
endforeach()
