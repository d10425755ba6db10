/* corio-lang: a small interpreted language whose runtime is corio.
 *
 * One header for the interpreter's parts: values and heap objects (value.c,
 * gc.c), the lexer and parser (lex.c, parse.c: source to a resolved AST), the
 * evaluator (interp.c), tasks and the VM lock (task.c), and the built-ins
 * (builtins.c, chan.c, io.c, net.c). It includes only corio's public headers.
 *
 * Execution model (docs/EMBEDDING.md has the long form): every task is a
 * corio coroutine running the evaluator on its own C stack; all of a task's
 * interpreter values (locals, temporaries, call arguments) live on its
 * heap-allocated value stack, which the collector scans as a root. One VM
 * lock (a corio mutex) serialises the interpreter; blocking built-ins release
 * it around the corio call and take it back, so a parked task is always at a
 * safe point for the collector.
 */
#ifndef LANG_H
#define LANG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "corio/corio.h"

/* ---- values ---- */
typedef enum {
  T_NIL, T_BOOL, T_INT, T_FLOAT, T_BUILTIN, T_UNDEF,
  /* heap objects from here on */
  T_STR, T_LIST, T_MAP, T_FUNC, T_CELL, T_RANGE, T_TASK, T_CHAN, T_STREAM,
  T_LISTENER, T_MUTEX, T_WG
} vtype_t;

typedef struct obj obj_t;
typedef struct task task_t;
typedef int (*builtin_fn_t)(task_t *t, int nargs); /* args on the stack; pushes one result */

typedef struct value {
  uint8_t t;
  union {
    bool b;
    int64_t i;
    double f;
    obj_t *o;
    int bi; /* T_BUILTIN: index into the built-in table */
  } u;
} value_t;

#define V_NIL ((value_t){.t = T_NIL})
#define V_INT(x) ((value_t){.t = T_INT, .u.i = (x)})
#define V_FLOAT(x) ((value_t){.t = T_FLOAT, .u.f = (x)})
#define V_BOOL(x) ((value_t){.t = T_BOOL, .u.b = (x)})
#define V_OBJ(ty, p) ((value_t){.t = (ty), .u.o = (obj_t *)(p)})
#define IS_OBJ(v) ((v).t >= T_STR)

struct obj {
  obj_t *next;    /* every object, in the collector's list */
  uint8_t type;
  uint8_t mark;
  uint8_t perm;   /* never collected (literals, names) */
  uint32_t size;  /* bytes accounted to the heap */
};

typedef struct str {
  obj_t h;
  size_t len;
  uint32_t hash;
  char data[]; /* NUL-terminated as a convenience */
} str_t;

typedef struct list {
  obj_t h;
  value_t *items;
  size_t len, cap;
} list_t;

typedef struct map {
  obj_t h;
  value_t *keys; /* T_UNDEF: empty slot; T_NIL key with T_BOOL value: a tombstone */
  value_t *vals;
  size_t count, used, cap; /* used counts tombstones too */
} map_t;

typedef struct cell {
  obj_t h;
  value_t v;
} cell_t;

typedef struct range {
  obj_t h;
  int64_t start, stop, step;
} range_t;

typedef struct proto proto_t;
typedef struct func {
  obj_t h;
  proto_t *proto;
  int nup;
  cell_t *up[];
} func_t;

/* ---- source and AST ---- */
typedef struct source {
  char *name; /* the script's path, "-e" for a snippet */
  char *text;
  size_t len;
} source_t;

typedef enum {
  /* expressions */
  N_NIL, N_TRUE, N_FALSE, N_INT, N_FLOAT, N_STR, N_LOCAL, N_CELLVAR, N_UPVAL, N_GLOBAL,
  N_LIST, N_MAP, N_FUNC, N_CALL, N_METHOD, N_INDEX, N_FIELD, N_BINOP, N_AND, N_OR,
  N_NOT, N_NEG, N_SPAWN,
  /* statements */
  N_BLOCK, N_EXPR, N_LET, N_ASSIGN, N_IF, N_WHILE, N_FOR, N_BREAK, N_CONTINUE,
  N_RETURN, N_TRY, N_THROW, N_SELECT, N_FNDECL
} nkind_t;

