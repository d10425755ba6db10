/* The evaluator: walks the resolved AST on the task's value stack.
 *
 * eval(n) pushes exactly one value and returns ST_OK, or returns ST_ERR with
 * the error in t->err (the stack height is then unspecified: try/catch and
 * call_value restore it). exec(n) runs a statement and returns ST_OK,
 * ST_BREAK, ST_CONTINUE, ST_RETURN (value in t->ret), ST_ERR or ST_EXIT.
 * A function's frame is nslots values starting at frame->base; temporaries
 * are pushed above them. Nothing here holds a heap value in a C local across
 * a safe point (statement starts and function entries, where the collector
 * may run), so the value stacks are the complete roots.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

#define MAX_FRAMES 10000
#define BUDGET 2000 /* statements between offers of the VM lock */

static int eval(task_t *t, node_t *n);
static int exec(task_t *t, node_t *n);

static inline frame_t *cur(task_t *t) { return &t->frames[t->nframes - 1]; }
static inline value_t *slot(task_t *t, int i) { return &t->stack[cur(t)->base + (size_t)i]; }

int current_line(task_t *t) { return t->nframes ? cur(t)->line : t->spawn_line; }

/* ---- errors ---- */
static value_t make_error(task_t *t, const char *msg, size_t len) {
  value_t m = map_new();
  push(t, m); /* allocation never collects, but keep it rooted anyway */
  map_set_str(AS_MAP(m), "message", str_new(msg, len));
  map_set_str(AS_MAP(m), "file", str_new(g_vm.src->name, strlen(g_vm.src->name)));
  map_set_str(AS_MAP(m), "line", V_INT(current_line(t)));
  sbuf_t b = {0};
  int shown = 0;
  for (int i = t->nframes - 1; i >= 0 && shown < 12; i--, shown++)
    sb_printf(&b, "  in %s (%s:%d)\n", t->frames[i].proto->name, g_vm.src->name, t->frames[i].line);
  if (t->nframes > 12) sb_printf(&b, "  ... %d more\n", t->nframes - 12);
  if (t->id != 1) sb_printf(&b, "  in task %llu\n", (unsigned long long)t->id);
  map_set_str(AS_MAP(m), "trace", str_new(b.p ? b.p : "", b.len));
  free(b.p);
  t->sp--;
  return m;
}

int raise(task_t *t, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  t->err = make_error(t, msg, strlen(msg));
  return ST_ERR;
}

int raise_corio(task_t *t, int err, const char *what) {
  const char *m = corio_strerror(err);
  char msg[512];
  if (what) snprintf(msg, sizeof msg, "%s: %s", what, m);
  else snprintf(msg, sizeof msg, "%s", m);
  t->err = make_error(t, msg, strlen(msg));
  const char *name = corio_err_name(err);
  map_set_str(AS_MAP(t->err), "code", str_new(name, strlen(name)));
  return ST_ERR;
}

static int raise_value(task_t *t, value_t v) {
  if (v.t == T_MAP) {
    value_t msg = map_get_str(AS_MAP(v), "message");
    if (msg.t == T_STR && map_get_str(AS_MAP(v), "line").t == T_INT) {
      t->err = v; /* a caught error thrown again keeps its origin */
      return ST_ERR;
    }
  }
  push(t, v);
  value_t s = value_tostr(v);
  push(t, s);
  t->err = make_error(t, AS_STR(s)->data, AS_STR(s)->len);
  map_set_str(AS_MAP(t->err), "value", v);
  t->sp -= 2;
  return ST_ERR;
}

void report_error(value_t err, const char *prefix) {
  if (g_fuzzing) return;
  if (err.t != T_MAP) {
    fprintf(stderr, "%serror\n", prefix);
    return;
  }
  map_t *m = AS_MAP(err);
  value_t msg = map_get_str(m, "message"), file = map_get_str(m, "file");
  value_t line = map_get_str(m, "line"), trace = map_get_str(m, "trace");
  fprintf(stderr, "%s%s:%lld: error: %s\n", prefix, file.t == T_STR ? AS_STR(file)->data : "?",
          line.t == T_INT ? (long long)line.u.i : 0LL, msg.t == T_STR ? AS_STR(msg)->data : "?");
  if (trace.t == T_STR) fputs(AS_STR(trace)->data, stderr);
}

