# Every dependency comes from a Debian package and is found with find_package.
find_package(xtl REQUIRED)
find_package(xsimd REQUIRED)
find_package(xtensor REQUIRED)
find_package(fmt REQUIRED)
set(BLA_VENDOR OpenBLAS)  # plexus tunes OpenBLAS's kernel choice (core/blas.cpp)
find_package(BLAS REQUIRED)
find_package(Threads REQUIRED)
# xtensor-blas is header-only; we call CBLAS through it (and directly for gemm with
# transposes), and LAPACK's QR (geqrf/orgqr, in OpenBLAS) for the orthogonal initializer.
find_package(xtensor-blas REQUIRED)
find_path(PLEXUS_CBLAS_INCLUDE cblas.h PATH_SUFFIXES openblas openblas-pthread)
if(NOT PLEXUS_CBLAS_INCLUDE)
  message(FATAL_ERROR "cblas.h not found: install libopenblas-dev")
endif()
# Data I/O: zlib reads gzipped IDX/CSV files, libcurl downloads the datasets, OpenSSL's
# libcrypto checks their SHA-256 (libssl-dev; libcurl already depends on it).
find_package(ZLIB REQUIRED)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
set(PLEXUS_PRIVATE_LIBS ${BLAS_LIBRARIES} Threads::Threads ZLIB::ZLIB CURL::libcurl
    OpenSSL::Crypto)
# Image files (optim/data/images.cpp): libjpeg-turbo (libjpeg-dev), libpng (libpng-dev) and
# giflib (libgif-dev). PRIVATE: no public header includes them.
find_package(JPEG REQUIRED)
find_package(PNG REQUIRED)
find_package(GIF REQUIRED)
list(APPEND PLEXUS_PRIVATE_LIBS JPEG::JPEG PNG::PNG GIF::GIF)
# BMP: stb_image's header from libstb-dev, compiled into images.cpp with only its BMP decoder.
find_path(PLEXUS_STB_INCLUDE stb/stb_image.h)
if(NOT PLEXUS_STB_INCLUDE)
  message(FATAL_ERROR "stb/stb_image.h not found: install libstb-dev")
endif()
# Configs and saving: nlohmann-json (header-only, in plexus's public headers).
find_package(nlohmann_json REQUIRED)
# Saving: HDF5 (C API) for weights files, libzip for .keras archives. Found with
# pkg-config: FindHDF5 needs the C language enabled, and Debian's libzip CMake package
# refers to tools (zipcmp) that libzip-dev does not install.
find_package(PkgConfig REQUIRED)
pkg_check_modules(PLEXUS_HDF5 REQUIRED IMPORTED_TARGET GLOBAL hdf5-serial)
pkg_check_modules(PLEXUS_LIBZIP REQUIRED IMPORTED_TARGET GLOBAL libzip)
list(APPEND PLEXUS_PRIVATE_LIBS PkgConfig::PLEXUS_HDF5 PkgConfig::PLEXUS_LIBZIP)
# Data-parallel training: the optional component plexus::distribution over MPI (Debian
# libopenmpi-dev, openmpi-bin), on by default where MPI is found. The core library does not
# depend on it.
find_package(MPI COMPONENTS CXX QUIET)
option(PLEXUS_WITH_MPI "Build plexus::distribution, data-parallel training over MPI" ${MPI_CXX_FOUND})
if(PLEXUS_WITH_MPI AND NOT MPI_CXX_FOUND)
  message(FATAL_ERROR "PLEXUS_WITH_MPI is ON but MPI was not found: install libopenmpi-dev "
                      "openmpi-bin, or configure with -DPLEXUS_WITH_MPI=OFF")
endif()
if(PLEXUS_WITH_MPI)
  find_program(PLEXUS_MPIEXEC NAMES mpirun mpiexec HINTS ${MPIEXEC_EXECUTABLE} REQUIRED)
endif()
# ONNX export/import (optim/saving/onnx_*.cpp): the ONNX schema and checker from Debian
# (libonnx-dev) over protobuf (libprotobuf-dev, protobuf-compiler). PRIVATE: the protobuf
# headers never reach a public header.
# Linked by file, and ONNX's definitions given to its sources only (CMakeLists.txt), so
# the other sources keep their compiler cache entries.
find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)
list(APPEND PLEXUS_PRIVATE_LIBS $<TARGET_FILE:onnx> $<TARGET_FILE:onnx_proto>
     protobuf::libprotobuf)
