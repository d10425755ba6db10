/* Console handles in UTF-8 (console_windows.h has the rules). */
#include "console_windows.h"

#include <windows.h>

#include "corio/runtime.h"

#define REPLACEMENT 0xFFFD
/* Units asked of the console at most per read, and bytes converted at most
 * per WriteConsoleW call: about 12 KiB of buffers, on the heap. */
#define CON_CHUNK 2048

/* ---- UTF-8 to UTF-16 ---- */

/* The length of the sequence lead byte b starts, 0 when b cannot start one. */
static int lead_len(uint8_t b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;
}

/* Whether c may follow lead as its second byte (no overlong forms, no
 * surrogates, nothing above U+10FFFF); later bytes are any 80..BF. */
static int second_ok(uint8_t lead, uint8_t c) {
  if (c < 0x80 || c > 0xBF) return 0;
  if (lead == 0xE0) return c >= 0xA0;
  if (lead == 0xED) return c <= 0x9F;
  if (lead == 0xF0) return c >= 0x90;
  if (lead == 0xF4) return c <= 0x8F;
  return 1;
}

/* How many bytes of p[0..avail) form a valid prefix of the sequence p[0]
 * starts (at most its length). */
static int valid_prefix(const uint8_t *p, size_t avail, int need) {
  int k = 1;
  for (; k < need && (size_t)k < avail; k++) {
    if (k == 1 ? !second_ok(p[0], p[1]) : (p[k] < 0x80 || p[k] > 0xBF)) break;
  }
  return k;
}

static size_t put16(uint16_t *out, size_t o, uint32_t cp) {
  if (cp < 0x10000) {
    out[o] = (uint16_t)cp;
    return o + 1;
  }
  cp -= 0x10000;
  out[o] = (uint16_t)(0xD800 + (cp >> 10));
  out[o + 1] = (uint16_t)(0xDC00 + (cp & 0x3FF));
  return o + 2;
}

static uint32_t decode(const uint8_t *p, int n) {
  if (n == 1) return p[0];
  uint32_t cp = p[0] & (0x7F >> n);
  for (int i = 1; i < n; i++) cp = (cp << 6) | (p[i] & 0x3F);
  return cp;
}

/* Decode one sequence at p[0..avail): its length in *used, the code point,
 * or -1 when the valid prefix runs to the end of the input (incomplete). */
static int32_t next_cp(const uint8_t *p, size_t avail, int *used) {
  int need = lead_len(p[0]);
  if (need == 0) {
    *used = 1;
    return REPLACEMENT;
  }
  int k = valid_prefix(p, avail, need);
  if (k == need) {
    *used = need;
    return (int32_t)decode(p, need);
  }
  *used = k;
  return (size_t)k == avail ? -1 : REPLACEMENT;
}

size_t corio__con_utf8_to_utf16(corio__con_t *s, const uint8_t *in, size_t len, uint16_t *out) {
  size_t o = 0, i = 0;
  /* First complete (or give up on) the sequence the last write ended in. */
  while (s->wpend_len > 0 && i < len) {
    uint8_t tmp[4];
    int have = s->wpend_len;
    for (int k = 0; k < have; k++) tmp[k] = s->wpend[k];
    size_t add = 0;
    while (have + (int)add < 4 && i + add < len) {
      tmp[have + add] = in[i + add];
      add++;
    }
    int used;
    int32_t cp = next_cp(tmp, (size_t)have + add, &used);
    if (cp < 0) { /* still incomplete: all of in went in */
      for (size_t k = 0; k < add; k++) s->wpend[s->wpend_len++] = in[i + k];
      return o;
    }
    o = put16(out, o, (uint32_t)cp);
    if (used >= have) {
      i += (size_t)(used - have);
      s->wpend_len = 0;
    } else { /* the kept bytes were invalid on their own: the rest is retried */
      for (int k = used; k < have; k++) s->wpend[k - used] = s->wpend[k];
      s->wpend_len = (uint8_t)(have - used);
    }
  }
  while (i < len) {
    int used;
    int32_t cp = next_cp(in + i, len - i, &used);
    if (cp < 0) {
      for (int k = 0; k < used; k++) s->wpend[k] = in[i + (size_t)k];
      s->wpend_len = (uint8_t)used;
      break;
    }
    o = put16(out, o, (uint32_t)cp);
    i += (size_t)used;
  }
  return o;
}

/* ---- UTF-16 to UTF-8 ---- */

