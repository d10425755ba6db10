/* The Windows half of net/'s seam (net/sock_windows.c), below the public
 * API: sockets created overlapped and not inherited, families the system
 * lacks (AF_UNIX under Wine 8: the test says so), address conversion both
 * ways, ConnectEx on a socket nobody bound, AcceptEx skipping a connection
 * its peer aborted, options read back, the resolver's answers and errors,
 * and the mapping of WSA / Win32 codes to POSIX errno values. Runs under
 * Wine in CI. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <errno.h>
#include <string.h>

#include "check.h"
#include "fd.h"
#include "netplat_util.h"
#include "sock.h"

typedef struct code_map {
  uint32_t code;
  int want;
} code_map_t;

Test(net_sock_windows, wsa_and_win32_codes_map_to_posix_errno) {
  static const code_map_t map[] = {
      {WSAECONNREFUSED, ECONNREFUSED},     {ERROR_CONNECTION_REFUSED, ECONNREFUSED},
      {ERROR_PORT_UNREACHABLE, ECONNREFUSED}, {WSAECONNRESET, ECONNRESET},
      {ERROR_NETNAME_DELETED, ECONNRESET}, {WSAECONNABORTED, ECONNABORTED},
      {ERROR_CONNECTION_ABORTED, ECONNABORTED}, {WSAEADDRINUSE, EADDRINUSE},
      {WSAEADDRNOTAVAIL, EADDRNOTAVAIL},   {WSAEAFNOSUPPORT, EAFNOSUPPORT},
      {WSAEPROTONOSUPPORT, EPROTONOSUPPORT}, {WSAESHUTDOWN, EPIPE},
      {WSAENOTCONN, ENOTCONN},             {WSAEISCONN, EISCONN},
      {WSAETIMEDOUT, ETIMEDOUT},           {WSAEHOSTUNREACH, EHOSTUNREACH},
      {WSAENETUNREACH, ENETUNREACH},       {WSAEMSGSIZE, EMSGSIZE},
      {WSAEDESTADDRREQ, EDESTADDRREQ},     {WSAEMFILE, EMFILE},
      {WSAENOBUFS, ENOBUFS},               {WSAEACCES, EACCES},
      {WSAEINVAL, EINVAL},                 {ERROR_FILE_NOT_FOUND, ENOENT},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    cr_expect_eq(corio__sock_errno(corio_err_from_win32(map[i].code)), map[i].want,
                 "code %u: %d, want %d", (unsigned)map[i].code,
                 corio__sock_errno(corio_err_from_win32(map[i].code)), map[i].want);
  /* errno values pass through; corio's own errors and unknown codes are
   * not errno values. */
  cr_expect_eq(corio__sock_errno(corio_err_from_errno(EPIPE)), EPIPE);
  cr_expect_eq(corio__sock_errno(CORIO_ETIMEOUT), 0);
  cr_expect_eq(corio__sock_errno(CORIO_ENETCLOSING), 0);
  cr_expect_eq(corio__sock_errno(corio_err_from_win32(ERROR_GEN_FAILURE)), 0);
  cr_expect_eq(corio__sock_errno(0), 0);
}

/* ---- creation ---- */

static bool inheritable(uintptr_t h) {
  DWORD flags = 0;
  return GetHandleInformation((HANDLE)h, &flags) && (flags & HANDLE_FLAG_INHERIT);
}

