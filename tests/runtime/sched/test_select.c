/* corio_select: ready cases, blocking, timeouts, fairness, close, bad input. */
#include <string.h>

#include "chan_internal.h"
#include "corio/sync.h"
#define CHECK_WAIT_MS 2000 /* the sync suites' bound for wait_for */
#include "check.h"

static corio_select_case_t recv_case(corio_chan_t *c, void *elem) {
  return (corio_select_case_t){.chan = c, .dir = CORIO_SELECT_RECV, .elem = elem};
}

static corio_select_case_t send_case(corio_chan_t *c, void *elem) {
  return (corio_select_case_t){.chan = c, .dir = CORIO_SELECT_SEND, .elem = elem};
}

static int sudogs_on(corio_chan_t *c) {
  int n = 0;
  corio__lock(&c->lock);
  for (corio__sudog_t *sg = c->recvq.first; sg; sg = sg->next)
    n++;
  for (corio__sudog_t *sg = c->sendq.first; sg; sg = sg->next)
    n++;
  corio__unlock(&c->lock);
  return n;
}

/* A short sleep between polls, as test_chan.c's wait_blocked (valgrind). */
static void wait_sudogs(corio_chan_t *c, int want) {
  int64_t give_up = corio_nanotime() + 2000 * MS;
  while (sudogs_on(c) != want && corio_nanotime() < give_up)
    corio_sleep(20 * 1000);
  CHECK_EQ(sudogs_on(c), want);
}

/* ---- ready cases ---- */

static int fires_the_ready_case(void *arg) {
  corio_chan_t *a = corio_chan_create(sizeof(int), 1);
  corio_chan_t *b = corio_chan_create(sizeof(int), 1);
  int v = 5, ra = 0, rb = 0;
  CHECK_EQ(corio_chan_send(b, &v), 0);
  corio_select_case_t cs[2] = {recv_case(a, &ra), recv_case(b, &rb)};
  CHECK_EQ(corio_select(cs, 2, 0), 1);
  CHECK(cs[1].ok);
  CHECK_EQ(rb, 5);
  /* a send case fires when there is room */
  v = 6;
  corio_select_case_t ss[2] = {recv_case(b, &rb), send_case(a, &v)};
  CHECK_EQ(corio_select(ss, 2, 0), 1);
  CHECK(ss[1].ok);
  CHECK_EQ(corio_chan_len(a), 1);
  corio_chan_destroy(a);
  corio_chan_destroy(b);
  return 0;
}

Test(select, fires_the_ready_case) { run_program(1, fires_the_ready_case, NULL); }

/* ---- timeouts and polling ---- */

static int times_out_at_deadline(void *arg) {
  corio_chan_t *a = corio_chan_create(sizeof(int), 0);
  corio_chan_t *b = corio_chan_create(sizeof(int), 0);
  int x, y = 1;
  corio_select_case_t cs[2] = {recv_case(a, &x), send_case(b, &y)};
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio_select(cs, 2, t0 + 20 * MS), CORIO_ETIMEOUT);
  int64_t took = corio_nanotime() - t0;
  CHECK(took >= 20 * MS);
  CHECK(took < 2000 * MS);
  CHECK_EQ(sudogs_on(a), 0); /* nothing left behind */
  CHECK_EQ(sudogs_on(b), 0);
  /* a past deadline polls once */
  t0 = corio_nanotime();
  CHECK_EQ(corio_select(cs, 2, 1), CORIO_ETIMEOUT);
  CHECK(corio_nanotime() - t0 < 1000 * MS);
  corio_chan_destroy(a);
  corio_chan_destroy(b);
  return 0;
}

Test(select, times_out_at_deadline) { run_program(2, times_out_at_deadline, NULL); }

static void send_after(void *arg) {
  int v = 77;
  corio_sleep(10 * MS);
  CHECK_EQ(corio_chan_send(arg, &v), 0);
}

