/*
 * test_encode_dd.c: fp8lab_encode_dd, the exact rounding of hi + lo.
 *
 * Oracles:
 *   1. By hand: directed cases in every mode, f16 (1 + 10 bits, ulp(1) =
 *      2^-10, the binade below 1 has spacing 2^-11, min normal 2^-14, max
 *      65504 = 0x7BFF) and f32.
 *   2. The plain codec: when hi + lo is itself a double, encode_dd(hi, lo)
 *      must equal fp8lab_encode_f64(hi + lo) in every mode and SR word.
 *   3. An independent reference rounding (ref_round below, written from the
 *      mode definitions in fp8lab/convert.h, not from codec.c) of the exact
 *      value as a 128-bit integer times a power of two, for gaps between hi
 *      and lo of up to 52 bits, in the normal range of each format; SR is
 *      probed with the random words just either side of its threshold.
 * Cases are seeded by index (splitmix64), so a failure reruns by number.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fp8lab/convert.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static const fp8lab_round modes[] = {FP8LAB_RNE, FP8LAB_RNA, FP8LAB_RTZ,
                                     FP8LAB_RUP, FP8LAB_RDN, FP8LAB_RTO,
                                     FP8LAB_SR};

static uint32_t dd(const fp8lab_format *f, double hi, double lo,
                   fp8lab_round r, bool sat, uint64_t u) {
  fp8lab_cvt c = {.round = r, .saturate = sat};
  return fp8lab_encode_dd(f, hi, lo, &c, u);
}

/* ---- 1. by hand --------------------------------------------------------- */

typedef struct {
  double hi, lo;
  uint32_t code[6]; /* RNE RNA RTZ RUP RDN RTO */
} hand;

/* f16: 1 = 0x3C00, 1 + 2^-10 = 0x3C01, 1 + 2^-9 = 0x3C02,
 * 1 - 2^-11 = 0x3BFF, 2^-14 = 0x0400, 2^-14 - 2^-24 = 0x03FF. */
/* clang-format off */
static const hand f16_cases[] = {
  /* hi representable, lo tiny of either sign */
  {1.0,  0x1p-60, {0x3C00, 0x3C00, 0x3C00, 0x3C01, 0x3C00, 0x3C01}},
  {1.0, -0x1p-60, {0x3C00, 0x3C00, 0x3BFF, 0x3C00, 0x3BFF, 0x3BFF}},
  {-1.0, -0x1p-80, {0xBC00, 0xBC00, 0xBC00, 0xBC00, 0xBC01, 0xBC01}},
  {-1.0,  0x1p-80, {0xBC00, 0xBC00, 0xBBFF, 0xBBFF, 0xBC00, 0xBBFF}},
  /* hi the midpoint 1 + 2^-11 (tie): lo breaks it */
  {1.0 + 0x1p-11,  0.0,     {0x3C00, 0x3C01, 0x3C00, 0x3C01, 0x3C00, 0x3C01}},
  {1.0 + 0x1p-11,  0x1p-70, {0x3C01, 0x3C01, 0x3C00, 0x3C01, 0x3C00, 0x3C01}},
  {1.0 + 0x1p-11, -0x1p-70, {0x3C00, 0x3C00, 0x3C00, 0x3C01, 0x3C00, 0x3C01}},
  /* midpoint 1 + 3 2^-11 between 0x3C01 (odd) and 0x3C02 (even) */
  {1.0 + 0x3p-11,  0.0,     {0x3C02, 0x3C02, 0x3C01, 0x3C02, 0x3C01, 0x3C01}},
  {1.0 + 0x3p-11, -0x1p-70, {0x3C01, 0x3C01, 0x3C01, 0x3C02, 0x3C01, 0x3C01}},
  {1.0 + 0x3p-11,  0x1p-70, {0x3C02, 0x3C02, 0x3C01, 0x3C02, 0x3C01, 0x3C01}},
  /* the midpoint below a power of two, 1 - 2^-12, approached both ways */
  {1.0 - 0x1p-12,  0x1p-70, {0x3C00, 0x3C00, 0x3BFF, 0x3C00, 0x3BFF, 0x3BFF}},
  {1.0 - 0x1p-12, -0x1p-70, {0x3BFF, 0x3BFF, 0x3BFF, 0x3C00, 0x3BFF, 0x3BFF}},
  /* min normal 2^-14 minus a tiny lo: into the subnormals */
  {0x1p-14, -0x1p-80, {0x0400, 0x0400, 0x03FF, 0x0400, 0x03FF, 0x03FF}},
  /* max finite 65504 plus a tiny lo: overflow by mode */
  {65504.0, 0x1p-40, {0x7BFF, 0x7BFF, 0x7BFF, 0x7C00, 0x7BFF, 0x7BFF}},
  /* lo exactly ulp(hi)/2 below a power of two: hi + lo is a double */
  {2.0, -0x1p-52, {0x4000, 0x4000, 0x3FFF, 0x4000, 0x3FFF, 0x3FFF}},
};
/* clang-format on */

