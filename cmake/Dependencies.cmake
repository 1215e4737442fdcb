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
