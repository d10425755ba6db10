/* The raw floor's entry point: `bench_floor <scenario> [--quick]`, or
 * `bench_floor echo-server <threads>` when started by the echo client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floor.h"

static const struct {
  const char *name;
  void (*run)(const bench_opts_t *o);
} scenarios[] = {
    {"yield_rt", floor_yield_rt},         {"ready_xp", floor_ready_xp},
    {"pipe_rt_1p", floor_pipe_rt_1p},     {"pipe_rt_2p", floor_pipe_rt_2p},
    {"tcp_rt", floor_tcp_rt},             {"sleep_1ms", floor_sleep_1ms},
    {"deadline_1ms", floor_deadline_1ms}, {"wake_storm", floor_wake_storm},
    {"conn_rate", floor_conn_rate},
};

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "echo-server") == 0)
    return floor_echo_server(atoi(argv[2]));
  bench_opts_t o;
  if (!bench_parse_args(argc, argv, &o))
    return 2;
  for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
    if (strcmp(o.scenario, scenarios[i].name) == 0) {
      scenarios[i].run(&o);
      return 0;
    }
  }
  if (strncmp(o.scenario, "mem_", 4) == 0 || strcmp(o.scenario, "chan_rt") == 0)
    bench_emit_skip(&o, FLOOR_IMPL, "not applicable: no coroutines, nothing to compare");
  else
    bench_emit_skip(&o, FLOOR_IMPL, "unknown scenario");
  return 0;
}
