# Compile-fail check: SOURCE must compile with -DPLEXUS_CONTROL (the harness and the
# headers are fine) and must fail without it, with the regex on its "// expect:" line in
# the compiler's output (the error names the keyword).
file(STRINGS ${SOURCE} expect_line REGEX "^// expect: ")
if(NOT expect_line)
  message(FATAL_ERROR "${SOURCE} has no '// expect: <regex>' line")
endif()
string(REGEX REPLACE "^// expect: " "" expect "${expect_line}")
set(flags -std=c++20 -fsyntax-only -I${INCLUDE_DIR})
execute_process(COMMAND ${COMPILER} ${flags} -DPLEXUS_CONTROL ${SOURCE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the control build of ${SOURCE} failed:\n${out}${err}")
endif()
execute_process(COMMAND ${COMPILER} ${flags} ${SOURCE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()
# GCC quotes names with typographic quotes; match on the plain text.
string(REPLACE "‘" "'" err "${err}")
string(REPLACE "’" "'" err "${err}")
if(NOT "${out}${err}" MATCHES "${expect}")
  message(FATAL_ERROR "${SOURCE} failed to compile, but the output does not match '${expect}':\n${err}")
endif()
message(STATUS "${SOURCE}: fails as expected, naming '${expect}'")
