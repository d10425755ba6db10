/* Streams: files, pipes, standard streams and connections behind one set of
 * language methods (read, readline, readall, write, close, deadlines). Each
 * kind supplies its corio calls in a stream_ops_t. */
#ifndef LANG_STREAM_H
#define LANG_STREAM_H

#include "lang.h"

enum { DL_BOTH, DL_READ, DL_WRITE };

typedef struct stream_ops {
  ptrdiff_t (*read)(void *h, void *buf, size_t len);
  ptrdiff_t (*write)(void *h, const void *buf, size_t len);
  int (*close)(void *h);
  int (*close_write)(void *h);                     /* NULL: not a connection */
  void (*free)(void *h);
  int (*deadline)(void *h, int which, int64_t deadline);
  int (*addr)(void *h, bool remote, char *buf, size_t len); /* NULL: not a connection */
  int64_t (*seek)(void *h, int64_t off, int whence);        /* NULL: not seekable */
} stream_ops_t;

typedef struct stream {
  obj_t h;
  const stream_ops_t *ops;
  void *handle;
  char *name;
  bool closed;
  bool console;   /* stdout/stderr: writes keep the VM lock, so output stays in order */
  bool line_buf;  /* flush at each newline (a terminal) */
  bool reading;   /* scratch in use by a read */
  char *rbuf;     /* bytes read ahead by readline */
  size_t rpos, rlen, rcap;
  char *scratch;  /* read buffer reused across calls */
  sbuf_t wbuf;    /* console output not yet written */
} stream_t;

value_t stream_new(const stream_ops_t *ops, void *handle, const char *name);

/* Platform halves (stdio_unix.c, stdio_windows.c). */
corio_handle_t std_handle(int which);
bool std_is_tty(int which);

#endif
