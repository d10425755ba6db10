/* Connections: the conn object over the poll FD, and Go's net.Conn
 * behaviours (datagram writes of any length including zero, close-write,
 * addresses as text, options) on top of the platform seam (sock.h). */
#include <string.h>

#include "corio/runtime.h"
#include "net_internal.h"
#include "base.h"
#include "sock.h"

static int fd_kind(int sotype) {
  return sotype == CORIO__SOCK_STREAM ? CORIO__FD_STREAM : CORIO__FD_DGRAM;
}

int corio__net_conn_new(uintptr_t h, int family, int sotype, const corio__netaddr_t *local,
                        const corio__netaddr_t *peer, corio_conn_t **out) {
  corio_conn_t *c = corio__calloc(1, CORIO__LINE_SIZE(sizeof *c));
  if (!c) return CORIO_ENOMEM;
  c->family = family;
  c->sotype = sotype;
  /* Addresses first, from the raw socket we still own: an error then
   * leaves h with the caller, untouched. An unconnected datagram socket
   * has no peer. */
  int err = 0;
  if (local) c->laddr = *local;
  else err = corio__sock_local_addr(h, family, &c->laddr);
  if (peer) c->raddr = *peer;
  else if (err == 0 && corio__sock_peer_addr(h, family, &c->raddr) != 0)
    memset(&c->raddr, 0, sizeof c->raddr);
  if (err == 0) err = corio__fd_init(&c->pfd, h, fd_kind(sotype), false, true);
  if (err) {
    corio__free(c);
    return err;
  }
  *out = c;
  return 0;
}

void corio__net_unlink_once(_Atomic bool *unlinked, bool wanted, const char *path) {
  if (wanted && !atomic_exchange_explicit(unlinked, true, memory_order_acq_rel))
    corio__sock_unlink(path);
}

ptrdiff_t corio_conn_read(corio_conn_t *c, void *buf, size_t len) {
  if (!c || (!buf && len > 0)) return CORIO_EINVAL;
  /* Datagrams through the seam: truncation is reported differently by
   * each system, and the platform half makes it the same. */
  if (c->sotype == CORIO__SOCK_DGRAM) return corio__sock_recvfrom(&c->pfd, buf, len, NULL);
  return corio__fd_read(&c->pfd, buf, len);
}

ptrdiff_t corio_conn_write(corio_conn_t *c, const void *buf, size_t len) {
  if (!c || (!buf && len > 0)) return CORIO_EINVAL;
  /* A datagram is sent whole, the empty one included, by one send call.
   * (The FD's write now also makes one call for len 0, so this path could
   * go through it; kept as is until that is measured and tested on both
   * platforms.) */
  if (c->sotype == CORIO__SOCK_DGRAM) return corio__sock_sendto(&c->pfd, buf, len, NULL);
  return corio__fd_write(&c->pfd, buf, len);
}

ptrdiff_t corio_conn_write_ex(corio_conn_t *c, const void *buf, size_t len, size_t *written) {
  if (written) *written = 0;
  if (!c || !written || (!buf && len > 0)) return CORIO_EINVAL;
  if (c->sotype == CORIO__SOCK_DGRAM) {
    /* A datagram goes out whole or not at all. */
    ptrdiff_t n = corio__sock_sendto(&c->pfd, buf, len, NULL);
    if (n < 0) return n;
    *written = (size_t)n;
    return 0;
  }
  return corio__fd_write_ex(&c->pfd, buf, len, written);
}

int corio_conn_close(corio_conn_t *c) {
  if (!c) return CORIO_EINVAL;
  corio__net_unlink_once(&c->unlinked, c->unlink_on_close, c->laddr.path);
  return corio__fd_close(&c->pfd);
}

int corio_conn_close_write(corio_conn_t *c) {
  if (!c) return CORIO_EINVAL;
  if (c->sotype != CORIO__SOCK_STREAM) {
    int err = corio__fd_incref(&c->pfd);
    if (err) return err;
    corio__fd_decref(&c->pfd);
    return CORIO_ENOTSUP;
  }
  return corio__sock_shutdown_write(&c->pfd);
}

void corio_conn_free(corio_conn_t *c) {
  if (!c) return;
  corio_conn_close(c); /* CORIO_ENETCLOSING when closed already: fine */
  corio__free(c);
}

int corio_conn_set_deadline(corio_conn_t *c, int64_t deadline) {
  if (!c) return CORIO_EINVAL;
  return corio__fd_set_deadline(&c->pfd, deadline, 'r' + 'w');
}

