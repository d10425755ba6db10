/* The global table, the core built-in functions (print, len, str, ...) and
 * method dispatch. A built-in finds its arguments on the task's stack
 * (arg(t, nargs, i)), stores its result in t->ret and returns ST_OK, or
 * raises. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

global_t *g_globals;
int g_nglobals;
static int capglobals;

static builtin_t *table;
static int ntable, captable;
const builtin_t *g_builtins;
int g_nbuiltins;

int global_index(const char *name, size_t len) {
  for (int i = 0; i < g_nglobals; i++)
    if (strlen(g_globals[i].name) == len && !memcmp(g_globals[i].name, name, len)) return i;
  if (g_nglobals == capglobals) {
    capglobals = capglobals ? capglobals * 2 : 64;
    g_globals = realloc(g_globals, (size_t)capglobals * sizeof *g_globals);
    if (!g_globals) { fputs("corio-lang: out of memory\n", stderr); exit(70); }
  }
  char *n = malloc(len + 1);
  if (!n) { fputs("corio-lang: out of memory\n", stderr); exit(70); }
  memcpy(n, name, len);
  n[len] = 0;
  global_t *g = &g_globals[g_nglobals];
  memset(g, 0, sizeof *g);
  g->name = n;
  g->v.t = T_UNDEF;
  return g_nglobals++;
}

void globals_free(void);
void globals_free(void) {
  for (int i = 0; i < g_nglobals; i++) free((char *)g_globals[i].name);
  free(g_globals);
  g_globals = NULL;
  g_nglobals = capglobals = 0;
  free(table);
  table = NULL;
  g_builtins = NULL;
  ntable = captable = g_nbuiltins = 0;
}

void builtins_register(const builtin_t *tab, int n) {
  for (int i = 0; i < n; i++) {
    if (ntable == captable) {
      captable = captable ? captable * 2 : 64;
      table = realloc(table, (size_t)captable * sizeof *table);
      if (!table) { fputs("corio-lang: out of memory\n", stderr); exit(70); }
    }
    table[ntable] = tab[i];
    int g = global_index(tab[i].name, strlen(tab[i].name));
    g_globals[g].v = (value_t){.t = T_BUILTIN, .u.bi = ntable};
    ntable++;
  }
  g_builtins = table;
  g_nbuiltins = ntable;
}

/* ---- core functions ---- */
static int b_print(task_t *t, int nargs) {
  sbuf_t b = {0};
  for (int i = 0; i < nargs; i++) {
    if (i) sb_put(&b, " ", 1);
    value_format(&b, *arg(t, nargs, i), false, 0);
  }
  sb_put(&b, "\n", 1);
  int st = stdout_append(t, b.p, b.len);
  free(b.p);
  return st;
}

static int b_len(task_t *t, int nargs) {
  value_t v = *arg(t, nargs, 0);
  switch (v.t) {
  case T_STR: t->ret = V_INT((int64_t)AS_STR(v)->len); return ST_OK;
  case T_LIST: t->ret = V_INT((int64_t)AS_LIST(v)->len); return ST_OK;
  case T_MAP: t->ret = V_INT((int64_t)AS_MAP(v)->count); return ST_OK;
  case T_CHAN: {
    push(t, v);
    int st = call_method(t, M_LEN, V_NIL, 0);
    if (!st) t->ret = pop(t);
    return st;
  }
  default: return raise(t, "wrong type: len of a %s", type_name(v));
  }
}

static int b_str(task_t *t, int nargs) {
  t->ret = value_tostr(*arg(t, nargs, 0));
  return ST_OK;
}

static int b_repr(task_t *t, int nargs) {
  sbuf_t b = {0};
  value_format(&b, *arg(t, nargs, 0), true, 0);
  t->ret = str_new(b.p ? b.p : "", b.len);
  free(b.p);
  return ST_OK;
}

