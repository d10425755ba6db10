/* Stress: thousands of coroutines on four Ps exchanging through channels,
 * selects with and without deadlines, mutexes and semaphores. Every value is
 * accounted for at the end. */
#include "corio/sync.h"
#include "check.h"

#define LANES 4

/* ---- fan-out / fan-in through selects ----
 * PRODUCERS coroutines each send PER values, each through a select over send
 * cases on all lanes; CONSUMERS coroutines receive with selects over all
 * lanes (half of them with short deadlines, retrying on timeout) until every
 * lane is closed, dropping closed lanes as Go code sets a channel to nil. */
#define PRODUCERS 1500
#define CONSUMERS 1500
#define PER 20

typedef struct fan {
  corio_chan_t *lanes[LANES];
  corio_wg_t producers, consumers;
  _Atomic long long sum;
  _Atomic long count;
  _Atomic long timeouts;
} fan_t;

static fan_t fan;

static void fan_producer(void *arg) {
  long base = (long)(intptr_t)arg * PER;
  for (int i = 0; i < PER; i++) {
    long v = base + i;
    corio_select_case_t cs[LANES];
    for (int k = 0; k < LANES; k++)
      cs[k] = (corio_select_case_t){.chan = fan.lanes[k], .dir = CORIO_SELECT_SEND, .elem = &v};
    int rc = corio_select(cs, LANES, 0);
    CHECK(rc >= 0 && rc < LANES);
    if (rc >= 0)
      CHECK(cs[rc].ok);
  }
  corio_wg_done(&fan.producers);
}

static void fan_consumer(void *arg) {
  bool timed = (intptr_t)arg % 2 == 1;
  corio_select_case_t cs[LANES];
  long v;
  long long sum = 0;
  long count = 0;
  for (int k = 0; k < LANES; k++)
    cs[k] = (corio_select_case_t){.chan = fan.lanes[k], .dir = CORIO_SELECT_RECV, .elem = &v};
  int open = LANES;
  while (open > 0) {
    int rc = corio_select(cs, LANES, timed ? corio_nanotime() + 200000 : 0);
    if (rc == CORIO_ETIMEOUT) {
      atomic_fetch_add(&fan.timeouts, 1);
      continue;
    }
    CHECK(rc >= 0 && rc < LANES);
    if (rc < 0)
      break;
    if (cs[rc].ok) {
      sum += v;
      count++;
    } else {
      cs[rc].chan = NULL;
      open--;
    }
  }
  atomic_fetch_add(&fan.sum, sum);
  atomic_fetch_add(&fan.count, count);
  corio_wg_done(&fan.consumers);
}

static int fan_out_fan_in(void *arg) {
  size_t caps[LANES] = {0, 0, 1, 16};
  for (int k = 0; k < LANES; k++)
    fan.lanes[k] = corio_chan_create(sizeof(long), caps[k]);
  corio_wg_add(&fan.producers, PRODUCERS);
  corio_wg_add(&fan.consumers, CONSUMERS);
  for (int i = 0; i < CONSUMERS; i++)
    CHECK_EQ(corio_spawn(fan_consumer, (void *)(intptr_t)i), 0);
  for (int i = 0; i < PRODUCERS; i++)
    CHECK_EQ(corio_spawn(fan_producer, (void *)(intptr_t)i), 0);
  CHECK_EQ(corio_wg_wait(&fan.producers), 0);
  for (int k = 0; k < LANES; k++)
    CHECK_EQ(corio_chan_close(fan.lanes[k]), 0);
  CHECK_EQ(corio_wg_wait(&fan.consumers), 0);
  long total = (long)PRODUCERS * PER;
  CHECK_EQ(atomic_load(&fan.count), total);
  CHECK_EQ(atomic_load(&fan.sum), (long long)total * (total - 1) / 2);
  for (int k = 0; k < LANES; k++)
    corio_chan_destroy(fan.lanes[k]);
  return 0;
}

Test(sync_stress, fan_out_fan_in_through_selects, .timeout = 300) {
  run_program(4, fan_out_fan_in, NULL);
}

/* ---- a ring of unbuffered channels passing tokens ---- */
#define RING 2000
#define LAPS 5

static corio_chan_t *ring[RING];
static corio_wg_t ring_wg = CORIO_WG_INIT;

static void ring_node(void *arg) {
  int i = (int)(intptr_t)arg;
  for (int hop = 0; hop < 3 * LAPS; hop++) { /* three tokens, LAPS laps */
    long token;
    bool ok;
    CHECK_EQ(corio_chan_recv(ring[i], &token, &ok), 0);
    CHECK(ok);
    token++;
    CHECK_EQ(corio_chan_send(ring[(i + 1) % RING], &token), 0);
  }
  corio_wg_done(&ring_wg);
}

static int token_ring(void *arg) {
  for (int i = 0; i < RING; i++)
    ring[i] = corio_chan_create(sizeof(long), 0);
  corio_wg_add(&ring_wg, RING - 1);
  for (int i = 1; i < RING; i++)
    CHECK_EQ(corio_spawn(ring_node, (void *)(intptr_t)i), 0);
  /* Node 0 is this coroutine; three tokens circulate at once. */
  for (int t = 0; t < 3; t++) {
    long token = t * 1000000L;
    CHECK_EQ(corio_chan_send(ring[1], &token), 0);
  }
  long seen[3];
  for (int lap = 0; lap < LAPS; lap++) {
    for (int t = 0; t < 3; t++) {
      CHECK_EQ(corio_chan_recv(ring[0], &seen[t], NULL), 0);
      if (lap < LAPS - 1)
        CHECK_EQ(corio_chan_send(ring[1], &seen[t]), 0);
    }
  }
  CHECK_EQ(corio_wg_wait(&ring_wg), 0);
  /* Unbuffered FIFO hops keep the tokens in order; each hop adds one. */
  for (int t = 0; t < 3; t++)
    CHECK_EQ(seen[t], t * 1000000L + (long)LAPS * (RING - 1));
  for (int i = 0; i < RING; i++)
    corio_chan_destroy(ring[i]);
  return 0;
}