typedef struct node node_t;
typedef struct var var_t;

/* A local variable of a function: a slot, which holds a cell when some
 * inner function captures it (decided when the function's parse ends). */
struct var {
  const char *name;
  int slot;
  bool captured;
  int depth; /* block depth, for scoping */
};

/* How an inner function finds one of its captured variables at closure
 * creation: the enclosing function's slot (a cell), or its own upvalue. */
typedef struct updesc {
  bool from_local;
  int index;
} updesc_t;

struct proto {
  const char *name;
  int nparams;
  int nslots;
  int nup;
  updesc_t *ups;
  int *cell_params; /* parameter slots that must be boxed at entry */
  int ncell_params;
  node_t *body;
  int line;
};

/* Select cases. */
typedef enum { SEL_RECV, SEL_SEND, SEL_AFTER, SEL_DEFAULT } sckind_t;
typedef struct selcase {
  sckind_t kind;
  node_t *chan;  /* RECV, SEND */
  node_t *val;   /* SEND: the value; AFTER: milliseconds */
  node_t *bind_v, *bind_ok; /* RECV: N_LET-style targets (may be NULL) */
  node_t *body;
} selcase_t;

struct node {
  uint8_t kind;
  int line;
  union {
    int64_t i;
    double f;
    value_t k;              /* N_STR: a permanent string */
    struct { int slot; var_t *var; const char *name; } var; /* N_LOCAL/N_CELLVAR/N_UPVAL/N_GLOBAL */
    struct { node_t **items; int n; } list; /* N_LIST, N_MAP (key, value pairs), N_BLOCK */
    struct { node_t *fn; node_t **args; int nargs; } call;     /* N_CALL, N_SPAWN */
    struct { node_t *obj; value_t name; int mid; node_t **args; int nargs; } meth; /* N_METHOD, N_FIELD */
    struct { node_t *a, *b; int op; } bin;  /* N_BINOP, N_AND, N_OR, N_INDEX, N_NOT, N_NEG */
    proto_t *proto;         /* N_FUNC */
    struct { node_t **targets; int n; node_t *e; int op; } let; /* N_LET, N_ASSIGN (op: '=' or '+', '-') */
    struct { node_t *cond, *then, *els; } cond; /* N_IF, N_WHILE */
    struct { node_t *t1, *t2, *e, *body; } forin;
    struct { node_t *e; } ret;  /* N_RETURN, N_THROW, N_EXPR */
    struct { node_t *body, *bind, *handler; } try_;
    struct { selcase_t *cases; int n; } sel;
    struct { node_t *target; node_t *fn; } fndecl;
  } u;
};

/* Parse src into the body of the main chunk; NULL on a syntax error, with a
 * "file:line: message" in err. Globals named by the script are created. */
proto_t *parse_program(source_t *src, char *err, size_t errlen);
/* Free every AST and permanent object made by the parser (at exit). */
void parse_free_all(void);

/* ---- lexer ---- */
typedef enum {
  K_EOF, K_NAME, K_INT, K_FLOAT, K_STR, K_OP,
  K_LET, K_FN, K_IF, K_ELSE, K_WHILE, K_FOR, K_IN, K_BREAK, K_CONTINUE, K_RETURN,
  K_TRY, K_CATCH, K_THROW, K_SPAWN, K_SELECT, K_CASE, K_NILK, K_TRUEK, K_FALSEK
} tkind_t;

typedef struct token {
  tkind_t kind;
  int op; /* K_OP: a character, or one of the two-character codes below */
  const char *start;
  size_t len;
  int line;
  bool nl_before;
  int64_t i;
  double f;
  char *s; /* K_STR: decoded (malloc'd), length slen */
  size_t slen;
} token_t;

enum { OP_EQ = 256, OP_NE, OP_LE, OP_GE, OP_AND, OP_OR, OP_SHL, OP_SHR, OP_ARROW,
       OP_PLUSEQ, OP_MINUSEQ };

typedef struct lexer {
  const char *p, *end;
  int line;
  char *err;
  size_t errlen;
  const char *file;
} lexer_t;

/* Next token; false on a lexical error (message in lx->err). */
bool lex_next(lexer_t *lx, token_t *tok);

