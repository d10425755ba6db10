/* The libuv peer: the same scenarios written the way a libuv user writes them
 * (callbacks on one loop per thread; uv_try_write for small writes, which is
 * what uv_write does first anyway, without the request bookkeeping). */
#ifndef CORIO_BENCH_UV_H
#define CORIO_BENCH_UV_H

#include <uv.h>

#include "../common/bench.h"
#include "../common/params.h"

#define UV_IMPL "libuv"

void uvb_check(int err, const char *what);
void uvb_pipe_rt_1p(const bench_opts_t *o);
void uvb_pipe_rt_2p(const bench_opts_t *o);
void uvb_tcp_rt(const bench_opts_t *o);
void uvb_sleep_1ms(const bench_opts_t *o);
void uvb_deadline_1ms(const bench_opts_t *o);
void uvb_wake_storm(const bench_opts_t *o);
int uvb_echo_server(int threads);

#endif
