/* Channels: ordering, rendezvous, close, try_, bad input, many Ps. */
#include <signal.h>
#include <string.h>

#include "thread_util.h"

#include "chan_internal.h"
#include "corio/sync.h"
#define CHECK_WAIT_MS 2000 /* the sync suites' bound for wait_for */
#include "check.h"

/* Coroutines blocked in c's receive (recv true) or send queue. */
static int blocked_on(corio_chan_t *c, bool recv) {
  int n = 0;
  corio__lock(&c->lock);
  for (corio__sudog_t *sg = recv ? c->recvq.first : c->sendq.first; sg; sg = sg->next)
    n++;
  corio__unlock(&c->lock);
  return n;
}

/* Polls with a short sleep, not a yield: a loop that only takes the channel
 * lock and yields keeps its thread busy, and under valgrind, which runs one
 * thread at a time, the other Ms (with the coroutines still to block) then
 * hardly ran: one in four runs missed the bound. */
static void wait_blocked(corio_chan_t *c, bool recv, int want) {
  int64_t give_up = corio_nanotime() + 2000 * MS;
  while (blocked_on(c, recv) != want && corio_nanotime() < give_up)
    corio_sleep(20 * 1000);
  CHECK_EQ(blocked_on(c, recv), want);
}

/* ---- ordering ---- */

static void produce_100(void *arg) {
  for (int i = 0; i < 100; i++)
    CHECK_EQ(corio_chan_send(arg, &i), 0);
}

static int fifo_order(void *arg) {
  size_t caps[] = {0, 1, 8, 1000};
  for (int k = 0; k < 4; k++) {
    corio_chan_t *c = corio_chan_create(sizeof(int), caps[k]);
    CHECK(c != NULL);
    CHECK_EQ(corio_chan_cap(c), caps[k]);
    CHECK_EQ(corio_spawn(produce_100, c), 0);
    for (int i = 0; i < 100; i++) {
      int v = -1;
      bool ok = false;
      CHECK_EQ(corio_chan_recv(c, &v, &ok), 0);
      CHECK(ok);
      CHECK_EQ(v, i);
    }
    CHECK_EQ(corio_chan_len(c), 0);
    corio_chan_destroy(c);
  }
  return 0;
}

Test(chan, fifo_order) { run_program(1, fifo_order, NULL); }
Test(chan, fifo_order_across_ps) { run_program(4, fifo_order, NULL); }

/* Blocked senders on a full buffered channel keep their order: each value
 * a receiver frees room for comes after the buffered ones. */
static corio_chan_t *order_chan;
static void send_id(void *arg) {
  int v = (int)(intptr_t)arg;
  CHECK_EQ(corio_chan_send(order_chan, &v), 0);
}

static int blocked_senders_keep_order(void *arg) {
  order_chan = corio_chan_create(sizeof(int), 2);
  for (int i = 0; i < 6; i++) {
    CHECK_EQ(corio_spawn(send_id, (void *)(intptr_t)i), 0);
    if (i >= 2)
      wait_blocked(order_chan, false, i - 1);
    else
      while (corio_chan_len(order_chan) != (size_t)i + 1)
        corio_yield();
  }
  for (int i = 0; i < 6; i++) {
    int v = -1;
    CHECK_EQ(corio_chan_recv(order_chan, &v, NULL), 0);
    CHECK_EQ(v, i);
  }
  corio_chan_destroy(order_chan);
  return 0;
}

Test(chan, blocked_senders_keep_order) { run_program(1, blocked_senders_keep_order, NULL); }

/* ---- unbuffered rendezvous ---- */

typedef struct rv {
  corio_chan_t *c;
  _Atomic int sent;
} rv_t;

static void rendezvous_sender(void *arg) {
  rv_t *r = arg;
  long v = 42;
  CHECK_EQ(corio_chan_send(r->c, &v), 0);
  atomic_store(&r->sent, 1);
}

