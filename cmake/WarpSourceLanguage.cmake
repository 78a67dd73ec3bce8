# Project-internal: the tests, examples and benchmarks are .cu files written for both backends.
# With nvcc they compile as CUDA; without it (or in the sanitizer build) as plain C++, where only
# the host backend exists.
function(warp_set_source_language)
  foreach(src IN LISTS ARGN)
    if(WARP_CUDA)
      set_source_files_properties(${src} PROPERTIES LANGUAGE CUDA)
    else()
      set_source_files_properties(${src} PROPERTIES LANGUAGE CXX)
      set_property(SOURCE ${src} APPEND PROPERTY COMPILE_OPTIONS -x c++)
    endif()
  endforeach()
endfunction()
