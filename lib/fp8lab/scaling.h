/*
 * fp8lab/scaling.h: scaling recipes, real tensors to FP8 codes plus scales.
 *
 * A tensor X (rows x cols, row-major, leading dimension ld >= cols; a vector
 * is 1 x n) is cut into blocks of block_rows x block_cols elements (0 = the
 * whole dimension; edge blocks are partial).  Each block b gets one scale,
 * a pair of binary32 numbers
 *     mul      the quantisation multiplier:   code = round(x * mul)
 *     dequant  the dequantisation factor:     x ~ value(code) * dequant
 * (Transformer Engine calls them `scale` and `scale_inv`; DeepSeek-V3 and
 * OCP MX store the dequantisation factor).  Scale grid: ceil(rows/br) x
 * ceil(cols/bc) scales, row-major.
 *
 * Granularities (fp8lab_scaling_recipe_get):
 *   PER_TENSOR     one scale (0 x 0 blocks)
 *   PER_ROW        1 x cols: per token of an activation, or per output
 *                  channel of a weight stored out x in
 *   PER_COL        rows x 1: per channel of the other layout
 *   TILE_1X128     1 x 128 tiles (DeepSeek-V3 activations)
 *   BLOCK_128X128  128 x 128 blocks (DeepSeek-V3 weights): DeepSeek-AI,
 *                  "DeepSeek-V3 Technical Report", arXiv 2412.19437, 3.3.2
 *   MX32           1 x 32 blocks with an E8M0 scale: OCP Microscaling
 *                  Formats (MX) Specification v1.0 (2023), sections 5, 6.3
 *
 * Scale rules, from the block's amax = max |x| over its elements (NaN
 * ignored, as fmaxf does; Inf counts; fmax = the element format's max
 * finite, emax = the exponent of fmax, fp8lab_format_emax):
 *   AMAX_F32   Transformer Engine (current scaling, compute_scale_from_amax
 *              in transformer_engine/common/recipe/recipe_common.cuh; delayed
 *              scaling, recipe/delayed_scaling.cu):
 *                  mul     = RN32((fmax * 2^-margin) / amax)
 *                  dequant = RN32(1 / mul)
 *              each a correctly rounded binary32 quotient (TE: __fdiv_rn).
 *              amax = 0, Inf or NaN: mul = dequant = 1; mul overflowing
 *              binary32: mul = FLT_MAX.  margin >= 0 leaves 2^margin
 *              headroom: the block's amax maps to fmax / 2^margin.
 *              (DeepSeek-V3's reference code instead divides x by
 *              s = amax / 448 rounded to binary32: x / s and x * mul carry
 *              different binary32 scale errors, so an element can round
 *              differently where the two fall either side of a decision
 *              point of the element format.)
 *   AMAX_POW2  the same, then mul rounded DOWN to a power of two,
 *              mul = 2^floor(log2 mul) (TE force_pow_2_scales: the f32
 *              mantissa bits are cleared), and dequant = 1/mul exactly.
 *              Rounding mul down (dequant up) keeps amax * mul <= fmax
 *              2^-margin up to the rounding of the quotient, so the power of
 *              two costs precision, never range.
 *   MX_E8M0    OCP MX v1.0 section 6.3:
 *                  shared_exp = floor(log2(amax)) - emax
 *                  dequant    = X = 2^shared_exp,  mul = 2^-shared_exp
 *              shared_exp clamped to the E8M0 range [-127, 127]; amax = 0
 *              gives -127.  A block holding NaN or Inf gets the NaN scale
 *              (e8m0 0xFF, mul = dequant = NaN) and decodes to NaN, as the
 *              spec says.  Since amax / X is in [2^emax, 2^(emax+1)), the
 *              largest elements can exceed fmax and saturate (e.g. E4M3,
 *              amax = 500: X = 1, 500 -> 448); the spec accepts this.
 *              margin is ignored.
 *
 * Quantisation: code = round(x * mul), the product exact (for binary32 x it
 * is exact in double; for binary64 x it is the pair p + fma(x, mul, -p), or
 * an exact_sum below 2^-969) and rounded once by fp8lab_encode_dd with the
 * caller's cvt; SR uses the word of element index index0 + r cols + c.
 * cvt = NULL means round to nearest even with saturation (satfinite), what
 * TE's casts, DeepSeek's and the OCP MX conversion use.  (TE multiplies in
 * binary32 before the cast, a second rounding that differs only when the
 * binary32 product lands on a midpoint of the element format.)
 * Statistics per call:
 *   overflow   finite x with |x * mul| > fmax (saturated to +-fmax, or Inf/
 *              NaN per cvt)
 *   underflow  finite nonzero x whose code is a zero (flushed)
 *   nonfinite  NaN and Inf inputs
 * Dequantisation: value(code) * dequant, exact in double (binary32 output:
 * one RNE rounding of that product).
 *
 * Delayed scaling (TE DelayedScaling; amax_history_len, amax_compute_algo
 * "max" / "most_recent", margin): the scale used for step t comes from the
 * amaxes of earlier steps.  history[0] is the current step's slot; an update
 *   1. amax = max(history) ("max") or history[0] ("most_recent");
 *   2. if amax is finite and > 0: mul = RN32(fmax 2^-margin / amax), else mul
 *      stays; dequant = RN32(1 / mul) (pow2: as AMAX_POW2);
 *   3. rolls the history as TE does: new[i] = old[i+1] for 0 < i < len-1,
 *      new[len-1] = old[0], new[0] = 0 (so history[len-1] is the previous
 *      step, history[1] the oldest kept).
 * Initial scale: mul = dequant = 1 (TE's initial scale).
 *
 * Functions returning int give 0, or -1 for invalid arguments (NULL
 * pointers, E8M0 or other signless element formats, ld < cols);
 * fp8lab_scale_from_amax gives a NaN scale for an invalid format.
 */