/* ---- globals ---- */
typedef struct global {
  const char *name;
  value_t v;
  bool defined_by_script;
  int first_use_line;
} global_t;

extern global_t *g_globals;
extern int g_nglobals;
int global_index(const char *name, size_t len); /* find or add */

/* ---- tasks ---- */
typedef struct frame {
  proto_t *proto;
  func_t *fn;   /* the closure running (NULL for the main chunk) */
  size_t base;  /* index of slot 0 in the task's stack */
  int line;     /* the line running now */
} frame_t;

struct task {
  obj_t h;
  uint64_t id;
  value_t *stack;
  size_t sp, cap;
  frame_t *frames;
  int nframes, capframes;
  value_t err;      /* the error being raised (a map), while status is ERR */
  value_t ret;      /* a returning function's value */
  value_t result;   /* when done: the function's result or its error */
  bool done, failed, observed, running;
  const char *waiting; /* what it is blocked on, for the deadlock report */
  int budget;       /* statements left before it offers the VM lock to others */
  corio_wg_t join_wg;
  task_t *prev_live, *next_live; /* the live-task list (a collector root) */
  char *cstack_top; /* the C stack at the task's entry, for the depth check */
  int spawn_line;   /* where it was spawned: its location before its first frame */
};

/* Each task's C stack (the evaluator recurses on it), and how much of it the
 * evaluator may use before it reports a stack overflow. */
#define LANG_TASK_STACK ((size_t)1 << 20)
#define LANG_CSTACK_USABLE (LANG_TASK_STACK - ((size_t)256 << 10))

/* Fuzzing build: no I/O built-ins, short timers, a statement budget. */
extern bool g_fuzzing;

/* Statuses of exec/eval. */
enum { ST_OK = 0, ST_ERR, ST_BREAK, ST_CONTINUE, ST_RETURN, ST_EXIT };

/* The VM. */
typedef struct vm {
  corio_mutex_t lock;
  task_t *live;       /* running and not-yet-joined failed tasks */
  size_t ntasks;
  uint64_t next_id;
  size_t bytes, threshold, nobjects;
  bool gc_pending;
  obj_t *objects;
  int exit_code;
  bool clean;         /* every object was finalised on the main coroutine */
  int64_t fuel;       /* fuzzing: statements left */
  source_t *src;
  value_t args;       /* the script's arguments (a list) */
  value_t std[3];     /* stdin, stdout, stderr streams */
} vm_t;
extern vm_t g_vm;

/* VM lock around a blocking corio call; records what the task waits on. */
void vm_unlock(task_t *t, const char *waiting);
void vm_relock(task_t *t);

task_t *task_new(void);
int task_spawn(task_t *parent, int nargs, int line); /* callee + args on top of parent's stack */
void task_release(task_t *t);

/* ---- stack helpers ---- */
void stack_grow(task_t *t, size_t need);
static inline void push(task_t *t, value_t v) {
  if (t->sp == t->cap) stack_grow(t, 1);
  t->stack[t->sp++] = v;
}
static inline value_t pop(task_t *t) { return t->stack[--t->sp]; }
static inline value_t *peek(task_t *t, int from_top) { return &t->stack[t->sp - 1 - from_top]; }
static inline value_t *arg(task_t *t, int nargs, int i) { return &t->stack[t->sp - nargs + i]; }

/* ---- heap ---- */
void *gc_alloc(vtype_t type, size_t size);      /* zeroed; never collects */
void gc_account(long delta);                    /* external bytes (buffers) */
void gc_safepoint(task_t *t);                   /* collect if due */
void gc_collect(void);
void gc_free_all(void);                         /* at exit, after every task has finished */
size_t gc_live_bytes(void);

