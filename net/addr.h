/* net/addr.h: socket addresses as the portable half of net/ sees them, and
 * their text forms (net/addr.c). No system header is needed: each platform
 * half converts a corio__netaddr_t to and from its own sockaddr (net/sock.h).
 *
 * Text forms (Go's): "1.2.3.4:80", "[::1]:80", "[fe80::1%eth0]:80",
 * "host:80", ":80", "" (port 0 where allowed); Unix: a path, "@name"
 * (Linux's abstract names), "" for an unnamed socket. */
#ifndef CORIO_NET_ADDR_H
#define CORIO_NET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Address families (corio's own values). */
enum {
  CORIO__AF_UNSPEC = 0,
  CORIO__AF_INET = 4,
  CORIO__AF_INET6 = 6,
  CORIO__AF_UNIX = 1,
};

/* Socket types (corio's own values). */
enum {
  CORIO__SOCK_STREAM = 1,
  CORIO__SOCK_DGRAM = 2,
};

/* Longest Unix path (sun_path without its NUL on Linux). Platforms whose
 * sun_path is shorter refuse longer paths in their conversion. */
#define CORIO__UNIX_PATH_MAX 107

typedef struct corio__netaddr {
  int family;          /* CORIO__AF_* */
  uint16_t port;       /* INET, INET6: host byte order */
  uint32_t scope_id;   /* INET6: the zone's interface index, 0 for none */
  uint8_t ip[16];      /* INET: ip[0..4); INET6: all 16, network order */
  char path[CORIO__UNIX_PATH_MAX + 1]; /* UNIX: NUL-terminated; "" unnamed */
} corio__netaddr_t;

/* A network name: "tcp", "tcp4", "tcp6", "unix", "udp", "udp4", "udp6",
 * "unixgram". */
typedef struct corio__network {
  int family;  /* CORIO__AF_UNSPEC (tcp, udp: either IP family), INET, INET6, UNIX */
  int sotype;  /* CORIO__SOCK_* */
  const char *name;
} corio__network_t;

/* Parse a network name. 0 or CORIO_EUNKNOWNNET. */
int corio__net_parse_network(const char *name, corio__network_t *out);

/* Parse an IP literal without brackets ("127.0.0.1", "::1", "fe80::1%3";
 * a named zone is looked up with corio__sock_zone_index). Fills family, ip
 * and scope_id; the port is left alone. 0 or CORIO_EBADADDR. */
int corio__net_parse_ip(const char *s, size_t n, corio__netaddr_t *a);

/* Split "host:port" (Go's SplitHostPort): host without brackets (may be
 * empty, may hold a zone) as [*host, *host + *hostlen), and the port.
 * Errors: CORIO_EMISSINGPORT, CORIO_EBADPORT, CORIO_EBADADDR (brackets,
 * too many colons). */
int corio__net_split_host_port(const char *addr, const char **host, size_t *hostlen,
                               uint16_t *port);

/* Whether host[0..n) must be an IP literal: it has a ':' (IPv6), or it is
 * made only of digits and dots (so "1.2.3" is a bad IPv4 literal rather than
 * a name to look up, as inet_aton's short forms are refused). */
bool corio__net_host_is_numeric(const char *host, size_t n);

/* The unspecified ("0.0.0.0" / "::") or loopback address of family, with
 * port. */
void corio__net_any(int family, uint16_t port, corio__netaddr_t *a);
void corio__net_loopback(int family, uint16_t port, corio__netaddr_t *a);
/* Whether a (INET or INET6) is the unspecified address. */
bool corio__net_is_unspecified(const corio__netaddr_t *a);

/* Format a as text (see above) into buf; returns the length the text needs
 * (without the NUL); the text is truncated, NUL-terminated, when len is too
 * small (len 0: nothing is written). */
int corio__net_format(const corio__netaddr_t *a, char *buf, size_t len);

/* Copy a formatted text into a caller's buffer with the public API's
 * convention: the length, or CORIO_ERANGE (truncated copy), CORIO_EINVAL
 * (buf NULL). */
int corio__net_copy_out(const char *text, char *buf, size_t len);

#endif
