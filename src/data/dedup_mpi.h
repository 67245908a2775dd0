/* dedup_mpi.h — collectives on Bloom filter words for the deduper's MPI scale-out (see dedup.h). */
#ifndef OLMO_DATA_DEDUP_MPI_H
#define OLMO_DATA_DEDUP_MPI_H

#include <stdint.h>

/* In place: rank r ends with the OR of ranks 0..r-1 (rank 0 and a single process: all zeros). */
int dedup_mpi_exscan_or(uint32_t *words, uint64_t n);
/* In place: every rank ends with the OR of all ranks. */
int dedup_mpi_allreduce_or(uint32_t *words, uint64_t n);
/* In place sum of n longs over the ranks (stats). */
int dedup_mpi_sum_long(long *v, int n);

#endif
