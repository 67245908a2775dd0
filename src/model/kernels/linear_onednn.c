/* linear_onednn.c — the prompt path (T > 1) for bf16 weights through oneDNN's matmul, for CPUs with AMX.
 *
 * On AMX CPUs (Sapphire Rapids and later) oneDNN's brgemm drives the tile units, which issue 512 bf16
 * multiply-adds per instruction against vdpbf16ps' 32: issue 12 measured oneDNN at 1.2-1.7 TFLOP/s bf16 on a 2-core
 * AMX machine while olmo.c's own GEMM (linear_gemm.c) ran at ~0.2. So on those CPUs the prompt goes here: the
 * weights are handed to oneDNN as they are stored (bf16 W[out][in], described as the transpose of the [in][out]
 * operand: no conversion, no copy of ours), the activations are rounded to bf16 once per call (as linear_gemm.c
 * does), products accumulate in fp32. Without AMX linear_gemm.c stays: on this Zen 4/5 oneDNN's avx512_core_bf16
 * brgemm was not faster (docs/kernels.md), and oneDNN's OpenMP threads spin at barriers on a shared machine.
 *
 * OLMO_PREFILL_ONEDNN=1 forces this path on any CPU (tests run it here; oneDNN picks its best ISA itself),
 * OLMO_PREFILL_ONEDNN=0 keeps it off even with AMX; OLMO_CPU below amx turns it off too (base/cpu.h). */
#include "model/kernels/linear_internal.h"
#include "base/cpu.h"
#include "base/error.h"
#include "model/kernels/gemm_bf16.h"

#include <stdlib.h>

static struct gemm_bf16 *handle;   /* created on first use; calls are serialised by linear.c's lock */
static int forced = -1;            /* -1: OLMO_PREFILL_ONEDNN not read yet; 0 off, 1 on, 2 automatic (AMX) */

void linear_onednn_set(int mode) { forced = mode; }

int linear_onednn_wanted(const struct olmo_linear *W, int T) {
    if (W->dtype != OLMO_DTYPE_BF16 || T < 2) return 0;
    if (forced < 0) {
        const char *e = getenv("OLMO_PREFILL_ONEDNN");
        forced = e && *e == '1' ? 1 : e && *e == '0' ? 0 : 2;
    }
    return forced == 1 || (forced == 2 && olmo_cpu_has(OLMO_CPU_SET_AMX));
}

int linear_onednn_forward(float *y, const float *x, const struct olmo_linear *W, int T) {
    if (W->rows > 0x7fffffff || W->cols > 0x7fffffff) return -1;
    if (!handle && !(handle = gemm_bf16_create())) return -1;
    return gemm_bf16_wbf16(handle, y, x, (const uint16_t *)W->data, T, (int)W->rows, (int)W->cols, 1);
}

const char *linear_onednn_impl(void) { return handle ? gemm_bf16_impl(handle) : "(not used yet)"; }
