/* bench_uv: `bench_uv <scenario> [--quick]`, or `bench_uv echo-server <threads>`
 * when started by the echo client. */
#include <stdlib.h>
#include <string.h>

#include "uv_bench.h"

void uvb_check(int err, const char *what) {
  if (err < 0)
    bench_die("%s: %s", what, uv_strerror(err));
}

static const struct {
  const char *name;
  void (*run)(const bench_opts_t *o);
} scenarios[] = {
    {"pipe_rt_1p", uvb_pipe_rt_1p},     {"pipe_rt_2p", uvb_pipe_rt_2p},
    {"tcp_rt", uvb_tcp_rt},             {"sleep_1ms", uvb_sleep_1ms},
    {"deadline_1ms", uvb_deadline_1ms}, {"wake_storm", uvb_wake_storm},
};

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "echo-server") == 0)
    return uvb_echo_server(atoi(argv[2]));
  bench_opts_t o;
  if (!bench_parse_args(argc, argv, &o))
    return 2;
  for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
    if (strcmp(o.scenario, scenarios[i].name) == 0) {
      scenarios[i].run(&o);
      return 0;
    }
  bench_emit_skip(&o, UV_IMPL, "not applicable: libuv has no coroutines or channels");
  return 0;
}
