/* The Linux netpoll backend: one epoll instance, handles registered once,
 * edge-triggered, and an eventfd to break a blocked poll. Contract in
 * netpoll.h; Go's runtime/netpoll_epoll.go is the model. */
#include <errno.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "netpoll.h"
#include "rawsys_linux.h"

/* epoll_pwait2 (Linux 5.11) takes a timespec; older kernels answer ENOSYS and
 * we fall back to epoll_wait's milliseconds. The raw call needs no particular
 * C library version; its number is the same on every architecture. */
#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

/* The eventfd's epoll data: no descriptor can pack to 0 (its address is not
 * NULL), so 0 names the eventfd. */
#define BREAK_DATA 0

static int epfd = -1;
static int evfd = -1;
/* 1 while a break is posted and not yet consumed: a burst of breaks writes
 * the eventfd once. */
static _Atomic uint32_t wake_sig;
/* Cleared the first time the kernel answers ENOSYS to epoll_pwait2. */
static _Atomic bool have_pwait2 = true;

int corio__netpoll_backend_init(void) {
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0)
    return corio_err_from_errno(errno);
  evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (evfd < 0) {
    int err = corio_err_from_errno(errno);
    close(epfd);
    epfd = -1;
    return err;
  }
  /* Level-triggered: a break seen by a nonblocking poll, which leaves the
   * counter alone, still wakes the blocking poller. */
  struct epoll_event ev = {.events = EPOLLIN, .data = {.u64 = BREAK_DATA}};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, evfd, &ev) < 0) {
    int err = corio_err_from_errno(errno);
    close(evfd);
    close(epfd);
    evfd = epfd = -1;
    return err;
  }
  atomic_store(&wake_sig, 0);
  return 0;
}

void corio__netpoll_backend_fini(void) {
  if (evfd >= 0)
    close(evfd);
  if (epfd >= 0)
    close(epfd);
  evfd = epfd = -1;
}

/* Edge-triggered epoll reports a hang-up once; netpoll(), below, passes
 * CORIO__PD_EV_HUP for each such event, and open registers EPOLLPRI. */
uint32_t corio__netpoll_backend_caps(void) { return CORIO__NETPOLL_CAP_STICKY_HUP; }

bool corio__netpoll_is_poll_fd(uintptr_t handle) {
  return (epfd >= 0 && handle == (uintptr_t)epfd) || (evfd >= 0 && handle == (uintptr_t)evfd);
}

int corio__netpoll_open(uintptr_t handle, corio__pd_t *pd) {
  /* The low tag bits of the descriptor's sequence ride along, so an event
   * still queued for an earlier user of pd is recognised. */
  uint32_t tag = (uint32_t)(corio__pd_seq(pd) & ((1u << CORIO__PD_TAG_BITS) - 1));
  /* EPOLLPRI only feeds the hang-up hint (netpoll.h): TCP urgent data stops a
   * read short with bytes left behind. */
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET,
                           .data = {.u64 = corio__pd_tagged(pd, tag)}};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, (int)handle, &ev) < 0)
    return corio_err_from_errno(errno);
  return 0;
}

int corio__netpoll_close(uintptr_t handle) {
  struct epoll_event ev = {0}; /* kernels before 2.6.9 wanted non-NULL */
  if (epoll_ctl(epfd, EPOLL_CTL_DEL, (int)handle, &ev) < 0)
    return corio_err_from_errno(errno);
  return 0;
}

void corio__netpoll_break(void) {
  uint32_t zero = 0;
  if (!atomic_compare_exchange_strong(&wake_sig, &zero, 1))
    return; /* a wake-up is already on its way */
  uint64_t one = 1;
  for (;;) {
    ssize_t n = write(evfd, &one, sizeof one);
    if (n == (ssize_t)sizeof one)
      return;
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return; /* the counter is saturated: the poller will wake anyway */
    corio__throw("runtime: netpoll break: write to eventfd failed");
  }
}