/* ---- stack ---- */
void stack_grow(task_t *t, size_t need) {
  size_t nc = t->cap ? t->cap : 64;
  while (nc < t->sp + need) nc *= 2;
  if (nc == t->cap) return;
  value_t *ns = realloc(t->stack, nc * sizeof *ns);
  if (!ns) { fputs("corio-lang: out of memory\n", stderr); exit(70); }
  gc_account((long)((nc - t->cap) * sizeof *ns));
  t->stack = ns;
  t->cap = nc;
}

static void frame_push(task_t *t, proto_t *p, func_t *fn, size_t base) {
  if (t->nframes == t->capframes) {
    int nc = t->capframes ? t->capframes * 2 : 8;
    frame_t *nf = realloc(t->frames, (size_t)nc * sizeof *nf);
    if (!nf) { fputs("corio-lang: out of memory\n", stderr); exit(70); }
    t->frames = nf;
    t->capframes = nc;
  }
  frame_t *f = &t->frames[t->nframes++];
  f->proto = p;
  f->fn = fn;
  f->base = base;
  f->line = p->line;
}

/* ---- calls ---- */
static int call_func(task_t *t, func_t *fn, int nargs, int line) {
  proto_t *p = fn->proto;
  if (nargs != p->nparams)
    return raise(t, "%s expects %d argument%s, got %d", p->name, p->nparams, p->nparams == 1 ? "" : "s", nargs);
  char here;
  if (t->nframes >= MAX_FRAMES || (t->cstack_top && (size_t)(t->cstack_top - &here) > LANG_CSTACK_USABLE))
    return raise(t, "stack overflow (%d nested calls)", t->nframes);
  size_t base = t->sp - (size_t)nargs;
  stack_grow(t, (size_t)(p->nslots - nargs) + 16);
  for (int i = nargs; i < p->nslots; i++) t->stack[t->sp++] = V_NIL;
  frame_push(t, p, fn, base);
  for (int i = 0; i < p->ncell_params; i++) {
    int s = p->cell_params[i];
    cell_t *c = gc_alloc(T_CELL, sizeof *c);
    c->v = t->stack[base + (size_t)s];
    t->stack[base + (size_t)s] = V_OBJ(T_CELL, c);
  }
  (void)line;
  int st = exec(t, p->body);
  t->nframes--;
  t->sp = base - 1;
  if (st == ST_ERR || st == ST_EXIT) return st;
  push(t, st == ST_RETURN ? t->ret : V_NIL);
  t->ret = V_NIL;
  return ST_OK;
}

int call_value(task_t *t, int nargs, int line) {
  value_t f = *peek(t, nargs);
  if (t->nframes) cur(t)->line = line;
  if (f.t == T_FUNC) return call_func(t, AS_FUNC(f), nargs, line);
  if (f.t == T_BUILTIN) {
    const builtin_t *b = &g_builtins[f.u.bi];
    if (nargs < b->min_args || (b->max_args >= 0 && nargs > b->max_args)) {
      if (b->min_args == b->max_args)
        return raise(t, "%s expects %d argument%s, got %d", b->name, b->min_args, b->min_args == 1 ? "" : "s", nargs);
      return raise(t, "%s: wrong number of arguments (%d)", b->name, nargs);
    }
    t->ret = V_NIL;
    int st = b->fn(t, nargs);
    if (st != ST_OK) return st;
    t->sp -= (size_t)nargs + 1;
    push(t, t->ret);
    t->ret = V_NIL;
    return ST_OK;
  }
  return raise(t, "cannot call a %s", type_name(f));
}

