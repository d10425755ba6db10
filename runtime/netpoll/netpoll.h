/* runtime/netpoll: poll descriptors over one OS backend.
 *
 * ---- Life of the poller (netpoll.c) ----
 *   int  corio__netpoll_init(int nprocs)
 *        Create the poller for a runtime of nprocs Ps. Called once by
 *        corio_init (again after a corio_shutdown). 0 or a negative corio
 *        error.
 *   void corio__netpoll_fini(void)
 *        Destroy the poller and free every poll descriptor, open or not;
 *        called by corio_shutdown after every M has stopped. Deadline timers
 *        live inside descriptors and may still sit in a timer heap: from
 *        then on the heaps may be freed but not walked.
 * Both call the backend's corio__netpoll_backend_init / _fini below.
 *
 * ---- Backend contract (netpoll_epoll_linux.c, netpoll_windows.c) ----
 * Each backend defines, with these exact names:
 *
 *   int  corio__netpoll_backend_init(void)
 *        Create the epoll instance and its eventfd / the completion port.
 *   void corio__netpoll_backend_fini(void)
 *        Close them. No M is running.
 *   int  corio__netpoll_open(uintptr_t handle, corio__pd_t *pd)
 *        Register handle (fd / HANDLE / SOCKET) for pd, once, for the life of
 *        pd. epoll: edge-triggered EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLPRI|EPOLLET
 *        with pd and its sequence (corio__pd_tagged) as the event's data
 *        (EPOLLPRI: see the hang-up hint below). IOCP:
 *        associate with the port under a key naming pd, its sequence and the
 *        I/O source. 0 or a negative corio error (the OS's).
 *   int  corio__netpoll_close(uintptr_t handle)
 *        Unregister (epoll: EPOLL_CTL_DEL; IOCP: nothing, a handle stays on
 *        its port and the key's sequence makes late packets harmless).
 *        Called by corio__pd_close; the handle must still be open.
 *   void corio__netpoll(int64_t delay, corio__glist_t *out)
 *        delay < 0: block until an event or a break; delay == 0: poll without
 *        blocking; delay > 0: block at most delay nanoseconds (at the best
 *        resolution the OS offers). Append to out every G made runnable by the
 *        events; the caller makes them runnable (corio__inject_glist). Blocking
 *        polls are made by one M at a time; nonblocking ones by any M at any
 *        time. It may return early (a signal, a break, a coarse OS timeout);
 *        the caller recomputes its delay. Does nothing before init.
 *   void corio__netpoll_break(void)
 *        Wake a blocked corio__netpoll (or make the next blocking one return at
 *        once). Callable from any thread; a burst of breaks before the poller
 *        wakes costs one wake-up.
 *   bool corio__netpoll_is_poll_fd(uintptr_t handle)
 *        True for the poller's own handles (so user code can't close them).
 *   uint32_t corio__netpoll_backend_caps(void)
 *        What the backend promises beyond this contract: a set of
 *        CORIO__NETPOLL_CAP_* bits (below), the same for the whole process.
 *        A backend that promises nothing returns 0 and loses only speed.
 *
 * A backend reports what the OS said about a registered handle with
 *   corio__netpoll_ready_event(pd, tag, tag_bits, mode, ev, out)
 * which drops the event when pd was closed (and perhaps reused) since the
 * handle was registered, sets or clears the event-error flag (ev has
 * CORIO__PD_EV_ERR: epoll reported only EPOLLERR), sets the hang-up hint
 * (ev has CORIO__PD_EV_HUP) and readies the waiters of mode: 'r', 'w' or
 * 'r'+'w'.
 *
 * ---- Capability CORIO__NETPOLL_CAP_STICKY_HUP: "reports a sticky hang-up" ----
 * A reader on a readiness backend may skip the read that would fail with
 * "would block" after a read that came back short, and wait for the next
 * notification first (the poll layer's short-read rule, poll/fd_unix.c).
 * That is safe only while every byte still to be read will be announced by
 * a notification yet to come. An edge-triggered backend announces a hang-up
 * (end of file, peer shutdown, an error) once, possibly in the same
 * notification as the last data; and a TCP read stops short at urgent data
 * with bytes left behind. A backend with this capability passes
 * CORIO__PD_EV_HUP for every event of that class (epoll: EPOLLRDHUP,
 * EPOLLHUP, EPOLLERR and EPOLLPRI, urgent data, registered for this), and
 * the descriptor keeps the hint, sticky until it is next opened: from then
 * on its reader makes every read. The hint is stored before the waiter slot
 * is looked at and readied, so a reader that took or dropped the READY of
 * that notification (by corio__pd_wait or corio__pd_reset) sees the hint
 * (corio__pd_hup_seen); the memory orders are argued in netpoll.c.
 * The poll layer reads the capability once, when an FD is initialised
 * (corio__netpoll_caps); without it the short-read rule stays off and every
 * read is made. epoll has it. IOCP reports completions, never readiness,
 * and has no use for it; a kqueue or io_uring backend would leave it off
 * until it can keep the promise.
 *
 * ---- Poll descriptors (netpoll.c), used by poll/ ----
 * A pd has a read and a write waiter slot, deadlines (absolute monotonic
 * nanoseconds) whose timers can move while a coroutine waits, a closing flag,
 * an event-error flag and a sequence number bumped on reuse. Descriptors are
 * type-stable: they are cached and never returned to the allocator while the
 * runtime runs, since the OS may still report on a closed one.
 * mode arguments are 'r', 'w', or 'r'+'w' (both; set_deadline only).
 * Only one coroutine may wait on a pd in a given mode at a time (the poll
 * layer's read / write locks ensure it); a second one is a fatal error.
 */
