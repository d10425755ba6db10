/* net/sock_linux.h: what the POSIX half (sock_unix.c) needs from the
 * Linux-only file (sock_linux.c): Unix-domain names, abstract ones
 * included, and the listen backlog. */
#ifndef CORIO_NET_SOCK_LINUX_H
#define CORIO_NET_SOCK_LINUX_H

#include <sys/socket.h>
#include <sys/un.h>

/* path ("" unnamed, "@name" abstract, else a file path) as a sockaddr_un
 * and its length. 0 or CORIO_EBADADDR (too long). */
int corio__sock_unix_to_sys(const char *path, struct sockaddr_un *sun, socklen_t *len);

/* The name in sun (len bytes, as the kernel returned it) into path (room
 * for CORIO__UNIX_PATH_MAX + 1): "" for an unnamed socket, "@name" for an
 * abstract one (NUL bytes inside the name are kept as '@' too, as Go
 * shows them). */
void corio__sock_unix_from_sys(const struct sockaddr_un *sun, socklen_t len, char *path);

/* The largest listen backlog the system allows. */
int corio__sock_max_backlog(void);

#endif
