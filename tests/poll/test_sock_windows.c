/* The socket calls only Windows has (poll/sock_windows.c), over raw Winsock
 * sockets: AcceptEx with SO_UPDATE_ACCEPT_CONTEXT, ConnectEx on a bound
 * socket with SO_UPDATE_CONNECT_CONTEXT, their deadlines and close,
 * WSARecvFrom / WSASendTo with addresses (pending and immediate), empty and
 * truncated datagrams, shutdown, and many connections on four Ps with no
 * handle left behind. Runs under Wine in CI. */
#include "poll/win_util.h"

#include <mswsock.h>

#include <string.h>

#include "corio/poll.h"
#include "check.h"
#include "fd_windows.h"
#include "netplat_util.h"
#include "sock_windows.h"

#define SEC (1000 * MS)
#define ADDRBUF (2 * (sizeof(struct sockaddr_storage) + 16))

static corio_fd_t *open_fd(SOCKET s, corio_fd_kind_t kind) {
  corio_fd_t *fd = NULL;
  CHECK_EQ(corio_fd_open((corio_handle_t)s, kind, &fd), 0);
  return fd;
}

static SOCKET tcp_socket(void) {
  return WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
}

/* A UDP socket bound to 127.0.0.1 and an ephemeral port (in *addr). */
static SOCKET udp_socket(struct sockaddr_in *addr) {
  SOCKET s = WSASocketW(AF_INET, SOCK_DGRAM, IPPROTO_UDP, NULL, 0, WSA_FLAG_OVERLAPPED);
  if (s == INVALID_SOCKET) return s;
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int len = sizeof *addr;
  if (bind(s, (struct sockaddr *)addr, sizeof *addr) != 0 ||
      getsockname(s, (struct sockaddr *)addr, &len) != 0) {
    closesocket(s);
    return INVALID_SOCKET;
  }
  return s;
}

static bool same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b) {
  return a->sin_family == b->sin_family && a->sin_port == b->sin_port &&
         a->sin_addr.s_addr == b->sin_addr.s_addr;
}

static bool is_refused(int err) {
  return err == corio_err_from_win32(WSAECONNREFUSED) ||
         err == corio_err_from_win32(ERROR_CONNECTION_REFUSED);
}

/* ---- a connection made with AcceptEx and ConnectEx ---- */

typedef struct conn_test {
  corio_fd_t *listener, *client;
  SOCKET accepted;
  struct sockaddr_in addr; /* the listener's */
  char addrbuf[ADDRBUF];
  _Atomic int done;
  int accept_err, connect_err;
  int64_t deadline, returned; /* accept with a deadline */
} conn_test_t;

static void do_accept(void *arg) {
  conn_test_t *t = arg;
  t->accept_err = corio__fd_accept_ex(t->listener, (uintptr_t)t->accepted, t->addrbuf,
                                      sizeof t->addrbuf);
  t->returned = corio_nanotime();
  atomic_fetch_add(&t->done, 1);
}

static void do_connect(void *arg) {
  conn_test_t *t = arg;
  t->connect_err = corio__fd_connect_ex(t->client, (struct sockaddr *)&t->addr, sizeof t->addr);
  atomic_fetch_add(&t->done, 1);
}

/* Listener and client FDs, a fresh socket to accept into; accept and connect
 * on two coroutines. */
static void connect_pair(conn_test_t *t) {
  SOCKET l = win_listener(&t->addr), c = win_bound_socket();
  t->accepted = tcp_socket();
  CHECK(l != INVALID_SOCKET && c != INVALID_SOCKET && t->accepted != INVALID_SOCKET);
  t->listener = open_fd(l, CORIO_FD_STREAM);
  t->client = open_fd(c, CORIO_FD_STREAM);
  atomic_store(&t->done, 0);
  CHECK_EQ(corio_spawn(do_accept, t), 0);
  CHECK_EQ(corio_spawn(do_connect, t), 0);
  wait_for(&t->done, 2);
  CHECK_EQ(t->accept_err, 0);
  CHECK_EQ(t->connect_err, 0);
}

static int get_raw(corio_handle_t h, void *arg) {
  *(SOCKET *)arg = (SOCKET)h;
  return 0;
}

static SOCKET handle_of(corio_fd_t *fd) {
  SOCKET s = INVALID_SOCKET;
  CHECK_EQ(corio_fd_control(fd, get_raw, &s), 0);
  return s;
}

/* After AcceptEx + SO_UPDATE_ACCEPT_CONTEXT and ConnectEx +
 * SO_UPDATE_CONNECT_CONTEXT both sockets know their addresses, and shutdown
 * works on each (without the update a ConnectEx socket fails it with
 * WSAENOTCONN on Windows): a half close the peer reads as end of stream while
 * the other direction keeps working. */
