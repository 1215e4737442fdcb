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
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()
