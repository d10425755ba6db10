/* corio sync: semaphores, mutex, wait group, channels and select.
 *
 * All of them park coroutines (never OS threads) and are built on the
 * scheduler's park/ready pair, after Go's runtime/sema.go, sync.Mutex,
 * sync.WaitGroup, runtime/chan.go and runtime/select.go.
 *
 * Threads: a call that can block (sema acquire, mutex lock, wait group wait,
 * channel send and receive, a select that is not a poll) must run on a
 * coroutine; from any other thread it returns CORIO_ENOTCORO at once, whatever
 * the state of the object. Calls that never block (sema release, mutex trylock
 * and unlock, wait group add and done, the channels' try_ variants, close, len,
 * cap, a polling select) work from any thread, including scheduler callbacks.
 *
 * Broken invariants are fatal, as in Go: unlocking an unlocked mutex, a wait
 * group counter going negative, reusing a wait group before its Wait returned,
 * destroying a channel that still has blocked coroutines.
 *
 * Deadlines are absolute monotonic nanoseconds (corio_nanotime()).
 */
#ifndef CORIO_SYNC_H
#define CORIO_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corio/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- semaphores keyed by address (Go's semacquire / semrelease) ----
 *
 * *addr is a count of available tokens; only these functions may change it
 * while coroutines can be waiting on it (they access it atomically). Waiters
 * are kept in a table hashed by address, so any uint32_t can be a semaphore
 * without initialisation beyond its count. */

/* Wait until *addr > 0, then decrement it.
 * Errors: CORIO_EINVAL (addr NULL), CORIO_ENOTCORO. */
CORIO_API int corio_sema_acquire(uint32_t *addr);

/* As corio_sema_acquire, giving up at deadline (0: no deadline; a deadline
 * already past: take a token only if one is available now).
 * Errors: CORIO_EINVAL (addr NULL), CORIO_ENOTCORO, CORIO_ETIMEOUT (no token
 * was taken), CORIO_ENOMEM (no memory for the deadline's timer). */
CORIO_API int corio_sema_acquire_until(uint32_t *addr, int64_t deadline);

/* Increment *addr and wake the longest-waiting coroutine on addr, if any.
 * Never blocks a coroutine; callable from any thread, including scheduler
 * context (a timer callback). addr NULL is ignored. */
CORIO_API void corio_sema_release(uint32_t *addr);

/* ---- mutex (Go's sync.Mutex) ----
 *
 * Not recursive; any coroutine or thread may unlock it. Fair enough not to
 * starve: a waiter that has waited more than a millisecond switches the mutex
 * to hand-off mode, in which unlock passes ownership directly to the first
 * waiter in line. The members are private. */
typedef struct corio_mutex {
  int32_t state; /* private: see runtime/sched/mutex.c */
  uint32_t sema; /* private: waiters sleep on this semaphore */
} corio_mutex_t;
#define CORIO_MUTEX_INIT {0, 0}

/* Errors: CORIO_EINVAL (m NULL), CORIO_ENOTCORO. */
CORIO_API int corio_mutex_lock(corio_mutex_t *m);
/* 0 when the mutex was free and is now held. Errors: CORIO_EWOULDBLOCK (it is
 * held), CORIO_EINVAL (m NULL). */
CORIO_API int corio_mutex_trylock(corio_mutex_t *m);
/* Unlocking a mutex that is not locked is fatal. Errors: CORIO_EINVAL (m NULL). */
CORIO_API int corio_mutex_unlock(corio_mutex_t *m);

/* ---- wait group (Go's sync.WaitGroup) ---- */
typedef struct corio_wg {
  uint64_t state; /* private: counter in the high 32 bits, waiters in the low 32 */
  uint32_t sema;  /* private: waiters sleep on this semaphore */
} corio_wg_t;
#define CORIO_WG_INIT {0, 0}

/* Add delta (may be negative) to the counter; when it reaches zero every
 * waiter is released. A negative counter is fatal, as is an add with a
 * positive delta from zero that races with a Wait in progress.
 * Errors: CORIO_EINVAL (wg NULL). */
CORIO_API int corio_wg_add(corio_wg_t *wg, int delta);
/* corio_wg_add(wg, -1). Errors: CORIO_EINVAL (wg NULL). */
CORIO_API int corio_wg_done(corio_wg_t *wg);
/* Block until the counter is zero. Errors: CORIO_EINVAL (wg NULL),
 * CORIO_ENOTCORO. */
CORIO_API int corio_wg_wait(corio_wg_t *wg);