static int update_context_main(void *arg) {
  CHECK(win_wsa());
  conn_test_t t = {0};
  connect_pair(&t);
  SOCKET c = handle_of(t.client);
  struct sockaddr_in c_local, c_peer, a_local, a_peer;
  int len = sizeof c_local;
  CHECK_EQ(getsockname(c, (struct sockaddr *)&c_local, &len), 0);
  len = sizeof c_peer;
  CHECK_EQ(getpeername(c, (struct sockaddr *)&c_peer, &len), 0);
  CHECK(same_addr(&c_peer, &t.addr));
  len = sizeof a_local;
  CHECK_EQ(getsockname(t.accepted, (struct sockaddr *)&a_local, &len), 0);
  CHECK(same_addr(&a_local, &t.addr));
  len = sizeof a_peer;
  CHECK_EQ(getpeername(t.accepted, (struct sockaddr *)&a_peer, &len), 0);
  CHECK(same_addr(&a_peer, &c_local));

  /* AcceptEx's own copy of the two addresses agrees. Through the
   * extension pointer, as for AcceptEx: the mswsock export leaves both
   * pointers NULL under Wine 8. */
  LPFN_GETACCEPTEXSOCKADDRS get_addrs = NULL;
  GUID id = WSAID_GETACCEPTEXSOCKADDRS;
  DWORD n = 0;
  CHECK_EQ(WSAIoctl(handle_of(t.listener), SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id,
                    &get_addrs, sizeof get_addrs, &n, NULL, NULL),
           0);
  struct sockaddr *lsa = NULL, *rsa = NULL;
  int llen = 0, rlen = 0;
  if (get_addrs)
    get_addrs(t.addrbuf, 0, sizeof(struct sockaddr_storage) + 16,
              sizeof(struct sockaddr_storage) + 16, &lsa, &llen, &rsa, &rlen);
  CHECK(lsa && rsa && llen >= (int)sizeof(struct sockaddr_in) &&
        rlen >= (int)sizeof(struct sockaddr_in));
  if (lsa && rsa) {
    CHECK(same_addr((struct sockaddr_in *)lsa, &t.addr));
    CHECK(same_addr((struct sockaddr_in *)rsa, &c_local));
  }

  /* The accepted socket inherited the listener's properties: it is a
   * stream socket that corio classifies as one. */
  CHECK_EQ(corio__fd_win_socket_kind((uintptr_t)t.accepted), CORIO__FD_STREAM);
  corio_fd_t *server = open_fd(t.accepted, CORIO_FD_STREAM);

  char b[16];
  CHECK_EQ(corio_fd_write(t.client, "ping", 4), 4);
  CHECK_EQ(corio_fd_read(server, b, sizeof b), 4);
  CHECK_EQ(corio__fd_shutdown(t.client, SD_SEND), 0);
  CHECK_EQ(corio_fd_read(server, b, sizeof b), CORIO_EEOF);
  CHECK_EQ(corio_fd_write(server, "answer", 6), 6);
  CHECK_EQ(corio_fd_read(t.client, b, sizeof b), 6);
  CHECK(memcmp(b, "answer", 6) == 0);
  /* Writing after our own half close fails; it does not crash. */
  CHECK(corio_fd_write(t.client, "x", 1) < 0);
  CHECK_EQ(corio__fd_shutdown(server, SD_BOTH), 0);
  CHECK_EQ(corio_fd_read(t.client, b, sizeof b), CORIO_EEOF);
  /* Bad input, and a closed FD. */
  CHECK_EQ(corio__fd_shutdown(server, 3), CORIO_EINVAL);
  CHECK_EQ(corio__fd_shutdown(server, -1), CORIO_EINVAL);
  CHECK_EQ(corio_fd_close(server), 0);
  CHECK_EQ(corio__fd_shutdown(server, SD_SEND), CORIO_ENETCLOSING);
  corio_fd_free(server);
  corio_fd_free(t.client);
  corio_fd_free(t.listener);
  return 0;
}

Test(sock_windows, acceptex_connectex_update_contexts_and_shutdown) {
  run_program(2, update_context_main, NULL);
}

/* ---- ConnectEx's errors ---- */

