/* Files, pipes and the standard streams, on corio's os API; the stream
 * methods shared with connections (net.c).
 *
 * Every read and write releases the VM lock around the corio call, except on
 * the console streams (stdout, stderr), whose writes keep it so output from
 * several tasks stays in the order the prints ran. Bytes a read brings in
 * land in a C buffer while the lock is released and become a string only
 * after the lock is back. A stream that becomes garbage is closed and freed
 * by its finaliser.
 */
#include <stdlib.h>
#include <string.h>

#include "stream.h"

#define READ_CHUNK 65536

static void oom(void) {
  fputs("corio-lang: out of memory\n", stderr);
  exit(70);
}

/* ---- files ---- */
static ptrdiff_t f_read(void *h, void *b, size_t n) { return corio_file_read(h, b, n); }
static ptrdiff_t f_write(void *h, const void *b, size_t n) { return corio_file_write(h, b, n); }
static int f_close(void *h) { return corio_file_close(h); }
static void f_free(void *h) { corio_file_free(h); }
static int f_deadline(void *h, int which, int64_t dl) {
  if (which == DL_READ) return corio_file_set_read_deadline(h, dl);
  if (which == DL_WRITE) return corio_file_set_write_deadline(h, dl);
  return corio_file_set_deadline(h, dl);
}
static int64_t f_seek(void *h, int64_t off, int whence) { return corio_file_seek(h, off, whence); }

static const stream_ops_t file_ops = {f_read, f_write, f_close, NULL, f_free, f_deadline, NULL, f_seek};

value_t stream_new(const stream_ops_t *ops, void *handle, const char *name) {
  stream_t *s = gc_alloc(T_STREAM, sizeof *s);
  s->ops = ops;
  s->handle = handle;
  s->name = strdup(name ? name : "");
  if (!s->name) oom();
  return V_OBJ(T_STREAM, s);
}

void stream_finalize(obj_t *o) {
  stream_t *s = (stream_t *)o;
  if (s->console && s->wbuf.len) {
    s->ops->write(s->handle, s->wbuf.p, s->wbuf.len);
  }
  if (!s->closed) s->ops->close(s->handle);
  s->ops->free(s->handle);
  free(s->name);
  free(s->rbuf);
  free(s->scratch);
  free(s->wbuf.p);
}

/* ---- console output ---- */
static int console_flush(task_t *t, stream_t *s) {
  if (!s->wbuf.len) return ST_OK;
  ptrdiff_t r = s->ops->write(s->handle, s->wbuf.p, s->wbuf.len);
  s->wbuf.len = 0;
  if (r < 0 && t) return raise_corio(t, (int)r, NULL);
  return ST_OK;
}

void stdout_flush(task_t *t) {
  for (int i = 1; i < 3; i++)
    if (g_vm.std[i].t == T_STREAM) console_flush(t, (stream_t *)g_vm.std[i].u.o);
}

int stdout_append(task_t *t, const char *p, size_t n) {
  if (g_vm.std[1].t != T_STREAM) {
    /* corio could not take the handle (or a fuzzing run): the C library's stdout */
    if (!g_fuzzing) fwrite(p, 1, n, stdout);
    return ST_OK;
  }
  stream_t *s = (stream_t *)g_vm.std[1].u.o;
  if (s->closed) return raise_corio(t, CORIO_ECLOSING, NULL);
  sb_put(&s->wbuf, p, n);
  if (s->wbuf.len >= 8192 || (s->line_buf && memchr(p, '\n', n))) return console_flush(t, s);
  return ST_OK;
}

/* ---- reading ---- */
/* Read once into the stream's scratch (or a fresh buffer if another task is
 * using it), with the VM lock released. Returns the count, 0 at EOF, or an
 * error; *buf is where the bytes are. */