int run_main_chunk(task_t *t, proto_t *main) {
  size_t base = t->sp;
  stack_grow(t, (size_t)main->nslots + 16);
  for (int i = 0; i < main->nslots; i++) t->stack[t->sp++] = V_NIL;
  frame_push(t, main, NULL, base);
  int st = exec(t, main->body);
  t->nframes--;
  return st;
}

/* ---- operators ---- */
static bool num(value_t v, double *d) {
  if (v.t == T_INT) { *d = (double)v.u.i; return true; }
  if (v.t == T_FLOAT) { *d = v.u.f; return true; }
  return false;
}

static const char *op_name(int op) {
  static char b[3];
  switch (op) {
  case OP_EQ: return "==";
  case OP_NE: return "!=";
  case OP_LE: return "<=";
  case OP_GE: return ">=";
  case OP_SHL: return "<<";
  case OP_SHR: return ">>";
  default: b[0] = (char)op; b[1] = 0; return b;
  }
}

static int binop(task_t *t, int op, value_t a, value_t b, value_t *out) {
  if (op == OP_EQ) { *out = V_BOOL(values_equal(a, b)); return ST_OK; }
  if (op == OP_NE) { *out = V_BOOL(!values_equal(a, b)); return ST_OK; }
  if (a.t == T_INT && b.t == T_INT) {
    uint64_t x = (uint64_t)a.u.i, y = (uint64_t)b.u.i;
    switch (op) {
    case '+': *out = V_INT((int64_t)(x + y)); return ST_OK;
    case '-': *out = V_INT((int64_t)(x - y)); return ST_OK;
    case '*': *out = V_INT((int64_t)(x * y)); return ST_OK;
    case '/': case '%':
      if (b.u.i == 0) return raise(t, "division by zero");
      if (b.u.i == -1) { *out = V_INT(op == '/' ? (int64_t)(0 - x) : 0); return ST_OK; }
      *out = V_INT(op == '/' ? a.u.i / b.u.i : a.u.i % b.u.i);
      return ST_OK;
    case '<': *out = V_BOOL(a.u.i < b.u.i); return ST_OK;
    case '>': *out = V_BOOL(a.u.i > b.u.i); return ST_OK;
    case OP_LE: *out = V_BOOL(a.u.i <= b.u.i); return ST_OK;
    case OP_GE: *out = V_BOOL(a.u.i >= b.u.i); return ST_OK;
    case '&': *out = V_INT((int64_t)(x & y)); return ST_OK;
    case '|': *out = V_INT((int64_t)(x | y)); return ST_OK;
    case '^': *out = V_INT((int64_t)(x ^ y)); return ST_OK;
    case OP_SHL: *out = V_INT(y >= 64 ? 0 : (int64_t)(x << y)); return ST_OK;
    case OP_SHR: *out = V_INT(y >= 64 ? (a.u.i < 0 ? -1 : 0) : a.u.i >> y); return ST_OK;
    }
  }
  double x, y;
  if (num(a, &x) && num(b, &y)) {
    switch (op) {
    case '+': *out = V_FLOAT(x + y); return ST_OK;
    case '-': *out = V_FLOAT(x - y); return ST_OK;
    case '*': *out = V_FLOAT(x * y); return ST_OK;
    case '/': *out = V_FLOAT(x / y); return ST_OK;
    case '%': *out = V_FLOAT(fmod(x, y)); return ST_OK;
    case '<': *out = V_BOOL(x < y); return ST_OK;
    case '>': *out = V_BOOL(x > y); return ST_OK;
    case OP_LE: *out = V_BOOL(x <= y); return ST_OK;
    case OP_GE: *out = V_BOOL(x >= y); return ST_OK;
    }
  }
  if (a.t == T_STR && b.t == T_STR) {
    if (op == '+') { *out = str_cat(AS_STR(a), AS_STR(b)); return ST_OK; }
    str_t *s = AS_STR(a), *r = AS_STR(b);
    size_t n = s->len < r->len ? s->len : r->len;
    int c = memcmp(s->data, r->data, n);
    if (!c) c = s->len < r->len ? -1 : s->len > r->len;
    switch (op) {
    case '<': *out = V_BOOL(c < 0); return ST_OK;
    case '>': *out = V_BOOL(c > 0); return ST_OK;
    case OP_LE: *out = V_BOOL(c <= 0); return ST_OK;
    case OP_GE: *out = V_BOOL(c >= 0); return ST_OK;
    }
  }
  if (a.t == T_LIST && b.t == T_LIST && op == '+') {
    list_t *x1 = AS_LIST(a), *y1 = AS_LIST(b);
    value_t l = list_new(x1->len + y1->len);
    for (size_t i = 0; i < x1->len; i++) list_push(AS_LIST(l), x1->items[i]);
    for (size_t i = 0; i < y1->len; i++) list_push(AS_LIST(l), y1->items[i]);
    *out = l;
    return ST_OK;
  }
  return raise(t, "wrong type: cannot apply '%s' to %s and %s", op_name(op), type_name(a), type_name(b));
}

