/* Address text, parsed and printed without the system's help (Go's net
 * parses its own literals too): numeric addresses never reach a resolver,
 * and the same input gives the same answer on every platform. */
#include "addr.h"

#include <stdio.h>
#include <string.h>

#include "corio/error.h"
#include "sock.h"

static const corio__network_t networks[] = {
    {CORIO__AF_UNSPEC, CORIO__SOCK_STREAM, "tcp"}, {CORIO__AF_INET, CORIO__SOCK_STREAM, "tcp4"},
    {CORIO__AF_INET6, CORIO__SOCK_STREAM, "tcp6"}, {CORIO__AF_UNIX, CORIO__SOCK_STREAM, "unix"},
    {CORIO__AF_UNSPEC, CORIO__SOCK_DGRAM, "udp"},  {CORIO__AF_INET, CORIO__SOCK_DGRAM, "udp4"},
    {CORIO__AF_INET6, CORIO__SOCK_DGRAM, "udp6"},  {CORIO__AF_UNIX, CORIO__SOCK_DGRAM, "unixgram"},
};

int corio__net_parse_network(const char *name, corio__network_t *out) {
  for (size_t i = 0; i < sizeof networks / sizeof networks[0]; i++)
    if (strcmp(name, networks[i].name) == 0) {
      *out = networks[i];
      return 0;
    }
  return CORIO_EUNKNOWNNET;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Dotted decimal, exactly four parts of 0..255 without leading zeros (Go
 * refuses them: some systems read them as octal). */
static bool parse_ipv4(const char *s, size_t n, uint8_t out[4]) {
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= n || s[i] != '.') return false;
      i++;
    }
    size_t start = i;
    unsigned v = 0;
    while (i < n && is_digit(s[i]) && i - start < 3) v = v * 10 + (unsigned)(s[i++] - '0');
    if (i == start || v > 255 || (s[start] == '0' && i - start > 1)) return false;
    out[part] = (uint8_t)v;
  }
  return i == n;
}

/* RFC 4291 text: up to eight groups of 1-4 hex digits, one "::" standing
 * for a run of zero groups, and an IPv4 tail in the last 32 bits. */
static bool parse_ipv6(const char *s, size_t n, uint8_t out[16]) {
  memset(out, 0, 16);
  int groups = 0, gap = -1;
  size_t i = 0;
  if (n >= 2 && s[0] == ':' && s[1] == ':') {
    gap = 0;
    i = 2;
  } else if (n >= 1 && s[0] == ':') {
    return false;
  }
  while (i < n) {
    if (groups == 8) return false;
    /* An IPv4 tail? It needs room for two groups. */
    size_t j = i;
    while (j < n && s[j] != ':' && s[j] != '.') j++;
    if (j < n && s[j] == '.') {
      if (groups > 6 || !parse_ipv4(s + i, n - i, out + 2 * groups)) return false;
      groups += 2;
      i = n;
      break;
    }
    unsigned v = 0;
    size_t start = i;
    while (i < n && hex_value(s[i]) >= 0 && i - start < 4) v = v * 16 + (unsigned)hex_value(s[i++]);
    if (i == start) return false;
    out[2 * groups] = (uint8_t)(v >> 8);
    out[2 * groups + 1] = (uint8_t)v;
    groups++;
    if (i == n) break;
    if (s[i] != ':') return false;
    i++;
    if (i < n && s[i] == ':') {
      if (gap >= 0) return false;
      gap = groups;
      i++;
    } else if (i == n) {
      return false; /* a trailing single colon */
    }
  }
  if (gap < 0) return groups == 8;
  if (groups == 8) return false; /* "::" must stand for at least one group */
  int tail = groups - gap;
  memmove(out + 16 - 2 * tail, out + 2 * gap, (size_t)(2 * tail));
  memset(out + 2 * gap, 0, (size_t)(2 * (8 - groups)));
  return true;
}

int corio__net_parse_ip(const char *s, size_t n, corio__netaddr_t *a) {
  const char *pct = memchr(s, '%', n);
  size_t iplen = pct ? (size_t)(pct - s) : n;
  a->scope_id = 0;
  if (parse_ipv4(s, iplen, a->ip)) {
    if (pct) return CORIO_EBADADDR; /* zones are IPv6 only */
    a->family = CORIO__AF_INET;
    memset(a->ip + 4, 0, 12);
    return 0;
  }
  if (!parse_ipv6(s, iplen, a->ip)) return CORIO_EBADADDR;
  a->family = CORIO__AF_INET6;
  if (!pct) return 0;
  const char *zone = pct + 1;
  size_t zlen = n - iplen - 1;
  char name[64];
  if (zlen == 0 || zlen >= sizeof name || memchr(zone, '%', zlen)) return CORIO_EBADADDR;
  bool numeric = true;
  uint64_t idx = 0;
  for (size_t i = 0; i < zlen; i++) {
    if (!is_digit(zone[i])) numeric = false;
    else if (numeric && (idx = idx * 10 + (uint64_t)(zone[i] - '0')) > UINT32_MAX) return CORIO_EBADADDR;
  }
  if (numeric) {
    a->scope_id = (uint32_t)idx;
    return 0;
  }
  memcpy(name, zone, zlen);
  name[zlen] = 0;
  return corio__sock_zone_index(name, &a->scope_id);
}

