# Sanitizer builds. The runtime annotates every stack switch for ASan and TSan
# (runtime/sched/switch.c), so nothing here silences reports.
if(CORIO_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(CORIO_ASAN=1)
elseif(CORIO_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  add_compile_definitions(CORIO_TSAN=1)
elseif(CORIO_SANITIZE)
  message(FATAL_ERROR "CORIO_SANITIZE must be empty, 'address' or 'thread'")
endif()
