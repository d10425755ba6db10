/* The Windows half of error naming: errno values are the C runtime's, Win32
 * codes are named by the system's message table. */
#include "runtime/error_os.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <windows.h>

const char *corio__os_errno_message(int e) {
  /* The C runtime's strerror writes to a per-thread buffer. */
  const char *s = strerror(e);
  return s ? s : "unknown error";
}

/* The errno names the C runtime defines. */
#define ERRNO_NAMES(X)                                                                    \
  X(EPERM) X(ENOENT) X(ESRCH) X(EINTR) X(EIO) X(ENXIO) X(E2BIG) X(ENOEXEC) X(EBADF)       \
  X(ECHILD) X(EAGAIN) X(ENOMEM) X(EACCES) X(EFAULT) X(EBUSY) X(EEXIST) X(EXDEV)           \
  X(ENODEV) X(ENOTDIR) X(EISDIR) X(EINVAL) X(ENFILE) X(EMFILE) X(ENOTTY) X(EFBIG)         \
  X(ENOSPC) X(ESPIPE) X(EROFS) X(EMLINK) X(EPIPE) X(EDOM) X(ERANGE) X(EDEADLK)           \
  X(ENAMETOOLONG) X(ENOLCK) X(ENOSYS) X(ENOTEMPTY) X(EILSEQ)

const char *corio__os_errno_name(int e) {
  switch (e) {
#define ERRNO_CASE(name) case name: return #name;
    ERRNO_NAMES(ERRNO_CASE)
#undef ERRNO_CASE
  default: return NULL;
  }
}

const char *corio__os_win32_message(uint32_t code) {
  static _Thread_local char buf[256];
  DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code,
                           0, buf, sizeof buf, NULL);
  /* The table's messages end in ".\r\n"; keep the sentence, drop the line end. */
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) n--;
  if (n == 0) {
    snprintf(buf, sizeof buf, "Windows error %u", (unsigned)code);
    return buf;
  }
  buf[n] = '\0';
  return buf;
}
