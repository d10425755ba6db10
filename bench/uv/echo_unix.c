/* libuv echo server for bench_echo_client: one loop per thread, each with its
 * own listener on the same port (SO_REUSEPORT, as the floor), a uv_tcp_t per
 * connection that writes back what it reads (uv_try_write; the rare partial
 * write falls back to uv_write with a copy). Exits when stdin closes. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/posix.h"
#include "uv_bench.h"

struct econn {
  uv_tcp_t tcp;
  char buf[4096];
};

struct wreq {
  uv_write_t req;
  char data[];
};

static void free_conn(uv_handle_t *h) { free(h->data); }
static void free_wreq(uv_write_t *r, int status) { free(r); }

static void econn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  struct econn *c = h->data;
  *b = uv_buf_init(c->buf, sizeof c->buf);
}

static void econn_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  if (nread < 0) {
    uv_close((uv_handle_t *)st, free_conn);
    return;
  }
  if (nread == 0)
    return;
  uv_buf_t b = uv_buf_init(buf->base, (unsigned)nread);
  int w = uv_try_write(st, &b, 1);
  if (w == nread)
    return;
  size_t off = w > 0 ? (size_t)w : 0, rest = (size_t)nread - off;
  struct wreq *r = malloc(sizeof *r + rest);
  if (!r)
    bench_die("out of memory");
  memcpy(r->data, buf->base + off, rest);
  b = uv_buf_init(r->data, (unsigned)rest);
  uvb_check(uv_write(&r->req, st, &b, 1, free_wreq), "uv_write");
}

static void on_connection(uv_stream_t *server, int status) {
  uvb_check(status, "listen");
  struct econn *c = malloc(sizeof *c);
  if (!c)
    bench_die("out of memory");
  uvb_check(uv_tcp_init(server->loop, &c->tcp), "uv_tcp_init");
  c->tcp.data = c;
  uvb_check(uv_accept(server, (uv_stream_t *)&c->tcp), "uv_accept");
  uv_tcp_nodelay(&c->tcp, 1);
  uvb_check(uv_read_start((uv_stream_t *)&c->tcp, econn_alloc, econn_read), "read_start");
}

struct ethread {
  uv_loop_t loop;
  uv_tcp_t listener;
  int lfd;
};

static void *echo_thread(void *arg) {
  struct ethread *t = arg;
  uvb_check(uv_loop_init(&t->loop), "uv_loop_init");
  uvb_check(uv_tcp_init(&t->loop, &t->listener), "uv_tcp_init");
  uvb_check(uv_tcp_open(&t->listener, t->lfd), "uv_tcp_open");
  uvb_check(uv_listen((uv_stream_t *)&t->listener, 4096, on_connection), "uv_listen");
  uv_run(&t->loop, UV_RUN_DEFAULT); /* ends with the process */
  return NULL;
}

int uvb_echo_server(int threads) {
  static struct ethread ts[64];
  int port = 0;
  pthread_t tid;
  if (threads < 1 || threads > 64)
    bench_die("echo-server: bad thread count");
  bench_raise_nofile(P_ECHO_CONNS * 2 + 256);
  for (int i = 0; i < threads; i++)
    ts[i].lfd = bench_tcp_listen(&port, threads > 1, true);
  for (int i = 0; i < threads; i++)
    if (pthread_create(&tid, NULL, echo_thread, &ts[i]) != 0)
      bench_die("pthread_create");
  bench_announce_port(port);
  bench_exit_on_stdin_eof();
  for (;;)
    pause();
}
