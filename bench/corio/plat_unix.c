/* Unix half of corio's benchmark helpers (see corio_bench.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/posix.h"
#include "corio/os.h"
#include "corio_bench.h"

const char *cb_impl_name(void) { return "corio"; }

void cb_plat_init(void) {}

long cb_raise_nofile(long want) { return bench_raise_nofile(want); }

long cb_nofile_hard(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
    return 1024;
  return rl.rlim_max == RLIM_INFINITY ? 1L << 20 : (long)rl.rlim_max;
}

const char *cb_nofile_what(void) { return "the hard open-file limit"; }

void cb_open_ends(int n, corio_file_t **rd, corio_file_t **wr, const char **how) {
  for (int i = 0; i < n; i += 2) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
      bench_die("socketpair %d: %s", i / 2, strerror(errno));
    /* Non-blocking descriptors go on the poller (corio_file_new). */
    cb_check(corio_file_new(sv[0], "sp0", &rd[i]), "corio_file_new");
    cb_check(corio_file_new(sv[1], "sp1", &rd[i + 1]), "corio_file_new");
    wr[i] = rd[i + 1];
    wr[i + 1] = rd[i];
  }
  *how = "socketpair ends";
}

void cb_close_ends(int n, corio_file_t **rd, corio_file_t **wr) {
  for (int i = 0; i < n; i++)
    corio_file_close(rd[i]);
}

void cb_free_ends(int n, corio_file_t **rd, corio_file_t **wr) {
  for (int i = 0; i < n; i++)
    corio_file_free(rd[i]);
}

corio_handle_t cb_tcp_listen(int *port) { return bench_tcp_listen(port, false, false); }

corio_handle_t cb_tcp_accept(corio_handle_t listener) { return bench_tcp_accept((int)listener); }

void cb_tcp_pair(corio_handle_t h[2]) {
  int fds[2];
  bench_tcp_pair(fds);
  h[0] = fds[0];
  h[1] = fds[1];
}

void cb_close_handle(corio_handle_t h) { close((int)h); }

void cb_wait_stdin_eof(void) {
  char buf[256];
  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r == 0 || (r < 0 && errno != EINTR))
      return;
  }
}
