/* Built against a corio without sockets: no listen/dial built-ins. */
#include "lang.h"

void net_init(void) {}
int listener_method(task_t *t, int mid, int nargs, bool *handled) {
  (void)t; (void)mid; (void)nargs;
  *handled = false;
  return ST_OK;
}
void listener_finalize(obj_t *o) { (void)o; }
