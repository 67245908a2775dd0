/* mpi.c — MPI wrapper for data-parallel training (see mpi.h); compiles to single-process stubs without MPI. */
#include "train/mpi.h"
#include "base/error.h"

#include <limits.h>
#include <stdlib.h>

#if defined(OLMO_HAVE_MPI) && OLMO_HAVE_MPI
#include <mpi.h>

static int g_started, g_rank, g_size = 1;

/* Open MPI (and MPICH / Hydra) set these in every process they launch. */
static int launched_by_mpirun(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

int dist_init(int *argc, char ***argv) {
    if (g_started || !launched_by_mpirun()) return 0;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) return olmo_err("MPI_Init failed");
    g_started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    return 0;
}

void dist_finalize(void) {
    if (g_started) MPI_Finalize();
    g_started = 0;
    g_rank = 0;
    g_size = 1;
}

int dist_rank(void) { return g_rank; }
int dist_size(void) { return g_size; }
int dist_active(void) { return g_started && g_size > 1; }
int dist_built_with_mpi(void) { return 1; }

/* MPI counts are ints: large buffers go in chunks (each chunk is summed the same way on every run). */
static int allreduce(void *buf, size_t n, size_t elem, MPI_Datatype t, MPI_Op op, const char *what) {
    if (!dist_active()) return 0;
    const size_t chunk = (size_t)INT_MAX / 2;
    for (size_t off = 0; off < n; off += chunk) {
        size_t c = n - off < chunk ? n - off : chunk;
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)buf + off * elem, (int)c, t, op, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return olmo_err("MPI_Allreduce of %zu %s values failed (code %d)", c, what, rc);
    }
    return 0;
}

int dist_allreduce_sum_f32(float *buf, size_t n) { return allreduce(buf, n, sizeof *buf, MPI_FLOAT, MPI_SUM, "float"); }
int dist_allreduce_sum_f64(double *buf, size_t n) { return allreduce(buf, n, sizeof *buf, MPI_DOUBLE, MPI_SUM, "double"); }
int dist_allreduce_max_i32(int32_t *v) { return allreduce(v, 1, sizeof *v, MPI_INT32_T, MPI_MAX, "int32"); }

int dist_bcast(void *buf, size_t n, int root) {
    if (!dist_active()) return 0;
    const size_t chunk = (size_t)INT_MAX / 2;
    for (size_t off = 0; off < n; off += chunk) {
        size_t c = n - off < chunk ? n - off : chunk;
        if (MPI_Bcast((char *)buf + off, (int)c, MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS)
            return olmo_err("MPI_Bcast of %zu bytes failed", c);
    }
    return 0;
}

int dist_barrier(void) {
    if (dist_active() && MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS) return olmo_err("MPI_Barrier failed");
    return 0;
}

void dist_abort(int code) {
    if (dist_active()) MPI_Abort(MPI_COMM_WORLD, code);
}

#else /* no MPI: one process */

int dist_init(int *argc, char ***argv) {
    (void)argc; (void)argv;
    if (getenv("OMPI_COMM_WORLD_SIZE") && atoi(getenv("OMPI_COMM_WORLD_SIZE")) > 1)
        return olmo_err("started by mpirun with %s processes, but this olmo was built without MPI (make MPI=0?)",
                        getenv("OMPI_COMM_WORLD_SIZE"));
    return 0;
}
void dist_finalize(void) {}
int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }
int dist_active(void) { return 0; }
int dist_built_with_mpi(void) { return 0; }
int dist_allreduce_sum_f32(float *buf, size_t n) { (void)buf; (void)n; return 0; }
int dist_allreduce_sum_f64(double *buf, size_t n) { (void)buf; (void)n; return 0; }
int dist_allreduce_max_i32(int32_t *v) { (void)v; return 0; }
int dist_bcast(void *buf, size_t n, int root) { (void)buf; (void)n; (void)root; return 0; }
int dist_barrier(void) { return 0; }
void dist_abort(int code) { (void)code; }

#endif