Test(net_sock_windows, sockets_are_overlapped_and_not_inherited) {
  static const int kinds[][2] = {{CORIO__AF_INET, CORIO__SOCK_STREAM},
                                 {CORIO__AF_INET, CORIO__SOCK_DGRAM},
                                 {CORIO__AF_INET6, CORIO__SOCK_STREAM},
                                 {CORIO__AF_INET6, CORIO__SOCK_DGRAM}};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    uintptr_t h = 0;
    int err = corio__sock_open(kinds[i][0], kinds[i][1], &h);
    if (err && corio__sock_errno(err) == EAFNOSUPPORT && kinds[i][0] == CORIO__AF_INET6) {
      printf("net_sock_windows: no IPv6 here (%s), skipped\n", corio_strerror(err));
      continue;
    }
    cr_assert_eq(err, 0, "family %d type %d: %s", kinds[i][0], kinds[i][1], corio_err_name(err));
    cr_expect(!inheritable(h));
    /* Overlapped: a WSARecv with an OVERLAPPED is accepted (it fails on
     * the unconnected socket, not with WSAEINVAL for a synchronous one). */
    int type = 0, len = sizeof type;
    cr_expect_eq(getsockopt((SOCKET)h, SOL_SOCKET, SO_TYPE, (char *)&type, &len), 0);
    cr_expect_eq(type, kinds[i][1] == CORIO__SOCK_STREAM ? SOCK_STREAM : SOCK_DGRAM);
    corio__sock_close_raw(h);
  }
  /* Families and types corio does not know. */
  uintptr_t h = 0;
  int err = corio__sock_open(99, CORIO__SOCK_STREAM, &h);
  cr_expect_eq(corio__sock_errno(err), EAFNOSUPPORT, "%s", corio_err_name(err));
  err = corio__sock_open(CORIO__AF_INET, 99, &h);
  cr_expect_eq(corio__sock_errno(err), EPROTONOSUPPORT, "%s", corio_err_name(err));
}

Test(net_sock_windows, af_unix_where_the_system_has_it) {
  uintptr_t h = 0;
  int err = corio__sock_open(CORIO__AF_UNIX, CORIO__SOCK_STREAM, &h);
  if (err) {
    /* Wine 8 has no AF_UNIX; Windows 10 1803 and later do. */
    cr_expect_eq(corio__sock_errno(err), EAFNOSUPPORT, "%s", corio_err_name(err));
    printf("net_sock_windows: no AF_UNIX on this system (%s): the Unix-socket checks are "
           "skipped\n", corio_strerror(err));
    return;
  }
  cr_expect(!inheritable(h));
  /* An abstract name has no Windows form in corio; a path too long for
   * sun_path is refused before any system call. */
  corio__netaddr_t a = {.family = CORIO__AF_UNIX};
  strcpy(a.path, "@abstract");
  cr_expect_eq(corio__sock_bind(h, &a), CORIO_EBADADDR);
  memset(a.path, 'p', CORIO__UNIX_PATH_MAX);
  a.path[CORIO__UNIX_PATH_MAX] = 0;
  cr_expect_eq(corio__sock_bind(h, &a), CORIO_EBADADDR);
  corio__sock_close_raw(h);
}

/* ---- addresses and options ---- */

