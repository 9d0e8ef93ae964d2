/*
 * Specialised f32 -> 8-bit kernels, round to nearest even: the fast twins of
 * fp8lab_encode_f32_array_ref (the scalar codec in a loop), with the same
 * codes for every one of the 2^32 f32 inputs (tests/fast/ runs all of them).
 *
 * One template, encode_f32_rne_bits(), parametrised by a format's descriptor
 * fields (ebits E, mbits M, bias B, special) and the conversion's saturation
 * and NaN policy, all compile-time constants; each kernel is the template in
 * a loop that gcc vectorises (branch-free: every phase is computed for every
 * lane and picked with a select).  Phases, on the f32 bit pattern x:
 *
 *   1. unpack    a = |x| bits, s = sign moved to the code's sign bit.
 *   2. normal    |x| >= 2^emin (emin = 1 - B): rebias the exponent field,
 *                a - ((127 - B) << 23), then round away the low 23 - M bits:
 *                add (half - 1) + lsb and shift.  A carry out of the fraction
 *                walks into the exponent, as it should; values past max
 *                finite give a code above max_code (f32 Inf among them).
 *   3. subnormal |x| < 2^emin: t = |x| * 2^(M - emin), |x| in units of the
 *                subnormal quantum (exact: a power-of-two scaling up), rounded
 *                to an integer by truncation and a compare of the remainder
 *                with 1/2.  F. Giesen's float_to_half_fast3 does this step
 *                with the add of a "magic" float; truncation and compares keep
 *                the kernel independent of the FPU rounding mode (and of
 *                DAZ/FTZ) and need no per-lane shifts, so the baseline SSE2
 *                build vectorises too.  A result of 2^M is the smallest
 *                normal code.
 *   4. overflow  saturating: min(code, max_code); otherwise code > max_code
 *                gives the format's Inf, else its NaN (convert.h step 5; for
 *                RNE this is exactly the codec's rule).
 *   5. specials  NaN input -> the NaN of the policy; FNUZ drops the sign of
 *                zero (its 0x80 is the NaN).
 *
 * Domain of the template (checked where each kernel is instantiated):
 *   1 <= M, E + M <= 7   a signed code fits a byte;
 *   B <= 127             2^emin is an f32 normal, so f32 subnormals only
 *                        ever take the subnormal path;
 *   2^E - 1 - B <= 127   the top exponent field lies below f32's Inf, so
 *                        Inf and the largest f32 values overflow in step 2;
 *   0 <= M - emin <= 127 the scale 2^(M - emin) of step 3 is an f32 normal
 *                        >= 1;
 *   emin - M >= -100     every f32 subnormal rounds to zero, flushed or not;
 *   special in IEEE, FN, FNUZ.
 * Kernels are selected by those fields, never by a format's name.
 *
 * Each kernel is compiled for x86-64-v4 (AVX-512), AVX2 and the baseline ISA
 * (SSE2); the loader picks the best one the CPU has (gcc target_clones, an
 * ifunc), so a portable build runs the vector code the machine has.
 */
#include <stdbool.h>
#include <string.h>

#include "internal.h"

/* Overridable (e.g. -DFP8LAB_MULTIVERSION= to time the baseline build). */
#ifndef FP8LAB_MULTIVERSION
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__has_attribute)
#if __has_attribute(target_clones)
#define FP8LAB_MULTIVERSION \
  __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
#endif
#endif
#ifndef FP8LAB_MULTIVERSION
#define FP8LAB_MULTIVERSION
#endif

#define F32_ABS_MASK 0x7FFFFFFFu
#define F32_INF_BITS 0x7F800000u

static inline __attribute__((always_inline)) uint32_t min_u32(uint32_t a,
                                                              uint32_t b) {
  return a < b ? a : b;
}

static inline __attribute__((always_inline)) float f32_from_bits_const(
    uint32_t b) {
  float f;
  memcpy(&f, &b, sizeof f);
  return f;
}

/* Selects by all-ones / all-zero lane masks rather than ?: or if: gcc then
 * computes every phase in every lane instead of sinking the float operations
 * of step 3 (which may trap, as far as it knows) into a branch, and the loop
 * stays vectorisable. */
static inline __attribute__((always_inline)) uint32_t lane_mask(bool c) {
  return 0u - (uint32_t)c;
}
static inline __attribute__((always_inline)) uint32_t
select_u32(uint32_t mask, uint32_t if_set, uint32_t if_clear) {
  return (if_set & mask) | (if_clear & ~mask);
}