static int unbuffered_rendezvous(void *arg) {
  static rv_t r;
  r.c = corio_chan_create(sizeof(long), 0);
  CHECK_EQ(corio_spawn(rendezvous_sender, &r), 0);
  wait_blocked(r.c, false, 1);
  corio_sleep(5 * MS);
  CHECK_EQ(atomic_load(&r.sent), 0); /* no receiver yet: still blocked */
  CHECK_EQ(corio_chan_len(r.c), 0);
  long v = 0;
  bool ok = false;
  CHECK_EQ(corio_chan_recv(r.c, &v, &ok), 0);
  CHECK(ok);
  CHECK_EQ(v, 42);
  wait_for(&r.sent, 1);
  corio_chan_destroy(r.c);
  return 0;
}

Test(chan, unbuffered_rendezvous) { run_program(2, unbuffered_rendezvous, NULL); }

/* ---- close ---- */

typedef struct closing {
  corio_chan_t *c;
  _Atomic int woken;
  _Atomic int zeros;
  _Atomic int closed_errors;
  corio_wg_t wg;
} closing_t;

static closing_t cl;

static void closed_receiver(void *arg) {
  long v = -1;
  bool ok = true;
  CHECK_EQ(corio_chan_recv(cl.c, &v, &ok), 0);
  if (!ok && v == 0)
    atomic_fetch_add(&cl.zeros, 1);
  atomic_fetch_add(&cl.woken, 1);
  corio_wg_done(&cl.wg);
}

static int close_wakes_every_receiver(void *arg) {
  cl.c = corio_chan_create(sizeof(long), 0);
  corio_wg_add(&cl.wg, 50);
  for (int i = 0; i < 50; i++)
    CHECK_EQ(corio_spawn(closed_receiver, NULL), 0);
  wait_blocked(cl.c, true, 50);
  CHECK_EQ(atomic_load(&cl.woken), 0);
  CHECK_EQ(corio_chan_close(cl.c), 0);
  CHECK_EQ(corio_wg_wait(&cl.wg), 0);
  CHECK_EQ(atomic_load(&cl.zeros), 50);
  CHECK_EQ(blocked_on(cl.c, true), 0);
  corio_chan_destroy(cl.c);
  return 0;
}

Test(chan, close_wakes_every_receiver) { run_program(4, close_wakes_every_receiver, NULL); }

static void closed_sender(void *arg) {
  long v = 7;
  CHECK_EQ(corio_chan_send(cl.c, &v), CORIO_ECHANCLOSED);
  atomic_fetch_add(&cl.closed_errors, 1);
  corio_wg_done(&cl.wg);
}

static int close_wakes_every_blocked_sender(void *arg) {
  cl.c = corio_chan_create(sizeof(long), 1);
  long v = 1;
  CHECK_EQ(corio_chan_send(cl.c, &v), 0); /* now full */
  corio_wg_add(&cl.wg, 20);
  for (int i = 0; i < 20; i++)
    CHECK_EQ(corio_spawn(closed_sender, NULL), 0);
  wait_blocked(cl.c, false, 20);
  CHECK_EQ(corio_chan_close(cl.c), 0);
  CHECK_EQ(corio_wg_wait(&cl.wg), 0);
  CHECK_EQ(atomic_load(&cl.closed_errors), 20);
  /* the value buffered before close is still delivered, then the zero */
  bool ok = false;
  v = 0;
  CHECK_EQ(corio_chan_recv(cl.c, &v, &ok), 0);
  CHECK(ok);
  CHECK_EQ(v, 1);
  CHECK_EQ(corio_chan_recv(cl.c, &v, &ok), 0);
  CHECK(!ok);
  CHECK_EQ(v, 0);
  corio_chan_destroy(cl.c);
  return 0;
}

Test(chan, close_wakes_every_blocked_sender) {
  run_program(4, close_wakes_every_blocked_sender, NULL);
}

