/* corio's side of the benchmark: scenario groups, one file per corio layer
 * they need (sched.c: runtime.h; chan.c: sync.h; io.c: os.h; net.c: poll.h),
 * so a layer that has not landed leaves its scenarios out of the build.
 *
 * Every scenario runs in a fresh process (the report runs one process per
 * scenario and implementation), in a runtime configured for it: the number of
 * Ps, and the stack policy.
 */
#ifndef CORIO_BENCH_CORIO_H
#define CORIO_BENCH_CORIO_H

#include <stdbool.h>

#include "corio/poll.h"
#include "corio/runtime.h"
#include "common/bench.h"
#include "common/params.h"

#define CB_IMPL cb_impl_name()

typedef struct cb_scenario {
  const char *name;
  int procs;                          /* Ps for this scenario */
  corio_stack_policy_t stack_policy;  /* UNGUARDED where 100k stacks are needed */
  void (*run)(const bench_opts_t *o); /* runs as the main coroutine */
} cb_scenario_t;

/* Each group file defines cb_group_<name>, terminated by an entry with name NULL. */
#define CB_DECLARE_GROUP(g) extern const cb_scenario_t cb_group_##g[];

/* "corio", or "corio-wine" when built for Windows (plat_*.c): the Windows
 * build is only run under Wine here, and its figures are Wine's. */
const char *cb_impl_name(void);

/* Die with a message naming the corio error. */
void cb_check(int err, const char *what);

/* ---- Platform helpers (plat_unix.c / plat_windows.c) ---- */
void cb_plat_init(void);
/* Raise the open-file limit towards want; the resulting limit (Windows: want). */
long cb_raise_nofile(long want);
/* The hard open-file limit (Windows: a cap of the benchmark's own), and what
 * it is, for result notes. */
long cb_nofile_hard(void);
const char *cb_nofile_what(void);

struct corio_file;
/* n readable ends (n even) for the wake storm and the I/O memory scenario:
 * rd[i] is read by a coroutine, wr[i] is where to write a byte for it. Unix:
 * n/2 socketpairs, both ends read (rd[i] and wr[i ^ 1] are the same File), so
 * n readers cost n descriptors, not 2n. Windows: n overlapped pipes from
 * corio_file_pipe. *how describes the choice for the result's note. */
void cb_open_ends(int n, struct corio_file **rd, struct corio_file **wr, const char **how);
/* Close what cb_open_ends opened (readers blocked on them get CORIO_ECLOSING). */
void cb_close_ends(int n, struct corio_file **rd, struct corio_file **wr);
/* Free them, once no coroutine uses them. */
void cb_free_ends(int n, struct corio_file **rd, struct corio_file **wr);

/* Loopback TCP, blocking handles, TCP_NODELAY (setup only; never timed). */
corio_handle_t cb_tcp_listen(int *port);
corio_handle_t cb_tcp_accept(corio_handle_t listener);
void cb_tcp_pair(corio_handle_t h[2]);
void cb_close_handle(corio_handle_t h);
/* Block the calling thread until stdin reaches end of file. */
void cb_wait_stdin_eof(void);

#endif
