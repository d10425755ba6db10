/* The FD on Windows: detaching a handle from the runtime's completion port
 * (Go 1.25's DisassociateIOCP), so that its owner can attach it to a port of
 * its own. The io word's protocol that makes it safe is in fd_windows.h. */
#include "fd_windows.h"

#include <winternl.h>

#include "corio/runtime.h"

/* Not in every SDK's headers. */
#define FILE_REPLACE_COMPLETION_INFORMATION 61  /* FileReplaceCompletionInformation */
#define NT_STATUS_NOT_IMPLEMENTED ((NTSTATUS)0xC0000002L)
#define NT_STATUS_INVALID_INFO_CLASS ((NTSTATUS)0xC0000003L)
#define NT_STATUS_NOT_SUPPORTED ((NTSTATUS)0xC00000BBL)

/* FILE_COMPLETION_INFORMATION: the port a handle reports to, and its key. */
typedef struct completion_info {
  HANDLE port;
  void *key;
} completion_info_t;

/* An NTSTATUS from the detach call: "this system cannot" is its own error. */
static int nt_err(NTSTATUS st) {
  if (st == NT_STATUS_NOT_IMPLEMENTED || st == NT_STATUS_INVALID_INFO_CLASS ||
      st == NT_STATUS_NOT_SUPPORTED)
    return CORIO_ENOTSUP;
  return corio_err_from_win32((uint32_t)RtlNtStatusToDosError(st));
}

static int detach(corio__fd_t *fd) {
  corio__fd_win_t *w = fd->sys;
  if (atomic_load_explicit(&fd->blocking, memory_order_relaxed) || !fd->pd) return 0;
  uint32_t s = 0;
  if (!atomic_compare_exchange_strong_explicit(&w->io, &s, CORIO__FD_IO_DETACHING, memory_order_acq_rel,
                                               memory_order_acquire))
    return (s & CORIO__FD_IO_DETACHED) ? 0 : CORIO_EINPROGRESS;
  completion_info_t info = {NULL, NULL};
  IO_STATUS_BLOCK iosb;
  NTSTATUS st = NtSetInformationFile((HANDLE)fd->handle, &iosb, &info, sizeof info,
                                     (FILE_INFORMATION_CLASS)FILE_REPLACE_COMPLETION_INFORMATION);
  if (st != 0) {
    atomic_fetch_and_explicit(&w->io, ~CORIO__FD_IO_DETACHING, memory_order_release);
    return nt_err(st);
  }
  /* No call started while DETACHING was set, so the count is still 0. */
  atomic_store_explicit(&w->io, CORIO__FD_IO_DETACHED, memory_order_release);
  atomic_store_explicit(&fd->disassociated, true, memory_order_release);
  /* The poll descriptor stays until destroy: closing it here would race
   * with set_deadline and close (Go leaves it too). */
  return 0;
}

int corio__fd_disassociate_iocp(corio__fd_t *fd) {
  int err = corio__fd_incref(fd);
  if (err) return err;
  err = detach(fd);
  corio__fd_decref(fd);
  return err;
}
