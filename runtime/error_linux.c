#include "runtime/error_os.h"
#include <errno.h>
#include <string.h>

const char *corio__os_errno_message(int e) {
  /* strerror may share a buffer between threads; strerrordesc_np is per code. */
  const char *s = strerrordesc_np(e);
  return s ? s : "unknown error";
}

const char *corio__os_errno_name(int e) { return strerrorname_np(e); }

const char *corio__os_win32_message(uint32_t code) {
  (void)code;
  return "Windows error";
}
