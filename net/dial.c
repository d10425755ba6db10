/* Dial: resolve, then try each address in order until one connects (Go's
 * dialSerial, without the parallel IPv4 / IPv6 race), reporting the last
 * error. The deadline bounds the whole call; the connect itself waits on
 * the poller under the FD's write deadline. */
#include <string.h>

#include "corio/runtime.h"
#include "net_internal.h"
#include "base.h"
#include "sock.h"

static int fd_kind(int sotype) {
  return sotype == CORIO__SOCK_STREAM ? CORIO__FD_STREAM : CORIO__FD_DGRAM;
}

/* One attempt: a socket of a's family, connected to a. */
static int dial_one(int sotype, const corio__netaddr_t *a, int64_t deadline, corio_conn_t **out) {
  uintptr_t h;
  int err = corio__sock_open(a->family, sotype, &h);
  if (err) return err;
  err = corio__sock_setup(h, a->family, sotype, CORIO__SOCK_ROLE_DIAL, false);
  if (err) {
    corio__sock_close_raw(h);
    return err;
  }
  corio_conn_t *c = corio__calloc(1, CORIO__LINE_SIZE(sizeof *c));
  if (!c) {
    corio__sock_close_raw(h);
    return CORIO_ENOMEM;
  }
  c->family = a->family;
  c->sotype = sotype;
  err = corio__fd_init(&c->pfd, h, fd_kind(sotype), false, true);
  if (err) {
    corio__sock_close_raw(h);
    corio__free(c);
    return err;
  }
  /* From here the FD owns h. */
  if (deadline) err = corio__fd_set_deadline(&c->pfd, deadline, 'w');
  if (err == 0) err = corio__sock_connect(&c->pfd, a);
  if (deadline && err == 0) err = corio__fd_set_deadline(&c->pfd, 0, 'w');
  if (err == 0) err = corio__fd_incref(&c->pfd);
  if (err) {
    corio_conn_free(c);
    return err;
  }
  uintptr_t raw = c->pfd.handle;
  if (corio__sock_local_addr(raw, a->family, &c->laddr) != 0) memset(&c->laddr, 0, sizeof c->laddr);
  /* The peer is where we connected: no getpeername needed. */
  c->raddr = *a;
  if (sotype == CORIO__SOCK_STREAM && a->family != CORIO__AF_UNIX) corio__sock_set_nodelay(raw, true);
  corio__fd_decref(&c->pfd);
  *out = c;
  return 0;
}

int corio__net_dial_addrs(int sotype, const corio__netaddr_t *addrs, int count, int64_t deadline,
                          corio_conn_t **out) {
  int err = CORIO_ENOADDR;
  for (int i = 0; i < count; i++) {
    if (deadline && corio_nanotime() >= deadline) return CORIO_ETIMEOUT;
    err = dial_one(sotype, &addrs[i], deadline, out);
    /* A deadline that passed ends the dial: the next address has no time. */
    if (err == 0 || err == CORIO_ETIMEOUT || err == CORIO_ENOTCORO) return err;
  }
  return err;
}

int corio_net_dial(const char *network, const char *address, int64_t deadline, corio_conn_t **out) {
  if (!out) return CORIO_EINVAL;
  *out = NULL;
  if (!network || !address || deadline < 0) return CORIO_EINVAL;
  if (corio_procs() == 0) return CORIO_ENOTINIT;
  corio__network_t nw;
  int err = corio__net_parse_network(network, &nw);
  if (err) return err;
  corio__netaddr_t addrs[CORIO__NET_MAX_ADDRS];
  int count;
  err = corio__net_resolve(&nw, address, CORIO__NET_FOR_DIAL, deadline, addrs, &count);
  if (err) return err;
  return corio__net_dial_addrs(nw.sotype, addrs, count, deadline, out);
}

int corio_net_dial_timeout(const char *network, const char *address, int64_t timeout_ns,
                           corio_conn_t **out) {
  if (timeout_ns < 0) {
    if (out) *out = NULL;
    return CORIO_EINVAL;
  }
  int64_t deadline = 0;
  if (timeout_ns > 0) {
    int64_t now = corio_nanotime();
    deadline = timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
  }
  return corio_net_dial(network, address, deadline, out);
}
