/* Listeners and bound datagram sockets: choosing the address to bind (Go's
 * rules for wildcards and names), accept through the poller, close with
 * the Unix socket file removed. */
#include <errno.h>
#include <string.h>

#include "corio/runtime.h"
#include "net_internal.h"
#include "base.h"
#include "sock.h"

/* Open, set up, bind and (stream) listen one socket on a. *family_missing:
 * the failure says this family cannot be used here (no IPv6, no dual
 * stack), so the caller may fall back to the next wildcard. */
static int bind_one(int sotype, int role, const corio__netaddr_t *a, bool v6only, uintptr_t *out,
                    bool *family_missing) {
  uintptr_t h;
  *family_missing = false;
  int err = corio__sock_open(a->family, sotype, &h);
  if (err) {
    int e = corio__sock_errno(err);
    *family_missing = e == EAFNOSUPPORT || e == EPROTONOSUPPORT;
    return err;
  }
  err = corio__sock_setup(h, a->family, sotype, role, v6only);
  if (err) *family_missing = a->family == CORIO__AF_INET6;
  if (err == 0) {
    err = corio__sock_bind(h, a);
    if (err) *family_missing = corio__sock_errno(err) == EADDRNOTAVAIL;
  }
  if (err == 0 && role == CORIO__SOCK_ROLE_LISTEN) err = corio__sock_listen(h);
  if (err) {
    corio__sock_close_raw(h);
    return err;
  }
  *out = h;
  return 0;
}

/* Resolve address for listening and bind the right one of its addresses:
 * a wildcard of "tcp" / "udp" (an empty host, 0.0.0.0 or ::) is the
 * dual-stack IPv6 wildcard, falling back to IPv4 where the system has no
 * IPv6; "tcp6" / "udp6" sockets are IPv6-only; a name binds its first IPv4
 * address, or its first address when it has no IPv4 one. */
static int bind_address(const char *network, const char *address, int sotype, int role,
                        corio__netaddr_t *bound, uintptr_t *h) {
  corio__network_t nw;
  int err = corio__net_parse_network(network, &nw);
  if (err) return err;
  if (nw.sotype != sotype) return CORIO_EUNKNOWNNET;
  corio__netaddr_t addrs[CORIO__NET_MAX_ADDRS];
  int count;
  err = corio__net_resolve(&nw, address, CORIO__NET_FOR_LISTEN, 0, addrs, &count);
  if (err) return err;
  if (nw.family == CORIO__AF_UNIX) {
    if (addrs[0].path[0] == 0) return CORIO_EBADADDR;
    *bound = addrs[0];
    return bind_one(sotype, role, &addrs[0], false, h, &(bool){false});
  }
  if (nw.family == CORIO__AF_UNSPEC && count == 1 && corio__net_is_unspecified(&addrs[0])) {
    /* A literal wildcard: the same pair as an empty host. */
    uint16_t port = addrs[0].port;
    corio__net_any(CORIO__AF_INET6, port, &addrs[0]);
    corio__net_any(CORIO__AF_INET, port, &addrs[1]);
    count = 2;
  }
  int pick = 0;
  bool wildcard = corio__net_is_unspecified(&addrs[0]);
  if (!wildcard)
    for (int i = 0; i < count; i++)
      if (addrs[i].family == CORIO__AF_INET) {
        pick = i;
        break;
      }
  for (int i = pick; i < count; i++) {
    bool missing;
    bool v6only = nw.family == CORIO__AF_INET6 || !wildcard;
    err = bind_one(sotype, role, &addrs[i], v6only, h, &missing);
    if (err == 0) {
      *bound = addrs[i];
      return 0;
    }
    if (!wildcard || !missing) return err;
  }
  return err;
}

static int check_runtime(void) { return corio_procs() == 0 ? CORIO_ENOTINIT : 0; }