static int parse_port(const char *s, size_t n, uint16_t *port) {
  if (n == 0) return CORIO_EBADPORT;
  unsigned long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!is_digit(s[i])) return CORIO_EBADPORT;
    v = v * 10 + (unsigned long)(s[i] - '0');
    if (v > 65535) return CORIO_EBADPORT;
  }
  *port = (uint16_t)v;
  return 0;
}

int corio__net_split_host_port(const char *addr, const char **host, size_t *hostlen,
                               uint16_t *port) {
  size_t n = strlen(addr);
  const char *colon = NULL;
  for (size_t i = n; i > 0; i--)
    if (addr[i - 1] == ':') {
      colon = addr + i - 1;
      break;
    }
  if (addr[0] == '[') {
    const char *close = memchr(addr, ']', n);
    if (!close) return CORIO_EBADADDR;
    if (close + 1 == addr + n) return CORIO_EMISSINGPORT;
    if (close[1] != ':') return CORIO_EBADADDR;
    *host = addr + 1;
    *hostlen = (size_t)(close - addr - 1);
    if (memchr(*host, '[', *hostlen)) return CORIO_EBADADDR;
    colon = close + 1;
  } else {
    if (!colon) return CORIO_EMISSINGPORT;
    *host = addr;
    *hostlen = (size_t)(colon - addr);
    /* "::1:80" is ambiguous: IPv6 literals with a port need brackets. */
    if (memchr(addr, ':', *hostlen) || memchr(addr, '[', *hostlen) ||
        memchr(addr, ']', *hostlen))
      return CORIO_EBADADDR;
  }
  if (memchr(colon + 1, '[', strlen(colon + 1)) || memchr(colon + 1, ']', strlen(colon + 1)))
    return CORIO_EBADADDR;
  return parse_port(colon + 1, strlen(colon + 1), port);
}

bool corio__net_host_is_numeric(const char *host, size_t n) {
  if (memchr(host, ':', n)) return true;
  if (n == 0) return false;
  for (size_t i = 0; i < n; i++)
    if (!is_digit(host[i]) && host[i] != '.') return false;
  return true;
}

void corio__net_any(int family, uint16_t port, corio__netaddr_t *a) {
  memset(a, 0, sizeof *a);
  a->family = family;
  a->port = port;
}

void corio__net_loopback(int family, uint16_t port, corio__netaddr_t *a) {
  corio__net_any(family, port, a);
  if (family == CORIO__AF_INET) {
    a->ip[0] = 127;
    a->ip[3] = 1;
  } else {
    a->ip[15] = 1;
  }
}

bool corio__net_is_unspecified(const corio__netaddr_t *a) {
  static const uint8_t zero[16];
  return memcmp(a->ip, zero, a->family == CORIO__AF_INET ? 4 : 16) == 0;
}

/* IPv4-mapped IPv6 (::ffff:a.b.c.d) prints as IPv4, as Go prints it. */
static bool is_v4_mapped(const uint8_t ip[16]) {
  static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return memcmp(ip, prefix, 12) == 0;
}

/* RFC 5952: lower-case hex, the longest run of two or more zero groups
 * (the first of equals) as "::". */
static int format_ipv6(const uint8_t ip[16], char *out, size_t len) {
  if (is_v4_mapped(ip)) return snprintf(out, len, "%u.%u.%u.%u", ip[12], ip[13], ip[14], ip[15]);
  unsigned g[8];
  for (int i = 0; i < 8; i++) g[i] = (unsigned)ip[2 * i] << 8 | ip[2 * i + 1];
  int best = -1, bestlen = 1;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && g[j] == 0) j++;
    if (j - i > bestlen) {
      best = i;
      bestlen = j - i;
    }
    i = j > i ? j : i + 1;
  }
  char tmp[48];
  size_t p = 0;
  for (int i = 0; i < 8; i++) {
    if (i == best) {
      tmp[p++] = ':';
      if (i == 0) tmp[p++] = ':';
      i += bestlen - 1;
      continue;
    }
    p += (size_t)snprintf(tmp + p, sizeof tmp - p, "%x", g[i]);
    if (i < 7) tmp[p++] = ':';
  }
  tmp[p] = 0;
  return snprintf(out, len, "%s", tmp);
}

int corio__net_format(const corio__netaddr_t *a, char *buf, size_t len) {
  char ip[64];
  switch (a->family) {
  case CORIO__AF_INET:
    return snprintf(buf, len, "%u.%u.%u.%u:%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3],
                    (unsigned)a->port);
  case CORIO__AF_INET6:
    format_ipv6(a->ip, ip, sizeof ip);
    if (is_v4_mapped(a->ip)) return snprintf(buf, len, "%s:%u", ip, (unsigned)a->port);
    if (a->scope_id)
      return snprintf(buf, len, "[%s%%%u]:%u", ip, (unsigned)a->scope_id, (unsigned)a->port);
    return snprintf(buf, len, "[%s]:%u", ip, (unsigned)a->port);
  case CORIO__AF_UNIX:
    return snprintf(buf, len, "%s", a->path);
  default:
    return snprintf(buf, len, "%s", "");
  }
}

int corio__net_copy_out(const char *text, char *buf, size_t len) {
  if (!buf) return CORIO_EINVAL;
  int n = snprintf(buf, len, "%s", text);
  return (size_t)n < len ? n : CORIO_ERANGE;
}
