/* Channels and select, on corio's channels.
 *
 * A language channel is a corio channel of value_t elements. The collector
 * cannot see inside corio's buffer, so every heap value on its way through a
 * channel is also kept in the channel object's in-flight list: added by the
 * sender before it releases the VM lock, removed by the receiver after it
 * has the lock back (and by a sender whose value was not delivered). In
 * between the value is reachable from the list, whichever task holds it.
 */
#include <stdlib.h>
#include <string.h>

#include "lang.h"

typedef struct chan_obj {
  obj_t h;
  corio_chan_t *c;
  value_t *inflight; /* under the VM lock */
  size_t n, cap;
} chan_obj_t;

static void inflight_add(chan_obj_t *ch, value_t v) {
  if (!IS_OBJ(v)) return;
  if (ch->n == ch->cap) {
    size_t nc = ch->cap ? ch->cap * 2 : 8;
    value_t *ni = realloc(ch->inflight, nc * sizeof *ni);
    if (!ni) { fputs("corio-lang: out of memory\n", stderr); exit(70); }
    ch->inflight = ni;
    ch->cap = nc;
  }
  ch->inflight[ch->n++] = v;
}

static void inflight_remove(chan_obj_t *ch, value_t v) {
  if (!IS_OBJ(v)) return;
  for (size_t i = 0; i < ch->n; i++)
    if (ch->inflight[i].u.o == v.u.o) {
      memmove(&ch->inflight[i], &ch->inflight[i + 1], (ch->n - i - 1) * sizeof *ch->inflight);
      ch->n--;
      return;
    }
}

void chan_mark(obj_t *o, void (*mark)(value_t)) {
  chan_obj_t *ch = (chan_obj_t *)o;
  for (size_t i = 0; i < ch->n; i++) mark(ch->inflight[i]);
}

void chan_finalize(obj_t *o) {
  chan_obj_t *ch = (chan_obj_t *)o;
  corio_chan_destroy(ch->c); /* unreachable: no task is blocked on it */
  free(ch->inflight);
}

static int b_chan(task_t *t, int nargs) {
  value_t c = nargs ? *arg(t, nargs, 0) : V_INT(0);
  if (c.t != T_INT || c.u.i < 0) return raise(t, "wrong type: chan needs a capacity >= 0");
  if (c.u.i > (1 << 24)) return raise(t, "channel capacity %lld too large", (long long)c.u.i);
  corio_chan_t *cc = corio_chan_create(sizeof(value_t), (size_t)c.u.i);
  if (!cc) return raise_corio(t, CORIO_ENOMEM, "chan");
  chan_obj_t *ch = gc_alloc(T_CHAN, sizeof *ch);
  ch->c = cc;
  gc_account((long)((size_t)c.u.i * sizeof(value_t)));
  t->ret = V_OBJ(T_CHAN, ch);
  return ST_OK;
}

static int chan_send(task_t *t, chan_obj_t *ch, value_t v) {
  inflight_add(ch, v);
  int r = corio_chan_try_send(ch->c, &v);
  if (r == CORIO_EWOULDBLOCK) {
    vm_unlock(t, "chan send");
    r = corio_chan_send(ch->c, &v);
    vm_relock(t);
  }
  if (r < 0) {
    inflight_remove(ch, v);
    return raise_corio(t, r, NULL);
  }
  return ST_OK;
}

static int chan_recv(task_t *t, chan_obj_t *ch, value_t *v, bool *ok) {
  int r = corio_chan_try_recv(ch->c, v, ok);
  if (r == CORIO_EWOULDBLOCK) {
    vm_unlock(t, "chan receive");
    r = corio_chan_recv(ch->c, v, ok);
    vm_relock(t);
  }
  if (r < 0) return raise_corio(t, r, NULL);
  if (*ok) inflight_remove(ch, *v);
  else *v = V_NIL;
  return ST_OK;
}

int chan_method(task_t *t, int mid, int nargs, bool *handled) {
  chan_obj_t *ch = (chan_obj_t *)peek(t, nargs)->u.o;
  *handled = true;
  value_t v;
  bool ok;
  int st;
  switch (mid) {
  case M_SEND:
    if (nargs != 1) break;
    return chan_send(t, ch, *arg(t, nargs, 0));
  case M_RECV:
    if (nargs) break;
    if ((st = chan_recv(t, ch, &v, &ok))) return st;
    t->ret = v;
    return ST_OK;
  case M_RECV_OK: {
    if (nargs) break;
    if ((st = chan_recv(t, ch, &v, &ok))) return st;
    push(t, v);
    value_t l = list_new(2);
    list_push(AS_LIST(l), v);
    list_push(AS_LIST(l), V_BOOL(ok));
    t->sp--;
    t->ret = l;
    return ST_OK;
  }
  case M_CLOSE:
    if (nargs) break;
    if (corio_chan_close(ch->c) == CORIO_ECHANCLOSED) return raise(t, "close of closed channel");
    return ST_OK;
  case M_LEN: if (nargs) break; t->ret = V_INT((int64_t)corio_chan_len(ch->c)); return ST_OK;
  case M_CAP: if (nargs) break; t->ret = V_INT((int64_t)corio_chan_cap(ch->c)); return ST_OK;
  }
  *handled = false;
  return ST_OK;
}

