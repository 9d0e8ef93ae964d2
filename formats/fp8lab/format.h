/*
 * fp8lab/format.h: floating-point format descriptors.
 *
 * A format is data, not code.  Every binary floating-point format fp8lab knows,
 * from the 4-bit OCP MX element E2M1 to IEEE binary32, is one `fp8lab_format`
 * row: sign, exponent and fraction widths, bias, and how the top exponent and
 * the negative-zero code are used.  One generic codec (fp8lab/convert.h) reads
 * the row; nothing in fp8lab branches on a format's name.
 *
 * Encodings (w = 1 + ebits + mbits bits; signless formats drop the sign bit):
 *
 *   code  = s | E | M          value = (-1)^s * 2^(E - bias) * 1.M   E > 0
 *                                     (-1)^s * 2^(1 - bias) * 0.M   E = 0
 *
 *   specials, by `fp8lab_special`:
 *     IEEE   E = all ones: M = 0 is +-Inf, M != 0 is NaN     (e5m2, e4m3, f16, f32)
 *     FN     no Inf; NaN only at E and M all ones (S.1111.111) (e4m3fn)
 *     FNUZ   no Inf, no -0; the negative-zero code 0x80 is the one NaN
 *            (e4m3fnuz, e5m2fnuz, e4m3b11fnuz; Graphcore / AMD)
 *     NONE   no Inf, no NaN: every code is finite (MX FP6 / FP4 elements)
 *     E8M0   the OCP MX scale: signless, no fraction, no zero and no subnormals
 *            (E = 0 is 2^-127), the all-ones code is the NaN
 *
 * Sources: OCP 8-bit Floating Point Specification (OFP8) rev 1.0 (2023);
 * Micikevicius et al., "FP8 Formats for Deep Learning", arXiv 2209.05433,
 * Table 1; OCP Microscaling Formats (MX) v1.0 (2023), section 5; IEEE 754-2019;
 * Kuzmin et al., "FP8 Quantization: The Power of the Exponent", arXiv 2208.09225
 * (E3M4, E2M5, flexible bias); Wang et al., arXiv 1812.08011 (the 1-6-9 format);
 * Noune et al., arXiv 2206.02915 (fnuz formats).
 */
#ifndef FP8LAB_FORMAT_H
#define FP8LAB_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fp8lab_special {
  FP8LAB_SPECIAL_IEEE, /* top exponent: Inf (M = 0) and NaNs (M != 0)        */
  FP8LAB_SPECIAL_FN,   /* finite; NaN only when E and M are all ones          */
  FP8LAB_SPECIAL_FNUZ, /* finite; no -0; sign-only code (1000...0) is NaN     */
  FP8LAB_SPECIAL_NONE, /* finite; no NaN                                      */
  FP8LAB_SPECIAL_E8M0, /* signless exponent-only scale, no zero, NaN = ones   */
} fp8lab_special;

/* One format.  Fields are the definition; everything else is derived by the
 * functions below.  `bits` = has_sign + ebits + mbits <= 32. */
typedef struct fp8lab_format {
  char name[32];        /* canonical name: "e4m3fn", "f16", "e3m4b5", ...       */
  int ebits;            /* exponent field width, 1..8                           */
  int mbits;            /* fraction (trailing significand) field width, 0..23   */
  int bias;             /* exponent bias                                        */
  bool has_sign;        /* false only for E8M0                                  */
  fp8lab_special special;
  const char *summary;  /* one line for `fp8lab formats`; NULL for parsed ones   */
} fp8lab_format;

/* The named formats, in the order `fp8lab formats` prints them. */
extern const fp8lab_format fp8lab_formats[];
extern const size_t fp8lab_nformats;

/* Named formats as variables, for C callers and tests. */
extern const fp8lab_format *const fp8lab_e5m2, *const fp8lab_e4m3fn,
    *const fp8lab_e4m3, *const fp8lab_f16, *const fp8lab_bf16,
    *const fp8lab_f32, *const fp8lab_e8m13;

/* Look a format up by name.  Accepts the named formats (and their aliases,
 * e.g. "fp16", "float8_e4m3fn", "ibm169") and user-defined ones:
 *
 *   e<X>m<Y>[b<N>][fn|fnuz|fnone|e8m0]
 *
 * X in 1..8, Y in 0..23, 1+X+Y <= 32.  Without a suffix the format is
 * IEEE-style; `fn` = FN, `fnuz` = FNUZ, `fnone` = NONE.  Without `b<N>` the
 * bias is 2^(X-1)-1 (2^(X-1) for fnuz).  Returns 0 and fills *out, or -1 and
 * writes a one-line reason into err (if err is not NULL). */
int fp8lab_format_parse(const char *name, fp8lab_format *out, char *err,
                        size_t errlen);

/* Same, for the named formats only: a pointer into fp8lab_formats or NULL. */
const fp8lab_format *fp8lab_format_named(const char *name);

/* Derived properties.  All values are exact in double. */
int fp8lab_format_bits(const fp8lab_format *f);     /* total code width       */
uint32_t fp8lab_format_ncodes(const fp8lab_format *f); /* 2^bits (0 if 32)   */
int fp8lab_format_emax(const fp8lab_format *f);     /* exponent of max finite */
int fp8lab_format_emin(const fp8lab_format *f);     /* exponent of min normal */
double fp8lab_format_max(const fp8lab_format *f);   /* largest finite value   */
double fp8lab_format_min_normal(const fp8lab_format *f);
double fp8lab_format_min_subnormal(const fp8lab_format *f); /* = min normal
                                                     if there are none        */
bool fp8lab_format_has_inf(const fp8lab_format *f);
bool fp8lab_format_has_nan(const fp8lab_format *f);
bool fp8lab_format_has_negzero(const fp8lab_format *f);
bool fp8lab_format_has_zero(const fp8lab_format *f);
bool fp8lab_format_has_subnormals(const fp8lab_format *f);
uint64_t fp8lab_format_nfinite(const fp8lab_format *f); /* finite codes, both
                                                     zeros counted           */
/* Code layout helpers. */
uint32_t fp8lab_format_max_code(const fp8lab_format *f); /* +max finite      */
uint32_t fp8lab_format_inf_code(const fp8lab_format *f); /* +Inf, or +max    */
/* The format's canonical NaN: the positive all-ones pattern NVIDIA hardware
 * writes (0x7F for e4m3fn and e5m2, 0x7FFF for f16, 0x7FFFFFFF for f32), the
 * 0x80 of fnuz, 0xFF of E8M0.  For NONE formats there is no NaN: returns the
 * code of +0. */
uint32_t fp8lab_format_nan_code(const fp8lab_format *f);
/* The "quiet" NaN with a given sign, as IEEE 754 software (and ml_dtypes)
 * produces: sign | all-ones exponent | top fraction bit.  FN formats have one
 * NaN per sign; FNUZ and E8M0 ignore the sign. */
uint32_t fp8lab_format_qnan_code(const fp8lab_format *f, bool negative);
bool fp8lab_format_is_nan(const fp8lab_format *f, uint32_t code);
bool fp8lab_format_is_inf(const fp8lab_format *f, uint32_t code);

/* Human-readable description of the special-value encoding, for tables. */
const char *fp8lab_special_inf_str(const fp8lab_format *f);
const char *fp8lab_special_nan_str(const fp8lab_format *f, char *buf,
                                   size_t len);

#ifdef __cplusplus
}
#endif
#endif
