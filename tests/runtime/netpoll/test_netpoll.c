/* Poll descriptors (netpoll.c) on every platform and backend: deadlines,
 * unblock, delivery, stale events and timers, the hang-up hint's sequence
 * check, tagged references and the waiter count. Readiness is delivered by
 * the test itself through the backend entry point
 * (corio__netpoll_ready_event), as a backend would, on a handle that never
 * becomes ready by itself (pd_handle.h, one per platform); the backends' own
 * suites (test_netpoll_epoll_linux.c, test_netpoll_windows.c) drive real OS
 * events. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <string.h>

#include "corio/runtime.h"
#include "corio/sync.h"
#include "netpoll.h"
#include "netpoll_testing.h"
#include "park_check.h"
#include "pd_handle.h"

/* ---- helpers ---- */

typedef struct piped {
  test_handle_t t;
  corio__pd_t *pd;
} piped_t;

static piped_t open_piped(void) {
  piped_t p = {{0, 0}, NULL};
  if (!test_handle_open(&p.t)) {
    check_fail(__FILE__, __LINE__, "test_handle_open");
    return p;
  }
  CHECK_EQ(corio__pd_open(p.t.h, &p.pd), 0);
  return p;
}

/* The poll layer's order: wake everyone, then unregister and recycle. */
static void close_piped(piped_t *p) {
  corio__pd_unblock(p->pd);
  corio__pd_close(p->pd);
  test_handle_close(&p->t);
}

static uint32_t tag_of(uintptr_t seq) { return (uint32_t)(seq & ((1u << CORIO__PD_TAG_BITS) - 1)); }

/* What a backend does for an OS event on pd: deliver it for mode and make
 * the woken coroutines runnable. The delivery's verdict: false when the
 * event was dropped as stale. */
static bool deliver_as(corio__pd_t *pd, uintptr_t seq, int mode, unsigned ev) {
  corio__glist_t l = {0};
  bool current = corio__netpoll_ready_event(pd, tag_of(seq), CORIO__PD_TAG_BITS, mode, ev, &l);
  if (l.head) corio__inject_glist(&l);
  return current;
}

static bool deliver(corio__pd_t *pd, int mode) {
  return deliver_as(pd, corio__pd_seq(pd), mode, 0);
}

/* A waiter coroutine: prepares and waits on its pd in mode, as the poll
 * layer does, and records the result and when it came. */
typedef struct waiter {
  corio__pd_t *pd;
  int mode;
  corio_g_t *_Atomic g;
  int result; /* CORIO__POLL_* */
  int64_t woke;
  _Atomic int done;
  corio_wg_t wg;
} waiter_t;

static void waiter_fn(void *arg) {
  waiter_t *w = arg;
  atomic_store(&w->g, corio_current());
  w->result = corio__pd_reset(w->pd, w->mode);
  if (w->result == CORIO__POLL_OK) w->result = corio__pd_wait(w->pd, w->mode);
  w->woke = corio_nanotime();
  atomic_store(&w->done, 1);
  corio_wg_done(&w->wg);
}

/* Start a waiter and return once it is parked on the descriptor. */
static void start_waiter(waiter_t *w, corio__pd_t *pd, int mode) {
  memset(w, 0, sizeof *w);
  w->pd = pd;
  w->mode = mode;
  corio_wg_add(&w->wg, 1);
  CHECK_EQ(corio_spawn(waiter_fn, w), 0);
  wait_pd_parked(pd, mode);
}

/* ---- delivery and the waiter count ---- */

static int delivery_main(void *arg) {
  piped_t p = open_piped();
  CHECK_EQ(corio__netpoll_debug_waiters(), 0);
  CHECK(!corio__netpoll_any_waiters());
  waiter_t r;
  start_waiter(&r, p.pd, 'r');
  CHECK_EQ(corio__pd_debug_slot(p.pd, 'r'), (uintptr_t)atomic_load(&r.g));
  CHECK_EQ(corio__netpoll_debug_waiters(), 1);
  CHECK(corio__netpoll_any_waiters());
  /* A delivery for the other mode leaves the reader parked. */
  CHECK(deliver(p.pd, 'w'));
  CHECK_EQ(corio__pd_debug_slot(p.pd, 'r'), (uintptr_t)atomic_load(&r.g));
  CHECK(deliver(p.pd, 'r'));
  corio_wg_wait(&r.wg);
  CHECK_EQ(r.result, CORIO__POLL_OK);
  CHECK_EQ(corio__netpoll_debug_waiters(), 0);
  CHECK(!corio__netpoll_any_waiters());
  /* With nobody waiting, a delivery is kept (READY) for the next wait, which
   * returns at once; prepare forgets it. */
  CHECK(deliver(p.pd, 'r'));
  CHECK_EQ(corio__pd_debug_slot(p.pd, 'r'), 1);
  CHECK_EQ(corio__pd_wait(p.pd, 'r'), CORIO__POLL_OK);
  CHECK(deliver(p.pd, 'r'));
  CHECK_EQ(corio__pd_reset(p.pd, 'r'), CORIO__POLL_OK);
  CHECK_EQ(corio__pd_debug_slot(p.pd, 'r'), 0);
  close_piped(&p);
  return 0;
}

