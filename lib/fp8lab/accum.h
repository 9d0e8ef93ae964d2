/*
 * fp8lab/accum.h: accumulation models for sums and dot products.
 *
 * Inputs are doubles; FP8 (and f16, bf16, f32) values decode to double
 * exactly, so a tensor of codes is first decoded with fp8lab_decode_f64.
 * A model is one descriptor, `fp8lab_accum`; its `kind` picks the algorithm:
 *
 *   EXACT     the reference.  Every term (x_i, or the product a_i b_i taken
 *             exactly) goes into a superaccumulator (fp8lab/exact_sum.h);
 *             the sum is rounded once: to double (RNE) for the return value
 *             and, when `fmt` is set, into fmt per `cvt` for the code.
 *   SEQ       sequential, s_0 = +0, s_i = round_fmt(s_{i-1} + t_i), where
 *             round_fmt is the codec (fp8lab/convert.h) with `cvt`: any
 *             fp8lab format (f32, f16, bf16, ibm169 = IBM 1-6-9, e8m13,
 *             any e<X>m<Y>) and any mode, SR included.  fmt = NULL is f32;
 *             with a zeroed cvt this is "f32, round to nearest even".
 *   PAIRWISE  the same rounded addition over a balanced tree: the terms
 *             [0, n) split at h = floor(n/2) into [0, h) and [h, n),
 *             recursively, down to leaves of at most `chunk` terms (0 or 1:
 *             single terms) summed sequentially from +0; each node adds its
 *             children's results with one rounding (Higham, "Accuracy and
 *             Stability of Numerical Algorithms", 2nd ed., section 4.1).
 *   CHUNKED   chunk-based accumulation (Wang, Choi, Brand, Chen,
 *             Gopalakrishnan, "Training Deep Neural Networks with 8-bit
 *             Floating Point Numbers", NeurIPS 2018, arXiv 1812.08011,
 *             section 3): the terms are cut into chunks of CL = `chunk`
 *             consecutive terms; each chunk is summed sequentially (SEQ, in
 *             fmt with cvt, from +0); the chunk results are then summed
 *             sequentially in the inter-chunk accumulator.  The paper keeps
 *             both levels in the same 16-bit accumulator; that is the default
 *             here (inter_fmt = NULL: fmt with cvt).  Set inter_fmt (and
 *             inter_cvt) to model a wider second level, e.g. f32.  The
 *             error bound drops from ~n u to ~(n/CL + CL) u.
 *   KAHAN_F32 compensated summation (Kahan 1965) with every operation in
 *             binary32, round to nearest even:
 *                 y = t_i - c;  t = s + y;  c = (t - s) - y;  s = t
 *             terms are rounded to f32 first (x_i; for dot products
 *             y = fmaf(a_i, b_i, -c) with a_i, b_i rounded to f32, which is
 *             exact for FP8 inputs).  Returns s (Higham, section 4.3).
 *   KAHAN_F64 the same in binary64 (y = fma(a_i, b_i, -c) for products).
 *   F64       plain binary64: s = s + x_i, or s = fma(a_i, b_i, s).
 *
 * Products.  For SEQ, PAIRWISE and CHUNKED a dot product step is
 * s = round(s + a_i b_i) with the product exact: one rounding per step, as
 * in a fused multiply-add.  For FP8 (or any <= 26-bit-significand) inputs
 * a_i b_i is exact in double and the step is TwoSum + fp8lab_encode_dd.  For
 * wider inputs, p = a b and e = fma(a, b, -p) are computed; if e = 0 the
 * same path applies, otherwise (and when p is below 2^-969, where the fma
 * error is not representable) the three terms s + a b go through an
 * exact_sum and are rounded once.  Either way the step is exact.
 *
 * Rounding of each step, s + t exactly and once.  s and t are doubles; the
 * exact sum is hi + lo (TwoSum) and fp8lab_encode_dd rounds it.  Rounding
 * double(s + t) to the format instead would round twice: for RUP/RDN/RTO
 * and SR the second rounding loses the sticky bit when t is below half an
 * ulp of s in double, and RNE can land on a false tie.
 * Overflow: per cvt (IEEE 754: Inf, or +-max for modes rounding toward zero;
 * saturate: +-max).  An Inf or NaN accumulator stays so (Inf + -Inf = NaN).
 * Zero: an exact zero sum is +0, or -0 under RDN, and x + x keeps x's sign
 * (IEEE 754 section 6.3).
 *
 * Stochastic rounding.  The random word of the step that adds term i is
 * fp8lab_sr_word(&cvt, index0 + i): Philox keyed by (seed, stream), counter
 * by element index, so results depend neither on threads nor on how a sum is
 * fed (see fp8lab_accum_state).  Second-level additions draw from the same
 * seed on stream ^ FP8LAB_ACCUM_LEVEL2_STREAM: for CHUNKED, chunk j's result
 * is added with the word of index index0 + j CL from inter_cvt (or cvt); for
 * PAIRWISE, a node splitting [lo, hi) at m uses index index0 + m.  EXACT
 * rounds once, with the word of index0.
 *
 * Results.  Every function returns the model's result as a double (exactly
 * the accumulator's value; EXACT: the exact sum rounded to double, RNE) and,
 * where `code` is not NULL, its code: in fmt (SEQ, PAIRWISE), in the
 * inter-chunk format (CHUNKED), in fmt for EXACT (0 without fmt), the f32
 * bits for KAHAN_F32, 0 for KAHAN_F64 and F64.  fp8lab_accum_code_format
 * names that format.  An invalid descriptor (fp8lab_accum_check) gives NaN
 * and code 0.
 * Kahan f32 relies on binary32 evaluation of float expressions
 * (FLT_EVAL_METHOD 0: x86-64 SSE, AArch64); accum.c refuses to build
 * otherwise.
 */