/* The code of f32 bit pattern x in the format (E, M, B, SP), RNE, with
 * saturation SAT and NaN policy SIGNED_NAN (see the top of the file). */
static inline __attribute__((always_inline)) uint32_t
encode_f32_rne_bits(uint32_t x, const int E, const int M, const int B,
                    const fp8lab_special SP, const bool SAT,
                    const bool SIGNED_NAN) {
  /* Codes of the format, from the descriptor fields (format.c's rules). */
  const uint32_t sign_bit = 1u << (E + M);
  const uint32_t ones = sign_bit - 1; /* E and M all ones */
  const uint32_t inf_code = ((1u << E) - 1) << M;
  const uint32_t max_code = SP == FP8LAB_SPECIAL_IEEE ? inf_code - 1
                            : SP == FP8LAB_SPECIAL_FN ? ones - 1
                                                      : ones;
  const int shift = 23 - M;                      /* f32 bits rounded away */
  const uint32_t rebias = (uint32_t)(127 - B) << 23;
  const uint32_t min_normal_bits = (uint32_t)(1 - B + 127) << 23; /* 2^emin */
  /* 2^(M - emin), the reciprocal of the subnormal quantum */
  const uint32_t sub_scale_bits = (uint32_t)(127 + M - 1 + B) << 23;

  /* 1. unpack */
  const uint32_t a = x & F32_ABS_MASK;
  const uint32_t s = (x >> 31) << (E + M);
  const uint32_t is_nan = lane_mask(a > F32_INF_BITS);

  /* 2. normal range: round the rebiased pattern at bit `shift` */
  const uint32_t lsb_n = (a >> shift) & 1;
  const uint32_t normal = (a - rebias + ((1u << (shift - 1)) - 1) + lsb_n) >> shift;

  /* 3. subnormal range: t = |x| / 2^(emin - M), the value in units of the
   * subnormal quantum, exact (a scaling by a power of two up); |x| is first
   * clamped to 2^emin so that t <= 2^M in every lane.  Truncate, then round
   * up when the fraction is above one half, or is one half and k is odd. */
  const uint32_t a_clamped = min_u32(a, min_normal_bits);
  float fa;
  memcpy(&fa, &a_clamped, sizeof fa);
  const float t = fa * f32_from_bits_const(sub_scale_bits);
  const int32_t k = (int32_t)t;
  const float r = t - (float)k;
  const uint32_t sub =
      (uint32_t)k + ((r > 0.5f) | ((r == 0.5f) & (uint32_t)k));

  uint32_t mag = select_u32(lane_mask(a < min_normal_bits), sub, normal);

  /* 4. overflow and 5. specials */
  const uint32_t nan_code =
      SP == FP8LAB_SPECIAL_FNUZ ? sign_bit
      : !SIGNED_NAN             ? ones
      : SP == FP8LAB_SPECIAL_IEEE ? (s | inf_code | (1u << (M - 1)))
                                  : (s | ones);
  uint32_t code;
  if (SAT) {
    mag = min_u32(mag, max_code);
  }
  if (SP == FP8LAB_SPECIAL_FNUZ)
    code = select_u32(lane_mask(mag != 0), s | mag, 0);
  else
    code = s | mag;
  if (!SAT) {
    const uint32_t ovf_code = SP == FP8LAB_SPECIAL_IEEE ? (s | inf_code) : nan_code;
    code = select_u32(lane_mask(mag > max_code), ovf_code, code);
  }
  return select_u32(is_nan, nan_code, code);
}

/* Kernel names carry the descriptor fields and the conversion: e.g.
 * encode_f32_e4m3b7fn_rne_sat_canon. */
#define FP8LAB_SAT_sat true
#define FP8LAB_SAT_nosat false
#define FP8LAB_NAN_canon false
#define FP8LAB_NAN_signed true

