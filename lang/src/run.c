/* One run of a program: start-up, the main task, shutdown.
 *
 * Start-up: corio_init, the built-ins and standard streams, the parse, then
 * corio_main runs the script as the main task (task 1). Shutdown: when the
 * main task ends, the standard output is flushed; if no other task is still
 * running, every object is finalised (files closed) on the main coroutine,
 * before corio_shutdown. Tasks still parked when main returns are abandoned,
 * as corio abandons their coroutines, and the process exits.
 *
 * Exit status: the script's (exit(n)), 0 when it ends, 1 after an uncaught
 * error (main's, or a spawned task's that nobody joined), 2 for a syntax
 * error or a deadlock, 64 for bad usage, 66 for an unreadable script.
 */
#include <stdlib.h>
#include <string.h>

#include "lang.h"
#include "run.h"

vm_t g_vm;
bool g_fuzzing;

static proto_t *g_main_proto;

static int lang_main(void *arg) {
  (void)arg;
  corio_mutex_lock(&g_vm.lock);
  if (!g_main_proto) { /* a syntax error: only the standard streams to close */
    gc_free_all();
    g_vm.clean = true;
    corio_mutex_unlock(&g_vm.lock);
    return 2;
  }
  task_t *t = task_new();
  g_vm.next_id = t->id; /* main is task 1 */
  char here;
  t->cstack_top = &here;
  int st = run_main_chunk(t, g_main_proto);
  int code = 0;
  if (st == ST_ERR) {
    stdout_flush(NULL);
    report_error(t->err, "");
    code = 1;
  } else if (st == ST_EXIT) {
    code = g_vm.exit_code;
  }
  t->running = false;
  t->done = true;
  t->sp = 0;
  t->nframes = 0;
  g_vm.ntasks--;
  task_release(t);
  if (st != ST_EXIT) {
    /* failures nobody joined */
    for (task_t *f = g_vm.live; f; f = f->next_live)
      if (f->failed && !f->observed) {
        stdout_flush(NULL);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "task %llu: ", (unsigned long long)f->id);
        report_error(f->result, prefix);
        if (!code) code = 1;
      }
  }
  stdout_flush(NULL);
  g_vm.exit_code = code;
  if (g_vm.ntasks == 0) {
    g_vm.live = NULL;
    for (int i = 0; i < g_nglobals; i++) g_globals[i].v = V_NIL;
    gc_free_all(); /* closes every file while we are still a coroutine */
    g_vm.clean = true;
  }
  corio_mutex_unlock(&g_vm.lock);
  return code;
}

/* corio_main itself failed: a deadlock, or the runtime could not start. */
static int lang_main_failed(int r) {
  stdout_flush(NULL);
  if (lang_is_deadlock(r)) {
    lang_report_deadlock();
    return 2;
  }
  fprintf(stderr, "corio-lang: %s\n", corio_strerror(r));
  return 70;
}

int lang_run(source_t *src, int nargs, char **args) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.stack_size = LANG_TASK_STACK;
  lang_configure(&cfg);
  if (g_fuzzing) cfg.procs = 1;
  int r = corio_init(&cfg);
  if (r < 0) {
    fprintf(stderr, "corio-lang: corio_init: %s\n", corio_strerror(r));
    return 70;
  }
  memset(&g_vm, 0, sizeof g_vm);
  g_vm.lock = (corio_mutex_t)CORIO_MUTEX_INIT;
  g_vm.threshold = (size_t)4 << 20;
  g_vm.src = src;
  g_vm.fuel = 200000;
  builtins_init();
  char err[512];
  g_main_proto = parse_program(src, err, sizeof err);
  if (!g_main_proto && !g_fuzzing) fprintf(stderr, "%s\n", err);
  if (g_main_proto) {
    g_vm.args = list_new((size_t)nargs);
    for (int i = 0; i < nargs; i++) list_push(AS_LIST(g_vm.args), str_new(args[i], strlen(args[i])));
    g_globals[global_index("args", 4)].v = g_vm.args;
  }
  int status = 0;
  r = corio_main(lang_main, NULL, &status);
  int code = r < 0 ? lang_main_failed(r) : status;
  fflush(NULL);
  corio_shutdown();
  if (!g_vm.clean && g_fuzzing) {
    /* tasks were abandoned; with no files in a fuzzing run, the heap (channels
     * included, now that corio has shut down) can go */
    gc_free_all();
    g_vm.clean = true;
  }
  if (g_vm.clean) {
    parse_free_all();
    globals_free();
  }
  return code;
}
