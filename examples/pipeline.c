/* A coroutine pipeline: a producer writes numbered lines into a pipe, a
 * filter upper-cases what it reads and passes it on through a second pipe, a
 * consumer counts and checksums what arrives. Every read and write carries a
 * deadline, so a stalled stage gives up instead of hanging; at the end a read
 * on an idle pipe shows a deadline firing.
 *
 *   example_pipeline [lines]      (default 20000)
 *
 * Only the portable API is used: it runs the same on Linux and Windows. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corio/corio.h"

#define MS ((int64_t)1000000)
#define STAGE_DEADLINE (2000 * MS) /* a stage stuck this long gives up */

typedef struct stage {
  const char *name;
  corio_file_t *in, *out; /* either may be NULL */
  long lines;             /* producer: how many to write */
  long long bytes;        /* what went through */
  uint64_t sum;           /* checksum of the bytes written (or read, for the consumer) */
  uint64_t upsum;         /* producer: checksum of its bytes upper-cased, as expected at the end */
  int err;                /* 0, or why the stage stopped */
  corio_wg_t *wg;
} stage_t;

static uint64_t mix(uint64_t sum, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) sum = sum * 131 + (unsigned char)p[i];
  return sum;
}

/* Write everything with a fresh deadline; a short count means an error came
 * after part of it went out, and the next write reports it. */
static int write_all(corio_file_t *f, const char *p, size_t n) {
  int err = corio_file_set_write_deadline(f, corio_nanotime() + STAGE_DEADLINE);
  while (!err && n > 0) {
    ptrdiff_t w = corio_file_write(f, p, n);
    if (w < 0) return (int)w;
    p += w;
    n -= (size_t)w;
  }
  return err;
}

static void producer(void *arg) {
  stage_t *s = arg;
  char line[64];
  for (long i = 0; i < s->lines && !s->err; i++) {
    int n = snprintf(line, sizeof line, "line %06ld: the quick brown fox\n", i);
    s->err = write_all(s->out, line, (size_t)n);
    s->sum = mix(s->sum, line, (size_t)n);
    s->bytes += n;
    for (int j = 0; j < n; j++) line[j] = (char)toupper((unsigned char)line[j]);
    s->upsum = mix(s->upsum, line, (size_t)n);
  }
  corio_file_close(s->out); /* the filter sees the end */
  corio_wg_done(s->wg);
}

static void filter(void *arg) {
  stage_t *s = arg;
  char buf[4096];
  for (;;) {
    corio_file_set_read_deadline(s->in, corio_nanotime() + STAGE_DEADLINE);
    ptrdiff_t n = corio_file_read(s->in, buf, sizeof buf);
    if (n == CORIO_EEOF) break;
    if (n < 0) {
      s->err = (int)n;
      break;
    }
    for (ptrdiff_t i = 0; i < n; i++) buf[i] = (char)toupper((unsigned char)buf[i]);
    if ((s->err = write_all(s->out, buf, (size_t)n)) != 0) break;
    s->sum = mix(s->sum, buf, (size_t)n);
    s->bytes += n;
  }
  corio_file_close(s->out);
  corio_wg_done(s->wg);
}

static void consumer(void *arg) {
  stage_t *s = arg;
  char buf[1500]; /* deliberately not a multiple of the filter's chunks */
  for (;;) {
    corio_file_set_read_deadline(s->in, corio_nanotime() + STAGE_DEADLINE);
    ptrdiff_t n = corio_file_read(s->in, buf, sizeof buf);
    if (n == CORIO_EEOF) break;
    if (n < 0) {
      s->err = (int)n;
      break;
    }
    for (ptrdiff_t i = 0; i < n; i++) s->lines += buf[i] == '\n';
    s->sum = mix(s->sum, buf, (size_t)n);
    s->bytes += n;
  }
  corio_wg_done(s->wg);
}

static void report(const stage_t *s) {
  printf("  %-8s %9lld bytes  checksum %016" PRIx64 "  %s\n", s->name, s->bytes, s->sum,
         s->err ? corio_strerror(s->err) : "ok");
}

static int run(void *arg) {
  long lines = *(long *)arg;
  corio_file_t *r1, *w1, *r2, *w2;
  int err = corio_file_pipe(&r1, &w1);
  if (!err) err = corio_file_pipe(&r2, &w2);
  if (err) {
    fprintf(stderr, "pipe: %s\n", corio_strerror(err));
    return 1;
  }
  corio_wg_t wg = CORIO_WG_INIT;
  stage_t prod = {.name = "producer", .out = w1, .lines = lines, .wg = &wg};
  stage_t filt = {.name = "filter", .in = r1, .out = w2, .wg = &wg};
  stage_t cons = {.name = "consumer", .in = r2, .wg = &wg};
  printf("copying %ld lines: producer -> pipe -> filter (upper-case) -> pipe -> consumer\n", lines);
  int64_t t0 = corio_nanotime();
  corio_wg_add(&wg, 3);
  corio_spawn(producer, &prod);
  corio_spawn(filter, &filt);
  corio_spawn(consumer, &cons);
  corio_wg_wait(&wg);
  double ms = (double)(corio_nanotime() - t0) / 1e6;
  report(&prod);
  report(&filt);
  report(&cons);
  bool ok = !prod.err && !filt.err && !cons.err && prod.bytes == cons.bytes &&
            prod.upsum == cons.sum && cons.lines == lines;
  printf("consumer saw %ld lines in %.1f ms (%.1f MB/s); its checksum %s the upper-cased input's\n",
         cons.lines, ms, ms > 0 ? (double)cons.bytes / 1e3 / ms : 0.0,
         prod.upsum == cons.sum ? "matches" : "DIFFERS from");

  /* A deadline firing: nobody writes to this pipe. */
  corio_file_t *r3, *w3;
  if (corio_file_pipe(&r3, &w3) == 0) {
    char c;
    int64_t t1 = corio_nanotime();
    corio_file_set_read_deadline(r3, t1 + 50 * MS);
    ptrdiff_t n = corio_file_read(r3, &c, 1);
    printf("read on an idle pipe with a 50 ms deadline: %s after %.1f ms\n",
           n < 0 ? corio_err_name((int)n) : "data?!", (double)(corio_nanotime() - t1) / 1e6);
    ok = ok && n == CORIO_ETIMEOUT;
    corio_file_free(r3);
    corio_file_free(w3);
  }
  corio_file_free(r1);
  corio_file_free(w1);
  corio_file_free(r2);
  corio_file_free(w2);
  printf("%s\n", ok ? "pipeline ok" : "pipeline FAILED");
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  long lines = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
  if (lines < 0) lines = 0;
  int status = 1;
  int err = corio_run(NULL, run, &lines, &status);
  if (err) {
    fprintf(stderr, "corio_run: %s\n", corio_strerror(err));
    return 1;
  }
  return status;
}
