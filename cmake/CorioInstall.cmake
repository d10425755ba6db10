# cmake --install: headers, static + shared library, a CMake package
# (find_package(corio) -> corio::corio, corio::corio_shared) and corio.pc.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY include/corio DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS corio_static corio_shared EXPORT corioTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
set_target_properties(corio_static PROPERTIES EXPORT_NAME corio)
set_target_properties(corio_shared PROPERTIES EXPORT_NAME corio_shared)
install(EXPORT corioTargets NAMESPACE corio:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/corio)

configure_package_config_file(cmake/corioConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/corioConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/corio)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/corioConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/corioConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/corioConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/corio)

if(CORIO_PLATFORM STREQUAL "windows")
  set(CORIO_PC_LIBS "-lws2_32 -lntdll -lsynchronization -lmswsock -liphlpapi")
else()
  set(CORIO_PC_LIBS "-pthread")
  if(mimalloc_FOUND)
    set(CORIO_PC_PRIVATE_LIBS "-lmimalloc")
  endif()
endif()
configure_file(cmake/corio.pc.in ${CMAKE_CURRENT_BINARY_DIR}/corio.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/corio.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
