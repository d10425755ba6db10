/* poll/console_windows.h: a console handle read and written in UTF-8, as Go's
 * os does on Windows (internal/poll's readConsole / writeConsole).
 *
 * A console's byte interface (ReadFile, WriteFile) speaks the console's code
 * page, so UTF-8 text is garbled on a console set to anything else. An FD
 * over a real console (GetConsoleMode succeeds) reads with ReadConsoleW and
 * writes with WriteConsoleW instead, converting between the caller's UTF-8
 * and the console's UTF-16:
 * - a write may end in the middle of a code point: the incomplete sequence is
 *   kept and completed by the next write (it counts as written);
 * - a read may end between the two halves of a surrogate pair: the high half
 *   is kept and paired with the next read's first unit;
 * - a read's UTF-8 that does not fit the caller's buffer is kept for the next
 *   read (at most a few bytes: reads ask the console for len / 4 units);
 * - bytes that are not UTF-8 are written as U+FFFD, an unpaired surrogate is
 *   read as U+FFFD, and Ctrl-Z at the start of a read is end of file.
 * Handles that are not consoles (redirected standard handles) keep the byte
 * interface: their bytes pass unchanged.
 *
 * The conversion state and functions are pure, so tests run them without a
 * console (under Wine in CI). */
#ifndef CORIO_POLL_CONSOLE_WINDOWS_H
#define CORIO_POLL_CONSOLE_WINDOWS_H

#include <stddef.h>
#include <stdint.h>

#include "fd.h"

typedef struct corio__con {
  uint8_t wpend[4];  /* the start of a code point a write ended in */
  uint8_t wpend_len;
  uint16_t rhigh;    /* a high surrogate a read ended with, or 0 */
  uint8_t rbuf[16];  /* converted bytes the last read could not return */
  uint8_t rbuf_off, rbuf_len;
} corio__con_t;

/* Convert in[0..len) (after s->wpend, which it consumes) to UTF-16 in out,
 * which has room for at least len + 4 units. Returns the units written; an
 * incomplete sequence at the end goes to s->wpend. Never fails: invalid
 * bytes become U+FFFD, one per maximal invalid subpart. */
size_t corio__con_utf8_to_utf16(corio__con_t *s, const uint8_t *in, size_t len, uint16_t *out);

/* Convert in[0..n) (after s->rhigh, which it consumes) to UTF-8 in out,
 * which has room for at least 3 * n + 4 bytes. Returns the bytes written; a
 * high surrogate at the end goes to s->rhigh when hold_high is set (else it
 * becomes U+FFFD). Unpaired surrogates become U+FFFD. */
size_t corio__con_utf16_to_utf8(corio__con_t *s, const uint16_t *in, size_t n, uint8_t *out,
                                int hold_high);

/* The FD's console calls (fd_rw_windows.c calls them for an FD with console
 * state), under its read / write lock, with the P handed on while the
 * console blocks. read: a count, CORIO_EEOF, or the Win32 error; write: len
 * or the Win32 error (a count short of len when the console stopped). */
ptrdiff_t corio__con_read(corio__fd_t *fd, corio__con_t *s, void *buf, size_t len);
ptrdiff_t corio__con_write(corio__fd_t *fd, corio__con_t *s, const void *buf, size_t len);

#endif