static void test_by_hand_f16(void **state) {
  (void)state;
  for (size_t i = 0; i < NELEM(f16_cases); i++)
    for (int m = 0; m < 6; m++) {
      uint32_t got = dd(fp8lab_f16, f16_cases[i].hi, f16_cases[i].lo, modes[m], false, 0);
      if (got != f16_cases[i].code[m])
        fail_msg("case %zu (%a + %a) %s: got 0x%04X want 0x%04X", i,
                 f16_cases[i].hi, f16_cases[i].lo, fp8lab_round_name(modes[m]),
                 got, f16_cases[i].code[m]);
    }
  /* saturation catches RUP's overflow */
  assert_int_equal(dd(fp8lab_f16, 65504.0, 0x1p-40, FP8LAB_RUP, true, 0), 0x7BFF);
  /* lo = 0 is plain encode, -0 kept; exact cancellation is +0 */
  assert_int_equal(dd(fp8lab_f16, -0.0, 0.0, FP8LAB_RNE, false, 0), 0x8000);
  assert_int_equal(dd(fp8lab_f16, 1.5, -1.5, FP8LAB_RDN, false, 0), 0x0000);
  /* specials: IEEE addition */
  assert_int_equal(dd(fp8lab_f16, INFINITY, 1.0, FP8LAB_RNE, false, 0), 0x7C00);
  assert_int_equal(dd(fp8lab_f16, 1.0, -INFINITY, FP8LAB_RNE, false, 0), 0xFC00);
  assert_int_equal(dd(fp8lab_f16, INFINITY, -INFINITY, FP8LAB_RNE, false, 0), 0x7FFF);
  /* |hi + lo| beyond DBL_MAX: overflow, RTZ gives max */
  assert_int_equal(dd(fp8lab_f16, 0x1.fffffffffffffp1023, 0x1p1000, FP8LAB_RTZ, false, 0), 0x7BFF);
  assert_int_equal(dd(fp8lab_f16, 0x1.fffffffffffffp1023, 0x1p1000, FP8LAB_RNE, false, 0), 0x7C00);
}

