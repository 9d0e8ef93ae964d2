/* The generic scalar codec: the definition of every fp8lab conversion
 * (algorithm and rounding table in fp8lab/convert.h). */
#include "fp8lab/convert.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "fp8lab/philox.h"

static const fp8lab_cvt default_cvt; /* RNE, no saturation, canonical NaN */

static const char *const round_names[] = {
    [FP8LAB_RNE] = "rne", [FP8LAB_RNA] = "rna", [FP8LAB_RTZ] = "rtz",
    [FP8LAB_RUP] = "rup", [FP8LAB_RDN] = "rdn", [FP8LAB_RTO] = "rto",
    [FP8LAB_SR] = "sr",
};

int fp8lab_round_parse(const char *name, fp8lab_round *out) {
  for (size_t i = 0; i < sizeof round_names / sizeof round_names[0]; i++)
    if (strcmp(name, round_names[i]) == 0) return *out = (fp8lab_round)i, 0;
  if (strcmp(name, "ru") == 0) return *out = FP8LAB_RUP, 0;
  if (strcmp(name, "rd") == 0) return *out = FP8LAB_RDN, 0;
  if (strcmp(name, "rn") == 0) return *out = FP8LAB_RNE, 0;
  return -1;
}

const char *fp8lab_round_name(fp8lab_round r) {
  return (unsigned)r < sizeof round_names / sizeof round_names[0]
             ? round_names[r] : "?";
}

uint64_t fp8lab_sr_word(const fp8lab_cvt *c, uint64_t index) {
  uint64_t w[2];
  fp8lab_philox_u64x2(c->seed, index >> 1, c->stream, w);
  return w[index & 1];
}

static inline uint32_t sign_bit(const fp8lab_format *f) {
  return f->has_sign ? (uint32_t)1 << (f->ebits + f->mbits) : 0;
}

/* ---- specials ----------------------------------------------------------- */

static uint32_t nan_result(const fp8lab_format *f, const fp8lab_cvt *c,
                           bool neg) {
  if (!fp8lab_format_has_nan(f)) return 0;
  return c->nan == FP8LAB_NAN_SIGNED ? fp8lab_format_qnan_code(f, neg)
                                     : fp8lab_format_nan_code(f);
}

static uint32_t zero_result(const fp8lab_format *f, bool neg) {
  return fp8lab_format_has_negzero(f) && neg ? sign_bit(f) : 0;
}

/* |x| beyond max finite (or Inf): step 5 of the codec. */
static uint32_t overflow_result(const fp8lab_format *f, const fp8lab_cvt *c,
                                bool neg, bool is_inf) {
  uint32_t s = neg ? sign_bit(f) : 0;
  uint32_t maxc = s | fp8lab_format_max_code(f);
  if (c->saturate || f->special == FP8LAB_SPECIAL_NONE) return maxc;
  if (!is_inf) {
    fp8lab_round r = c->round;
    if (r == FP8LAB_RTZ || r == FP8LAB_RTO || (r == FP8LAB_RUP && neg) ||
        (r == FP8LAB_RDN && !neg))
      return maxc;
  }
  if (fp8lab_format_has_inf(f)) return s | fp8lab_format_inf_code(f);
  return nan_result(f, c, neg);
}

/* ---- step 4: the rounding decision -------------------------------------- */

/* The discarded part as a 64-bit binary fraction r64 = floor(r * 2^64) of the
 * quantum, plus `sticky` for anything below 2^-64.  Returns the increment. */
