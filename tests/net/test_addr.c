/* Address text: Go's forms parsed and printed (internal parser and the
 * public API's answers to bad input), error texts, argument checks. */
#include <errno.h>

#include "net_test.h"

static corio__netaddr_t ip(const char *s, int *err) {
  corio__netaddr_t a;
  memset(&a, 0, sizeof a);
  *err = corio__net_parse_ip(s, strlen(s), &a);
  return a;
}

static const char *text(corio__netaddr_t a, uint16_t port) {
  static char buf[CORIO_NET_ADDRSTRLEN];
  a.port = port;
  corio__net_format(&a, buf, sizeof buf);
  return buf;
}

Test(addr, ip_literals_round_trip) {
  static const char *cases[][2] = {
      {"127.0.0.1", "127.0.0.1:80"},     {"0.0.0.0", "0.0.0.0:80"},
      {"255.255.255.255", "255.255.255.255:80"},
      {"::1", "[::1]:80"},               {"::", "[::]:80"},
      {"2001:db8::1", "[2001:db8::1]:80"}, {"2001:DB8:0:0:1:0:0:1", "[2001:db8::1:0:0:1]:80"},
      {"fe80::1%3", "[fe80::1%3]:80"},   {"1:2:3:4:5:6:7:8", "[1:2:3:4:5:6:7:8]:80"},
      {"1::", "[1::]:80"},               {"::ffff:10.0.0.1", "10.0.0.1:80"},
      {"1:0:0:1:0:0:0:1", "[1:0:0:1::1]:80"}, {"64:ff9b::1.2.3.4", "[64:ff9b::102:304]:80"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int err;
    corio__netaddr_t a = ip(cases[i][0], &err);
    cr_expect_eq(err, 0, "%s: %s", cases[i][0], corio_strerror(err));
    cr_expect_str_eq(text(a, 80), cases[i][1], "%s", cases[i][0]);
  }
}

Test(addr, bad_ip_literals) {
  static const char *bad[] = {"1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.", ".1.2.3",
                              "1..2.3", "", ":", ":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::",
                              "g::1", "::1%", "1.2.3.4%1", "1:2:3:4:5:6:7::8:9", "::1.2.3",
                              "1:2:3:4:5:6:7:1.2.3.4"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int err;
    ip(bad[i], &err);
    cr_expect_eq(err, CORIO_EBADADDR, "\"%s\" gave %d", bad[i], err);
  }
}

Test(addr, split_host_port) {
  const char *h;
  size_t n;
  uint16_t port;
  cr_expect_eq(corio__net_split_host_port("host:80", &h, &n, &port), 0);
  cr_expect(n == 4 && memcmp(h, "host", 4) == 0 && port == 80);
  cr_expect_eq(corio__net_split_host_port("[::1]:65535", &h, &n, &port), 0);
  cr_expect(n == 3 && port == 65535);
  cr_expect_eq(corio__net_split_host_port(":0", &h, &n, &port), 0);
  cr_expect(n == 0 && port == 0);
  cr_expect_eq(corio__net_split_host_port("host", &h, &n, &port), CORIO_EMISSINGPORT);
  cr_expect_eq(corio__net_split_host_port("[::1]", &h, &n, &port), CORIO_EMISSINGPORT);
  cr_expect_eq(corio__net_split_host_port("1.2.3", &h, &n, &port), CORIO_EMISSINGPORT);
  cr_expect_eq(corio__net_split_host_port("host:65536", &h, &n, &port), CORIO_EBADPORT);
  cr_expect_eq(corio__net_split_host_port("host:99999999999", &h, &n, &port), CORIO_EBADPORT);
  cr_expect_eq(corio__net_split_host_port("host:", &h, &n, &port), CORIO_EBADPORT);
  cr_expect_eq(corio__net_split_host_port("host:http", &h, &n, &port), CORIO_EBADPORT);
  cr_expect_eq(corio__net_split_host_port("host:-1", &h, &n, &port), CORIO_EBADPORT);
  cr_expect_eq(corio__net_split_host_port("::1:80", &h, &n, &port), CORIO_EBADADDR);
  cr_expect_eq(corio__net_split_host_port("[::1:80", &h, &n, &port), CORIO_EBADADDR);
  cr_expect_eq(corio__net_split_host_port("[::1]x:80", &h, &n, &port), CORIO_EBADADDR);
  cr_expect_eq(corio__net_split_host_port("[[::1]]:80", &h, &n, &port), CORIO_EBADADDR);
}

static int bad_input_main(void *arg) {
  corio_listener_t *l = (corio_listener_t *)1;
  corio_conn_t *c = (corio_conn_t *)1;
  CHECK_EQ(corio_net_listen("tcp", "1.2.3", &l), CORIO_EMISSINGPORT);
  CHECK(l == NULL);
  CHECK_EQ(corio_net_listen("tcp", "1.2.3:80", &l), CORIO_EBADADDR);
  CHECK_EQ(corio_net_listen("tcp", "host", &l), CORIO_EMISSINGPORT);
  CHECK_EQ(corio_net_listen("tcp", ":65536", &l), CORIO_EBADPORT);
  CHECK_EQ(corio_net_listen("tcp", "127.0.0.1:99999", &l), CORIO_EBADPORT);
  CHECK_EQ(corio_net_listen("tcp4", "[::1]:0", &l), CORIO_ENOADDR);
  CHECK_EQ(corio_net_listen("tcp6", "127.0.0.1:0", &l), CORIO_ENOADDR);
  CHECK_EQ(corio_net_listen("udp", ":0", &l), CORIO_EUNKNOWNNET);
  CHECK_EQ(corio_net_listen("tcpx", ":0", &l), CORIO_EUNKNOWNNET);
  CHECK_EQ(corio_net_listen("", ":0", &l), CORIO_EUNKNOWNNET);
  CHECK_EQ(corio_net_listen(NULL, ":0", &l), CORIO_EINVAL);
  CHECK_EQ(corio_net_listen("tcp", NULL, &l), CORIO_EINVAL);
  CHECK_EQ(corio_net_listen("tcp", ":0", NULL), CORIO_EINVAL);
  CHECK_EQ(corio_net_listen("unix", "", &l), CORIO_EBADADDR);
  CHECK_EQ(corio_net_listen_packet("tcp", ":0", &c), CORIO_EUNKNOWNNET);
  CHECK(c == NULL);
  CHECK_EQ(corio_net_dial("tcp", "[::1", 0, &c), CORIO_EBADADDR);
  CHECK_EQ(corio_net_dial("tcp", "[fe80::1%no-such-if0]:80", 0, &c), CORIO_EBADADDR);
  CHECK_EQ(corio_net_dial("tcp", "127.0.0.1:80", -5, &c), CORIO_EINVAL);
  CHECK_EQ(corio_net_dial("tcp", "", 0, &c), CORIO_EMISSINGPORT);
  /* NULL objects. */
  char buf[64];
  CHECK_EQ(corio_conn_read(NULL, buf, 1), CORIO_EINVAL);
  CHECK_EQ(corio_conn_write(NULL, buf, 1), CORIO_EINVAL);
  CHECK_EQ(corio_conn_close(NULL), CORIO_EINVAL);
  CHECK_EQ(corio_conn_close_write(NULL), CORIO_EINVAL);
  CHECK_EQ(corio_conn_set_deadline(NULL, 0), CORIO_EINVAL);
  CHECK_EQ(corio_conn_local_addr(NULL, buf, sizeof buf), CORIO_EINVAL);
  CHECK_EQ(corio_conn_read_from(NULL, buf, 1, NULL, 0), CORIO_EINVAL);
  CHECK_EQ(corio_conn_write_to(NULL, buf, 1, "1.2.3.4:5"), CORIO_EINVAL);
  CHECK_EQ(corio_listener_accept(NULL, &c), CORIO_EINVAL);
  CHECK_EQ(corio_listener_addr(NULL, buf, sizeof buf), CORIO_EINVAL);
  CHECK_EQ(corio_listener_close(NULL), CORIO_EINVAL);
  CHECK_EQ(corio_listener_set_deadline(NULL, 0), CORIO_EINVAL);
  corio_conn_free(NULL);
  corio_listener_free(NULL);
  /* A conn with a NULL buffer. */
  pair_t p = tcp_pair();
  CHECK_EQ(corio_conn_read(p.c, NULL, 1), CORIO_EINVAL);
  CHECK_EQ(corio_conn_write(p.c, NULL, 1), CORIO_EINVAL);
  CHECK_EQ(corio_conn_read(p.c, buf, 0), 0);
  CHECK_EQ(corio_conn_write(p.c, buf, 0), 0);
  CHECK_EQ(corio_conn_read_from(p.c, buf, 1, NULL, 0), CORIO_ENOTSUP);
  CHECK_EQ(corio_conn_write_to(p.c, buf, 1, "127.0.0.1:9"), CORIO_ENOTSUP);
  CHECK_EQ(corio_conn_local_addr(p.c, NULL, 4), CORIO_EINVAL);
  pair_free(&p);
  return 0;
}

Test(addr, bad_input_gives_clear_errors) { run_program(1, bad_input_main, NULL); }

Test(addr, not_initialised) {
  corio_listener_t *l = NULL;
  corio_conn_t *c = NULL;
  cr_expect_eq(corio_net_listen("tcp", ":0", &l), CORIO_ENOTINIT);
  cr_expect_eq(corio_net_dial("tcp", "127.0.0.1:1", 0, &c), CORIO_ENOTINIT);
  cr_expect_eq(corio_net_listen_packet("udp", ":0", &c), CORIO_ENOTINIT);
}

Test(addr, error_texts_read_like_go) {
  char t[256];
  corio_net_error_text(t, sizeof t, CORIO_EMISSINGPORT, "dial", "tcp", "1.2.3");
  cr_expect_str_eq(t, "dial tcp: address 1.2.3: missing port in address");
  corio_net_error_text(t, sizeof t, CORIO_EBADPORT, "listen", "tcp", "127.0.0.1:99999");
  cr_expect_str_eq(t, "listen tcp: address 127.0.0.1:99999: invalid port");
  corio_net_error_text(t, sizeof t, CORIO_ENOSUCHHOST, "dial", "tcp", "nosuch.invalid:80");
  cr_expect_str_eq(t, "dial tcp: lookup nosuch.invalid: no such host");
  corio_net_error_text(t, sizeof t, CORIO_EUNKNOWNNET, "dial", "udpx", "x:1");
  cr_expect_str_eq(t, "dial udpx: unknown network udpx");
  corio_net_error_text(t, sizeof t, CORIO_ETIMEOUT, "read", "tcp", "127.0.0.1:80");
  cr_expect_str_eq(t, "read tcp 127.0.0.1:80: i/o timeout (deadline exceeded)");
  corio_net_error_text(t, sizeof t, CORIO_ENETCLOSING, NULL, NULL, NULL);
  cr_expect_str_eq(t, "use of closed network connection");
  int need = corio_net_error_text(t, 8, CORIO_ENETCLOSING, NULL, NULL, NULL);
  cr_expect_eq(need, (int)strlen("use of closed network connection"));
  cr_expect_eq(strlen(t), 7);
  cr_expect_eq(corio_net_error_text(NULL, 4, 0, NULL, NULL, NULL), CORIO_EINVAL);
  cr_expect_str_eq(corio_strerror(CORIO_ERESOLVAGAIN), "temporary failure in name resolution");
  cr_expect_str_eq(corio_err_name(CORIO_EBADADDR), "CORIO_EBADADDR");
  cr_expect_eq(corio_net_errno(corio_err_from_errno(ECONNREFUSED)), ECONNREFUSED);
  cr_expect_eq(corio_net_errno(CORIO_ETIMEOUT), 0);
}
