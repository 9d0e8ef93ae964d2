/*
 * fp8lab/convert.h: conversions between wide floats and any fp8lab format.
 *
 * The semantics are those of one generic scalar codec, fp8lab_encode_f64():
 *
 *   1. unpack   x = (-1)^s * M * 2^(e-52), M a 53-bit integer (f64 subnormals
 *               normalised); f32, f16, bf16 and every fp8lab format convert to
 *               f64 exactly, so every source goes through this one routine and
 *               f64 is never pre-rounded through f32.
 *   2. specials NaN -> the NaN chosen by the NaN policy; Inf -> +-max when
 *               saturating, else the format's Inf, else its NaN (FN, FNUZ,
 *               E8M0) or +-max (NONE formats, which have neither); negative
 *               input to a signless format -> NaN; 0 -> 0 of the same sign
 *               (+0 where there is no -0; E8M0 has no zero: NaN).
 *   3. compute  the quantum q = 2^(max(e, emin) - mbits): the spacing of the
 *               target's values in x's binade (subnormal spacing below emin).
 *               kept = floor(|x| / q), rem = |x| - kept*q (exact integers).
 *   4. round    increment kept by 0 or 1 according to the mode (below);
 *               kept = 2^(mbits+1) carries into the next binade.
 *   5. overflow if the result exceeds max finite: saturating -> +-max;
 *               otherwise IEEE 754 7.4: modes that round toward zero for this
 *               sign (RTZ, RUP for x<0, RDN for x>0, and RTO) give +-max, the
 *               others the format's Inf (NaN where it has none, +-max for NONE).
 *   6. pack     sign, biased exponent, fraction; a zero result keeps the sign
 *               (+0 without -0).
 *
 * Rounding modes (step 4), with r = rem/q in [0, 1):
 *   RNE  nearest, ties to even           RNA  nearest, ties away from zero
 *   RTZ  toward zero                     RUP  toward +Inf     RDN  toward -Inf
 *   RTO  round to odd: truncate, then set the last bit if r != 0 (von Neumann
 *        rounding; exact for a later rounding to a format >= 2 bits narrower)
 *   SR   stochastic: up with probability r.  With sr_bits = 0 the comparison
 *        uses 64 random bits u: up iff u < floor(r * 2^64), exact whenever the
 *        discarded part has at most 64 bits (always for f32/f16/bf16 input).
 *        With sr_bits = R (1..32), as hardware does: up iff
 *        floor(r * 2^R) + (u >> (64-R)) >= 2^R, so P(up) = floor(r*2^R)/2^R.
 *        The random word of element i is drawn from Philox4x32-10 keyed by
 *        (seed, stream, i) (fp8lab/philox.h): results do not depend on thread
 *        count, chunking or order.
 *
 * NaN policy (both bit-exact, pick the one you compare against):
 *   CANONICAL  every NaN result is the format's canonical NaN: the positive
 *              all-ones code, as NVIDIA hardware writes it (cvt gives 0x7F for
 *              any NaN into e4m3 or e5m2; fp8 -> f16 gives 0x7FFF; tensor cores
 *              write 0x7FFFFFFF).  The default.
 *   SIGNED     the sign of the NaN is kept, the result is the quiet NaN of
 *              that sign (IEEE 754 software, numpy, ml_dtypes).
 *   For NONE formats (no NaN) a NaN input gives +0 under both.
 *
 * Sources: IEEE 754-2019 sections 4.3, 7.4; PTX ISA "cvt" (rn, satfinite);
 * Connolly, Higham, Mary, "Stochastic rounding and its probabilistic
 * backward error analysis", SIAM J. Sci. Comput. 43 (2021);  Fasi & Mikaitis,
 * "Algorithms for stochastically rounded elementary arithmetic operations in
 * IEEE 754 floating-point arithmetic", IEEE TETC 9 (2021) (few-bit SR).
 */
#ifndef FP8LAB_CONVERT_H
#define FP8LAB_CONVERT_H