int corio_net_listen(const char *network, const char *address, corio_listener_t **out) {
  if (!out) return CORIO_EINVAL;
  *out = NULL;
  if (!network || !address) return CORIO_EINVAL;
  int err = check_runtime();
  if (err) return err;
  corio_listener_t *l = corio__calloc(1, CORIO__LINE_SIZE(sizeof *l));
  if (!l) return CORIO_ENOMEM;
  uintptr_t h;
  err = bind_address(network, address, CORIO__SOCK_STREAM, CORIO__SOCK_ROLE_LISTEN, &l->laddr, &h);
  if (err) {
    corio__free(l);
    return err;
  }
  l->family = l->laddr.family;
  /* The bound address, port included (":0" picks one). */
  if (l->family != CORIO__AF_UNIX) err = corio__sock_local_addr(h, l->family, &l->laddr);
  if (err == 0) err = corio__fd_init(&l->pfd, h, CORIO__FD_STREAM, false, true);
  if (err) {
    corio__sock_close_raw(h);
    if (l->family == CORIO__AF_UNIX && l->laddr.path[0] != '@') corio__sock_unlink(l->laddr.path);
    corio__free(l);
    return err;
  }
  l->unlink_on_close = l->family == CORIO__AF_UNIX && l->laddr.path[0] != '@';
  *out = l;
  return 0;
}

int corio_listener_accept(corio_listener_t *l, corio_conn_t **out) {
  if (!out) return CORIO_EINVAL;
  *out = NULL;
  if (!l) return CORIO_EINVAL;
  uintptr_t h;
  corio__netaddr_t peer;
  int err = corio__sock_accept(&l->pfd, l->family, &h, &peer);
  if (err) return err;
  /* A listener bound to one address (or a Unix path) accepts on exactly
   * that address: no getsockname needed. A wildcard's connections each
   * have their own. */
  bool exact = l->family == CORIO__AF_UNIX || !corio__net_is_unspecified(&l->laddr);
  err = corio__net_conn_new(h, l->family, CORIO__SOCK_STREAM, exact ? &l->laddr : NULL, &peer, out);
  if (err) {
    corio__sock_close_raw(h);
    return err;
  }
  /* Go turns Nagle off on every TCP connection. */
  if (l->family != CORIO__AF_UNIX) corio__sock_set_nodelay((*out)->pfd.handle, true);
  return 0;
}

int corio_listener_addr(corio_listener_t *l, char *buf, size_t len) {
  if (!l) return CORIO_EINVAL;
  char text[CORIO_NET_ADDRSTRLEN];
  corio__net_format(&l->laddr, text, sizeof text);
  return corio__net_copy_out(text, buf, len);
}

int corio_listener_set_deadline(corio_listener_t *l, int64_t deadline) {
  if (!l) return CORIO_EINVAL;
  return corio__fd_set_deadline(&l->pfd, deadline, 'r' + 'w');
}

int corio_listener_control(corio_listener_t *l, int (*fn)(corio_handle_t h, void *arg), void *arg) {
  if (!l || !fn) return CORIO_EINVAL;
  return corio_fd_control(&l->pfd, fn, arg);
}

int corio_listener_close(corio_listener_t *l) {
  if (!l) return CORIO_EINVAL;
  corio__net_unlink_once(&l->unlinked, l->unlink_on_close, l->laddr.path);
  return corio__fd_close(&l->pfd);
}

void corio_listener_free(corio_listener_t *l) {
  if (!l) return;
  corio_listener_close(l);
  corio__free(l);
}

int corio_net_listen_packet(const char *network, const char *address, corio_conn_t **out) {
  if (!out) return CORIO_EINVAL;
  *out = NULL;
  if (!network || !address) return CORIO_EINVAL;
  int err = check_runtime();
  if (err) return err;
  corio__netaddr_t bound;
  uintptr_t h;
  err = bind_address(network, address, CORIO__SOCK_DGRAM, CORIO__SOCK_ROLE_PACKET, &bound, &h);
  if (err) return err;
  err = corio__net_conn_new(h, bound.family, CORIO__SOCK_DGRAM, NULL, NULL, out);
  if (err) {
    corio__sock_close_raw(h);
    if (bound.family == CORIO__AF_UNIX && bound.path[0] != '@') corio__sock_unlink(bound.path);
    return err;
  }
  if (bound.family == CORIO__AF_UNIX) {
    (*out)->laddr = bound; /* as given, whatever the system reports */
    (*out)->unlink_on_close = bound.path[0] != '@';
  }
  return 0;
}
