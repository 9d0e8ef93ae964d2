/* Named GEMM models (fp8lab/model.h): a BFMA row plus the schedule over K,
 * and fp8lab_model_dot, the plain reference of one output element. */
#include "fp8lab/model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* BFMA rows by their place in lib/bfma.c's table (a constant expression
 * must name the array; tests/models checks every model's row by name). */
#define WGMMA_F32 (&fp8lab_bfma_rows[0])
#define WGMMA_F16 (&fp8lab_bfma_rows[1])
#define MMA_SYNC (&fp8lab_bfma_rows[2])
#define ADA_MMA_SYNC (&fp8lab_bfma_rows[6])
#define B200_TCGEN05 (&fp8lab_bfma_rows[7])

const fp8lab_model fp8lab_models[] = {
    {"hopper-wgmma", WGMMA_F32, FP8LAB_SCHED_CHAIN, 0, true, true,
     "H100 wgmma FP8, f32 accumulator: FP22 chain over K, C as initial c",
     "data/wgmma_dev.h5, data/wgmma_chain_dev.h5 (docs/hardware-models.md)"},
    {"hopper-wgmma-f16", WGMMA_F16, FP8LAB_SCHED_CHAIN, 0, true, true,
     "H100 wgmma FP8, f16 accumulator: RNE to binary16 per instruction",
     "data/wgmma_f16acc_dev.h5 (docs/hardware-models.md)"},
    {"hopper-mma-sync", MMA_SYNC, FP8LAB_SCHED_CHAIN, 0, true, true,
     "H100 mma.sync FP8: f16 HMMA path, two k16 steps, c added last (RN)",
     "data/mma_sync_dev.h5 (docs/hardware-models.md)"},
    {"cublaslt-fast", WGMMA_F32, FP8LAB_SCHED_CHAIN, 0, false, true,
     "cuBLASLt FP8, use_fast_accum: one FP22 chain over all of K",
     "data/scaled_mm_dev.h5 D_fast, data/scaled_gemm_dev.h5 *_fast"},
    {"cublaslt", WGMMA_F32, FP8LAB_SCHED_PROMOTE, 128, false, true,
     "cuBLASLt FP8: FP22 partials of 128 of K promoted by f32 adds",
     "data/scaled_mm_dev.h5 D, data/scaled_gemm_dev.h5 (tensor, rowwise)"},
    {"deepgemm", WGMMA_F32, FP8LAB_SCHED_PROMOTE_FMA, 128, false, true,
     "DeepSeek-V3 / cuBLASLt block-wise: acc = fma32(sa*sb, partial, acc)",
     "data/scaled_gemm_dev.h5 D_blockwise_*; DeepGEMM (deepseek-ai)"},
    {"ada-mma-sync", ADA_MMA_SYNC, FP8LAB_SCHED_CHAIN, 0, true, false,
     "Ada mma.sync FP8 as published (unchecked: no Ada traces)",
     "shared/design/tensor-core-numerics.md (MMA-Sim)"},
    {"blackwell-tcgen05", B200_TCGEN05, FP8LAB_SCHED_CHAIN, 0, true, false,
     "B200 tcgen05 FP8 as published (unchecked: no Blackwell traces)",
     "shared/design/tensor-core-numerics.md (MMA-Sim)"},
};
const size_t fp8lab_nmodels = sizeof fp8lab_models / sizeof fp8lab_models[0];

const fp8lab_model *fp8lab_model_named(const char *name) {
  for (size_t i = 0; i < fp8lab_nmodels; i++)
    if (strcmp(name, fp8lab_models[i].name) == 0) return &fp8lab_models[i];
  return NULL;
}

const fp8lab_format *fp8lab_model_acc(const fp8lab_model *md) {
  return md->schedule == FP8LAB_SCHED_CHAIN ? md->bfma->acc : fp8lab_f32;
}