static int send_on_closed_is_error(void *arg) {
  corio_chan_t *c = corio_chan_create(sizeof(int), 4);
  int v = 3;
  CHECK_EQ(corio_chan_send(c, &v), 0);
  CHECK_EQ(corio_chan_close(c), 0);
  CHECK_EQ(corio_chan_send(c, &v), CORIO_ECHANCLOSED);
  CHECK_EQ(corio_chan_try_send(c, &v), CORIO_ECHANCLOSED);
  CHECK_EQ(corio_chan_close(c), CORIO_ECHANCLOSED); /* closing twice */
  CHECK_EQ(corio_chan_len(c), 1);
  bool ok = false;
  v = 0;
  CHECK_EQ(corio_chan_recv(c, &v, &ok), 0);
  CHECK(ok && v == 3);
  for (int i = 0; i < 3; i++) { /* drained: zero value, ok false, every time */
    v = -1;
    ok = true;
    CHECK_EQ(corio_chan_recv(c, &v, &ok), 0);
    CHECK(!ok && v == 0);
    v = -1;
    ok = true;
    CHECK_EQ(corio_chan_try_recv(c, &v, &ok), 0);
    CHECK(!ok && v == 0);
  }
  corio_chan_destroy(c);
  return 0;
}

Test(chan, send_on_closed_is_error) { run_program(1, send_on_closed_is_error, NULL); }

/* ---- non-blocking forms ---- */

static corio_chan_t *try_chan;
static void try_receiver(void *arg) {
  int v = 0;
  CHECK_EQ(corio_chan_recv(try_chan, &v, NULL), 0);
  CHECK_EQ(v, 99);
}

static int try_send_and_recv(void *arg) {
  int v = 1;
  bool ok;
  corio_chan_t *b = corio_chan_create(sizeof(int), 1);
  CHECK_EQ(corio_chan_try_recv(b, &v, &ok), CORIO_EWOULDBLOCK);
  CHECK_EQ(corio_chan_try_send(b, &v), 0);
  CHECK_EQ(corio_chan_try_send(b, &v), CORIO_EWOULDBLOCK);
  v = 0;
  CHECK_EQ(corio_chan_try_recv(b, &v, &ok), 0);
  CHECK(ok && v == 1);
  corio_chan_destroy(b);

  try_chan = corio_chan_create(sizeof(int), 0);
  v = 99;
  CHECK_EQ(corio_chan_try_send(try_chan, &v), CORIO_EWOULDBLOCK); /* nobody waits */
  CHECK_EQ(corio_spawn(try_receiver, NULL), 0);
  wait_blocked(try_chan, true, 1);
  CHECK_EQ(corio_chan_try_send(try_chan, &v), 0); /* a receiver waits */
  CHECK_EQ(blocked_on(try_chan, true), 0);
  corio_yield();
  corio_chan_destroy(try_chan);
  return 0;
}

Test(chan, try_send_and_recv) { run_program(1, try_send_and_recv, NULL); }

/* ---- element sizes ---- */

static void signaller(void *arg) {
  for (int i = 0; i < 10; i++)
    CHECK_EQ(corio_chan_send(arg, NULL), 0);
  CHECK_EQ(corio_chan_close(arg), 0);
}

static int zero_size_elements(void *arg) {
  corio_chan_t *c = corio_chan_create(0, 0);
  CHECK(c != NULL);
  CHECK_EQ(corio_spawn(signaller, c), 0);
  int n = 0;
  bool ok;
  while (corio_chan_recv(c, NULL, &ok) == 0 && ok)
    n++;
  CHECK_EQ(n, 10);
  corio_chan_destroy(c);
  c = corio_chan_create(0, 5); /* buffered signals: a counting semaphore */
  for (int i = 0; i < 5; i++)
    CHECK_EQ(corio_chan_try_send(c, NULL), 0);
  CHECK_EQ(corio_chan_try_send(c, NULL), CORIO_EWOULDBLOCK);
  CHECK_EQ(corio_chan_len(c), 5);
  corio_chan_destroy(c);
  return 0;
}