Test(netpoll, delivery_wakes_the_parked_waiter_and_counts_it) {
  run_program(1, delivery_main, NULL);
}

Test(netpoll, delivery_wakes_the_parked_waiter_and_counts_it_2p) {
  run_program(2, delivery_main, NULL);
}

/* ---- deadlines ---- */

static int deadline_expiry_main(void *arg) {
  piped_t p = open_piped();
  int64_t start = corio_nanotime();
  corio__pd_set_deadline(p.pd, start + 30 * MS, 'r');
  CHECK_EQ(corio__pd_reset(p.pd, 'r'), CORIO__POLL_OK);
  CHECK_EQ(corio__pd_wait(p.pd, 'r'), CORIO__POLL_ERR_TIMEOUT);
  int64_t took = corio_nanotime() - start;
  CHECK(took >= 30 * MS);
  CHECK(took < 2000 * MS);
  /* Expired stays expired; the write side has no deadline. */
  CHECK_EQ(corio__pd_reset(p.pd, 'r'), CORIO__POLL_ERR_TIMEOUT);
  CHECK_EQ(corio__pd_reset(p.pd, 'w'), CORIO__POLL_OK);
  /* Clearing it makes the descriptor usable again. */
  corio__pd_set_deadline(p.pd, 0, 'r');
  CHECK_EQ(corio__pd_reset(p.pd, 'r'), CORIO__POLL_OK);
  CHECK(deliver(p.pd, 'r'));
  CHECK_EQ(corio__pd_wait(p.pd, 'r'), CORIO__POLL_OK);
  close_piped(&p);
  return 0;
}

Test(netpoll, deadline_expiry_gives_timeout) { run_program(1, deadline_expiry_main, NULL); }

static int deadline_later_main(void *arg) {
  piped_t p = open_piped();
  int64_t start = corio_nanotime();
  corio__pd_set_deadline(p.pd, start + 50 * MS, 'r');
  waiter_t r;
  start_waiter(&r, p.pd, 'r');
  corio__pd_set_deadline(p.pd, start + 300 * MS, 'r'); /* while it waits */
  corio_wg_wait(&r.wg);
  CHECK_EQ(r.result, CORIO__POLL_ERR_TIMEOUT);
  CHECK(r.woke - start >= 300 * MS);
  CHECK(r.woke - start < 3000 * MS);
  close_piped(&p);
  return 0;
}

Test(netpoll, deadline_moved_later_while_waiting) { run_program(1, deadline_later_main, NULL); }

static int deadline_earlier_main(void *arg) {
  piped_t p = open_piped();
  int64_t start = corio_nanotime();
  corio__pd_set_deadline(p.pd, start + 10000 * MS, 'r');
  waiter_t r;
  start_waiter(&r, p.pd, 'r');
  int64_t moved = corio_nanotime() + 40 * MS;
  corio__pd_set_deadline(p.pd, moved, 'r');
  corio_wg_wait(&r.wg);
  CHECK_EQ(r.result, CORIO__POLL_ERR_TIMEOUT);
  CHECK(r.woke >= moved);
  CHECK(r.woke - start < 3000 * MS);
  close_piped(&p);
  return 0;
}

Test(netpoll, deadline_moved_earlier_while_waiting) {
  run_program(1, deadline_earlier_main, NULL);
}

static int deadline_cleared_main(void *arg) {
  piped_t p = open_piped();
  int64_t start = corio_nanotime();
  corio__pd_set_deadline(p.pd, start + 40 * MS, 'r');
  waiter_t r;
  start_waiter(&r, p.pd, 'r');
  corio__pd_set_deadline(p.pd, 0, 'r'); /* no deadline any more */
  /* Past the old deadline: the stopped timer did not fire. (A check that
   * something does not happen needs the time to pass.) */
  corio_sleep(120 * MS);
  CHECK_EQ(atomic_load(&r.done), 0);
  CHECK(deliver(p.pd, 'r'));
  corio_wg_wait(&r.wg);
  CHECK_EQ(r.result, CORIO__POLL_OK);
  close_piped(&p);
  return 0;
}

