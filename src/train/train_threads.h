/* train_threads.h — thread counts for training (OpenMP and OpenBLAS together). Waiting politely is
 * base/threads.h's job. */
#ifndef OLMO_TRAIN_THREADS_H
#define OLMO_TRAIN_THREADS_H

/* Sets the number of threads for OpenMP (our kernels, oneDNN) and OpenBLAS; n <= 0 keeps the defaults. */
void train_threads_set(int n);

#endif
