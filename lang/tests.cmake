# Script tests: every tests/lang/*.lang and lang/examples/*.lang is run by
# lang/run_test.cmake with CORIO_PROCS=1 and CORIO_PROCS=4 (the same output is
# expected from both). Beside NAME.lang:
#   NAME.out     expected standard output (required)
#   NAME.err     expected standard error (default: empty)
#   NAME.status  expected exit status (default: 0)
#   NAME.in      standard input (default: empty)
#   NAME.args    arguments, one per line; @TMP@ is replaced by a scratch
#                directory of the run's own
# A script whose first line is "// unix-only" is skipped on Windows, and one
# that calls listen or dial where corio has no sockets.
file(GLOB LANG_TEST_SCRIPTS CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/tests/lang/*.lang ${CMAKE_CURRENT_SOURCE_DIR}/examples/*.lang)
get_target_property(lang_emulator corio-lang CROSSCOMPILING_EMULATOR)
if(NOT lang_emulator)
  set(lang_emulator "")
endif()
foreach(script ${LANG_TEST_SCRIPTS})
  get_filename_component(name ${script} NAME_WE)
  get_filename_component(dir ${script} DIRECTORY)
  get_filename_component(kind ${dir} NAME)
  if(NOT EXISTS ${dir}/${name}.out)
    continue()
  endif()
  file(STRINGS ${script} first LIMIT_COUNT 1)
  if(WIN32 AND first MATCHES "unix-only")
    continue()
  endif()
  file(READ ${script} body)
  if(NOT LANG_HAVE_NET AND body MATCHES "(listen|dial)\\(")
    continue() # sockets: not on a platform without corio's net/ half
  endif()
  foreach(procs 1 4)
    set(tname lang_${kind}_${name}_p${procs})
    set(extra "")
    if(CORIO_SANITIZE STREQUAL "thread" AND name STREQUAL "parked_10k")
      set(extra 5000) # TSan's fibers share about 8k thread slots
    endif()
    add_test(NAME ${tname}
      COMMAND ${CMAKE_COMMAND} -DLANG=$<TARGET_FILE:corio-lang> "-DEMULATOR=${lang_emulator}"
              "-DEXTRA_ARGS=${extra}"
              -DSCRIPT=${script} -DPROCS=${procs} -DTMP=${CMAKE_CURRENT_BINARY_DIR}/tmp/${tname}
              -P ${CMAKE_CURRENT_SOURCE_DIR}/run_test.cmake)
    set(env "CORIO_PROCS=${procs}")
    if(CORIO_SANITIZE STREQUAL "address")
      list(APPEND env "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/lsan.supp"
                      "ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=0")
    endif()
    set_tests_properties(${tname} PROPERTIES ENVIRONMENT "${env}" LABELS "quick;lang" TIMEOUT 300)
  endforeach()
endforeach()

# The command line: a snippet with -e and its arguments, and bad usage.
add_test(NAME lang_snippet COMMAND corio-lang -e "print(1 + 2, args)" a b)
set_tests_properties(lang_snippet PROPERTIES PASS_REGULAR_EXPRESSION "^3 \\[\"a\", \"b\"\\]" LABELS "quick;lang")
add_test(NAME lang_usage COMMAND corio-lang)
set_tests_properties(lang_usage PROPERTIES WILL_FAIL TRUE LABELS "quick;lang")

# Built as an outside embedder builds it: against the installed corio only.
if(NOT CMAKE_CROSSCOMPILING AND NOT CORIO_SANITIZE)
  add_test(NAME lang_standalone_build
    COMMAND ${CMAKE_COMMAND} -DBUILD=${PROJECT_BINARY_DIR} -DSRC=${CMAKE_CURRENT_SOURCE_DIR}
            -DWORK=${CMAKE_CURRENT_BINARY_DIR}/standalone -DCC=${CMAKE_C_COMPILER}
            -P ${CMAKE_CURRENT_SOURCE_DIR}/standalone_test.cmake)
  set_tests_properties(lang_standalone_build PROPERTIES LABELS "quick;lang" TIMEOUT 600)
endif()