Test(net_sock_windows, bind_and_read_back_addresses) {
  uintptr_t h = 0;
  cr_assert_eq(corio__sock_open(CORIO__AF_INET, CORIO__SOCK_DGRAM, &h), 0);
  cr_expect_eq(corio__sock_setup(h, CORIO__AF_INET, CORIO__SOCK_DGRAM, CORIO__SOCK_ROLE_PACKET,
                                 false),
               0);
  corio__netaddr_t a;
  corio__net_loopback(CORIO__AF_INET, 0, &a);
  cr_assert_eq(corio__sock_bind(h, &a), 0);
  corio__netaddr_t got;
  cr_assert_eq(corio__sock_local_addr(h, CORIO__AF_INET, &got), 0);
  cr_expect_eq(got.family, CORIO__AF_INET);
  cr_expect(got.port != 0);
  cr_expect(memcmp(got.ip, a.ip, 4) == 0);
  BOOL bcast = FALSE;
  int len = sizeof bcast;
  getsockopt((SOCKET)h, SOL_SOCKET, SO_BROADCAST, (char *)&bcast, &len);
  cr_expect(bcast, "SO_BROADCAST set for IP datagram sockets");
  /* No peer yet. */
  int err = corio__sock_peer_addr(h, CORIO__AF_INET, &got);
  cr_expect_eq(corio__sock_errno(err), ENOTCONN, "%s", corio_err_name(err));
  /* The same port again: in use (no SO_REUSEADDR on Windows). */
  uintptr_t h2 = 0;
  cr_assert_eq(corio__sock_open(CORIO__AF_INET, CORIO__SOCK_DGRAM, &h2), 0);
  err = corio__sock_bind(h2, &got);
  cr_expect_eq(corio__sock_errno(err), EADDRINUSE, "%s", corio_err_name(err));
  /* A Unix address on an IP socket is refused by the conversion. */
  corio__netaddr_t u = {.family = CORIO__AF_UNIX};
  strcpy(u.path, "@name");
  cr_expect_eq(corio__sock_bind(h2, &u), CORIO_EBADADDR);
  corio__sock_close_raw(h2);
  corio__sock_close_raw(h);

  /* IPv6: V6ONLY as asked, the loopback address and its port back. */
  if (corio__sock_open(CORIO__AF_INET6, CORIO__SOCK_STREAM, &h) != 0) {
    printf("net_sock_windows: no IPv6 here, the IPv6 checks are skipped\n");
    return;
  }
  cr_expect_eq(corio__sock_setup(h, CORIO__AF_INET6, CORIO__SOCK_STREAM, CORIO__SOCK_ROLE_LISTEN,
                                 false),
               0);
  DWORD v6only = 1;
  len = sizeof v6only;
  cr_expect_eq(getsockopt((SOCKET)h, IPPROTO_IPV6, IPV6_V6ONLY, (char *)&v6only, &len), 0);
  cr_expect_eq(v6only, 0);
  corio__net_loopback(CORIO__AF_INET6, 0, &a);
  cr_assert_eq(corio__sock_bind(h, &a), 0);
  cr_expect_eq(corio__sock_listen(h), 0);
  cr_assert_eq(corio__sock_local_addr(h, CORIO__AF_INET6, &got), 0);
  cr_expect_eq(got.family, CORIO__AF_INET6);
  cr_expect(got.port != 0);
  cr_expect(memcmp(got.ip, a.ip, 16) == 0);
  corio__sock_close_raw(h);
}

Test(net_sock_windows, nodelay_and_keepalive_read_back) {
  uintptr_t h = 0;
  cr_assert_eq(corio__sock_open(CORIO__AF_INET, CORIO__SOCK_STREAM, &h), 0);
  cr_expect_eq(corio__sock_set_nodelay(h, true), 0);
  BOOL v = FALSE;
  int len = sizeof v;
  getsockopt((SOCKET)h, IPPROTO_TCP, TCP_NODELAY, (char *)&v, &len);
  cr_expect(v);
  cr_expect_eq(corio__sock_set_nodelay(h, false), 0);
  len = sizeof v;
  getsockopt((SOCKET)h, IPPROTO_TCP, TCP_NODELAY, (char *)&v, &len);
  cr_expect(!v);
  cr_expect_eq(corio__sock_set_keepalive(h, true, 1500 * MS), 0);
  len = sizeof v;
  getsockopt((SOCKET)h, SOL_SOCKET, SO_KEEPALIVE, (char *)&v, &len);
  cr_expect(v);
  cr_expect_eq(corio__sock_set_keepalive(h, true, INT64_MAX), 0); /* clamped, not wrapped */
  cr_expect_eq(corio__sock_set_keepalive(h, false, 0), 0);
  len = sizeof v;
  getsockopt((SOCKET)h, SOL_SOCKET, SO_KEEPALIVE, (char *)&v, &len);
  cr_expect(!v);
  corio__sock_close_raw(h);
}

/* ---- names ---- */