static int woken_before_deadline(void *arg) {
  corio_chan_t *a = corio_chan_create(sizeof(int), 0);
  corio_chan_t *b = corio_chan_create(sizeof(int), 0);
  int x = 0, y = 0;
  CHECK_EQ(corio_spawn(send_after, b), 0);
  corio_select_case_t cs[2] = {recv_case(a, &x), recv_case(b, &y)};
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio_select(cs, 2, t0 + 5000 * MS), 1);
  CHECK(corio_nanotime() - t0 < 4000 * MS);
  CHECK(cs[1].ok);
  CHECK_EQ(y, 77);
  CHECK_EQ(x, 0);
  CHECK_EQ(sudogs_on(a), 0);
  corio_chan_destroy(a);
  corio_chan_destroy(b);
  return 0;
}

Test(select, woken_before_deadline) { run_program(2, woken_before_deadline, NULL); }

/* Values sent around the deadline are either received by the select or still
 * in the channel afterwards: never lost, never received twice. */
typedef struct edge {
  corio_chan_t *c;
  corio_wg_t wg;
  int sent;
} edge_t;

static void edge_sender(void *arg) {
  edge_t *e = arg;
  for (int i = 0; i < 300; i++) {
    corio_sleep((i % 7) * 100000);
    int v = i;
    CHECK_EQ(corio_chan_send(e->c, &v), 0);
    e->sent++;
  }
  corio_wg_done(&e->wg);
}

static int timeout_races_senders(void *arg) {
  static edge_t e = {.wg = CORIO_WG_INIT};
  e.c = corio_chan_create(sizeof(int), 4);
  corio_wg_add(&e.wg, 1);
  CHECK_EQ(corio_spawn(edge_sender, &e), 0);
  int got = 0, timeouts = 0, v, next = 0;
  while (got < 300) {
    corio_select_case_t cs = recv_case(e.c, &v);
    int rc = corio_select(&cs, 1, corio_nanotime() + (got % 5) * 100000);
    if (rc == CORIO_ETIMEOUT) {
      timeouts++;
      corio_yield(); /* after a poll: let the sender run */
      continue;
    }
    CHECK_EQ(rc, 0);
    CHECK(cs.ok);
    CHECK_EQ(v, next); /* in order, none missing, none twice */
    next++;
    got++;
  }
  CHECK_EQ(corio_wg_wait(&e.wg), 0);
  CHECK_EQ(e.sent, 300);
  CHECK_EQ(corio_chan_len(e.c), 0);
  CHECK(timeouts > 0);
  corio_chan_destroy(e.c);
  return 0;
}

Test(select, timeout_races_senders) { run_program(4, timeout_races_senders, NULL); }

static int poll_outside_a_coroutine_body(void) {
  corio_chan_t *c = corio_chan_create(sizeof(int), 1);
  int v = 3, r = 0;
  corio_select_case_t cs[1] = {recv_case(c, &r)};
  int rc1 = corio_select(cs, 1, 1);              /* empty: poll times out */
  int rc2 = corio_select(cs, 1, 0);              /* would block */
  corio_chan_try_send(c, &v);
  int rc3 = corio_select(cs, 1, 1);              /* ready: fires */
  corio_chan_destroy(c);
  cr_assert_eq(rc1, CORIO_ETIMEOUT);
  cr_assert_eq(rc2, CORIO_ENOTCORO);
  cr_assert_eq(rc3, 0);
  cr_assert(cs[0].ok);
  cr_assert_eq(r, 3);
  return 0;
}

Test(select, polls_outside_a_coroutine) { poll_outside_a_coroutine_body(); }

/* ---- fairness ---- */

static int both_ready_cases_fire(void *arg) {
  corio_chan_t *a = corio_chan_create(sizeof(int), 1);
  corio_chan_t *b = corio_chan_create(sizeof(int), 1);
  int one = 1, x, hits[2] = {0, 0};
  for (int round = 0; round < 2000; round++) {
    if (corio_chan_len(a) == 0)
      corio_chan_try_send(a, &one);
    if (corio_chan_len(b) == 0)
      corio_chan_try_send(b, &one);
    corio_select_case_t cs[2] = {recv_case(a, &x), recv_case(b, &x)};
    int rc = corio_select(cs, 2, 0);
    CHECK(rc == 0 || rc == 1);
    if (rc == 0 || rc == 1)
      hits[rc]++;
  }
  /* Uniform choice: 1000 expected each; 800 is over 8 standard deviations off. */
  CHECK(hits[0] > 800);
  CHECK(hits[1] > 800);
  corio_chan_destroy(a);
  corio_chan_destroy(b);
  return 0;
}

