/*
 * fp8lab/model.h: named models of FP8 GEMMs as hardware and libraries run
 * them: a tensor-core block (fp8lab/bfma.h) plus the schedule that chains
 * blocks over K and, for the libraries, promotes partial sums into an f32
 * accumulator on the CUDA cores.
 *
 * For one output element D[i][j] over K (instructions of K_i =
 * fp8lab_bfma_k(bfma) products, in increasing k; a final short instruction
 * is padded with zero products, which are absent by the BFMA rules):
 *
 *   CHAIN      (hopper-wgmma, hopper-wgmma-f16, hopper-mma-sync,
 *               cublaslt-fast)
 *              acc = C (or +0 when there is no C)
 *              for each instruction: acc = bfma(products, c = acc)
 *   PROMOTE    (cublaslt; CUTLASS's mma_promotion_interval)
 *              acc = +0                                       (f32)
 *              for each group of `promote_k` of K (a multiple of K_i):
 *                  part = +0; for each instruction of the group:
 *                      part = bfma(products, c = part)
 *                  acc = fl32(acc + part)                  (IEEE f32, RNE)
 *   PROMOTE_FMA (deepgemm; cuBLASLt's block-scaled kernels)
 *              as PROMOTE, but acc = fma32(s_g, part, acc), one rounding,
 *              s_g = fl32(scale_a[g] * scale_b[g]) for group g
 *
 * The promoted accumulator lives on the CUDA cores: it is always f32 (the
 * partials are in the BFMA's acc, widened exactly); a NaN it produces is
 * the canonical 0x7FFFFFFF, as for the tensor cores.
 *
 * Scales and the output (fp8lab/gemm.h) are applied after accumulation:
 * per-tensor D = fl32(fl32(sa*sb) * acc); row-wise D = fl32(fl32(acc *
 * sb[j]) * sa[i]); bf16 outputs are RNE of the f32 result.
 *
 * Source of every rule: the H100 traces in data/ (docs/hardware-models.md
 * lists the match counts and the rejected alternatives).
 */
#ifndef FP8LAB_MODEL_H
#define FP8LAB_MODEL_H

#include "fp8lab/bfma.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fp8lab_schedule {
  FP8LAB_SCHED_CHAIN,
  FP8LAB_SCHED_PROMOTE,
  FP8LAB_SCHED_PROMOTE_FMA,
} fp8lab_schedule;

typedef struct fp8lab_model {
  const char *name;         /* "hopper-wgmma", "cublaslt", ...             */
  const fp8lab_bfma *bfma;  /* the tensor-core block                       */
  fp8lab_schedule schedule;
  int promote_k;            /* K elements per promotion (PROMOTE*), else 0;
                               a multiple of fp8lab_bfma_k(bfma)           */
  bool c_as_initial;        /* C enters as the chain's initial c (hardware
                               instructions); else D = epilogue(acc) only  */
  bool checked;             /* reproduced bit for bit by fp8lab's traces   */
  const char *summary;
  const char *source;
} fp8lab_model;

extern const fp8lab_model fp8lab_models[];
extern const size_t fp8lab_nmodels;
const fp8lab_model *fp8lab_model_named(const char *name);

/* The format of the accumulator fp8lab_model_dot returns: the BFMA's acc
 * for CHAIN, f32 for the promoting schedules. */
const fp8lab_format *fp8lab_model_acc(const fp8lab_model *md);

/* 0 if model md is defined for operand formats fa, fb (its BFMA row passes
 * fp8lab_bfma_check; promote_k is a positive multiple of K_i), else -1
 * with a one-line reason in err. */
int fp8lab_model_check(const fp8lab_model *md, const fp8lab_format *fa,
                       const fp8lab_format *fb, char *err, size_t errlen);

/* One output element under model md: K codes of A's row (stride sa) and of
 * B's column (stride sb), c = initial accumulator bit pattern of
 * md->bfma->acc (ignored unless md->c_as_initial), block scales for
 * PROMOTE_FMA (scale_a[g], scale_b[g] for promotion group g, i.e. per
 * promote_k = 128 of K, stride 1; NULL = 1).  Returns the accumulator bit
 * pattern (format fp8lab_model_acc(md)) before any epilogue: the plain
 * reference.  For a combination fp8lab_model_check rejects it returns that
 * format's canonical NaN. */
uint32_t fp8lab_model_dot(const fp8lab_model *md, const fp8lab_format *fa,
                          const uint8_t *a, ptrdiff_t sa,
                          const fp8lab_format *fb, const uint8_t *b,
                          ptrdiff_t sb, size_t k, uint32_t c,
                          const float *scale_a, const float *scale_b);

#ifdef __cplusplus
}
#endif
#endif