static int connect_errors_main(void *arg) {
  CHECK(win_wsa());
  /* A port nobody listens on, held by a bound socket that never listens:
   * a closed listener's port could be taken meanwhile by another process
   * running tests (its next bind to port 0), and the connect would succeed. */
  SOCKET held = win_bound_socket();
  CHECK(held != INVALID_SOCKET);
  struct sockaddr_in addr;
  int alen = sizeof addr;
  CHECK_EQ(getsockname(held, (struct sockaddr *)&addr, &alen), 0);
  corio_fd_t *c = open_fd(win_bound_socket(), CORIO_FD_STREAM);
  int err = corio__fd_connect_ex(c, (struct sockaddr *)&addr, sizeof addr);
  printf("sock_windows: ConnectEx to a port without a listener: %d (%s)\n", err,
         corio_err_name(err));
  CHECK(is_refused(err));
  corio_fd_free(c);
  closesocket(held);
  SOCKET l;

  /* ConnectEx wants a bound socket: an unbound one is refused with an
   * error, WSAEINVAL as documented. */
  corio_fd_t *u = open_fd(tcp_socket(), CORIO_FD_STREAM);
  l = win_listener(&addr);
  CHECK(l != INVALID_SOCKET);
  err = corio__fd_connect_ex(u, (struct sockaddr *)&addr, sizeof addr);
  printf("sock_windows: ConnectEx on an unbound socket: %d (%s)\n", err, corio_err_name(err));
  CHECK_EQ(err, corio_err_from_win32(WSAEINVAL));
  corio_fd_free(u);

  /* A write deadline already past fails at once, before any OS call, even
   * with a listener ready to accept. */
  c = open_fd(win_bound_socket(), CORIO_FD_STREAM);
  CHECK_EQ(corio_fd_set_write_deadline(c, corio_nanotime() - 1), 0);
  CHECK_EQ(corio__fd_connect_ex(c, (struct sockaddr *)&addr, sizeof addr), CORIO_ETIMEOUT);
  /* Bad input. */
  CHECK_EQ(corio__fd_connect_ex(c, NULL, sizeof addr), CORIO_EINVAL);
  CHECK_EQ(corio__fd_connect_ex(c, (struct sockaddr *)&addr, 0), CORIO_EINVAL);
  CHECK_EQ(corio_fd_close(c), 0);
  CHECK_EQ(corio__fd_connect_ex(c, (struct sockaddr *)&addr, sizeof addr), CORIO_ENETCLOSING);
  corio_fd_free(c);
  closesocket(l);
  return 0;
}

Test(sock_windows, connectex_refused_unbound_past_deadline_closed) {
  run_program(1, connect_errors_main, NULL);
}

/* A ConnectEx that stays pending (the listener's backlog is full, so the
 * loopback stack drops the SYN and retries) ends at the write deadline, no
 * earlier, with CORIO_ETIMEOUT; the cancelled socket closes cleanly; close
 * unblocks one the same way with the closing error. */
typedef struct pending_connect {
  corio_fd_t *c;
  struct sockaddr_in addr;
  int err;
  int64_t returned;
  _Atomic int state;
} pending_connect_t;

static void connect_once(void *arg) {
  pending_connect_t *p = arg;
  atomic_store(&p->state, 1);
  p->err = corio__fd_connect_ex(p->c, (struct sockaddr *)&p->addr, sizeof p->addr);
  p->returned = corio_nanotime();
  atomic_store(&p->state, 2);
}

static void close_connecting(void *arg) {
  pending_connect_t *p = arg;
  wait_for(&p->state, 1);
  corio_sleep(50 * MS);
  CHECK_EQ(corio_fd_close(p->c), 0);
}

