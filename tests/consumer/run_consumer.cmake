# Installs the built plexus into a scratch prefix, then builds and runs tests/consumer against
# it twice: as a CMake project (find_package(plexus)), and with a plain compiler command that
# has only -I PREFIX/include plus the dependencies' own flags (pkg-config), no CMake.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${PLEXUS_BINARY_DIR} --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/build
                -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the consumer ran but failed: ${rc}")
endif()
# plexus::distribution, when plexus was built with MPI (one process, no mpirun).
if(EXISTS ${WORK_DIR}/build/consumer_mpi)
  execute_process(COMMAND ${WORK_DIR}/build/consumer_mpi RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "the MPI consumer ran but failed: ${rc}")
  endif()
endif()

# --- plain compiler, -I PREFIX/include only ---------------------------------------------------
load_cache(${PLEXUS_BINARY_DIR} READ_WITH_PREFIX plexus_ CMAKE_CXX_COMPILER PLEXUS_NATIVE
           PLEXUS_SANITIZE)
file(GLOB_RECURSE library ${WORK_DIR}/prefix/libplexus.a)
if(NOT library)
  message(FATAL_ERROR "libplexus.a is not in the install tree ${WORK_DIR}/prefix")
endif()
execute_process(COMMAND pkg-config --cflags --libs xtensor nlohmann_json fmt hdf5-serial libzip
                        libcurl libcrypto zlib openblas
                OUTPUT_VARIABLE dep_flags OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "pkg-config does not know plexus's dependencies: ${rc}")
endif()
separate_arguments(dep_flags UNIX_COMMAND "${dep_flags}")
# The ABI-relevant flags the CMake target exports (plexusTargets.cmake): xsimd, -march.
set(abi_flags -DXTENSOR_USE_XSIMD)
if(plexus_PLEXUS_NATIVE)
  list(APPEND abi_flags -march=native)
endif()
if(plexus_PLEXUS_SANITIZE)
  list(APPEND abi_flags -fsanitize=${plexus_PLEXUS_SANITIZE})
endif()
set(command ${plexus_CMAKE_CXX_COMPILER} -std=c++20 -O1 ${abi_flags} -I ${WORK_DIR}/prefix/include
    ${CONSUMER_SOURCE_DIR}/main.cpp -o ${WORK_DIR}/plain_consumer ${library} ${dep_flags} -pthread)
string(REPLACE ";" " " shown "${command}")
message(STATUS "plain build: ${shown}")
execute_process(COMMAND ${command} RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer with only -I PREFIX/include failed: ${rc}")
endif()
execute_process(COMMAND ${WORK_DIR}/plain_consumer RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the plainly built consumer ran but failed: ${rc}")
endif()