#ifndef CORIO_NETPOLL_H
#define CORIO_NETPOLL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sched.h"

typedef struct corio__pd corio__pd_t;

/* Results of reset/wait, defined once for runtime and poll layers. */
enum {
  CORIO__POLL_OK = 0,
  CORIO__POLL_ERR_CLOSING = 1,     /* descriptor closing */
  CORIO__POLL_ERR_TIMEOUT = 2,     /* deadline exceeded */
  CORIO__POLL_ERR_NOT_POLLABLE = 3,/* the handle is not on the poller (event error) */
  CORIO__POLL_ERR_NOTCORO = 4,     /* a wait asked of a thread running no coroutine */
};

/* Poller life (netpoll.c, see above). */
int corio__netpoll_init(int nprocs);
void corio__netpoll_fini(void);

/* Backend capabilities (corio__netpoll_backend_caps, see above). */
enum { CORIO__NETPOLL_CAP_STICKY_HUP = 1u << 0 };
/* The capabilities in force: the backend's (tests may mask some off,
 * netpoll_testing.h). Read when an FD is initialised, not per operation. */
uint32_t corio__netpoll_caps(void);

/* Backend contract (see above). */
int corio__netpoll_backend_init(void);
void corio__netpoll_backend_fini(void);
int corio__netpoll_open(uintptr_t handle, corio__pd_t *pd);
int corio__netpoll_close(uintptr_t handle);
void corio__netpoll(int64_t delay, corio__glist_t *out);
void corio__netpoll_break(void);
bool corio__netpoll_is_poll_fd(uintptr_t handle);
uint32_t corio__netpoll_backend_caps(void);

/* ---- Called by backends ----
 * A tagged reference packs a descriptor's address and a tag of up to
 * CORIO__PD_TAG_BITS bits into the 64 bits the OS carries for us (epoll_data,
 * an IOCP completion key). Descriptors are 64-byte aligned and user-space
 * addresses fit in 48 bits on x86-64 (and on aarch64, should a port come), so the
 * address needs 42 bits; packing a descriptor that does not fit is fatal.
 * A NULL pd packs to its tag alone, so backends can use small tags for their
 * own sources (the eventfd, a break packet). */
#define CORIO__PD_TAG_BITS 22
uint64_t corio__pd_tagged(corio__pd_t *pd, uint32_t tag);
static inline corio__pd_t *corio__pd_untag(uint64_t tagged, uint32_t *tag) {
  *tag = (uint32_t)(tagged & ((1u << CORIO__PD_TAG_BITS) - 1));
  return (corio__pd_t *)(uintptr_t)((tagged >> CORIO__PD_TAG_BITS) << 6);
}

/* Deliver an OS event for pd. seq_tag is the low tag_bits bits of the
 * sequence the handle was registered under; when it no longer matches pd's
 * sequence (pd closed, maybe reused) the event is dropped and false returned.
 * Otherwise the event-error flag is set when ev has CORIO__PD_EV_ERR and
 * cleared when not, the hang-up hint is set when ev has CORIO__PD_EV_HUP, and
 * then the waiters of mode are readied: a parked G goes to out, an empty slot
 * becomes READY. The check and the delivery are one step under pd's lock, so a
 * descriptor closed and reopened concurrently never sees the old handle's
 * event. */
