/* Shared benchmark plumbing: samples, percentiles, result lines, progress. */
#include "bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* os_*.c */
bool bench__stderr_is_tty(void);

bool bench_parse_args(int argc, char **argv, bench_opts_t *o) {
  memset(o, 0, sizeof *o);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0)
      o->quick = true;
    else if (argv[i][0] != '-' && !o->scenario)
      o->scenario = argv[i];
    else {
      o->scenario = NULL;
      break;
    }
  }
  if (!o->scenario) {
    fprintf(stderr, "usage: %s <scenario> [--quick]\n", argc > 0 ? argv[0] : "bench");
    return false;
  }
  return true;
}

void bench_die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("bench: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(2);
}

bool bench_over_budget(const bench_opts_t *o, int64_t start) {
  return bench_now_ns() - start > BENCH_BUDGET_NS(o);
}

void bench_spin_ns(int64_t ns) {
  int64_t end = bench_now_ns() + ns;
  while (bench_now_ns() < end) {
  }
}

void bench_samples_init(bench_samples_t *s, size_t cap) {
  memset(s, 0, sizeof *s);
  s->v = malloc((cap ? cap : 1) * sizeof *s->v);
  if (!s->v)
    bench_die("out of memory for %zu samples", cap);
  s->cap = cap;
  s->capped = true;
}

void bench_samples_free(bench_samples_t *s) {
  free(s->v);
  memset(s, 0, sizeof *s);
}

void bench_samples_add_latency(bench_samples_t *s, int64_t ns) {
  if (s->n >= s->cap)
    bench_die("sample buffer overflow (%zu)", s->cap);
  s->v[s->n++] = ns;
}

void bench_samples_add(bench_samples_t *s, int64_t ns, double ops) {
  bench_samples_add_latency(s, ops > 0 ? (int64_t)((double)ns / ops + 0.5) : ns);
  s->ops += ops;
  s->busy_ns += (double)ns;
}

void bench_samples_add_overshoot(bench_samples_t *s, int64_t elapsed, int64_t nominal) {
  bench_samples_add_latency(s, elapsed - nominal);
  s->ops += 1;
  s->busy_ns += (double)elapsed;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least q of the samples at or below it. */
static int64_t percentile(const bench_samples_t *s, double q) {
  size_t rank = (size_t)(q * (double)s->n + 0.999999);
  if (rank < 1)
    rank = 1;
  if (rank > s->n)
    rank = s->n;
  return s->v[rank - 1];
}

static void clean_note(char *dst, size_t cap, const char *note) {
  size_t i = 0;
  for (; note && note[i] && i + 1 < cap; i++)
    dst[i] = (note[i] == '\t' || note[i] == '\n') ? ' ' : note[i];
  dst[i] = '\0';
}

void bench_emit_ns(const bench_opts_t *o, const char *impl, bench_samples_t *s,
                   double ops_per_s, const char *note) {
  char nb[512];
  if (s->n == 0) {
    bench_emit_skip(o, impl, "no samples");
    return;
  }
  qsort(s->v, s->n, sizeof *s->v, cmp_i64);
  if (ops_per_s < 0)
    ops_per_s = s->busy_ns > 0 ? s->ops * 1e9 / s->busy_ns : 0;
  clean_note(nb, sizeof nb, note);
  if (s->capped && s->n < s->cap) {
    size_t len = strlen(nb);
    snprintf(nb + len, sizeof nb - len, "; time budget: %zu of %zu samples", s->n, s->cap);
  }
  printf("RESULT\t%s\t%s\tns\t%zu\t%lld\t%lld\t%lld\t%.0f\t%s\n", o->scenario, impl, s->n,
         (long long)percentile(s, 0.5), (long long)percentile(s, 0.99),
         (long long)percentile(s, 0.999), ops_per_s, nb);
  fflush(stdout);
}

void bench_emit_bytes(const bench_opts_t *o, const char *impl, double bytes, const char *note) {
  char nb[512];
  clean_note(nb, sizeof nb, note);
  printf("RESULT\t%s\t%s\tB\t1\t%.0f\t-\t-\t-\t%s\n", o->scenario, impl, bytes, nb);
  fflush(stdout);
}

void bench_emit_skip(const bench_opts_t *o, const char *impl, const char *reason) {
  char nb[512];
  clean_note(nb, sizeof nb, reason);
  printf("SKIP\t%s\t%s\t%s\n", o->scenario, impl, nb);
  fflush(stdout);
}

/* On a terminal one line is rewritten in place; in a log, a line at half way and at the end. */
void bench_progress(const char *impl, const char *what, uint64_t done, uint64_t total) {
  static const char *last_what;
  static unsigned last_step;
  static int tty = -1; /* asked once: the check is a system call */
  if (tty < 0)
    tty = bench__stderr_is_tty();
  unsigned steps = tty ? 20 : 2;
  unsigned step = total ? (unsigned)(done * steps / total) : steps;
  if (what == last_what && step == last_step)
    return;
  last_what = what;
  last_step = step;
  unsigned pct = total ? (unsigned)(done * 100 / total) : 100;
  if (tty)
    fprintf(stderr, "\r    %-6s %-34s %3u%% (%llu/%llu)%s", impl, what, pct,
            (unsigned long long)done, (unsigned long long)total, done >= total ? "\n" : "");
  else if (done >= total || step > 0)
    fprintf(stderr, "    %-6s %-34s %3u%% (%llu/%llu)\n", impl, what, pct,
            (unsigned long long)done, (unsigned long long)total);
  fflush(stderr);
}
