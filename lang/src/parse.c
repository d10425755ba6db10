/* The parser: tokens to an AST whose variables are already resolved.
 *
 * Resolution happens during the parse (one pass, as Lua does): a name is a
 * local of the function being parsed (a slot), a variable of an enclosing
 * function (an upvalue, reached through a cell the closure holds), or a
 * global (an index into the global table). Whether a local must live in a
 * cell is known only once the whole function has been read (an inner
 * function further down may capture it), so every node naming a local is
 * kept in a fix-up list and gets its final kind (N_LOCAL or N_CELLVAR) when
 * the function ends. Declarations directly at the top level of the script
 * are globals, so top-level functions can call each other in any order; a
 * global that nothing defines is reported as an unknown name.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

#define MAX_NEST 200

/* ---- arena for the AST (freed at exit) ---- */
typedef struct chunk { struct chunk *next; size_t used, cap; char data[]; } chunk_t;
static chunk_t *arena;
static obj_t **perms;
static size_t nperms, capperms;

static void *ast_alloc(size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (!arena || arena->used + n > arena->cap) {
    size_t cap = n > 65536 ? n : 65536;
    chunk_t *c = malloc(sizeof *c + cap);
    if (!c) { fputs("corio-lang: out of memory\n", stderr); exit(70); }
    c->next = arena;
    c->used = 0;
    c->cap = cap;
    arena = c;
  }
  void *p = arena->data + arena->used;
  arena->used += n;
  memset(p, 0, n);
  return p;
}