static int b_int(task_t *t, int nargs) {
  value_t v = *arg(t, nargs, 0);
  if (v.t == T_INT) { t->ret = v; return ST_OK; }
  if (v.t == T_FLOAT) {
    if (!(v.u.f > -9.2e18 && v.u.f < 9.2e18)) return raise(t, "int: %g out of range", v.u.f);
    t->ret = V_INT((int64_t)v.u.f);
    return ST_OK;
  }
  if (v.t == T_BOOL) { t->ret = V_INT(v.u.b); return ST_OK; }
  if (v.t == T_STR) {
    char *end;
    const char *s = AS_STR(v)->data;
    long long x = strtoll(s, &end, 10);
    while (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t') end++;
    if (end == s || *end || (size_t)(end - s) != AS_STR(v)->len) return raise(t, "int: not a number: \"%s\"", s);
    t->ret = V_INT(x);
    return ST_OK;
  }
  return raise(t, "wrong type: int of a %s", type_name(v));
}

static int b_float(task_t *t, int nargs) {
  value_t v = *arg(t, nargs, 0);
  if (v.t == T_FLOAT) { t->ret = v; return ST_OK; }
  if (v.t == T_INT) { t->ret = V_FLOAT((double)v.u.i); return ST_OK; }
  if (v.t == T_STR) {
    char *end;
    double d = strtod(AS_STR(v)->data, &end);
    if (end == AS_STR(v)->data || *end) return raise(t, "float: not a number: \"%s\"", AS_STR(v)->data);
    t->ret = V_FLOAT(d);
    return ST_OK;
  }
  return raise(t, "wrong type: float of a %s", type_name(v));
}

static int b_type(task_t *t, int nargs) {
  const char *n = type_name(*arg(t, nargs, 0));
  t->ret = str_new(n, strlen(n));
  return ST_OK;
}

static int b_range(task_t *t, int nargs) {
  int64_t a[3] = {0, 0, 1};
  for (int i = 0; i < nargs; i++) {
    value_t v = *arg(t, nargs, i);
    if (v.t != T_INT) return raise(t, "wrong type: range needs ints");
    a[i] = v.u.i;
  }
  range_t *r = gc_alloc(T_RANGE, sizeof *r);
  if (nargs == 1) { r->start = 0; r->stop = a[0]; r->step = 1; }
  else { r->start = a[0]; r->stop = a[1]; r->step = nargs == 3 ? a[2] : 1; }
  if (r->step == 0) return raise(t, "range step cannot be 0");
  t->ret = V_OBJ(T_RANGE, r);
  return ST_OK;
}

static int b_exit(task_t *t, int nargs) {
  value_t c = nargs ? *arg(t, nargs, 0) : V_INT(0);
  if (c.t != T_INT) return raise(t, "wrong type: exit needs an int");
  g_vm.exit_code = (int)(c.u.i & 255);
  return ST_EXIT;
}

static int b_assert(task_t *t, int nargs) {
  if (truthy(*arg(t, nargs, 0))) return ST_OK;
  if (nargs > 1) {
    value_t m = value_tostr(*arg(t, nargs, 1));
    return raise(t, "assertion failed: %s", AS_STR(m)->data);
  }
  return raise(t, "assertion failed");
}

static int b_gc(task_t *t, int nargs) {
  (void)nargs;
  gc_collect();
  t->ret = V_INT((int64_t)gc_live_bytes());
  return ST_OK;
}

static int b_chr(task_t *t, int nargs) {
  value_t v = *arg(t, nargs, 0);
  if (v.t != T_INT || v.u.i < 0 || v.u.i > 255) return raise(t, "chr needs an int in 0..255");
  char c = (char)v.u.i;
  t->ret = str_new(&c, 1);
  return ST_OK;
}

static int b_ord(task_t *t, int nargs) {
  value_t v = *arg(t, nargs, 0);
  if (v.t != T_STR || AS_STR(v)->len == 0) return raise(t, "ord needs a non-empty string");
  t->ret = V_INT((uint8_t)AS_STR(v)->data[0]);
  return ST_OK;
}

static int b_abs(task_t *t, int nargs) {
  value_t v = *arg(t, nargs, 0);
  if (v.t == T_INT) t->ret = V_INT(v.u.i < 0 ? (int64_t)(0 - (uint64_t)v.u.i) : v.u.i);
  else if (v.t == T_FLOAT) t->ret = V_FLOAT(fabs(v.u.f));
  else return raise(t, "wrong type: abs of a %s", type_name(v));
  return ST_OK;
}

static int b_strjoin(task_t *t, int nargs) {
  value_t l = *arg(t, nargs, 0), sep = nargs > 1 ? *arg(t, nargs, 1) : V_NIL;
  if (l.t != T_LIST || (sep.t != T_NIL && sep.t != T_STR)) return raise(t, "wrong type: strjoin(list, sep)");
  sbuf_t b = {0};
  for (size_t i = 0; i < AS_LIST(l)->len; i++) {
    if (i && sep.t == T_STR) sb_put(&b, AS_STR(sep)->data, AS_STR(sep)->len);
    value_format(&b, AS_LIST(l)->items[i], false, 0);
  }
  t->ret = str_new(b.p ? b.p : "", b.len);
  free(b.p);
  return ST_OK;
}

/* Sort a list of numbers or of strings in place (a merge sort: stable, and
 * the comparison cannot fail half-way, every element's type is checked first). */
static int cmp_values(const value_t *a, const value_t *b) {
  if (a->t == T_STR) {
    str_t *x = AS_STR(*a), *y = AS_STR(*b);
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->data, y->data, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
  }
  if (a->t == T_INT && b->t == T_INT) return (a->u.i > b->u.i) - (a->u.i < b->u.i);
  double x = a->t == T_INT ? (double)a->u.i : a->u.f, y = b->t == T_INT ? (double)b->u.i : b->u.f;
  return (x > y) - (x < y);
}

static void msort(value_t *v, value_t *tmp, size_t n) {
  if (n < 2) return;
  size_t h = n / 2;
  msort(v, tmp, h);
  msort(v + h, tmp, n - h);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n) tmp[k++] = cmp_values(&v[j], &v[i]) < 0 ? v[j++] : v[i++];
  while (i < h) tmp[k++] = v[i++];
  while (j < n) tmp[k++] = v[j++];
  memcpy(v, tmp, n * sizeof *v);
}

