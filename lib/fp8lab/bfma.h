/*
 * fp8lab/bfma.h: the generic block fused multiply-add (BFMA) model of a
 * tensor-core dot product.  A tensor-core instruction is a row of
 * parameters, not code: another GPU generation is one more row.
 *
 * One instruction computes, for one output element,
 *
 *     d = sum_{k < K_i} a_k * b_k + c,      K_i = p->block * steps
 *
 * with a_k, b_k codes of any fp8lab formats of <= 16 bits that have a zero
 * (FP8 operands, or f16 / bf16) and c, d bit patterns of the accumulator
 * format `acc` (f32 or f16).  The instruction is `steps` blocks chained
 * inside the datapath (steps = 1 for wgmma; 2 for the two k16 HMMA halves of
 * mma.sync).  The algorithm, for a row p:
 *
 *   1. unpack    a = (-1)^s * sig * 2^(e - m), e = max(field, 1) - bias:
 *                subnormal operands keep sig < 2^m and the minimum exponent
 *                (they are not renormalised).  With p->operand set, every
 *                operand is first re-expressed exactly in that format (FP8
 *                -> f16 on the HMMA path: e4m3 subnormals become f16
 *                normals, with f16's m and exponent).  c likewise in `acc`.
 *   2. specials  over all K_i pairs and c: any NaN operand, Inf * 0, or
 *                +Inf and -Inf among the Inf products and an Inf c -> the
 *                canonical NaN of acc (f32 0x7FFFFFFF, f16 0x7FFF);
 *                otherwise any Inf product or Inf c -> that Inf.  Done.
 *   For each step s = 0 .. steps-1 (products k with (k / il) % steps == s,
 *   il = p->interleave, 0 meaning p->block: contiguous halves), with the
 *   in-block accumulator x = c for s = 0 when p->c_in_block, +0 for s = 0
 *   otherwise, and the result of step s-1 for s > 0:
 *   3. products  exact: P_k = sig_a * sig_b; product exponent pe_k = e_a + e_b
 *                (not renormalised: P_k * 2^-(m_a+m_b) lies in [0, 4)) or,
 *                with p->renormalise, floor(log2 |a_k b_k|).  Zero products
 *                are absent from step 4.
 *   4. align     E = max(pe_k, e_x) over the present terms (x only when
 *                x != 0).  Each term is truncated toward zero on its
 *                magnitude to a multiple of 2^(E - F), F = p->frac_bits.
 *                No guard, round or sticky bits.
 *   5. sum       S = sum of the truncated terms, exactly.
 *   6. result    S = 0 -> +0 (whatever the signs).  Otherwise, with
 *                p->result_bits = R > 0, |S| is truncated toward zero to R
 *                significant bits; then the value S * 2^(E - F) is rounded
 *                to `acc` by the codec (fp8lab/convert.h) with
 *                p->result_round (exact for the FP22 rows, R = 14).  A result
 *                that rounds to zero is +0; overflow is the codec's (IEEE
 *                754 7.4: +-Inf under RNE, +-max under RTZ; no trace
 *                reaches it).
 *   7. late c    when !p->c_in_block, d = fl_acc(result + c): one IEEE
 *                addition rounded to nearest even (-0 + -0 = -0, x - x = +0).
 *
 * Integer widths (checked by fp8lab_bfma_check): every aligned term is below
 * 2^(F+2), the sum of block+1 terms below 2^(F+2+ceil(log2(block+1))); this
 * must stay below 2^53 so that step 6 can hand the exact value to the codec
 * as a double (F <= 45 for 32-product blocks).  Late c needs acc precision
 * <= 25 bits (f64 addition then one rounding is correctly rounded).
 *
 * Sources: Fasi, Higham, Mikaitis, Pranesh, "Numerical behavior of NVIDIA
 * tensor cores", PeerJ CS 7:e330 (2021); Khattak & Mikaitis, "Accurate
 * models of NVIDIA tensor cores", arXiv 2512.07004; Xie et al., "MMA-Sim",
 * arXiv 2511.10909.  The Hopper rows were fixed against fp8lab's H100
 * traces (data/, docs/hardware-models.md): every recorded output matches.
 */
#ifndef FP8LAB_BFMA_H
#define FP8LAB_BFMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fp8lab/convert.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fp8lab_bfma {
  const char *name;          /* e.g. "h100-wgmma-fp8-f32"                     */
  int block;                 /* n: products fused per block                    */
  int steps;                 /* blocks chained inside one instruction; 0 = 1   */
  int interleave;            /* products dealt to the steps in runs of this
                                many (k -> step (k / il) % steps); 0 = block  */
  const fp8lab_format *operand; /* operands re-expressed exactly in this
                                format first (FP8 -> f16); NULL = as given    */
  int frac_bits;             /* F: terms truncated to multiples of 2^(E-F)     */
  bool renormalise;          /* product exponent floor(log2|ab|), not e_a+e_b */
  bool c_in_block;           /* c aligned with the products (else added late)  */
  int result_bits;           /* R: RZ to R significant bits first; 0 = none    */
  fp8lab_round result_round; /* rounding of the block result into acc          */
  const fp8lab_format *acc;  /* format of c and d                              */
  bool checked;              /* reproduced bit for bit by fp8lab's traces      */
  const char *source;        /* where the parameters come from                 */
} fp8lab_bfma;

/* Largest K_i (block * steps) a row may have. */
#define FP8LAB_BFMA_MAX_K 256

/* The rows: the H100 ones (wgmma f32 and f16, mma.sync) checked against
 * data/, the others as published (checked == false). */
extern const fp8lab_bfma fp8lab_bfma_rows[];
extern const size_t fp8lab_bfma_nrows;
const fp8lab_bfma *fp8lab_bfma_named(const char *name);

/* K_i: products one instruction of row p takes (block * steps). */
size_t fp8lab_bfma_k(const fp8lab_bfma *p);

/* 0 if row p with operand formats fa, fb is inside what the reference
 * computes exactly (widths above; operands exactly representable in
 * p->operand; formats with a zero; K_i <= FP8LAB_BFMA_MAX_K; interleave
 * dividing block, so that every step takes `block` products; acc is an
 * IEEE-style format), else -1 with a one-line reason in err. */
int fp8lab_bfma_check(const fp8lab_bfma *p, const fp8lab_format *fa,
                      const fp8lab_format *fb, char *err, size_t errlen);

/* One instruction: n <= fp8lab_bfma_k(p) products of codes a[k * sa]
 * (format fa) and b[k * sb] (format fb), plus c (a bit pattern of p->acc);
 * products n .. K_i-1 are zero (absent).  Returns d's bit pattern.  The
 * plain reference: 64-bit integer arithmetic, any row.  For a combination
 * fp8lab_bfma_check rejects it returns acc's canonical NaN. */
uint32_t fp8lab_bfma_block(const fp8lab_bfma *p, const fp8lab_format *fa,
                           const uint8_t *a, ptrdiff_t sa,
                           const fp8lab_format *fb, const uint8_t *b,
                           ptrdiff_t sb, size_t n, uint32_t c);

/* Same with 16-bit operand codes (f16/bf16 operands, or widened FP8). */
uint32_t fp8lab_bfma_block16(const fp8lab_bfma *p, const fp8lab_format *fa,
                             const uint16_t *a, ptrdiff_t sa,
                             const fp8lab_format *fb, const uint16_t *b,
                             ptrdiff_t sb, size_t n, uint32_t c);

#ifdef __cplusplus
}
#endif
#endif
