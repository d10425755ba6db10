/* A minimal HTTP/1.1 server answering "Hello, World!" to every request:
 * one coroutine per connection, keep-alive (several requests per
 * connection, pipelined ones too), "Connection: close" honoured. Enough
 * for a load generator such as wrk:
 *
 *   example_http_hello [address] [procs]     (default 127.0.0.1:8080, all CPUs)
 *   wrk -t2 -c100 -d10s http://127.0.0.1:8080/
 *
 * Requests are read up to the blank line that ends their headers; bodies
 * are not expected (a request with Content-Length gets 400 and the
 * connection is closed). Only the portable API is used. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corio/corio.h"

#define IDLE_NS ((int64_t)30 * 1000000000)

static const char ok_keep[] = "HTTP/1.1 200 OK\r\n"
                              "Content-Type: text/plain\r\n"
                              "Content-Length: 13\r\n"
                              "\r\n"
                              "Hello, World!";
static const char ok_close[] = "HTTP/1.1 200 OK\r\n"
                               "Content-Type: text/plain\r\n"
                               "Content-Length: 13\r\n"
                               "Connection: close\r\n"
                               "\r\n"
                               "Hello, World!";
static const char bad[] = "HTTP/1.1 400 Bad Request\r\n"
                          "Content-Length: 0\r\n"
                          "Connection: close\r\n"
                          "\r\n";

/* The first occurrence of pat in [p, p + n), or NULL (memmem is not
 * everywhere). */
static char *find(char *p, size_t n, const char *pat, size_t pl) {
  for (size_t i = 0; i + pl <= n; i++)
    if (p[i] == pat[0] && memcmp(p + i, pat, pl) == 0) return p + i;
  return NULL;
}

/* Case-insensitive search for a header line "name: value" whose value
 * starts with want, within the request head [p, end). */
static bool has_header(const char *p, const char *end, const char *name, const char *want) {
  size_t nl = strlen(name), wl = strlen(want);
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    if ((size_t)(eol - p) > nl && p[nl] == ':') {
      bool match = true;
      for (size_t i = 0; i < nl && match; i++) match = tolower((unsigned char)p[i]) == name[i];
      if (match) {
        const char *v = p + nl + 1;
        while (v < eol && *v == ' ') v++;
        if ((size_t)(eol - v) < wl) return false;
        for (size_t i = 0; i < wl; i++)
          if (tolower((unsigned char)v[i]) != want[i]) return false;
        return true;
      }
    }
    p = eol + 1;
  }
  return false;
}

static void serve(void *arg) {
  corio_conn_t *c = arg;
  char buf[8192];
  size_t have = 0;
  for (;;) {
    /* Answer every complete request head in the buffer. */
    char *end;
    while ((end = find(buf, have, "\r\n\r\n", 4)) != NULL) {
      end += 4;
      bool http10 = find(buf, (size_t)(end - buf), "HTTP/1.0", 8) != NULL;
      bool close = http10 || has_header(buf, end, "connection", "close");
      if (has_header(buf, end, "content-length", "") && !has_header(buf, end, "content-length", "0")) {
        corio_conn_write(c, bad, sizeof bad - 1);
        goto done;
      }
      const char *r = close ? ok_close : ok_keep;
      size_t rl = close ? sizeof ok_close - 1 : sizeof ok_keep - 1;
      if (corio_conn_write(c, r, rl) != (ptrdiff_t)rl || close) goto done;
      have -= (size_t)(end - buf);
      memmove(buf, end, have);
    }
    if (have == sizeof buf) { /* a head larger than the buffer */
      corio_conn_write(c, bad, sizeof bad - 1);
      break;
    }
    corio_conn_set_read_deadline(c, corio_nanotime() + IDLE_NS);
    ptrdiff_t n = corio_conn_read(c, buf + have, sizeof buf - have);
    if (n < 0) break; /* end of stream, idle, reset */
    have += (size_t)n;
  }
done:
  corio_conn_free(c);
}

static int run(void *arg) {
  const char *address = arg;
  corio_listener_t *l;
  int err = corio_net_listen("tcp", address, &l);
  if (err) {
    char text[256];
    corio_net_error_text(text, sizeof text, err, "listen", "tcp", address);
    fprintf(stderr, "http_hello: %s\n", text);
    return 1;
  }
  char bound[CORIO_NET_ADDRSTRLEN];
  corio_listener_addr(l, bound, sizeof bound);
  printf("http_hello: listening on http://%s/\n", bound);
  fflush(stdout);
  for (;;) {
    corio_conn_t *c;
    err = corio_listener_accept(l, &c);
    if (err) {
      fprintf(stderr, "http_hello: accept: %s\n", corio_strerror(err));
      corio_sleep(10 * 1000000);
      continue;
    }
    if (corio_spawn(serve, c) != 0) corio_conn_free(c);
  }
}

int main(int argc, char **argv) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  if (argc > 2) cfg.procs = atoi(argv[2]);
  int status = 0;
  int err = corio_run(&cfg, run, argc > 1 ? argv[1] : "127.0.0.1:8080", &status);
  if (err) {
    fprintf(stderr, "http_hello: %s\n", corio_strerror(err));
    return 1;
  }
  return status;
}