#ifndef FP8LAB_SCALING_H
#define FP8LAB_SCALING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fp8lab/convert.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fp8lab_scale_rule {
  FP8LAB_SCALE_AMAX_F32,
  FP8LAB_SCALE_AMAX_POW2,
  FP8LAB_SCALE_MX_E8M0,
} fp8lab_scale_rule;

typedef struct fp8lab_scaling {
  fp8lab_scale_rule rule;
  size_t block_rows, block_cols; /* 0: the whole dimension */
  int margin;                    /* AMAX rules: headroom 2^margin */
} fp8lab_scaling;

typedef enum fp8lab_scaling_recipe {
  FP8LAB_RECIPE_PER_TENSOR,
  FP8LAB_RECIPE_PER_ROW,
  FP8LAB_RECIPE_PER_COL,
  FP8LAB_RECIPE_TILE_1X128,
  FP8LAB_RECIPE_BLOCK_128X128,
  FP8LAB_RECIPE_MX32,
} fp8lab_scaling_recipe;

/* The recipe's block shape with rule AMAX_F32, or AMAX_POW2 if pow2, margin
 * 0; MX32 always has MX_E8M0. */
fp8lab_scaling fp8lab_scaling_recipe_get(fp8lab_scaling_recipe r, bool pow2);

typedef struct fp8lab_scale {
  float mul;     /* code = round(x * mul)                          */
  float dequant; /* x ~ value(code) * dequant                      */
  double amax;   /* the block's amax                               */
  uint8_t e8m0;  /* E8M0 code of dequant: 127 + log2(dequant) when
                    that is a power of two in [2^-127, 2^127], else
                    0xFF                                            */
} fp8lab_scale;

/* The scale of a block with this amax (>= 0; NaN or Inf as described). */
fp8lab_scale fp8lab_scale_from_amax(fp8lab_scale_rule rule,
                                    const fp8lab_format *fmt, double amax,
                                    int margin);

/* Scale grid size for a rows x cols tensor: returns the number of scales,
 * and the grid shape in *grows, *gcols (either may be NULL). */
