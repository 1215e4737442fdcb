include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(_plexus_targets plexus)
if(TARGET plexus_distribution)
  list(APPEND _plexus_targets plexus_distribution)
endif()
install(TARGETS ${_plexus_targets} EXPORT plexusTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES plexus.hpp DESTINATION include/plexus)
# <plexus.hpp> from PREFIX/include as well: a forwarding header.
file(WRITE ${PROJECT_BINARY_DIR}/forward/plexus.hpp
     "// Forwards to plexus/plexus.hpp (installed headers live in PREFIX/include/plexus).\n#pragma once\n#include \"plexus/plexus.hpp\"\n")
install(FILES ${PROJECT_BINARY_DIR}/forward/plexus.hpp DESTINATION include)
foreach(dir core graph layers optim)
  install(DIRECTORY ${dir}/ DESTINATION include/plexus/${dir} FILES_MATCHING PATTERN "*.hpp")
endforeach()
# In the source tree the headers include each other as "core/...", from the tree's root.
# The installed copies say "plexus/core/..." instead, so that a plain -I PREFIX/include
# finds them (`g++ -I PREFIX/include`, with <plexus.hpp> or <plexus/plexus.hpp>). Runs at
# install time, after the copies above; rewriting an installed copy again changes nothing.
install(CODE [[
  set(plexus_include_root "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/include/plexus")
  file(GLOB_RECURSE plexus_headers "${plexus_include_root}/*.hpp")
  foreach(header IN LISTS plexus_headers)
    file(READ "${header}" text)
    string(REGEX REPLACE "#include \"(core|graph|layers|optim)/" "#include \"plexus/\\1/" rewritten
           "${text}")
    if(NOT rewritten STREQUAL text)
      file(WRITE "${header}" "${rewritten}")
    endif()
  endforeach()
]])
install(EXPORT plexusTargets NAMESPACE plexus:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/plexus)
configure_package_config_file(cmake/plexusConfig.cmake.in
  ${PROJECT_BINARY_DIR}/plexusConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/plexus)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/plexusConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/plexusConfig.cmake ${PROJECT_BINARY_DIR}/plexusConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/plexus)