static ptrdiff_t read_some(task_t *t, stream_t *s, size_t want, char **buf, bool *own) {
  if (want > READ_CHUNK) want = READ_CHUNK;
  *own = s->reading;
  if (*own) {
    *buf = malloc(want);
    if (!*buf) oom();
  } else {
    if (!s->scratch && !(s->scratch = malloc(READ_CHUNK))) oom();
    *buf = s->scratch;
    s->reading = true;
  }
  vm_unlock(t, "read");
  ptrdiff_t r = s->ops->read(s->handle, *buf, want);
  vm_relock(t);
  if (!*own) s->reading = false;
  if (r == CORIO_EEOF) r = 0;
  return r;
}

static void rbuf_append(stream_t *s, const char *p, size_t n) {
  if (s->rpos == s->rlen) s->rpos = s->rlen = 0;
  if (s->rlen + n > s->rcap) {
    if (s->rpos) {
      memmove(s->rbuf, s->rbuf + s->rpos, s->rlen - s->rpos);
      s->rlen -= s->rpos;
      s->rpos = 0;
    }
    if (s->rlen + n > s->rcap) {
      size_t nc = s->rcap ? s->rcap : 4096;
      while (nc < s->rlen + n) nc *= 2;
      char *nb = realloc(s->rbuf, nc);
      if (!nb) oom();
      s->rbuf = nb;
      s->rcap = nc;
    }
  }
  memcpy(s->rbuf + s->rlen, p, n);
  s->rlen += n;
}

static int s_read(task_t *t, stream_t *s, int64_t n) {
  if (n <= 0) { t->ret = str_new("", 0); return ST_OK; }
  if (s->rlen > s->rpos) {
    size_t k = s->rlen - s->rpos;
    if ((uint64_t)n < k) k = (size_t)n;
    t->ret = str_new(s->rbuf + s->rpos, k);
    s->rpos += k;
    return ST_OK;
  }
  char *buf;
  bool own;
  ptrdiff_t r = read_some(t, s, (size_t)n, &buf, &own);
  if (r > 0) t->ret = str_new(buf, (size_t)r);
  if (own) free(buf);
  if (r < 0) return raise_corio(t, (int)r, NULL);
  return ST_OK; /* nil at end of file */
}

static int s_readline(task_t *t, stream_t *s) {
  for (;;) {
    char *nl = s->rlen > s->rpos ? memchr(s->rbuf + s->rpos, '\n', s->rlen - s->rpos) : NULL;
    if (nl) {
      size_t k = (size_t)(nl - (s->rbuf + s->rpos));
      t->ret = str_new(s->rbuf + s->rpos, k);
      s->rpos += k + 1;
      return ST_OK;
    }
    char *buf;
    bool own;
    ptrdiff_t r = read_some(t, s, 4096, &buf, &own);
    if (r > 0) rbuf_append(s, buf, (size_t)r);
    if (own) free(buf);
    if (r < 0) return raise_corio(t, (int)r, NULL);
    if (r == 0) {
      if (s->rlen > s->rpos) {
        t->ret = str_new(s->rbuf + s->rpos, s->rlen - s->rpos);
        s->rpos = s->rlen = 0;
      }
      return ST_OK;
    }
  }
}

static int s_readall(task_t *t, stream_t *s) {
  sbuf_t acc = {0};
  if (s->rlen > s->rpos) sb_put(&acc, s->rbuf + s->rpos, s->rlen - s->rpos);
  s->rpos = s->rlen = 0;
  for (;;) {
    char *buf;
    bool own;
    ptrdiff_t r = read_some(t, s, READ_CHUNK, &buf, &own);
    if (r > 0) sb_put(&acc, buf, (size_t)r);
    if (own) free(buf);
    if (r < 0) {
      free(acc.p);
      return raise_corio(t, (int)r, NULL);
    }
    if (r == 0) break;
  }
  t->ret = str_new(acc.p ? acc.p : "", acc.len);
  free(acc.p);
  return ST_OK;
}