#ifndef FP8LAB_ACCUM_H
#define FP8LAB_ACCUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fp8lab/convert.h"
#include "fp8lab/exact_sum.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fp8lab_accum_kind {
  FP8LAB_ACCUM_EXACT,
  FP8LAB_ACCUM_SEQ,
  FP8LAB_ACCUM_PAIRWISE,
  FP8LAB_ACCUM_CHUNKED,
  FP8LAB_ACCUM_KAHAN_F32,
  FP8LAB_ACCUM_KAHAN_F64,
  FP8LAB_ACCUM_F64,
} fp8lab_accum_kind;

/* Stream offset of second-level additions (see the top of this file). */
#define FP8LAB_ACCUM_LEVEL2_STREAM ((uint64_t)1 << 63)

/* One accumulation model.  Zero-initialised it is EXACT without a format;
 * {.kind = FP8LAB_ACCUM_SEQ} is f32 round-to-nearest-even, sequential. */
typedef struct fp8lab_accum {
  fp8lab_accum_kind kind;
  const fp8lab_format *fmt;       /* accumulator format (NULL: f32); EXACT:
                                     format of the code (NULL: none)        */
  fp8lab_cvt cvt;                 /* rounding of every addition in fmt      */
  size_t chunk;                   /* CHUNKED: chunk length CL >= 1;
                                     PAIRWISE: leaf length (0, 1: single)  */
  const fp8lab_format *inter_fmt; /* CHUNKED: inter-chunk accumulator format;
                                     NULL: fmt with cvt (Wang et al.)       */
  fp8lab_cvt inter_cvt;           /* CHUNKED with inter_fmt: its rounding   */
} fp8lab_accum;

/* 0 if a is usable, else -1 with a one-line reason in err (if not NULL):
 * known kind and rounding mode, sr_bits in 0..32, formats with a zero (not
 * E8M0), CHUNKED with chunk >= 1. */
int fp8lab_accum_check(const fp8lab_accum *a, char *err, size_t errlen);

/* The format of the `code` results (see the top), or NULL for none. */
const fp8lab_format *fp8lab_accum_code_format(const fp8lab_accum *a);

/* ---- whole arrays ------------------------------------------------------- */

/* sum_i x[i], i < n, under model a.  Element i is x[i] and SR index i. */
double fp8lab_sum(const fp8lab_accum *a, const double *x, size_t n,
                  uint32_t *code);
/* Same with a stride and the SR index of the first element. */
double fp8lab_sum_ex(const fp8lab_accum *a, const double *x, size_t incx,
                     size_t n, uint64_t index0, uint32_t *code);

/* sum_i x[i] y[i] under model a, each product exact (see Products). */
double fp8lab_dot(const fp8lab_accum *a, const double *x, const double *y,
                  size_t n, uint32_t *code);
double fp8lab_dot_ex(const fp8lab_accum *a, const double *x, size_t incx,
                     const double *y, size_t incy, size_t n, uint64_t index0,
                     uint32_t *code);

/* Matrix-vector product, one dot product per output: out[r] = dot of row r
 * of A (m x n, row-major, leading dimension lda >= n) with x, SR index0 of
 * row r = index0 + r n.  codes may be NULL.  nthreads = 0: one per online
 * CPU; results do not depend on nthreads.  Returns 0, or -1 for an invalid
 * descriptor (outputs then NaN and 0). */
int fp8lab_dot_rows(const fp8lab_accum *a, const double *A, size_t lda,
                    const double *x, size_t m, size_t n, uint64_t index0,
                    double *out, uint32_t *codes, int nthreads);

/* ---- streaming ---------------------------------------------------------- */

/* A model fed one term at a time: the same results as the array functions
 * whatever the pieces the terms arrive in (the SR word of a term is fixed
 * by its index).  All kinds except PAIRWISE, whose tree needs n up front. */
typedef struct fp8lab_accum_state {
  fp8lab_accum a;                  /* the model (copied)                 */
  const fp8lab_format *fmt, *ifmt; /* resolved formats                   */
  fp8lab_cvt icvt;                 /* resolved inter-chunk rounding      */
  uint64_t index0, index;          /* SR index of the first / next term  */
  double s, c;                     /* accumulator; Kahan compensation    */
  uint32_t code;                   /* code of s (SEQ, CHUNKED)           */
  double cs;                       /* CHUNKED: current chunk's sum       */
  size_t in_chunk;                 /* CHUNKED: terms in it               */
  uint64_t chunk_first;            /* CHUNKED: SR index of its first term */
  fp8lab_exact_sum x;              /* EXACT                              */
} fp8lab_accum_state;

/* Start a sum whose first term has SR index `index0`.  Returns 0, or -1 for
 * an invalid descriptor or PAIRWISE. */
int fp8lab_accum_init(fp8lab_accum_state *st, const fp8lab_accum *a,
                      uint64_t index0);
/* Add the term x, or the exact product a b. */
void fp8lab_accum_add(fp8lab_accum_state *st, double x);
void fp8lab_accum_add_prod(fp8lab_accum_state *st, double a, double b);
/* The result so far (CHUNKED: the pending partial chunk included, as if the
 * sum ended here); the state is not changed. */
double fp8lab_accum_result(const fp8lab_accum_state *st, uint32_t *code);

#ifdef __cplusplus
}
#endif
#endif