enum { CORIO__PD_EV_ERR = 1u << 0, CORIO__PD_EV_HUP = 1u << 1 };
bool corio__netpoll_ready_event(corio__pd_t *pd, uint32_t seq_tag, int tag_bits, int mode,
                                unsigned ev, corio__glist_t *out);
/* The lock-free half of that check, for a backend that must know whether an
 * event is current before it looks further (IOCP: before it reads the
 * OVERLAPPED, which a stale key's handle may share with someone else). A
 * true answer can go stale at once; deliver with corio__netpoll_ready_event. */
bool corio__pd_current(corio__pd_t *pd, uint32_t seq_tag, int tag_bits);

/* ---- Portable descriptor operations (netpoll.c) ---- */

/* Take a descriptor from the cache for handle and register handle with the
 * backend. 0, CORIO_ENOMEM, or the backend's error (nothing is kept). */
int corio__pd_open(uintptr_t handle, corio__pd_t **out);
/* Unregister the handle (corio__netpoll_close; the handle must still be open;
 * an earlier corio__netpoll_close by the caller is harmless) and return pd to
 * the cache. Only after corio__pd_unblock and with no waiter left (fatal
 * otherwise). The sequence is bumped, so late events and timers are dropped. */
void corio__pd_close(corio__pd_t *pd);
/* Prepare for an I/O attempt in mode 'r' or 'w': forget a stale readiness
 * notification. CORIO__POLL_OK, or CLOSING / TIMEOUT (the deadline of mode has
 * passed) / NOT_POLLABLE (mode 'r' after an event error): do not attempt.
 * The poll layer picks the closing error's flavour. */
int corio__pd_reset(corio__pd_t *pd, int mode);
/* Park the calling coroutine until the handle is ready for mode ('r' or 'w'),
 * the deadline of mode passes, or pd is unblocked. Returns at once when a
 * notification is pending. CORIO__POLL_OK, CLOSING, TIMEOUT or NOT_POLLABLE;
 * NOTCORO when the caller is not a coroutine (nothing changed): the park
 * boundary of every file and FD operation, checked here once for all. */
int corio__pd_wait(corio__pd_t *pd, int mode);
/* Windows, after CancelIoEx: park until the operation's completion packet
 * (success or aborted) arrives, whatever the deadline or closing state. */
void corio__pd_wait_canceled(corio__pd_t *pd, int mode);
/* Set the deadline of mode ('r', 'w' or 'r'+'w'): 0 none; an absolute
 * monotonic time (corio_nanotime) in the future moves the timer, even while a
 * coroutine waits; a time not after now (negative included) has passed: the
 * waiters of mode wake with TIMEOUT and later waits fail at once. Ignored
 * once pd is closing. */
void corio__pd_set_deadline(corio__pd_t *pd, int64_t deadline, int mode);
/* Mark pd closing and wake both waiters with CLOSING; stops its timers. Once
 * per open (a second call is fatal). */
void corio__pd_unblock(corio__pd_t *pd);
/* The hang-up hint (CORIO__NETPOLL_CAP_STICKY_HUP, above): true once the
 * backend has reported a hang-up class event for this open of pd; false
 * until then, and always on backends without the capability. A reader that consumed or reset away
 * the READY delivered with the hint sees it. */
bool corio__pd_hup_seen(corio__pd_t *pd);
/* The descriptor's sequence (bumped at every close). */
uintptr_t corio__pd_seq(const corio__pd_t *pd);

/* ---- The waiter count (Go's netpollWaiters), for the scheduler ----
 * How many coroutines are parked on a pd, or were woken from one and have
 * not run yet. netpoll.c keeps it: up in the park's commit, before the G
 * becomes visible to wakers; down when the G runs again. The scheduler asks
 * only corio__netpoll_any_waiters and keeps no copy.
 *
 * The count is only ever changed by the holder of a P (a coroutine, or the
 * park's unlock callback). With a single P that is one thread at a time, so
 * it changes with a plain load and store; with more, with an atomic add.
 * That spares a 1-P runtime two locked instructions per I/O wait. Readers
 * (the scheduler's passes, sysmon) need no order: a stale answer costs one
 * poll, or one poll's delay, and the blocking poller is woken by a break. */
extern _Atomic int32_t corio__netpoll_waiters; /* read only through the predicate */
/* true when at least one G is parked on a pd, or was woken from one and has
 * not run yet: polling may find something, and an idle M blocks in the
 * poller rather than sleep. Inline: every park and poll decision asks. */
static inline bool corio__netpoll_any_waiters(void) {
  return atomic_load_explicit(&corio__netpoll_waiters, memory_order_relaxed) > 0;
}

#endif
