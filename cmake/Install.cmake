include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
install(TARGETS plexus EXPORT plexusTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES plexus.hpp DESTINATION include/plexus)
# <plexus.hpp> from PREFIX/include as well: a forwarding header (the target also puts
# PREFIX/include/plexus on the include path, where the headers find each other).
file(WRITE ${PROJECT_BINARY_DIR}/forward/plexus.hpp
     "// Forwards to plexus/plexus.hpp (installed headers live in PREFIX/include/plexus).\n#pragma once\n#include \"plexus/plexus.hpp\"\n")
install(FILES ${PROJECT_BINARY_DIR}/forward/plexus.hpp DESTINATION include)
foreach(dir core graph layers optim)
  install(DIRECTORY ${dir}/ DESTINATION include/plexus/${dir} FILES_MATCHING PATTERN "*.hpp")
endforeach()
install(EXPORT plexusTargets NAMESPACE plexus:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/plexus)
configure_package_config_file(cmake/plexusConfig.cmake.in
  ${PROJECT_BINARY_DIR}/plexusConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/plexus)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/plexusConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/plexusConfig.cmake ${PROJECT_BINARY_DIR}/plexusConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/plexus)
