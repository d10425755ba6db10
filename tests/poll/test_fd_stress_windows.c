/* Close racing with completions on many handles at once (issue 13, item 2):
 * the backend must not read an operation that close may just have freed.
 * Message-mode pipes make packets of every kind arrive around a close: reads
 * that complete, reads that end with ERROR_MORE_DATA (whose packet the OS
 * still queues when the call returned at once), reads and writes cancelled by
 * close. The FD poisons its operations when it frees them, so a packet read
 * from freed memory is counted as foreign; none may be. mingw has no
 * AddressSanitizer, so this runs plain under Wine: no crash, no foreign
 * packet, over every iteration. */
#include "poll/win_util.h"

#include <string.h>

#include "corio/poll.h"
#include "check.h"
#include "fd_windows.h"
#include "netpoll_testing.h"
#include "netpoll_windows_testing.h"

#define PAIRS 16
#define ROUNDS 60

typedef struct race_pair {
  corio_fd_t *r, *w;
  int delay_us;
} race_pair_t;

static _Atomic int done;

static void reader(void *arg) {
  race_pair_t *p = arg;
  char b[7]; /* shorter than the messages: ERROR_MORE_DATA on most reads */
  while (corio_fd_read(p->r, b, sizeof b) > 0) {
  }
  atomic_fetch_add(&done, 1);
}

static void writer(void *arg) {
  race_pair_t *p = arg;
  static const char msg[19] = "a message of 19 by";
  while (corio_fd_write(p->w, msg, sizeof msg) == (ptrdiff_t)sizeof msg) {
  }
  atomic_fetch_add(&done, 1);
}

static void closer(void *arg) {
  race_pair_t *p = arg;
  if (p->delay_us > 0) corio_sleep((int64_t)p->delay_us * 1000);
  CHECK_EQ(corio_fd_close(p->r), 0);
  CHECK_EQ(corio_fd_close(p->w), 0);
  atomic_fetch_add(&done, 1);
}

static int close_race_main(void *arg) {
  (void)arg;
  uint64_t stale0 = corio__netpoll_debug_stale_events();
  uint64_t foreign0 = corio__netpoll_debug_foreign_packets();
  static race_pair_t pairs[PAIRS];
  for (int round = 0; round < ROUNDS; round++) {
    atomic_store(&done, 0);
    for (int i = 0; i < PAIRS; i++) {
      HANDLE hr, hw;
      CHECK(win_msg_pipe(&hr, &hw, 256));
      race_pair_t *p = &pairs[i];
      CHECK_EQ(corio_fd_open((corio_handle_t)hr, CORIO_FD_PIPE, &p->r), 0);
      CHECK_EQ(corio_fd_open((corio_handle_t)hw, CORIO_FD_PIPE, &p->w), 0);
      p->delay_us = (round * 131 + i * 53) % 1500;
      CHECK_EQ(corio_spawn(reader, p), 0);
      CHECK_EQ(corio_spawn(writer, p), 0);
      CHECK_EQ(corio_spawn(closer, p), 0);
    }
    wait_for(&done, 3 * PAIRS);
    for (int i = 0; i < PAIRS; i++) {
      corio_fd_free(pairs[i].r);
      corio_fd_free(pairs[i].w);
    }
  }
  uint64_t stale = corio__netpoll_debug_stale_events() - stale0;
  uint64_t foreign = corio__netpoll_debug_foreign_packets() - foreign0;
  printf("fd_stress_windows: %d closes racing completions, %llu late packets dropped as stale, "
         "%llu read from a freed or foreign operation\n",
         ROUNDS * PAIRS, (unsigned long long)stale, (unsigned long long)foreign);
  fflush(stdout);
  CHECK_EQ(foreign, 0);
  return 0;
}

