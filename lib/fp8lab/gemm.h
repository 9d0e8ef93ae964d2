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
#include "fp8lab/accum.h"

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

/* ==== accumulation-model GEMMs, MX block scaling, BLAS references ==========
 * (lib/gemm_accum.c)  Separate from the hardware-model engine above: these
 * take an accumulation model of fp8lab/accum.h instead of an fp8lab_model,
 * and write doubles (the accumulator's value) plus, optionally, its codes.
 *
 * fp8lab_gemm_accum: for every output element
 *     D(i, j) = sum_k A(i, k) B(k, j)     (k = 0 .. K-1, in increasing k)
 * accumulated under the descriptor `accum` (NULL: {.kind = SEQ}, f32 round
 * to nearest even, sequential) exactly as fp8lab_dot_ex accumulates it: the
 * products of <= 8-bit values are exact in double, so each step rounds once.
 * Operand codes are addressed as in fp8lab_gemm_args (a_rs, a_cs, b_rs,
 * b_cs); element formats are any fp8lab formats of <= 8 bits with a zero.
 *
 * C (optional, doubles, row stride c_rs) is the initial value:
 *   EXACT         C joins the exact sum (one rounding at the end);
 *   SEQ           s_0 = round_fmt(C) per cvt, SR word of index `base`
 *                 (see below), instead of +0; then the products;
 *   CHUNKED       the inter-chunk accumulator starts at round_ifmt(C)
 *                 (inter_cvt or cvt; SR: second-level word of `base`);
 *   PAIRWISE      the tree of the K products, then one more rounded
 *                 addition round_fmt(round_fmt(C) + tree) (SR: words of
 *                 `base`, first and second level);
 *   KAHAN_F32     s_0 = C rounded to binary32 (RNE), compensation 0;
 *   KAHAN_F64, F64  s_0 = C.
 * Without C every kind starts from +0, as fp8lab_dot does.
 *
 * Stochastic rounding: the stream is the descriptor's (seed, stream); the
 * SR index of element (i, j) is laid out so that no two terms of the GEMM
 * share a word and nothing depends on the thread count:
 *     base(i, j) = (i N + j)(T + 1),  C: index base,  term t: base + 1 + t
 * (T = K for fp8lab_gemm_accum, the number of MX blocks for fp8lab_gemm_mx),
 * i.e. element (i, j) is fp8lab_dot_ex(accum, ..., index0 = base + 1).
 *
 * fp8lab_gemm_mx: OCP MX v1.0 block scaling (OCP Microscaling Formats (MX)
 * Specification v1.0, 2023: section 5 for the scale X = 2^(E8M0 code - 127)
 * and the NaN scale code 0xFF; section 6 "Dot product": over one block
 * Dot(A, B) = X_A X_B sum_i A_i B_i, and over several blocks the sum of the
 * blocks' Dot, the internal precision and the order of those additions
 * being implementation-defined: `accum` is that choice here).
 * A's scales are per 1 x 32 block along K (one per row and block), B's per
 * 32 x 1 block along K (one per column and block): block g covers
 * k in [32 g, min(32 g + 32, K)); the last block may be partial.
 *     P_g(i, j) = sum_{k in block g} A(i, k) B(k, j)     exactly
 *     t_g       = P_g 2^(ea + eb - 254)                  exactly
 *                 (ea = mx.a[i a_rs + g a_cs], eb = mx.b[g b_rs + j b_cs])
 *     D(i, j)   = the terms t_0, t_1, ... accumulated under `accum`
 *                 (NULL: f32 RNE sequential), C as above.
 * Scale code 0xFF is NaN: t_g = NaN, so D(i, j) is NaN (its code the
 * accumulator format's NaN).  t_g is exactly a double for every MX element
 * format (E4M3, E2M3, E3M2, E2M1) and for E5M2 blocks whose products span
 * <= 53 bits; the EXACT and SEQ models use the exact t_g in every case
 * (SEQ: one rounding of s + t_g), the other kinds receive t_g rounded to
 * double (RNE) when it is not a double.
 *
 * fp8lab_gemm_reference_f64 / _f32: for error measurements against the
 * models above.  The operands are decoded and de-scaled,
 *     A~(i, k) = value(A(i, k)) sA(i, k),  B~(k, j) = value(B(k, j)) sB(k, j)
 * with `scales` (NULL or NONE: 1; TENSOR: tensor_a, tensor_b; ROWWISE:
 * row_a[i], col_b[j]; BLOCKWISE: tile_a[i][k/128], block_b[j/128][k/128])
 * or, when mx.a and mx.b are set (then `scales` must be NULL or NONE), the
 * E8M0 factors 2^(e - 127) (0xFF: NaN); each de-scaled operand is exact in
 * double.  Then D = A~ B~ + C by OpenBLAS cblas_dgemm (f64: operands and C
 * as doubles, D written to g->d) or cblas_sgemm (f32: operands and C rounded
 * to binary32, RNE, D written to d32 with row stride d32_rs).  The summation
 * order and any FMA use are OpenBLAS's: a reference, not a model.  accum,
 * codes and threads are ignored (OpenBLAS's own threads run).
 *
 * Every function returns 0, or -1 with a reason in err (sizes, NULL
 * pointers, formats, an invalid descriptor, MX scales missing for
 * fp8lab_gemm_mx or given to fp8lab_gemm_accum, MX and engine scales both
 * given to a reference, out of memory).
 */

typedef struct fp8lab_mx_scales {
  const uint8_t *a;      /* E8M0 codes: A's block g of row i: a[i a_rs + g a_cs] */
  ptrdiff_t a_rs, a_cs;
  const uint8_t *b;      /* B's block g of column j: b[g b_rs + j b_cs]         */
  ptrdiff_t b_rs, b_cs;
} fp8lab_mx_scales;

/* K elements per MX block (OCP MX v1.0, all concrete MX formats). */
#define FP8LAB_MX_BLOCK 32

typedef struct fp8lab_gemm_accum_args {
  size_t m, n, k;
  const fp8lab_format *fa, *fb;
  const uint8_t *a;
  ptrdiff_t a_rs, a_cs;
  const uint8_t *b;
  ptrdiff_t b_rs, b_cs;
  const double *c;              /* optional initial values, stride c_rs   */
  ptrdiff_t c_rs;
  const fp8lab_accum *accum;    /* NULL: f32 RNE sequential               */
  fp8lab_mx_scales mx;          /* fp8lab_gemm_mx (and the references)    */
  double *d;                    /* [M][N], stride d_rs                    */
  ptrdiff_t d_rs;
  uint32_t *codes;              /* optional: codes of D in
                                   fp8lab_accum_code_format, stride codes_rs */
  ptrdiff_t codes_rs;
  int threads;                  /* 0 = one per CPU                        */
} fp8lab_gemm_accum_args;

int fp8lab_gemm_accum(const fp8lab_gemm_accum_args *g, char *err, size_t errlen);
int fp8lab_gemm_mx(const fp8lab_gemm_accum_args *g, char *err, size_t errlen);
int fp8lab_gemm_reference_f64(const fp8lab_gemm_accum_args *g,
                              const fp8lab_scales *scales, char *err,
                              size_t errlen);
int fp8lab_gemm_reference_f32(const fp8lab_gemm_accum_args *g,
                              const fp8lab_scales *scales, float *d32,
                              ptrdiff_t d32_rs, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
