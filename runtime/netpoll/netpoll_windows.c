/* The Windows netpoll backend: one I/O completion port for the runtime.
 * Contract in netpoll.h, the operation header in netpoll_windows.h; Go's
 * runtime/netpoll_windows.go is the model.
 *
 * Completion keys. Every packet corio queues carries a key built by
 * corio__pd_tagged(pd, tag), 64 bits:
 *
 *   bits 63..22  the descriptor's address >> 6 (NULL for break and timer)
 *   bits 21..4   the low 18 bits of the descriptor's sequence at association
 *   bits  3..0   the source: 1 I/O completion, 2 break, 3 timer
 *
 * A handle keeps its key for as long as it stays on the port, which may be
 * longer than its descriptor lives (a handle cannot always leave a port; Wine
 * cannot detach at all). A packet whose sequence no longer matches is
 * dropped before its OVERLAPPED is looked at: that OVERLAPPED may belong to
 * whoever drives the handle now. Source 0 and unknown sources are keys corio
 * did not make, and are ignored. */
#include <winsock2.h>
#include <windows.h>

#include <stdatomic.h>

#include "netpoll_windows.h"

enum { SRC_IO = 1, SRC_BREAK = 2, SRC_TIMER = 3 };
#define SRC_BITS 4
#define SRC_MASK ((1u << SRC_BITS) - 1)
#define SEQ_BITS (CORIO__PD_TAG_BITS - SRC_BITS)
#define SEQ_MASK ((1u << SEQ_BITS) - 1)
#define KEY_BREAK ((ULONG_PTR)SRC_BREAK)
#define KEY_TIMER ((ULONG_PTR)SRC_TIMER)

#define MAX_DELAY ((int64_t)1000000 * 1000000000) /* about 11.5 days */
#define MAX_ENTRIES 64

static HANDLE port;
/* 1 while a break packet is queued and not yet dequeued: a burst posts one. */
static _Atomic uint32_t wake_sig;

/* ---- The high-resolution timer ----
 * GetQueuedCompletionStatusEx times out at the system timer's resolution
 * (about 1 ms, 15.6 ms on some systems). Where ntdll has the
 * wait-completion-packet calls, a high-resolution waitable timer queues a
 * packet (source timer) on the port when the delay ends, so the poller wakes
 * on time; the port wait keeps a timeout as a safety net. Blocking polls are
 * made by one M at a time, and timer_busy makes sure of it for the timer. */
typedef LONG(NTAPI *nt_create_wcp_fn)(PHANDLE, ACCESS_MASK, PVOID);
typedef LONG(NTAPI *nt_assoc_wcp_fn)(HANDLE, HANDLE, HANDLE, PVOID, PVOID, LONG, ULONG_PTR,
                                     PBOOLEAN);
typedef LONG(NTAPI *nt_cancel_wcp_fn)(HANDLE, BOOLEAN);

#ifndef CREATE_WAITABLE_TIMER_HIGH_RESOLUTION
#define CREATE_WAITABLE_TIMER_HIGH_RESOLUTION 0x00000002
#endif
#define NT_STATUS_SUCCESS 0x00000000L
#define NT_STATUS_PENDING 0x00000103L
#define NT_STATUS_CANCELLED ((LONG)0xC0000120L)

static nt_assoc_wcp_fn nt_assoc;
static nt_cancel_wcp_fn nt_cancel;
static HANDLE hr_timer;  /* a high-resolution waitable timer */
static HANDLE hr_packet; /* its wait completion packet */
static _Atomic bool timer_busy;

static void timer_init(void) {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  if (ntdll == NULL)
    return;
  nt_create_wcp_fn create = (nt_create_wcp_fn)(void (*)(void))GetProcAddress(
      ntdll, "NtCreateWaitCompletionPacket");
  nt_assoc = (nt_assoc_wcp_fn)(void (*)(void))GetProcAddress(ntdll,
                                                              "NtAssociateWaitCompletionPacket");
  nt_cancel =
      (nt_cancel_wcp_fn)(void (*)(void))GetProcAddress(ntdll, "NtCancelWaitCompletionPacket");
  if (create == NULL || nt_assoc == NULL || nt_cancel == NULL)
    return; /* Wine 8: absent; polls time out at the port's resolution */
  hr_timer = CreateWaitableTimerExW(NULL, NULL, CREATE_WAITABLE_TIMER_HIGH_RESOLUTION,
                                    TIMER_ALL_ACCESS);
  if (hr_timer == NULL)
    return;
  if (create(&hr_packet, GENERIC_ALL, NULL) != NT_STATUS_SUCCESS) {
    hr_packet = NULL;
    CloseHandle(hr_timer);
    hr_timer = NULL;
  }
}

bool corio__netpoll_high_res_timer(void) { return hr_packet != NULL; }

/* Arm the timer to queue its packet after delay ns. 1: armed; 0: not this
 * time (fall back to the port timeout); -1: it has already expired. */
static int timer_arm(int64_t delay) {
  /* A packet can be tied to one wait at a time: undo the previous one, which
   * a break may have cut short. */
  LONG st = nt_cancel(hr_packet, TRUE);
  if (st == NT_STATUS_PENDING)
    return 0; /* that timer is expiring right now: skip the timer this once */
  if (st != NT_STATUS_SUCCESS && st != NT_STATUS_CANCELLED)
    return 0;
  LARGE_INTEGER due;
  due.QuadPart = -(delay / 100); /* relative, in 100 ns units */
  if (due.QuadPart == 0)
    due.QuadPart = -1;
  if (!SetWaitableTimer(hr_timer, &due, 0, NULL, NULL, FALSE))
    return 0;
  BOOLEAN signaled = FALSE;
  st = nt_assoc(hr_packet, port, hr_timer, (PVOID)KEY_TIMER, NULL, 0, 0, &signaled);
  if (st != NT_STATUS_SUCCESS)
    return 0;
  return signaled ? -1 : 1;
}

