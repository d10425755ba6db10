/* The Linux-only part of the Unix socket half: abstract Unix names (a
 * sun_path starting with NUL, written "@name" as Go writes it) and the
 * listen backlog from net.core.somaxconn (Go's maxListenerBacklog). */
#include "sock_linux.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "corio/error.h"

int corio__sock_unix_to_sys(const char *path, struct sockaddr_un *sun, socklen_t *len) {
  size_t n = strlen(path);
  if (n >= sizeof sun->sun_path || n > CORIO__UNIX_PATH_MAX) return CORIO_EBADADDR;
  memset(sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  memcpy(sun->sun_path, path, n);
  if (n > 0 && path[0] == '@') {
    /* Abstract: the name is exactly the bytes after the NUL, no terminator. */
    sun->sun_path[0] = 0;
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  } else {
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (n > 0));
  }
  return 0;
}

void corio__sock_unix_from_sys(const struct sockaddr_un *sun, socklen_t len, char *path) {
  size_t off = offsetof(struct sockaddr_un, sun_path);
  size_t n = len > off ? (size_t)len - off : 0;
  if (n > CORIO__UNIX_PATH_MAX) n = CORIO__UNIX_PATH_MAX;
  if (n > 0 && sun->sun_path[0] == 0) {
    for (size_t i = 0; i < n; i++) path[i] = sun->sun_path[i] ? sun->sun_path[i] : '@';
    path[n] = 0;
    return;
  }
  /* A path: up to its terminator, which the kernel may or may not count. */
  size_t k = 0;
  while (k < n && sun->sun_path[k]) k++;
  memcpy(path, sun->sun_path, k);
  path[k] = 0;
}

int corio__sock_max_backlog(void) {
  /* Relaxed: every thread that computes it computes the same value. */
  static _Atomic int cached;
  int v = atomic_load_explicit(&cached, memory_order_relaxed);
  if (v) return v;
  v = SOMAXCONN;
  FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
  if (f) {
    int n;
    if (fscanf(f, "%d", &n) == 1 && n > 0) v = n > 65535 ? 65535 : n;
    fclose(f);
  }
  atomic_store_explicit(&cached, v, memory_order_relaxed);
  return v;
}
