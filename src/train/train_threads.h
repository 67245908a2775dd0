/* train_threads.h — make the thread pools wait politely on a shared machine.
 *
 * libgomp (OpenMP, also oneDNN's runtime here) spins at every barrier for up to ~300k iterations before sleeping
 * unless OMP_WAIT_POLICY=PASSIVE; with another process on a core, spinning threads steal the time the working
 * thread needs and throughput collapses. libgomp reads the variable only when the program starts, so the only
 * way to set it from inside is to re-execute the program once with it set. OpenBLAS's own pthreads yield
 * (sched_yield) while they wait and then sleep. */
#ifndef OLMO_TRAIN_THREADS_H
#define OLMO_TRAIN_THREADS_H

/* If OMP_WAIT_POLICY is unset: sets it to PASSIVE and re-executes /proc/self/exe with argv (does not return on
 * success). Call first thing in main, before any OpenMP use. Returns 0 when nothing was needed, -1 (with
 * olmo_err) when the re-exec failed — the program can carry on with spinning waits. */
int train_threads_passive(char **argv);

/* Sets the number of threads for OpenMP (our kernels, oneDNN) and OpenBLAS; n <= 0 keeps the defaults. */
void train_threads_set(int n);

#endif