int corio_conn_set_read_deadline(corio_conn_t *c, int64_t deadline) {
  if (!c) return CORIO_EINVAL;
  return corio__fd_set_deadline(&c->pfd, deadline, 'r');
}

int corio_conn_set_write_deadline(corio_conn_t *c, int64_t deadline) {
  if (!c) return CORIO_EINVAL;
  return corio__fd_set_deadline(&c->pfd, deadline, 'w');
}

static int addr_out(const corio__netaddr_t *a, char *buf, size_t len) {
  char text[CORIO_NET_ADDRSTRLEN];
  corio__net_format(a, text, sizeof text);
  return corio__net_copy_out(text, buf, len);
}

int corio_conn_local_addr(corio_conn_t *c, char *buf, size_t len) {
  if (!c) return CORIO_EINVAL;
  return addr_out(&c->laddr, buf, len);
}

int corio_conn_remote_addr(corio_conn_t *c, char *buf, size_t len) {
  if (!c) return CORIO_EINVAL;
  return addr_out(&c->raddr, buf, len);
}

int corio_conn_control(corio_conn_t *c, int (*fn)(corio_handle_t h, void *arg), void *arg) {
  if (!c || !fn) return CORIO_EINVAL;
  return corio_fd_control(&c->pfd, fn, arg);
}

static bool is_tcp(const corio_conn_t *c) {
  return c->sotype == CORIO__SOCK_STREAM && c->family != CORIO__AF_UNIX;
}

int corio_conn_set_nodelay(corio_conn_t *c, bool on) {
  if (!c) return CORIO_EINVAL;
  int err = corio__fd_incref(&c->pfd);
  if (err) return err;
  err = is_tcp(c) ? corio__sock_set_nodelay(c->pfd.handle, on) : CORIO_ENOTSUP;
  corio__fd_decref(&c->pfd);
  return err;
}

int corio_conn_set_keepalive(corio_conn_t *c, bool on, int64_t period_ns) {
  if (!c || period_ns < 0) return CORIO_EINVAL;
  int err = corio__fd_incref(&c->pfd);
  if (err) return err;
  err = is_tcp(c) ? corio__sock_set_keepalive(c->pfd.handle, on, period_ns) : CORIO_ENOTSUP;
  corio__fd_decref(&c->pfd);
  return err;
}

ptrdiff_t corio_conn_read_from(corio_conn_t *c, void *buf, size_t len, char *addr, size_t addrlen) {
  if (!c || (!buf && len > 0) || (!addr && addrlen > 0)) return CORIO_EINVAL;
  if (addr && addrlen < CORIO_NET_ADDRSTRLEN) return CORIO_ERANGE;
  if (c->sotype != CORIO__SOCK_DGRAM) return CORIO_ENOTSUP;
  corio__netaddr_t from;
  memset(&from, 0, sizeof from);
  ptrdiff_t n = corio__sock_recvfrom(&c->pfd, buf, len, &from);
  if (n >= 0 && addr) corio__net_format(&from, addr, addrlen);
  return n;
}

ptrdiff_t corio_conn_write_to(corio_conn_t *c, const void *buf, size_t len, const char *addr) {
  if (!c || !addr || (!buf && len > 0)) return CORIO_EINVAL;
  if (c->sotype != CORIO__SOCK_DGRAM) return CORIO_ENOTSUP;
  corio__network_t nw = {c->family, CORIO__SOCK_DGRAM, ""};
  corio__netaddr_t to;
  int count = 0;
  /* Literals only: a name here would need the resolver on every datagram. */
  if (c->family != CORIO__AF_UNIX) {
    const char *host;
    size_t hostlen;
    uint16_t port;
    int err = corio__net_split_host_port(addr, &host, &hostlen, &port);
    if (err) return err;
    if (hostlen == 0 || !corio__net_host_is_numeric(host, hostlen)) return CORIO_EBADADDR;
    nw.family = CORIO__AF_UNSPEC;
  }
  int err = corio__net_resolve(&nw, addr, CORIO__NET_FOR_DIAL, 0, &to, &count);
  if (err) return err;
  /* An IPv4 destination from an IPv6 socket: the mapped form. */
  if (c->family == CORIO__AF_INET6 && to.family == CORIO__AF_INET) {
    memmove(to.ip + 12, to.ip, 4);
    memset(to.ip, 0, 10);
    to.ip[10] = to.ip[11] = 0xff;
    to.family = CORIO__AF_INET6;
  }
  if (to.family != c->family) return CORIO_ENOADDR;
  return corio__sock_sendto(&c->pfd, buf, len, &to);
}