/* ---- The backend contract ---- */

int corio__netpoll_backend_init(void) {
  /* No concurrency limit: every M may dequeue; only one blocks at a time. */
  port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0xFFFFFFFF);
  if (port == NULL)
    return corio_err_from_win32(GetLastError());
  atomic_store(&wake_sig, 0);
  atomic_store(&timer_busy, false);
  timer_init();
  return 0;
}

void corio__netpoll_backend_fini(void) {
  if (hr_packet) {
    nt_cancel(hr_packet, TRUE);
    CloseHandle(hr_packet);
  }
  if (hr_timer)
    CloseHandle(hr_timer);
  if (port)
    CloseHandle(port);
  hr_packet = hr_timer = port = NULL;
}

HANDLE corio__netpoll_port(void) { return port; }

/* Completions, not readiness: no capability applies. */
uint32_t corio__netpoll_backend_caps(void) { return 0; }

bool corio__netpoll_is_poll_fd(uintptr_t handle) {
  HANDLE h = (HANDLE)handle;
  return h != NULL && (h == port || h == hr_timer || h == hr_packet);
}

int corio__netpoll_open(uintptr_t handle, corio__pd_t *pd) {
  uint32_t tag = ((uint32_t)(corio__pd_seq(pd) & SEQ_MASK) << SRC_BITS) | SRC_IO;
  ULONG_PTR key = (ULONG_PTR)corio__pd_tagged(pd, tag);
  if (CreateIoCompletionPort((HANDLE)handle, port, key, 0) == NULL)
    return corio_err_from_win32(GetLastError());
  return 0;
}

int corio__netpoll_close(uintptr_t handle) {
  (void)handle; /* the handle stays on the port; its key's sequence goes stale */
  return 0;
}

void corio__netpoll_break(void) {
  uint32_t zero = 0;
  if (!atomic_compare_exchange_strong(&wake_sig, &zero, 1))
    return; /* a break packet is already queued */
  if (!PostQueuedCompletionStatus(port, 0, KEY_BREAK, NULL))
    corio__throw("runtime: netpoll break: PostQueuedCompletionStatus failed");
}

/* An I/O packet: find its operation and ready the waiter, unless the key is
 * stale or the OVERLAPPED is not a corio operation of that descriptor. */
static void io_completion(const OVERLAPPED_ENTRY *e, corio__glist_t *out) {
  uint32_t tag;
  corio__pd_t *pd = corio__pd_untag(e->lpCompletionKey, &tag);
  if (pd == NULL || e->lpOverlapped == NULL)
    return;
  uint32_t seq = tag >> SRC_BITS;
  if (!corio__pd_current(pd, seq, SEQ_BITS))
    return; /* the descriptor was closed: do not touch the OVERLAPPED */
  corio__win_op_t *op = (corio__win_op_t *)e->lpOverlapped;
  if (op->pd != pd)
    return; /* I/O issued on the handle by someone else */
  if (op->mode != 'r' && op->mode != 'w')
    corio__throw("runtime: netpoll: completion for an operation with a bad mode");
  corio__netpoll_ready_event(pd, seq, SEQ_BITS, op->mode, 0, out);
}

/* The port wait's timeout in milliseconds. */
static DWORD wait_ms(int64_t delay, bool timer_armed) {
  if (delay < 0)
    return INFINITE;
  if (delay == 0)
    return 0;
  if (timer_armed) /* the timer's packet should come first: round up */
    return (DWORD)((delay + 999999) / 1000000);
  if (delay < 1000000)
    return 1; /* never a busy loop */
  return (DWORD)(delay / 1000000); /* rounded down: returning early is allowed */
}

void corio__netpoll(int64_t delay, corio__glist_t *out) {
  if (port == NULL)
    return;
  if (delay > MAX_DELAY)
    delay = MAX_DELAY;
  bool have_timer = false, armed = false;
  if (delay > 0 && hr_packet != NULL && !atomic_exchange(&timer_busy, true)) {
    have_timer = true;
    int r = timer_arm(delay);
    if (r < 0) {
      atomic_store(&timer_busy, false);
      return; /* expired while arming: the delay is over */
    }
    armed = r > 0;
  }
  OVERLAPPED_ENTRY ents[MAX_ENTRIES];
  /* Share the packets out between Ms that poll at the same time. */
  int procs = corio_procs();
  ULONG want = (ULONG)(procs > 0 ? MAX_ENTRIES / procs : MAX_ENTRIES);
  if (want < 8)
    want = 8;
  ULONG n = 0;
  BOOL ok = GetQueuedCompletionStatusEx(port, ents, want, &n, wait_ms(delay, armed), FALSE);
  DWORD err = ok ? 0 : GetLastError();
  if (have_timer)
    atomic_store(&timer_busy, false);
  if (!ok) {
    if (err == WAIT_TIMEOUT)
      return;
    corio__throw("runtime: netpoll: GetQueuedCompletionStatusEx failed");
  }
  for (ULONG i = 0; i < n; i++) {
    switch (ents[i].lpCompletionKey & SRC_MASK) {
    case SRC_IO:
      io_completion(&ents[i], out);
      break;
    case SRC_BREAK:
      if (ents[i].lpCompletionKey != KEY_BREAK)
        break;
      atomic_store(&wake_sig, 0);
      /* A nonblocking poll took the break meant for the blocked poller:
       * pass it on. */
      if (delay == 0)
        corio__netpoll_break();
      break;
    case SRC_TIMER:
      break; /* it only had to wake us */
    default:
      break; /* a key corio did not make */
    }
  }
}