static inline unsigned round_up(fp8lab_round mode, bool neg, uint64_t kept,
                                uint64_t r64, bool sticky,
                                const fp8lab_cvt *c, uint64_t u) {
  const uint64_t half = (uint64_t)1 << 63;
  bool inexact = r64 != 0 || sticky;
  switch (mode) {
  case FP8LAB_RNE:
    return r64 > half || (r64 == half && (sticky || (kept & 1)));
  case FP8LAB_RNA: return r64 >= half;
  case FP8LAB_RTZ: return 0;
  case FP8LAB_RUP: return inexact && !neg;
  case FP8LAB_RDN: return inexact && neg;
  case FP8LAB_RTO: return 0; /* handled by the caller: sets the last bit */
  case FP8LAB_SR:
    if (c->sr_bits <= 0 || c->sr_bits >= 64) return u < r64;
    {
      int R = c->sr_bits;
      return (r64 >> (64 - R)) + (u >> (64 - R)) >= ((uint64_t)1 << R);
    }
  }
  return 0;
}

/* ---- the codec ---------------------------------------------------------- */

/* The core rounds the exact value sign(x) * (|x| + t), where the tail t is
 *     t = L              (borrow false)    0 <= L <  ulp(x)
 *     t = ulp(x) - L     (borrow true)     0 <= L <= ulp(x)
 * and ulp(x) = 2^(ex - 52) is the spacing of doubles above |x| (x normal
 * whenever t != 0).  fp8lab_encode_f64 passes t = 0; fp8lab_encode_dd passes
 * the low word of a double-double.  The tail never carries into `kept`:
 * the discarded part of |x| is a multiple of ulp(x) below the quantum q, so
 * it is at most q - ulp(x), and t < ulp(x).  It enters step 3 as its scaled
 * value T = t 2^64 / q: floor(T) is added to r64 (exactly, so SR with the
 * 64-bit comparison stays exact) and T's fraction becomes the sticky bit.
 * Since d >= 29 (below), T < 2^(64-d) <= 2^35 is an exact small integer plus
 * a fraction in double. */
static uint32_t encode_core(const fp8lab_format *f, double x, bool borrow,
                            double L, const fp8lab_cvt *c, uint64_t u) {
  /* 1. unpack */
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  bool neg = b >> 63;
  int bexp = (int)(b >> 52) & 0x7FF;
  uint64_t frac = b & (((uint64_t)1 << 52) - 1);

  /* 2. specials */
  if (bexp == 0x7FF) {
    if (frac) return nan_result(f, c, neg);
    if (neg && !f->has_sign) return nan_result(f, c, neg);
    return overflow_result(f, c, neg, true);
  }
  if (bexp == 0 && frac == 0)
    return fp8lab_format_has_zero(f) ? zero_result(f, neg) : nan_result(f, c, neg);
  if (neg && !f->has_sign) return nan_result(f, c, neg);

  int ex;     /* |x| = M * 2^(ex - 52), 2^52 <= M < 2^53 */
  uint64_t M;
  if (bexp) {
    M = frac | (uint64_t)1 << 52;
    ex = bexp - 1023;
  } else {
    int sh = __builtin_clzll(frac) - 11;
    M = frac << sh;
    ex = -1022 - sh;
  }

  /* 3. compute: quantum 2^qe, d = bits discarded below it (d >= 29) */
  const int m = f->mbits, emin = fp8lab_format_emin(f);
  int eres = ex > emin ? ex : emin;
  int d = (eres - m) - (ex - 52);
  uint64_t kept, r64;
  bool sticky;
  if (d < 64) {
    kept = M >> d;
    r64 = (M & ((((uint64_t)1) << d) - 1)) << (64 - d);
    sticky = false;
  } else {
    kept = 0;
    int s = d - 64; /* M < 2^53, so r < 2^-11 here */
    r64 = s < 64 ? M >> s : 0;
    sticky = s == 0 ? false : (s < 64 ? (M & ((((uint64_t)1) << s) - 1)) != 0 : true);
  }

  /* 3b. tail (fp8lab_encode_dd only) */
  if (borrow || L != 0) {
    if (d < 64) {
      double Ls = ldexp(L, 64 - (eres - m)); /* L 2^64 / q <= 2^(64-d) */
      uint64_t Lfl = (uint64_t)Ls;
      bool Lfrac = Ls != (double)Lfl || (Ls == 0 && L != 0); /* underflow */
      if (borrow) /* T = 2^(64-d) - Ls: floor is 2^(64-d) - ceil(Ls) */
        r64 += ((uint64_t)1 << (64 - d)) - Lfl - (uint64_t)Lfrac;
      else
        r64 += Lfl;
      sticky = Lfrac;
    } else {
      /* T < 2^(64-d) <= 1 and the fraction of |x| below r64 is at most
       * 1 - 2^(64-d): the tail reaches neither r64 nor kept, only sticky. */
      sticky = sticky || (borrow ? L < ldexp(1.0, ex - 52) : L > 0);
    }
  }

  /* 4. round */
  if (c->round == FP8LAB_RTO) {
    if (r64 || sticky) kept |= 1;
  } else {
    kept += round_up(c->round, neg, kept, r64, sticky, c, u);
  }

  /* 6 (early). underflow to zero */
  if (kept == 0) {
    if (!fp8lab_format_has_zero(f)) return 0; /* E8M0: smallest scale */
    return zero_result(f, neg);
  }

  /* 5. overflow; code of the magnitude: the kept integer carries into the
   * exponent field by itself (kept = 2^(m+1) is the next binade's 1.0). */
  int base = emin + f->bias; /* biased field of emin: 1, or 0 for E8M0 */
  int64_t mag = (int64_t)(eres - emin + base - 1) * ((int64_t)1 << m) + (int64_t)kept;
  if (mag > (int64_t)fp8lab_format_max_code(f))
    return overflow_result(f, c, neg, false);

  /* 6. pack */
  return (neg ? sign_bit(f) : 0) | (uint32_t)mag;
}

