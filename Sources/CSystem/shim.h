// Typed wrappers for the variadic Linux calls Swift cannot call directly. Header only: everything
// here is in the C library.
#ifndef IGMEDIA_CSYSTEM_SHIM_H
#define IGMEDIA_CSYSTEM_SHIM_H

#include <sys/prctl.h>

/// prctl(PR_SET_DUMPABLE, 0): no core file, and no ptrace or /proc/<pid>/mem by other processes
/// of the same user. 0 on success, -1 with errno.
static inline int igmedia_set_non_dumpable(void) {
    return prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L);
}

/// prctl(PR_GET_DUMPABLE): 1 when dumpable, 0 when not, -1 on error.
static inline int igmedia_get_dumpable(void) {
    return prctl(PR_GET_DUMPABLE, 0L, 0L, 0L, 0L);
}

#endif
