/* Datagrams: UDP round trips with addresses, empty datagrams, connected UDP
 * through dial, truncation, and unixgram where the system has it. */
#include <errno.h>

#include "net_test.h"

static int udp_main(void *arg) {
  corio_conn_t *a = NULL, *b = NULL;
  CHECK_EQ(corio_net_listen_packet("udp4", "127.0.0.1:0", &a), 0);
  CHECK_EQ(corio_net_listen_packet("udp", "127.0.0.1:0", &b), 0);
  char aa[CORIO_NET_ADDRSTRLEN], ba[CORIO_NET_ADDRSTRLEN], from[CORIO_NET_ADDRSTRLEN];
  CHECK(corio_conn_local_addr(a, aa, sizeof aa) > 0);
  CHECK(corio_conn_local_addr(b, ba, sizeof ba) > 0);
  char ra[8];
  CHECK_EQ(corio_conn_remote_addr(a, ra, sizeof ra), 0); /* not connected */
  CHECK_EQ(corio_conn_write_to(a, "ping", 4, ba), 4);
  char buf[64];
  CHECK_EQ(corio_conn_read_from(b, buf, sizeof buf, from, sizeof from), 4);
  CHECK(memcmp(buf, "ping", 4) == 0);
  CHECK(strcmp(from, aa) == 0);
  CHECK_EQ(corio_conn_write_to(b, "pong!", 5, from), 5);
  CHECK_EQ(corio_conn_read_from(a, buf, sizeof buf, NULL, 0), 5);
  /* An empty datagram, both ways of sending one. */
  CHECK_EQ(corio_conn_write_to(a, NULL, 0, ba), 0);
  CHECK_EQ(corio_conn_read_from(b, buf, sizeof buf, from, sizeof from), 0);
  CHECK(strcmp(from, aa) == 0);
  /* Truncation: the rest of the datagram is gone, the next one intact. */
  CHECK_EQ(corio_conn_write_to(a, "0123456789", 10, ba), 10);
  CHECK_EQ(corio_conn_write_to(a, "next", 4, ba), 4);
  CHECK_EQ(corio_conn_read_from(b, buf, 3, NULL, 0), 3);
  CHECK_EQ(corio_conn_read_from(b, buf, sizeof buf, NULL, 0), 4);
  CHECK(memcmp(buf, "next", 4) == 0);
  /* Bad input loses nothing. */
  CHECK_EQ(corio_conn_read_from(b, buf, sizeof buf, from, 8), CORIO_ERANGE);
  CHECK_EQ(corio_conn_write_to(a, "x", 1, "localhost:9"), CORIO_EBADADDR);
  CHECK_EQ(corio_conn_write_to(a, "x", 1, "127.0.0.1"), CORIO_EMISSINGPORT);
  CHECK_EQ(corio_conn_write_to(a, "x", 1, NULL), CORIO_EINVAL);
  CHECK_EQ(corio_conn_close_write(a), CORIO_ENOTSUP);
  /* A read deadline applies to datagrams too. */
  CHECK_EQ(corio_conn_set_read_deadline(b, corio_nanotime() + 10 * MS), 0);
  CHECK_EQ(corio_conn_read_from(b, buf, sizeof buf, NULL, 0), CORIO_ETIMEOUT);
  corio_conn_free(a);
  corio_conn_free(b);
  return 0;
}

Test(udp, round_trip_and_empty_datagram) { run_program(1, udp_main, NULL); }

static int connected_main(void *arg) {
  corio_conn_t *srv = NULL, *c = NULL;
  CHECK_EQ(corio_net_listen_packet("udp4", "127.0.0.1:0", &srv), 0);
  char sa[CORIO_NET_ADDRSTRLEN], ca[CORIO_NET_ADDRSTRLEN], from[CORIO_NET_ADDRSTRLEN];
  CHECK(corio_conn_local_addr(srv, sa, sizeof sa) > 0);
  CHECK_EQ(corio_net_dial("udp", sa, 0, &c), 0);
  CHECK(corio_conn_remote_addr(c, ca, sizeof ca) > 0);
  CHECK(strcmp(ca, sa) == 0);
  CHECK(corio_conn_local_addr(c, ca, sizeof ca) > 0);
  CHECK_EQ(corio_conn_write(c, "hello", 5), 5);
  CHECK_EQ(corio_conn_write(c, "", 0), 0); /* an empty datagram */
  char buf[16];
  CHECK_EQ(corio_conn_read_from(srv, buf, sizeof buf, from, sizeof from), 5);
  CHECK(strcmp(from, ca) == 0);
  CHECK_EQ(corio_conn_read_from(srv, buf, sizeof buf, from, sizeof from), 0);
  CHECK_EQ(corio_conn_write_to(srv, "back", 4, from), 4);
  CHECK_EQ(corio_conn_write_to(srv, "", 0, from), 0);
  CHECK_EQ(corio_conn_read(c, buf, sizeof buf), 4);
  CHECK_EQ(corio_conn_read(c, buf, sizeof buf), 0); /* empty, not EOF */
  corio_conn_free(c);
  corio_conn_free(srv);
  return 0;
}

Test(udp, connected_via_dial) { run_program(1, connected_main, NULL); }

static int ipv6_main(void *arg) {
  corio_conn_t *a = NULL;
  int err = corio_net_listen_packet("udp6", "[::1]:0", &a);
  if (err) {
    fprintf(stderr, "udp.ipv6_loopback: skipped, [::1] unavailable: %s\n", corio_strerror(err));
    return 0;
  }
  char aa[CORIO_NET_ADDRSTRLEN], from[CORIO_NET_ADDRSTRLEN];
  CHECK(corio_conn_local_addr(a, aa, sizeof aa) > 0);
  CHECK(strncmp(aa, "[::1]:", 6) == 0);
  CHECK_EQ(corio_conn_write_to(a, "me", 2, aa), 2);
  char buf[4];
  CHECK_EQ(corio_conn_read_from(a, buf, sizeof buf, from, sizeof from), 2);
  CHECK(strcmp(from, aa) == 0);
  corio_conn_free(a);
  return 0;
}

Test(udp, ipv6_loopback) { run_program(1, ipv6_main, NULL); }

static int unixgram_main(void *arg) {
  if (!test_have_af_unix()) {
    fprintf(stderr, "udp.unixgram: skipped, no AF_UNIX on this system\n");
    return 0;
  }
  char pa[128], pb[128], from[CORIO_NET_ADDRSTRLEN];
  temp_sock_path(pa, sizeof pa, "ga");
  temp_sock_path(pb, sizeof pb, "gb");
  corio_conn_t *a = NULL, *b = NULL;
  CHECK_EQ(corio_net_listen_packet("unixgram", pa, &a), 0);
  CHECK_EQ(corio_net_listen_packet("unixgram", pb, &b), 0);
  CHECK_EQ(corio_conn_write_to(a, "hi", 2, pb), 2);
  char buf[8];
  CHECK_EQ(corio_conn_read_from(b, buf, sizeof buf, from, sizeof from), 2);
  CHECK(strcmp(from, pa) == 0);
  CHECK_EQ(corio_conn_write_to(b, NULL, 0, from), 0);
  CHECK_EQ(corio_conn_read_from(a, buf, sizeof buf, NULL, 0), 0);
  corio_conn_free(a);
  corio_conn_free(b);
  /* Closing removed the socket files. */
  CHECK(remove(pa) != 0); /* nothing left to remove */
  CHECK(remove(pb) != 0);
  return 0;
}

Test(udp, unixgram) { run_program(1, unixgram_main, NULL); }
