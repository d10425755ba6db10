/* The wait group, after Go's sync.WaitGroup.
 *
 * state, one 64-bit word: the counter (signed) in the high 32 bits, the number
 * of waiters in the low 32. Waiters sleep on sema. When an add brings the
 * counter to zero with waiters present, nobody else may touch the word (an add
 * from zero racing with Wait is misuse, as in Go), so the adder resets it to
 * zero and releases the semaphore once per waiter.
 */
#include "corio/sync.h"
#include "sched.h"
#include "sema_internal.h"

int corio_wg_add(corio_wg_t *wg, int delta) {
  if (wg == NULL)
    return CORIO_EINVAL;
  /* Acq_rel: the work done before done() happens before Wait returns. */
  uint64_t st = __atomic_add_fetch(&wg->state, (uint64_t)(int64_t)delta << 32,
                                   __ATOMIC_ACQ_REL);
  int32_t v = (int32_t)(st >> 32);
  uint32_t w = (uint32_t)st;
  if (v < 0)
    corio__throw("corio_wg: negative wait group counter");
  if (w != 0 && delta > 0 && v == delta)
    corio__throw("corio_wg: add called concurrently with wait");
  if (v > 0 || w == 0)
    return 0;
  if (__atomic_load_n(&wg->state, __ATOMIC_ACQUIRE) != st)
    corio__throw("corio_wg: add called concurrently with wait");
  __atomic_store_n(&wg->state, 0, __ATOMIC_RELEASE);
  for (; w != 0; w--)
    corio__sema_release(&wg->sema, false);
  return 0;
}

int corio_wg_done(corio_wg_t *wg) { return corio_wg_add(wg, -1); }

int corio_wg_wait(corio_wg_t *wg) {
  if (wg == NULL)
    return CORIO_EINVAL;
  if (corio__getg() == NULL)
    return CORIO_ENOTCORO;
  uint64_t st = __atomic_load_n(&wg->state, __ATOMIC_ACQUIRE);
  for (;;) {
    if ((st >> 32) == 0)
      return 0;
    if (__atomic_compare_exchange_n(&wg->state, &st, st + 1, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
      break;
  }
  corio__sema_acquire(&wg->sema, false, 0);
  if (__atomic_load_n(&wg->state, __ATOMIC_ACQUIRE) != 0)
    corio__throw("corio_wg: reused before the previous wait returned");
  return 0;
}