Test(netpoll, deadline_cleared_while_waiting) { run_program(1, deadline_cleared_main, NULL); }

static int past_deadline_main(void *arg) {
  piped_t p = open_piped();
  /* Set in the past: reset and wait fail at once, without parking. */
  corio__pd_set_deadline(p.pd, corio_nanotime() - 1, 'r');
  CHECK_EQ(corio__pd_reset(p.pd, 'r'), CORIO__POLL_ERR_TIMEOUT);
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio__pd_wait(p.pd, 'r'), CORIO__POLL_ERR_TIMEOUT);
  CHECK(corio_nanotime() - t0 < 100 * MS);
  CHECK_EQ(corio__pd_reset(p.pd, 'w'), CORIO__POLL_OK);
  /* A negative time is in the past too. */
  corio__pd_set_deadline(p.pd, 0, 'r');
  corio__pd_set_deadline(p.pd, -5, 'r' + 'w');
  CHECK_EQ(corio__pd_reset(p.pd, 'r'), CORIO__POLL_ERR_TIMEOUT);
  CHECK_EQ(corio__pd_reset(p.pd, 'w'), CORIO__POLL_ERR_TIMEOUT);
  corio__pd_set_deadline(p.pd, 0, 'r' + 'w');
  /* Set in the past while a coroutine waits (with no deadline): it wakes at
   * once with the timeout. */
  waiter_t r;
  start_waiter(&r, p.pd, 'r');
  int64_t now = corio_nanotime();
  corio__pd_set_deadline(p.pd, now, 'r');
  corio_wg_wait(&r.wg);
  CHECK_EQ(r.result, CORIO__POLL_ERR_TIMEOUT);
  CHECK(r.woke - now < 500 * MS);
  close_piped(&p);
  return 0;
}

Test(netpoll, past_deadline_fails_at_once) { run_program(1, past_deadline_main, NULL); }

static int both_deadlines_main(void *arg) {
  /* One pd, a reader and a writer; one call sets both deadlines. */
  piped_t p = open_piped();
  int64_t start = corio_nanotime();
  waiter_t r, w;
  corio__pd_set_deadline(p.pd, start + 60 * MS, 'r' + 'w');
  start_waiter(&r, p.pd, 'r');
  start_waiter(&w, p.pd, 'w');
  corio_wg_wait(&r.wg);
  corio_wg_wait(&w.wg);
  CHECK_EQ(r.result, CORIO__POLL_ERR_TIMEOUT);
  CHECK_EQ(w.result, CORIO__POLL_ERR_TIMEOUT);
  CHECK(r.woke - start >= 60 * MS && w.woke - start >= 60 * MS);
  close_piped(&p);
  return 0;
}

Test(netpoll, read_and_write_deadline_set_together) {
  run_program(1, both_deadlines_main, NULL);
}

/* ---- unblock (close) ---- */

static int unblock_main(void *arg) {
  piped_t p = open_piped();
  waiter_t r, w;
  start_waiter(&r, p.pd, 'r');
  start_waiter(&w, p.pd, 'w');
  corio__pd_set_deadline(p.pd, corio_nanotime() + 10000 * MS, 'r'); /* a timer to stop */
  corio__pd_unblock(p.pd);
  corio_wg_wait(&r.wg);
  corio_wg_wait(&w.wg);
  CHECK_EQ(r.result, CORIO__POLL_ERR_CLOSING);
  CHECK_EQ(w.result, CORIO__POLL_ERR_CLOSING);
  /* Closing wins over everything, and deadlines are ignored from now on. */
  CHECK_EQ(corio__pd_reset(p.pd, 'r'), CORIO__POLL_ERR_CLOSING);
  corio__pd_set_deadline(p.pd, corio_nanotime() - 1, 'r');
  CHECK_EQ(corio__pd_wait(p.pd, 'r'), CORIO__POLL_ERR_CLOSING);
  CHECK_EQ(corio__netpoll_debug_waiters(), 0);
  corio__pd_close(p.pd);
  test_handle_close(&p.t);
  return 0;
}

Test(netpoll, unblock_wakes_both_waiters_with_closing) { run_program(1, unblock_main, NULL); }
Test(netpoll, unblock_wakes_both_waiters_with_closing_2p) { run_program(2, unblock_main, NULL); }

/* ---- reuse: nothing meant for an earlier user reaches a later one ---- */

