/* The lexer: source bytes to tokens. Comments run from "//" or "#" to the end
 * of the line; newlines are not tokens but are remembered (nl_before), which
 * is how `return` with nothing after it on its line is told apart. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

static const struct { const char *w; tkind_t k; } keywords[] = {
  {"let", K_LET}, {"fn", K_FN}, {"if", K_IF}, {"else", K_ELSE}, {"while", K_WHILE},
  {"for", K_FOR}, {"in", K_IN}, {"break", K_BREAK}, {"continue", K_CONTINUE},
  {"return", K_RETURN}, {"try", K_TRY}, {"catch", K_CATCH}, {"throw", K_THROW},
  {"spawn", K_SPAWN}, {"select", K_SELECT}, {"case", K_CASE}, {"nil", K_NILK},
  {"true", K_TRUEK}, {"false", K_FALSEK},
};

static bool lex_error(lexer_t *lx, const char *msg) {
  snprintf(lx->err, lx->errlen, "%s:%d: syntax error: %s", lx->file, lx->line, msg);
  return false;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static bool lex_string(lexer_t *lx, token_t *t, char q) {
  size_t cap = 16, n = 0;
  char *s = malloc(cap);
  if (!s) return lex_error(lx, "out of memory");
  for (;;) {
    if (lx->p >= lx->end) { free(s); return lex_error(lx, "unterminated string"); }
    char c = *lx->p++;
    if (c == q) break;
    if (c == '\n') lx->line++;
    if (c == '\\') {
      if (lx->p >= lx->end) { free(s); return lex_error(lx, "unterminated string"); }
      char e = *lx->p++;
      switch (e) {
      case 'n': c = '\n'; break;
      case 't': c = '\t'; break;
      case 'r': c = '\r'; break;
      case '0': c = '\0'; break;
      case '\\': case '"': case '\'': c = e; break;
      case 'x': {
        int h1 = lx->p < lx->end ? hexval(lx->p[0]) : -1;
        int h2 = lx->p + 1 < lx->end ? hexval(lx->p[1]) : -1;
        if (h1 < 0 || h2 < 0) { free(s); return lex_error(lx, "bad \\x escape"); }
        c = (char)(h1 * 16 + h2);
        lx->p += 2;
        break;
      }
      default: free(s); return lex_error(lx, "unknown escape in string");
      }
    }
    if (n + 1 >= cap) {
      cap *= 2;
      char *ns = realloc(s, cap);
      if (!ns) { free(s); return lex_error(lx, "out of memory"); }
      s = ns;
    }
    s[n++] = c;
  }
  s[n] = 0;
  t->kind = K_STR;
  t->s = s;
  t->slen = n;
  return true;
}

static bool lex_number(lexer_t *lx, token_t *t) {
  const char *b = lx->p;
  bool is_float = false;
  if (lx->p + 1 < lx->end && b[0] == '0' && (b[1] == 'x' || b[1] == 'X')) {
    lx->p += 2;
    while (lx->p < lx->end && isxdigit((unsigned char)*lx->p)) lx->p++;
  } else {
    while (lx->p < lx->end && isdigit((unsigned char)*lx->p)) lx->p++;
    if (lx->p + 1 < lx->end && *lx->p == '.' && isdigit((unsigned char)lx->p[1])) {
      is_float = true;
      lx->p++;
      while (lx->p < lx->end && isdigit((unsigned char)*lx->p)) lx->p++;
    }
    if (lx->p < lx->end && (*lx->p == 'e' || *lx->p == 'E')) {
      const char *q = lx->p + 1;
      if (q < lx->end && (*q == '+' || *q == '-')) q++;
      if (q < lx->end && isdigit((unsigned char)*q)) {
        is_float = true;
        lx->p = q;
        while (lx->p < lx->end && isdigit((unsigned char)*lx->p)) lx->p++;
      }
    }
  }
  char buf[64];
  size_t n = (size_t)(lx->p - b);
  if (n >= sizeof buf) return lex_error(lx, "number too long");
  memcpy(buf, b, n);
  buf[n] = 0;
  errno = 0;
  if (is_float) {
    t->kind = K_FLOAT;
    t->f = strtod(buf, NULL);
  } else {
    t->kind = K_INT;
    unsigned long long v = strtoull(buf, NULL, 0);
    if (errno == ERANGE || v > (unsigned long long)INT64_MAX) return lex_error(lx, "integer too large");
    t->i = (int64_t)v;
  }
  if (lx->p < lx->end && (isalpha((unsigned char)*lx->p) || *lx->p == '_'))
    return lex_error(lx, "bad number");
  return true;
}

bool lex_next(lexer_t *lx, token_t *t) {
  memset(t, 0, sizeof *t);
  for (;;) {
    while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r' || *lx->p == '\n')) {
      if (*lx->p == '\n') { lx->line++; t->nl_before = true; }
      lx->p++;
    }
    if (lx->p < lx->end && (*lx->p == '#' || (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '/'))) {
      while (lx->p < lx->end && *lx->p != '\n') lx->p++;
      continue;
    }
    break;
  }
  t->line = lx->line;
  t->start = lx->p;
  if (lx->p >= lx->end) { t->kind = K_EOF; return true; }
  unsigned char c = (unsigned char)*lx->p;
  if (isalpha(c) || c == '_') {
    while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '_')) lx->p++;
    t->len = (size_t)(lx->p - t->start);
    t->kind = K_NAME;
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
      if (strlen(keywords[i].w) == t->len && !memcmp(keywords[i].w, t->start, t->len))
        t->kind = keywords[i].k;
    return true;
  }
  if (isdigit(c)) {
    bool ok = lex_number(lx, t);
    t->len = (size_t)(lx->p - t->start);
    return ok;
  }
  if (c == '"' || c == '\'') {
    lx->p++;
    return lex_string(lx, t, (char)c);
  }
  static const struct { char a, b; int op; } two[] = {
    {'=', '=', OP_EQ}, {'!', '=', OP_NE}, {'<', '=', OP_LE}, {'>', '=', OP_GE},
    {'&', '&', OP_AND}, {'|', '|', OP_OR}, {'<', '<', OP_SHL}, {'>', '>', OP_SHR},
    {'-', '>', OP_ARROW}, {'+', '=', OP_PLUSEQ}, {'-', '=', OP_MINUSEQ},
  };
  t->kind = K_OP;
  if (lx->p + 1 < lx->end)
    for (size_t i = 0; i < sizeof two / sizeof two[0]; i++)
      if (two[i].a == (char)c && two[i].b == lx->p[1]) {
        t->op = two[i].op;
        lx->p += 2;
        t->len = 2;
        return true;
      }
  if (!strchr("+-*/%<>=!()[]{},.:;&|^", c) || c == 0) {
    char m[48];
    snprintf(m, sizeof m, (c >= 32 && c < 127) ? "unexpected character '%c'" : "unexpected byte 0x%02x", c);
    return lex_error(lx, m);
  }
  t->op = c;
  t->len = 1;
  lx->p++;
  return true;
}