Test(chan, zero_size_elements) { run_program(2, zero_size_elements, NULL); }

typedef struct big {
  unsigned char bytes[3000];
} big_t;

static void big_sender(void *arg) {
  big_t b;
  for (int r = 0; r < 20; r++) {
    for (size_t i = 0; i < sizeof b.bytes; i++)
      b.bytes[i] = (unsigned char)(i * 7 + r);
    CHECK_EQ(corio_chan_send(arg, &b), 0);
  }
}

static int large_elements_copy_whole(void *arg) {
  for (size_t cap = 0; cap < 3; cap++) {
    corio_chan_t *c = corio_chan_create(sizeof(big_t), cap);
    CHECK_EQ(corio_spawn(big_sender, c), 0);
    for (int r = 0; r < 20; r++) {
      big_t b;
      memset(&b, 0xee, sizeof b);
      CHECK_EQ(corio_chan_recv(c, &b, NULL), 0);
      for (size_t i = 0; i < sizeof b.bytes; i++)
        if (b.bytes[i] != (unsigned char)(i * 7 + r)) {
          CHECK_EQ(b.bytes[i], (unsigned char)(i * 7 + r));
          break;
        }
    }
    corio_chan_destroy(c);
  }
  return 0;
}

Test(chan, large_elements_copy_whole) { run_program(2, large_elements_copy_whole, NULL); }

/* ---- many producers and consumers on four Ps ---- */

typedef struct mpmc {
  corio_chan_t *c;
  corio_wg_t producers, consumers;
  _Atomic long sum;
  _Atomic long count;
} mpmc_t;

static mpmc_t mp;

static void mp_producer(void *arg) {
  long base = (long)(intptr_t)arg * 1000;
  for (long i = 0; i < 1000; i++) {
    long v = base + i;
    CHECK_EQ(corio_chan_send(mp.c, &v), 0);
  }
  corio_wg_done(&mp.producers);
}

static void mp_consumer(void *arg) {
  long v;
  bool ok;
  long sum = 0, count = 0;
  while (corio_chan_recv(mp.c, &v, &ok) == 0 && ok) {
    sum += v;
    count++;
  }
  atomic_fetch_add(&mp.sum, sum);
  atomic_fetch_add(&mp.count, count);
  corio_wg_done(&mp.consumers);
}

static int many_producers_and_consumers(void *arg) {
  size_t caps[] = {0, 4};
  for (int k = 0; k < 2; k++) {
    mp.c = corio_chan_create(sizeof(long), caps[k]);
    atomic_store(&mp.sum, 0);
    atomic_store(&mp.count, 0);
    corio_wg_add(&mp.producers, 8);
    corio_wg_add(&mp.consumers, 8);
    for (int i = 0; i < 8; i++) {
      CHECK_EQ(corio_spawn(mp_producer, (void *)(intptr_t)i), 0);
      CHECK_EQ(corio_spawn(mp_consumer, NULL), 0);
    }
    CHECK_EQ(corio_wg_wait(&mp.producers), 0);
    CHECK_EQ(corio_chan_close(mp.c), 0);
    CHECK_EQ(corio_wg_wait(&mp.consumers), 0);
    CHECK_EQ(atomic_load(&mp.count), 8000);
    CHECK_EQ(atomic_load(&mp.sum), 8000L * 7999 / 2);
    corio_chan_destroy(mp.c);
  }
  return 0;
}

Test(chan, many_producers_and_consumers) { run_program(4, many_producers_and_consumers, NULL); }

/* ---- the non-blocking calls from a thread corio does not own ---- */

static void *foreign_feeder(void *arg) {
  corio_chan_t *c = arg;
  int v = 5;
  /* Unbuffered: succeeds only once the coroutine is parked in recv. */
  while (corio_chan_try_send(c, &v) == CORIO_EWOULDBLOCK)
    test_sleep_ns(20000); /* poll: the thread cannot park */
  CHECK_EQ(corio_chan_close(c), 0);
  return NULL;
}

