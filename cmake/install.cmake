# Install layout: bin/memtide, <libdir>/libmemtide.so, include/memtide/annotate.h,
# a CMake package (find_package(memtide) -> memtide::annotate) and memtide.pc.
include(CMakePackageConfigHelpers)

install(TARGETS memtide_annotate EXPORT memtideTargets)
install(EXPORT memtideTargets
  NAMESPACE memtide::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/memtide)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/memtideConfig.cmake.in
  ${PROJECT_BINARY_DIR}/memtideConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/memtide
  PATH_VARS CMAKE_INSTALL_BINDIR CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/memtideConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/memtideConfig.cmake
  ${PROJECT_BINARY_DIR}/memtideConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/memtide)

# The .pc file locates the prefix relative to itself, so the tree can move.
file(RELATIVE_PATH MEMTIDE_PC_TO_PREFIX
  ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(${CMAKE_CURRENT_LIST_DIR}/memtide.pc.in ${PROJECT_BINARY_DIR}/memtide.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/memtide.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