uint32_t fp8lab_encode_f64(const fp8lab_format *f, double x,
                           const fp8lab_cvt *c, uint64_t u) {
  if (!c) c = &default_cvt;
  return encode_core(f, x, false, 0.0, c, u);
}

/* Round the exact value hi + lo once (fp8lab/convert.h).
 *
 * After renormalising with TwoSum (s + t = hi + lo exactly, |t| <= ulp(s)/2),
 * let v = s + t, t != 0, and let G be the double grid of s's binade (the
 * multiples of ulp(s)), or of nextafter(s, 0)'s binade when t points that way.
 *   t has s's sign:      |v| lies strictly between |s| and |s| + ulp(s);
 *                        round s, plus the tail |t| (sticky and, for SR, its
 *                        bits).
 *   t has the other sign: |v| lies strictly between |s'| = |nextafter(s, 0)|
 *                        and |s| = |s'| + ulp(s') (or equals |s'|, when s is
 *                        a power of two and |t| = ulp(s)/2 = ulp(s'));
 *                        round s' plus the tail ulp(s') - |t|.
 * No target boundary lies strictly between the two neighbouring doubles: the
 * decision points of RNE/RNA/RTZ/RUP/RDN/RTO are the target's values and the
 * midpoints between them, multiples of q/2 with q >= 2^(e - mbits) and
 * mbits <= 23, while ulp = 2^(e - 52); so q/2 >= 2^28 ulp and every decision
 * point is on G.  Hence v rounds like the lower neighbour plus a sticky bit;
 * the exact tail is carried in addition so that SR's comparison (64 or
 * sr_bits random bits against the bits of v below q) is exact as well.
 * Rounding hi + lo in double first would round twice: with a large exponent
 * gap (lo far below hi's target quantum), double(hi + lo) == hi loses the
 * sticky bit that RUP/RDN/RTO and SR need, and can turn a value just above
 * or below a target midpoint into the midpoint itself for RNE/RNA. */
