/* serve_sched.h — the scheduler: one thread owns the weights and the --parallel slots and runs continuous
 * batching over them (spec §8).
 *
 * Each iteration: admit queued tasks (FIFO) into free slots, choosing the slot whose cached tokens share the
 * longest prefix with the prompt (ties: least recently used) so that prefix is not recomputed; prefill admitted
 * slots in chunks of at most SERVE_PREFILL_CHUNK tokens; sample one token for every generating slot; then one
 * decode step for all of them together (serve_decode_batch); retire finished and cancelled tasks, which frees
 * their slots for the next iteration. */
#ifndef OLMO_SERVE_SERVE_SCHED_H
#define OLMO_SERVE_SERVE_SCHED_H

#include "serve/serve_task.h"
#include "model/kernels/kv_cache.h"

#define SERVE_PREFILL_CHUNK 512

struct serve_sched;

struct serve_stats {
    long long requests, cancelled, rejected, deferred, failed;
    long long prompt_tokens, cached_tokens, copied_tokens, generated_tokens;
    double prompt_s, decode_s;
    int slots, busy, queued;
};

/* Allocates n_slots slots of sc->ctx positions each and starts the thread. NULL with olmo_err. */
struct serve_sched *serve_sched_start(const struct serve_ctx *sc, int n_slots, int queue_cap, enum olmo_kv_dtype kv);
/* Stops the thread; running and queued tasks are failed, later submissions refused. */
void serve_sched_stop(struct serve_sched *s);
/* Frees everything (after serve_sched_stop, once no other thread can call in). */
void serve_sched_free(struct serve_sched *s);
/* Hands t to the scheduler (which takes its own reference). 0, or -1 when the queue is full (503). */
int serve_sched_submit(struct serve_sched *s, struct serve_task *t);
void serve_sched_stats(struct serve_sched *s, struct serve_stats *st);
/* Bytes of KV cache over all slots. */
size_t serve_sched_kv_bytes(const struct serve_sched *s);

/* One decode step for B sequences in one pass over the weights (model_forward_batch): tok[b] at position pos[b]
 * (= states[b]->pos) of states[b]; logits[b] gets its next-token logits, scratch holds [B][vocab] floats. The
 * results are bitwise those of B separate model_forward calls. 0 or -1 with olmo_err. */
int serve_decode_batch(const struct olmo_model *m, struct olmo_state **states, const int32_t *tok, const int *pos,
                       float **logits, int B, float *scratch);

#endif