static int connect_pending_main(void *arg) {
  CHECK(win_wsa());
  SOCKET l = tcp_socket();
  struct sockaddr_in addr = {.sin_family = AF_INET};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int len = sizeof addr;
  CHECK(bind(l, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        getsockname(l, (struct sockaddr *)&addr, &len) == 0 && listen(l, 1) == 0);
  /* Fill the backlog with connections nobody accepts, until a connect
   * pends past its deadline. */
  corio_fd_t *held[64];
  int nheld = 0, timed_out = 0;
  for (int i = 0; i < 64 && !timed_out; i++) {
    corio_fd_t *c = open_fd(win_bound_socket(), CORIO_FD_STREAM);
    int64_t deadline = corio_nanotime() + 100 * MS;
    CHECK_EQ(corio_fd_set_write_deadline(c, deadline), 0);
    int err = corio__fd_connect_ex(c, (struct sockaddr *)&addr, sizeof addr);
    if (err == CORIO_ETIMEOUT) {
      timed_out = 1;
      CHECK(corio_nanotime() >= deadline);
      CHECK_EQ(corio_fd_close(c), 0);
      corio_fd_free(c);
    } else {
      CHECK_EQ(err, 0);
      held[nheld++] = c;
    }
  }
  printf("sock_windows: a ConnectEx timed out after %d connections filled the backlog\n", nheld);
  CHECK(timed_out);
  if (timed_out) {
    pending_connect_t p = {.c = open_fd(win_bound_socket(), CORIO_FD_STREAM), .addr = addr};
    int64_t t0 = corio_nanotime();
    CHECK_EQ(corio_spawn(connect_once, &p), 0);
    CHECK_EQ(corio_spawn(close_connecting, &p), 0);
    wait_for(&p.state, 2);
    CHECK_EQ(p.err, CORIO_ENETCLOSING);
    CHECK(p.returned - t0 < 2 * SEC);
    corio_fd_free(p.c);
  }
  for (int i = 0; i < nheld; i++) corio_fd_free(held[i]);
  closesocket(l);
  return 0;
}

Test(sock_windows, connectex_pending_ends_at_deadline_or_close) {
  run_program(2, connect_pending_main, NULL);
}

/* ---- AcceptEx: deadline, close, retry ---- */

static void closer(void *arg) {
  conn_test_t *t = arg;
  corio_sleep(50 * MS);
  CHECK_EQ(corio_fd_close(t->listener), 0);
}

static int accept_deadline_main(void *arg) {
  CHECK(win_wsa());
  conn_test_t t = {0};
  SOCKET l = win_listener(&t.addr);
  CHECK(l != INVALID_SOCKET);
  t.listener = open_fd(l, CORIO_FD_STREAM);

  /* The read deadline ends a pending AcceptEx, no earlier than set. */
  t.accepted = tcp_socket();
  t.deadline = corio_nanotime() + 50 * MS;
  CHECK_EQ(corio_fd_set_read_deadline(t.listener, t.deadline), 0);
  CHECK_EQ(corio_spawn(do_accept, &t), 0);
  wait_for(&t.done, 1);
  CHECK_EQ(t.accept_err, CORIO_ETIMEOUT);
  CHECK(t.returned >= t.deadline);
  /* A past deadline fails at once. */
  CHECK_EQ(corio__fd_accept_ex(t.listener, (uintptr_t)t.accepted, t.addrbuf, sizeof t.addrbuf),
           CORIO_ETIMEOUT);
  closesocket(t.accepted); /* a socket a cancelled AcceptEx had is not reused */

  /* Cleared, the listener accepts again. */
  CHECK_EQ(corio_fd_set_read_deadline(t.listener, 0), 0);
  t.accepted = tcp_socket();
  t.client = open_fd(win_bound_socket(), CORIO_FD_STREAM);
  atomic_store(&t.done, 0);
  CHECK_EQ(corio_spawn(do_accept, &t), 0);
  CHECK_EQ(corio_spawn(do_connect, &t), 0);
  wait_for(&t.done, 2);
  CHECK_EQ(t.accept_err, 0);
  CHECK_EQ(t.connect_err, 0);
  corio_fd_t *server = open_fd(t.accepted, CORIO_FD_STREAM);
  char b[4];
  CHECK_EQ(corio_fd_write(server, "ok", 2), 2);
  CHECK_EQ(corio_fd_read(t.client, b, sizeof b), 2);
  corio_fd_free(server);
  corio_fd_free(t.client);

  /* Bad input: a buffer too small for AcceptEx's two addresses. */
  CHECK_EQ(corio__fd_accept_ex(t.listener, (uintptr_t)INVALID_SOCKET, t.addrbuf, ADDRBUF - 1),
           CORIO_EINVAL);
  CHECK_EQ(corio__fd_accept_ex(t.listener, (uintptr_t)INVALID_SOCKET, NULL, ADDRBUF),
           CORIO_EINVAL);

  /* Close unblocks a pending AcceptEx promptly with the network closing
   * error. */
  t.accepted = tcp_socket();
  atomic_store(&t.done, 0);
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio_spawn(do_accept, &t), 0);
  CHECK_EQ(corio_spawn(closer, &t), 0);
  wait_for(&t.done, 1);
  CHECK_EQ(t.accept_err, CORIO_ENETCLOSING);
  CHECK(t.returned - t0 < 2 * SEC);
  closesocket(t.accepted);
  corio_fd_free(t.listener);
  return 0;
}

Test(sock_windows, acceptex_deadline_clear_and_close) {
  run_program(2, accept_deadline_main, NULL);
}

/* ---- datagrams ---- */

typedef struct dgram_test {
  corio_fd_t *fd;
  _Atomic int state;
  ptrdiff_t got;
  char buf[64];
  struct sockaddr_in from;
  int fromlen;
  int64_t deadline, returned;
} dgram_test_t;

static void receiver(void *arg) {
  dgram_test_t *t = arg;
  t->fromlen = sizeof t->from;
  atomic_store(&t->state, 1);
  t->got = corio__fd_recvfrom(t->fd, t->buf, sizeof t->buf, (struct sockaddr *)&t->from,
                              &t->fromlen);
  t->returned = corio_nanotime();
  atomic_store(&t->state, 2);
}

static void dgram_closer(void *arg) {
  dgram_test_t *t = arg;
  wait_for(&t->state, 1);
  corio_sleep(50 * MS);
  CHECK_EQ(corio_fd_close(t->fd), 0);
}