static size_t put8(uint8_t *out, size_t o, uint32_t cp) {
  if (cp < 0x80) {
    out[o++] = (uint8_t)cp;
  } else if (cp < 0x800) {
    out[o++] = (uint8_t)(0xC0 | (cp >> 6));
    out[o++] = (uint8_t)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out[o++] = (uint8_t)(0xE0 | (cp >> 12));
    out[o++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[o++] = (uint8_t)(0x80 | (cp & 0x3F));
  } else {
    out[o++] = (uint8_t)(0xF0 | (cp >> 18));
    out[o++] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[o++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[o++] = (uint8_t)(0x80 | (cp & 0x3F));
  }
  return o;
}

static int is_high(uint16_t u) { return u >= 0xD800 && u <= 0xDBFF; }
static int is_low(uint16_t u) { return u >= 0xDC00 && u <= 0xDFFF; }

size_t corio__con_utf16_to_utf8(corio__con_t *s, const uint16_t *in, size_t n, uint8_t *out,
                                int hold_high) {
  size_t o = 0, i = 0;
  uint16_t high = s->rhigh;
  s->rhigh = 0;
  for (; i < n; i++) {
    uint16_t u = in[i];
    if (high) {
      if (is_low(u)) {
        o = put8(out, o, 0x10000 + (((uint32_t)high - 0xD800) << 10) + (u - 0xDC00));
        high = 0;
        continue;
      }
      o = put8(out, o, REPLACEMENT);
      high = 0;
    }
    if (is_high(u)) high = u;
    else o = put8(out, o, is_low(u) ? REPLACEMENT : u);
  }
  if (high) {
    if (hold_high) s->rhigh = high;
    else o = put8(out, o, REPLACEMENT);
  }
  return o;
}

/* ---- the console calls ---- */

static ptrdiff_t take_kept(corio__con_t *s, uint8_t *buf, size_t len) {
  size_t n = s->rbuf_len - s->rbuf_off;
  if (n > len) n = len;
  for (size_t i = 0; i < n; i++) buf[i] = s->rbuf[s->rbuf_off + i];
  s->rbuf_off = (uint8_t)(s->rbuf_off + n);
  if (s->rbuf_off == s->rbuf_len) s->rbuf_off = s->rbuf_len = 0;
  return (ptrdiff_t)n;
}

ptrdiff_t corio__con_read(corio__fd_t *fd, corio__con_t *s, void *buf, size_t len) {
  if (s->rbuf_len > s->rbuf_off) return take_kept(s, buf, len);
  size_t want = len / 4 > CON_CHUNK ? CON_CHUNK : (len / 4 > 0 ? len / 4 : 1);
  uint16_t *units = corio__malloc(want * sizeof *units + 3 * want + 8);
  if (!units) return CORIO_ENOMEM;
  uint8_t *utf8 = (uint8_t *)(units + want);
  ptrdiff_t res = 0;
  for (;;) {
    DWORD got = 0;
    corio_syscall_enter();
    BOOL ok = ReadConsoleW((HANDLE)fd->handle, units, (DWORD)want, &got, NULL);
    corio_syscall_exit();
    if (!ok) {
      res = corio_err_from_win32(GetLastError());
      break;
    }
    if (got == 0 || (s->rhigh == 0 && units[0] == 0x1A)) { /* Ctrl-Z at the start */
      res = CORIO_EEOF;
      break;
    }
    size_t n = corio__con_utf16_to_utf8(s, units, got, utf8, 1);
    if (n == 0) continue; /* only a high surrogate: read its other half */
    size_t give = n < len ? n : len;
    for (size_t i = 0; i < give; i++) ((uint8_t *)buf)[i] = utf8[i];
    for (size_t i = give; i < n; i++) s->rbuf[s->rbuf_len++] = utf8[i];
    res = (ptrdiff_t)give;
    break;
  }
  corio__free(units);
  return res;
}

ptrdiff_t corio__con_write(corio__fd_t *fd, corio__con_t *s, const void *buf, size_t len) {
  uint16_t *units = corio__malloc((CON_CHUNK + 4) * sizeof *units);
  if (!units) return CORIO_ENOMEM;
  size_t done = 0;
  ptrdiff_t err = 0;
  do {
    size_t chunk = len - done < CON_CHUNK ? len - done : CON_CHUNK;
    size_t n = corio__con_utf8_to_utf16(s, (const uint8_t *)buf + done, chunk, units);
    size_t off = 0;
    while (off < n) {
      DWORD wrote = 0;
      corio_syscall_enter();
      BOOL ok = WriteConsoleW((HANDLE)fd->handle, units + off, (DWORD)(n - off), &wrote, NULL);
      corio_syscall_exit();
      if (!ok || wrote == 0) {
        err = ok ? CORIO_ESHORTWRITE : corio_err_from_win32(GetLastError());
        break;
      }
      off += wrote;
    }
    if (err) break;
    done += chunk;
  } while (done < len);
  corio__free(units);
  return done > 0 ? (ptrdiff_t)done : err;
}
