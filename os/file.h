/* os/file.h: the File over the poll FD; shared by os/file.c (portable) and
 * the platform halves os/file_unix.c and os/file_windows.c. */
#ifndef CORIO_OS_FILE_H
#define CORIO_OS_FILE_H

#include <stdbool.h>
#include <stdint.h>

#include "corio/os.h"
#include "fd.h"

/* How a handle reached us: decides whether it is put on the poller. */
enum {
  CORIO__FILE_NEW = 1,  /* corio_file_new: pollable when already non-blocking (Unix) */
  CORIO__FILE_OPEN = 2, /* opened by corio_file_open: try the poller */
  CORIO__FILE_PIPE = 3, /* an end made by corio_file_pipe: always pollable */
};

struct corio_file {
  corio__fd_t pfd;  /* must stay first: the File and its FD share the memory */
  char *name;       /* owned copy, never NULL; immutable */
  bool append;      /* opened with CORIO_O_APPEND: write_at is refused */
};

/* ==== Defined by each platform (file_unix.c, file_windows.c) ==== */

/* Open name; flags are already validated (exactly the CORIO_O_* bits, a valid
 * access mode). *handle receives the new handle, opened for non-blocking /
 * overlapped use and not inherited by child processes. 0 or an OS error. */
int corio__file_sys_open(const char *name, int flags, uint32_t perm, uintptr_t *handle);

/* Both ends of a pipe, h[0] for reading, h[1] for writing, ready for the
 * poller and not inherited. 0 or an OS error (nothing is left open). */
int corio__file_sys_pipe(uintptr_t h[2]);

/* Decide the FD kind of handle and initialise f->pfd over it (corio__fd_init)
 * according to how (CORIO__FILE_*). CORIO_EBADF for a handle that is not open;
 * on error the caller still owns handle. */
int corio__file_sys_init(corio_file_t *f, uintptr_t handle, int how);

/* The platform half of corio_file_fd_ex: called with a reference held on
 * f->pfd. Unix: set_blocking. Windows: disassociate from the port. 0 or an
 * error as documented for corio_file_fd_ex. */
int corio__file_sys_fd(corio_file_t *f);

/* Close a raw handle that no FD owns yet (error paths of open and pipe). */
void corio__file_sys_close_handle(uintptr_t handle);

/* ==== Portable (file.c) ==== */

/* Allocate a File named name over handle (taking ownership on success; on
 * error the caller still owns handle). Checks that the runtime is
 * initialised (CORIO_ENOTINIT). */
int corio__file_new(uintptr_t handle, const char *name, int how, corio_file_t **out);

#endif