/* SR sees the exact bits of the tail, not only a sticky bit. */
static void test_sr_tail_bits(void **state) {
  (void)state;
  const uint64_t t14 = (uint64_t)1 << 14, t15 = (uint64_t)1 << 15;
  /* f16, 1 + 2^-60: r = 2^-60 / 2^-10 = 2^-50, floor(r 2^64) = 2^14 */
  assert_int_equal(dd(fp8lab_f16, 1.0, 0x1p-60, FP8LAB_SR, false, t14 - 1), 0x3C01);
  assert_int_equal(dd(fp8lab_f16, 1.0, 0x1p-60, FP8LAB_SR, false, t14), 0x3C00);
  assert_int_equal(dd(fp8lab_f16, 1.0, 0x1p-60, FP8LAB_SR, false, 0), 0x3C01);
  /* f16, 1 - 2^-60: between 1 - 2^-11 and 1, r = 1 - 2^-49,
   * floor(r 2^64) = 2^64 - 2^15 */
  assert_int_equal(dd(fp8lab_f16, 1.0, -0x1p-60, FP8LAB_SR, false, -t15 - 1), 0x3C00);
  assert_int_equal(dd(fp8lab_f16, 1.0, -0x1p-60, FP8LAB_SR, false, -t15), 0x3BFF);
  /* f32 with sr_bits = 32: quantum 2^-23 at 1, lo = 2^-54 gives r = 2^-31,
   * floor(r 2^32) = 2: up iff (u >> 32) >= 2^32 - 2.  The tail lies below
   * hi's 53 bits, so a sticky-only rounding would never round up. */
  fp8lab_cvt c = {.round = FP8LAB_SR, .sr_bits = 32};
  assert_int_equal(fp8lab_encode_dd(fp8lab_f32, 1.0, 0x1p-54, &c, (uint64_t)0xFFFFFFFEu << 32),
                   0x3F800001);
  assert_int_equal(fp8lab_encode_dd(fp8lab_f32, 1.0, 0x1p-54, &c,
                                    ((uint64_t)0xFFFFFFFDu << 32) | 0xFFFFFFFFu),
                   0x3F800000);
}

/* ---- 2. the plain codec, where hi + lo is a double ---------------------- */

static void test_vs_codec(void **state) {
  (void)state;
  uint64_t seed = 1;
  size_t n = 0;
  for (size_t fi = 0; fi < fp8lab_nformats; fi++) {
    const fp8lab_format *f = &fp8lab_formats[fi];
    if (!f->has_sign) continue;
    for (int k = 0; k < 20000; k++) {
      /* hi with 26 significant bits near the format's range, lo with 26
       * bits just below hi's last place: hi + lo fits in 53 bits */
      int e = (int)(splitmix(&seed) % 40) - 20;
      if (e > fp8lab_format_emax(f) + 1) e = fp8lab_format_emax(f) + 1;
      double hi = ldexp((double)((splitmix(&seed) >> 38) | (1u << 25)), e - 25);
      double lo = ldexp((double)(splitmix(&seed) >> 38), e - 25 - 27);
      if (splitmix(&seed) & 1) lo = -lo;
      if (splitmix(&seed) & 1) hi = -hi, lo = -lo;
      double v = hi + lo;
      assert_true(v - hi == lo); /* exact */
      uint64_t u = splitmix(&seed);
      for (size_t m = 0; m < NELEM(modes); m++)
        for (int sat = 0; sat < 2; sat++)
          for (int R = 0; R <= 32; R += 16) {
            fp8lab_cvt c = {.round = modes[m], .saturate = sat, .sr_bits = R};
            uint32_t a = fp8lab_encode_dd(f, hi, lo, &c, u);
            uint32_t b = fp8lab_encode_f64(f, v, &c, u);
            if (a != b)
              fail_msg("%s %a + %a %s: dd 0x%X codec 0x%X", f->name, hi, lo,
                       fp8lab_round_name(modes[m]), a, b);
            n++;
          }
    }
  }
  assert_true(n > 1000000);
}

/* ---- 3. independent reference on 128-bit integers ------------------------ */

typedef unsigned __int128 u128;

static int bitlen(u128 v) {
  int n = 0;
  while (v) v >>= 1, n++;
  return n;
}

/* Round V 2^-k (V > 0, sign neg) to p significant bits, unbounded exponent,
 * per mode; u and R as in fp8lab/convert.h.  Returns the rounded value. */
static double ref_round(u128 V, int k, bool neg, int p, fp8lab_round mode,
                        uint64_t u, int R) {
  int s = bitlen(V) - p; /* discarded bits, > 0 for these inputs */
  u128 kept = V >> s, rem = V & (((u128)1 << s) - 1), half = (u128)1 << (s - 1);
  bool up = false;
  switch (mode) {
  case FP8LAB_RNE: up = rem > half || (rem == half && (kept & 1)); break;
  case FP8LAB_RNA: up = rem >= half; break;
  case FP8LAB_RTZ: break;
  case FP8LAB_RUP: up = rem && !neg; break;
  case FP8LAB_RDN: up = rem && neg; break;
  case FP8LAB_RTO: if (rem) kept |= 1; break;
  case FP8LAB_SR: {
    uint64_t r64 = s >= 64 ? (uint64_t)(rem >> (s - 64)) : (uint64_t)(rem << (64 - s));
    if (R == 0) up = u < r64;
    else up = (r64 >> (64 - R)) + (u >> (64 - R)) >= ((uint64_t)1 << R);
    break;
  }
  }
  kept += up;
  double v = ldexp((double)(uint64_t)kept, s - k);
  return neg ? -v : v;
}