Test(net_sock_windows, resolver_answers_and_errors) {
  corio__netaddr_t out[8];
  int n = -1;
  int err = corio__sock_resolve("localhost", CORIO__AF_UNSPEC, out, 8, &n);
  cr_assert_eq(err, 0, "localhost: %s", corio_err_name(err));
  cr_expect(n >= 1 && n <= 8);
  for (int i = 0; i < n; i++) {
    cr_expect(out[i].family == CORIO__AF_INET || out[i].family == CORIO__AF_INET6);
    cr_expect_eq(out[i].port, 0);
  }
  err = corio__sock_resolve("localhost", CORIO__AF_INET, out, 8, &n);
  cr_expect_eq(err, 0, "%s", corio_err_name(err));
  for (int i = 0; i < n; i++) cr_expect_eq(out[i].family, CORIO__AF_INET);
  err = corio__sock_resolve("nosuch.invalid", CORIO__AF_UNSPEC, out, 8, &n);
  cr_expect(err == CORIO_ENOSUCHHOST || err == CORIO_ERESOLVAGAIN, "%s", corio_err_name(err));
  cr_expect_eq(n, 0);
  /* Not UTF-8: no host can have that name. */
  err = corio__sock_resolve("\xff\xfe", CORIO__AF_UNSPEC, out, 8, &n);
  cr_expect_eq(err, CORIO_ENOSUCHHOST, "%s", corio_err_name(err));
  uint32_t index = 7;
  cr_expect_eq(corio__sock_zone_index("nosuchinterface0", &index), CORIO_EBADADDR);
  cr_expect_eq(index, 7);
  err = corio__sock_unlink("corio-no-such-socket-file");
  cr_expect_eq(corio__sock_errno(err), ENOENT, "%s", corio_err_name(err));
}

/* ---- connect and accept through the seam ---- */

typedef struct seam_test {
  corio__fd_t *lfd;
  int family;
  uintptr_t accepted;
  corio__netaddr_t peer; /* as AcceptEx reported it */
  int accept_err;
  _Atomic int done;
} seam_test_t;

static void seam_accept(void *arg) {
  seam_test_t *t = arg;
  t->accept_err = corio__sock_accept(t->lfd, t->family, &t->accepted, &t->peer);
  atomic_store(&t->done, 1);
}

static corio__fd_t *wrap(uintptr_t h, int kind) {
  corio__fd_t *fd = calloc(1, sizeof *fd);
  CHECK(fd != NULL);
  CHECK_EQ(corio__fd_init(fd, h, kind, false, true), 0);
  return fd;
}

static void unwrap(corio__fd_t *fd) {
  CHECK_EQ(corio__fd_close(fd), 0);
  free(fd);
}

/* A listener of family on its loopback address; *a gets the address. */
static corio__fd_t *listener(int family, corio__netaddr_t *a) {
  uintptr_t h = 0;
  CHECK_EQ(corio__sock_open(family, CORIO__SOCK_STREAM, &h), 0);
  CHECK_EQ(corio__sock_setup(h, family, CORIO__SOCK_STREAM, CORIO__SOCK_ROLE_LISTEN, true), 0);
  corio__net_loopback(family, 0, a);
  CHECK_EQ(corio__sock_bind(h, a), 0);
  CHECK_EQ(corio__sock_listen(h), 0);
  CHECK_EQ(corio__sock_local_addr(h, family, a), 0);
  return wrap(h, CORIO__FD_STREAM);
}

/* ConnectEx needs a bound socket: the seam binds one nobody bound. The
 * accepted socket knows both addresses (SO_UPDATE_ACCEPT_CONTEXT), and the
 * peer's address comes back from AcceptEx's buffer too. */
static void connect_unbound(int family) {
  corio__netaddr_t la;
  seam_test_t t = {.lfd = listener(family, &la), .family = family};
  CHECK_EQ(corio_spawn(seam_accept, &t), 0);
  uintptr_t h = 0;
  CHECK_EQ(corio__sock_open(family, CORIO__SOCK_STREAM, &h), 0);
  corio__fd_t *c = wrap(h, CORIO__FD_STREAM);
  CHECK_EQ(corio__sock_connect(c, &la), 0);
  wait_for(&t.done, 1);
  CHECK_EQ(t.accept_err, 0);
  corio__netaddr_t cl, cp, al, ap;
  CHECK_EQ(corio__sock_local_addr(h, family, &cl), 0);
  CHECK(cl.port != 0);
  CHECK_EQ(corio__sock_peer_addr(h, family, &cp), 0);
  CHECK_EQ(cp.port, la.port);
  CHECK_EQ(corio__sock_local_addr(t.accepted, family, &al), 0);
  CHECK_EQ(al.port, la.port);
  CHECK_EQ(corio__sock_peer_addr(t.accepted, family, &ap), 0);
  CHECK_EQ(ap.port, cl.port);
  CHECK(memcmp(ap.ip, cl.ip, 16) == 0);
  /* AcceptEx's own copy of the peer's address agrees. */
  CHECK_EQ(t.peer.family, family);
  CHECK_EQ(t.peer.port, cl.port);
  CHECK(memcmp(t.peer.ip, cl.ip, 16) == 0);
  corio__fd_t *s = wrap(t.accepted, CORIO__FD_STREAM);
  char b[8];
  CHECK_EQ(corio__fd_write(c, "seam", 4), 4);
  CHECK_EQ(corio__fd_read(s, b, sizeof b), 4);
  CHECK_EQ(corio__sock_shutdown_write(c), 0);
  CHECK_EQ(corio__fd_read(s, b, sizeof b), CORIO_EEOF);
  unwrap(s);
  unwrap(c);
  unwrap(t.lfd);
}

