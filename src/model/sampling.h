/* sampling.h — choosing the next token from logits: greedy, temperature, top-k, top-p, with a seeded RNG.
 *
 * temperature <= 0 is greedy (argmax, lowest id on ties). Otherwise: logits / temperature, keep the top_k
 * largest (top_k <= 0: all), softmax, keep the smallest prefix of the descending distribution whose mass
 * reaches top_p (top_p >= 1: all), renormalise, draw with the sampler's own RNG (PCG32, so a seed reproduces
 * a generation on every machine). */
#ifndef OLMO_MODEL_SAMPLING_H
#define OLMO_MODEL_SAMPLING_H

#include <stdint.h>

struct olmo_sampler {
    float temperature, top_p;
    int top_k;
    uint64_t rng_state, rng_inc;
    int vocab;
    struct sampler_cand { float p; int32_t id; } *cand;   /* scratch, vocab entries */
};

int sampler_init(struct olmo_sampler *s, int vocab, float temperature, int top_k, float top_p, uint64_t seed);
void sampler_free(struct olmo_sampler *s);
/* Picks a token id from logits[vocab] (logits are not modified). */
int32_t sampler_sample(struct olmo_sampler *s, const float *logits);
int32_t sampler_argmax(const float *logits, int n);
/* Uniform float in [0, 1) and raw 32-bit draws from the sampler's PCG32 stream. */
uint32_t sampler_rand_u32(struct olmo_sampler *s);
float sampler_rand_f32(struct olmo_sampler *s);

#endif
