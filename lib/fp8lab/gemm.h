/*
 * fp8lab/gemm.h: the emulated FP8 GEMM engine.
 *
 *     D = epilogue( A * B  accumulated under a model )   (+ C, see below)
 *
 * A is M x K, B is K x N, both codes of FP8 (or any <= 8-bit) formats,
 * addressed by strides so that row- and column-major layouts are the same
 * call: A(i, k) = a[i * a_rs + k * a_cs], B(k, j) = b[k * b_rs + j * b_cs].
 * cuBLASLt's "TN" layout of the traces (A[M][K], B[N][K]) is a_rs = K,
 * a_cs = 1, b_rs = 1, b_cs = K.
 *
 * C (optional, f32): for hardware-instruction models (c_as_initial) it is
 * the chain's initial accumulator, exactly as the instruction takes it; for
 * library models it is added in the epilogue, D = fl32(D + C) (beta = 1;
 * not checked against traces).
 *
 * Scales (fp8lab_scales), applied as the model's rules say (fp8lab/model.h):
 *   NONE      D = acc
 *   TENSOR    D = fl32(fl32(sa * sb) * acc)
 *   ROWWISE   D = fl32(fl32(acc * sb[j]) * sa[i])
 *   BLOCKWISE 1 x 128 tiles of A (sa[i][g]), 128 x 128 blocks of B
 *             (sb[j/128][g]) meet every promotion (PROMOTE_FMA models)
 * Output: f32, or bf16 bit patterns (RNE of the f32 result).
 *
 * The engine runs a specialised kernel where one exists (the FP22 rows
 * of fp8lab/bfma.h with FP8 operands) and the plain reference otherwise;
 * fp8lab_gemm_ref is that reference, and tests check the two agree.
 * Threads split the rows of D: results do not depend on the thread count.
 */
#ifndef FP8LAB_GEMM_H
#define FP8LAB_GEMM_H

#include "fp8lab/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fp8lab_scale_mode {
  FP8LAB_SCALE_NONE,
  FP8LAB_SCALE_TENSOR,
  FP8LAB_SCALE_ROWWISE,
  FP8LAB_SCALE_BLOCKWISE,
} fp8lab_scale_mode;

typedef struct fp8lab_scales {
  fp8lab_scale_mode mode;
  float tensor_a, tensor_b;    /* TENSOR                                   */
  const float *row_a;          /* ROWWISE: [M]                             */
  const float *col_b;          /* ROWWISE: [N]                             */
  const float *tile_a;         /* BLOCKWISE: [M][ceil(K/128)]              */
  const float *block_b;        /* BLOCKWISE: [ceil(N/128)][ceil(K/128)]    */
} fp8lab_scales;

typedef enum fp8lab_out_type { FP8LAB_OUT_F32, FP8LAB_OUT_BF16 } fp8lab_out_type;

typedef struct fp8lab_gemm_args {
  const fp8lab_model *model;
  size_t m, n, k;
  const fp8lab_format *fa, *fb;
  const uint8_t *a;
  ptrdiff_t a_rs, a_cs;
  const uint8_t *b;
  ptrdiff_t b_rs, b_cs;
  const float *c;              /* optional, [M][N] with stride c_rs        */
  ptrdiff_t c_rs;
  fp8lab_scales scales;
  fp8lab_out_type out_type;
  void *d;                     /* float or uint16_t (bf16), stride d_rs    */
  ptrdiff_t d_rs;
  int threads;                 /* 0 = one per CPU                          */
} fp8lab_gemm_args;

/* Returns 0, or -1 with a reason in err for arguments that do not fit
 * (a model/scale mode combination the model does not define, sizes). */
int fp8lab_gemm(const fp8lab_gemm_args *g, char *err, size_t errlen);
int fp8lab_gemm_ref(const fp8lab_gemm_args *g, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