size_t fp8lab_scaling_grid(const fp8lab_scaling *s, size_t rows, size_t cols,
                           size_t *grows, size_t *gcols);

/* The scales of every block of x. */
int fp8lab_scales_f32(const fp8lab_scaling *s, const fp8lab_format *fmt,
                      const float *x, size_t rows, size_t cols, size_t ld,
                      fp8lab_scale *scales);
int fp8lab_scales_f64(const fp8lab_scaling *s, const fp8lab_format *fmt,
                      const double *x, size_t rows, size_t cols, size_t ld,
                      fp8lab_scale *scales);

typedef struct fp8lab_quant_stats {
  size_t overflow;  /* |x * mul| > fmax               */
  size_t underflow; /* x != 0 flushed to a zero code  */
  size_t nonfinite; /* NaN or Inf inputs              */
} fp8lab_quant_stats;

/* codes[r cols + c] = round(x[r ld + c] * mul of its block) (codes of
 * fp8lab_code_size(fmt) bytes, rows x cols, packed).  cvt NULL: RNE,
 * saturating.  stats may be NULL; it is overwritten, not accumulated. */
int fp8lab_quantize_f32(const fp8lab_scaling *s, const fp8lab_format *fmt,
                        const float *x, size_t rows, size_t cols, size_t ld,
                        const fp8lab_scale *scales, const fp8lab_cvt *cvt,
                        uint64_t index0, void *codes,
                        fp8lab_quant_stats *stats);
int fp8lab_quantize_f64(const fp8lab_scaling *s, const fp8lab_format *fmt,
                        const double *x, size_t rows, size_t cols, size_t ld,
                        const fp8lab_scale *scales, const fp8lab_cvt *cvt,
                        uint64_t index0, void *codes,
                        fp8lab_quant_stats *stats);

/* out[r ldo + c] = value(codes[r cols + c]) * dequant of its block. */
int fp8lab_dequantize_f32(const fp8lab_scaling *s, const fp8lab_format *fmt,
                          const void *codes, size_t rows, size_t cols,
                          const fp8lab_scale *scales, float *out, size_t ldo);
int fp8lab_dequantize_f64(const fp8lab_scaling *s, const fp8lab_format *fmt,
                          const void *codes, size_t rows, size_t cols,
                          const fp8lab_scale *scales, double *out, size_t ldo);

/* ---- delayed scaling (per tensor) --------------------------------------- */

typedef enum fp8lab_amax_algo {
  FP8LAB_AMAX_MAX,         /* TE "max"         */
  FP8LAB_AMAX_MOST_RECENT, /* TE "most_recent" */
} fp8lab_amax_algo;

typedef struct fp8lab_delayed_scaling {
  const fp8lab_format *fmt;
  fp8lab_amax_algo algo;
  int margin;
  bool pow2;          /* round mul down to a power of two          */
  size_t len;         /* TE amax_history_len                       */
  float *history;     /* caller-owned, len entries (layout above)  */
  fp8lab_scale scale; /* the scale to quantise the next step with  */
} fp8lab_delayed_scaling;

/* Set up d over the caller's history array (zeroed here); scale = 1. */
int fp8lab_delayed_init(fp8lab_delayed_scaling *d, const fp8lab_format *fmt,
                        float *history, size_t len, fp8lab_amax_algo algo,
                        int margin, bool pow2);
/* Record this step's amax: history[0] = max(history[0], amax). */
void fp8lab_delayed_record(fp8lab_delayed_scaling *d, double amax);
/* Steps 1-3 above: new scale from the history, then roll it. */
void fp8lab_delayed_update(fp8lab_delayed_scaling *d);

/* amax of n values with stride inc (NaN ignored; 0 for n = 0). */
double fp8lab_amax_f32(const float *x, size_t inc, size_t n);
double fp8lab_amax_f64(const double *x, size_t inc, size_t n);

#ifdef __cplusplus
}
#endif
#endif
