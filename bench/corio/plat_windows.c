/* Windows half of corio's benchmark helpers (see corio_bench.h). Here it is
 * cross-built with mingw-w64 and run under Wine, so the implementation name
 * says which of the two ran it. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include "corio/os.h"
#include "corio_bench.h"

/* Wine's ntdll exports wine_get_version; Windows' does not. */
const char *cb_impl_name(void) {
  static const char *name;
  if (!name) {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    name = ntdll && GetProcAddress(ntdll, "wine_get_version") ? "corio-wine" : "corio-windows";
  }
  return name;
}

void cb_plat_init(void) {
  WSADATA wd;
  if (WSAStartup(MAKEWORD(2, 2), &wd) != 0)
    bench_die("WSAStartup failed");
}

long cb_raise_nofile(long want) { return want; }

/* Windows has no open-file limit, but each pipe end is a handle (and, under
 * Wine, a host descriptor in the server): the I/O memory scenario shares at
 * most this many pipes among its readers. */
long cb_nofile_hard(void) { return 8192 + 256; }

const char *cb_nofile_what(void) { return "the benchmark's cap of 8192 pipes"; }

void cb_open_ends(int n, corio_file_t **rd, corio_file_t **wr, const char **how) {
  for (int i = 0; i < n; i++)
    cb_check(corio_file_pipe(&rd[i], &wr[i]), "corio_file_pipe");
  *how = "overlapped named pipes";
}

void cb_close_ends(int n, corio_file_t **rd, corio_file_t **wr) {
  for (int i = 0; i < n; i++) {
    corio_file_close(rd[i]);
    corio_file_close(wr[i]);
  }
}

void cb_free_ends(int n, corio_file_t **rd, corio_file_t **wr) {
  for (int i = 0; i < n; i++) {
    corio_file_free(rd[i]);
    corio_file_free(wr[i]);
  }
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static void nodelay(SOCKET s) {
  BOOL one = TRUE;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
}

/* WSASocket with WSA_FLAG_OVERLAPPED: corio's FD issues overlapped I/O on it. */
static SOCKET tcp_socket(void) {
  SOCKET s = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
  if (s == INVALID_SOCKET)
    bench_die("WSASocket: %d", WSAGetLastError());
  return s;
}

corio_handle_t cb_tcp_listen(int *port) {
  SOCKET s = tcp_socket();
  struct sockaddr_in a = loopback(*port);
  int len = sizeof a;
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, SOMAXCONN) != 0)
    bench_die("bind/listen 127.0.0.1:%d: %d", *port, WSAGetLastError());
  getsockname(s, (struct sockaddr *)&a, &len);
  *port = ntohs(a.sin_port);
  return (corio_handle_t)s;
}

corio_handle_t cb_tcp_accept(corio_handle_t listener) {
  SOCKET s = accept((SOCKET)listener, NULL, NULL);
  if (s == INVALID_SOCKET)
    bench_die("accept: %d", WSAGetLastError());
  nodelay(s);
  return (corio_handle_t)s;
}

void cb_tcp_pair(corio_handle_t h[2]) {
  int port = 0;
  corio_handle_t l = cb_tcp_listen(&port);
  SOCKET c = tcp_socket();
  struct sockaddr_in a = loopback(port);
  if (connect(c, (struct sockaddr *)&a, sizeof a) != 0)
    bench_die("connect: %d", WSAGetLastError());
  nodelay(c);
  h[0] = (corio_handle_t)c;
  h[1] = cb_tcp_accept(l);
  closesocket((SOCKET)l);
}

void cb_close_handle(corio_handle_t h) { closesocket((SOCKET)h); }

void cb_wait_stdin_eof(void) {
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  char buf[256];
  DWORD got;
  while (ReadFile(in, buf, sizeof buf, &got, NULL) && got > 0) {
  }
}
