/* A small stand-in for Criterion's classic API, for builds where Criterion is
 * not available or cannot run: the mingw-w64 cross build (run under Wine) and
 * the TSan build (Criterion cannot start under TSan, its issue #274). The
 * runner is criterion_compat.c over one platform half (runner_platform.h).
 *
 * Covered: Test(suite, name, options...), TestSuite(suite, options...) with
 * the options .init, .fini, .timeout (seconds), .signal, .exit_code,
 * .disabled and .description; cr_assert, cr_assert_not, cr_assert_fail,
 * cr_assert_{eq,neq,lt,leq,gt,geq}, cr_assert_{null,not_null},
 * cr_assert_str_{eq,neq,empty,not_empty}, cr_assert_float_{eq,neq},
 * cr_assert_arr_{eq,neq}, the same cr_expect_* set, cr_skip_test and
 * cr_log_{info,warn,error}. Every assertion takes an optional printf format
 * and arguments after its operands, as in Criterion.
 *
 * The runner (criterion_compat.c) runs each test in a child process of its
 * own, as Criterion does, so a crash, an abort or an exit is attributed to the
 * test and checked against .signal / .exit_code. A failed cr_assert ends the
 * test's process at once, whatever thread or coroutine it ran on; a failed
 * cr_expect lets the test go on and fails it at the end.
 *
 * Operands are evaluated once. A comparison that fails prints both values. */
#ifndef CORIO_COMPAT_CRITERION_H
#define CORIO_COMPAT_CRITERION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

struct corio_cr_suite {
  const char *name;
  void (*init)(void);
  void (*fini)(void);
  double timeout;
  int signal;
  int exit_code;
  bool disabled;
  const char *description;
  struct corio_cr_suite *next;
};

struct corio_cr_test {
  const char *suite;
  const char *name;
  const char *file;
  int line;
  void (*fn)(void);
  void (*init)(void);
  void (*fini)(void);
  double timeout;
  int signal;
  int exit_code;
  bool disabled;
  const char *description;
  struct corio_cr_test *next;
};

void corio_cr_register_test(struct corio_cr_test *t);
void corio_cr_register_suite(struct corio_cr_suite *s);

/* Macro parameters get names no field or user identifier has: a suite called
 * "file" or "name" must not rewrite the designated initializers below. */
#define CORIO_CR_ID(kind, s_, n_) corio_cr_##kind##_##s_##_##n_

#define Test(s_, n_, ...)                                                             \
  static void CORIO_CR_ID(fn, s_, n_)(void);                                          \
  static struct corio_cr_test CORIO_CR_ID(test, s_, n_) = {                           \
      .suite = #s_, .name = #n_, .file = __FILE__, .line = __LINE__,                  \
      .fn = CORIO_CR_ID(fn, s_, n_), __VA_ARGS__};                                    \
  __attribute__((constructor)) static void CORIO_CR_ID(reg, s_, n_)(void) {           \
    corio_cr_register_test(&CORIO_CR_ID(test, s_, n_));                               \
  }                                                                                   \
  static void CORIO_CR_ID(fn, s_, n_)(void)

