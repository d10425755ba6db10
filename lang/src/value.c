/* Values: strings, lists, maps (open addressing), equality, hashing,
 * printing. Every allocation goes through gc_alloc and never collects, so
 * callers may hold fresh objects in C locals until the next safe point. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

static void oom(void) {
  fputs("corio-lang: out of memory\n", stderr);
  exit(70);
}

value_t str_new(const char *s, size_t len) {
  str_t *o = gc_alloc(T_STR, sizeof *o + len + 1);
  o->len = len;
  if (len) memcpy(o->data, s, len);
  o->data[len] = 0;
  return V_OBJ(T_STR, o);
}

value_t str_cat(const str_t *a, const str_t *b) {
  str_t *o = gc_alloc(T_STR, sizeof *o + a->len + b->len + 1);
  o->len = a->len + b->len;
  memcpy(o->data, a->data, a->len);
  memcpy(o->data + a->len, b->data, b->len);
  o->data[o->len] = 0;
  return V_OBJ(T_STR, o);
}

value_t list_new(size_t cap) {
  list_t *l = gc_alloc(T_LIST, sizeof *l);
  if (cap) {
    l->items = malloc(cap * sizeof *l->items);
    if (!l->items) oom();
    l->cap = cap;
    gc_account((long)(cap * sizeof *l->items));
  }
  return V_OBJ(T_LIST, l);
}

void list_push(list_t *l, value_t v) {
  if (l->len == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 4;
    value_t *ni = realloc(l->items, nc * sizeof *ni);
    if (!ni) oom();
    gc_account((long)((nc - l->cap) * sizeof *ni));
    l->items = ni;
    l->cap = nc;
  }
  l->items[l->len++] = v;
}

/* ---- hashing and equality ---- */
uint32_t value_hash(value_t v) {
  switch (v.t) {
  case T_STR: {
    str_t *s = AS_STR(v);
    if (s->hash) return s->hash;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < s->len; i++) h = (h ^ (uint8_t)s->data[i]) * 16777619u;
    if (!h) h = 1;
    s->hash = h;
    return h;
  }
  case T_INT: {
    uint64_t x = (uint64_t)v.u.i * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(x >> 32) | 1;
  }
  case T_FLOAT: {
    double d = v.u.f;
    if (d == floor(d) && fabs(d) < 9e18) return value_hash(V_INT((int64_t)d));
    uint64_t x;
    memcpy(&x, &d, sizeof x);
    return (uint32_t)((x * 0x9E3779B97F4A7C15ull) >> 32) | 1;
  }
  case T_BOOL: return v.u.b ? 3 : 5;
  case T_NIL: return 7;
  case T_BUILTIN: return (uint32_t)v.u.bi * 2654435761u | 1;
  default: {
    uint64_t x = (uint64_t)(uintptr_t)v.u.o * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(x >> 32) | 1;
  }
  }
}

bool values_equal(value_t a, value_t b) {
  if (a.t != b.t) {
    if (a.t == T_INT && b.t == T_FLOAT) return (double)a.u.i == b.u.f;
    if (a.t == T_FLOAT && b.t == T_INT) return a.u.f == (double)b.u.i;
    return false;
  }
  switch (a.t) {
  case T_NIL: case T_UNDEF: return true;
  case T_BOOL: return a.u.b == b.u.b;
  case T_INT: return a.u.i == b.u.i;
  case T_FLOAT: return a.u.f == b.u.f;
  case T_BUILTIN: return a.u.bi == b.u.bi;
  case T_STR: {
    str_t *x = AS_STR(a), *y = AS_STR(b);
    return x == y || (x->len == y->len && !memcmp(x->data, y->data, x->len));
  }
  default: return a.u.o == b.u.o;
  }
}

/* ---- maps ---- */
value_t map_new(void) { return V_OBJ(T_MAP, gc_alloc(T_MAP, sizeof(map_t))); }

static bool is_empty(value_t k) { return k.t == T_UNDEF; }
static bool is_tomb(map_t *m, size_t i) { return m->keys[i].t == T_NIL && m->vals[i].t == T_UNDEF; }

