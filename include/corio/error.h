/* corio error codes.
 *
 * Every corio function that can fail returns int (0 or a negative error) or
 * ptrdiff_t (a count, or a negative error). Three ranges share that negative
 * space, so an error never has to be looked up anywhere else:
 *
 *   -1 .. -4095              a POSIX errno, negated:   err == -errno
 *   -4096 .. -8191           corio's own errors (CORIO_E* below)
 *   -0x10000 - code          a Win32 error code (GetLastError or a mapped
 *                            WSA / NTSTATUS value): err == -(0x10000 + code)
 *
 * corio_err_errno() and corio_err_win32() recover the original code;
 * corio_strerror() and corio_err_name() name any error from any range.
 */
#ifndef CORIO_ERROR_H
#define CORIO_ERROR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(CORIO_BUILDING_SHARED)
#define CORIO_API __declspec(dllexport)
#elif defined(__GNUC__)
#define CORIO_API __attribute__((visibility("default")))
#else
#define CORIO_API
#endif

/* X(name, value, message): corio's own errors. */
#define CORIO_ERRNO_MAP(X)                                                        \
  X(CLOSING,       -4097, "use of closed file")                                  \
  X(NETCLOSING,    -4098, "use of closed network connection")                    \
  X(TIMEOUT,       -4099, "i/o timeout (deadline exceeded)")                     \
  X(NODEADLINE,    -4100, "file type does not support deadline")                 \
  X(NOTPOLLABLE,   -4101, "not pollable")                                        \
  X(TOOMANY,       -4102, "too many concurrent operations on a single file")     \
  X(EOF,           -4103, "end of file")                                         \
  X(NOTCORO,       -4104, "blocking call from a thread that is not running a coroutine") \
  X(NOTINIT,       -4105, "the runtime is not initialised")                      \
  X(ALREADY,       -4106, "the runtime is already initialised or running")       \
  X(INVAL,         -4107, "invalid argument")                                    \
  X(NOMEM,         -4108, "out of memory")                                       \
  X(MAPLIMIT,      -4109, "kernel memory-mapping limit reached (raise vm.max_map_count or use CORIO_STACK_UNGUARDED)") \
  X(CHANCLOSED,    -4110, "send on closed channel")                              \
  X(SHUTDOWN,      -4111, "the runtime is shutting down")                        \
  X(NOTSUP,        -4112, "operation not supported by this system")              \
  X(BADF,          -4113, "invalid handle")                                      \
  X(INPROGRESS,    -4114, "i/o is in progress on the handle")                    \
  X(WOULDBLOCK,    -4115, "operation would block")                               \
  X(SHORTWRITE,    -4116, "short write")                                         \
  X(RANGE,         -4117, "argument out of range")                               \
  X(DEADLOCK,      -4118, "all coroutines are asleep: deadlock")                 \
  X(BLOCKED,       -4119, "threads are still blocked in system calls of abandoned coroutines") \
  X(UNKNOWNNET,    -4130, "unknown network")                                     \
  X(BADADDR,       -4131, "invalid address")                                     \
  X(MISSINGPORT,   -4132, "missing port in address")                             \
  X(BADPORT,       -4133, "invalid port")                                        \
  X(NOSUCHHOST,    -4134, "no such host")                                        \
  X(RESOLVAGAIN,   -4135, "temporary failure in name resolution")                \
  X(RESOLVFAIL,    -4136, "non-recoverable failure in name resolution")          \
  X(NOADDR,        -4137, "no suitable address found")

enum {
#define CORIO_ERR_ENUM(name, value, msg) CORIO_E##name = (value),
  CORIO_ERRNO_MAP(CORIO_ERR_ENUM)
#undef CORIO_ERR_ENUM
  CORIO_ERR_OWN_FIRST = -4096,
  CORIO_ERR_OWN_LAST = -8191,
  CORIO_ERR_WIN32_BASE = 0x10000
};

/* Encode an OS error as a corio error. */
static inline int corio_err_from_errno(int e) { return e > 0 ? -e : CORIO_EINVAL; }
static inline int corio_err_from_win32(uint32_t code) {
  return -(int)(CORIO_ERR_WIN32_BASE + (code & 0xFFFF));
}

/* The errno behind err, or 0 when err is not an errno. */
static inline int corio_err_errno(int err) { return (err < 0 && err > -4096) ? -err : 0; }
/* The Win32 code behind err, or 0 when err is not a Win32 code. */
static inline uint32_t corio_err_win32(int err) {
  return err <= -CORIO_ERR_WIN32_BASE ? (uint32_t)(-err - CORIO_ERR_WIN32_BASE) : 0u;
}

/* A message for any error (never NULL); "unknown error" for an unknown value. */
CORIO_API const char *corio_strerror(int err);
/* The symbolic name ("CORIO_ETIMEOUT", "EPIPE", "WIN32_109"), never NULL.
 * For OS codes not in corio's tables the name is written to a thread-local buffer. */
CORIO_API const char *corio_err_name(int err);

#ifdef __cplusplus
}
#endif
#endif
