/* The raw floor: hand-written C doing the same system calls as corio for each
 * scenario, with no runtime in between (single-thread edge-triggered epoll
 * loops, or one thread per "P" where the scenario has two). */
#ifndef CORIO_BENCH_FLOOR_H
#define CORIO_BENCH_FLOOR_H

#include "../common/bench.h"
#include "../common/params.h"

#define FLOOR_IMPL "floor"

void floor_yield_rt(const bench_opts_t *o);
void floor_ready_xp(const bench_opts_t *o);
void floor_pipe_rt_1p(const bench_opts_t *o);
void floor_pipe_rt_2p(const bench_opts_t *o);
void floor_tcp_rt(const bench_opts_t *o);
void floor_sleep_1ms(const bench_opts_t *o);
void floor_deadline_1ms(const bench_opts_t *o);
void floor_wake_storm(const bench_opts_t *o);
void floor_conn_rate(const bench_opts_t *o);
/* Echo server for bench_echo_client: threads event loops, one listener each. */
int floor_echo_server(int threads);

#endif
