# Runs COMMAND (a list) and passes only when it fails cleanly: a non-zero exit status, output
# (stdout or stderr) matching EXPECT, and, when ABSENT is given, that file not created.
#   cmake "-DCOMMAND=prog;arg1;arg2" "-DEXPECT=regex" [-DABSENT=path] -P expect_failure.cmake
if(DEFINED ABSENT)
  file(REMOVE "${ABSENT}")
endif()
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
set(all "${out}${err}")
if(status EQUAL 0)
  message(FATAL_ERROR "expected a failure, the command succeeded:\n${all}")
endif()
if(NOT all MATCHES "${EXPECT}")
  message(FATAL_ERROR "the output does not match '${EXPECT}' (status ${status}):\n${all}")
endif()
if(DEFINED ABSENT AND EXISTS "${ABSENT}")
  message(FATAL_ERROR "${ABSENT} was written although the command failed")
endif()
message(STATUS "failed as expected (status ${status}): ${all}")