uint32_t fp8lab_encode_dd(const fp8lab_format *f, double hi, double lo,
                          const fp8lab_cvt *c, uint64_t u) {
  if (!c) c = &default_cvt;
  /* specials: IEEE addition (Inf + finite = Inf, Inf - Inf = NaN) */
  if (!isfinite(hi) || !isfinite(lo)) return encode_core(f, hi + lo, false, 0.0, c, u);
  if (lo == 0) return encode_core(f, hi, false, 0.0, c, u);
  /* renormalise: TwoSum (Knuth), exact for finite inputs without overflow */
  double s = hi + lo;
  if (!isfinite(s)) /* |hi + lo| > DBL_MAX > every format's max: overflow */
    return encode_core(f, copysign(DBL_MAX, s), false, 0.0, c, u);
  double bv = s - hi;
  double t = (hi - (s - bv)) + (lo - bv);
  if (t == 0) return encode_core(f, s, false, 0.0, c, u);
  if (signbit(t) == signbit(s)) return encode_core(f, s, false, fabs(t), c, u);
  return encode_core(f, nextafter(s, 0.0), true, fabs(t), c, u);
}

double fp8lab_decode_f64(const fp8lab_format *f, uint32_t code) {
  int bits = fp8lab_format_bits(f);
  if (bits < 32) code &= ((uint32_t)1 << bits) - 1;
  bool neg = (code & sign_bit(f)) != 0;
  if (fp8lab_format_is_nan(f, code))
    return neg && f->special != FP8LAB_SPECIAL_FNUZ ? -NAN : NAN;
  if (fp8lab_format_is_inf(f, code)) return neg ? -INFINITY : INFINITY;
  const int m = f->mbits;
  uint32_t field = (code >> m) & (((uint32_t)1 << f->ebits) - 1);
  uint32_t mant = code & (((uint32_t)1 << m) - 1);
  double v;
  if (f->special == FP8LAB_SPECIAL_E8M0)
    v = ldexp(1.0, (int)field - f->bias);
  else if (field == 0)
    v = ldexp((double)mant, fp8lab_format_emin(f) - m);
  else
    v = ldexp((double)(((uint32_t)1 << m) | mant), (int)field - f->bias - m);
  return neg ? -v : v;
}

uint32_t fp8lab_decode_f32bits(const fp8lab_format *f, uint32_t code,
                               fp8lab_nan_policy nan) {
  fp8lab_cvt c = {.round = FP8LAB_RNE, .nan = nan};
  if (fp8lab_format_is_nan(f, code)) {
    bool neg = f->has_sign && f->special != FP8LAB_SPECIAL_FNUZ &&
               (code & sign_bit(f));
    return nan_result(fp8lab_f32, &c, neg);
  }
  return fp8lab_encode_f64(fp8lab_f32, fp8lab_decode_f64(f, code), &c, 0);
}

uint32_t fp8lab_recode(const fp8lab_format *from, uint32_t code,
                       const fp8lab_format *to, const fp8lab_cvt *c,
                       uint64_t u) {
  if (!c) c = &default_cvt;
  if (fp8lab_format_is_nan(from, code)) {
    bool neg = from->has_sign && from->special != FP8LAB_SPECIAL_FNUZ &&
               (code & sign_bit(from));
    return nan_result(to, c, neg);
  }
  return fp8lab_encode_f64(to, fp8lab_decode_f64(from, code), c, u);
}

uint32_t fp8lab_encode_f64_rne(const fp8lab_format *f, double x) {
  return fp8lab_encode_f64(f, x, &default_cvt, 0);
}
uint32_t fp8lab_encode_f64_rne_sat(const fp8lab_format *f, double x) {
  static const fp8lab_cvt sat = {.round = FP8LAB_RNE, .saturate = true};
  return fp8lab_encode_f64(f, x, &sat, 0);
}
uint32_t fp8lab_encode_f32_rne(const fp8lab_format *f, float x) {
  return fp8lab_encode_f64_rne(f, x);
}
uint32_t fp8lab_encode_f32_rne_sat(const fp8lab_format *f, float x) {
  return fp8lab_encode_f64_rne_sat(f, x);
}