static int b_sort(task_t *t, int nargs) {
  value_t l = *arg(t, nargs, 0);
  if (l.t != T_LIST) return raise(t, "wrong type: sort needs a list");
  list_t *ls = AS_LIST(l);
  bool strs = ls->len && ls->items[0].t == T_STR;
  for (size_t i = 0; i < ls->len; i++) {
    uint8_t ty = ls->items[i].t;
    if (strs ? ty != T_STR : (ty != T_INT && ty != T_FLOAT))
      return raise(t, "sort: the list must hold only numbers or only strings");
  }
  if (ls->len > 1) {
    value_t *tmp = malloc(ls->len * sizeof *tmp);
    if (!tmp) return raise_corio(t, CORIO_ENOMEM, "sort");
    msort(ls->items, tmp, ls->len);
    free(tmp);
  }
  t->ret = l;
  return ST_OK;
}

static int b_nanotime(task_t *t, int nargs) {
  (void)nargs;
  t->ret = V_INT(corio_nanotime());
  return ST_OK;
}

static const builtin_t core[] = {
  {"sort", b_sort, 1, 1}, {"nanotime", b_nanotime, 0, 0},
  {"print", b_print, 0, -1}, {"len", b_len, 1, 1}, {"str", b_str, 1, 1}, {"repr", b_repr, 1, 1},
  {"int", b_int, 1, 1}, {"float", b_float, 1, 1}, {"type", b_type, 1, 1}, {"range", b_range, 1, 3},
  {"exit", b_exit, 0, 1}, {"assert", b_assert, 1, 2}, {"gc", b_gc, 0, 0}, {"chr", b_chr, 1, 1},
  {"ord", b_ord, 1, 1}, {"abs", b_abs, 1, 1}, {"strjoin", b_strjoin, 1, 2},
};

