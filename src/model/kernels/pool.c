/* pool.c — pthread pool with bounded spinning and futex sleeps (see pool.h for why).
 *
 * One job at a time: the caller publishes (fn, ctx, nchunks), bumps the generation counter and wakes sleeping
 * workers; everyone (caller included) takes chunk indices from an atomic counter until none are left; the last
 * worker to finish wakes the caller. Waiting spins on a cached value for a short while, then sleeps in the
 * kernel, so a descheduled thread never has to compete with a spinning sibling for its core. */
#include "model/kernels/pool.h"

#include <linux/futex.h>
#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static struct {
    pthread_mutex_t lock;          /* serialises olmo_pool_for */
    int requested;                 /* olmo_pool_set_threads value, 0 = default */
    int started;                   /* workers running (thread ids 1..started) */
    int64_t spin_ns;               /* 0 = not yet read from the environment; < 0 = forever */
    int openmp;
    /* the current job */
    olmo_pool_fn fn;
    void *ctx;
    int64_t nchunks;
    int nthreads;                  /* participants including the caller */
    _Atomic int64_t next;          /* next chunk to hand out */
    _Atomic uint32_t gen;          /* bumped for every job; workers wait on it */
    _Atomic uint32_t pending;      /* workers still busy with the current job; caller waits on it */
    uint32_t start_gen[OLMO_POOL_MAX_THREADS];
    _Atomic int sleepers;          /* workers in futex wait (skip the wake syscall when 0) */
} P = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void futex_wait(_Atomic uint32_t *addr, uint32_t val) {
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}
static void futex_wake(_Atomic uint32_t *addr, int n) {
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Spins until *addr != val or the spin budget is spent; returns 1 if it changed. */
static int spin_while_equal(_Atomic uint32_t *addr, uint32_t val) {
    int64_t deadline = 0;
    for (int i = 0;; i++) {
        if (atomic_load_explicit(addr, memory_order_acquire) != val) return 1;
        cpu_relax();
        if ((i & 63) == 63 && P.spin_ns > 0) {
            int64_t t = now_ns();
            if (!deadline) deadline = t + P.spin_ns;
            else if (t > deadline) return 0;
        }
    }
}

static void run_chunks(int thread) {
    for (;;) {
        int64_t c = atomic_fetch_add_explicit(&P.next, 1, memory_order_relaxed);
        if (c >= P.nchunks) break;
        P.fn(P.ctx, c, thread);
    }
}

static void *worker(void *arg) {
    int id = (int)(intptr_t)arg;
    uint32_t seen = P.start_gen[id];   /* the generation before this worker's first job */
    for (;;) {
        while (atomic_load_explicit(&P.gen, memory_order_acquire) == seen) {
            if (spin_while_equal(&P.gen, seen)) break;
            atomic_fetch_add(&P.sleepers, 1);
            futex_wait(&P.gen, seen);
            atomic_fetch_sub(&P.sleepers, 1);
        }
        seen = atomic_load_explicit(&P.gen, memory_order_acquire);
        /* Every started worker acknowledges every job (so the job fields stay still until all have read
         * them); those beyond the job's thread count take no chunks. */
        if (id < P.nthreads) run_chunks(id);
        if (atomic_fetch_sub_explicit(&P.pending, 1, memory_order_acq_rel) == 1) futex_wake(&P.pending, 1);
    }
    return NULL;
}

static int default_threads(void) {
    const char *e = getenv("OLMO_THREADS");
    if (e && atoi(e) > 0) return atoi(e);
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static int clamp_threads(int n) { return n < 1 ? 1 : n > OLMO_POOL_MAX_THREADS ? OLMO_POOL_MAX_THREADS : n; }

int olmo_pool_threads(void) {
    return clamp_threads(P.requested ? P.requested : default_threads());
}

void olmo_pool_set_threads(int n) {
    pthread_mutex_lock(&P.lock);
    P.requested = n > 0 ? clamp_threads(n) : 0;
    pthread_mutex_unlock(&P.lock);
}

void olmo_pool_set_spin_us(int us) {
    pthread_mutex_lock(&P.lock);
    P.spin_ns = us < 0 ? -1 : (int64_t)us * 1000 + 1;
    pthread_mutex_unlock(&P.lock);
}

void olmo_pool_use_openmp(int on) {
    pthread_mutex_lock(&P.lock);
    P.openmp = on;
    pthread_mutex_unlock(&P.lock);
}

void olmo_pool_for(int64_t nchunks, olmo_pool_fn fn, void *ctx) {
    if (nchunks <= 0) return;
    pthread_mutex_lock(&P.lock);
    int nt = olmo_pool_threads();
    if (nt > nchunks) nt = (int)nchunks;
    if (!P.spin_ns) {
        const char *e = getenv("OLMO_SPIN_US");
        P.spin_ns = e && *e ? (atoi(e) < 0 ? -1 : (int64_t)atoi(e) * 1000 + 1) : 30000;
    }
    if (P.openmp) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int64_t c = 0; c < nchunks; c++) fn(ctx, c, omp_get_thread_num());
        pthread_mutex_unlock(&P.lock);
        return;
    }
    while (P.started < nt - 1) {   /* start missing workers; if the system refuses, run with fewer */
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        P.start_gen[P.started + 1] = atomic_load(&P.gen);
        int rc = pthread_create(&th, &attr, worker, (void *)(intptr_t)(P.started + 1));
        pthread_attr_destroy(&attr);
        if (rc) break;
        P.started++;
    }
    if (nt > P.started + 1) nt = P.started + 1;
    P.fn = fn;
    P.ctx = ctx;
    P.nchunks = nchunks;
    if (nt == 1) {   /* no hand-off needed */
        for (int64_t c = 0; c < nchunks; c++) fn(ctx, c, 0);
        pthread_mutex_unlock(&P.lock);
        return;
    }
    P.nthreads = nt;
    atomic_store_explicit(&P.next, 0, memory_order_relaxed);
    atomic_store_explicit(&P.pending, (uint32_t)P.started, memory_order_relaxed);
    atomic_fetch_add(&P.gen, 1);   /* seq_cst: ordered before the read of sleepers below */
    if (atomic_load(&P.sleepers)) futex_wake(&P.gen, OLMO_POOL_MAX_THREADS);
    run_chunks(0);
    for (;;) {
        uint32_t p = atomic_load_explicit(&P.pending, memory_order_acquire);
        if (!p) break;
        if (!spin_while_equal(&P.pending, p)) futex_wait(&P.pending, p);
    }
    pthread_mutex_unlock(&P.lock);
}
