/* The standard streams' handles on Windows. */
#include <windows.h>

#include "stream.h"

corio_handle_t std_handle(int which) {
  static const DWORD ids[3] = {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE};
  HANDLE h = GetStdHandle(ids[which]);
  if (h == NULL || h == INVALID_HANDLE_VALUE) return CORIO_INVALID_HANDLE;
  /* corio takes ownership; give it a duplicate so the C runtime keeps its own */
  HANDLE d;
  if (!DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &d, 0, FALSE, DUPLICATE_SAME_ACCESS))
    return CORIO_INVALID_HANDLE;
  return (corio_handle_t)d;
}
bool std_is_tty(int which) {
  static const DWORD ids[3] = {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE};
  DWORD mode;
  return GetConsoleMode(GetStdHandle(ids[which]), &mode) != 0;
}
