/* corio-lang: run a script (`corio-lang script [args...]`) or a snippet
 * (`corio-lang -e CODE [args...]`). See run.c for the life cycle and the
 * exit statuses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *b = malloc(cap);
  for (;;) {
    if (!b) { fclose(f); return NULL; }
    size_t k = fread(b + n, 1, cap - n, f);
    n += k;
    if (n < cap) break;
    cap *= 2;
    char *nb = realloc(b, cap);
    if (!nb) free(b);
    b = nb;
  }
  fclose(f);
  *len = n;
  return b;
}

static void usage(void) {
  fputs("usage: corio-lang script [args...]\n       corio-lang -e CODE [args...]\n", stderr);
}

int main(int argc, char **argv) {
  if (argc < 2) { usage(); return 64; }
  source_t src = {0};
  int first_arg;
  if (!strcmp(argv[1], "-e")) {
    if (argc < 3) { usage(); return 64; }
    src.name = "-e";
    src.len = strlen(argv[2]);
    src.text = malloc(src.len + 1);
    if (!src.text) return 70;
    memcpy(src.text, argv[2], src.len + 1);
    first_arg = 3;
  } else {
    src.name = argv[1];
    src.text = read_file(argv[1], &src.len);
    if (!src.text) {
      fprintf(stderr, "corio-lang: cannot read %s\n", argv[1]);
      return 66;
    }
    first_arg = 2;
  }
  int code = lang_run(&src, argc - first_arg, argv + first_arg);
  free(src.text);
  return code;
}

