# The Promela models of models/, checked exhaustively with spin: one CTest
# entry per model configuration, label "model". Included by
# tests/CMakeLists.txt in native builds (the models check protocols, not the
# compiled code, so one build type is enough). Each entry runs
# models/check.sh, which fails on any error and on an incomplete search;
# the *_unfixed entries pass only when the unfixed variant deadlocks.
option(CORIO_MODEL_CHECKS "Check the Promela models in models/ with spin (native builds)" ON)
if(CORIO_MODEL_CHECKS)
  set(CORIO_MODELS_DIR ${CMAKE_CURRENT_LIST_DIR})
  find_program(CORIO_SPIN spin)
  find_program(CORIO_BASH bash)
  # name | check.sh arguments (a model, then its -D bounds and variants)
  set(CORIO_MODEL_RUNS
    "waiter_events|waiter -DNOPEN=1 -DNWAIT=2 -DNSET=1 -DNEV=2"
    "waiter_deadlines|waiter -DNOPEN=1 -DNWAIT=2 -DNSET=2 -DNEV=1 -DONE_TIMER_M"
    "waiter_reuse|waiter -DNOPEN=2 -DNWAIT=1 -DNSET=1 -DNEV=1 -DONE_TIMER_M"
    "fdmutex|fdmutex"
    "fdmutex_limits|fdmutex -DNR=2 -DNWR=2 -DCORIO__FDMU_COUNT_BITS=1 -DWITH_REF"
    "fdmutex_readers|fdmutex -DNR=3 -DCORIO__FDMU_COUNT_BITS=1"
    "sched|sched"
    "sched_spawn|sched -DSPAWN"
    "sched_foreign|sched -DFOREIGN -DNOIO"
    "sched_newm_fails|sched -DNEWM_FAILS -DNM=2"
    "sched_newm_fails_nobreak|--expect-deadlock sched -DNEWM_FAILS -DNEWM_NOBREAK -DNM=2"
    "sched_unfixed|--expect-deadlock sched -DUNFIXED"
    "sched_foreign_unfixed|--expect-deadlock sched -DFOREIGN -DNOIO -DUNFIXED")
  foreach(run ${CORIO_MODEL_RUNS})
    string(REPLACE "|" ";" parts "${run}")
    list(GET parts 0 name)
    list(GET parts 1 args)
    separate_arguments(args UNIX_COMMAND "${args}")
    if(CORIO_SPIN AND CORIO_BASH)
      add_test(NAME model_${name} COMMAND ${CORIO_BASH} ${CORIO_MODELS_DIR}/check.sh ${args})
    else()
      # Not skipped in silence: the check fails and says why.
      add_test(NAME model_${name} COMMAND ${CMAKE_COMMAND} -E echo
        "spin is not installed (Debian: apt-get install spin), or configure with -DCORIO_MODEL_CHECKS=OFF")
      set_tests_properties(model_${name} PROPERTIES WILL_FAIL TRUE)
    endif()
    set_tests_properties(model_${name} PROPERTIES LABELS "model" TIMEOUT 300)
  endforeach()
endif()
