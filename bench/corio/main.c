/* bench_corio: `bench_corio <scenario> [--quick]` runs one scenario in a
 * runtime configured for it and prints its result line (common/bench.h);
 * `bench_corio echo-server <procs>` is the echo server bench_echo_client
 * drives. The groups compiled in are listed by the generated corio_groups.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corio_bench.h"
#include "corio_groups.h"

CORIO_BENCH_GROUPS(CB_DECLARE_GROUP)

#define CB_GROUP_REF(g) cb_group_##g,
static const cb_scenario_t *const groups[] = {CORIO_BENCH_GROUPS(CB_GROUP_REF) NULL};

/* Scenarios whose group is absent from this build say why. */
static const char *const known[] = {"yield_rt",   "ready_xp",     "sleep_1ms",  "chan_rt",
                                    "mem_chan",   "pipe_rt_1p",   "pipe_rt_2p", "deadline_1ms",
                                    "wake_storm", "mem_io",       "tcp_rt",     "echo_1p",
                                    "echo_2p",    NULL};

void cb_check(int err, const char *what) {
  if (err < 0)
    bench_die("%s: %s (%s)", what, corio_strerror(err), corio_err_name(err));
}

static int scenario_main(void *arg) {
  const void **a = arg;
  const cb_scenario_t *sc = a[0];
  sc->run(a[1]);
  return 0;
}

static const cb_scenario_t *find(const char *name) {
  for (size_t g = 0; groups[g]; g++)
    for (const cb_scenario_t *sc = groups[g]; sc->name; sc++)
      if (strcmp(sc->name, name) == 0)
        return sc;
  return NULL;
}

/* echo-server: the scenario named echo_<procs>p, with its own arguments. */
static int run(const cb_scenario_t *sc, const bench_opts_t *o) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = sc->procs;
  cfg.stack_policy = sc->stack_policy;
  const void *arg[2] = {sc, o};
  int status = 0;
  cb_check(corio_run(&cfg, scenario_main, arg, &status), "corio_run");
  return status;
}

int main(int argc, char **argv) {
  cb_plat_init();
  bench_opts_t o;
  bool server = argc >= 3 && strcmp(argv[1], "echo-server") == 0;
  if (server) {
    char name[32];
    snprintf(name, sizeof name, "echo_%sp", argv[2]);
    memset(&o, 0, sizeof o);
    o.scenario = name;
  } else if (!bench_parse_args(argc, argv, &o)) {
    return 2;
  }
  if (!server && strncmp(o.scenario, "echo_", 5) == 0) {
    bench_emit_skip(&o, CB_IMPL, "echo is run by bench_echo_client (echo-server mode)");
    return 0;
  }
  const cb_scenario_t *sc = find(o.scenario);
  if (sc)
    return run(sc, &o);
  for (size_t i = 0; known[i]; i++)
    if (strcmp(known[i], o.scenario) == 0) {
      bench_emit_skip(&o, CB_IMPL, "the corio layer this scenario needs is not in this build");
      return 0;
    }
  bench_emit_skip(&o, CB_IMPL, "unknown scenario");
  return 0;
}