/* ---- indexing ---- */
static bool index_of(value_t k, size_t len, size_t *out) {
  if (k.t != T_INT) return false;
  int64_t i = k.u.i;
  if (i < 0) i += (int64_t)len;
  if (i < 0 || (uint64_t)i >= len) return false;
  *out = (size_t)i;
  return true;
}

static int get_index(task_t *t, value_t o, value_t k, value_t *out) {
  size_t i;
  switch (o.t) {
  case T_LIST:
    if (k.t != T_INT) return raise(t, "wrong type: list index must be an int, not %s", type_name(k));
    if (!index_of(k, AS_LIST(o)->len, &i)) return raise(t, "index %lld out of range (length %zu)", (long long)k.u.i, AS_LIST(o)->len);
    *out = AS_LIST(o)->items[i];
    return ST_OK;
  case T_STR:
    if (k.t != T_INT) return raise(t, "wrong type: string index must be an int, not %s", type_name(k));
    if (!index_of(k, AS_STR(o)->len, &i)) return raise(t, "index %lld out of range (length %zu)", (long long)k.u.i, AS_STR(o)->len);
    *out = str_new(AS_STR(o)->data + i, 1);
    return ST_OK;
  case T_MAP:
    if (!map_get(AS_MAP(o), k, out)) *out = V_NIL;
    return ST_OK;
  default:
    return raise(t, "wrong type: cannot index a %s", type_name(o));
  }
}

static int set_index(task_t *t, value_t o, value_t k, value_t v) {
  size_t i;
  if (o.t == T_LIST) {
    if (k.t != T_INT) return raise(t, "wrong type: list index must be an int, not %s", type_name(k));
    if (!index_of(k, AS_LIST(o)->len, &i)) return raise(t, "index %lld out of range (length %zu)", (long long)k.u.i, AS_LIST(o)->len);
    AS_LIST(o)->items[i] = v;
    return ST_OK;
  }
  if (o.t == T_MAP) {
    if (k.t == T_NIL) return raise(t, "map key cannot be nil");
    map_set(AS_MAP(o), k, v);
    return ST_OK;
  }
  return raise(t, "wrong type: cannot assign into a %s", type_name(o));
}

/* ---- variables ---- */
static int read_var(task_t *t, node_t *n, value_t *out) {
  switch (n->kind) {
  case N_LOCAL: *out = *slot(t, n->u.var.slot); return ST_OK;
  case N_CELLVAR: {
    value_t c = *slot(t, n->u.var.slot);
    *out = c.t == T_CELL ? AS_CELL(c)->v : V_NIL;
    return ST_OK;
  }
  case N_UPVAL: *out = cur(t)->fn->up[n->u.var.slot]->v; return ST_OK;
  default: {
    global_t *g = &g_globals[n->u.var.slot];
    if (g->v.t == T_UNDEF) return raise(t, "unknown name '%s'", g->name);
    *out = g->v;
    return ST_OK;
  }
  }
}

