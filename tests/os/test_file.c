/* File: Go's os.File behaviours that every platform shares (pipes, regular
 * files, deadlines, close, error paths, fd()). Only the portable API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corio/os.h"
#include "check.h"

/* ---- helpers ---- */

static void make_pipe(corio_file_t **r, corio_file_t **w) {
  CHECK_EQ(corio_file_pipe(r, w), 0);
}

static void tmp_name(char *buf, size_t len) {
  static _Atomic int n;
  snprintf(buf, len, "corio-test-file-%lld-%d.tmp", (long long)corio_nanotime(),
           atomic_fetch_add(&n, 1));
}

static int64_t since(int64_t t0) { return corio_nanotime() - t0; }

typedef struct op {
  corio_file_t *f;
  _Atomic int started, done;
  ptrdiff_t result;
  int64_t returned_at;
} op_t;

static void read_one(void *arg) {
  op_t *o = arg;
  char c;
  atomic_store(&o->started, 1);
  o->result = corio_file_read(o->f, &c, 1);
  o->returned_at = corio_nanotime();
  atomic_store(&o->done, 1);
}

/* ---- pipes ---- */

static int pipe_main(void *arg) {
  corio_file_t *r, *w;
  make_pipe(&r, &w);
  CHECK(strcmp(corio_file_name(r), "|0") == 0);
  CHECK(strcmp(corio_file_name(w), "|1") == 0);
  CHECK_EQ(corio_file_write(w, "hello, pipe", 11), 11);
  char buf[32];
  ptrdiff_t got = 0;
  while (got < 11) {
    ptrdiff_t n = corio_file_read(r, buf + got, sizeof buf - (size_t)got);
    CHECK(n > 0);
    if (n <= 0) break;
    got += n;
  }
  CHECK(memcmp(buf, "hello, pipe", 11) == 0);
  CHECK_EQ(corio_file_read(r, buf, 0), 0);
  CHECK_EQ(corio_file_write(w, buf, 0), 0);
  CHECK_EQ(corio_file_close(w), 0);
  CHECK_EQ(corio_file_read(r, buf, sizeof buf), CORIO_EEOF);
  corio_file_free(w);
  corio_file_free(r);
  return 0;
}

Test(file, pipe_round_trip_and_eof) { run_program(2, pipe_main, NULL); }

/* A read pending on a pipe is cancelled promptly by close. */
static int close_cancels_read_main(void *arg) {
  corio_file_t *r, *w;
  make_pipe(&r, &w);
  op_t o = {.f = r};
  CHECK_EQ(corio_spawn(read_one, &o), 0);
  wait_for(&o.started, 1);
  corio_sleep(30 * MS);
  CHECK_EQ(atomic_load(&o.done), 0);
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio_file_close(r), 0);
  wait_for(&o.done, 1);
  CHECK_EQ(o.result, CORIO_ECLOSING);
  CHECK(o.returned_at - t0 < 1000 * MS);
  corio_file_free(r);
  corio_file_free(w);
  return 0;
}

Test(file, pending_read_cancelled_promptly_by_close) { run_program(2, close_cancels_read_main, NULL); }

/* ---- deadlines ---- */

static int read_timeout_main(void *arg) {
  corio_file_t *r, *w;
  make_pipe(&r, &w);
  char c;
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio_file_set_read_deadline(r, t0 + 50 * MS), 0);
  CHECK_EQ(corio_file_read(r, &c, 1), CORIO_ETIMEOUT);
  CHECK(since(t0) >= 50 * MS);
  CHECK(since(t0) < 2000 * MS);
  /* A deadline in the past: at once. */
  CHECK_EQ(corio_file_set_deadline(r, corio_nanotime() - 1), 0);
  t0 = corio_nanotime();
  CHECK_EQ(corio_file_read(r, &c, 1), CORIO_ETIMEOUT);
  CHECK(since(t0) < 50 * MS);
  corio_file_free(r);
  corio_file_free(w);
  return 0;
}

Test(file, read_timeout_on_pipe_with_no_writer) { run_program(2, read_timeout_main, NULL); }

/* Go's TestReadTimeoutMustNotReturn: deadlines set in the past and then
 * cleared must not fire; the read returns only when the writer closes. */
