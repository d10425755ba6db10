/* Sockets: listen, accept, dial over corio's net API. A connection is a
 * stream (io.c's methods: read, readline, readall, write, close, deadlines)
 * with close_write and its addresses; a listener has accept, addr,
 * set_deadline and close. Each blocking call releases the VM lock. */
#include <stdlib.h>
#include <string.h>

#include "stream.h"

typedef struct listener_obj {
  obj_t h;
  corio_listener_t *l;
  bool closed;
} listener_obj_t;

static ptrdiff_t c_read(void *h, void *b, size_t n) { return corio_conn_read(h, b, n); }
static ptrdiff_t c_write(void *h, const void *b, size_t n) { return corio_conn_write(h, b, n); }
static int c_close(void *h) { return corio_conn_close(h); }
static int c_close_write(void *h) { return corio_conn_close_write(h); }
static void c_free(void *h) { corio_conn_free(h); }
static int c_deadline(void *h, int which, int64_t dl) {
  if (which == DL_READ) return corio_conn_set_read_deadline(h, dl);
  if (which == DL_WRITE) return corio_conn_set_write_deadline(h, dl);
  return corio_conn_set_deadline(h, dl);
}
static int c_addr(void *h, bool remote, char *buf, size_t len) {
  return remote ? corio_conn_remote_addr(h, buf, len) : corio_conn_local_addr(h, buf, len);
}

static const stream_ops_t conn_ops = {c_read, c_write, c_close, c_close_write, c_free, c_deadline, c_addr, NULL};

void listener_finalize(obj_t *o) {
  listener_obj_t *l = (listener_obj_t *)o;
  if (!l->closed) corio_listener_close(l->l);
  corio_listener_free(l->l);
}

static value_t conn_value(corio_conn_t *c) {
  char name[CORIO_NET_ADDRSTRLEN];
  if (corio_conn_remote_addr(c, name, sizeof name) < 0) name[0] = 0;
  return stream_new(&conn_ops, c, name);
}

static bool net_args(task_t *t, int nargs, const char *what, const char **net, const char **addr) {
  value_t n = *arg(t, nargs, 0), a = *arg(t, nargs, 1);
  if (n.t != T_STR || a.t != T_STR) {
    raise(t, "wrong type: %s(network, address)", what);
    return false;
  }
  if (g_fuzzing) {
    raise(t, "%s is disabled while fuzzing", what);
    return false;
  }
  *net = AS_STR(n)->data;
  *addr = AS_STR(a)->data;
  return true;
}

static int b_listen(task_t *t, int nargs) {
  const char *net, *addr;
  if (!net_args(t, nargs, "listen", &net, &addr)) return ST_ERR;
  corio_listener_t *l;
  vm_unlock(t, "listen"); /* a name is resolved first */
  int r = corio_net_listen(net, addr, &l);
  vm_relock(t);
  if (r < 0) {
    char what[300];
    snprintf(what, sizeof what, "listen %s %s", net, addr);
    return raise_corio(t, r, what);
  }
  listener_obj_t *o = gc_alloc(T_LISTENER, sizeof *o);
  o->l = l;
  t->ret = V_OBJ(T_LISTENER, o);
  return ST_OK;
}

static int b_dial(task_t *t, int nargs) {
  const char *net, *addr;
  if (!net_args(t, nargs, "dial", &net, &addr)) return ST_ERR;
  int64_t dl = 0;
  if (nargs > 2) {
    bool ok;
    dl = ms_to_deadline(*arg(t, nargs, 2), &ok);
    if (!ok) return raise(t, "wrong type: dial's timeout is in milliseconds");
  }
  corio_conn_t *c;
  vm_unlock(t, "dial");
  int r = corio_net_dial(net, addr, dl, &c);
  vm_relock(t);
  if (r < 0) {
    char what[300];
    snprintf(what, sizeof what, "dial %s %s", net, addr);
    return raise_corio(t, r, what);
  }
  t->ret = conn_value(c);
  return ST_OK;
}

int listener_method(task_t *t, int mid, int nargs, bool *handled) {
  listener_obj_t *l = (listener_obj_t *)peek(t, nargs)->u.o;
  *handled = true;
  int r;
  switch (mid) {
  case M_ACCEPT: {
    if (nargs) break;
    corio_conn_t *c;
    vm_unlock(t, "accept");
    r = corio_listener_accept(l->l, &c);
    vm_relock(t);
    if (r < 0) return raise_corio(t, r, NULL);
    t->ret = conn_value(c);
    return ST_OK;
  }
  case M_ADDR: {
    if (nargs) break;
    char buf[CORIO_NET_ADDRSTRLEN];
    if ((r = corio_listener_addr(l->l, buf, sizeof buf)) < 0) return raise_corio(t, r, NULL);
    t->ret = str_new(buf, strlen(buf));
    return ST_OK;
  }
  case M_SET_DEADLINE: {
    if (nargs != 1) break;
    bool ok;
    int64_t dl = ms_to_deadline(*arg(t, nargs, 0), &ok);
    if (!ok) return raise(t, "wrong type: a deadline is in milliseconds from now");
    if ((r = corio_listener_set_deadline(l->l, dl)) < 0) return raise_corio(t, r, NULL);
    return ST_OK;
  }
  case M_CLOSE:
    if (nargs) break;
    if (l->closed) return raise_corio(t, CORIO_ENETCLOSING, NULL);
    l->closed = true;
    vm_unlock(t, "close");
    r = corio_listener_close(l->l);
    vm_relock(t);
    if (r < 0) return raise_corio(t, r, NULL);
    return ST_OK;
  }
  *handled = false;
  return ST_OK;
}

static const builtin_t net_builtins[] = {
  {"listen", b_listen, 2, 2},
  {"dial", b_dial, 2, 3},
};

void net_init(void) { builtins_register(net_builtins, 2); }