/* Store into a variable; declare: a new binding (a fresh cell for captured ones). */
static void write_var(task_t *t, node_t *n, value_t v, bool declare) {
  switch (n->kind) {
  case N_LOCAL: *slot(t, n->u.var.slot) = v; break;
  case N_CELLVAR: {
    value_t *s = slot(t, n->u.var.slot);
    if (declare || s->t != T_CELL) {
      cell_t *c = gc_alloc(T_CELL, sizeof *c);
      c->v = v;
      *s = V_OBJ(T_CELL, c);
    } else {
      AS_CELL(*s)->v = v;
    }
    break;
  }
  case N_UPVAL: cur(t)->fn->up[n->u.var.slot]->v = v; break;
  default: g_globals[n->u.var.slot].v = v; break;
  }
}

/* Assign the value on top of the stack to target (popping it). */
static int assign_top(task_t *t, node_t *tg, bool declare) {
  if (tg->kind == N_INDEX || tg->kind == N_FIELD) {
    int st = eval(t, tg->kind == N_INDEX ? tg->u.bin.a : tg->u.meth.obj);
    if (st) return st;
    if (tg->kind == N_INDEX) {
      if ((st = eval(t, tg->u.bin.b))) return st;
    } else {
      push(t, tg->u.meth.name);
      if (peek(t, 1)->t != T_MAP) return raise(t, "wrong type: cannot set field '%s' of a %s", AS_STR(tg->u.meth.name)->data, type_name(*peek(t, 1)));
    }
    st = set_index(t, *peek(t, 1), *peek(t, 0), *peek(t, 2));
    if (st) return st;
    t->sp -= 3;
    return ST_OK;
  }
  write_var(t, tg, pop(t), declare);
  return ST_OK;
}

static int assign(task_t *t, node_t *n, bool declare) {
  int st;
  node_t **tg = n->u.let.targets;
  int nt = n->u.let.n;
  if (n->u.let.op != '=') {
    if ((st = eval(t, tg[0]))) return st;
    if ((st = eval(t, n->u.let.e))) return st;
    value_t r;
    if ((st = binop(t, n->u.let.op, *peek(t, 1), *peek(t, 0), &r))) return st;
    t->sp -= 2;
    push(t, r);
    return assign_top(t, tg[0], false);
  }
  if ((st = eval(t, n->u.let.e))) return st;
  if (nt == 1) return assign_top(t, tg[0], declare);
  value_t v = *peek(t, 0);
  if (v.t != T_LIST) return raise(t, "wrong type: cannot unpack a %s into %d names", type_name(v), nt);
  if (AS_LIST(v)->len != (size_t)nt)
    return raise(t, "cannot unpack a list of %zu into %d names", AS_LIST(v)->len, nt);
  for (int i = 0; i < nt; i++) {
    push(t, AS_LIST(*peek(t, 0))->items[i]);
    if ((st = assign_top(t, tg[i], declare))) return st;
  }
  t->sp--;
  return ST_OK;
}

/* ---- expressions ---- */
static int eval_args(task_t *t, node_t **args, int n) {
  for (int i = 0; i < n; i++) {
    int st = eval(t, args[i]);
    if (st) return st;
  }
  return ST_OK;
}

static int make_closure(task_t *t, proto_t *p) {
  func_t *f = gc_alloc(T_FUNC, sizeof *f + (size_t)p->nup * sizeof(cell_t *));
  f->proto = p;
  f->nup = p->nup;
  for (int i = 0; i < p->nup; i++) {
    if (p->ups[i].from_local) {
      value_t *s = slot(t, p->ups[i].index);
      if (s->t != T_CELL) { /* captured before its declaration ran: give it a cell */
        cell_t *c = gc_alloc(T_CELL, sizeof *c);
        c->v = *s;
        *s = V_OBJ(T_CELL, c);
      }
      f->up[i] = AS_CELL(*s);
    } else {
      f->up[i] = cur(t)->fn->up[p->ups[i].index];
    }
  }
  push(t, V_OBJ(T_FUNC, f));
  return ST_OK;
}

