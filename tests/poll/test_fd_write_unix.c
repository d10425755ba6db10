/* A write of zero bytes reaches the system (issue 13, item 6), as Go's Write
 * does: on a datagram socket it sends an empty datagram, which the peer
 * receives as a datagram of length 0 between the others. Before, corio
 * returned 0 without a system call and the datagram was never sent. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "corio/poll.h"
#include "check.h"
#include "fd_unix.h"

static int empty_datagram_main(void *arg) {
  (void)arg;
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
  corio__fd_t *w = calloc(1, sizeof *w), *r = calloc(1, sizeof *r);
  CHECK_EQ(corio__fd_init(w, (uintptr_t)sv[0], CORIO__FD_DGRAM, false, true), 0);
  CHECK_EQ(corio__fd_init(r, (uintptr_t)sv[1], CORIO__FD_DGRAM, false, true), 0);
  CHECK_EQ(corio__fd_write(w, "one", 3), 3);
  CHECK_EQ(corio__fd_write(w, "", 0), 0);
  CHECK_EQ(corio__fd_write(w, NULL, 0), 0);
  CHECK_EQ(corio__fd_write(w, "two", 3), 3);
  /* A datagram FD reads a zero-length datagram as 0, not end of file. */
  static const ptrdiff_t want[4] = {3, 0, 0, 3};
  CHECK_EQ(corio__fd_set_deadline(r, corio_nanotime() + 5000 * MS, 'r'), 0);
  for (int i = 0; i < 4; i++) {
    char b[8];
    CHECK_EQ(corio__fd_read(r, b, sizeof b), want[i]);
  }
  CHECK_EQ(corio__fd_close(w), 0);
  CHECK_EQ(corio__fd_close(r), 0);
  free(w);
  free(r);
  return 0;
}

Test(fd_write_unix, zero_length_write_sends_an_empty_datagram) {
  run_program(1, empty_datagram_main, NULL);
}