int fp8lab_model_check(const fp8lab_model *md, const fp8lab_format *fa,
                       const fp8lab_format *fb, char *err, size_t errlen) {
  if (!md || !md->bfma) {
    if (err && errlen) snprintf(err, errlen, "no model");
    return -1;
  }
  if (fp8lab_bfma_check(md->bfma, fa, fb, err, errlen) != 0) return -1;
  size_t ki = fp8lab_bfma_k(md->bfma);
  if (md->schedule != FP8LAB_SCHED_CHAIN &&
      (md->promote_k <= 0 || (size_t)md->promote_k % ki != 0)) {
    if (err && errlen)
      snprintf(err, errlen, "model %s: promote_k %d is not a multiple of %zu",
               md->name, md->promote_k, ki);
    return -1;
  }
  return 0;
}

/* ---- f32 arithmetic of the CUDA cores ------------------------------------ */

static const uint32_t f32_nan = 0x7FFFFFFF; /* canonical, as the GPU writes */

static uint32_t canonical(float x) {
  return isnan(x) ? f32_nan : fp8lab_f32_bits(x);
}

/* fl32(a + b): the f64 sum of two f32 values rounded once more to f32 is
 * the correctly rounded f32 sum (53 >= 2 * 24 + 2). */
static float add32(float a, float b) { return (float)((double)a + (double)b); }
/* fl32(a * b): the f64 product of two f32 values is exact. */
static float mul32(float a, float b) { return (float)((double)a * (double)b); }

/* A partial in the BFMA's accumulator format, widened exactly to f32. */
static float widen32(const fp8lab_format *acc, uint32_t bits) {
  if (fp8lab_format_is_nan(acc, bits)) return fp8lab_f32_from_bits(f32_nan);
  return (float)fp8lab_decode_f64(acc, bits);
}

/* ---- the reference ------------------------------------------------------- */

/* Instructions over k in [k0, k1), chained from c: the CHAIN schedule. */
static uint32_t chain(const fp8lab_bfma *p, const fp8lab_format *fa,
                      const uint8_t *a, ptrdiff_t sa, const fp8lab_format *fb,
                      const uint8_t *b, ptrdiff_t sb, size_t k0, size_t k1,
                      uint32_t c) {
  const size_t ki = fp8lab_bfma_k(p);
  for (size_t k = k0; k < k1; k += ki) {
    size_t n = k1 - k < ki ? k1 - k : ki;
    c = fp8lab_bfma_block(p, fa, a + (ptrdiff_t)k * sa, sa, fb,
                          b + (ptrdiff_t)k * sb, sb, n, c);
  }
  return c;
}

uint32_t fp8lab_model_dot(const fp8lab_model *md, const fp8lab_format *fa,
                          const uint8_t *a, ptrdiff_t sa,
                          const fp8lab_format *fb, const uint8_t *b,
                          ptrdiff_t sb, size_t k, uint32_t c,
                          const float *scale_a, const float *scale_b) {
  if (fp8lab_model_check(md, fa, fb, NULL, 0) != 0)
    return md && md->bfma ? fp8lab_format_nan_code(fp8lab_model_acc(md))
                          : f32_nan;
  const fp8lab_bfma *p = md->bfma;
  if (md->schedule == FP8LAB_SCHED_CHAIN)
    return chain(p, fa, a, sa, fb, b, sb, 0, k, md->c_as_initial ? c : 0);

  /* PROMOTE, PROMOTE_FMA: f32 accumulator, partials restart from +0 */
  const size_t pk = (size_t)md->promote_k;
  float acc = 0.0f;
  for (size_t k0 = 0, g = 0; k0 < k; k0 += pk, g++) {
    size_t k1 = k - k0 < pk ? k : k0 + pk;
    float part = widen32(p->acc, chain(p, fa, a, sa, fb, b, sb, k0, k1, 0));
    if (md->schedule == FP8LAB_SCHED_PROMOTE) {
      acc = add32(acc, part);
    } else {
      float s = mul32(scale_a ? scale_a[g] : 1.0f, scale_b ? scale_b[g] : 1.0f);
      acc = fmaf(s, part, acc); /* IEEE fused multiply-add: one rounding */
    }
  }
  return canonical(acc);
}