Test(select, both_ready_cases_fire) { run_program(1, both_ready_cases_fire, NULL); }

/* ---- blocking send cases, select against select ---- */

static void recv_one(void *arg) {
  int v = 0;
  CHECK_EQ(corio_chan_recv(arg, &v, NULL), 0);
  CHECK_EQ(v, 11);
}

static int blocked_send_case(void *arg) {
  corio_chan_t *a = corio_chan_create(sizeof(int), 0);
  corio_chan_t *b = corio_chan_create(sizeof(int), 0);
  int v = 11, w = 12;
  CHECK_EQ(corio_spawn(recv_one, b), 0);
  corio_select_case_t cs[2] = {send_case(a, &w), send_case(b, &v)};
  CHECK_EQ(corio_select(cs, 2, 0), 1);
  CHECK(cs[1].ok);
  CHECK_EQ(sudogs_on(a), 0);
  corio_chan_destroy(a);
  corio_chan_destroy(b);
  return 0;
}

Test(select, blocked_send_case) { run_program(2, blocked_send_case, NULL); }

typedef struct pair {
  corio_chan_t *c, *quiet, *quiet2; /* nobody sends on quiet, nobody receives on quiet2 */
  corio_wg_t wg;
} pair_t;

static void select_sender(void *arg) {
  pair_t *p = arg;
  for (int i = 0; i < 1000; i++) {
    int v = i, q = 0;
    corio_select_case_t cs[2] = {send_case(p->c, &v), recv_case(p->quiet, &q)};
    CHECK_EQ(corio_select(cs, 2, 0), 0);
  }
  corio_wg_done(&p->wg);
}

/* Both ends of an unbuffered channel in selects: one parks, the other finds
 * its sudog and completes the exchange. */
static int select_meets_select(void *arg) {
  static pair_t p = {.wg = CORIO_WG_INIT};
  p.c = corio_chan_create(sizeof(int), 0);
  p.quiet = corio_chan_create(sizeof(int), 0);
  p.quiet2 = corio_chan_create(sizeof(int), 0);
  corio_wg_add(&p.wg, 1);
  CHECK_EQ(corio_spawn(select_sender, &p), 0);
  for (int i = 0; i < 1000; i++) {
    int v = -1, q = 1;
    corio_select_case_t cs[2] = {send_case(p.quiet2, &q), recv_case(p.c, &v)};
    CHECK_EQ(corio_select(cs, 2, 0), 1);
    CHECK(cs[1].ok);
    CHECK_EQ(v, i);
  }
  CHECK_EQ(corio_wg_wait(&p.wg), 0);
  CHECK_EQ(sudogs_on(p.c), 0);
  CHECK_EQ(sudogs_on(p.quiet), 0);
  CHECK_EQ(sudogs_on(p.quiet2), 0);
  corio_chan_destroy(p.c);
  corio_chan_destroy(p.quiet);
  corio_chan_destroy(p.quiet2);
  return 0;
}

Test(select, select_meets_select) { run_program(4, select_meets_select, NULL); }

/* ---- closed channels ---- */

typedef struct closer {
  corio_chan_t *c;
  _Atomic int done;
} closer_t;

static void close_when_blocked(void *arg) {
  closer_t *cl = arg;
  wait_sudogs(cl->c, 2);
  CHECK_EQ(corio_chan_close(cl->c), 0);
  atomic_store(&cl->done, 1);
}

