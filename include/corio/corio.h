/* corio: an embeddable coroutine runtime with a Go-style netpoller.
 * The umbrella header: include this one. */
#ifndef CORIO_H
#define CORIO_H

#include "corio/error.h"
#include "corio/runtime.h"
#include "corio/sync.h"
#include "corio/poll.h"
#include "corio/os.h"
#include "corio/net.h"

#define CORIO_VERSION_MAJOR 0
#define CORIO_VERSION_MINOR 1
#define CORIO_VERSION_PATCH 0

#endif
