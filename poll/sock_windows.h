/* poll/sock_windows.h: the socket calls only Windows has (poll/sock_windows.c),
 * for sockets wrapped in an FD of kind CORIO__FD_STREAM or CORIO__FD_DGRAM,
 * and Winsock's start-up, once per process. */
#ifndef CORIO_POLL_SOCK_WINDOWS_H
#define CORIO_POLL_SOCK_WINDOWS_H

#include <winsock2.h>
#include <windows.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fd.h"

/* Start Winsock (2.2) the first time; later calls return the first result.
 * 0 or the Win32 translation of WSAStartup's error. */
int corio__wsa_init(void);

/* Whether sockets may skip the port on synchronous success: false when a
 * layered provider without IFS handles is installed (or the providers could
 * not be listed). Starts Winsock if needed. */
bool corio__wsa_skip_sync_ok(void);

/* Connect the socket, which the caller has bound (ConnectEx requires it), to
 * sa, parking meanwhile; the write deadline applies. 0, the closing error,
 * CORIO_ETIMEOUT, or the WSA error (WSAECONNREFUSED, ERROR_CONNECTION_REFUSED
 * as Wine reports it ...). */
int corio__fd_connect_ex(corio__fd_t *fd, const struct sockaddr *sa, int salen);

/* Accept a connection on the listening socket into `accepted`, a fresh
 * unbound socket of the same family, created by the caller for overlapped
 * use; the read deadline applies. addrbuf receives AcceptEx's two addresses
 * (at least 2 * (sizeof(struct sockaddr_storage) + 16) bytes). On success the
 * accepted socket inherits the listener's properties (SO_UPDATE_ACCEPT_CONTEXT)
 * and the caller wraps it in an FD of its own. 0, the closing error,
 * CORIO_ETIMEOUT, CORIO_EINVAL (addrbuf too small), or the WSA error; after
 * ERROR_NETNAME_DELETED or WSAECONNRESET (the peer left before the accept
 * completed) the caller should close `accepted` and try again with a new one.
 * The caller keeps ownership of `accepted` in every case. */
int corio__fd_accept_ex(corio__fd_t *fd, uintptr_t accepted, void *addrbuf, size_t addrbuf_len);

/* CORIO__FD_STREAM or CORIO__FD_DGRAM when handle is a socket, else 0
 * (starts Winsock if needed; os/ uses it to classify handles). */
int corio__fd_win_socket_kind(uintptr_t handle);

#endif