static int stale_event_main(void *arg) {
  piped_t a = open_piped();
  uintptr_t seq_a = corio__pd_seq(a.pd);
  close_piped(&a);
  piped_t b = open_piped();
  CHECK(b.pd == a.pd); /* the cache is LIFO */
  CHECK(corio__pd_seq(b.pd) != seq_a);
  waiter_t r;
  start_waiter(&r, b.pd, 'r');
  uint64_t stale = corio__netpoll_debug_stale_events();
  /* Events for A, even an event error, are dropped and counted. */
  CHECK(!deliver_as(b.pd, seq_a, 'r', 0));
  CHECK(!deliver_as(b.pd, seq_a, 'r' + 'w', CORIO__PD_EV_ERR));
  CHECK(corio__netpoll_debug_stale_events() >= stale + 2);
  CHECK_EQ(corio__pd_debug_slot(b.pd, 'r'), (uintptr_t)atomic_load(&r.g));
  CHECK_EQ(corio__pd_reset(b.pd, 'w'), CORIO__POLL_OK); /* no event error either */
  /* B's own event gets through. */
  CHECK(deliver(b.pd, 'r'));
  corio_wg_wait(&r.wg);
  CHECK_EQ(r.result, CORIO__POLL_OK);
  close_piped(&b);
  return 0;
}

Test(netpoll, reused_descriptor_drops_events_for_its_earlier_user) {
  run_program(1, stale_event_main, NULL);
}

static int stale_timer_main(void *arg) {
  /* A deadline armed on a descriptor that is then closed and reused must not
   * fire on the new user. */
  piped_t a = open_piped();
  corio__pd_set_deadline(a.pd, corio_nanotime() + 20 * MS, 'r' + 'w');
  close_piped(&a);
  piped_t b = open_piped();
  CHECK(b.pd == a.pd);
  waiter_t r;
  start_waiter(&r, b.pd, 'r');
  corio_sleep(80 * MS); /* past A's deadline: nothing may happen */
  CHECK_EQ(atomic_load(&r.done), 0);
  CHECK_EQ(corio__pd_reset(b.pd, 'w'), CORIO__POLL_OK);
  CHECK(deliver(b.pd, 'r'));
  corio_wg_wait(&r.wg);
  CHECK_EQ(r.result, CORIO__POLL_OK);
  close_piped(&b);
  return 0;
}

Test(netpoll, reused_descriptor_gets_no_stale_timer) { run_program(1, stale_timer_main, NULL); }

static int hup_hint_stale_main(void *arg) {
  piped_t a = open_piped();
  uintptr_t seq_a = corio__pd_seq(a.pd);
  close_piped(&a);
  piped_t b = open_piped();
  CHECK(b.pd == a.pd);
  /* A hang-up reported for the earlier user changes nothing. */
  CHECK(!deliver_as(b.pd, seq_a, 'r', CORIO__PD_EV_HUP));
  CHECK(!corio__pd_hup_seen(b.pd));
  CHECK_EQ(corio__pd_debug_slot(b.pd, 'r'), 0);
  /* One for the current user sets it, and readies the slot. */
  CHECK(deliver_as(b.pd, corio__pd_seq(b.pd), 'r', CORIO__PD_EV_HUP));
  CHECK(corio__pd_hup_seen(b.pd));
  CHECK_EQ(corio__pd_debug_slot(b.pd, 'r'), 1);
  /* An event without CORIO__PD_EV_HUP never sets it; reuse clears it. */
  piped_t c = open_piped();
  CHECK(deliver(c.pd, 'r'));
  CHECK(!corio__pd_hup_seen(c.pd));
  close_piped(&b);
  piped_t d = open_piped();
  CHECK(d.pd == b.pd);
  CHECK(!corio__pd_hup_seen(d.pd));
  close_piped(&c);
  close_piped(&d);
  return 0;
}

Test(netpoll, hangup_hint_ignores_stale_reports) { run_program(1, hup_hint_stale_main, NULL); }

/* ---- tagged references ---- */

Test(netpoll, tagged_references_round_trip) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = 1;
  cr_assert_eq(corio_init(&cfg), 0);
  test_handle_t t;
  cr_assert(test_handle_open(&t));
  corio__pd_t *pd;
  cr_assert_eq(corio__pd_open(t.h, &pd), 0);
  uint32_t tag = 0;
  uint64_t v = corio__pd_tagged(pd, (1u << CORIO__PD_TAG_BITS) - 1);
  cr_expect_eq(corio__pd_untag(v, &tag), pd);
  cr_expect_eq(tag, (1u << CORIO__PD_TAG_BITS) - 1);
  cr_expect_null(corio__pd_untag(corio__pd_tagged(NULL, 5), &tag));
  cr_expect_eq(tag, 5);
  corio__pd_unblock(pd);
  corio__pd_close(pd);
  test_handle_close(&t);
  cr_assert_eq(corio_shutdown(), 0);
}
