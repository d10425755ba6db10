/* Error texts as Go's net.OpError prints them, and the portable errno view
 * of socket errors. */
#include <stdio.h>
#include <string.h>

#include "corio/net.h"
#include "addr.h"
#include "sock.h"

static bool is_resolver_error(int err) {
  return err == CORIO_ENOSUCHHOST || err == CORIO_ERESOLVAGAIN || err == CORIO_ERESOLVFAIL;
}

static bool is_address_error(int err) {
  return err == CORIO_EBADADDR || err == CORIO_EMISSINGPORT || err == CORIO_EBADPORT ||
         err == CORIO_ENOADDR || err == CORIO_EUNKNOWNNET;
}

/* The host part of address (all of it when it does not split). */
static void host_of(const char *address, char *host, size_t len) {
  const char *h;
  size_t n;
  uint16_t port;
  if (corio__net_split_host_port(address, &h, &n, &port) != 0) {
    h = address;
    n = strlen(address);
  }
  if (n >= len) n = len - 1;
  memcpy(host, h, n);
  host[n] = 0;
}

int corio_net_error_text(char *buf, size_t len, int err, const char *op, const char *network,
                         const char *address) {
  if (!buf && len > 0) return CORIO_EINVAL;
  char prefix[CORIO_NET_ADDRSTRLEN + 64] = "";
  char detail[CORIO_NET_ADDRSTRLEN + 128] = "";
  bool own = is_resolver_error(err) || is_address_error(err);
  /* Like Go's OpError: an address or lookup failure says what it could not
   * use in its own part, so the prefix leaves the address out. */
  if (op && *op)
    snprintf(prefix, sizeof prefix, "%s%s%s%s%s: ", op, network ? " " : "", network ? network : "",
             address && !own ? " " : "", address && !own ? address : "");
  if (address && is_resolver_error(err)) {
    char host[CORIO_NET_ADDRSTRLEN];
    host_of(address, host, sizeof host);
    snprintf(detail, sizeof detail, "lookup %s: ", host);
  } else if (err == CORIO_EUNKNOWNNET && network) {
    return snprintf(buf, len, "%s%s %s", prefix, corio_strerror(err), network);
  } else if (address && is_address_error(err)) {
    snprintf(detail, sizeof detail, "address %s: ", address);
  }
  return snprintf(buf, len, "%s%s%s", prefix, detail, corio_strerror(err));
}

int corio_net_errno(int err) { return corio__sock_errno(err); }