static void map_grow(map_t *m) {
  size_t nc = m->cap ? m->cap * 2 : 8;
  if (m->count * 4 < m->cap) nc = m->cap; /* mostly tombstones: rehash in place */
  value_t *ok = m->keys, *ov = m->vals;
  size_t oc = m->cap;
  m->keys = malloc(nc * sizeof *m->keys);
  m->vals = malloc(nc * sizeof *m->vals);
  if (!m->keys || !m->vals) oom();
  for (size_t i = 0; i < nc; i++) m->keys[i].t = T_UNDEF;
  gc_account((long)((nc - oc) * 2 * sizeof(value_t)));
  m->cap = nc;
  m->count = m->used = 0;
  for (size_t i = 0; i < oc; i++)
    if (!is_empty(ok[i]) && !(ok[i].t == T_NIL && ov[i].t == T_UNDEF)) map_set(m, ok[i], ov[i]);
  free(ok);
  free(ov);
}

/* The slot holding k, or -1. */
static long map_find(map_t *m, value_t k) {
  if (!m->cap) return -1;
  if (k.t == T_FLOAT && k.u.f == floor(k.u.f) && fabs(k.u.f) < 9e18) k = V_INT((int64_t)k.u.f);
  size_t mask = m->cap - 1, i = value_hash(k) & mask;
  for (;;) {
    if (is_empty(m->keys[i])) return -1;
    if (!is_tomb(m, i) && values_equal(m->keys[i], k)) return (long)i;
    i = (i + 1) & mask;
  }
}

bool map_get(map_t *m, value_t k, value_t *out) {
  long i = map_find(m, k);
  if (i < 0) return false;
  *out = m->vals[i];
  return true;
}

void map_set(map_t *m, value_t k, value_t v) {
  if (k.t == T_FLOAT && k.u.f == floor(k.u.f) && fabs(k.u.f) < 9e18) k = V_INT((int64_t)k.u.f);
  long f = map_find(m, k);
  if (f >= 0) { m->vals[f] = v; return; }
  if ((m->used + 1) * 4 > m->cap * 3) map_grow(m);
  size_t mask = m->cap - 1, i = value_hash(k) & mask;
  while (!is_empty(m->keys[i]) && !is_tomb(m, i)) i = (i + 1) & mask;
  if (is_empty(m->keys[i])) m->used++;
  m->keys[i] = k;
  m->vals[i] = v;
  m->count++;
}

bool map_del(map_t *m, value_t k) {
  long i = map_find(m, k);
  if (i < 0) return false;
  m->keys[i] = V_NIL;
  m->vals[i].t = T_UNDEF;
  m->count--;
  return true;
}

void map_set_str(map_t *m, const char *k, value_t v) { map_set(m, str_new(k, strlen(k)), v); }

value_t map_get_str(map_t *m, const char *k) {
  str_t tmp_hdr;
  (void)tmp_hdr;
  size_t n = strlen(k);
  for (size_t i = 0; i < m->cap; i++) {
    value_t key = m->keys[i];
    if (key.t == T_STR && AS_STR(key)->len == n && !memcmp(AS_STR(key)->data, k, n)) return m->vals[i];
  }
  return V_NIL;
}

/* ---- printing ---- */
void sb_put(sbuf_t *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap : 64;
    while (nc < b->len + n + 1) nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) oom();
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

void sb_printf(sbuf_t *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof tmp) { sb_put(b, tmp, (size_t)n); return; }
  char *big = malloc((size_t)n + 1);
  if (!big) oom();
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  sb_put(b, big, (size_t)n);
  free(big);
}

static void fmt_float(sbuf_t *b, double d) {
  if (isnan(d)) { sb_put(b, "nan", 3); return; }
  if (isinf(d)) { sb_put(b, d < 0 ? "-inf" : "inf", d < 0 ? 4 : 3); return; }
  char tmp[64];
  if (d == floor(d) && fabs(d) < 1e16) {
    snprintf(tmp, sizeof tmp, "%.1f", d);
    sb_put(b, tmp, strlen(tmp));
    return;
  }
  /* the shortest form that reads back the same */
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, d);
    if (strtod(tmp, NULL) == d) break;
  }
  sb_put(b, tmp, strlen(tmp));
  if (!strpbrk(tmp, ".eE")) sb_put(b, ".0", 2);
}

