/* The console's UTF-8 <-> UTF-16 conversion (issue 13, item 5), without a
 * console: the test run under Wine has none (its standard handles are pipes),
 * so the conversion is checked here and the console calls by corio_selftest
 * on real Windows. Code points split across writes, surrogate pairs split
 * across reads, invalid input, and a round trip in random pieces. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "console_windows.h"

static size_t to16(corio__con_t *s, const char *in, size_t len, uint16_t *out) {
  return corio__con_utf8_to_utf16(s, (const uint8_t *)in, len, out);
}

Test(console_windows, utf8_to_utf16_whole_sequences) {
  corio__con_t s = {0};
  uint16_t out[32];
  const char *text = "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"; /* A, e-acute, euro, emoji */
  size_t n = to16(&s, text, strlen(text), out);
  cr_assert_eq(n, 5);
  cr_assert_eq(out[0], 'A');
  cr_assert_eq(out[1], 0x00E9);
  cr_assert_eq(out[2], 0x20AC);
  cr_assert_eq(out[3], 0xD83D);
  cr_assert_eq(out[4], 0xDE00);
  cr_assert_eq(s.wpend_len, 0);
}

Test(console_windows, code_point_split_across_writes) {
  const char emoji[4] = {(char)0xF0, (char)0x9F, (char)0x98, (char)0x80};
  /* Every way to cut it in two, and byte by byte. */
  for (int cut = 1; cut < 4; cut++) {
    corio__con_t s = {0};
    uint16_t out[8];
    cr_assert_eq(to16(&s, emoji, (size_t)cut, out), 0, "cut %d: nothing yet", cut);
    cr_assert_eq(s.wpend_len, cut);
    size_t n = to16(&s, emoji + cut, (size_t)(4 - cut), out);
    cr_assert_eq(n, 2, "cut %d", cut);
    cr_assert_eq(out[0], 0xD83D);
    cr_assert_eq(out[1], 0xDE00);
    cr_assert_eq(s.wpend_len, 0);
  }
  corio__con_t s = {0};
  uint16_t out[8];
  size_t n = 0;
  for (int i = 0; i < 4; i++) n += to16(&s, emoji + i, 1, out + n);
  cr_assert_eq(n, 2);
  cr_assert_eq(out[0], 0xD83D);
  /* A split sequence followed by ASCII in the same second write. */
  corio__con_t t = {0};
  to16(&t, "\xc3", 1, out);
  n = to16(&t, "\xa9xy", 3, out);
  cr_assert_eq(n, 3);
  cr_assert_eq(out[0], 0xE9);
  cr_assert_eq(out[1], 'x');
  cr_assert_eq(out[2], 'y');
}

Test(console_windows, invalid_utf8_becomes_replacement_characters) {
  corio__con_t s = {0};
  uint16_t out[16];
  /* FF; C3 then A (a lead without its continuation); the UTF-8 form of a
   * surrogate (ED A0 80: ED's second byte may not be A0); an overlong
   * slash (C0 AF). */
  const char bad[] = "\xff" "\xc3" "A" "\xed\xa0\x80" "\xc0\xaf";
  size_t n = to16(&s, bad, sizeof bad - 1, out);
  static const uint16_t want[] = {0xFFFD, 0xFFFD, 'A', 0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD};
  cr_assert_eq(n, sizeof want / sizeof want[0]);
  for (size_t i = 0; i < n; i++) cr_assert_eq(out[i], want[i], "unit %zu: %04x", i, out[i]);
  /* A kept lead that the next write does not continue. */
  corio__con_t t = {0};
  cr_assert_eq(to16(&t, "\xe2\x82", 2, out), 0);
  n = to16(&t, "B", 1, out);
  cr_assert_eq(n, 2);
  cr_assert_eq(out[0], 0xFFFD);
  cr_assert_eq(out[1], 'B');
}

Test(console_windows, surrogate_pair_split_across_reads) {
  corio__con_t s = {0};
  uint8_t out[16];
  uint16_t a[2] = {'x', 0xD83D}, b[2] = {0xDE00, 'y'};
  size_t n = corio__con_utf16_to_utf8(&s, a, 2, out, 1);
  cr_assert_eq(n, 1);
  cr_assert_eq(out[0], 'x');
  cr_assert_eq(s.rhigh, 0xD83D, "the high half is kept");
  n = corio__con_utf16_to_utf8(&s, b, 2, out, 1);
  cr_assert_eq(n, 5);
  cr_assert(memcmp(out, "\xf0\x9f\x98\x80y", 5) == 0);
  cr_assert_eq(s.rhigh, 0);
}

Test(console_windows, unpaired_surrogates_read_as_replacement) {
  corio__con_t s = {0};
  uint8_t out[32];
  uint16_t in[4] = {0xDC00, 0xD800, 'z', 0xD801};
  size_t n = corio__con_utf16_to_utf8(&s, in, 4, out, 0);
  cr_assert_eq(n, 3 + 3 + 1 + 3);
  cr_assert(memcmp(out, "\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbd", n) == 0);
}

/* Every BMP scalar value and a spread of astral ones, cut into pieces of
 * pseudo-random sizes on both sides, come back unchanged. */
Test(console_windows, round_trip_in_random_pieces) {
  enum { MAXCP = 0x10000 + 4096 };
  static uint8_t text[MAXCP * 4];
  size_t len = 0;
  for (uint32_t cp = 1; cp < MAXCP; cp++) {
    uint32_t c = cp < 0x10000 ? cp : 0x10000 + (cp - 0x10000) * 251;
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    if (c < 0x80) text[len++] = (uint8_t)c;
    else if (c < 0x800) { text[len++] = (uint8_t)(0xC0 | c >> 6); text[len++] = (uint8_t)(0x80 | (c & 63)); }
    else if (c < 0x10000) {
      text[len++] = (uint8_t)(0xE0 | c >> 12); text[len++] = (uint8_t)(0x80 | (c >> 6 & 63));
      text[len++] = (uint8_t)(0x80 | (c & 63));
    } else {
      text[len++] = (uint8_t)(0xF0 | c >> 18); text[len++] = (uint8_t)(0x80 | (c >> 12 & 63));
      text[len++] = (uint8_t)(0x80 | (c >> 6 & 63)); text[len++] = (uint8_t)(0x80 | (c & 63));
    }
  }
  static uint16_t units[MAXCP * 2 + 8];
  static uint8_t back[MAXCP * 4 + 8];
  corio__con_t w = {0}, r = {0};
  size_t nu = 0, nb = 0;
  uint32_t seed = 12345;
  for (size_t i = 0; i < len;) {
    seed = seed * 1103515245 + 12345;
    size_t piece = 1 + (seed >> 16) % 7;
    if (piece > len - i) piece = len - i;
    nu += corio__con_utf8_to_utf16(&w, text + i, piece, units + nu);
    i += piece;
  }
  cr_assert_eq(w.wpend_len, 0);
  for (size_t i = 0; i < nu;) {
    seed = seed * 1103515245 + 12345;
    size_t piece = 1 + (seed >> 16) % 5;
    if (piece > nu - i) piece = nu - i;
    nb += corio__con_utf16_to_utf8(&r, units + i, piece, back + nb, 1);
    i += piece;
  }
  cr_assert_eq(r.rhigh, 0);
  cr_assert_eq(nb, len);
  cr_assert(memcmp(back, text, len) == 0);
  printf("console_windows: %zu bytes of UTF-8 (%zu UTF-16 units) round-tripped in random pieces, "
         "without a console (ReadConsoleW/WriteConsoleW themselves: corio_selftest)\n", len, nu);
}