static int datagram_main(void *arg) {
  CHECK(win_wsa());
  struct sockaddr_in aa, ba;
  SOCKET as = udp_socket(&aa), bs = udp_socket(&ba);
  CHECK(as != INVALID_SOCKET && bs != INVALID_SOCKET);
  corio_fd_t *a = open_fd(as, CORIO_FD_DGRAM), *b = open_fd(bs, CORIO_FD_DGRAM);
  char buf[256];
  struct sockaddr_in from;
  int fromlen;

  /* Data waiting: the receive may complete at once; sender's address. */
  CHECK_EQ(corio__fd_sendto(a, "hello", 5, (struct sockaddr *)&ba, sizeof ba), 5);
  fromlen = sizeof from;
  CHECK_EQ(corio__fd_recvfrom(b, buf, sizeof buf, (struct sockaddr *)&from, &fromlen), 5);
  CHECK(memcmp(buf, "hello", 5) == 0);
  CHECK_EQ(fromlen, sizeof(struct sockaddr_in));
  CHECK(same_addr(&from, &aa));
  /* Answer to where it came from. */
  CHECK_EQ(corio__fd_sendto(b, "back", 4, (struct sockaddr *)&from, fromlen), 4);
  CHECK_EQ(corio__fd_recvfrom(a, buf, sizeof buf, NULL, NULL), 4);

  /* Nothing waiting: the receive pends and the address is written when it
   * completes, into the operation's own buffer. */
  dgram_test_t t = {.fd = b};
  CHECK_EQ(corio_spawn(receiver, &t), 0);
  wait_for(&t.state, 1);
  corio_sleep(30 * MS);
  CHECK_EQ(atomic_load(&t.state), 1);
  CHECK_EQ(corio__fd_sendto(a, "later", 5, (struct sockaddr *)&ba, sizeof ba), 5);
  wait_for(&t.state, 2);
  CHECK_EQ(t.got, 5);
  CHECK(memcmp(t.buf, "later", 5) == 0);
  CHECK_EQ(t.fromlen, sizeof(struct sockaddr_in));
  CHECK(same_addr(&t.from, &aa));

  /* An empty datagram is sent and received as one: 0, not end of file. */
  CHECK_EQ(corio__fd_sendto(a, NULL, 0, (struct sockaddr *)&ba, sizeof ba), 0);
  CHECK_EQ(corio__fd_sendto(a, "next", 4, (struct sockaddr *)&ba, sizeof ba), 4);
  fromlen = sizeof from;
  CHECK_EQ(corio__fd_recvfrom(b, buf, sizeof buf, (struct sockaddr *)&from, &fromlen), 0);
  CHECK(same_addr(&from, &aa));
  CHECK_EQ(corio__fd_recvfrom(b, buf, sizeof buf, NULL, NULL), 4);
  /* A zero-length receive takes one datagram off the queue. */
  CHECK_EQ(corio__fd_sendto(a, "gone", 4, (struct sockaddr *)&ba, sizeof ba), 4);
  CHECK_EQ(corio__fd_sendto(a, "kept", 4, (struct sockaddr *)&ba, sizeof ba), 4);
  CHECK_EQ(corio__fd_recvfrom(b, NULL, 0, NULL, NULL), 0);
  CHECK_EQ(corio__fd_recvfrom(b, buf, sizeof buf, NULL, NULL), 4);
  CHECK(memcmp(buf, "kept", 4) == 0);

  /* A datagram longer than the buffer: the part that fits; the rest is
   * dropped and the next datagram is intact. */
  char big[200];
  memset(big, 'z', sizeof big);
  CHECK_EQ(corio__fd_sendto(a, big, sizeof big, (struct sockaddr *)&ba, sizeof ba), 200);
  CHECK_EQ(corio__fd_sendto(a, "tail", 4, (struct sockaddr *)&ba, sizeof ba), 4);
  fromlen = sizeof from;
  CHECK_EQ(corio__fd_recvfrom(b, buf, 10, (struct sockaddr *)&from, &fromlen), 10);
  CHECK(memcmp(buf, "zzzzzzzzzz", 10) == 0);
  CHECK_EQ(corio__fd_recvfrom(b, buf, sizeof buf, NULL, NULL), 4);
  CHECK(memcmp(buf, "tail", 4) == 0);
  /* The same, pending when the datagram comes. */
  t = (dgram_test_t){.fd = b};
  CHECK_EQ(corio_spawn(receiver, &t), 0);
  wait_for(&t.state, 1);
  corio_sleep(30 * MS);
  CHECK_EQ(corio__fd_sendto(a, big, sizeof big, (struct sockaddr *)&ba, sizeof ba), 200);
  wait_for(&t.state, 2);
  CHECK_EQ(t.got, sizeof t.buf);
  CHECK(same_addr(&t.from, &aa));

  /* A from buffer shorter than the address: filled as far as it goes,
   * the full length reported. */
  CHECK_EQ(corio__fd_sendto(a, "x", 1, (struct sockaddr *)&ba, sizeof ba), 1);
  struct sockaddr_in small = {0};
  fromlen = 4;
  CHECK_EQ(corio__fd_recvfrom(b, buf, sizeof buf, (struct sockaddr *)&small, &fromlen), 1);
  CHECK_EQ(fromlen, sizeof(struct sockaddr_in));
  CHECK_EQ(small.sin_family, AF_INET);
  CHECK_EQ(small.sin_port, aa.sin_port);
  CHECK_EQ(small.sin_addr.s_addr, 0);

  /* Connected: sendto with no address goes to the peer; empty too. */
  CHECK_EQ(connect(as, (struct sockaddr *)&ba, sizeof ba), 0);
  CHECK_EQ(corio__fd_sendto(a, "conn", 4, NULL, 0), 4);
  CHECK_EQ(corio__fd_sendto(a, NULL, 0, NULL, 0), 0);
  CHECK_EQ(corio__fd_recvfrom(b, buf, sizeof buf, NULL, NULL), 4);
  CHECK_EQ(corio__fd_recvfrom(b, buf, sizeof buf, NULL, NULL), 0);
  /* Without an address on an unconnected socket: an error, no crash. */
  ptrdiff_t e = corio__fd_sendto(b, "x", 1, NULL, 0);
  printf("sock_windows: WSASendTo without an address: %td (%s)\n", e, corio_err_name((int)e));
  CHECK(e < 0);

  /* Bad input. */
  CHECK_EQ(corio__fd_sendto(a, NULL, 3, NULL, 0), CORIO_EINVAL);
  CHECK_EQ(corio__fd_sendto(a, "x", 1, (struct sockaddr *)&ba, 0), CORIO_EINVAL);
  CHECK_EQ(corio__fd_sendto(a, "x", 1, (struct sockaddr *)&ba, 4096), CORIO_EINVAL);
  CHECK_EQ(corio__fd_recvfrom(b, NULL, 3, NULL, NULL), CORIO_EINVAL);
  CHECK_EQ(corio__fd_recvfrom(b, buf, 3, (struct sockaddr *)&from, NULL), CORIO_EINVAL);

  /* The read deadline, no earlier than set; a past one at once. */
  t = (dgram_test_t){.fd = b};
  t.deadline = corio_nanotime() + 50 * MS;
  CHECK_EQ(corio_fd_set_read_deadline(b, t.deadline), 0);
  receiver(&t);
  CHECK_EQ(t.got, CORIO_ETIMEOUT);
  CHECK(t.returned >= t.deadline);
  CHECK_EQ(corio__fd_recvfrom(b, buf, sizeof buf, NULL, NULL), CORIO_ETIMEOUT);
  CHECK_EQ(corio_fd_set_read_deadline(b, 0), 0);
  CHECK_EQ(corio_fd_set_write_deadline(a, corio_nanotime() - 1), 0);
  CHECK_EQ(corio__fd_sendto(a, "x", 1, NULL, 0), CORIO_ETIMEOUT);

  /* Close unblocks a pending receive with the network closing error. */
  t = (dgram_test_t){.fd = b};
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio_spawn(receiver, &t), 0);
  CHECK_EQ(corio_spawn(dgram_closer, &t), 0);
  wait_for(&t.state, 2);
  CHECK_EQ(t.got, CORIO_ENETCLOSING);
  CHECK(t.returned - t0 < 2 * SEC);
  CHECK_EQ(corio__fd_recvfrom(b, buf, sizeof buf, NULL, NULL), CORIO_ENETCLOSING);
  CHECK_EQ(corio__fd_sendto(b, "x", 1, (struct sockaddr *)&aa, sizeof aa), CORIO_ENETCLOSING);
  corio_fd_free(a);
  corio_fd_free(b);
  return 0;
}