static int eval(task_t *t, node_t *n) {
  int st;
  value_t v;
  switch ((nkind_t)n->kind) {
  case N_NIL: push(t, V_NIL); return ST_OK;
  case N_TRUE: push(t, V_BOOL(true)); return ST_OK;
  case N_FALSE: push(t, V_BOOL(false)); return ST_OK;
  case N_INT: push(t, V_INT(n->u.i)); return ST_OK;
  case N_FLOAT: push(t, V_FLOAT(n->u.f)); return ST_OK;
  case N_STR: push(t, n->u.k); return ST_OK;
  case N_LOCAL: push(t, *slot(t, n->u.var.slot)); return ST_OK;
  case N_CELLVAR: case N_UPVAL: case N_GLOBAL:
    if ((st = read_var(t, n, &v))) return st;
    push(t, v);
    return ST_OK;
  case N_LIST: {
    if ((st = eval_args(t, n->u.list.items, n->u.list.n))) return st;
    value_t l = list_new((size_t)n->u.list.n);
    if (n->u.list.n) /* memcpy from or to NULL is undefined, even for 0 bytes */
      memcpy(AS_LIST(l)->items, &t->stack[t->sp - (size_t)n->u.list.n], (size_t)n->u.list.n * sizeof(value_t));
    AS_LIST(l)->len = (size_t)n->u.list.n;
    t->sp -= (size_t)n->u.list.n;
    push(t, l);
    return ST_OK;
  }
  case N_MAP: {
    push(t, map_new());
    for (int i = 0; i < n->u.list.n; i += 2) {
      if ((st = eval(t, n->u.list.items[i]))) return st;
      if ((st = eval(t, n->u.list.items[i + 1]))) return st;
      if (peek(t, 1)->t == T_NIL) return raise(t, "map key cannot be nil");
      map_set(AS_MAP(*peek(t, 2)), *peek(t, 1), *peek(t, 0));
      t->sp -= 2;
    }
    return ST_OK;
  }
  case N_FUNC: return make_closure(t, n->u.proto);
  case N_CALL: case N_SPAWN:
    if ((st = eval(t, n->u.call.fn))) return st;
    if ((st = eval_args(t, n->u.call.args, n->u.call.nargs))) return st;
    cur(t)->line = n->line;
    if (n->kind == N_SPAWN) return task_spawn(t, n->u.call.nargs, n->line);
    return call_value(t, n->u.call.nargs, n->line);
  case N_METHOD: {
    if ((st = eval(t, n->u.meth.obj))) return st;
    int na = n->u.meth.nargs;
    if (peek(t, 0)->t == T_MAP && map_get(AS_MAP(*peek(t, 0)), n->u.meth.name, &v)) {
      *peek(t, 0) = v; /* a function stored in the map: called without a receiver */
      if ((st = eval_args(t, n->u.meth.args, na))) return st;
      return call_value(t, na, n->line);
    }
    if ((st = eval_args(t, n->u.meth.args, na))) return st;
    cur(t)->line = n->line;
    return call_method(t, n->u.meth.mid, n->u.meth.name, na);
  }
  case N_INDEX:
    if ((st = eval(t, n->u.bin.a))) return st;
    if ((st = eval(t, n->u.bin.b))) return st;
    if ((st = get_index(t, *peek(t, 1), *peek(t, 0), &v))) return st;
    t->sp -= 2;
    push(t, v);
    return ST_OK;
  case N_FIELD:
    if ((st = eval(t, n->u.meth.obj))) return st;
    if (peek(t, 0)->t != T_MAP)
      return raise(t, "wrong type: a %s has no field '%s'", type_name(*peek(t, 0)), AS_STR(n->u.meth.name)->data);
    if (!map_get(AS_MAP(*peek(t, 0)), n->u.meth.name, &v)) v = V_NIL;
    *peek(t, 0) = v;
    return ST_OK;
  case N_BINOP:
    if ((st = eval(t, n->u.bin.a))) return st;
    if ((st = eval(t, n->u.bin.b))) return st;
    if ((st = binop(t, n->u.bin.op, *peek(t, 1), *peek(t, 0), &v))) return st;
    t->sp -= 2;
    push(t, v);
    return ST_OK;
  case N_AND: case N_OR:
    if ((st = eval(t, n->u.bin.a))) return st;
    if (truthy(*peek(t, 0)) == (n->kind == N_OR)) return ST_OK;
    t->sp--;
    return eval(t, n->u.bin.b);
  case N_NOT:
    if ((st = eval(t, n->u.bin.a))) return st;
    *peek(t, 0) = V_BOOL(!truthy(*peek(t, 0)));
    return ST_OK;
  case N_NEG:
    if ((st = eval(t, n->u.bin.a))) return st;
    v = *peek(t, 0);
    if (v.t == T_INT) *peek(t, 0) = V_INT((int64_t)(0 - (uint64_t)v.u.i));
    else if (v.t == T_FLOAT) *peek(t, 0) = V_FLOAT(-v.u.f);
    else return raise(t, "wrong type: cannot negate a %s", type_name(v));
    return ST_OK;
  default:
    return raise(t, "internal error: node %d is not an expression", n->kind);
  }
}