static int close_wakes_a_blocked_select(void *arg) {
  static closer_t cl;
  cl.c = corio_chan_create(sizeof(int), 0);
  int r = -1;
  /* the same channel twice: a receive, and a send that close must fail */
  int s = 4;
  corio_select_case_t cs[2] = {recv_case(cl.c, &r), send_case(cl.c, &s)};
  CHECK_EQ(corio_spawn(close_when_blocked, &cl), 0);
  int rc = corio_select(cs, 2, 0);
  CHECK(rc == 0 || rc == 1);
  CHECK(!cs[rc].ok);
  if (rc == 0)
    CHECK_EQ(r, 0); /* the zero value */
  CHECK_EQ(sudogs_on(cl.c), 0);
  wait_for(&cl.done, 1);
  /* on a closed channel both kinds of case fire at once, with ok false */
  r = -1;
  cs[0].ok = cs[1].ok = true;
  rc = corio_select(cs, 2, 0);
  CHECK(rc == 0 || rc == 1);
  CHECK(!cs[rc].ok);
  corio_chan_destroy(cl.c);
  return 0;
}

Test(select, close_wakes_a_blocked_select) { run_program(2, close_wakes_a_blocked_select, NULL); }

/* ---- nil channels, many cases ---- */

static int null_channels_never_fire(void *arg) {
  corio_chan_t *a = corio_chan_create(sizeof(int), 1);
  int v = 8, r = 0;
  corio_chan_send(a, &v);
  corio_select_case_t cs[3] = {recv_case(NULL, &r), recv_case(a, &r), send_case(NULL, &v)};
  for (int i = 0; i < 50; i++) {
    CHECK_EQ(corio_select(cs, 3, 0), 1);
    corio_chan_send(a, &v);
  }
  corio_select_case_t none[2] = {recv_case(NULL, &r), send_case(NULL, &v)};
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio_select(none, 2, t0 + 10 * MS), CORIO_ETIMEOUT);
  CHECK(corio_nanotime() - t0 >= 10 * MS);
  CHECK_EQ(corio_select(none, 2, 0), CORIO_EINVAL); /* would block forever */
  CHECK_EQ(corio_select(NULL, 0, 0), CORIO_EINVAL);
  CHECK_EQ(corio_select(NULL, 0, 1), CORIO_ETIMEOUT);
  corio_chan_destroy(a);
  return 0;
}

Test(select, null_channels_never_fire) { run_program(1, null_channels_never_fire, NULL); }

#define MANY 40
static corio_chan_t *many[MANY];

static void send_on_37(void *arg) {
  int v = 37;
  CHECK_EQ(corio_chan_send(many[37], &v), 0);
}

static int many_cases(void *arg) {
  int vals[MANY];
  corio_select_case_t cs[MANY];
  for (int i = 0; i < MANY; i++) {
    many[i] = corio_chan_create(sizeof(int), 0);
    vals[i] = -1;
    cs[i] = recv_case(many[i], &vals[i]);
  }
  CHECK_EQ(corio_spawn(send_on_37, NULL), 0);
  CHECK_EQ(corio_select(cs, MANY, 0), 37);
  CHECK_EQ(vals[37], 37);
  for (int i = 0; i < MANY; i++) {
    CHECK_EQ(sudogs_on(many[i]), 0);
    corio_chan_destroy(many[i]);
  }
  return 0;
}

Test(select, many_cases) { run_program(2, many_cases, NULL); }

/* ---- bad input ---- */

static int bad_input_body(void *arg) {
  corio_chan_t *c = corio_chan_create(sizeof(int), 1);
  corio_select_case_t bad_dir = {.chan = c, .dir = 0, .elem = NULL};
  corio_select_case_t no_elem = send_case(c, NULL);
  CHECK_EQ(corio_select(NULL, 1, 0), CORIO_EINVAL);
  CHECK_EQ(corio_select(&bad_dir, -1, 0), CORIO_EINVAL);
  CHECK_EQ(corio_select(&bad_dir, 1, 0), CORIO_EINVAL);
  CHECK_EQ(corio_select(&no_elem, 1, 0), CORIO_EINVAL);
  CHECK_EQ(corio_select(&no_elem, CORIO_SELECT_MAX + 1, 0), CORIO_EINVAL);
  corio_chan_destroy(c);
  return 0;
}

Test(select, bad_input) { run_program(1, bad_input_body, NULL); }
