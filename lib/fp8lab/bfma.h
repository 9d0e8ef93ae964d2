/*
 * fp8lab/bfma.h: the generic block fused multiply-add (BFMA) model of a
 * tensor-core dot product.  A tensor-core instruction is a row of
 * parameters, not code: another GPU generation is one more row.
 *
 * One block computes, for one output element,
 *
 *     d = sum_{k < n} a_k * b_k + c
 *
 * with a_k, b_k codes of any fp8lab formats of <= 16 bits (FP8 operands, or
 * the f16 they are widened to) and c, d bit patterns of the accumulator
 * format `acc` (f32 or f16).  The algorithm, for a row p:
 *
 *   1. unpack    a = (-1)^s * sig * 2^(e - m), e = max(field, 1) - bias:
 *                subnormal operands keep sig < 2^m and the minimum exponent
 *                (they are not renormalised).  c likewise in `acc`.
 *   2. specials  any NaN operand, Inf * 0, or +Inf and -Inf among the Inf
 *                products and an Inf c -> the canonical NaN (f32 0x7FFFFFFF,
 *                f16 0x7FFF); otherwise any Inf product or Inf c -> that Inf.
 *   3. products  exact: P_k = sig_a * sig_b; product exponent pe_k = e_a + e_b
 *                (not renormalised: P_k * 2^-(m_a+m_b) lies in [0, 4)) or,
 *                with p->renormalise, floor(log2 |a_k b_k|).  Zero products
 *                are absent from step 4.
 *   4. align     E = max(pe_k, e_c) over the present terms (c only when
 *                p->c_in_block and c != 0).  Each term is truncated toward
 *                zero on its magnitude to a multiple of 2^(E - F), F =
 *                p->frac_bits.  No guard, round or sticky bits.
 *   5. sum       S = sum of the truncated terms, exactly.
 *   6. result    S = 0 -> +0 (whatever the signs).  Otherwise, with
 *                p->result_bits = R > 0, |S| is truncated toward zero to R
 *                significant bits; then the value S * 2^(E - F) is rounded
 *                to `acc` with p->result_round (always exact for the FP22
 *                rows); an underflow to zero is +0; overflow gives +-Inf.
 *   7. late c    when !p->c_in_block, d = fl_acc(result + c) (IEEE RNE).
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
  int frac_bits;             /* F: terms truncated to multiples of 2^(E-F)     */
  bool renormalise;          /* product exponent floor(log2|ab|), not e_a+e_b */
  bool c_in_block;           /* c aligned with the products (else added late)  */
  int result_bits;           /* R: RZ to R significant bits first; 0 = none    */
  fp8lab_round result_round; /* rounding of the block result into acc          */
  const fp8lab_format *acc;  /* format of c and d                              */
  bool checked;              /* reproduced bit for bit by fp8lab's traces      */
  const char *source;        /* where the parameters come from                 */
} fp8lab_bfma;

/* The rows: the H100 ones checked against data/, the others as published
 * (checked == false). */
extern const fp8lab_bfma fp8lab_bfma_rows[];
extern const size_t fp8lab_bfma_nrows;
const fp8lab_bfma *fp8lab_bfma_named(const char *name);

/* One block: n <= p->block products of codes a[k * sa] (format fa) and
 * b[k * sb] (format fb), plus c (a bit pattern of p->acc).  Returns d's bit
 * pattern.  The plain reference: 64-bit integer arithmetic, any row. */
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