/* floor(r 2^64) of V 2^-k at p bits: the SR decision threshold. */
static uint64_t ref_r64(u128 V, int p) {
  int s = bitlen(V) - p;
  u128 rem = V & (((u128)1 << s) - 1);
  return s >= 64 ? (uint64_t)(rem >> (s - 64)) : (uint64_t)(rem << (64 - s));
}

static void test_vs_int128(void **state) {
  (void)state;
  static const char *names[] = {"f16", "bf16", "ibm169", "e8m13", "f32", "e4m3fn", "e5m2"};
  uint64_t seed = 7;
  size_t n = 0;
  for (size_t fi = 0; fi < NELEM(names); fi++) {
    const fp8lab_format *f = fp8lab_format_named(names[fi]);
    assert_non_null(f);
    int p = f->mbits + 1;
    for (int k = 0; k < 30000; k++) {
      /* hi: 1 + hb random bits at exponent eh in [-2, 2]; lo: 53 random bits
       * starting g bits below hi's last place; hb + 1 + g + 53 <= 126 */
      int hb = k % 2 ? 52 : 20;
      int eh = (int)(splitmix(&seed) % 5) - 2;
      int g = (int)(splitmix(&seed) % 61);
      if (hb + 1 + 53 + g > 126) g = 126 - hb - 1 - 53;
      uint64_t Mh = (splitmix(&seed) >> (64 - hb)) | ((uint64_t)1 << hb);
      uint64_t Ml = splitmix(&seed) >> 11;
      bool lneg = splitmix(&seed) & 1, neg = splitmix(&seed) & 1;
      /* hi = Mh 2^(eh-hb); lo = Ml 2^(eh-hb-g-53) */
      double hi = ldexp((double)Mh, eh - hb), lo = ldexp((double)Ml, eh - hb - g - 53);
      u128 H = (u128)Mh << (g + 53);
      u128 V = lneg ? H - Ml : H + Ml;
      int kk = -(eh - hb - g - 53);
      if (lneg) lo = -lo;
      if (neg) hi = -hi, lo = -lo;
      uint64_t r64 = ref_r64(V, p);
      for (size_t m = 0; m < NELEM(modes); m++)
        for (int R = 0; R <= 32; R += (R < 3 ? 1 : 29)) {
          if (modes[m] != FP8LAB_SR && R) continue;
          /* a random word, and the two words either side of the SR
           * threshold (a random word almost never probes the tail bits) */
          uint64_t thr = R == 0 ? r64
                                : (((uint64_t)1 << R) - (r64 >> (64 - R))) << (64 - R);
          uint64_t us[3] = {splitmix(&seed), thr, thr - 1};
          for (int j = 0; j < (modes[m] == FP8LAB_SR ? 3 : 1); j++) {
            fp8lab_cvt c = {.round = modes[m], .sr_bits = R};
            double got = fp8lab_decode_f64(f, fp8lab_encode_dd(f, hi, lo, &c, us[j]));
            double want = ref_round(V, kk, neg, p, modes[m], us[j], R);
            if (got != want)
              fail_msg("case %d %s %a + %a %s R=%d u=%llx: got %a want %a", k,
                       f->name, hi, lo, fp8lab_round_name(modes[m]), R,
                       (unsigned long long)us[j], got, want);
            n++;
          }
        }
    }
  }
  assert_true(n > 1000000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_by_hand_f16),
      cmocka_unit_test(test_sr_tail_bits),
      cmocka_unit_test(test_vs_codec),
      cmocka_unit_test(test_vs_int128),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