static int must_not_return_main(void *arg) {
  corio_file_t *r, *w;
  make_pipe(&r, &w);
  CHECK_EQ(corio_file_set_deadline(r, corio_nanotime() - 5000 * MS), 0);
  CHECK_EQ(corio_file_set_write_deadline(r, corio_nanotime() - 5000 * MS), 0);
  CHECK_EQ(corio_file_set_read_deadline(r, 0), 0);
  op_t o = {.f = r};
  CHECK_EQ(corio_spawn(read_one, &o), 0);
  wait_for(&o.started, 1);
  corio_sleep(100 * MS);
  CHECK_EQ(atomic_load(&o.done), 0);
  CHECK_EQ(corio_file_close(w), 0);
  wait_for(&o.done, 1);
  CHECK_EQ(o.result, CORIO_EEOF);

  /* And a read with a deadline must not return before it. */
  corio_file_t *r2, *w2;
  make_pipe(&r2, &w2);
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio_file_set_read_deadline(r2, t0 + 80 * MS), 0);
  op_t o2 = {.f = r2};
  CHECK_EQ(corio_spawn(read_one, &o2), 0);
  wait_for(&o2.done, 1);
  CHECK_EQ(o2.result, CORIO_ETIMEOUT);
  CHECK(o2.returned_at - t0 >= 80 * MS);
  corio_file_free(r);
  corio_file_free(w);
  corio_file_free(r2);
  corio_file_free(w2);
  return 0;
}

Test(file, read_must_not_return_before_its_deadline) { run_program(2, must_not_return_main, NULL); }

static int write_timeout_main(void *arg) {
  corio_file_t *r, *w;
  make_pipe(&r, &w);
  enum { BIG = 4 << 20 }; /* far more than any pipe buffer */
  char *big = calloc(1, BIG);
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio_file_set_write_deadline(w, t0 + 50 * MS), 0);
  ptrdiff_t n = corio_file_write(w, big, BIG);
  CHECK(n == CORIO_ETIMEOUT || (n > 0 && n < BIG));
  CHECK(since(t0) >= 50 * MS);
  CHECK(since(t0) < 2000 * MS);
  t0 = corio_nanotime();
  CHECK_EQ(corio_file_write(w, big, BIG), CORIO_ETIMEOUT); /* still expired */
  CHECK(since(t0) < 50 * MS);
  free(big);
  corio_file_free(r);
  corio_file_free(w);
  return 0;
}

Test(file, write_timeout_on_full_pipe) { run_program(2, write_timeout_main, NULL); }

/* Many different deadlines in parallel, each honoured on its own. */
enum { PAR = 20 };
typedef struct par {
  corio_file_t *r, *w;
  int64_t deadline;
  op_t o;
} par_t;

static void par_reader(void *arg) {
  par_t *p = arg;
  CHECK_EQ(corio_file_set_read_deadline(p->r, p->deadline), 0);
  read_one(&p->o);
}

static int many_deadlines_main(void *arg) {
  static par_t p[PAR];
  int64_t t0 = corio_nanotime();
  for (int i = 0; i < PAR; i++) {
    make_pipe(&p[i].r, &p[i].w);
    p[i].deadline = t0 + (int64_t)((i * 7) % PAR + 1) * 10 * MS;
    p[i].o.f = p[i].r;
    CHECK_EQ(corio_spawn(par_reader, &p[i]), 0);
  }
  for (int i = 0; i < PAR; i++) {
    wait_for(&p[i].o.done, 1);
    CHECK_EQ(p[i].o.result, CORIO_ETIMEOUT);
    CHECK(p[i].o.returned_at >= p[i].deadline);
    CHECK(p[i].o.returned_at < p[i].deadline + 1000 * MS);
  }
  for (int i = 0; i < PAR; i++) {
    corio_file_free(p[i].r);
    corio_file_free(p[i].w);
  }
  return 0;
}

Test(file, many_deadlines_in_parallel) { run_program(4, many_deadlines_main, NULL); }

/* Deadlines changed while a read and a write race (Go's
 * TestReadWriteDeadlineRace), then byte conservation. */
typedef struct race {
  corio_file_t *r, *w;
  _Atomic int stop, finished;
  _Atomic long long written, read;
  _Atomic int timeouts; /* operations the deadlines cut short */
  int iters;
  bool random_deadlines;
} race_t;

