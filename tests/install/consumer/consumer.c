/* The smallest embedding: a main coroutine that starts workers, waits for them
 * through a channel and returns a status. */
#include <corio/corio.h>
#include <stdio.h>

static void worker(void *arg) {
  corio_chan_t *ch = arg;
  int v = 1;
  corio_sleep(1000000);
  corio_chan_send(ch, &v);
}

static int main_co(void *arg) {
  (void)arg;
  corio_chan_t *ch = corio_chan_create(sizeof(int), 0);
  if (!ch) return 1;
  for (int i = 0; i < 10; i++) corio_spawn(worker, ch);
  int sum = 0;
  for (int i = 0; i < 10; i++) {
    int v;
    bool ok;
    corio_chan_recv(ch, &v, &ok);
    sum += v;
  }
  corio_chan_destroy(ch);
  return sum == 10 ? 0 : 2;
}

int main(void) {
  int status = -1;
  int rc = corio_run(NULL, main_co, NULL, &status);
  if (rc != 0) {
    fprintf(stderr, "corio_run: %s\n", corio_strerror(rc));
    return 1;
  }
  printf("consumer: main returned %d\n", status);
  return status;
}