#include "fp8lab/format.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fp8lab_round {
  FP8LAB_RNE, /* nearest, ties to even            */
  FP8LAB_RNA, /* nearest, ties away from zero     */
  FP8LAB_RTZ, /* toward zero                      */
  FP8LAB_RUP, /* toward +Inf                      */
  FP8LAB_RDN, /* toward -Inf                      */
  FP8LAB_RTO, /* round to odd                     */
  FP8LAB_SR,  /* stochastic                       */
} fp8lab_round;

typedef enum fp8lab_nan_policy {
  FP8LAB_NAN_CANONICAL, /* positive all-ones NaN (NVIDIA hardware) */
  FP8LAB_NAN_SIGNED,    /* quiet NaN, sign kept (IEEE software)    */
} fp8lab_nan_policy;

/* Everything a conversion depends on, owned by the caller.  Zero-initialised
 * it means: RNE, no saturation (the format's own overflow), canonical NaN. */
typedef struct fp8lab_cvt {
  fp8lab_round round;
  bool saturate;          /* overflow to +-max ("satfinite")              */
  fp8lab_nan_policy nan;
  int sr_bits;            /* SR only: 0 = exact, else 1..32 random bits    */
  uint64_t seed;          /* SR only: Philox key                           */
  uint64_t stream;        /* SR only: independent stream (e.g. tensor id)  */
} fp8lab_cvt;

/* Parse / print a rounding-mode name: rne, rna, rtz, rup (or ru), rdn (or
 * rd), rto, sr.  Parse returns 0 on success, -1 for an unknown name. */
int fp8lab_round_parse(const char *name, fp8lab_round *out);
const char *fp8lab_round_name(fp8lab_round r);

/* ---- scalar codec: defines the semantics ------------------------------- */

/* Round x into f per c (see the top of this file).  `u` is the uniform random
 * 64-bit word used by SR (ignored otherwise): pass fp8lab_sr_word(c, i) to get
 * the counter-based stream, or your own. */
uint32_t fp8lab_encode_f64(const fp8lab_format *f, double x,
                           const fp8lab_cvt *c, uint64_t u);

/* Round the exact value hi + lo (a double-double: e.g. the sum and error of
 * TwoSum, or a product and its fma error) into f per c, once, in every mode:
 * the result is the code fp8lab_encode_f64 would give for the real number
 * hi + lo.  Any finite pair is accepted (it is renormalised with TwoSum
 * first); the usual form has |lo| <= ulp(hi)/2.  lo = 0 is plain
 * fp8lab_encode_f64(f, hi).  When lo has hi's sign the codec rounds hi with
 * the tail as a sticky bit; when lo has the opposite sign it rounds
 * nextafter(hi, 0) with the tail ulp - |lo|: no decision point of any mode
 * lies strictly between those neighbouring doubles, since every format's
 * quantum is at least 2^29 of hi's ulp (formats/codec.c has the argument).
 * SR compares the random word with the exact bits of hi + lo below the
 * quantum, so it too rounds the exact value (P(up) = floor(r 2^64)/2^64).
 * Specials: a NaN or Inf in hi or lo gives the codec's result for the IEEE
 * sum hi + lo (so do not pass TwoSum's NaN error term of an Inf sum); lo = 0
 * keeps hi's zero sign, a nonzero pair that cancels exactly gives +0;
 * |hi + lo| > DBL_MAX is an overflow (step 5).  Rounding double(hi + lo)
 * instead would round twice. */
uint32_t fp8lab_encode_dd(const fp8lab_format *f, double hi, double lo,
                          const fp8lab_cvt *c, uint64_t u);

/* The value of a code, exactly.  Codes above the format's width are masked.
 * NaN codes give a NaN with the code's sign (SIGNED) or +NaN (CANONICAL);
 * use fp8lab_decode_f32bits for an exact bit pattern. */
double fp8lab_decode_f64(const fp8lab_format *f, uint32_t code);

/* Decode to an f32 / f16 bit pattern; exact for every format whose values
 * f32 (resp. f16) holds; NaN per policy (CANONICAL: 0x7FFFFFFF / 0x7FFF). */
