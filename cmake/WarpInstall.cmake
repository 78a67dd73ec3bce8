# Install rules: headers, the warp::warp target, and a package config so that
# find_package(warp CONFIG) works from the install prefix.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/warp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS warp EXPORT warpTargets)
if(TARGET warp_genomics)
  install(TARGETS warp_genomics EXPORT warpTargets)
endif()
foreach(transport warp_mpi warp_nccl)
  if(TARGET ${transport})
    install(TARGETS ${transport} EXPORT warpTargets)
  endif()
endforeach()
install(EXPORT warpTargets NAMESPACE warp:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/warp)
configure_package_config_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/warpConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/warpConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/warp)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/warpConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/warpConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/warpConfigVersion.cmake
              ${CMAKE_CURRENT_SOURCE_DIR}/cmake/WarpDependencies.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/warp)
