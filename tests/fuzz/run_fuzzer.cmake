# Run one libFuzzer binary for a bounded time on a scratch copy of its seeds.
# Inputs: FUZZER, SEEDS (directory), DICT (file, optional), WORK (scratch directory), SECONDS.
# Seeds or a dictionary that went missing fail the test rather than weaken it unseen.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(GLOB seeds ${SEEDS}/*)
if(NOT seeds)
  message(FATAL_ERROR "no seeds in ${SEEDS}")
endif()
file(COPY ${seeds} DESTINATION ${WORK}/corpus)
set(dict_arg)
if(DICT)
  if(NOT EXISTS ${DICT})
    message(FATAL_ERROR "dictionary ${DICT} not found")
  endif()
  set(dict_arg -dict=${DICT})
endif()
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -timeout=5 -rss_limit_mb=2048
          -artifact_prefix=${WORK}/artifacts/ ${dict_arg} ${WORK}/corpus
  WORKING_DIRECTORY ${WORK}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${rc}); crash inputs are in ${WORK}/artifacts")
endif()
