/* threads.c — passive OpenMP waits through one re-exec (see threads.h). */
#include "base/threads.h"
#include "base/error.h"

#include <stdlib.h>
#include <unistd.h>

int olmo_threads_prefer_passive(char **argv) {
    if (getenv("OMP_WAIT_POLICY")) return 0;
    if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1)) return olmo_err_errno("setting OMP_WAIT_POLICY");
    execv("/proc/self/exe", argv);
    return olmo_err_errno("re-executing /proc/self/exe with OMP_WAIT_POLICY=PASSIVE");
}