Test(sock_windows, datagrams_with_addresses_empty_truncated_deadline_close) {
  run_program(2, datagram_main, NULL);
}

/* A datagram socket attached to a foreign port before corio saw it waits
 * on events (fd_windows.h): WSARecvFrom pends there too, its address is
 * written into the operation's block, nothing reaches the foreign port, and
 * close still unblocks a pending receive. */
static int dgram_event_main(void *arg) {
  CHECK(win_wsa());
  struct sockaddr_in aa, ba;
  SOCKET as = udp_socket(&aa), bs = udp_socket(&ba);
  CHECK(as != INVALID_SOCKET && bs != INVALID_SOCKET);
  HANDLE port = win_port();
  CHECK(CreateIoCompletionPort((HANDLE)bs, port, 5, 0) == port);
  corio_fd_t *a = open_fd(as, CORIO_FD_DGRAM), *b = open_fd(bs, CORIO_FD_DGRAM);
  CHECK(!corio_fd_pollable(b));
  dgram_test_t t = {.fd = b};
  CHECK_EQ(corio_spawn(receiver, &t), 0);
  wait_for(&t.state, 1);
  corio_sleep(30 * MS);
  CHECK_EQ(atomic_load(&t.state), 1); /* one P: the wait handed it on */
  CHECK_EQ(corio__fd_sendto(a, "event", 5, (struct sockaddr *)&ba, sizeof ba), 5);
  wait_for(&t.state, 2);
  CHECK_EQ(t.got, 5);
  CHECK(same_addr(&t.from, &aa));
  /* Replies go out on the event path as well. */
  CHECK_EQ(corio__fd_sendto(b, NULL, 0, (struct sockaddr *)&aa, sizeof aa), 0);
  char buf[8];
  CHECK_EQ(corio__fd_recvfrom(a, buf, sizeof buf, NULL, NULL), 0);
  CHECK(win_port_empty(port));
  t = (dgram_test_t){.fd = b};
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio_spawn(receiver, &t), 0);
  CHECK_EQ(corio_spawn(dgram_closer, &t), 0);
  wait_for(&t.state, 2);
  CHECK_EQ(t.got, CORIO_ENETCLOSING);
  CHECK(t.returned - t0 < 2 * SEC);
  corio_fd_free(a);
  corio_fd_free(b);
  CloseHandle(port);
  return 0;
}