#define TestSuite(s_, ...)                                                            \
  static struct corio_cr_suite CORIO_CR_ID(suite, s_, cfg) = {.name = #s_, __VA_ARGS__}; \
  __attribute__((constructor)) static void CORIO_CR_ID(sreg, s_, cfg)(void) {         \
    corio_cr_register_suite(&CORIO_CR_ID(suite, s_, cfg));                            \
  }

/* ---- reporting (criterion_compat.c) ---- */

/* A failed check: fatal ends the test's process, otherwise the test is marked
 * failed and goes on. lhs/rhs are the printed operand values (NULL: none). */
void corio_cr_fail(bool fatal, const char *file, int line, const char *expr, const char *lhs,
                   const char *rhs, const char *fmt, ...) __attribute__((format(gnu_printf, 7, 8)));
__attribute__((noreturn)) void corio_cr_skip(const char *file, int line, const char *fmt, ...)
    __attribute__((format(gnu_printf, 3, 4)));
void corio_cr_log(const char *level, const char *fmt, ...) __attribute__((format(gnu_printf, 2, 3)));

void corio_cr_fmt_i(char *buf, size_t n, long long v);
void corio_cr_fmt_u(char *buf, size_t n, unsigned long long v);
void corio_cr_fmt_f(char *buf, size_t n, long double v);
void corio_cr_fmt_p(char *buf, size_t n, const volatile void *v);
void corio_cr_fmt_s(char *buf, size_t n, const char *v);

#define CORIO_CR_FMT(buf, v)                                                          \
  _Generic((v),                                                                       \
      _Bool: corio_cr_fmt_u, char: corio_cr_fmt_i, signed char: corio_cr_fmt_i,       \
      unsigned char: corio_cr_fmt_u, short: corio_cr_fmt_i,                           \
      unsigned short: corio_cr_fmt_u, int: corio_cr_fmt_i, unsigned: corio_cr_fmt_u,  \
      long: corio_cr_fmt_i, unsigned long: corio_cr_fmt_u, long long: corio_cr_fmt_i, \
      unsigned long long: corio_cr_fmt_u, float: corio_cr_fmt_f,                      \
      double: corio_cr_fmt_f, long double: corio_cr_fmt_f,                            \
      default: corio_cr_fmt_p)(buf, sizeof buf, v)

/* `0 ? (x) : (x)` evaluates x once and turns arrays into pointers and
 * bit-fields into plain integers, which __auto_type could not hold. */
#define CORIO_CR_CMP(fatal, a, op, b, ...)                                            \
  do {                                                                                \
    __auto_type corio_cr_a = 0 ? (a) : (a);                                           \
    __auto_type corio_cr_b = 0 ? (b) : (b);                                           \
    if (!(corio_cr_a op corio_cr_b)) {                                                \
      char corio_cr_sa[64], corio_cr_sb[64];                                          \
      CORIO_CR_FMT(corio_cr_sa, corio_cr_a);                                          \
      CORIO_CR_FMT(corio_cr_sb, corio_cr_b);                                          \
      corio_cr_fail(fatal, __FILE__, __LINE__, #a " " #op " " #b, corio_cr_sa,        \
                    corio_cr_sb, "" __VA_ARGS__);                                     \
    }                                                                                 \
  } while (0)

#define CORIO_CR_BOOL(fatal, cond, text, ...)                                         \
  do {                                                                                \
    if (!(cond))                                                                      \
      corio_cr_fail(fatal, __FILE__, __LINE__, text, NULL, NULL, "" __VA_ARGS__);     \
  } while (0)

#define CORIO_CR_PTR(fatal, v, want_null, text, ...)                                  \
  do {                                                                                \
    const volatile void *corio_cr_p = (v);                                            \
    if ((corio_cr_p == NULL) != (want_null)) {                                        \
      char corio_cr_sp[64];                                                           \
      corio_cr_fmt_p(corio_cr_sp, sizeof corio_cr_sp, corio_cr_p);                    \
      corio_cr_fail(fatal, __FILE__, __LINE__, text, corio_cr_sp, NULL, "" __VA_ARGS__); \
    }                                                                                 \
  } while (0)

/* NULL never compares equal (or unequal) to a string: the check fails. */
#define CORIO_CR_STR(fatal, a, op, b, ...)                                            \
  do {                                                                                \
    const char *corio_cr_a = (a), *corio_cr_b = (b);                                  \
    if (!corio_cr_a || !corio_cr_b || !(strcmp(corio_cr_a, corio_cr_b) op 0)) {       \
      char corio_cr_sa[256], corio_cr_sb[256];                                        \
      corio_cr_fmt_s(corio_cr_sa, sizeof corio_cr_sa, corio_cr_a);                    \
      corio_cr_fmt_s(corio_cr_sb, sizeof corio_cr_sb, corio_cr_b);                    \
      corio_cr_fail(fatal, __FILE__, __LINE__, #a " " #op " " #b, corio_cr_sa,        \
                    corio_cr_sb, "" __VA_ARGS__);                                     \
    }                                                                                 \
  } while (0)

#define CORIO_CR_STR_EMPTY(fatal, a, want_empty, text, ...)                           \
  do {                                                                                \
    const char *corio_cr_a = (a);                                                     \
    if (!corio_cr_a || (corio_cr_a[0] == '\0') != (want_empty)) {                     \
      char corio_cr_sa[256];                                                          \
      corio_cr_fmt_s(corio_cr_sa, sizeof corio_cr_sa, corio_cr_a);                    \
      corio_cr_fail(fatal, __FILE__, __LINE__, text, corio_cr_sa, NULL, "" __VA_ARGS__); \
    }                                                                                 \
  } while (0)

#define CORIO_CR_FLOAT(fatal, a, b, eps, want_eq, text, ...)                          \
  do {                                                                                \
    long double corio_cr_a = (a), corio_cr_b = (b), corio_cr_e = (eps);               \
    long double corio_cr_d = corio_cr_a > corio_cr_b ? corio_cr_a - corio_cr_b        \
                                                     : corio_cr_b - corio_cr_a;       \
    if ((corio_cr_d <= corio_cr_e) != (want_eq)) {                                    \
      char corio_cr_sa[64], corio_cr_sb[64];                                          \
      corio_cr_fmt_f(corio_cr_sa, sizeof corio_cr_sa, corio_cr_a);                    \
      corio_cr_fmt_f(corio_cr_sb, sizeof corio_cr_sb, corio_cr_b);                    \
      corio_cr_fail(fatal, __FILE__, __LINE__, text, corio_cr_sa, corio_cr_sb,        \
                    "" __VA_ARGS__);                                                  \
    }                                                                                 \
  } while (0)

#define CORIO_CR_ARR(fatal, a, b, size, want_eq, text, ...)                           \
  do {                                                                                \
    if ((memcmp((a), (b), (size)) == 0) != (want_eq))                                 \
      corio_cr_fail(fatal, __FILE__, __LINE__, text, NULL, NULL, "" __VA_ARGS__);     \
  } while (0)

#define cr_assert(cond, ...) CORIO_CR_BOOL(true, cond, #cond, __VA_ARGS__)
#define cr_expect(cond, ...) CORIO_CR_BOOL(false, cond, #cond, __VA_ARGS__)
#define cr_assert_not(cond, ...) CORIO_CR_BOOL(true, !(cond), "!(" #cond ")", __VA_ARGS__)
#define cr_expect_not(cond, ...) CORIO_CR_BOOL(false, !(cond), "!(" #cond ")", __VA_ARGS__)
#define cr_assert_fail(...) corio_cr_fail(true, __FILE__, __LINE__, NULL, NULL, NULL, "" __VA_ARGS__)
#define cr_expect_fail(...) corio_cr_fail(false, __FILE__, __LINE__, NULL, NULL, NULL, "" __VA_ARGS__)

#define cr_assert_eq(a, b, ...) CORIO_CR_CMP(true, a, ==, b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...) CORIO_CR_CMP(true, a, !=, b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...) CORIO_CR_CMP(true, a, <, b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...) CORIO_CR_CMP(true, a, <=, b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...) CORIO_CR_CMP(true, a, >, b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...) CORIO_CR_CMP(true, a, >=, b, __VA_ARGS__)
#define cr_expect_eq(a, b, ...) CORIO_CR_CMP(false, a, ==, b, __VA_ARGS__)
#define cr_expect_neq(a, b, ...) CORIO_CR_CMP(false, a, !=, b, __VA_ARGS__)
#define cr_expect_lt(a, b, ...) CORIO_CR_CMP(false, a, <, b, __VA_ARGS__)
#define cr_expect_leq(a, b, ...) CORIO_CR_CMP(false, a, <=, b, __VA_ARGS__)
#define cr_expect_gt(a, b, ...) CORIO_CR_CMP(false, a, >, b, __VA_ARGS__)
#define cr_expect_geq(a, b, ...) CORIO_CR_CMP(false, a, >=, b, __VA_ARGS__)

#define cr_assert_null(v, ...) CORIO_CR_PTR(true, v, true, #v " == NULL", __VA_ARGS__)
#define cr_assert_not_null(v, ...) CORIO_CR_PTR(true, v, false, #v " != NULL", __VA_ARGS__)
#define cr_expect_null(v, ...) CORIO_CR_PTR(false, v, true, #v " == NULL", __VA_ARGS__)
#define cr_expect_not_null(v, ...) CORIO_CR_PTR(false, v, false, #v " != NULL", __VA_ARGS__)

#define cr_assert_str_eq(a, b, ...) CORIO_CR_STR(true, a, ==, b, __VA_ARGS__)
#define cr_assert_str_neq(a, b, ...) CORIO_CR_STR(true, a, !=, b, __VA_ARGS__)
#define cr_expect_str_eq(a, b, ...) CORIO_CR_STR(false, a, ==, b, __VA_ARGS__)
#define cr_expect_str_neq(a, b, ...) CORIO_CR_STR(false, a, !=, b, __VA_ARGS__)
#define cr_assert_str_empty(a, ...) CORIO_CR_STR_EMPTY(true, a, true, #a " is empty", __VA_ARGS__)
#define cr_assert_str_not_empty(a, ...)                                               \
  CORIO_CR_STR_EMPTY(true, a, false, #a " is not empty", __VA_ARGS__)
#define cr_expect_str_empty(a, ...) CORIO_CR_STR_EMPTY(false, a, true, #a " is empty", __VA_ARGS__)
#define cr_expect_str_not_empty(a, ...)                                               \
  CORIO_CR_STR_EMPTY(false, a, false, #a " is not empty", __VA_ARGS__)

#define cr_assert_float_eq(a, b, eps, ...)                                            \
  CORIO_CR_FLOAT(true, a, b, eps, true, #a " == " #b " (within " #eps ")", __VA_ARGS__)
#define cr_assert_float_neq(a, b, eps, ...)                                           \
  CORIO_CR_FLOAT(true, a, b, eps, false, #a " != " #b " (beyond " #eps ")", __VA_ARGS__)
#define cr_expect_float_eq(a, b, eps, ...)                                            \
  CORIO_CR_FLOAT(false, a, b, eps, true, #a " == " #b " (within " #eps ")", __VA_ARGS__)
#define cr_expect_float_neq(a, b, eps, ...)                                           \
  CORIO_CR_FLOAT(false, a, b, eps, false, #a " != " #b " (beyond " #eps ")", __VA_ARGS__)

#define cr_assert_arr_eq(a, b, size, ...)                                             \
  CORIO_CR_ARR(true, a, b, size, true, #a " == " #b " (" #size " bytes)", __VA_ARGS__)
#define cr_assert_arr_neq(a, b, size, ...)                                            \
  CORIO_CR_ARR(true, a, b, size, false, #a " != " #b " (" #size " bytes)", __VA_ARGS__)
#define cr_expect_arr_eq(a, b, size, ...)                                             \
  CORIO_CR_ARR(false, a, b, size, true, #a " == " #b " (" #size " bytes)", __VA_ARGS__)
#define cr_expect_arr_neq(a, b, size, ...)                                            \
  CORIO_CR_ARR(false, a, b, size, false, #a " != " #b " (" #size " bytes)", __VA_ARGS__)

#define cr_skip_test(...) corio_cr_skip(__FILE__, __LINE__, "" __VA_ARGS__)

#define cr_log_info(...) corio_cr_log("[----] ", __VA_ARGS__)
#define cr_log_warn(...) corio_cr_log("[WARN] ", __VA_ARGS__)
#define cr_log_error(...) corio_cr_log("[ERR ] ", __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
