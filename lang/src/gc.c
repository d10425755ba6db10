/* The collector: precise, non-moving mark and sweep.
 *
 * Roots: the globals, the script's arguments and standard streams, and every
 * live task (running, parked or waiting for the VM lock) with its whole value
 * stack, its error, return and result values. Values inside corio channels
 * are invisible to us, so each channel keeps the heap values it has in flight
 * in a list of its own (chan.c), which chan_mark reports.
 *
 * When: allocation only counts bytes and sets gc_pending; the collection runs
 * at a safe point (gc_safepoint, called at statement boundaries and function
 * entries) by the task holding the VM lock. At a safe point every value the
 * running task uses is on its value stack; every other task is either waiting
 * for the VM lock at a safe point of its own or inside a blocking corio call
 * whose arguments are on its stack. So the roots are complete.
 *
 * Objects never move (a parked task may be writing a string's bytes to a
 * file while we collect). Handles that become garbage are closed and freed by
 * their finalisers: nothing else refers to them, so no task is inside a call
 * on them.
 */
#include <stdlib.h>
#include <string.h>

#include "lang.h"

#define GC_MIN_THRESHOLD ((size_t)4 << 20)

static obj_t **gray;
static size_t ngray, capgray;

static void oom(void) {
  fputs("corio-lang: out of memory\n", stderr);
  exit(70);
}

void *gc_alloc(vtype_t type, size_t size) {
  obj_t *o = calloc(1, size);
  if (!o) oom();
  o->type = (uint8_t)type;
  o->size = (uint32_t)(size > UINT32_MAX ? UINT32_MAX : size);
  o->next = g_vm.objects;
  g_vm.objects = o;
  g_vm.nobjects++;
  g_vm.bytes += size;
  if (g_vm.bytes > g_vm.threshold) g_vm.gc_pending = true;
  return o;
}

void gc_account(long delta) {
  g_vm.bytes += (size_t)delta;
  if (g_vm.bytes > g_vm.threshold) g_vm.gc_pending = true;
}

size_t gc_live_bytes(void) { return g_vm.bytes; }

static void mark_obj(obj_t *o) {
  if (!o || o->perm || o->mark) return;
  o->mark = 1;
  if (ngray == capgray) {
    capgray = capgray ? capgray * 2 : 256;
    gray = realloc(gray, capgray * sizeof *gray);
    if (!gray) oom();
  }
  gray[ngray++] = o;
}

static void mark_value(value_t v) {
  if (IS_OBJ(v)) mark_obj(v.u.o);
}

static void mark_task(task_t *t) {
  for (size_t i = 0; i < t->sp; i++) mark_value(t->stack[i]);
  for (int i = 0; i < t->nframes; i++) mark_obj((obj_t *)t->frames[i].fn);
  mark_value(t->err);
  mark_value(t->ret);
  mark_value(t->result);
}

static void trace(obj_t *o) {
  switch (o->type) {
  case T_LIST: {
    list_t *l = (list_t *)o;
    for (size_t i = 0; i < l->len; i++) mark_value(l->items[i]);
    break;
  }
  case T_MAP: {
    map_t *m = (map_t *)o;
    for (size_t i = 0; i < m->cap; i++) {
      if (m->keys[i].t == T_UNDEF) continue; /* an empty slot: its value was never written */
      mark_value(m->keys[i]);
      if (m->vals[i].t != T_UNDEF) mark_value(m->vals[i]); /* not a tombstone */
    }
    break;
  }
  case T_FUNC: {
    func_t *f = (func_t *)o;
    for (int i = 0; i < f->nup; i++) mark_obj((obj_t *)f->up[i]);
    break;
  }
  case T_CELL: mark_value(((cell_t *)o)->v); break;
  case T_TASK: mark_task((task_t *)o); break;
  case T_CHAN: chan_mark(o, mark_value); break;
  default: break;
  }
}

static void free_obj(obj_t *o) {
  switch (o->type) {
  case T_LIST: free(((list_t *)o)->items); break;
  case T_MAP: free(((map_t *)o)->keys); free(((map_t *)o)->vals); break;
  case T_TASK: free(((task_t *)o)->stack); free(((task_t *)o)->frames); break;
  case T_CHAN: chan_finalize(o); break;
  case T_STREAM: stream_finalize(o); break;
  case T_LISTENER: listener_finalize(o); break;
  default: break;
  }
  free(o);
}

static size_t obj_bytes(obj_t *o) {
  size_t n = o->size;
  if (o->type == T_LIST) n += ((list_t *)o)->cap * sizeof(value_t);
  if (o->type == T_MAP) n += ((map_t *)o)->cap * 2 * sizeof(value_t);
  if (o->type == T_TASK) n += ((task_t *)o)->cap * sizeof(value_t) + (size_t)((task_t *)o)->capframes * sizeof(frame_t);
  return n;
}

void gc_collect(void) {
  for (int i = 0; i < g_nglobals; i++) mark_value(g_globals[i].v);
  mark_value(g_vm.args);
  for (int i = 0; i < 3; i++) mark_value(g_vm.std[i]);
  for (task_t *t = g_vm.live; t; t = t->next_live) mark_obj(&t->h);
  while (ngray) trace(gray[--ngray]);
  size_t live = 0, nobj = 0;
  obj_t **pp = &g_vm.objects;
  while (*pp) {
    obj_t *o = *pp;
    if (o->mark) {
      o->mark = 0;
      live += obj_bytes(o);
      nobj++;
      pp = &o->next;
    } else {
      *pp = o->next;
      free_obj(o);
    }
  }
  g_vm.bytes = live;
  g_vm.nobjects = nobj;
  g_vm.threshold = live * 2 > GC_MIN_THRESHOLD ? live * 2 : GC_MIN_THRESHOLD;
  g_vm.gc_pending = false;
}

void gc_safepoint(task_t *t) {
  (void)t;
  if (g_vm.gc_pending) gc_collect();
}

void gc_free_all(void) {
  obj_t *o = g_vm.objects;
  while (o) {
    obj_t *n = o->next;
    free_obj(o);
    o = n;
  }
  g_vm.objects = NULL;
  g_vm.bytes = 0;
  g_vm.nobjects = 0;
  free(gray);
  gray = NULL;
  ngray = capgray = 0;
}