/* Late packets: real Windows queues a packet for a call that returned a
 * warning such as ERROR_MORE_DATA at once, even with skip-on-success, and no
 * one waits for it; Wine queues none (the test above then sees no late
 * packet). So the test plays the OS: it posts such packets for an FD's
 * operations under the FD's key and closes and frees the FD at once, while
 * the other Ps dequeue them. A backend that reads the operation after a
 * lock-free sequence check reads freed (poisoned) memory in some of them. */
#define LATE_FDS 2000
#define LATE_PACKETS 6

typedef struct marker {
  corio_fd_t *r, *w;
  _Atomic int state;
} marker_t;

static void marker_reader(void *arg) {
  marker_t *m = arg;
  char b;
  atomic_store(&m->state, 1);
  CHECK_EQ(corio_fd_read(m->r, &b, 1), 1);
  atomic_store(&m->state, 2);
}

static int late_packet_main(void *arg) {
  (void)arg;
  HANDLE port = corio__netpoll_port();
  /* A read pending from the start: its completion packet, queued after all
   * the posted ones, tells when the pollers have taken those. */
  marker_t m = {0};
  HANDLE mr, mw;
  CHECK(win_pipe(&mr, &mw, 256));
  CHECK_EQ(corio_fd_open((corio_handle_t)mr, CORIO_FD_PIPE, &m.r), 0);
  CHECK_EQ(corio_fd_open((corio_handle_t)mw, CORIO_FD_PIPE, &m.w), 0);
  CHECK_EQ(corio_spawn(marker_reader, &m), 0);
  wait_for(&m.state, 1);
  uint64_t stale0 = corio__netpoll_debug_stale_events();
  uint64_t foreign0 = corio__netpoll_debug_foreign_packets();
  for (int i = 0; i < LATE_FDS; i++) {
    HANDLE hr, hw;
    CHECK(win_msg_pipe(&hr, &hw, 256));
    corio_fd_t *r, *w;
    CHECK_EQ(corio_fd_open((corio_handle_t)hr, CORIO_FD_PIPE, &r), 0);
    CHECK_EQ(corio_fd_open((corio_handle_t)hw, CORIO_FD_PIPE, &w), 0);
    ULONG_PTR key = (ULONG_PTR)corio__netpoll_debug_io_key(r->pd);
    corio__fd_win_t *rw = r->sys;
    for (int k = 0; k < LATE_PACKETS; k++)
      CHECK(PostQueuedCompletionStatus(port, 0, key, k % 2 ? &rw->wop.base.ov : &rw->rop.base.ov));
    /* Close a little later each time (0 to 150 us, spinning), so that the
     * close lands before, among and after the pollers' dequeues. */
    int64_t until = corio_nanotime() + (int64_t)(i % 151) * 1000;
    while (corio_nanotime() < until) {
    }
    CHECK_EQ(corio_fd_close(r), 0);
    corio_fd_free(r);
    CHECK_EQ(corio_fd_close(w), 0);
    corio_fd_free(w);
    if (i % 64 == 0) corio_yield();
  }
  CHECK_EQ(corio_fd_write(m.w, "m", 1), 1);
  wait_for(&m.state, 2);
  corio_fd_free(m.r);
  corio_fd_free(m.w);
  uint64_t stale = corio__netpoll_debug_stale_events() - stale0;
  uint64_t foreign = corio__netpoll_debug_foreign_packets() - foreign0;
  printf("fd_stress_windows: %d late packets posted around closes, %llu dropped as stale, "
         "%llu read from a freed operation\n",
         LATE_FDS * LATE_PACKETS, (unsigned long long)stale, (unsigned long long)foreign);
  fflush(stdout);
  CHECK(stale > 0); /* the race was run: packets came after their FD's close */
  CHECK_EQ(foreign, 0);
  return 0;
}

Test(fd_stress_windows, late_packets_around_close_read_no_freed_operation, .timeout = 300) {
  run_program(4, late_packet_main, NULL);
}

Test(fd_stress_windows, close_racing_completions_reads_no_freed_operation, .timeout = 300) {
  run_program(4, close_race_main, NULL);
}
