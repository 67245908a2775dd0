/* train_threads.c — see train_threads.h. */
#include "train/train_threads.h"

#include <cblas.h>
#include <omp.h>

void train_threads_set(int n) {
    if (n <= 0) return;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}
