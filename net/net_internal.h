/* net/net_internal.h: the listener and connection objects and the portable
 * helpers shared by net/'s files (resolution, object set-up). */
#ifndef CORIO_NET_INTERNAL_H
#define CORIO_NET_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>

#include "corio/net.h"
#include "addr.h"
#include "fd.h"

/* Most addresses one name gives dial to try (Go has no limit; a resolver
 * rarely returns more than a handful). */
#define CORIO__NET_MAX_ADDRS 16

struct corio_conn {
  corio__fd_t pfd;          /* must stay first: the conn and its FD share memory */
  int family;               /* CORIO__AF_*; immutable */
  int sotype;               /* CORIO__SOCK_*; immutable */
  corio__netaddr_t laddr;   /* read once at creation; immutable */
  corio__netaddr_t raddr;   /* family CORIO__AF_UNSPEC when unconnected */
  bool unlink_on_close;     /* a unixgram socket file listen_packet made */
  _Atomic bool unlinked;    /* the first close took the file away */
};

struct corio_listener {
  corio__fd_t pfd;          /* must stay first */
  int family;
  corio__netaddr_t laddr;
  bool unlink_on_close;     /* a Unix socket file this listener made */
  _Atomic bool unlinked;    /* the first close took the file away */
};

/* Remove a Unix socket file once, before its socket is closed (Go's order:
 * after the close another process could bind the same path, and we would
 * remove its file). */
void corio__net_unlink_once(_Atomic bool *unlinked, bool wanted, const char *path);

/* What an address is resolved for: listen (an empty host is every local
 * address) or dial (an empty host is the local system). */
enum { CORIO__NET_FOR_LISTEN = 1, CORIO__NET_FOR_DIAL = 2 };

/* Turn address into socket addresses for network nw: literals parsed here,
 * names through corio__sock_resolve inside the syscall handoff. out gets at
 * most CORIO__NET_MAX_ADDRS entries, IPv4-mapped IPv6 literals as IPv4.
 * Unix networks give the path as one address. deadline 0 or
 * absolute ns: CORIO_ETIMEOUT when it passed during resolution. Errors: as
 * corio_net_dial documents for addresses and resolution. */
int corio__net_resolve(const corio__network_t *nw, const char *address, int purpose,
                       int64_t deadline, corio__netaddr_t *out, int *count);

/* A new connection object over a connected or bound socket h (taken over on
 * success; on error the caller still owns h). local and peer give its
 * addresses when the caller knows them; NULL asks the system (no peer for
 * an unconnected datagram socket). */
int corio__net_conn_new(uintptr_t h, int family, int sotype, const corio__netaddr_t *local,
                        const corio__netaddr_t *peer, corio_conn_t **out);

/* Tests only: when set, called with the host name inside the syscall
 * handoff just before the resolver, so a test can hold the resolver's
 * thread (as a slow DNS server would) and watch the runtime carry on. */
typedef void (*corio__net_hook_fn)(const char *host);
extern _Atomic(corio__net_hook_fn) corio__net_resolve_hook;

/* Dial each of addrs in order until one connects (dial's loop, apart for
 * tests): 0 with *out set, or the last attempt's error; CORIO_ETIMEOUT as
 * soon as the deadline has passed. */
int corio__net_dial_addrs(int sotype, const corio__netaddr_t *addrs, int count, int64_t deadline,
                          corio_conn_t **out);

#endif
