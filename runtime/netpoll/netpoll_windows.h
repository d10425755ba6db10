/* The Windows netpoll backend's interface to the Windows poll layer
 * (poll/fd_windows.c). Windows-only: no portable file includes this.
 *
 * Every overlapped call the poll layer issues on a handle that is on the
 * runtime's completion port uses an OVERLAPPED that is the first member of a
 * corio__win_op_t. When its packet arrives, netpoll_windows.c turns the
 * OVERLAPPED pointer back into the operation, checks that the packet's key
 * names the operation's descriptor (at its current sequence) and readies the
 * waiter of op->mode. The backend does not copy the result anywhere: the
 * kernel wrote it into the OVERLAPPED, read it from there (Wine leaves the
 * upper half of OVERLAPPED_ENTRY.Internal stale, so the entry is not used).
 */
#ifndef CORIO_NETPOLL_WINDOWS_H
#define CORIO_NETPOLL_WINDOWS_H

#include <winsock2.h>
#include <windows.h>

#include <stdbool.h>
#include <stdint.h>

#include "netpoll.h"

typedef struct corio__win_op {
  OVERLAPPED ov;   /* must stay first: a packet's lpOverlapped is the op's address */
  corio__pd_t *pd; /* the descriptor whose waiter the completion readies */
  int mode;        /* 'r' or 'w': which waiter */
} corio__win_op_t;

/* The runtime's completion port (NULL before corio__netpoll_init). Only for
 * inspecting or comparing; handles are associated through corio__pd_open. */
HANDLE corio__netpoll_port(void);

/* The NTSTATUS the kernel stored in the operation when it completed
 * (STATUS_PENDING while in flight). Only the low 32 bits are meaningful. */
static inline uint32_t corio__win_op_status(const corio__win_op_t *op) {
  return (uint32_t)(op->ov.Internal & 0xFFFFFFFFu);
}

/* The byte count the kernel stored in the operation when it completed. */
static inline uint32_t corio__win_op_bytes(const corio__win_op_t *op) {
  return (uint32_t)op->ov.InternalHigh;
}

/* Whether blocking polls are cut short by a high-resolution timer packet
 * (NtAssociateWaitCompletionPacket with a high-resolution waitable timer)
 * rather than by the port wait's millisecond timeout. false under Wine 8,
 * which lacks the wait-completion-packet calls. */
bool corio__netpoll_high_res_timer(void);

#endif
