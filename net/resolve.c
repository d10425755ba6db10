/* From address text to socket addresses: Unix paths as they are, IP
 * literals parsed here (never a resolver call), names through the system
 * resolver with the P handed on while it blocks (Go's cgo resolver). */
#include <stdatomic.h>
#include <string.h>

#include "corio/runtime.h"
#include "net_internal.h"
#include "sock.h"

_Atomic(corio__net_hook_fn) corio__net_resolve_hook;

static int unix_address(const char *address, corio__netaddr_t *a) {
  size_t n = strlen(address);
  if (n == 0 || n > CORIO__UNIX_PATH_MAX) return CORIO_EBADADDR;
  memset(a, 0, sizeof *a);
  a->family = CORIO__AF_UNIX;
  memcpy(a->path, address, n + 1);
  return 0;
}

/* ::ffff:a.b.c.d without a zone is the IPv4 address, as in Go. */
static void unmap_v4(corio__netaddr_t *a) {
  static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (a->family != CORIO__AF_INET6 || a->scope_id || memcmp(a->ip, prefix, 12) != 0) return;
  memmove(a->ip, a->ip + 12, 4);
  memset(a->ip + 4, 0, 12);
  a->family = CORIO__AF_INET;
}

static bool family_fits(const corio__network_t *nw, int family) {
  return nw->family == CORIO__AF_UNSPEC || nw->family == family;
}

/* An empty host: every local address (listen) or the local system (dial).
 * For "tcp" / "udp" listen prefers the IPv6 wildcard (made dual-stack by
 * the caller) and lists the IPv4 one after it as the fallback. */
static int empty_host(const corio__network_t *nw, int purpose, uint16_t port,
                      corio__netaddr_t *out, int *count) {
  int n = 0;
  if (purpose == CORIO__NET_FOR_LISTEN) {
    if (nw->family != CORIO__AF_INET) corio__net_any(CORIO__AF_INET6, port, &out[n++]);
    if (nw->family != CORIO__AF_INET6) corio__net_any(CORIO__AF_INET, port, &out[n++]);
  } else {
    if (nw->family != CORIO__AF_INET6) corio__net_loopback(CORIO__AF_INET, port, &out[n++]);
    if (nw->family != CORIO__AF_INET) corio__net_loopback(CORIO__AF_INET6, port, &out[n++]);
  }
  *count = n;
  return 0;
}

static int lookup(const corio__network_t *nw, const char *host, size_t hostlen, uint16_t port,
                  int64_t deadline, corio__netaddr_t *out, int *count) {
  char name[256];
  if (hostlen >= sizeof name) return CORIO_ENOSUCHHOST; /* longer than any DNS name */
  memcpy(name, host, hostlen);
  name[hostlen] = 0;
  if (deadline && corio_nanotime() >= deadline) return CORIO_ETIMEOUT;
  /* Outside a coroutine enter fails and the call just blocks this thread. */
  bool entered = corio_syscall_enter() == 0;
  corio__net_hook_fn hook = atomic_load_explicit(&corio__net_resolve_hook, memory_order_acquire);
  if (hook) hook(name);
  int err = corio__sock_resolve(name, nw->family, out, CORIO__NET_MAX_ADDRS, count);
  if (entered) corio_syscall_exit();
  if (err) return err;
  if (deadline && corio_nanotime() >= deadline) return CORIO_ETIMEOUT;
  int kept = 0;
  for (int i = 0; i < *count; i++) {
    unmap_v4(&out[i]);
    if (!family_fits(nw, out[i].family)) continue;
    out[i].port = port;
    out[kept++] = out[i];
  }
  *count = kept;
  return kept > 0 ? 0 : CORIO_ENOADDR;
}

int corio__net_resolve(const corio__network_t *nw, const char *address, int purpose,
                       int64_t deadline, corio__netaddr_t *out, int *count) {
  *count = 0;
  if (nw->family == CORIO__AF_UNIX) {
    int err = unix_address(address, &out[0]);
    if (err == 0) *count = 1;
    return err;
  }
  const char *host;
  size_t hostlen;
  uint16_t port;
  int err = corio__net_split_host_port(address, &host, &hostlen, &port);
  if (err) return err;
  if (hostlen == 0) return empty_host(nw, purpose, port, out, count);
  if (!corio__net_host_is_numeric(host, hostlen))
    return lookup(nw, host, hostlen, port, deadline, out, count);
  err = corio__net_parse_ip(host, hostlen, &out[0]);
  if (err) return err;
  unmap_v4(&out[0]);
  if (!family_fits(nw, out[0].family)) return CORIO_ENOADDR;
  out[0].port = port;
  *count = 1;
  return 0;
}