Test(sync_stress, token_ring, .timeout = 300) { run_program(4, token_ring, NULL); }

/* ---- mutex and semaphore hammering ---- */
#define HAMMERS 2000

typedef struct hammer {
  corio_mutex_t mu;
  long value;      /* guarded by mu */
  uint32_t slots;  /* a counting semaphore: at most 3 inside */
  _Atomic int inside;
  _Atomic int max_inside;
  corio_wg_t wg;
} hammer_t;

static hammer_t hm = {CORIO_MUTEX_INIT, 0, 3, 0, 0, CORIO_WG_INIT};

static void hammer(void *arg) {
  for (int i = 0; i < 50; i++) {
    CHECK_EQ(corio_mutex_lock(&hm.mu), 0);
    hm.value++;
    CHECK_EQ(corio_mutex_unlock(&hm.mu), 0);

    CHECK_EQ(corio_sema_acquire(&hm.slots), 0);
    int in = atomic_fetch_add(&hm.inside, 1) + 1;
    int mx = atomic_load(&hm.max_inside);
    while (in > mx && !atomic_compare_exchange_weak(&hm.max_inside, &mx, in))
      ;
    if (i % 8 == 0)
      corio_yield();
    atomic_fetch_sub(&hm.inside, 1);
    corio_sema_release(&hm.slots);
  }
  corio_wg_done(&hm.wg);
}

static int mutex_and_sema_hammer(void *arg) {
  corio_wg_add(&hm.wg, HAMMERS);
  for (int i = 0; i < HAMMERS; i++)
    CHECK_EQ(corio_spawn(hammer, NULL), 0);
  CHECK_EQ(corio_wg_wait(&hm.wg), 0);
  CHECK_EQ(hm.value, (long)HAMMERS * 50);
  CHECK_EQ(hm.slots, 3);
  CHECK(atomic_load(&hm.max_inside) <= 3);
  CHECK_EQ(hm.mu.state, 0);
  return 0;
}

Test(sync_stress, mutex_and_sema_hammer, .timeout = 300) {
  run_program(4, mutex_and_sema_hammer, NULL);
}

/* ---- select deadlines racing channel wake-ups ----
 * Receivers select over two unbuffered channels with deadlines of 0 to 150
 * microseconds, so timers fire while senders are completing exchanges with
 * the same parked selects. Each value must arrive exactly once. */
#define RACERS 500
#define RACE_PER 100

typedef struct deadline_race {
  corio_chan_t *c[2];
  corio_wg_t senders, receivers;
  _Atomic long received;
  _Atomic long long sum;
  _Atomic long timeouts;
} deadline_race_t;

static deadline_race_t dr;

static void race_sender(void *arg) {
  long base = (long)(intptr_t)arg * RACE_PER;
  for (int i = 0; i < RACE_PER; i++) {
    long v = base + i;
    CHECK_EQ(corio_chan_send(dr.c[i % 2], &v), 0);
  }
  corio_wg_done(&dr.senders);
}

static void race_receiver(void *arg) {
  int64_t step = ((intptr_t)arg % 4) * 50000;
  long v;
  long long sum = 0;
  while (atomic_load(&dr.received) < (long)RACERS * RACE_PER) {
    corio_select_case_t cs[2] = {
        {.chan = dr.c[0], .dir = CORIO_SELECT_RECV, .elem = &v},
        {.chan = dr.c[1], .dir = CORIO_SELECT_RECV, .elem = &v},
    };
    int rc = corio_select(cs, 2, corio_nanotime() + step);
    if (rc == CORIO_ETIMEOUT) {
      atomic_fetch_add(&dr.timeouts, 1);
      if (step == 0)
        corio_yield(); /* a polling loop must let the senders run */
      continue;
    }
    CHECK(rc == 0 || rc == 1);
    if (rc < 0)
      break;
    CHECK(cs[rc].ok);
    sum += v;
    atomic_fetch_add(&dr.received, 1);
  }
  atomic_fetch_add(&dr.sum, sum);
  corio_wg_done(&dr.receivers);
}

static int select_deadlines_race_wakeups(void *arg) {
  dr.c[0] = corio_chan_create(sizeof(long), 0);
  dr.c[1] = corio_chan_create(sizeof(long), 0);
  corio_wg_add(&dr.senders, RACERS);
  corio_wg_add(&dr.receivers, RACERS);
  for (int i = 0; i < RACERS; i++) {
    CHECK_EQ(corio_spawn(race_receiver, (void *)(intptr_t)i), 0);
    CHECK_EQ(corio_spawn(race_sender, (void *)(intptr_t)i), 0);
  }
  CHECK_EQ(corio_wg_wait(&dr.senders), 0);
  CHECK_EQ(corio_wg_wait(&dr.receivers), 0);
  long total = (long)RACERS * RACE_PER;
  CHECK_EQ(atomic_load(&dr.received), total);
  CHECK_EQ(atomic_load(&dr.sum), (long long)total * (total - 1) / 2);
  CHECK(atomic_load(&dr.timeouts) > 0);
  for (int k = 0; k < 2; k++) {
    CHECK_EQ(corio_chan_len(dr.c[k]), 0);
    corio_chan_destroy(dr.c[k]);
  }
  return 0;
}

Test(sync_stress, select_deadlines_race_wakeups, .timeout = 300) {
  run_program(4, select_deadlines_race_wakeups, NULL);
}
