/* mpi.h — the few collective operations data-parallel training needs, behind a thin wrapper.
 *
 * Built with OpenMPI when the Makefile found it (OLMO_HAVE_MPI=1); otherwise, and whenever the process was not
 * started by mpirun, every call is the one-process identity (rank 0 of 1), so the trainer has one code path.
 * Starting MPI only under a launcher keeps plain `olmo train` free of MPI's start-up cost and its messages.
 *
 * Determinism: dist_allreduce_sum_f32 sums the same buffers in the same order for the same world size (Open MPI's
 * algorithm choice depends only on message size and communicator size), so a run resumed with the same number of
 * processes continues bit-identically. Runs with different world sizes agree only to rounding. */
#ifndef OLMO_TRAIN_MPI_H
#define OLMO_TRAIN_MPI_H

#include <stddef.h>
#include <stdint.h>

/* Starts MPI when the process was launched by mpirun/mpiexec (and MPI is built in); 0 or -1 with olmo_err. */
int dist_init(int *argc, char ***argv);
void dist_finalize(void);
int dist_rank(void);            /* 0 without MPI */
int dist_size(void);            /* 1 without MPI */
int dist_active(void);          /* 1 when more than one process takes part */
int dist_built_with_mpi(void);  /* 1 when compiled against MPI */

/* In-place sum over all ranks (every rank gets the sum); n may exceed INT_MAX (sent in chunks). */
int dist_allreduce_sum_f32(float *buf, size_t n);
int dist_allreduce_sum_f64(double *buf, size_t n);
/* Logical OR / max of one int over all ranks (agreeing on "stop" and error conditions). */
int dist_allreduce_max_i32(int32_t *v);
/* Copies n bytes from root to every rank. */
int dist_bcast(void *buf, size_t n, int root);
int dist_barrier(void);
/* Ends every rank after a fatal error on one of them (no-op, returns, without MPI). */
void dist_abort(int code);

#endif
