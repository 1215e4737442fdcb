# plexus_hdf5_reader (issue 28): the program that reads HDF5 files for the library. libhdf5 is
# not safe on hostile input, so h5::File::open parses no file in the calling process: it
# starts this program with posix_spawn (optim/saving/hdf5_isolated.cpp) and parses the checked
# stream it sends back. The library looks for it where the build puts it, then where
# `make install` puts it (PREFIX/libexec/plexus), or $PLEXUS_HDF5_READER; without it, a
# forked child of the calling process reads the file (slower in a large process).
include(GNUInstallDirs)
add_executable(plexus_hdf5_reader ${PROJECT_SOURCE_DIR}/optim/saving/hdf5_reader/main.cpp)
set_target_properties(plexus_hdf5_reader PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
target_link_libraries(plexus_hdf5_reader PRIVATE plexus)
plexus_set_warnings(plexus_hdf5_reader)
# libhdf5 linked statically when libhdf5-dev has the archive (Debian's does): the shared
# libhdf5_serial pulls in 36 more libraries (libcurl, GnuTLS, Kerberos...) whose loading and
# relocation would cost each start about 4 ms of CPU; the reader needs none of them.
find_library(PLEXUS_HDF5_STATIC NAMES libhdf5.a libhdf5_serial.a
             HINTS ${PLEXUS_HDF5_LIBRARY_DIRS} NO_DEFAULT_PATH)
if(PLEXUS_HDF5_STATIC)
  target_link_libraries(plexus_hdf5_reader PRIVATE ${PLEXUS_HDF5_STATIC} sz z m dl)
  target_link_options(plexus_hdf5_reader PRIVATE LINKER:--as-needed)
endif()
set_property(SOURCE ${PROJECT_SOURCE_DIR}/optim/saving/hdf5.cpp APPEND PROPERTY COMPILE_DEFINITIONS
  PLEXUS_HDF5_READER_BUILD_PATH="${PROJECT_BINARY_DIR}/plexus_hdf5_reader"
  PLEXUS_HDF5_READER_INSTALL_PATH="${CMAKE_INSTALL_FULL_LIBEXECDIR}/plexus/plexus_hdf5_reader")
install(TARGETS plexus_hdf5_reader RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/plexus)
