# Runs MPIRUN -np NP PROGRAM ARGS; passes when the job exits non-zero within MAX_SECONDS
# and its output matches the regular expression EXPECT.
string(TIMESTAMP start "%s")
execute_process(COMMAND ${MPIRUN} -np ${NP} ${PROGRAM} ${ARGS}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                TIMEOUT ${MAX_SECONDS})
string(TIMESTAMP stop "%s")
math(EXPR elapsed "${stop} - ${start}")
message(STATUS "exit: ${rc}, ${elapsed} s\n--- stdout\n${out}\n--- stderr\n${err}")
if(rc STREQUAL "0")
  message(FATAL_ERROR "the job exited 0; a failed process must fail the job")
endif()
if(rc MATCHES "timeout|Process terminated due to timeout" OR elapsed GREATER ${MAX_SECONDS})
  message(FATAL_ERROR "the job did not end within ${MAX_SECONDS} s")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "the output does not match \"${EXPECT}\"")
endif()
message(STATUS "the job ended non-zero after ${elapsed} s, as expected")
