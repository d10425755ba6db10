/* runtime/fault.h: fault injection at the runtime's seams, for test builds.
 *
 * A seam is a family of calls that a test can tell to fail: the allocator
 * (CORIO__FAULT_ALLOC) and the system calls the runtime, poll/ and os/ make
 * (CORIO__FAULT_SYS). Each call site asks corio__fault_check(seam, site)
 * before it calls; a nonzero answer is the errno it must fail with instead,
 * as if the OS (or the allocator) had refused. Sites are bits of a mask, so
 * a test can aim at some calls of a seam and leave the others alone.
 *
 * An armed seam counts the calls of the chosen sites (1, 2, ...) and fails
 * call number nth (once), and every call whose number is a multiple of
 * every; 0 turns either off (both 0: count only, so that a sweep learns how
 * many calls a workload makes). Arming, disarming and the checks may run on
 * any thread at any time.
 *
 * Built in when CORIO_FAULT_INJECTION is defined (CMake option of the same
 * name, on in Debug and sanitizer builds); otherwise every check is the
 * constant 0 and the arming functions do not exist. */
#ifndef CORIO_RUNTIME_FAULT_H
#define CORIO_RUNTIME_FAULT_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum { CORIO__FAULT_ALLOC = 0, CORIO__FAULT_SYS = 1, CORIO__FAULT_SEAMS = 2 };

/* Sites of the system-call seam. */
enum {
  CORIO__SYS_READ = 1u << 0,       /* read, readv, pread */
  CORIO__SYS_WRITE = 1u << 1,      /* write, writev, pwrite */
  CORIO__SYS_EPOLL_WAIT = 1u << 2, /* every poll of the poller */
  CORIO__SYS_EPOLL_CTL = 1u << 3,  /* registering a handle */
  CORIO__SYS_POLLER = 1u << 4,     /* creating the poller (epoll_create1, eventfd) */
  CORIO__SYS_OPEN = 1u << 5,       /* open */
  CORIO__SYS_PIPE = 1u << 6,       /* pipe2 */
  CORIO__SYS_FCNTL = 1u << 7,      /* fcntl */
  CORIO__SYS_FSTAT = 1u << 8,      /* fstat */
  CORIO__SYS_CLOSE = 1u << 9,      /* close of a handle the caller owned */
  CORIO__SYS_SEEK = 1u << 10,      /* lseek */
  CORIO__SYS_ACCEPT = 1u << 11,    /* accept4 */
  CORIO__SYS_ALL = (1u << 12) - 1
};

#ifdef CORIO_FAULT_INJECTION
/* Atomic fields: a test may re-arm a seam while runtime threads check it
 * (they then see the old plan or the new one, field by field). */
typedef struct corio__fault_seam {
  _Atomic bool armed;
  _Atomic uint32_t mask;
  _Atomic uint64_t nth, every;
  _Atomic int err;
  _Atomic uint64_t calls, fired;
} corio__fault_seam_t;
extern corio__fault_seam_t corio__fault_seams[CORIO__FAULT_SEAMS];

/* Arm seam: sites in mask, fail call nth and every every-th with err (an
 * errno, > 0). Resets the counts. */
void corio__fault_arm(int seam, uint32_t mask, uint64_t nth, uint64_t every, int err);
void corio__fault_disarm(int seam);
/* Calls of the armed sites counted / failed since the seam was armed. */
uint64_t corio__fault_calls(int seam);
uint64_t corio__fault_fired(int seam);
/* The slow half of corio__fault_check. */
int corio__fault_hit(int seam, uint32_t site);

static inline int corio__fault_check(int seam, uint32_t site) {
  if (__builtin_expect(
          !atomic_load_explicit(&corio__fault_seams[seam].armed, memory_order_acquire), 1))
    return 0;
  return corio__fault_hit(seam, site);
}
#else
static inline int corio__fault_check(int seam, uint32_t site) {
  (void)seam;
  (void)site;
  return 0;
}
#endif

/* The system-call seam in the two shapes its callers need. For calls that
 * return -1 and set errno: CORIO__SYS(site, call) is -1 with errno set when
 * the fault fires, else call. For direct calls, which return -errno:
 * corio__fault_sys_raw(site) is 0 or the -errno to return instead. */
static inline int corio__fault_sys_errno(uint32_t site) {
  int e = corio__fault_check(CORIO__FAULT_SYS, site);
  if (e) errno = e;
  return e;
}
#define CORIO__SYS(site, call) (corio__fault_sys_errno(site) ? -1 : (call))
static inline long corio__fault_sys_raw(uint32_t site) {
  return -(long)corio__fault_check(CORIO__FAULT_SYS, site);
}

#endif
