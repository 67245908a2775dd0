/* threads.h — make OpenMP thread pools wait politely on a shared machine.
 *
 * libgomp (OpenMP, also oneDNN's runtime here) spins at every barrier for up to ~300k iterations before sleeping
 * unless OMP_WAIT_POLICY=PASSIVE; with another process on a core, spinning threads steal the time the working
 * thread needs and throughput collapses (measured here: 2 spinning threads trained a tiny model 40x slower than
 * 1 thread; 2 sleeping threads came close to it). libgomp reads the variable only when the program starts, so the
 * only way to set it from inside is to re-execute the program once with it set. OpenBLAS's own pthreads yield
 * (sched_yield) while they wait and then sleep; the inference kernels have their own pool (model/kernels/pool.h). */
#ifndef OLMO_BASE_THREADS_H
#define OLMO_BASE_THREADS_H

/* If OMP_WAIT_POLICY is unset: sets it to PASSIVE and re-executes /proc/self/exe with argv (does not return on
 * success). Call first thing in main, before any OpenMP use. Returns 0 when nothing was needed, -1 (with
 * olmo_err) when the re-exec failed — the program can carry on with spinning waits. */
int olmo_threads_prefer_passive(char **argv);

#endif