static uint32_t rnd(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static void race_setter(void *arg) {
  race_t *x = arg;
  uint32_t seed = 12345;
  while (!atomic_load(&x->stop)) {
    int64_t d = corio_nanotime() + (int64_t)(rnd(&seed) % 3000) * 1000; /* 0-3 ms */
    CHECK_EQ(corio_file_set_read_deadline(x->r, d), 0);
    CHECK_EQ(corio_file_set_write_deadline(x->w, d), 0);
    corio_sleep((int64_t)(rnd(&seed) % 500) * 1000);
  }
  atomic_fetch_add(&x->finished, 1);
}

/* A random deadline up to 2 ms ahead; every 50th one already past, so that
 * deadlines certainly cut in (the random ones alone may all be met). */
static int64_t deadline_for(int i, uint32_t *seed) {
  if (i % 50 == 49) return corio_nanotime() - 1;
  return corio_nanotime() + (int64_t)(rnd(seed) % 2000) * 1000;
}

static void race_reader(void *arg) {
  race_t *x = arg;
  uint32_t seed = (uint32_t)(uintptr_t)&seed | 1;
  char buf[64];
  for (int i = 0; i < x->iters; i++) {
    if (x->random_deadlines)
      corio_file_set_read_deadline(x->r, deadline_for(i, &seed));
    ptrdiff_t n = corio_file_read(x->r, buf, 1 + rnd(&seed) % sizeof buf);
    if (n > 0) atomic_fetch_add(&x->read, n);
    else {
      CHECK_EQ(n, CORIO_ETIMEOUT);
      atomic_fetch_add(&x->timeouts, 1);
      /* Scheduling is cooperative: a loop of reads that fail at once would
       * keep the P, and with it the timers on that P (the setter's sleep may
       * be one), from running; the deadline would then stay expired for
       * every remaining read. */
      corio_yield();
    }
  }
  atomic_fetch_add(&x->finished, 1);
}

static void race_writer(void *arg) {
  race_t *x = arg;
  uint32_t seed = (uint32_t)(uintptr_t)&seed | 1;
  char buf[64] = {0};
  for (int i = 0; i < x->iters; i++) {
    if (x->random_deadlines)
      corio_file_set_write_deadline(x->w, deadline_for(i, &seed));
    size_t len = 1 + rnd(&seed) % sizeof buf;
    ptrdiff_t n = corio_file_write(x->w, buf, len);
    if (n > 0) atomic_fetch_add(&x->written, n);
    else {
      CHECK_EQ(n, CORIO_ETIMEOUT);
      atomic_fetch_add(&x->timeouts, 1);
      corio_yield(); /* as the reader does */
    }
    if (i % 8 == 0) corio_yield();
  }
  atomic_fetch_add(&x->finished, 1);
}

/* Clear the deadlines, close the writer and drain: nothing lost, nothing
 * invented. */
static void race_settle(race_t *x) {
  CHECK_EQ(corio_file_set_deadline(x->r, 0), 0);
  CHECK_EQ(corio_file_close(x->w), 0);
  char buf[4096];
  ptrdiff_t n;
  while ((n = corio_file_read(x->r, buf, sizeof buf)) > 0) atomic_fetch_add(&x->read, n);
  CHECK_EQ(n, CORIO_EEOF);
  CHECK_EQ(atomic_load(&x->read), atomic_load(&x->written));
  CHECK(atomic_load(&x->written) > 0);
  cr_log_info("%lld bytes through the pipe, %d operations timed out",
              (long long)atomic_load(&x->written), atomic_load(&x->timeouts));
  corio_file_free(x->r);
  corio_file_free(x->w);
}

static int deadline_race_main(void *arg) {
  static race_t x;
  make_pipe(&x.r, &x.w);
  x.iters = 2000;
  CHECK_EQ(corio_spawn(race_setter, &x), 0);
  CHECK_EQ(corio_spawn(race_reader, &x), 0);
  CHECK_EQ(corio_spawn(race_writer, &x), 0);
  int64_t give_up = corio_nanotime() + 60000 * MS;
  while (atomic_load(&x.finished) < 2 && corio_nanotime() < give_up) corio_sleep(MS);
  atomic_store(&x.stop, 1);
  wait_for(&x.finished, 3);
  race_settle(&x);
  return 0;
}

Test(file, deadlines_changed_while_read_and_write_race, .timeout = 120) {
  run_program(4, deadline_race_main, NULL);
}

static int random_deadlines_main(void *arg) {
  static race_t x;
  make_pipe(&x.r, &x.w);
  x.iters = 300;
  x.random_deadlines = true;
  enum { EACH = 4 };
  for (int i = 0; i < EACH; i++) {
    CHECK_EQ(corio_spawn(race_reader, &x), 0);
    CHECK_EQ(corio_spawn(race_writer, &x), 0);
  }
  wait_for(&x.finished, 2 * EACH);
  CHECK(atomic_load(&x.timeouts) > 0); /* the deadlines did cut in */
  race_settle(&x);
  return 0;
}

Test(file, concurrent_reads_and_writes_with_random_deadlines, .timeout = 120) {
  run_program(4, random_deadlines_main, NULL);
}

/* ---- regular files ---- */

static int regular_file_main(void *arg) {
  char name[96];
  tmp_name(name, sizeof name);
  corio_file_t *f;
  CHECK_EQ(corio_file_create(name, &f), 0);
  CHECK(strcmp(corio_file_name(f), name) == 0);
  CHECK_EQ(corio_file_write(f, "0123456789", 10), 10);
  CHECK_EQ(corio_file_write_at(f, "AB", 2, 4), 2);
  char buf[32];
  /* read_at fills the buffer or stops at the end. */
  CHECK_EQ(corio_file_read_at(f, buf, 6, 2), 6);
  CHECK(memcmp(buf, "23AB67", 6) == 0);
  CHECK_EQ(corio_file_read_at(f, buf, sizeof buf, 5), 5);
  CHECK_EQ(corio_file_read_at(f, buf, sizeof buf, 10), CORIO_EEOF);
  CHECK_EQ(corio_file_read_at(f, buf, 0, 3), 0);
  CHECK_EQ(corio_file_seek(f, 0, CORIO_SEEK_CUR), 10);
  CHECK_EQ(corio_file_seek(f, 2, CORIO_SEEK_SET), 2);
  CHECK_EQ(corio_file_read(f, buf, 3), 3);
  CHECK(memcmp(buf, "23A", 3) == 0);
  CHECK_EQ(corio_file_seek(f, -1, CORIO_SEEK_END), 9);
  CHECK_EQ(corio_file_read(f, buf, 5), 1);
  CHECK_EQ(corio_file_read(f, buf, 5), CORIO_EEOF);
  CHECK_EQ(corio_file_close(f), 0);
  corio_file_free(f);

  /* Reopen read-only: writes are refused by the OS; append mode refuses
   * write_at. */
  CHECK_EQ(corio_file_open(name, CORIO_O_RDONLY, 0, &f), 0);
  CHECK_EQ(corio_file_read(f, buf, 4), 4);
  CHECK(corio_file_write(f, "x", 1) < 0);
  corio_file_free(f);
  CHECK_EQ(corio_file_open(name, CORIO_O_WRONLY | CORIO_O_APPEND, 0, &f), 0);
  CHECK_EQ(corio_file_write(f, "++", 2), 2);
  CHECK_EQ(corio_file_write_at(f, "x", 1, 0), CORIO_EINVAL);
  corio_file_free(f);
  CHECK_EQ(corio_file_open(name, CORIO_O_RDONLY, 0, &f), 0);
  CHECK_EQ(corio_file_read_at(f, buf, 12, 0), 12);
  CHECK(memcmp(buf, "0123AB6789++", 12) == 0);
  corio_file_free(f);
  /* EXCL on an existing file fails; on a missing one creates it. */
  CHECK(corio_file_open(name, CORIO_O_RDWR | CORIO_O_CREATE | CORIO_O_EXCL, 0644, &f) < 0);
  CHECK(f == NULL);
  remove(name);
  CHECK_EQ(corio_file_open(name, CORIO_O_RDWR | CORIO_O_CREATE | CORIO_O_EXCL, 0644, &f), 0);
  corio_file_free(f);
  remove(name);
  /* Missing file: an OS error, recoverable as such. */
  int err = corio_file_open(name, CORIO_O_RDONLY, 0, &f);
  CHECK(err < 0 && (corio_err_errno(err) != 0 || corio_err_win32(err) != 0));
  return 0;
}

Test(file, regular_file_read_write_seek) { run_program(2, regular_file_main, NULL); }

/* ---- every documented error ---- */

static int see_handle(corio_handle_t h, void *arg) {
  *(corio_handle_t *)arg = h;
  return 5;
}

static int errors_main(void *arg) {
  corio_file_t *f = (corio_file_t *)1, *r, *w;
  char buf[4];
  /* Arguments. */
  CHECK_EQ(corio_file_open(NULL, 0, 0, &f), CORIO_EINVAL);
  CHECK_EQ(corio_file_open("x", 0, 0, NULL), CORIO_EINVAL);
  CHECK_EQ(corio_file_open("", 0, 0, &f), CORIO_EINVAL);
  CHECK(f == NULL);
  CHECK_EQ(corio_file_open("x", 0x10000, 0, &f), CORIO_EINVAL); /* unknown flag */
  CHECK_EQ(corio_file_open("x", CORIO_O_WRONLY | CORIO_O_RDWR, 0, &f), CORIO_EINVAL);
  CHECK_EQ(corio_file_open("x", CORIO_O_RDWR | CORIO_O_EXCL, 0, &f), CORIO_EINVAL);
  CHECK_EQ(corio_file_open("x", CORIO_O_RDWR | CORIO_O_CREATE, 010000, &f), CORIO_EINVAL);
  CHECK_EQ(corio_file_new(CORIO_INVALID_HANDLE, "bad", &f), CORIO_EBADF);
  CHECK_EQ(corio_file_new(0, "x", NULL), CORIO_EINVAL);
  CHECK_EQ(corio_file_pipe(NULL, &w), CORIO_EINVAL);
  CHECK_EQ(corio_file_read(NULL, buf, 1), CORIO_EINVAL);
  CHECK_EQ(corio_file_write(NULL, buf, 1), CORIO_EINVAL);
  CHECK_EQ(corio_file_close(NULL), CORIO_EINVAL);
  CHECK_EQ(corio_file_seek(NULL, 0, 0), CORIO_EINVAL);
  CHECK_EQ(corio_file_set_deadline(NULL, 0), CORIO_EINVAL);
  CHECK_EQ(corio_file_fd(NULL), CORIO_INVALID_HANDLE);
  corio_file_free(NULL);

  make_pipe(&r, &w);
  CHECK_EQ(corio_file_read(r, NULL, 1), CORIO_EINVAL);
  CHECK_EQ(corio_file_write(w, NULL, 1), CORIO_EINVAL);
  CHECK_EQ(corio_file_read_at(r, buf, 1, -1), CORIO_EINVAL); /* bad offset */
  CHECK_EQ(corio_file_write_at(w, buf, 1, -1), CORIO_EINVAL);
  CHECK_EQ(corio_file_seek(r, 0, 3), CORIO_EINVAL); /* bad whence */
  CHECK_EQ(corio_file_control(r, NULL, NULL), CORIO_EINVAL);
  CHECK_EQ(corio_file_fd_ex(r, NULL), CORIO_EINVAL);
  corio_handle_t h = CORIO_INVALID_HANDLE;
  CHECK_EQ(corio_file_control(r, see_handle, &h), 5);
  CHECK(h != CORIO_INVALID_HANDLE);

  /* Closed File: every operation says so; a second close too. */
  CHECK_EQ(corio_file_close(r), 0);
  CHECK_EQ(corio_file_close(r), CORIO_ECLOSING);
  CHECK_EQ(corio_file_read(r, buf, 1), CORIO_ECLOSING);
  CHECK_EQ(corio_file_read(r, buf, 0), CORIO_ECLOSING);
  CHECK_EQ(corio_file_read_at(r, buf, 1, 0), CORIO_ECLOSING);
  CHECK_EQ(corio_file_write(r, buf, 1), CORIO_ECLOSING);
  CHECK_EQ(corio_file_write_at(r, buf, 1, 0), CORIO_ECLOSING);
  CHECK_EQ(corio_file_seek(r, 0, CORIO_SEEK_SET), CORIO_ECLOSING);
  CHECK_EQ(corio_file_set_deadline(r, 0), CORIO_ECLOSING);
  CHECK_EQ(corio_file_set_read_deadline(r, 0), CORIO_ECLOSING);
  CHECK_EQ(corio_file_set_write_deadline(r, 0), CORIO_ECLOSING);
  CHECK_EQ(corio_file_control(r, see_handle, &h), CORIO_ECLOSING);
  CHECK_EQ(corio_file_fd(r), CORIO_INVALID_HANDLE);
  CHECK_EQ(corio_file_fd_ex(r, &h), CORIO_ECLOSING);
  CHECK_EQ(h, CORIO_INVALID_HANDLE);
  CHECK(strcmp(corio_file_name(r), "|0") == 0); /* the object is still valid */

  corio_file_free(r);
  corio_file_free(w);
  return 0;
}

Test(file, every_documented_error) { run_program(2, errors_main, NULL); }

Test(file, use_before_init_is_refused) {
  corio_file_t *r, *w;
  cr_assert_eq(corio_file_pipe(&r, &w), CORIO_ENOTINIT);
  cr_assert_eq(corio_file_open("x", CORIO_O_RDONLY, 0, &r), CORIO_ENOTINIT);
}

/* A coroutine that yields in a loop keeps the only P busy without ever
 * blocking; a reader parked on a pipe must still be woken (the network is
 * polled now and then even between yields), on 1 P and on 2. */
typedef struct starve {
  corio_file_t *r, *w;
  _Atomic int done;
} starve_t;

static void starve_reader(void *arg) {
  starve_t *s = arg;
  char c;
  CHECK_EQ(corio_file_read(s->r, &c, 1), 1);
  atomic_store(&s->done, 1);
}

static int starve_main(void *arg) {
  (void)arg;
  static starve_t s;
  atomic_store(&s.done, 0);
  make_pipe(&s.r, &s.w);
  CHECK_EQ(corio_spawn(starve_reader, &s), 0);
  for (int i = 0; i < 100; i++) corio_yield(); /* the reader parks */
  CHECK_EQ(corio_file_write(s.w, "x", 1), 1);
  wait_for(&s.done, 1); /* yields only */
  corio_file_free(s.r);
  corio_file_free(s.w);
  return 0;
}

Test(file, yielding_coroutines_do_not_starve_a_parked_reader) {
  run_program(1, starve_main, NULL);
  run_program(2, starve_main, NULL);
}

/* ---- fd() ---- */

/* fd() while a write is in flight on another coroutine: no crash; the
 * write completes or fails with a documented error, and the File keeps
 * working whichever way fd() went. */
typedef struct fdrace {
  corio_file_t *r, *w;
  _Atomic int done;
  long long written, read;
} fdrace_t;

static void fd_writer(void *arg) {
  fdrace_t *x = arg;
  static char chunk[1000];
  for (int i = 0; i < 500; i++) {
    ptrdiff_t n = corio_file_write(x->w, chunk, sizeof chunk);
    CHECK(n > 0);
    if (n <= 0) break;
    x->written += n;
  }
  CHECK_EQ(corio_file_close(x->w), 0);
  /* An add, not a store: the reader can see EOF and count itself first. */
  atomic_fetch_add(&x->done, 1);
}

static void fd_reader(void *arg) {
  fdrace_t *x = arg;
  char buf[1500];
  ptrdiff_t n;
  while ((n = corio_file_read(x->r, buf, sizeof buf)) > 0) {
    x->read += n;
    corio_yield();
  }
  CHECK_EQ(n, CORIO_EEOF);
  atomic_fetch_add(&x->done, 1);
}

static int fd_race_main(void *arg) {
  static fdrace_t x;
  make_pipe(&x.r, &x.w);
  CHECK_EQ(corio_spawn(fd_writer, &x), 0);
  corio_sleep(MS);
  corio_handle_t h;
  int err = corio_file_fd_ex(x.w, &h);
  CHECK(err == 0 || err == CORIO_ENOTSUP || err == CORIO_EINPROGRESS);
  CHECK(h != CORIO_INVALID_HANDLE);
  cr_log_info("fd() during a write: %s", err ? corio_strerror(err) : "detached");
  /* Deadlines: refused after a successful fd(), still there otherwise. */
  int dl = corio_file_set_write_deadline(x.w, 0);
  if (err == 0) CHECK(dl == CORIO_ENODEADLINE || dl == CORIO_ECLOSING);
  else CHECK(dl == 0 || dl == CORIO_ECLOSING);
  CHECK_EQ(corio_spawn(fd_reader, &x), 0);
  wait_for(&x.done, 2);
  CHECK_EQ(x.written, 500 * 1000);
  CHECK_EQ(x.read, x.written);
  corio_file_free(x.r);
  corio_file_free(x.w);
  return 0;
}

Test(file, write_racing_fd_keeps_the_file_working) { run_program(2, fd_race_main, NULL); }