static int connect_unbound_main(void *arg) {
  connect_unbound(CORIO__AF_INET);
  uintptr_t h = 0;
  if (corio__sock_open(CORIO__AF_INET6, CORIO__SOCK_STREAM, &h) == 0) {
    corio__sock_close_raw(h);
    connect_unbound(CORIO__AF_INET6);
  } else {
    printf("net_sock_windows: no IPv6 here, the IPv6 connect is skipped\n");
  }
  return 0;
}

Test(net_sock_windows, connectex_binds_an_unbound_socket) {
  run_program(2, connect_unbound_main, NULL);
}

/* A connection whose peer reset it before the accept: the listener goes
 * on and hands out the next one (Windows fails that AcceptEx and the seam
 * skips it; Wine may hand the dead one over, whose read then ends). */
static int aborted_main(void *arg) {
  corio__netaddr_t la;
  corio__fd_t *l = listener(CORIO__AF_INET, &la);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(la.port)};
  memcpy(&sin.sin_addr, la.ip, 4);
  SOCKET dead = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  CHECK_EQ(connect(dead, (struct sockaddr *)&sin, sizeof sin), 0);
  struct linger lg = {1, 0};
  setsockopt(dead, SOL_SOCKET, SO_LINGER, (char *)&lg, sizeof lg);
  closesocket(dead);
  SOCKET live = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  CHECK_EQ(connect(live, (struct sockaddr *)&sin, sizeof sin), 0);
  CHECK_EQ(send(live, "live", 4, 0), 4);
  bool got_live = false;
  for (int i = 0; i < 2 && !got_live; i++) {
    seam_test_t t = {.lfd = l, .family = CORIO__AF_INET};
    seam_accept(&t);
    CHECK_EQ(t.accept_err, 0);
    if (t.accept_err) break;
    corio__fd_t *s = wrap(t.accepted, CORIO__FD_STREAM);
    char b[8];
    ptrdiff_t n = corio__fd_read(s, b, sizeof b);
    got_live = n == 4 && memcmp(b, "live", 4) == 0;
    if (!got_live) printf("net_sock_windows: accepted the aborted connection first (read %td)\n", n);
    unwrap(s);
  }
  CHECK(got_live);
  closesocket(live);
  unwrap(l);
  return 0;
}

Test(net_sock_windows, accept_goes_on_after_an_aborted_connection) {
  run_program(1, aborted_main, NULL);
}

/* The suites' handle counter sees sockets come and go (Wine's
 * GetProcessHandleCount answers 0, which would make every leak check
 * pass). */
Test(net_sock_windows, handle_counter_sees_sockets) {
  uintptr_t h[16];
  uintptr_t warm;
  cr_assert_eq(corio__sock_open(CORIO__AF_INET, CORIO__SOCK_STREAM, &warm), 0);
  corio__sock_close_raw(warm);
  int base = test_count_handles();
  cr_assert_gt(base, 0);
  for (int i = 0; i < 16; i++) cr_assert_eq(corio__sock_open(CORIO__AF_INET, CORIO__SOCK_STREAM, &h[i]), 0);
  int during = test_count_handles();
  for (int i = 0; i < 16; i++) corio__sock_close_raw(h[i]);
  int after = test_count_handles();
  printf("net_sock_windows: handles %d, with 16 sockets %d, after closing %d\n", base, during,
         after);
  cr_expect_geq(during, base + 16);
  cr_expect_eq(after, base);
}