value_t str_new(const char *s, size_t len);
value_t str_perm(const char *s, size_t len);
value_t str_cat(const str_t *a, const str_t *b);
value_t list_new(size_t cap);
void list_push(list_t *l, value_t v);
value_t map_new(void);
bool map_get(map_t *m, value_t k, value_t *out);
void map_set(map_t *m, value_t k, value_t v);
bool map_del(map_t *m, value_t k);
void map_set_str(map_t *m, const char *k, value_t v);
value_t map_get_str(map_t *m, const char *k);
bool values_equal(value_t a, value_t b);
uint32_t value_hash(value_t v);
const char *type_name(value_t v);
/* Append a printable form of v to a growing buffer (repr: strings quoted). */
typedef struct sbuf { char *p; size_t len, cap; } sbuf_t;
void sb_put(sbuf_t *b, const char *s, size_t n);
void sb_printf(sbuf_t *b, const char *fmt, ...);
void value_format(sbuf_t *b, value_t v, bool repr, int depth);
value_t value_tostr(value_t v);
bool truthy(value_t v);

#define AS_STR(v) ((str_t *)(v).u.o)
#define AS_LIST(v) ((list_t *)(v).u.o)
#define AS_MAP(v) ((map_t *)(v).u.o)
#define AS_FUNC(v) ((func_t *)(v).u.o)
#define AS_CELL(v) ((cell_t *)(v).u.o)
#define AS_TASK(v) ((task_t *)(v).u.o)

/* ---- evaluation ---- */
int run_main_chunk(task_t *t, proto_t *main);
int call_value(task_t *t, int nargs, int line);  /* callee + args on the stack -> result */
/* Raise a language error (message printf-style); returns ST_ERR. */
int raise(task_t *t, const char *fmt, ...);
/* Raise the error for a corio error code (message from corio_strerror). */
int raise_corio(task_t *t, int err, const char *what);
/* Print an uncaught error with its trace to stderr. */
void report_error(value_t err, const char *prefix);
int current_line(task_t *t);

/* ---- built-ins ---- */
typedef struct builtin {
  const char *name;
  builtin_fn_t fn;
  int min_args, max_args; /* max -1: any */
} builtin_t;
extern const builtin_t *g_builtins;
extern int g_nbuiltins;
void builtins_init(void); /* registers built-in globals */
/* Method calls on handles, lists, strings: args on the stack above the receiver. */
int call_method(task_t *t, int mid, value_t name, int nargs);
int method_id(const char *name, size_t len); /* -1 if not a built-in method name */
void builtins_register(const builtin_t *table, int n);

/* Parts of the built-ins, each registering its own functions. */
void task_init(void);
void chan_init(void);
void io_init(void);
void net_init(void);
int chan_method(task_t *t, int mid, int nargs, bool *handled);
int stream_method(task_t *t, int mid, int nargs, bool *handled);
int listener_method(task_t *t, int mid, int nargs, bool *handled);
int task_method(task_t *t, int mid, int nargs, bool *handled);
int exec_select(task_t *t, node_t *n);
/* For select (chan.c): evaluate an expression node; bind a fired case's
 * value and run its body. */
int eval_node(task_t *t, node_t *n);
int exec_case(task_t *t, selcase_t *c, value_t v, bool ok);
void stdout_flush(task_t *t);
int stdout_append(task_t *t, const char *s, size_t n);

/* Finalisers and marking for handle objects (called by the collector). */
void chan_finalize(obj_t *o);
void chan_mark(obj_t *o, void (*mark)(value_t));
void stream_finalize(obj_t *o);
void listener_finalize(obj_t *o);

/* Method ids (method_id maps names to these). */
enum {
  M_SEND, M_RECV, M_RECV_OK, M_CLOSE, M_LEN, M_CAP, M_READ, M_READLINE, M_READALL, M_WRITE,
  M_SEEK, M_SET_DEADLINE, M_SET_READ_DEADLINE, M_SET_WRITE_DEADLINE, M_NAME, M_CLOSE_WRITE,
  M_LOCAL_ADDR, M_REMOTE_ADDR, M_ACCEPT, M_ADDR, M_JOIN, M_ID, M_ADD, M_DONE, M_WAIT,
  M_LOCK, M_UNLOCK, M_PUSH, M_POP, M_SPLIT, M_KEYS, M_HAS, M_DEL, M_CONTAINS, M_TRIM,
  M_UPPER, M_LOWER, M_FIND, M_STARTS_WITH, M_SUB, M_NMETHODS
};

/* Time helpers: milliseconds in the language, nanoseconds in corio. */
int64_t ms_to_deadline(value_t ms, bool *ok);

#endif