/* ---- select ----
 * Every case's channel and value are evaluated first, in order, onto the
 * stack (two slots a case), so they stay rooted while the task is parked. */

int exec_select(task_t *t, node_t *n) {
  int nc = n->u.sel.n, st;
  selcase_t *cs = n->u.sel.cases;
  size_t base = t->sp;
  for (int i = 0; i < nc; i++) {
    if (cs[i].chan) { if ((st = eval_node(t, cs[i].chan))) return st; } else push(t, V_NIL);
    if (cs[i].val) { if ((st = eval_node(t, cs[i].val))) return st; } else push(t, V_NIL);
    value_t ch = t->stack[base + 2 * (size_t)i];
    if ((cs[i].kind == SEL_RECV || cs[i].kind == SEL_SEND) && ch.t != T_CHAN && ch.t != T_NIL)
      return raise(t, "wrong type: select case needs a channel, not a %s", type_name(ch));
  }
  int64_t deadline = 0;
  int timer = -1;
  for (int i = 0; i < nc; i++) {
    if (cs[i].kind == SEL_DEFAULT) { deadline = 1; timer = i; }
    if (cs[i].kind == SEL_AFTER) {
      bool ok;
      deadline = ms_to_deadline(t->stack[base + 2 * (size_t)i + 1], &ok);
      if (!ok) return raise(t, "wrong type: after needs milliseconds");
      if (deadline == 0) deadline = 1; /* after 0: already due */
      timer = i;
    }
  }
  corio_select_case_t small[8];
  value_t vsmall[8];
  int idx_small[8];
  corio_select_case_t *cc = nc <= 8 ? small : malloc((size_t)nc * sizeof *cc);
  value_t *vals = nc <= 8 ? vsmall : malloc((size_t)nc * sizeof *vals);
  int *idx = nc <= 8 ? idx_small : malloc((size_t)nc * sizeof *idx);
  if (!cc || !vals || !idx) { fputs("corio-lang: out of memory\n", stderr); exit(70); }
  int m = 0;
  for (int i = 0; i < nc; i++) {
    if (cs[i].kind != SEL_RECV && cs[i].kind != SEL_SEND) continue;
    value_t ch = t->stack[base + 2 * (size_t)i];
    chan_obj_t *co = ch.t == T_CHAN ? (chan_obj_t *)ch.u.o : NULL;
    vals[m] = cs[i].kind == SEL_SEND ? t->stack[base + 2 * (size_t)i + 1] : V_NIL;
    cc[m].chan = co ? co->c : NULL;
    cc[m].dir = cs[i].kind == SEL_SEND ? CORIO_SELECT_SEND : CORIO_SELECT_RECV;
    cc[m].elem = &vals[m];
    cc[m].ok = false;
    if (co && cs[i].kind == SEL_SEND) inflight_add(co, vals[m]);
    idx[m++] = i;
  }
  int r;
  bool any = false;
  for (int i = 0; i < m; i++) any |= cc[i].chan != NULL;
  if (!any && timer < 0) {
    r = CORIO_EINVAL;
  } else {
    /* poll first, keeping the VM lock; park only if nothing is ready */
    r = corio_select(cc, m, 1);
    bool is_default = timer >= 0 && cs[timer].kind == SEL_DEFAULT;
    if (r == CORIO_ETIMEOUT && !is_default && (deadline == 0 || deadline > corio_nanotime())) {
      vm_unlock(t, "select");
      r = corio_select(cc, m, deadline);
      vm_relock(t);
    }
  }
  int fired = r >= 0 ? idx[r] : -1;
  bool ok = r >= 0 ? cc[r].ok : false;
  value_t got = r >= 0 ? vals[r] : V_NIL;
  for (int i = 0; i < m; i++) {
    value_t ch = t->stack[base + 2 * (size_t)idx[i]];
    if (ch.t != T_CHAN) continue;
    chan_obj_t *co = (chan_obj_t *)ch.u.o;
    if (cc[i].dir == CORIO_SELECT_SEND && !(i == r && ok)) inflight_remove(co, vals[i]);
    if (cc[i].dir == CORIO_SELECT_RECV && i == r && ok) inflight_remove(co, got);
  }
  if (cc != small) free(cc);
  if (vals != vsmall) free(vals);
  if (idx != idx_small) free(idx);
  if (r == CORIO_EINVAL) return raise(t, "select with no channels and no timeout blocks forever");
  if (r == CORIO_ETIMEOUT) {
    t->sp = base;
    return exec_case(t, &cs[timer], V_NIL, false);
  }
  if (r < 0) return raise_corio(t, r, "select");
  if (cs[fired].kind == SEL_SEND && !ok) return raise_corio(t, CORIO_ECHANCLOSED, NULL);
  if (cs[fired].kind == SEL_RECV && !ok) got = V_NIL;
  push(t, got); /* rooted while the bindings are made */
  value_t keep = got;
  st = exec_case(t, &cs[fired], keep, ok);
  if (st) return st;
  t->sp = base;
  return ST_OK;
}

static const builtin_t chan_builtins[] = {
  {"chan", b_chan, 0, 1},
};

void chan_init(void) { builtins_register(chan_builtins, 1); }