static int s_write(task_t *t, stream_t *s, value_t v) {
  if (v.t != T_STR) return raise(t, "wrong type: write needs a string, not a %s", type_name(v));
  str_t *str = AS_STR(v);
  if (s->console) {
    if (s->closed) return raise_corio(t, CORIO_ECLOSING, NULL);
    stdout_flush(t);
    ptrdiff_t r = s->ops->write(s->handle, str->data, str->len);
    if (r < 0) return raise_corio(t, (int)r, NULL);
    t->ret = V_INT(r);
    return ST_OK;
  }
  vm_unlock(t, "write"); /* the string is on the stack: rooted, and never moves */
  ptrdiff_t r = s->ops->write(s->handle, str->data, str->len);
  vm_relock(t);
  if (r < 0) return raise_corio(t, (int)r, NULL);
  t->ret = V_INT(r);
  return ST_OK;
}

static int s_close(task_t *t, stream_t *s) {
  if (s->closed) return raise_corio(t, CORIO_ECLOSING, NULL);
  if (s->console) console_flush(t, s);
  s->closed = true;
  vm_unlock(t, "close");
  int r = s->ops->close(s->handle);
  vm_relock(t);
  if (r < 0) return raise_corio(t, r, NULL);
  return ST_OK;
}

int stream_method(task_t *t, int mid, int nargs, bool *handled) {
  stream_t *s = (stream_t *)peek(t, nargs)->u.o;
  value_t a0 = nargs ? *arg(t, nargs, 0) : V_NIL;
  *handled = true;
  int r;
  switch (mid) {
  case M_READ:
    if (nargs > 1) break;
    if (nargs && a0.t != T_INT) return raise(t, "wrong type: read needs a byte count");
    return s_read(t, s, nargs ? a0.u.i : READ_CHUNK);
  case M_READLINE: if (nargs) break; return s_readline(t, s);
  case M_READALL: if (nargs) break; return s_readall(t, s);
  case M_WRITE: if (nargs != 1) break; return s_write(t, s, a0);
  case M_CLOSE: if (nargs) break; return s_close(t, s);
  case M_NAME: if (nargs) break; t->ret = str_new(s->name, strlen(s->name)); return ST_OK;
  case M_SET_DEADLINE: case M_SET_READ_DEADLINE: case M_SET_WRITE_DEADLINE: {
    if (nargs != 1) break;
    bool ok;
    int64_t dl = ms_to_deadline(a0, &ok);
    if (!ok) return raise(t, "wrong type: a deadline is in milliseconds from now");
    int which = mid == M_SET_DEADLINE ? DL_BOTH : mid == M_SET_READ_DEADLINE ? DL_READ : DL_WRITE;
    if ((r = s->ops->deadline(s->handle, which, dl)) < 0) return raise_corio(t, r, NULL);
    return ST_OK;
  }
  case M_SEEK: {
    if (!s->ops->seek || nargs < 1 || nargs > 2) break;
    value_t w = nargs > 1 ? *arg(t, nargs, 1) : V_INT(0);
    if (a0.t != T_INT || w.t != T_INT) return raise(t, "wrong type: seek(offset, whence)");
    int64_t off = s->ops->seek(s->handle, a0.u.i, (int)w.u.i);
    if (off < 0) return raise_corio(t, (int)off, NULL);
    s->rpos = s->rlen = 0;
    t->ret = V_INT(off);
    return ST_OK;
  }
  case M_CLOSE_WRITE:
    if (!s->ops->close_write || nargs) break;
    if ((r = s->ops->close_write(s->handle)) < 0) return raise_corio(t, r, NULL);
    return ST_OK;
  case M_LOCAL_ADDR: case M_REMOTE_ADDR: {
    if (!s->ops->addr || nargs) break;
    char buf[256];
    if ((r = s->ops->addr(s->handle, mid == M_REMOTE_ADDR, buf, sizeof buf)) < 0) return raise_corio(t, r, NULL);
    t->ret = str_new(buf, strlen(buf));
    return ST_OK;
  }
  }
  *handled = false;
  return ST_OK;
}

/* ---- built-ins ---- */
static int open_flags(const char *m, int *flags) {
  if (!strcmp(m, "r")) *flags = CORIO_O_RDONLY;
  else if (!strcmp(m, "w")) *flags = CORIO_O_WRONLY | CORIO_O_CREATE | CORIO_O_TRUNC;
  else if (!strcmp(m, "a")) *flags = CORIO_O_WRONLY | CORIO_O_CREATE | CORIO_O_APPEND;
  else if (!strcmp(m, "r+")) *flags = CORIO_O_RDWR;
  else if (!strcmp(m, "w+")) *flags = CORIO_O_RDWR | CORIO_O_CREATE | CORIO_O_TRUNC;
  else return -1;
  return 0;
}