/* ---- statements ---- */
static void vm_offer(task_t *t) {
  t->budget = BUDGET;
  if (g_vm.ntasks <= 1) return;
  vm_unlock(t, "running");
  corio_yield();
  vm_relock(t);
}

static int exec_block(task_t *t, node_t *n) {
  for (int i = 0; i < n->u.list.n; i++) {
    int st = exec(t, n->u.list.items[i]);
    if (st) return st;
  }
  return ST_OK;
}

static int loop_body(task_t *t, node_t *body, bool *stop) {
  int st = exec(t, body);
  *stop = false;
  if (st == ST_BREAK) { *stop = true; return ST_OK; }
  if (st == ST_CONTINUE) return ST_OK;
  if (st) *stop = true;
  return st;
}

static int exec_for(task_t *t, node_t *n) {
  int st = eval(t, n->u.forin.e);
  if (st) return st;
  size_t base = t->sp; /* the iterated value sits at base - 1, rooted */
  value_t it = *peek(t, 0);
  node_t *t1 = n->u.forin.t1, *t2 = n->u.forin.t2;
  bool stop = false;
  if (it.t == T_INT || it.t == T_RANGE) {
    int64_t i = 0, end = it.t == T_INT ? it.u.i : 0, step = 1;
    if (it.t == T_RANGE) {
      range_t *r = (range_t *)it.u.o;
      i = r->start; end = r->stop; step = r->step;
    }
    for (; step > 0 ? i < end : i > end; i += step) {
      write_var(t, t1, V_INT(i), true);
      if ((st = loop_body(t, n->u.forin.body, &stop)) || stop) break;
      t->sp = base;
    }
  } else if (it.t == T_LIST || it.t == T_STR) {
    for (size_t i = 0;; i++) {
      value_t l = t->stack[base - 1], e;
      if (l.t == T_LIST) {
        if (i >= AS_LIST(l)->len) break;
        e = AS_LIST(l)->items[i];
      } else {
        if (i >= AS_STR(l)->len) break;
        e = str_new(AS_STR(l)->data + i, 1);
      }
      if (t2) { write_var(t, t1, V_INT((int64_t)i), true); write_var(t, t2, e, true); }
      else write_var(t, t1, e, true);
      if ((st = loop_body(t, n->u.forin.body, &stop)) || stop) break;
      t->sp = base;
    }
  } else if (it.t == T_MAP) {
    map_t *m = AS_MAP(it);
    value_t keys = list_new(m->count);
    for (size_t i = 0; i < m->cap; i++)
      if (m->keys[i].t != T_UNDEF && !(m->keys[i].t == T_NIL && m->vals[i].t == T_UNDEF))
        list_push(AS_LIST(keys), m->keys[i]);
    push(t, keys);
    base = t->sp;
    for (size_t i = 0; i < AS_LIST(t->stack[base - 1])->len; i++) {
      value_t k = AS_LIST(t->stack[base - 1])->items[i], v;
      write_var(t, t1, k, true);
      if (t2) {
        if (!map_get(AS_MAP(t->stack[base - 2]), k, &v)) continue;
        write_var(t, t2, v, true);
      }
      if ((st = loop_body(t, n->u.forin.body, &stop)) || stop) break;
      t->sp = base;
    }
  } else if (it.t == T_CHAN) {
    for (;;) {
      bool ok;
      push(t, t->stack[base - 1]);
      st = call_method(t, M_RECV_OK, V_NIL, 0);
      if (st) break;
      value_t pair = pop(t);
      ok = AS_LIST(pair)->items[1].u.b;
      if (!ok) break;
      write_var(t, t1, AS_LIST(pair)->items[0], true);
      if ((st = loop_body(t, n->u.forin.body, &stop)) || stop) break;
      t->sp = base;
    }
  } else {
    return raise(t, "wrong type: cannot iterate over a %s", type_name(it));
  }
  if (st) return st;
  t->sp = base - 1;
  if (it.t == T_MAP) t->sp--;
  return ST_OK;
}