void builtins_init(void) {
  builtins_register(core, (int)(sizeof core / sizeof core[0]));
  g_globals[global_index("args", 4)].v = V_NIL; /* the script's arguments, set before it runs */
  task_init();
  chan_init();
  io_init();
  net_init();
}

/* ---- methods ---- */
static const char *mnames[M_NMETHODS] = {
  "send", "recv", "recv_ok", "close", "len", "cap", "read", "readline", "readall", "write",
  "seek", "set_deadline", "set_read_deadline", "set_write_deadline", "name", "close_write",
  "local_addr", "remote_addr", "accept", "addr", "join", "id", "add", "done", "wait",
  "lock", "unlock", "push", "pop", "split", "keys", "has", "del", "contains", "trim",
  "upper", "lower", "find", "starts_with", "sub",
};

int method_id(const char *name, size_t len) {
  for (int i = 0; i < M_NMETHODS; i++)
    if (strlen(mnames[i]) == len && !memcmp(mnames[i], name, len)) return i;
  return -1;
}

static int list_method(task_t *t, int mid, int nargs, bool *handled) {
  list_t *l = AS_LIST(*peek(t, nargs));
  *handled = true;
  if (mid == M_PUSH && nargs == 1) { list_push(l, *arg(t, nargs, 0)); return ST_OK; }
  if (mid == M_POP && nargs == 0) {
    if (!l->len) return raise(t, "pop from an empty list");
    t->ret = l->items[--l->len];
    return ST_OK;
  }
  if (mid == M_LEN && nargs == 0) { t->ret = V_INT((int64_t)l->len); return ST_OK; }
  if (mid == M_CONTAINS && nargs == 1) {
    t->ret = V_BOOL(false);
    for (size_t i = 0; i < l->len; i++)
      if (values_equal(l->items[i], *arg(t, nargs, 0))) t->ret = V_BOOL(true);
    return ST_OK;
  }
  *handled = false;
  return ST_OK;
}

static int map_method(task_t *t, int mid, int nargs, bool *handled) {
  map_t *m = AS_MAP(*peek(t, nargs));
  *handled = true;
  value_t dummy;
  if (mid == M_KEYS && nargs == 0) {
    value_t l = list_new(m->count);
    for (size_t i = 0; i < m->cap; i++)
      if (m->keys[i].t != T_UNDEF && !(m->keys[i].t == T_NIL && m->vals[i].t == T_UNDEF))
        list_push(AS_LIST(l), m->keys[i]);
    t->ret = l;
    return ST_OK;
  }
  if (mid == M_HAS && nargs == 1) { t->ret = V_BOOL(map_get(m, *arg(t, nargs, 0), &dummy)); return ST_OK; }
  if (mid == M_DEL && nargs == 1) { t->ret = V_BOOL(map_del(m, *arg(t, nargs, 0))); return ST_OK; }
  if (mid == M_LEN && nargs == 0) { t->ret = V_INT((int64_t)m->count); return ST_OK; }
  *handled = false;
  return ST_OK;
}

