function(plexus_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  # GCC 12 reports false "maybe uninitialized" warnings inside inlined xsimd code on
  # AVX-512 (GCC bug 105593, fixed in GCC 13).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
endfunction()
# Builds optimise for the build machine's own CPU unless told otherwise. The flag is part
# of the ABI (xsimd picks the Tensor allocator's alignment from the instruction set), so it
# is exported to consumers with the target: see plexus_export_arch().
option(PLEXUS_NATIVE "Compile with -march=native" ON)
function(plexus_export_arch target)
  if(PLEXUS_NATIVE)
    target_compile_options(${target} PUBLIC -march=native)
  endif()
endfunction()
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  # The sloppiness lets ccache cache compilations that use a precompiled header.
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env
      CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      ${CCACHE_PROGRAM})
endif()

# Sanitizers: -DPLEXUS_SANITIZE=address,undefined instruments the library, the tests and the
# apps alike (set before any target is defined). Errors abort at the first report
# (-fno-sanitize-recover=all), so a test cannot pass with a UBSan finding in its log.
set(PLEXUS_SANITIZE "" CACHE STRING
    "Comma-separated sanitizers for every target, e.g. address,undefined (empty: none)")
if(PLEXUS_SANITIZE)
  add_compile_options(-fsanitize=${PLEXUS_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${PLEXUS_SANITIZE})
endif()

# libFuzzer targets (tests/fuzz/): -DPLEXUS_FUZZ=ON with CMAKE_CXX_COMPILER=clang++, in a
# build folder of their own (tests/fuzz/run.sh makes one). The library is compiled with
# coverage instrumentation plus ASan and UBSan; each fuzz target links libFuzzer's main.
option(PLEXUS_FUZZ "Build the libFuzzer targets in tests/fuzz (clang only)" OFF)
if(PLEXUS_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "PLEXUS_FUZZ needs clang: configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()

# Reuse the precompiled <plexus.hpp> of plexus_user_pch (top-level CMakeLists.txt).
function(plexus_use_pch target)
  if(TARGET plexus_user_pch)
    target_precompile_headers(${target} REUSE_FROM plexus_user_pch)
  endif()
endfunction()
