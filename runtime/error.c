/* corio_strerror / corio_err_name over the CORIO_ERRNO_MAP table. OS errors are
 * named by the OS's own tables (runtime/error_linux.c, runtime/error_windows.c). */
#include "corio/error.h"
#include "runtime/error_os.h"

#include <stdio.h>

const char *corio_strerror(int err) {
  switch (err) {
#define CORIO_ERR_MSG(name, value, msg) case value: return msg;
    CORIO_ERRNO_MAP(CORIO_ERR_MSG)
#undef CORIO_ERR_MSG
  default: break;
  }
  if (err == 0) return "success";
  if (corio_err_errno(err)) return corio__os_errno_message(corio_err_errno(err));
  if (corio_err_win32(err)) return corio__os_win32_message(corio_err_win32(err));
  return "unknown error";
}

const char *corio_err_name(int err) {
  static _Thread_local char buf[32];
  switch (err) {
#define CORIO_ERR_NAME(name, value, msg) case value: return "CORIO_E" #name;
    CORIO_ERRNO_MAP(CORIO_ERR_NAME)
#undef CORIO_ERR_NAME
  default: break;
  }
  if (err == 0) return "OK";
  if (corio_err_errno(err)) {
    const char *n = corio__os_errno_name(corio_err_errno(err));
    if (n) return n;
    snprintf(buf, sizeof buf, "ERRNO_%d", corio_err_errno(err));
    return buf;
  }
  if (corio_err_win32(err)) {
    snprintf(buf, sizeof buf, "WIN32_%u", (unsigned)corio_err_win32(err));
    return buf;
  }
  return "UNKNOWN";
}