static int str_method(task_t *t, int mid, int nargs, bool *handled) {
  str_t *s = AS_STR(*peek(t, nargs));
  value_t a0 = nargs ? *arg(t, nargs, 0) : V_NIL;
  *handled = true;
  switch (mid) {
  case M_LEN: if (nargs) break; t->ret = V_INT((int64_t)s->len); return ST_OK;
  case M_SPLIT: {
    if (nargs > 1 || (nargs && (a0.t != T_STR || !AS_STR(a0)->len))) break;
    value_t l = list_new(0);
    push(t, l);
    const char *p = s->data, *end = s->data + s->len;
    if (!nargs) { /* on runs of white space */
      while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
        const char *b = p;
        while (p < end && !(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
        if (p > b) list_push(AS_LIST(l), str_new(b, (size_t)(p - b)));
      }
    } else {
      str_t *sep = AS_STR(a0);
      for (;;) {
        const char *q = p;
        while (q + sep->len <= end && memcmp(q, sep->data, sep->len)) q++;
        if (q + sep->len > end) { list_push(AS_LIST(l), str_new(p, (size_t)(end - p))); break; }
        list_push(AS_LIST(l), str_new(p, (size_t)(q - p)));
        p = q + sep->len;
      }
    }
    t->sp--;
    t->ret = l;
    return ST_OK;
  }
  case M_TRIM: {
    if (nargs) break;
    size_t b = 0, e = s->len;
    while (b < e && (s->data[b] == ' ' || s->data[b] == '\t' || s->data[b] == '\n' || s->data[b] == '\r')) b++;
    while (e > b && (s->data[e - 1] == ' ' || s->data[e - 1] == '\t' || s->data[e - 1] == '\n' || s->data[e - 1] == '\r')) e--;
    t->ret = str_new(s->data + b, e - b);
    return ST_OK;
  }
  case M_UPPER: case M_LOWER: {
    if (nargs) break;
    value_t r = str_new(s->data, s->len);
    for (size_t i = 0; i < s->len; i++) {
      char c = AS_STR(r)->data[i];
      if (mid == M_UPPER && c >= 'a' && c <= 'z') AS_STR(r)->data[i] = (char)(c - 32);
      if (mid == M_LOWER && c >= 'A' && c <= 'Z') AS_STR(r)->data[i] = (char)(c + 32);
    }
    t->ret = r;
    return ST_OK;
  }
  case M_FIND: case M_CONTAINS: case M_STARTS_WITH: {
    if (nargs != 1 || a0.t != T_STR) break;
    str_t *n = AS_STR(a0);
    int64_t at = -1;
    for (size_t i = 0; i + n->len <= s->len; i++)
      if (!memcmp(s->data + i, n->data, n->len)) { at = (int64_t)i; break; }
    if (mid == M_FIND) t->ret = V_INT(at);
    else if (mid == M_CONTAINS) t->ret = V_BOOL(at >= 0);
    else t->ret = V_BOOL(n->len <= s->len && !memcmp(s->data, n->data, n->len));
    return ST_OK;
  }
  case M_SUB: {
    if (nargs < 1 || nargs > 2) break;
    value_t a1 = nargs > 1 ? *arg(t, nargs, 1) : V_INT((int64_t)s->len);
    if (a0.t != T_INT || a1.t != T_INT) break;
    int64_t b = a0.u.i, e = a1.u.i, n = (int64_t)s->len;
    if (b < 0) b += n;
    if (e < 0) e += n;
    if (b < 0) b = 0;
    if (e > n) e = n;
    t->ret = e > b ? str_new(s->data + b, (size_t)(e - b)) : str_new("", 0);
    return ST_OK;
  }
  }
  *handled = false;
  return ST_OK;
}

int call_method(task_t *t, int mid, value_t name, int nargs) {
  value_t r = *peek(t, nargs);
  bool handled = false;
  int st = ST_OK;
  t->ret = V_NIL;
  if (mid >= 0) {
    switch (r.t) {
    case T_CHAN: st = chan_method(t, mid, nargs, &handled); break;
    case T_STREAM: st = stream_method(t, mid, nargs, &handled); break;
    case T_LISTENER: st = listener_method(t, mid, nargs, &handled); break;
    case T_TASK: case T_WG: case T_MUTEX: st = task_method(t, mid, nargs, &handled); break;
    case T_LIST: st = list_method(t, mid, nargs, &handled); break;
    case T_MAP: st = map_method(t, mid, nargs, &handled); break;
    case T_STR: st = str_method(t, mid, nargs, &handled); break;
    default: break;
    }
  }
  if (!handled) {
    const char *nm = name.t == T_STR ? AS_STR(name)->data : (mid >= 0 ? mnames[mid] : "?");
    return raise(t, "wrong type: a %s has no method '%s' taking %d argument%s", type_name(r), nm, nargs,
                 nargs == 1 ? "" : "s");
  }
  if (st != ST_OK) return st;
  t->sp -= (size_t)nargs + 1;
  push(t, t->ret);
  t->ret = V_NIL;
  return ST_OK;
}
