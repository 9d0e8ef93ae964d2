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
 * the chain's initial accumulator, exactly as the instruction takes it
 * (rounded to the accumulator format by the codec, RNE, when that is not
 * f32: exact for f16 values); for library models it is added in the
 * epilogue, D = fl32(D + C) (beta = 1; not checked against traces).
 * An accumulator narrower than f32 (hopper-wgmma-f16) is widened exactly.
 *
 * Scales (fp8lab_scales), applied as the model's rules say (fp8lab/model.h):
 *   NONE      D = acc
 *   TENSOR    D = fl32(fl32(sa * sb) * acc)
 *   ROWWISE   D = fl32(fl32(acc * sb[j]) * sa[i])
 *   BLOCKWISE 1 x 128 tiles of A (sa[i][g]), 128 x 128 blocks of B
 *             (sb[j/128][g]) meet every promotion (PROMOTE_FMA models)
 * NONE fits every model (unit scales for PROMOTE_FMA); TENSOR and ROWWISE
 * fit the CHAIN and PROMOTE models; BLOCKWISE only PROMOTE_FMA, whose
 * promote_k is the K size of a tile (128 for deepgemm).
 * Output: f32, or bf16 bit patterns (RNE of the f32 result); every NaN
 * written is canonical (f32 0x7FFFFFFF, bf16 0x7FFF).
 *
 * The engine runs a specialised kernel where one exists (fp8lab_gemm_fast:
 * the FP22 rows of fp8lab/bfma.h with FP8 operands) and the plain
 * reference otherwise; fp8lab_gemm_ref is that reference, and tests check
 * the two agree.  Threads split the rows of D: results do not depend on
 * the thread count.
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

/* N size of the B blocks of BLOCKWISE scaling (K size: promote_k). */
#define FP8LAB_GEMM_BLOCK_N 128

/* Returns 0, or -1 with a reason in err for arguments that do not fit
 * (a model/scale mode combination the model does not define, sizes). */
int fp8lab_gemm(const fp8lab_gemm_args *g, char *err, size_t errlen);
/* The plain reference: fp8lab_model_dot and the epilogue per element. */
int fp8lab_gemm_ref(const fp8lab_gemm_args *g, char *err, size_t errlen);
/* The specialised engine alone (lib/gemm_fast.c): -1 with a reason also
 * when it has no kernel for the model and formats (fp8lab_gemm then runs
 * the reference).  Same results as fp8lab_gemm_ref, bit for bit. */
int fp8lab_gemm_fast(const fp8lab_gemm_args *g, char *err, size_t errlen);
/* Whether fp8lab_gemm_fast has a kernel for g (arguments valid or not). */
bool fp8lab_gemm_fast_supports(const fp8lab_gemm_args *g);

/* The instruction-set variants of the specialised kernel.  AUTO picks the
 * best the CPU runs; asking for one it cannot run is an error.  Every
 * variant gives the same bits (tests run each one the CPU supports). */
typedef enum fp8lab_gemm_kernel {
  FP8LAB_KERNEL_AUTO,
  FP8LAB_KERNEL_PORTABLE, /* plain C, any CPU                            */
  FP8LAB_KERNEL_AVX2,     /* x86-64 AVX2 + FMA                           */
} fp8lab_gemm_kernel;
int fp8lab_gemm_fast_ex(const fp8lab_gemm_args *g, fp8lab_gemm_kernel kernel,
                        char *err, size_t errlen);
/* Whether this CPU runs kernel variant k; its name ("portable", "avx2"). */
bool fp8lab_gemm_kernel_available(fp8lab_gemm_kernel k);
const char *fp8lab_gemm_kernel_name(fp8lab_gemm_kernel k);

/* ---- shared by the engines (lib/gemm.c) ------------------------------- */

/* Argument validation of fp8lab_gemm: 0, or -1 with a reason. */
int fp8lab_gemm_check(const fp8lab_gemm_args *g, char *err, size_t errlen);
/* The initial accumulator of element (i, j): C rounded to the model's
 * accumulator (c_as_initial models with C), else +0. */
uint32_t fp8lab_gemm_initial(const fp8lab_gemm_args *g, size_t i, size_t j);
/* The epilogue of element (i, j): acc (a pattern of fp8lab_model_acc) ->
 * D(i, j) scaled, C added for library models, converted to the output
 * type and stored. */
void fp8lab_gemm_epilogue(const fp8lab_gemm_args *g, size_t i, size_t j,
                          uint32_t acc);
/* Run fn(ctx, i0, i1) over [0, m) split into contiguous row ranges on
 * `threads` threads (0 = one per online CPU; never more than m).  A range
 * whose thread cannot be started runs on the caller's thread (same
 * results).  Returns the number of threads used. */
int fp8lab_gemm_parallel(size_t m, int threads,
                         void (*fn)(void *ctx, size_t i0, size_t i1),
                         void *ctx);

#ifdef __cplusplus
}
#endif
#endif