static char *ast_strdup(const char *s, size_t n) {
  char *p = ast_alloc(n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

value_t str_perm(const char *s, size_t len) {
  str_t *o = calloc(1, sizeof *o + len + 1);
  if (!o) { fputs("corio-lang: out of memory\n", stderr); exit(70); }
  o->h.type = T_STR;
  o->h.perm = 1;
  o->len = len;
  memcpy(o->data, s, len);
  o->hash = value_hash(V_OBJ(T_STR, o));
  if (nperms == capperms) {
    capperms = capperms ? capperms * 2 : 64;
    perms = realloc(perms, capperms * sizeof *perms);
    if (!perms) { fputs("corio-lang: out of memory\n", stderr); exit(70); }
  }
  perms[nperms++] = &o->h;
  return V_OBJ(T_STR, o);
}

void parse_free_all(void) {
  while (arena) {
    chunk_t *n = arena->next;
    free(arena);
    arena = n;
  }
  for (size_t i = 0; i < nperms; i++) free(perms[i]);
  free(perms);
  perms = NULL;
  nperms = capperms = 0;
}

/* ---- dynamic arrays of pointers ---- */
typedef struct vec { void **p; int n, cap; } vec_t;
static void vpush(vec_t *v, void *x) {
  if (v->n == v->cap) {
    v->cap = v->cap ? v->cap * 2 : 8;
    v->p = realloc(v->p, (size_t)v->cap * sizeof *v->p);
    if (!v->p) { fputs("corio-lang: out of memory\n", stderr); exit(70); }
  }
  v->p[v->n++] = x;
}
static void **vfreeze(vec_t *v) {
  void **out = ast_alloc((size_t)(v->n ? v->n : 1) * sizeof *out);
  if (v->n) memcpy(out, v->p, (size_t)v->n * sizeof *out);
  free(v->p);
  v->p = NULL;
  return out;
}

/* ---- function state ---- */
typedef struct fstate {
  struct fstate *parent;
  proto_t *proto;
  vec_t active;  /* var_t*, in scope */
  vec_t all;     /* var_t*, every local */
  vec_t fix;     /* node_t* naming a local */
  vec_t upvars;  /* var_t* (or NULL) of each upvalue, to find duplicates */
  vec_t upnames; /* const char* of each upvalue */
  updesc_t *ups;
  int nup, capup;
  int depth;
} fstate_t;

typedef struct parser {
  lexer_t lx;
  token_t tok, next;
  bool have_next;
  fstate_t *fs;
  int nest;
  bool failed;
  char *err;
  size_t errlen;
  const char *file;
  int loops; /* loop depth in the current function, for break/continue */
} parser_t;

static void perror_at(parser_t *p, int line, const char *fmt, ...) {
  if (p->failed) return;
  p->failed = true;
  char m[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m, sizeof m, fmt, ap);
  va_end(ap);
  snprintf(p->err, p->errlen, "%s:%d: syntax error: %s", p->file, line, m);
}

static void advance(parser_t *p) {
  if (p->failed) { p->tok.kind = K_EOF; return; }
  if (p->tok.kind == K_STR) free(p->tok.s);
  if (p->have_next) {
    p->tok = p->next;
    p->have_next = false;
    return;
  }
  if (!lex_next(&p->lx, &p->tok)) {
    p->failed = true;
    p->tok.kind = K_EOF;
  }
}

static token_t *lookahead(parser_t *p) {
  if (!p->have_next) {
    if (p->failed || !lex_next(&p->lx, &p->next)) {
      p->failed = true;
      memset(&p->next, 0, sizeof p->next);
      p->next.kind = K_EOF;
    }
    p->have_next = true;
  }
  return &p->next;
}

static bool is_op(parser_t *p, int op) { return p->tok.kind == K_OP && p->tok.op == op; }
static bool accept_op(parser_t *p, int op) {
  if (is_op(p, op)) { advance(p); return true; }
  return false;
}
static const char *tok_desc(token_t *t) {
  static char buf[64];
  switch (t->kind) {
  case K_EOF: return "end of file";
  case K_STR: return "a string";
  case K_INT: case K_FLOAT: return "a number";
  default:
    snprintf(buf, sizeof buf, "'%.*s'", (int)(t->len > 20 ? 20 : t->len), t->start);
    return buf;
  }
}
static void expect_op(parser_t *p, int op, const char *what) {
  if (!accept_op(p, op)) perror_at(p, p->tok.line, "expected %s, found %s", what, tok_desc(&p->tok));
}

static node_t *mk(parser_t *p, nkind_t k, int line) {
  node_t *n = ast_alloc(sizeof *n);
  n->kind = (uint8_t)k;
  n->line = line;
  (void)p;
  return n;
}

/* ---- scopes and resolution ---- */
static var_t *declare_local(parser_t *p, const char *name) {
  fstate_t *fs = p->fs;
  var_t *v = ast_alloc(sizeof *v);
  v->name = name;
  v->slot = fs->proto->nslots++;
  v->depth = fs->depth;
  vpush(&fs->active, v);
  vpush(&fs->all, v);
  return v;
}

static var_t *find_local(fstate_t *fs, const char *name) {
  for (int i = fs->active.n - 1; i >= 0; i--) {
    var_t *v = fs->active.p[i];
    if (!strcmp(v->name, name)) return v;
  }
  return NULL;
}

static int add_upval(fstate_t *fs, const char *name, var_t *v, bool from_local, int index) {
  for (int i = 0; i < fs->nup; i++)
    if (fs->ups[i].from_local == from_local && fs->ups[i].index == index &&
        !strcmp(fs->upnames.p[i], name))
      return i;
  if (fs->nup == fs->capup) {
    fs->capup = fs->capup ? fs->capup * 2 : 8;
    fs->ups = realloc(fs->ups, (size_t)fs->capup * sizeof *fs->ups);
    if (!fs->ups) { fputs("corio-lang: out of memory\n", stderr); exit(70); }
  }
  fs->ups[fs->nup].from_local = from_local;
  fs->ups[fs->nup].index = index;
  vpush(&fs->upvars, v);
  vpush(&fs->upnames, (void *)name);
  return fs->nup++;
}

static int find_upval(fstate_t *fs, const char *name) {
  if (!fs->parent) return -1;
  var_t *v = find_local(fs->parent, name);
  if (v) {
    v->captured = true;
    return add_upval(fs, name, v, true, v->slot);
  }
  int u = find_upval(fs->parent, name);
  if (u < 0) return -1;
  return add_upval(fs, name, NULL, false, u);
}

/* A node naming a variable (for reading, or as an assignment target). */
static node_t *name_node(parser_t *p, const char *name, int line) {
  node_t *n = mk(p, N_LOCAL, line);
  n->u.var.name = name;
  var_t *v = find_local(p->fs, name);
  if (v) {
    n->u.var.var = v;
    n->u.var.slot = v->slot;
    vpush(&p->fs->fix, n);
    return n;
  }
  int u = find_upval(p->fs, name);
  if (u >= 0) {
    n->kind = N_UPVAL;
    n->u.var.slot = u;
    return n;
  }
  n->kind = N_GLOBAL;
  n->u.var.slot = global_index(name, strlen(name));
  if (!g_globals[n->u.var.slot].first_use_line) g_globals[n->u.var.slot].first_use_line = line;
  return n;
}

/* A declaration target: a global at the script's top level, else a new local. */
static node_t *decl_node(parser_t *p, const char *name, int line) {
  if (!p->fs->parent && p->fs->depth == 0) {
    node_t *n = mk(p, N_GLOBAL, line);
    n->u.var.name = name;
    n->u.var.slot = global_index(name, strlen(name));
    g_globals[n->u.var.slot].defined_by_script = true;
    return n;
  }
  var_t *v = declare_local(p, name);
  node_t *n = mk(p, N_LOCAL, line);
  n->u.var.name = name;
  n->u.var.var = v;
  n->u.var.slot = v->slot;
  vpush(&p->fs->fix, n);
  return n;
}

static void scope_open(parser_t *p) { p->fs->depth++; }
static void scope_close(parser_t *p) {
  fstate_t *fs = p->fs;
  while (fs->active.n && ((var_t *)fs->active.p[fs->active.n - 1])->depth >= fs->depth) fs->active.n--;
  fs->depth--;
}

static void func_open(parser_t *p, fstate_t *fs, proto_t *proto) {
  memset(fs, 0, sizeof *fs);
  fs->parent = p->fs;
  fs->proto = proto;
  p->fs = fs;
}

static void func_close(parser_t *p) {
  fstate_t *fs = p->fs;
  proto_t *pr = fs->proto;
  for (int i = 0; i < fs->fix.n; i++) {
    node_t *n = fs->fix.p[i];
    n->kind = n->u.var.var->captured ? N_CELLVAR : N_LOCAL;
  }
  vec_t cp = {0};
  for (int i = 0; i < fs->all.n; i++) {
    var_t *v = fs->all.p[i];
    if (v->slot < pr->nparams && v->captured) vpush(&cp, (void *)(intptr_t)v->slot);
  }
  pr->ncell_params = cp.n;
  pr->cell_params = ast_alloc((size_t)(cp.n + 1) * sizeof(int));
  for (int i = 0; i < cp.n; i++) pr->cell_params[i] = (int)(intptr_t)cp.p[i];
  free(cp.p);
  pr->nup = fs->nup;
  pr->ups = ast_alloc((size_t)(fs->nup + 1) * sizeof *pr->ups);
  if (fs->nup) memcpy(pr->ups, fs->ups, (size_t)fs->nup * sizeof *pr->ups);
  free(fs->ups);
  free(fs->active.p);
  free(fs->all.p);
  free(fs->fix.p);
  free(fs->upvars.p);
  free(fs->upnames.p);
  p->fs = fs->parent;
}

/* ---- expressions ---- */
static node_t *expr(parser_t *p);
static node_t *block(parser_t *p);

static char *tok_name(parser_t *p) {
  if (p->tok.kind != K_NAME) {
    perror_at(p, p->tok.line, "expected a name, found %s", tok_desc(&p->tok));
    return ast_strdup("?", 1);
  }
  char *s = ast_strdup(p->tok.start, p->tok.len);
  advance(p);
  return s;
}

static node_t **arglist(parser_t *p, int close, int *n) {
  vec_t v = {0};
  if (!is_op(p, close)) {
    do {
      if (is_op(p, close)) break; /* trailing comma */
      vpush(&v, expr(p));
    } while (!p->failed && accept_op(p, ','));
  }
  expect_op(p, close, close == ')' ? "')'" : "']'");
  *n = v.n;
  return (node_t **)vfreeze(&v);
}

static node_t *func_body(parser_t *p, const char *name, int line, node_t *self_decl) {
  proto_t *pr = ast_alloc(sizeof *pr);
  pr->name = name;
  pr->line = line;
  fstate_t fs;
  func_open(p, &fs, pr);
  int saved_loops = p->loops;
  p->loops = 0;
  (void)self_decl;
  expect_op(p, '(', "'('");
  if (!is_op(p, ')')) {
    do {
      char *pn = tok_name(p);
      declare_local(p, pn);
      pr->nparams++;
    } while (!p->failed && accept_op(p, ','));
  }
  expect_op(p, ')', "')'");
  pr->body = block(p);
  func_close(p);
  p->loops = saved_loops;
  node_t *n = mk(p, N_FUNC, line);
  n->u.proto = pr;
  return n;
}

static node_t *primary(parser_t *p) {
  token_t *t = &p->tok;
  int line = t->line;
  node_t *n;
  switch (t->kind) {
  case K_INT: n = mk(p, N_INT, line); n->u.i = t->i; advance(p); return n;
  case K_FLOAT: n = mk(p, N_FLOAT, line); n->u.f = t->f; advance(p); return n;
  case K_STR: n = mk(p, N_STR, line); n->u.k = str_perm(t->s, t->slen); advance(p); return n;
  case K_NILK: advance(p); return mk(p, N_NIL, line);
  case K_TRUEK: advance(p); return mk(p, N_TRUE, line);
  case K_FALSEK: advance(p); return mk(p, N_FALSE, line);
  case K_NAME: {
    char *name = tok_name(p);
    return name_node(p, name, line);
  }
  case K_FN: advance(p); return func_body(p, "<fn>", line, NULL);
  case K_SPAWN: {
    advance(p);
    node_t *c = expr(p);
    if (c->kind != N_CALL) {
      perror_at(p, line, "spawn needs a function call");
      return c;
    }
    c->kind = N_SPAWN;
    return c;
  }
  case K_OP:
    if (t->op == '(') {
      advance(p);
      n = expr(p);
      expect_op(p, ')', "')'");
      return n;
    }
    if (t->op == '[') {
      advance(p);
      n = mk(p, N_LIST, line);
      n->u.list.items = arglist(p, ']', &n->u.list.n);
      return n;
    }
    if (t->op == '{') {
      advance(p);
      n = mk(p, N_MAP, line);
      vec_t v = {0};
      while (!p->failed && !is_op(p, '}')) {
        node_t *k;
        if (p->tok.kind == K_NAME && lookahead(p)->kind == K_OP && lookahead(p)->op == ':') {
          k = mk(p, N_STR, p->tok.line);
          k->u.k = str_perm(p->tok.start, p->tok.len);
          advance(p);
        } else {
          k = expr(p);
        }
        expect_op(p, ':', "':'");
        vpush(&v, k);
        vpush(&v, expr(p));
        if (!accept_op(p, ',')) break;
      }
      expect_op(p, '}', "'}'");
      n->u.list.n = v.n;
      n->u.list.items = (node_t **)vfreeze(&v);
      return n;
    }
    break;
  default: break;
  }
  perror_at(p, line, "unexpected %s", tok_desc(t));
  advance(p);
  return mk(p, N_NIL, line);
}

static node_t *postfix(parser_t *p) {
  node_t *n = primary(p);
  while (!p->failed) {
    int line = p->tok.line;
    if (is_op(p, '(')) {
      advance(p);
      node_t *c = mk(p, N_CALL, line);
      c->u.call.fn = n;
      c->u.call.args = arglist(p, ')', &c->u.call.nargs);
      n = c;
    } else if (is_op(p, '[')) {
      advance(p);
      node_t *c = mk(p, N_INDEX, line);
      c->u.bin.a = n;
      c->u.bin.b = expr(p);
      expect_op(p, ']', "']'");
      n = c;
    } else if (is_op(p, '.')) {
      advance(p);
      if (p->tok.kind != K_NAME) {
        perror_at(p, line, "expected a name after '.'");
        break;
      }
      const char *s = p->tok.start;
      size_t len = p->tok.len;
      advance(p);
      node_t *c = mk(p, N_FIELD, line);
      c->u.meth.obj = n;
      c->u.meth.name = str_perm(s, len);
      c->u.meth.mid = method_id(s, len);
      if (is_op(p, '(')) {
        advance(p);
        c->kind = N_METHOD;
        c->u.meth.args = arglist(p, ')', &c->u.meth.nargs);
      }
      n = c;
    } else {
      break;
    }
  }
  return n;
}

static node_t *unary(parser_t *p) {
  int line = p->tok.line;
  if (is_op(p, '-') || is_op(p, '!')) {
    int op = p->tok.op;
    advance(p);
    if (++p->nest > MAX_NEST) { perror_at(p, line, "expression nested too deeply"); return mk(p, N_NIL, line); }
    node_t *n = mk(p, op == '-' ? N_NEG : N_NOT, line);
    n->u.bin.a = unary(p);
    p->nest--;
    return n;
  }
  return postfix(p);
}

static int prec(int op) {
  switch (op) {
  case OP_OR: return 1;
  case OP_AND: return 2;
  case OP_EQ: case OP_NE: return 3;
  case '<': case '>': case OP_LE: case OP_GE: return 4;
  case '|': return 5;
  case '^': return 6;
  case '&': return 7;
  case OP_SHL: case OP_SHR: return 8;
  case '+': case '-': return 9;
  case '*': case '/': case '%': return 10;
  default: return 0;
  }
}

static node_t *binary(parser_t *p, int min) {
  if (++p->nest > MAX_NEST) {
    perror_at(p, p->tok.line, "expression nested too deeply");
    return mk(p, N_NIL, p->tok.line);
  }
  node_t *a = unary(p);
  while (!p->failed && p->tok.kind == K_OP && prec(p->tok.op) >= min && prec(p->tok.op) > 0) {
    int op = p->tok.op, line = p->tok.line, pr = prec(op);
    advance(p);
    node_t *b = binary(p, pr + 1);
    node_t *n = mk(p, op == OP_AND ? N_AND : op == OP_OR ? N_OR : N_BINOP, line);
    n->u.bin.a = a;
    n->u.bin.b = b;
    n->u.bin.op = op;
    a = n;
  }
  p->nest--;
  return a;
}

static node_t *expr(parser_t *p) { return binary(p, 1); }

/* ---- statements ---- */
static node_t *stmt(parser_t *p);

static node_t *block(parser_t *p) {
  int line = p->tok.line;
  expect_op(p, '{', "'{'");
  if (++p->nest > MAX_NEST) { perror_at(p, line, "blocks nested too deeply"); return mk(p, N_BLOCK, line); }
  scope_open(p);
  vec_t v = {0};
  while (!p->failed && !is_op(p, '}') && p->tok.kind != K_EOF) vpush(&v, stmt(p));
  expect_op(p, '}', "'}'");
  scope_close(p);
  p->nest--;
  node_t *n = mk(p, N_BLOCK, line);
  n->u.list.n = v.n;
  n->u.list.items = (node_t **)vfreeze(&v);
  return n;
}

static bool is_target(node_t *n) {
  return n->kind == N_LOCAL || n->kind == N_UPVAL || n->kind == N_GLOBAL || n->kind == N_INDEX ||
         n->kind == N_FIELD;
}

static node_t *if_stmt(parser_t *p) {
  int line = p->tok.line;
  advance(p);
  node_t *n = mk(p, N_IF, line);
  n->u.cond.cond = expr(p);
  n->u.cond.then = block(p);
  if (p->tok.kind == K_ELSE) {
    advance(p);
    n->u.cond.els = p->tok.kind == K_IF ? if_stmt(p) : block(p);
  }
  return n;
}

static node_t *select_stmt(parser_t *p) {
  int line = p->tok.line;
  advance(p);
  expect_op(p, '{', "'{'");
  node_t *n = mk(p, N_SELECT, line);
  int cap = 4, cnt = 0;
  selcase_t *cs = malloc((size_t)cap * sizeof *cs);
  while (!p->failed && p->tok.kind == K_CASE) {
    advance(p);
    if (cnt == cap) { cap *= 2; cs = realloc(cs, (size_t)cap * sizeof *cs); }
    selcase_t *c = &cs[cnt++];
    memset(c, 0, sizeof *c);
    char *what = p->tok.kind == K_NAME ? ast_strdup(p->tok.start, p->tok.len) : "";
    int cl = p->tok.line;
    advance(p);
    scope_open(p);
    if (!strcmp(what, "recv")) {
      c->kind = SEL_RECV;
      c->chan = expr(p);
      if (accept_op(p, OP_ARROW)) {
        c->bind_v = decl_node(p, tok_name(p), cl);
        if (accept_op(p, ',')) c->bind_ok = decl_node(p, tok_name(p), cl);
      }
    } else if (!strcmp(what, "send")) {
      c->kind = SEL_SEND;
      c->chan = expr(p);
      expect_op(p, ',', "','");
      c->val = expr(p);
    } else if (!strcmp(what, "after")) {
      c->kind = SEL_AFTER;
      c->val = expr(p);
    } else if (!strcmp(what, "default")) {
      c->kind = SEL_DEFAULT;
    } else {
      perror_at(p, cl, "select case must be recv, send, after or default");
    }
    c->body = block(p);
    scope_close(p);
  }
  expect_op(p, '}', "'}' or 'case'");
  int timers = 0;
  for (int i = 0; i < cnt; i++) timers += cs[i].kind == SEL_AFTER || cs[i].kind == SEL_DEFAULT;
  if (timers > 1) perror_at(p, line, "select has more than one after/default case");
  n->u.sel.n = cnt;
  n->u.sel.cases = ast_alloc((size_t)(cnt ? cnt : 1) * sizeof *cs);
  if (cnt) memcpy(n->u.sel.cases, cs, (size_t)cnt * sizeof *cs);
  free(cs);
  return n;
}

static node_t *stmt(parser_t *p) {
  int line = p->tok.line;
  node_t *n;
  switch (p->tok.kind) {
  case K_LET: {
    advance(p);
    n = mk(p, N_LET, line);
    n->u.let.op = '=';
    vec_t names = {0};
    do vpush(&names, tok_name(p)); while (!p->failed && accept_op(p, ','));
    expect_op(p, '=', "'='");
    n->u.let.e = expr(p); /* before the names exist: `let x = x` reads the outer x */
    vec_t tg = {0};
    for (int i = 0; i < names.n; i++) vpush(&tg, decl_node(p, names.p[i], line));
    free(names.p);
    n->u.let.n = tg.n;
    n->u.let.targets = (node_t **)vfreeze(&tg);
    break;
  }
  case K_FN: {
    if (lookahead(p)->kind != K_NAME) goto expression;
    advance(p);
    char *name = tok_name(p);
    n = mk(p, N_FNDECL, line);
    n->u.fndecl.target = decl_node(p, name, line); /* declared first: it may call itself */
    n->u.fndecl.fn = func_body(p, name, line, n->u.fndecl.target);
    break;
  }
  case K_IF: return if_stmt(p);
  case K_WHILE:
    advance(p);
    n = mk(p, N_WHILE, line);
    n->u.cond.cond = expr(p);
    p->loops++;
    n->u.cond.then = block(p);
    p->loops--;
    break;
  case K_FOR: {
    advance(p);
    n = mk(p, N_FOR, line);
    char *a = tok_name(p), *b = NULL;
    if (accept_op(p, ',')) b = tok_name(p);
    if (p->tok.kind != K_IN) perror_at(p, p->tok.line, "expected 'in'");
    advance(p);
    n->u.forin.e = expr(p);
    scope_open(p);
    {
      var_t *v = declare_local(p, a);
      node_t *t = mk(p, N_LOCAL, line);
      t->u.var.name = a; t->u.var.var = v; t->u.var.slot = v->slot;
      vpush(&p->fs->fix, t);
      n->u.forin.t1 = t;
    }
    if (b) {
      var_t *v = declare_local(p, b);
      node_t *t = mk(p, N_LOCAL, line);
      t->u.var.name = b; t->u.var.var = v; t->u.var.slot = v->slot;
      vpush(&p->fs->fix, t);
      n->u.forin.t2 = t;
    }
    p->loops++;
    n->u.forin.body = block(p);
    p->loops--;
    scope_close(p);
    break;
  }
  case K_BREAK: case K_CONTINUE:
    if (!p->loops) perror_at(p, line, "%s outside a loop", p->tok.kind == K_BREAK ? "break" : "continue");
    n = mk(p, p->tok.kind == K_BREAK ? N_BREAK : N_CONTINUE, line);
    advance(p);
    break;
  case K_RETURN:
    advance(p);
    n = mk(p, N_RETURN, line);
    if (!p->tok.nl_before && !is_op(p, '}') && !is_op(p, ';') && p->tok.kind != K_EOF)
      n->u.ret.e = expr(p);
    break;
  case K_THROW:
    advance(p);
    n = mk(p, N_THROW, line);
    n->u.ret.e = expr(p);
    break;
  case K_TRY: {
    advance(p);
    n = mk(p, N_TRY, line);
    n->u.try_.body = block(p);
    if (p->tok.kind != K_CATCH) perror_at(p, p->tok.line, "expected 'catch'");
    advance(p);
    scope_open(p);
    var_t *v = declare_local(p, tok_name(p));
    node_t *t = mk(p, N_LOCAL, line);
    t->u.var.name = v->name; t->u.var.var = v; t->u.var.slot = v->slot;
    vpush(&p->fs->fix, t);
    n->u.try_.bind = t;
    n->u.try_.handler = block(p);
    scope_close(p);
    break;
  }
  case K_SELECT: return select_stmt(p);
  case K_OP:
    if (p->tok.op == '{') return block(p);
    if (p->tok.op == ';') { advance(p); return mk(p, N_BLOCK, line); }
    /* fall through */
  default:
  expression: {
    node_t *e = expr(p);
    if (is_op(p, '=') || is_op(p, OP_PLUSEQ) || is_op(p, OP_MINUSEQ) || is_op(p, ',')) {
      vec_t tg = {0};
      vpush(&tg, e);
      while (!p->failed && accept_op(p, ',')) vpush(&tg, expr(p));
      int op = p->tok.kind == K_OP ? p->tok.op : 0;
      if (op != '=' && op != OP_PLUSEQ && op != OP_MINUSEQ) perror_at(p, p->tok.line, "expected '='");
      advance(p);
      for (int i = 0; i < tg.n; i++)
        if (!is_target(tg.p[i])) perror_at(p, line, "cannot assign to this expression");
      if (op != '=' && tg.n != 1) perror_at(p, line, "compound assignment needs one target");
      n = mk(p, N_ASSIGN, line);
      n->u.let.op = op == OP_PLUSEQ ? '+' : op == OP_MINUSEQ ? '-' : '=';
      n->u.let.e = expr(p);
      n->u.let.n = tg.n;
      n->u.let.targets = (node_t **)vfreeze(&tg);
    } else {
      n = mk(p, N_EXPR, line);
      n->u.ret.e = e;
    }
    break;
  }
  }
  accept_op(p, ';');
  return n;
}

proto_t *parse_program(source_t *src, char *err, size_t errlen) {
  parser_t p;
  memset(&p, 0, sizeof p);
  p.lx.p = src->text;
  p.lx.end = src->text + src->len;
  p.lx.line = 1;
  p.lx.err = err;
  p.lx.errlen = errlen;
  p.lx.file = src->name;
  p.err = err;
  p.errlen = errlen;
  p.file = src->name;
  err[0] = 0;
  proto_t *pr = ast_alloc(sizeof *pr);
  pr->name = "main";
  pr->line = 1;
  fstate_t fs;
  func_open(&p, &fs, pr);
  advance(&p);
  vec_t v = {0};
  while (!p.failed && p.tok.kind != K_EOF) vpush(&v, stmt(&p));
  if (p.tok.kind == K_STR) free(p.tok.s);
  if (p.have_next && p.next.kind == K_STR) free(p.next.s);
  node_t *body = mk(&p, N_BLOCK, 1);
  body->u.list.n = v.n;
  body->u.list.items = (node_t **)vfreeze(&v);
  pr->body = body;
  func_close(&p);
  if (p.failed) {
    if (!err[0]) snprintf(err, errlen, "%s:%d: syntax error", src->name, p.lx.line);
    return NULL;
  }
  for (int i = 0; i < g_nglobals; i++) {
    global_t *g = &g_globals[i];
    if (g->v.t == T_UNDEF && !g->defined_by_script) {
      snprintf(err, errlen, "%s:%d: unknown name '%s'", src->name, g->first_use_line, g->name);
      return NULL;
    }
  }
  return pr;
}