static int b_open(task_t *t, int nargs) {
  value_t p = *arg(t, nargs, 0), m = nargs > 1 ? *arg(t, nargs, 1) : V_NIL;
  if (p.t != T_STR || (m.t != T_NIL && m.t != T_STR)) return raise(t, "wrong type: open(path, mode)");
  if (g_fuzzing) return raise(t, "open is disabled while fuzzing");
  int flags;
  if (open_flags(m.t == T_STR ? AS_STR(m)->data : "r", &flags) < 0)
    return raise(t, "open: unknown mode '%s' (r, w, a, r+, w+)", AS_STR(m)->data);
  corio_file_t *f;
  vm_unlock(t, "open");
  int r = corio_file_open(AS_STR(p)->data, flags, 0666, &f);
  vm_relock(t);
  if (r < 0) {
    char what[300];
    snprintf(what, sizeof what, "open %s", AS_STR(p)->data);
    return raise_corio(t, r, what);
  }
  t->ret = stream_new(&file_ops, f, AS_STR(p)->data);
  return ST_OK;
}

static int b_create(task_t *t, int nargs) {
  value_t p = *arg(t, nargs, 0);
  if (p.t != T_STR) return raise(t, "wrong type: create(path)");
  if (g_fuzzing) return raise(t, "create is disabled while fuzzing");
  corio_file_t *f;
  int r = corio_file_create(AS_STR(p)->data, &f);
  if (r < 0) {
    char what[300];
    snprintf(what, sizeof what, "create %s", AS_STR(p)->data);
    return raise_corio(t, r, what);
  }
  t->ret = stream_new(&file_ops, f, AS_STR(p)->data);
  return ST_OK;
}

static int b_pipe(task_t *t, int nargs) {
  (void)nargs;
  corio_file_t *r, *w;
  if (g_fuzzing) return raise(t, "pipe is disabled while fuzzing");
  int e = corio_file_pipe(&r, &w);
  if (e < 0) return raise_corio(t, e, "pipe");
  value_t l = list_new(2);
  push(t, l);
  list_push(AS_LIST(l), stream_new(&file_ops, r, "pipe"));
  list_push(AS_LIST(l), stream_new(&file_ops, w, "pipe"));
  t->sp--;
  t->ret = l;
  return ST_OK;
}

static int b_remove(task_t *t, int nargs) {
  value_t p = *arg(t, nargs, 0);
  if (p.t != T_STR) return raise(t, "wrong type: remove(path)");
  if (g_fuzzing) return raise(t, "remove is disabled while fuzzing");
  if (remove(AS_STR(p)->data) != 0) return raise(t, "remove %s: failed", AS_STR(p)->data);
  return ST_OK;
}

static const builtin_t io_builtins[] = {
  {"remove", b_remove, 1, 1},
  {"open", b_open, 1, 2},
  {"create", b_create, 1, 1},
  {"pipe", b_pipe, 0, 0},
};

void io_init(void) {
  builtins_register(io_builtins, (int)(sizeof io_builtins / sizeof io_builtins[0]));
  static const char *names[3] = {"stdin", "stdout", "stderr"};
  for (int i = 0; i < 3 && !g_fuzzing; i++) {
    corio_file_t *f = NULL;
    corio_handle_t h = std_handle(i);
    if (h == CORIO_INVALID_HANDLE || corio_file_new(h, names[i], &f) < 0) continue;
    value_t v = stream_new(&file_ops, f, names[i]);
    stream_t *s = (stream_t *)v.u.o;
    s->console = i > 0;
    s->line_buf = i > 0 && std_is_tty(i);
    v.u.o->perm = 0;
    g_vm.std[i] = v;
    g_globals[global_index(names[i], strlen(names[i]))].v = v;
  }
}