/* ---- channels (Go's chan) ----
 *
 * A channel carries elements of elem_size bytes, copied in and out with
 * memcpy. capacity 0 makes an unbuffered channel: a send completes only when
 * a receiver takes the value (a rendezvous). Senders and receivers blocked on
 * a channel are served first come, first served.
 *
 * Close: later sends fail with CORIO_ECHANCLOSED; receivers drain the values
 * still buffered, then get a zeroed element and ok == false. Closing wakes
 * every blocked receiver (zero value, ok == false) and every blocked sender
 * (CORIO_ECHANCLOSED, its value not delivered). */
typedef struct corio_chan corio_chan_t;

#define CORIO_CHAN_MAX_ELEM ((size_t)65536) /* as Go: larger elements are an error */

/* A new channel, or NULL: elem_size > CORIO_CHAN_MAX_ELEM, a buffer of
 * elem_size * capacity bytes that overflows or cannot be allocated.
 * elem_size 0 (pure signalling) and capacity 0 (unbuffered) are valid. */
CORIO_API corio_chan_t *corio_chan_create(size_t elem_size, size_t capacity);

/* Free the channel. NULL is ignored. The caller guarantees nothing uses it any
 * more; destroying a channel on which coroutines are blocked is fatal, unless
 * the runtime has shut down (they were abandoned, see corio/runtime.h).
 * Buffered values are discarded. */
CORIO_API void corio_chan_destroy(corio_chan_t *c);

/* Send the elem_size bytes at elem (elem may be NULL only when elem_size is 0),
 * blocking while the channel is full (unbuffered: until a receiver takes it).
 * Errors: CORIO_EINVAL (c NULL, elem NULL with elem_size > 0), CORIO_ENOTCORO,
 * CORIO_ECHANCLOSED (closed before or while blocked; the value was not sent). */
CORIO_API int corio_chan_send(corio_chan_t *c, const void *elem);

/* Receive into elem (NULL: discard the value), blocking while the channel is
 * empty and open. *ok (ok may be NULL) is true for a value that was sent, false
 * for the zero value a closed and drained channel gives; both return 0.
 * Errors: CORIO_EINVAL (c NULL), CORIO_ENOTCORO. */
CORIO_API int corio_chan_recv(corio_chan_t *c, void *elem, bool *ok);

/* Non-blocking forms (callable from any thread). try_send: 0 sent,
 * CORIO_EWOULDBLOCK (full, or unbuffered with no receiver waiting),
 * CORIO_ECHANCLOSED, CORIO_EINVAL as corio_chan_send. try_recv: 0 with *ok as
 * corio_chan_recv, CORIO_EWOULDBLOCK (empty and open), CORIO_EINVAL (c NULL). */
CORIO_API int corio_chan_try_send(corio_chan_t *c, const void *elem);
CORIO_API int corio_chan_try_recv(corio_chan_t *c, void *elem, bool *ok);

/* Close the channel. Errors: CORIO_EINVAL (c NULL), CORIO_ECHANCLOSED (it is
 * already closed; Go panics there, corio reports it). */
CORIO_API int corio_chan_close(corio_chan_t *c);

/* Buffered element count and capacity; 0 for NULL. len is a snapshot. */
CORIO_API size_t corio_chan_len(corio_chan_t *c);
CORIO_API size_t corio_chan_cap(const corio_chan_t *c);

/* ---- select (Go's select statement) ---- */
typedef enum corio_select_dir {
  CORIO_SELECT_SEND = 1,
  CORIO_SELECT_RECV = 2
} corio_select_dir_t;

typedef struct corio_select_case {
  corio_chan_t *chan;      /* NULL: a case that never fires (as a nil channel in Go) */
  corio_select_dir_t dir;
  void *elem;              /* send: the value; recv: where to store it (NULL: discard) */
  bool ok;                 /* out, for the case that fired. recv: as corio_chan_recv's
                            * ok. send: true when sent, false when the channel was
                            * closed (nothing sent; corio_chan_send's CORIO_ECHANCLOSED) */
} corio_select_case_t;

/* Wait until one of the n cases can proceed, perform it and return its index.
 * When several can, one is chosen uniformly at random. deadline: 0 waits
 * without limit; otherwise the absolute time at which to give up. A deadline
 * already past polls once (Go's select with a default case) and never blocks,
 * so it is also allowed outside a coroutine.
 * Errors: CORIO_ETIMEOUT (the deadline passed, no case fired), CORIO_EINVAL
 * (cases NULL with n > 0, n < 0, n > CORIO_SELECT_MAX, a bad dir, a send elem
 * NULL with elem_size > 0, or n == 0 / all chans NULL with no deadline: that
 * would block forever), CORIO_ENOTCORO (a blocking select outside a coroutine),
 * CORIO_ENOMEM (no memory for the deadline's timer or for large case lists). */
#define CORIO_SELECT_MAX 65536
CORIO_API int corio_select(corio_select_case_t *cases, int n, int64_t deadline);

#ifdef __cplusplus
}
#endif
#endif
