/* pool.h — the small thread pool the inference kernels split their work over.
 *
 * Why not OpenMP: libgomp (and OpenBLAS, and llama.cpp's pool) spin at barriers; on a shared machine where one
 * core is busy with another process, a spinning waiter takes the CPU time the lagging worker needs and
 * throughput collapses. Here every wait spins only briefly (about 30 µs, enough to bridge the gap between two
 * matrix products of one forward pass) and then sleeps on a futex, and work is handed out in chunks from an
 * atomic counter, so a thread that lost its core simply takes fewer chunks.
 *
 * olmo_pool_for(n, fn, ctx) calls fn(ctx, i, thread) once for every chunk i in [0, n), spread over the pool's
 * threads (the caller is thread 0 and takes part), and returns when all are done. Calls are serialised by a
 * lock: fn must not call olmo_pool_for itself. Threads are started on first use and live until exit.
 * Thread count: olmo_pool_set_threads(n), else $OLMO_THREADS, else the CPUs this process may run on. */
#ifndef OLMO_KERNELS_POOL_H
#define OLMO_KERNELS_POOL_H

#include <stdint.h>

#define OLMO_POOL_MAX_THREADS 64

typedef void (*olmo_pool_fn)(void *ctx, int64_t chunk, int thread);

void olmo_pool_for(int64_t nchunks, olmo_pool_fn fn, void *ctx);
/* Number of threads olmo_pool_for uses (caller included). */
int olmo_pool_threads(void);
/* Sets the thread count (1..OLMO_POOL_MAX_THREADS; 0 = default). Takes effect at the next olmo_pool_for; call it
 * while no other thread is inside the kernels (they size per-thread buffers from it). */
void olmo_pool_set_threads(int n);
/* How long a waiting thread spins before it sleeps, in µs (default 30, or $OLMO_SPIN_US; -1 = spin forever,
 * the behaviour of spinning pools, for the benchmark's comparison). */
void olmo_pool_set_spin_us(int us);
/* Benchmark comparison only: 1 runs olmo_pool_for as an OpenMP loop (libgomp, schedule(dynamic)) instead. */
void olmo_pool_use_openmp(int on);

#endif
