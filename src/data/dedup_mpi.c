/* dedup_mpi.c — the two collectives the deduper's MPI scale-out needs on Bloom filter words: an exclusive
 * prefix OR (rank r gets the OR of ranks 0..r-1, rank 0 zeros) and an all-reduce OR. Arrays larger than INT_MAX
 * words go in chunks. Without MPI (or with one process) both are the identity / zeros. */
#include "data/dedup_mpi.h"

#include "base/error.h"
#include "train/mpi.h"

#include <string.h>
#if OLMO_HAVE_MPI
#include <mpi.h>
#endif

#define CHUNK (1u << 28)

int dedup_mpi_exscan_or(uint32_t *words, uint64_t n) {
#if OLMO_HAVE_MPI
    if (dist_active()) {
        for (uint64_t off = 0; off < n; off += CHUNK) {
            int c = (int)(n - off < CHUNK ? n - off : CHUNK);
            if (MPI_Exscan(MPI_IN_PLACE, words + off, c, MPI_UINT32_T, MPI_BOR, MPI_COMM_WORLD) != MPI_SUCCESS)
                return olmo_err("MPI_Exscan of the bloom filter failed");
        }
        /* MPI leaves rank 0's buffer undefined after an exclusive scan: nothing comes before it. */
        if (dist_rank() == 0) memset(words, 0, n * 4);
        return 0;
    }
#endif
    memset(words, 0, n * 4);
    return 0;
}

int dedup_mpi_allreduce_or(uint32_t *words, uint64_t n) {
#if OLMO_HAVE_MPI
    if (dist_active()) {
        for (uint64_t off = 0; off < n; off += CHUNK) {
            int c = (int)(n - off < CHUNK ? n - off : CHUNK);
            if (MPI_Allreduce(MPI_IN_PLACE, words + off, c, MPI_UINT32_T, MPI_BOR, MPI_COMM_WORLD) != MPI_SUCCESS)
                return olmo_err("MPI_Allreduce of the bloom filter failed");
        }
    }
#endif
    (void)words;
    (void)n;
    return 0;
}

int dedup_mpi_sum_long(long *v, int n) {
#if OLMO_HAVE_MPI
    if (dist_active() && MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_LONG, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
        return olmo_err("MPI_Allreduce of counts failed");
#endif
    (void)v;
    (void)n;
    return 0;
}