Test(sock_windows, datagrams_on_the_event_path) {
  run_program(1, dgram_event_main, NULL);
}

/* ---- datagrams from many senders at once, four Ps ---- */

#define SENDERS 16
#define PINGS 200

typedef struct udp_many {
  corio_fd_t *server;
  struct sockaddr_in server_addr;
  _Atomic int senders_done, bad, server_done;
} udp_many_t;

/* Echo every datagram to whoever sent it, until a datagram "stop". The
 * sender's address comes back from WSARecvFrom, often after the receive
 * pended, while the other Ps submit and complete theirs. */
static void udp_echo(void *arg) {
  udp_many_t *t = arg;
  char b[64];
  for (;;) {
    struct sockaddr_in from;
    int fromlen = sizeof from;
    ptrdiff_t n = corio__fd_recvfrom(t->server, b, sizeof b, (struct sockaddr *)&from, &fromlen);
    if (n < 0) {
      CHECK_EQ(n, 0);
      break;
    }
    if (n == 4 && memcmp(b, "stop", 4) == 0) break;
    if (corio__fd_sendto(t->server, b, (size_t)n, (struct sockaddr *)&from, fromlen) != n)
      atomic_fetch_add(&t->bad, 1);
  }
  atomic_store(&t->server_done, 1);
}

static void udp_sender(void *arg) {
  udp_many_t *t = arg;
  static _Atomic int next_id;
  int id = atomic_fetch_add(&next_id, 1);
  struct sockaddr_in mine;
  corio_fd_t *fd = open_fd(udp_socket(&mine), CORIO_FD_DGRAM);
  for (int i = 0; i < PINGS; i++) {
    char out[32], in[64];
    int len = snprintf(out, sizeof out, "%d:%d", id, i);
    if (corio__fd_sendto(fd, out, (size_t)len, (struct sockaddr *)&t->server_addr,
                         sizeof t->server_addr) != len) {
      atomic_fetch_add(&t->bad, 1);
      break;
    }
    /* Loopback does not lose a datagram with one in flight per sender; the
     * deadline only turns a bug into a failure instead of a hang. */
    CHECK_EQ(corio_fd_set_read_deadline(fd, corio_nanotime() + 10 * SEC), 0);
    struct sockaddr_in from;
    int fromlen = sizeof from;
    ptrdiff_t n = corio__fd_recvfrom(fd, in, sizeof in, (struct sockaddr *)&from, &fromlen);
    if (n != len || memcmp(in, out, (size_t)len) != 0 || !same_addr(&from, &t->server_addr)) {
      atomic_fetch_add(&t->bad, 1);
      break;
    }
  }
  corio_fd_free(fd);
  atomic_fetch_add(&t->senders_done, 1);
}

static int udp_many_main(void *arg) {
  CHECK(win_wsa());
  udp_many_t t = {0};
  t.server = open_fd(udp_socket(&t.server_addr), CORIO_FD_DGRAM);
  CHECK_EQ(corio_spawn(udp_echo, &t), 0);
  for (int i = 0; i < SENDERS; i++) CHECK_EQ(corio_spawn(udp_sender, &t), 0);
  int64_t give_up = corio_nanotime() + 60 * SEC;
  while (atomic_load(&t.senders_done) < SENDERS && corio_nanotime() < give_up) corio_sleep(MS);
  CHECK_EQ(atomic_load(&t.senders_done), SENDERS);
  CHECK_EQ(atomic_load(&t.bad), 0);
  struct sockaddr_in a;
  corio_fd_t *stopper = open_fd(udp_socket(&a), CORIO_FD_DGRAM);
  CHECK_EQ(corio__fd_sendto(stopper, "stop", 4, (struct sockaddr *)&t.server_addr,
                            sizeof t.server_addr),
           4);
  wait_for(&t.server_done, 1);
  corio_fd_free(stopper);
  corio_fd_free(t.server);
  return 0;
}

Test(sock_windows, datagrams_from_many_senders_on_four_ps) {
  run_program(4, udp_many_main, NULL);
}

/* ---- many connections at once, four Ps ---- */

#define CLIENTS 32
#define ROUNDS 8     /* connections per client */
#define PAYLOAD 4096

typedef struct many_test {
  corio_fd_t *listener;
  struct sockaddr_in addr;
  _Atomic int served, clients_done, server_done;
  _Atomic int fail_connect, fail_data;
} many_test_t;

