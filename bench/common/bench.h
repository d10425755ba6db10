/* bench/common: what every benchmark program shares (corio's, the raw floor's,
 * libuv's; the Go peer has its own copy of the same conventions in Go).
 *
 * Protocol between a benchmark program and the report (bench/report):
 *   - stdout carries only result lines, one per measured (scenario, implementation):
 *       RESULT<TAB>scenario<TAB>impl<TAB>unit<TAB>n<TAB>median<TAB>p99<TAB>p999<TAB>ops_per_s<TAB>note
 *     unit is "ns" (median/p99/p999 are nanoseconds) or "B" (bytes, one value:
 *     median holds it, p99/p999 are "-"). ops_per_s is "-" when it has no meaning.
 *     An implementation that cannot run a scenario prints a SKIP line instead:
 *       SKIP<TAB>scenario<TAB>impl<TAB>reason
 *   - stderr carries progress (which scenario, how far) for the person watching.
 *
 * Percentiles are nearest-rank over the sorted samples. ops_per_s is the number
 * of operations divided by the time spent doing them (not 1/median), so a slow
 * tail shows in it.
 */
#ifndef CORIO_BENCH_H
#define CORIO_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bench_samples {
  int64_t *v;      /* one value per sample, nanoseconds */
  size_t n, cap;   /* samples kept; adding beyond cap is a bug (bounded loops size it) */
  bool capped;     /* fewer than cap samples is a time-budget stop, not the plan */
  double ops;      /* operations covered by the samples (a sample may time a batch) */
  double busy_ns;  /* time those operations took, for ops_per_s */
} bench_samples_t;

typedef struct bench_opts {
  const char *scenario; /* argv[1] */
  bool quick;           /* --quick: a few hundred milliseconds per scenario */
} bench_opts_t;

/* Parse "<scenario> [--quick]". Returns false (after printing usage) on bad input. */
bool bench_parse_args(int argc, char **argv, bench_opts_t *o);
/* full or quick, by o->quick: BENCH_PICK(o, 100, 10) or BENCH_PICK(o, P_X) where
 * P_X expands to "full, quick" (the extra level lets it expand first). */
#define BENCH_PICK(o, ...) BENCH_PICK_(o, __VA_ARGS__)
#define BENCH_PICK_(opts, full_v, quick_v) ((opts)->quick ? (quick_v) : (full_v))

/* A measured phase stops early once it has run this long, whatever its sample
 * count: only slow platforms (Wine's pipes and sockets) reach it, and the
 * result's note then says how many samples were taken of how many planned. */
#define BENCH_BUDGET_NS(o) ((o)->quick ? (int64_t)1000000000 : (int64_t)5000000000)
/* True when the phase that began at start (bench_now_ns) is over budget. */
bool bench_over_budget(const bench_opts_t *o, int64_t start);

/* Monotonic clock in nanoseconds (clock_unix.c / clock_windows.c). */
int64_t bench_now_ns(void);
/* Busy-wait about ns nanoseconds on the monotonic clock (bounded: it reads the clock). */
void bench_spin_ns(int64_t ns);
/* Resident set size of this process in bytes, or -1 (mem_linux.c / mem_windows.c). */
int64_t bench_rss_bytes(void);

/* Samples. init aborts on allocation failure: a benchmark cannot go on without
 * memory. cap is the planned sample count: a result with fewer says so. */
void bench_samples_init(bench_samples_t *s, size_t cap);
void bench_samples_free(bench_samples_t *s);
/* Add one sample timing `ops` operations that took ns in all. */
void bench_samples_add(bench_samples_t *s, int64_t ns, double ops);
/* Add one per-operation sample without counting it in ops/busy (when the
 * throughput is measured separately, e.g. latency under load). */
void bench_samples_add_latency(bench_samples_t *s, int64_t ns);

/* Add the overshoot of a timed wait: the sample is elapsed - nominal; ops/s
 * counts the waits over the whole elapsed time. */
void bench_samples_add_overshoot(bench_samples_t *s, int64_t elapsed, int64_t nominal);

/* Print a RESULT line for timing samples (sorts s->v). ops_per_s < 0: derived
 * from s->ops / s->busy_ns. */
void bench_emit_ns(const bench_opts_t *o, const char *impl, bench_samples_t *s,
                   double ops_per_s, const char *note);
/* Print a RESULT line for a single byte count. */
void bench_emit_bytes(const bench_opts_t *o, const char *impl, double bytes, const char *note);
/* Print a SKIP line. */
void bench_emit_skip(const bench_opts_t *o, const char *impl, const char *reason);

/* Progress on stderr: "  <impl> <what> <done>/<total>", throttled to ~10 updates. */
void bench_progress(const char *impl, const char *what, uint64_t done, uint64_t total);

/* Fatal error in the harness itself (not a measurement): print and exit(2). */
void bench_die(const char *fmt, ...);

#endif