/* One timed epoll call (delay > 0): the number of events or -errno. Out of
 * line: the non-blocking poll is the hot one. */
__attribute__((noinline)) static int epoll_timed(struct epoll_event *evs, int max, int64_t delay) {
  if (atomic_load_explicit(&have_pwait2, memory_order_relaxed)) {
    struct timespec ts = {.tv_sec = (time_t)(delay / 1000000000),
                          .tv_nsec = (long)(delay % 1000000000)};
    long n = syscall(SYS_epoll_pwait2, epfd, evs, max, &ts, NULL, (size_t)0);
    if (n >= 0 || errno != ENOSYS)
      return (int)corio__sys_ret(n);
    atomic_store_explicit(&have_pwait2, false, memory_order_relaxed);
  }
  int ms;
  if (delay < 1000000)
    ms = 1; /* never a busy loop: at least a millisecond */
  else if (delay < (int64_t)1000000 * 1000000000)
    ms = (int)(delay / 1000000); /* rounded down: returning early is allowed */
  else
    ms = 1000000000; /* about 11.5 days */
  return corio__sys_epoll_wait(epfd, evs, max, ms);
}

/* Consume a break: only a blocking poll resets the eventfd, so a break meant
 * for the blocked poller is not swallowed by a nonblocking one. */
__attribute__((noinline)) static void consume_break(int64_t delay) {
  if (delay == 0)
    return;
  uint64_t v;
  ssize_t n;
  do {
    n = read(evfd, &v, sizeof v);
  } while (n < 0 && errno == EINTR);
  atomic_store(&wake_sig, 0);
}

CORIO__HOT void corio__netpoll(int64_t delay, corio__glist_t *out) {
  if (CORIO__UNLIKELY(epfd < 0))
    return;
  if (delay > (int64_t)1000000 * 1000000000)
    delay = (int64_t)1000000 * 1000000000; /* about 11.5 days */
  struct epoll_event evs[128];
  const int max = (int)(sizeof evs / sizeof evs[0]);
  int n;
  for (;;) {
    /* Polls and waits without a timeout need no nanoseconds: epoll_wait
     * spares the kernel a timespec to copy in and convert, a measurable part
     * of a poll that finds work at once (the most common one: a coroutine
     * parks on a read, and the scheduler polls). A direct system call
     * (rawsys_linux.h). */
    if (CORIO__LIKELY(delay <= 0))
      n = corio__sys_epoll_wait(epfd, evs, max, delay < 0 ? -1 : 0);
    else
      n = epoll_timed(evs, max, delay);
    if (CORIO__LIKELY(n >= 0))
      break;
    if (n != -EINTR)
      corio__throw("runtime: netpoll: epoll_wait failed");
    if (delay > 0)
      return; /* a timed wait interrupted: the caller recomputes the delay */
  }
  for (int i = 0; i < n; i++) {
    uint32_t e = evs[i].events;
    if (CORIO__UNLIKELY(evs[i].data.u64 == BREAK_DATA)) {
      consume_break(delay);
      continue;
    }
    int mode = 0;
    if (e & (EPOLLIN | EPOLLRDHUP | EPOLLPRI | EPOLLHUP | EPOLLERR))
      mode += 'r';
    if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
      mode += 'w';
    if (mode == 0)
      continue;
    uint32_t tag;
    corio__pd_t *pd = corio__pd_untag(evs[i].data.u64, &tag);
    /* Only a bare EPOLLERR counts as an event error: with data or room left
     * the next read or write reports the precise error itself. */
    unsigned ev = e == EPOLLERR ? CORIO__PD_EV_ERR : 0;
    /* Reported once with edge triggering, perhaps with the last data, or (urgent
     * data) a read stops short before bytes still queued: no more short-read
     * rule for this descriptor (the hang-up hint, netpoll.h). */
    if (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI))
      ev |= CORIO__PD_EV_HUP;
    corio__netpoll_ready_event(pd, tag, CORIO__PD_TAG_BITS, mode, ev, out);
  }
}