typedef struct echo_conn {
  many_test_t *t;
  corio_fd_t *fd;
} echo_conn_t;

/* Echo until end of stream, then half close back. */
static void echo(void *arg) {
  echo_conn_t *e = arg;
  char b[1500];
  ptrdiff_t n;
  while ((n = corio_fd_read(e->fd, b, sizeof b)) > 0)
    if (corio_fd_write(e->fd, b, (size_t)n) != n) break;
  CHECK_EQ(n, CORIO_EEOF);
  CHECK_EQ(corio__fd_shutdown(e->fd, SD_SEND), 0);
  CHECK_EQ(corio_fd_close(e->fd), 0);
  corio_fd_free(e->fd);
  atomic_fetch_add(&e->t->served, 1);
  free(e);
}

static void accept_loop(void *arg) {
  many_test_t *t = arg;
  char addrbuf[ADDRBUF];
  for (int i = 0; i < CLIENTS * ROUNDS; i++) {
    SOCKET s = tcp_socket();
    int err = corio__fd_accept_ex(t->listener, (uintptr_t)s, addrbuf, sizeof addrbuf);
    if (err) {
      closesocket(s);
      CHECK_EQ(err, 0);
      break;
    }
    echo_conn_t *e = malloc(sizeof *e);
    CHECK(e != NULL);
    e->t = t;
    e->fd = open_fd(s, CORIO_FD_STREAM);
    CHECK_EQ(corio_spawn(echo, e), 0);
  }
  atomic_store(&t->server_done, 1);
}

static uint32_t checksum(const unsigned char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

static void client(void *arg) {
  many_test_t *t = arg;
  static _Atomic unsigned seed;
  unsigned char out[PAYLOAD], in[PAYLOAD];
  for (int r = 0; r < ROUNDS; r++) {
    unsigned s = atomic_fetch_add(&seed, 1);
    for (size_t i = 0; i < sizeof out; i++) out[i] = (unsigned char)(s * 31 + i * 7);
    corio_fd_t *c = open_fd(win_bound_socket(), CORIO_FD_STREAM);
    if (corio__fd_connect_ex(c, (struct sockaddr *)&t->addr, sizeof t->addr) != 0) {
      atomic_fetch_add(&t->fail_connect, 1);
      corio_fd_free(c);
      continue;
    }
    CHECK_EQ(corio_fd_write(c, out, sizeof out), sizeof out);
    CHECK_EQ(corio__fd_shutdown(c, SD_SEND), 0);
    size_t got = 0;
    ptrdiff_t n;
    while (got < sizeof in && (n = corio_fd_read(c, in + got, sizeof in - got)) > 0) got += n;
    CHECK_EQ(corio_fd_read(c, in, 1), CORIO_EEOF);
    if (got != sizeof in || checksum(in, got) != checksum(out, sizeof out))
      atomic_fetch_add(&t->fail_data, 1);
    CHECK_EQ(corio_fd_close(c), 0);
    corio_fd_free(c);
  }
  atomic_fetch_add(&t->clients_done, 1);
}

static void many_round(many_test_t *t) {
  SOCKET l = win_listener(&t->addr);
  CHECK(l != INVALID_SOCKET);
  t->listener = open_fd(l, CORIO_FD_STREAM);
  CHECK_EQ(corio_spawn(accept_loop, t), 0);
  for (int i = 0; i < CLIENTS; i++) CHECK_EQ(corio_spawn(client, t), 0);
  int64_t give_up = corio_nanotime() + 60 * SEC;
  while ((atomic_load(&t->clients_done) < CLIENTS || atomic_load(&t->served) < CLIENTS * ROUNDS ||
          !atomic_load(&t->server_done)) &&
         corio_nanotime() < give_up)
    corio_sleep(MS);
  CHECK_EQ(atomic_load(&t->clients_done), CLIENTS);
  CHECK_EQ(atomic_load(&t->served), CLIENTS * ROUNDS);
  CHECK_EQ(atomic_load(&t->fail_connect), 0);
  CHECK_EQ(atomic_load(&t->fail_data), 0);
  corio_fd_free(t->listener);
}

static int many_main(void *arg) {
  CHECK(win_wsa());
  many_test_t warm = {0};
  many_round(&warm); /* the runtime's threads and Winsock's state exist now */
  /* File handles (sockets among them): the runtime's threads, which a busy
   * moment may add, hold handles of other types. */
  int base = test_count_handles();
  CHECK(base > 0);
  many_test_t t = {0};
  many_round(&t);
  int after = test_count_handles();
  printf("sock_windows: file handles before %d, after %d connections %d\n", base,
         CLIENTS * ROUNDS, after);
  fflush(stdout);
  CHECK_EQ(after, base);
  return 0;
}

Test(sock_windows, many_connections_on_four_ps_echo_and_leak_nothing) {
  run_program(4, many_main, NULL);
}