const char *type_name(value_t v) {
  switch (v.t) {
  case T_NIL: return "nil";
  case T_BOOL: return "bool";
  case T_INT: return "int";
  case T_FLOAT: return "float";
  case T_BUILTIN: case T_FUNC: return "function";
  case T_UNDEF: return "undefined";
  case T_STR: return "string";
  case T_LIST: return "list";
  case T_MAP: return "map";
  case T_CELL: return "cell";
  case T_RANGE: return "range";
  case T_TASK: return "task";
  case T_CHAN: return "channel";
  case T_STREAM: return "file";
  case T_LISTENER: return "listener";
  case T_MUTEX: return "mutex";
  case T_WG: return "waitgroup";
  }
  return "?";
}

void value_format(sbuf_t *b, value_t v, bool repr, int depth) {
  if (depth > 20) { sb_put(b, "...", 3); return; }
  switch (v.t) {
  case T_NIL: sb_put(b, "nil", 3); break;
  case T_BOOL: if (v.u.b) sb_put(b, "true", 4); else sb_put(b, "false", 5); break;
  case T_INT: sb_printf(b, "%lld", (long long)v.u.i); break;
  case T_FLOAT: fmt_float(b, v.u.f); break;
  case T_STR:
    if (!repr) { sb_put(b, AS_STR(v)->data, AS_STR(v)->len); break; }
    sb_put(b, "\"", 1);
    for (size_t i = 0; i < AS_STR(v)->len; i++) {
      unsigned char c = (unsigned char)AS_STR(v)->data[i];
      if (c == '"' || c == '\\') { char e[2] = {'\\', (char)c}; sb_put(b, e, 2); }
      else if (c == '\n') sb_put(b, "\\n", 2);
      else if (c == '\t') sb_put(b, "\\t", 2);
      else if (c < 32 || c == 127) sb_printf(b, "\\x%02x", c);
      else sb_put(b, (char *)&c, 1);
    }
    sb_put(b, "\"", 1);
    break;
  case T_LIST: {
    list_t *l = AS_LIST(v);
    sb_put(b, "[", 1);
    for (size_t i = 0; i < l->len; i++) {
      if (i) sb_put(b, ", ", 2);
      value_format(b, l->items[i], true, depth + 1);
    }
    sb_put(b, "]", 1);
    break;
  }
  case T_MAP: {
    map_t *m = AS_MAP(v);
    sb_put(b, "{", 1);
    bool first = true;
    for (size_t i = 0; i < m->cap; i++) {
      if (is_empty(m->keys[i]) || is_tomb(m, i)) continue;
      if (!first) sb_put(b, ", ", 2);
      first = false;
      value_format(b, m->keys[i], true, depth + 1);
      sb_put(b, ": ", 2);
      value_format(b, m->vals[i], true, depth + 1);
    }
    sb_put(b, "}", 1);
    break;
  }
  case T_FUNC: sb_printf(b, "<fn %s>", AS_FUNC(v)->proto->name); break;
  case T_BUILTIN: sb_printf(b, "<builtin %s>", g_builtins[v.u.bi].name); break;
  case T_RANGE: {
    range_t *r = (range_t *)v.u.o;
    sb_printf(b, "range(%lld, %lld, %lld)", (long long)r->start, (long long)r->stop, (long long)r->step);
    break;
  }
  case T_TASK: sb_printf(b, "<task %llu>", (unsigned long long)AS_TASK(v)->id); break;
  default: sb_printf(b, "<%s>", type_name(v)); break;
  }
}

value_t value_tostr(value_t v) {
  if (v.t == T_STR) return v;
  sbuf_t b = {0};
  value_format(&b, v, false, 0);
  value_t s = str_new(b.p ? b.p : "", b.len);
  free(b.p);
  return s;
}

bool truthy(value_t v) {
  switch (v.t) {
  case T_NIL: case T_UNDEF: return false;
  case T_BOOL: return v.u.b;
  case T_INT: return v.u.i != 0;
  case T_FLOAT: return v.u.f != 0;
  case T_STR: return AS_STR(v)->len != 0;
  default: return true;
  }
}
