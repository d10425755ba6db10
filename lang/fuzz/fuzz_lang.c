/* libFuzzer target: parse and run one input as a script.
 *
 * The run is the real one (corio_init, the main task on corio_main, tasks,
 * channels, select, the collector, corio_shutdown) with the fuzzing limits of
 * the interpreter: no file, pipe or socket built-ins (nothing to wait on but
 * other tasks, so corio's deadlock detection ends every blocked program),
 * timers capped at 1 ms, a budget of statements, one P. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  source_t src;
  src.name = "fuzz";
  src.len = size;
  src.text = malloc(size + 1);
  if (!src.text) return 0;
  memcpy(src.text, data, size);
  src.text[size] = 0;
  g_fuzzing = true;
  lang_run(&src, 0, NULL);
  free(src.text);
  return 0;
}
