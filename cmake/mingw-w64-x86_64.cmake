# Cross build for Windows x86-64 with mingw-w64; tests run under Wine.
#
#   cmake -S . -B build-mingw -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake
#   ninja -C build-mingw
#   scripts/wine-session.sh start build-mingw      # one wineserver for the whole run
#   (cd build-mingw && ctest --output-on-failure)
#   scripts/wine-session.sh stop build-mingw
#
# CTest runs every test executable through scripts/wine-run.sh (the
# cross-compiling emulator), which uses a Wine prefix inside the build tree.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(CORIO_MINGW_PREFIX x86_64-w64-mingw32 CACHE STRING "mingw-w64 tool prefix")
set(CMAKE_C_COMPILER   ${CORIO_MINGW_PREFIX}-gcc)
set(CMAKE_CXX_COMPILER ${CORIO_MINGW_PREFIX}-g++)
set(CMAKE_ASM_COMPILER ${CORIO_MINGW_PREFIX}-gcc)
set(CMAKE_RC_COMPILER  ${CORIO_MINGW_PREFIX}-windres)

# Look for libraries and headers in the target's sysroot only, tools on the host.
set(CMAKE_FIND_ROOT_PATH /usr/${CORIO_MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Link the compiler's runtime statically, so an .exe (and corio's DLL) runs
# under Wine or on a bare Windows without the mingw DLLs beside it.
set(CMAKE_EXE_LINKER_FLAGS_INIT    "-static-libgcc -static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc -static")

get_filename_component(CORIO_WINE_RUN ${CMAKE_CURRENT_LIST_DIR}/../scripts/wine-run.sh ABSOLUTE)
set(CMAKE_CROSSCOMPILING_EMULATOR ${CORIO_WINE_RUN})
