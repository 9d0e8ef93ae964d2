/*
 * fp8lab/exact_sum.h: exact accumulation of doubles and of exact products of
 * doubles (a superaccumulator), rounded once at the end.
 *
 * The accumulator is a fixed-point number covering every value a sum of
 * doubles or of products of two doubles can take:
 *
 *     S = sum_i limb[i] * 2^(32 i + FP8LAB_EXACT_SUM_LSB),   i = 0 .. N-1
 *
 * with N = FP8LAB_EXACT_SUM_LIMBS = 136 signed 64-bit limbs that each carry a
 * 32-bit digit plus 31 bits of headroom.  The least significant weight
 * 2^-2176 lies below the smallest product of two doubles (2^-1074 * 2^-1074
 * = 2^-2148); the top limb starts at 2^2144, above the largest product
 * (< 2^2048) times any count of terms below 2^64.  So every addition is
 * exact, whatever the order, and the result does not depend on it.
 *
 * Algorithm (Neal, "Fast exact summation using small and large
 * superaccumulators", arXiv 1505.05571, the "small superaccumulator";
 * Kulisch, "Computer Arithmetic and Validity", 2nd ed. 2013, the long
 * accumulator; Collange, Defour, Graillat, Iakymchuk, "Numerical
 * reproducibility for the parallel reduction on multi- and many-core
 * architectures", Parallel Computing 49 (2015)):
 *   1. unpack   x = (-1)^s M 2^(e-52), M < 2^53 an integer (subnormals with
 *               their raw fraction and e = -1022); a product a*b is
 *               (-1)^(sa^sb) (Ma Mb) 2^(ea+eb-104), Ma Mb < 2^106 formed
 *               exactly as a 128-bit integer (no fma, so no underflow issue).
 *   2. deposit  the integer, shifted to its bit position, is cut into 32-bit
 *               digits, each added (or subtracted) to its limb.  A limb moves
 *               by less than 2^32 per deposit, so 2^30 deposits fit in the
 *               headroom; after that many, carries are propagated (step 3).
 *   3. carry    from the bottom limb up: limb[i] keeps its low 32 bits
 *               (0 .. 2^32-1), the rest (floor division by 2^32) moves up;
 *               the top limb keeps the sign.  This is the canonical form.
 *   4. round    on a copy in canonical form: the sign is the top limb's; the
 *               magnitude (two's complement negated if negative) is scanned
 *               for its leading bit 2^e, and the bits below the result's
 *               last place give guard and sticky.
 * Specials are counted beside the limbs: any NaN, Inf - Inf or Inf * 0 makes
 * the sum NaN; otherwise any Inf makes it that Inf.
 *
 * Rounding to an fp8lab format goes through the codec (fp8lab/convert.h):
 * the exact sum is first cut to a double-double rounded to odd,
 *     hi + lo = RTO(S) at precision 2^max(e-105, -1074),
 * i.e. truncated there with the last bit set if anything below was nonzero
 * (Boldo and Melquiond, "Emulation of FMA and correctly rounded sums: proved
 * algorithms using rounding to odd", IEEE TC 57 (2008)).  Every decision
 * point of every fp8lab mode (values, midpoints, and the 2^-64 grid of the
 * quantum that SR compares against) is a multiple of twice that last place,
 * because fp8lab formats have at most 23 fraction bits and quanta of at least
 * 2^-1000; so S and RTO(S) round alike, and fp8lab_encode_dd rounds hi + lo
 * exactly.  Sums of magnitude >= 2^1024 are outside every format (max finite
 * <= 2^1001) and round as the overflow of +-2^1023.
 *
 * Cost: an addition is O(1) (3 limbs for a double, 5 for a product); a
 * rounding is O(N).  The struct is 1.1 KB, caller-owned; no allocation.
 * Zero signs: an exact zero sum is +0 (the accumulator has no signed zero).
 */
#ifndef FP8LAB_EXACT_SUM_H
#define FP8LAB_EXACT_SUM_H

#include <stddef.h>
#include <stdint.h>

#include "fp8lab/convert.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FP8LAB_EXACT_SUM_LIMBS 136
#define FP8LAB_EXACT_SUM_LSB (-2176) /* weight of limb 0's lowest bit */

/* The accumulator.  Treat the fields as private; zero it with
 * fp8lab_exact_sum_init (an all-zero struct is also a valid empty sum). */
typedef struct fp8lab_exact_sum {
  int64_t limb[FP8LAB_EXACT_SUM_LIMBS];
  uint32_t pending;   /* deposits since the last carry propagation */
  uint32_t ninf_pos;  /* +Inf terms seen (saturating count) */
  uint32_t ninf_neg;  /* -Inf terms seen */
  uint32_t nan;       /* NaN terms or Inf * 0 seen */
} fp8lab_exact_sum;

/* S = 0. */
void fp8lab_exact_sum_init(fp8lab_exact_sum *s);

/* S += x, exactly. */
void fp8lab_exact_sum_add(fp8lab_exact_sum *s, double x);

/* S += a * b, exactly (the 106-bit product, whatever its exponent: products
 * below DBL_MIN or above DBL_MAX are kept exactly too).  Inf * 0 is NaN. */
void fp8lab_exact_sum_add_prod(fp8lab_exact_sum *s, double a, double b);

/* S += T (another accumulator), exactly. */
void fp8lab_exact_sum_add_sum(fp8lab_exact_sum *s, const fp8lab_exact_sum *t);

/* Sign of S: -1, 0 or +1 (NaN: 0; +-Inf: +-1). */
int fp8lab_exact_sum_sign(const fp8lab_exact_sum *s);

/* S rounded once to double, to nearest even (IEEE 754 default).  Overflow
 * (|S| >= DBL_MAX + ulp/2) gives +-Inf; underflow rounds to the subnormal
 * grid 2^-1074. */
double fp8lab_exact_sum_f64_rne(const fp8lab_exact_sum *s);

/* S rounded to odd as a double-double (see the top of this file):
 * *hi + *lo = RTO(S) exactly, 0 <= |lo| < ulp(hi), same signs.  Feeding the
 * pair to fp8lab_encode_dd rounds S exactly in every format and mode.  NaN
 * and Inf sums give (NaN or Inf, 0); |S| >= 2^1024 gives (+-2^1023, 0). */
void fp8lab_exact_sum_dd_rto(const fp8lab_exact_sum *s, double *hi, double *lo);

/* S rounded once into f per c (NULL: RNE, no saturation), with SR word u:
 * fp8lab_encode_dd of fp8lab_exact_sum_dd_rto.  The code is the one
 * fp8lab_encode_f64 would give for the real number S. */
uint32_t fp8lab_exact_sum_encode(const fp8lab_exact_sum *s,
                                 const fp8lab_format *f, const fp8lab_cvt *c,
                                 uint64_t u);

/* Convenience: the exact sum of x[0..n) (stride incx) and the exact dot
 * product of x and y, each rounded once to double (RNE). */
double fp8lab_exact_sum_f64(const double *x, size_t incx, size_t n);
double fp8lab_exact_dot_f64(const double *x, size_t incx, const double *y,
                            size_t incy, size_t n);

#ifdef __cplusplus
}
#endif
#endif
