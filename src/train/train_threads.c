/* train_threads.c — see train_threads.h. */
#include "train/train_threads.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/error.h"

int train_threads_passive(char **argv) {
    if (getenv("OMP_WAIT_POLICY")) return 0;
    if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1)) return olmo_err_errno("setting OMP_WAIT_POLICY");
    execv("/proc/self/exe", argv);
    return olmo_err_errno("re-executing /proc/self/exe with OMP_WAIT_POLICY=PASSIVE");
}

void train_threads_set(int n) {
    if (n <= 0) return;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}
