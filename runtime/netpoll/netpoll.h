/* runtime/netpoll: poll descriptors over one OS backend.
 *
 * ---- Backend contract (netpoll_epoll.c, netpoll_windows.c) ----
 * Each backend defines, with these exact names:
 *
 *   int  corio__netpoll_init(void)
 *        Create the poller (epoll instance + eventfd; completion port). Called
 *        once by corio_init. 0 or a negative corio error.
 *   void corio__netpoll_fini(void)
 *        Destroy it; called by corio_shutdown after every M has stopped.
 *   int  corio__netpoll_open(uintptr_t handle, corio__pd_t *pd)
 *        Register handle (fd / HANDLE / SOCKET) for pd. epoll: edge-triggered
 *        EPOLLIN|EPOLLOUT|EPOLLRDHUP, once, with pd as the event's data. IOCP:
 *        associate with the port under a key naming pd and its sequence.
 *   int  corio__netpoll_close(uintptr_t handle)
 *        Unregister (epoll: EPOLL_CTL_DEL; IOCP: nothing, the key's sequence
 *        makes late packets harmless).
 *   void corio__netpoll(int64_t delay, corio__glist_t *out)
 *        delay < 0: block until an event or a break; delay == 0: poll without
 *        blocking; delay > 0: block at most delay nanoseconds. Append to out
 *        every G made runnable by the events (through corio__netpoll_ready).
 *        Called by one M at a time for blocking polls; it may return early.
 *   void corio__netpoll_break(void)
 *        Wake a blocked corio__netpoll. Callable from any thread; a burst of
 *        breaks before the poller wakes costs one wake-up.
 *   bool corio__netpoll_is_poll_fd(uintptr_t handle)
 *        True for the poller's own handles (so user code can't close them).
 *
 * The backend reports what the OS said with
 *   corio__netpoll_ready(pd, mode, out)      mode: 'r', 'w' or 'r'+'w'
 * and, for an error condition on the handle (EPOLLERR), sets the event-error
 * flag with corio__pd_set_event_err(pd, seq) before readying.
 *
 * ---- Poll descriptors (netpoll.c), used by poll/ ----
 * A pd has a read and a write waiter slot, deadlines, a closing flag, an
 * event-error flag and a sequence number bumped on reuse. Descriptors are
 * type-stable: they are cached and never returned to the allocator while the
 * runtime runs, since the OS may still report on a closed one.
 * mode arguments are 'r', 'w', or 'r'+'w' (both; set_deadline only).
 * is_file selects the flavour of the closing error (file vs network).
 */
#ifndef CORIO_NETPOLL_H
#define CORIO_NETPOLL_H

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
};

/* Backend contract (see above). */
int corio__netpoll_init(void);
void corio__netpoll_fini(void);
int corio__netpoll_open(uintptr_t handle, corio__pd_t *pd);
int corio__netpoll_close(uintptr_t handle);
void corio__netpoll(int64_t delay, corio__glist_t *out);
void corio__netpoll_break(void);
bool corio__netpoll_is_poll_fd(uintptr_t handle);

/* Called by backends. */
void corio__netpoll_ready(corio__pd_t *pd, int mode, corio__glist_t *out);
/* true when at least one G waits on a pd (the scheduler then blocks in netpoll). */
bool corio__netpoll_any_waiters(void);

/* Portable descriptor operations (netpoll.c). */
int corio__pd_open(uintptr_t handle, corio__pd_t **out); /* 0 or negative corio error */
void corio__pd_close(corio__pd_t *pd);     /* after unblock; handle already unregistered */
int corio__pd_reset(corio__pd_t *pd, int mode, bool is_file);  /* CORIO__POLL_* */
int corio__pd_wait(corio__pd_t *pd, int mode, bool is_file);   /* CORIO__POLL_* */
void corio__pd_wait_canceled(corio__pd_t *pd, int mode);       /* Windows */
void corio__pd_set_deadline(corio__pd_t *pd, int64_t deadline, int mode); /* 0: none; < now: expired */
void corio__pd_unblock(corio__pd_t *pd);   /* mark closing, wake both waiters */
uintptr_t corio__pd_seq(const corio__pd_t *pd);
void corio__pd_set_event_err(corio__pd_t *pd, uintptr_t seq);

#endif