#define DEFINE_KERNEL(E, M, B, SFX, SP, SATN, NANN)                          \
  _Static_assert((M) >= 1 && (E) + (M) <= 7 && (B) <= 127 &&                 \
                     (1 << (E)) - 1 - (B) <= 127 && 1 - (B) <= (M) &&        \
                     (M) - 1 + (B) <= 127 && 1 - (B) - (M) >= -100,          \
                 "format outside the template's domain");                    \
  FP8LAB_MULTIVERSION static void                                            \
      encode_f32_e##E##m##M##b##B##SFX##_rne_##SATN##_##NANN(                \
          const float *restrict in, uint8_t *restrict out, size_t n) {       \
    for (size_t i = 0; i < n; i++) {                                         \
      uint32_t x;                                                            \
      memcpy(&x, &in[i], sizeof x);                                          \
      out[i] = (uint8_t)encode_f32_rne_bits(x, E, M, B, SP,                  \
                                            FP8LAB_SAT_##SATN,               \
                                            FP8LAB_NAN_##NANN);              \
    }                                                                        \
  }

/* The four conversions of one format: saturating or not, NaN canonical or
 * signed.  FNUZ formats have one NaN, so their policy makes no difference
 * (convert.h) and they get two kernels. */
#define DEFINE_KERNELS4(E, M, B, SFX, SP)                                     \
  DEFINE_KERNEL(E, M, B, SFX, SP, sat, canon)                                 \
  DEFINE_KERNEL(E, M, B, SFX, SP, sat, signed)                                \
  DEFINE_KERNEL(E, M, B, SFX, SP, nosat, canon)                               \
  DEFINE_KERNEL(E, M, B, SFX, SP, nosat, signed)
#define DEFINE_KERNELS2(E, M, B, SFX, SP)                                     \
  DEFINE_KERNEL(E, M, B, SFX, SP, sat, canon)                                 \
  DEFINE_KERNEL(E, M, B, SFX, SP, nosat, canon)

/* The descriptor fields with kernels: the 8-bit IEEE, FN and FNUZ rows of
 * fp8lab_formats, each as X4 (four kernels) or X2 (FNUZ: two). */
#define FAST_FORMATS(X4, X2)                                                  \
  X4(5, 2, 15, , FP8LAB_SPECIAL_IEEE)     /* e5m2        */                   \
  X4(4, 3, 7, fn, FP8LAB_SPECIAL_FN)      /* e4m3fn      */                   \
  X4(4, 3, 7, , FP8LAB_SPECIAL_IEEE)      /* e4m3        */                   \
  X4(3, 4, 3, , FP8LAB_SPECIAL_IEEE)      /* e3m4        */                   \
  X4(2, 5, 1, , FP8LAB_SPECIAL_IEEE)      /* e2m5        */                   \
  X2(4, 3, 8, fnuz, FP8LAB_SPECIAL_FNUZ)  /* e4m3fnuz    */                   \
  X2(5, 2, 16, fnuz, FP8LAB_SPECIAL_FNUZ) /* e5m2fnuz    */                   \
  X2(4, 3, 11, fnuz, FP8LAB_SPECIAL_FNUZ) /* e4m3b11fnuz */

FAST_FORMATS(DEFINE_KERNELS4, DEFINE_KERNELS2)

typedef struct {
  int ebits, mbits, bias;
  fp8lab_special special;
  fp8lab_encode_f32_kernel sat_canon, sat_signed, nosat_canon, nosat_signed;
} kernel_row;

#define KERNEL_NAME(E, M, B, SFX, CVT) encode_f32_e##E##m##M##b##B##SFX##_rne_##CVT
#define ROW4(E, M, B, SFX, SP)                                                \
  {E, M, B, SP, KERNEL_NAME(E, M, B, SFX, sat_canon),                         \
   KERNEL_NAME(E, M, B, SFX, sat_signed),                                     \
   KERNEL_NAME(E, M, B, SFX, nosat_canon),                                    \
   KERNEL_NAME(E, M, B, SFX, nosat_signed)},
#define ROW2(E, M, B, SFX, SP)                                                \
  {E, M, B, SP, KERNEL_NAME(E, M, B, SFX, sat_canon),                         \
   KERNEL_NAME(E, M, B, SFX, sat_canon),                                      \
   KERNEL_NAME(E, M, B, SFX, nosat_canon),                                    \
   KERNEL_NAME(E, M, B, SFX, nosat_canon)},

static const kernel_row kernels[] = {FAST_FORMATS(ROW4, ROW2)};

fp8lab_encode_f32_kernel fp8lab_encode_f32_fast_kernel(const fp8lab_format *f,
                                                        const fp8lab_cvt *c) {
  static const fp8lab_cvt default_cvt; /* RNE, no saturation, canonical */
  if (!c) c = &default_cvt;
  if (c->round != FP8LAB_RNE || !f->has_sign) return NULL;
  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
    const kernel_row *k = &kernels[i];
    if (k->ebits != f->ebits || k->mbits != f->mbits || k->bias != f->bias ||
        k->special != f->special)
      continue;
    bool signed_nan = c->nan == FP8LAB_NAN_SIGNED;
    if (c->saturate) return signed_nan ? k->sat_signed : k->sat_canon;
    return signed_nan ? k->nosat_signed : k->nosat_canon;
  }
  return NULL;
}