static int foreign_thread_sends_and_closes(void *arg) {
  corio_chan_t *c = corio_chan_create(sizeof(int), 0);
  test_thread_t th;
  test_thread_start(&th, foreign_feeder, c);
  int v = 0;
  bool ok = false;
  CHECK_EQ(corio_chan_recv(c, &v, &ok), 0);
  CHECK(ok);
  CHECK_EQ(v, 5);
  CHECK_EQ(corio_chan_recv(c, &v, &ok), 0); /* the thread closes it, before or while we wait */
  CHECK(!ok);
  corio_syscall_enter();
  test_thread_join(th);
  corio_syscall_exit();
  corio_chan_destroy(c);
  return 0;
}

Test(chan, foreign_thread_sends_and_closes) { run_program(2, foreign_thread_sends_and_closes, NULL); }

/* ---- bad input ---- */

static int destroy_with_waiter(void *arg) {
  static corio_chan_t *c;
  c = corio_chan_create(sizeof(int), 0);
  corio_spawn(try_receiver, NULL);
  try_chan = c;
  wait_blocked(c, true, 1);
  corio_chan_destroy(c);
  return 0;
}

Test(chan, destroy_with_blocked_coroutine_is_fatal, .signal = SIGABRT) {
  run_program(1, destroy_with_waiter, NULL);
}

static corio_chan_t *left_behind;

static void abandoned_receiver(void *arg) {
  int v;
  corio_chan_recv(left_behind, &v, NULL); /* never returns: main exits first */
}

static int abandon_a_receiver(void *arg) {
  CHECK_EQ(corio_spawn(abandoned_receiver, NULL), 0);
  wait_blocked(left_behind, true, 1);
  return 0;
}

/* After shutdown its blocked coroutines are gone: destroy just frees it. */
Test(chan, destroy_after_shutdown_with_abandoned_waiter) {
  left_behind = corio_chan_create(sizeof(int), 0);
  run_program(1, abandon_a_receiver, NULL);
  corio_chan_destroy(left_behind);
}

Test(chan, bad_input) {
  int v = 0;
  bool ok;
  cr_assert_null(corio_chan_create(CORIO_CHAN_MAX_ELEM + 1, 1));
  cr_assert_null(corio_chan_create(1024, SIZE_MAX / 512));
  cr_assert_eq(corio_chan_send(NULL, &v), CORIO_EINVAL);
  cr_assert_eq(corio_chan_recv(NULL, &v, &ok), CORIO_EINVAL);
  cr_assert_eq(corio_chan_try_send(NULL, &v), CORIO_EINVAL);
  cr_assert_eq(corio_chan_try_recv(NULL, &v, &ok), CORIO_EINVAL);
  cr_assert_eq(corio_chan_close(NULL), CORIO_EINVAL);
  cr_assert_eq(corio_chan_len(NULL), 0);
  cr_assert_eq(corio_chan_cap(NULL), 0);
  corio_chan_destroy(NULL);

  corio_chan_t *c = corio_chan_create(sizeof(int), 0); /* capacity 0 is valid */
  cr_assert_not_null(c);
  cr_assert_eq(corio_chan_send(c, NULL), CORIO_EINVAL); /* elem needed */
  /* Not a coroutine: the blocking calls refuse, the others work. */
  cr_assert_eq(corio_chan_send(c, &v), CORIO_ENOTCORO);
  cr_assert_eq(corio_chan_recv(c, &v, &ok), CORIO_ENOTCORO);
  cr_assert_eq(corio_chan_try_send(c, &v), CORIO_EWOULDBLOCK);
  cr_assert_eq(corio_chan_try_recv(c, &v, &ok), CORIO_EWOULDBLOCK);
  cr_assert_eq(corio_chan_close(c), 0);
  cr_assert_eq(corio_chan_close(c), CORIO_ECHANCLOSED);
  corio_chan_destroy(c);
}
