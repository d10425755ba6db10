/* Workload sizes shared by every implementation, so that corio and its peers do
 * exactly the same amount of work. bench/go/params.go holds the same numbers for
 * the Go peer and must match this file.
 *
 * BENCH_PICK(opts, full, quick) chooses between the full run and --quick.
 */
#ifndef CORIO_BENCH_PARAMS_H
#define CORIO_BENCH_PARAMS_H

/* Nanosecond-scale operations (yield, channel): one sample times a batch. */
#define P_BATCH 1000
#define P_YIELD_SAMPLES 3000, 200
#define P_CHAN_SAMPLES 2000, 100
#define P_SMALL_WARM 50, 5 /* batches */

/* Cross-P wakeup: one sample per wakeup; the waker first spins this long so
 * the other P's thread has stopped spinning and gone to sleep. */
#define P_READY_GAP_NS 20000
#define P_READY_SAMPLES 20000, 1000
#define P_READY_WARM 200, 20

/* Pipe and TCP round trips: one sample per round trip. */
#define P_PIPE_SAMPLES 100000, 5000
#define P_PIPE_WARM 2000, 200
#define P_TCP_SAMPLES 50000, 2000
#define P_TCP_WARM 1000, 100
#define P_TCP_MSG 64 /* bytes per message, TCP and echo */

/* 1 ms timers: one sample per sleep / deadline. */
#define P_TIMER_NS 1000000
#define P_TIMER_SAMPLES 1000, 50
#define P_TIMER_WARM 20, 5

/* Wake storm: readers on socketpair ends (both ends of each pair are read),
 * one sample per round. */
#define P_STORM_READERS 10000
#define P_STORM_ROUNDS 30, 3
#define P_STORM_WARM 3, 1

/* Echo: connections, warm-up and measured window (milliseconds). */
#define P_ECHO_CONNS 1000
#define P_ECHO_WARM_MS 500, 200
#define P_ECHO_MEASURE_MS 3000, 500

/* Connection rate: one sample per connection (dial, accept, a P_TCP_MSG
 * echo, close). */
#define P_CONN_SAMPLES 20000, 1000
#define P_CONN_WARM 500, 50

/* Memory: parked coroutines. */
#define P_MEM_COUNT 100000, 10000

#endif
