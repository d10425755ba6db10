/* The Windows timing paths of issue 13, item 8: the monitor's short sleep on
 * a high-resolution waitable timer (WaitOnAddress would wait a system tick,
 * 15.6 ms by default, for sysmon's 20 us), its wake, and the port wait's
 * timeout, which rounds down. Each test says which path it took; Wine's
 * timers resolve to about 1 ms, so durations are printed, not asserted. */
#include <winsock2.h>
#include <windows.h>

#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "corio/runtime.h"
#include "netpoll_windows_testing.h"
#include "os.h"
#include "os_windows_testing.h"

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

Test(os_windows, sysmon_short_sleep_path_and_duration) {
  bool hr = corio__os_sysmon_high_res();
  _Atomic uint32_t word = 0;
  enum { N = 21 };
  int64_t took[N];
  for (int i = 0; i < N; i++) {
    int64_t t0 = corio__os_nanotime();
    corio__os_sysmon_sleep(&word, 0, 20000); /* sysmon's short sleep, 20 us */
    took[i] = corio__os_nanotime() - t0;
    cr_assert_geq(took[i], 0);
  }
  qsort(took, N, sizeof took[0], cmp64);
  /* For comparison, the wait sysmon used before. */
  int64_t before[N];
  for (int i = 0; i < N; i++) {
    int64_t t0 = corio__os_nanotime();
    corio__os_futex_wait(&word, 0, 20000);
    before[i] = corio__os_nanotime() - t0;
  }
  qsort(before, N, sizeof before[0], cmp64);
  printf("os_windows: sysmon's 20 us sleep takes %s; median %.1f us over %d sleeps%s; "
         "WaitOnAddress for the same: median %.1f us\n",
         hr ? "the high-resolution waitable timer" : "WaitOnAddress (no high-resolution timer here)",
         (double)took[N / 2] / 1000, N, hr ? "" : " (a system tick on real Windows)",
         (double)before[N / 2] / 1000);
  fflush(stdout);
  /* A sleep must end however the system rounds; the bound is generous. */
  cr_assert_lt(took[N / 2], (int64_t)5000 * 1000000);
}

Test(os_windows, sysmon_sleep_ends_at_a_wake) {
  _Atomic uint32_t word = 0;
  /* A wake that comes before the sleep is not lost: the sleep, 30 ms on the
   * short path, returns at once (the event stays set for it). */
  corio__os_sysmon_wake(&word);
  int64_t t0 = corio__os_nanotime();
  corio__os_sysmon_sleep(&word, 0, 30 * (int64_t)1000000);
  int64_t took = corio__os_nanotime() - t0;
  printf("os_windows: a wake before a 30 ms sleep ended it after %.1f us (%s)\n",
         (double)took / 1000, corio__os_sysmon_high_res() ? "timer and event" : "WaitOnAddress");
  fflush(stdout);
  if (corio__os_sysmon_high_res()) cr_assert_lt(took, 30 * (int64_t)1000000);
  /* A changed word: no sleep at all, on either path. */
  atomic_store(&word, 1);
  corio__os_sysmon_sleep(&word, 0, 30 * (int64_t)1000000);
}

/* A thread sleeping in the monitor's sleep is woken by another. */
static _Atomic uint32_t shared_word;
static _Atomic int sleeper_state;

static DWORD WINAPI sleeper(void *arg) {
  (void)arg;
  atomic_store(&sleeper_state, 1);
  while (atomic_load(&shared_word) == 0) corio__os_sysmon_sleep(&shared_word, 0, 25 * (int64_t)1000000);
  atomic_store(&sleeper_state, 2);
  return 0;
}

Test(os_windows, sysmon_sleep_woken_by_another_thread) {
  HANDLE t = CreateThread(NULL, 0, sleeper, NULL, 0, NULL);
  cr_assert(t != NULL);
  while (atomic_load(&sleeper_state) == 0) SwitchToThread();
  atomic_store(&shared_word, 1);
  corio__os_sysmon_wake(&shared_word);
  cr_assert_eq(WaitForSingleObject(t, 10000), WAIT_OBJECT_0);
  cr_assert_eq(atomic_load(&sleeper_state), 2);
  CloseHandle(t);
}

Test(os_windows, port_wait_timeout_rounds_down) {
  cr_assert_eq(corio__netpoll_debug_wait_ms(-1), INFINITE);
  cr_assert_eq(corio__netpoll_debug_wait_ms(0), 0);
  cr_assert_eq(corio__netpoll_debug_wait_ms(1), 1);          /* never a busy loop */
  cr_assert_eq(corio__netpoll_debug_wait_ms(999999), 1);
  cr_assert_eq(corio__netpoll_debug_wait_ms(1000000), 1);
  cr_assert_eq(corio__netpoll_debug_wait_ms(1999999), 1);    /* down, not up to 2 */
  cr_assert_eq(corio__netpoll_debug_wait_ms(15600000), 15);
}