uint32_t fp8lab_decode_f32bits(const fp8lab_format *f, uint32_t code,
                               fp8lab_nan_policy nan);

/* Code -> code between any two formats: decode exactly, encode per c. */
uint32_t fp8lab_recode(const fp8lab_format *from, uint32_t code,
                       const fp8lab_format *to, const fp8lab_cvt *c,
                       uint64_t u);

/* The SR random word of element `index` under c (Philox4x32-10, key = seed,
 * counter = (index / 2, stream); element index uses word index % 2). */
uint64_t fp8lab_sr_word(const fp8lab_cvt *c, uint64_t index);

/* Named shorthands; the suffix says the rounding (_rne, _sr), saturation
 * (_sat: satfinite; none: the format's own overflow) and NaN policy
 * (canonical unless _ieee). */
uint32_t fp8lab_encode_f64_rne(const fp8lab_format *f, double x);
uint32_t fp8lab_encode_f64_rne_sat(const fp8lab_format *f, double x);
uint32_t fp8lab_encode_f32_rne(const fp8lab_format *f, float x);
uint32_t fp8lab_encode_f32_rne_sat(const fp8lab_format *f, float x);
/* f32 bits -> f32 bits rounded to nearest even (the IEEE f32 result). */
static inline float fp8lab_f32_from_bits(uint32_t b) {
  union { uint32_t u; float f; } v = {b};
  return v.f;
}
static inline uint32_t fp8lab_f32_bits(float x) {
  union { float f; uint32_t u; } v = {x};
  return v.u;
}

/* ---- arrays ------------------------------------------------------------- */

/* Bytes per stored code: 1 for formats of <= 8 bits, 2 for <= 16, else 4.
 * Arrays of codes are little-endian integers of that size. */
size_t fp8lab_code_size(const fp8lab_format *f);

/* Encode n values into codes of f.  `index0` is the element index of in[0]
 * in the SR stream, so that converting an array in pieces gives the same
 * codes as converting it whole.  These dispatch to a specialised kernel
 * where one exists (f32 -> 8-bit RNE) and otherwise run the scalar codec;
 * the results are identical (tests/fast/test_convert_fast.c checks this). */
void fp8lab_encode_f64_array(const fp8lab_format *f, const double *in,
                             void *out, size_t n, const fp8lab_cvt *c,
                             uint64_t index0);
void fp8lab_encode_f32_array(const fp8lab_format *f, const float *in,
                             void *out, size_t n, const fp8lab_cvt *c,
                             uint64_t index0);
/* Codes of `from` (f16 and bf16 included) into codes of `to`. */
void fp8lab_recode_array(const fp8lab_format *from, const void *in,
                         const fp8lab_format *to, void *out, size_t n,
                         const fp8lab_cvt *c, uint64_t index0);
/* Decode codes of f to f32 / f64 (exact; table-driven for <= 16-bit f). */
void fp8lab_decode_f32_array(const fp8lab_format *f, const void *in,
                             float *out, size_t n, fp8lab_nan_policy nan);
void fp8lab_decode_f64_array(const fp8lab_format *f, const void *in,
                             double *out, size_t n, fp8lab_nan_policy nan);

/* The plain reference twins of the array functions: the scalar codec in a
 * loop, no specialisation.  Same signatures, same results. */
void fp8lab_encode_f32_array_ref(const fp8lab_format *f, const float *in,
                                 void *out, size_t n, const fp8lab_cvt *c,
                                 uint64_t index0);
void fp8lab_decode_f32_array_ref(const fp8lab_format *f, const void *in,
                                 float *out, size_t n, fp8lab_nan_policy nan);

/* Multi-threaded array encode: splits into `nthreads` contiguous pieces
 * (0 = one per online CPU) and calls fp8lab_encode_f32_array on each with
 * the right index0, so results equal the single-threaded call. */
void fp8lab_encode_f32_array_mt(const fp8lab_format *f, const float *in,
                                void *out, size_t n, const fp8lab_cvt *c,
                                uint64_t index0, int nthreads);

#ifdef __cplusplus
}
#endif
#endif