static int exec(task_t *t, node_t *n) {
  int st;
  cur(t)->line = n->line;
  if (g_vm.gc_pending) gc_safepoint(t);
  if (g_fuzzing && --g_vm.fuel < 0) return raise(t, "out of fuel");
  if (--t->budget <= 0) vm_offer(t);
  switch ((nkind_t)n->kind) {
  case N_BLOCK: return exec_block(t, n);
  case N_EXPR:
    if ((st = eval(t, n->u.ret.e))) return st;
    t->sp--;
    return ST_OK;
  case N_LET: return assign(t, n, true);
  case N_ASSIGN: return assign(t, n, false);
  case N_FNDECL: {
    node_t *tg = n->u.fndecl.target;
    if (tg->kind == N_CELLVAR) write_var(t, tg, V_NIL, true); /* the cell the function captures */
    if ((st = make_closure(t, n->u.fndecl.fn->u.proto))) return st;
    write_var(t, tg, pop(t), false);
    return ST_OK;
  }
  case N_IF:
    if ((st = eval(t, n->u.cond.cond))) return st;
    if (truthy(pop(t))) return exec(t, n->u.cond.then);
    return n->u.cond.els ? exec(t, n->u.cond.els) : ST_OK;
  case N_WHILE:
    for (;;) {
      if ((st = eval(t, n->u.cond.cond))) return st;
      if (!truthy(pop(t))) return ST_OK;
      bool stop;
      st = loop_body(t, n->u.cond.then, &stop);
      if (stop) return st;
    }
  case N_FOR: return exec_for(t, n);
  case N_BREAK: return ST_BREAK;
  case N_CONTINUE: return ST_CONTINUE;
  case N_RETURN:
    if (n->u.ret.e) {
      if ((st = eval(t, n->u.ret.e))) return st;
      t->ret = pop(t);
    } else {
      t->ret = V_NIL;
    }
    return ST_RETURN;
  case N_THROW:
    if ((st = eval(t, n->u.ret.e))) return st;
    return raise_value(t, *peek(t, 0));
  case N_TRY: {
    size_t sp = t->sp;
    int nf = t->nframes;
    st = exec(t, n->u.try_.body);
    if (st != ST_ERR) return st;
    t->sp = sp;
    t->nframes = nf;
    write_var(t, n->u.try_.bind, t->err, true);
    t->err = V_NIL;
    return exec(t, n->u.try_.handler);
  }
  case N_SELECT: return exec_select(t, n);
  default:
    return raise(t, "internal error: node %d is not a statement", n->kind);
  }
}

/* Used by select (chan.c) to bind a received value and run a case body. */
int exec_case(task_t *t, selcase_t *c, value_t v, bool ok) {
  if (c->bind_v) write_var(t, c->bind_v, v, true);
  if (c->bind_ok) write_var(t, c->bind_ok, V_BOOL(ok), true);
  return exec(t, c->body);
}

int eval_node(task_t *t, node_t *n) { return eval(t, n); }
