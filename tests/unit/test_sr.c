/*
 * test_sr.c: stochastic rounding (fp8lab/convert.h, mode SR).
 *
 * Definition under test: for x strictly between neighbours lo and hi of the
 * format (|lo| < |hi|), r = (|x| - |lo|) / (|hi| - |lo|), and x rounds to hi
 * ("up", away from zero) with probability
 *     p = r                       sr_bits = 0 (exactly floor(r 2^64)/2^64)
 *     p = floor(r 2^R) / 2^R      sr_bits = R in 1..32
 * using the Philox word of element i keyed by (seed, stream).
 *
 * Statistics.  N independent roundings give K ups, K ~ Binomial(N, p).
 *   Frequency test: |K - N p| <= Z sqrt(N p (1 - p)), Z = 5 (two-sided; for a
 *   correct generator the normal approximation puts the false-alarm rate
 *   below 6e-7 per case).  Where p = 0 exactly, K must be 0.
 *   Mean test: the mean of the rounded values m = lo + (hi - lo) K / N must be
 *   within Z standard errors (hi - lo) sqrt(p (1 - p) / N) of its expectation
 *   lo + (hi - lo) p, which for exact SR is x itself (SR is unbiased).
 * Every case has a fixed seed derived from its index, so the outcome is
 * deterministic and a failure reruns by number.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fp8lab/convert.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define Z 5.0
#define NSAMPLES 1000000

/* splitmix64 (Steele, Lea, Flood 2014): test inputs seeded by case index,
 * independent of the generator under test. */
static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

typedef struct {
  const char *fmt;
  double x, lo, hi;         /* neighbours, by hand */
  uint32_t lo_code, hi_code; /* by hand */
} srcase;

/* clang-format off */
static const srcase cases[] = {
  /* 0 */ {"e4m3fn", 1.0 + 0.7 / 8, 1.0, 1.125, 0x38, 0x39},     /* r ~ 0.7   */
  /* 1 */ {"e4m3fn", 1.03125, 1.0, 1.125, 0x38, 0x39},            /* r = 1/4   */
  /* 2 */ {"e4m3fn", 1.0625, 1.0, 1.125, 0x38, 0x39},             /* r = 1/2   */
  /* 3 */ {"e4m3fn", 1.0 + 0x1p-12, 1.0, 1.125, 0x38, 0x39},      /* r = 2^-9  */
  /* 4 */ {"e4m3fn", -(2.0 + 0.9 * 0.25), -2.0, -2.25, 0xC0, 0xC1}, /* r ~ 0.9 */
  /* 5 */ {"e4m3fn", 0x1p-9 / 3, 0.0, 0x1p-9, 0x00, 0x01},        /* r ~ 1/3, subnormal */
  /* 6 */ {"e4m3fn", 1.0078125, 1.0, 1.125, 0x38, 0x39},          /* r = 1/16  */
  /* 7 */ {"e5m2", 1.0 + 0.1 * 0.25, 1.0, 1.25, 0x3C, 0x3D},      /* r ~ 0.1   */
  /* 8 */ {"e2m1", 4.6, 4.0, 6.0, 0x6, 0x7},                      /* r ~ 0.3   */
  /* 9 */ {"f16", 1.0 + 0.6 * 0x1p-10, 1.0, 1.0 + 0x1p-10, 0x3C00, 0x3C01}, /* r ~ 0.6 */
  /*10 */ {"bf16", -(1.0 + 0.45 * 0x1p-7), -1.0, -(1.0 + 0x1p-7), 0xBF80, 0xBF81},
  /*11 */ {"e8m0", 3.0, 2.0, 4.0, 0x80, 0x81},                   /* r = 1/2   */
};
/* clang-format on */

static double case_r(const srcase *k) {
  double r = (fabs(k->x) - fabs(k->lo)) / (fabs(k->hi) - fabs(k->lo));
  /* the division is by a power of two, the subtraction exact: r is exact */
  if (fabs(k->lo) + r * (fabs(k->hi) - fabs(k->lo)) != fabs(k->x))
    fail_msg("case %s %a: r not exact", k->fmt, k->x);
  return r;
}

/* Round N copies of case k with SR(R bits) and check the statistics. */
static void run_case(size_t idx, int R) {
  const srcase *k = &cases[idx];
  const fp8lab_format *f = fp8lab_format_named(k->fmt);
  assert_non_null(f);
  double r = case_r(k);
  double p = R == 0 ? r : floor(ldexp(r, R)) / ldexp(1.0, R);
  fp8lab_cvt c = {.round = FP8LAB_SR, .sr_bits = R,
                  .seed = 0x5EED0000u + idx * 64 + (uint64_t)R,
                  .stream = idx};
  size_t n = NSAMPLES, sz = fp8lab_code_size(f);
  double *in = malloc(n * sizeof *in);
  uint8_t *out = malloc(n * sz);
  assert_non_null(in);
  assert_non_null(out);
  for (size_t i = 0; i < n; i++) in[i] = k->x;
  fp8lab_encode_f64_array(f, in, out, n, &c, 0);
  size_t ups = 0;
  double sum = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t code = 0;
    memcpy(&code, out + i * sz, sz);
    if (code == k->hi_code) ups++, sum += k->hi;
    else if (code == k->lo_code) sum += k->lo;
    else
      fail_msg("case %zu R=%d element %zu: code 0x%X is neither 0x%X nor 0x%X",
               idx, R, i, code, k->lo_code, k->hi_code);
    /* the array's codes are the scalar codec's with the element's word */
    if (i < 1000) {
      uint32_t s = fp8lab_encode_f64(f, k->x, &c, fp8lab_sr_word(&c, i));
      if (s != code)
        fail_msg("case %zu R=%d element %zu: array 0x%X, scalar 0x%X", idx,
                 R, i, code, s);
    }
  }
  double N = (double)n;
  if (p == 0) {
    if (ups != 0)
      fail_msg("case %zu (%s x=%a r=%a) R=%d: P(up) = 0 but %zu ups", idx,
               k->fmt, k->x, r, R, ups);
  } else {
    double sd = sqrt(N * p * (1 - p));
    double zk = ((double)ups - N * p) / sd;
    if (fabs(zk) > Z)
      fail_msg("case %zu (%s x=%.17g r=%.17g) R=%d: %zu ups of %zu, expected "
               "%.1f (p = %.17g), z = %.2f", idx, k->fmt, k->x, r, R, ups, n,
               N * p, p, zk);
    double step = k->hi - k->lo;
    double mean = sum / N, expect = k->lo + step * p;
    double se = fabs(step) * sqrt(p * (1 - p) / N);
    if (fabs(mean - expect) > Z * se)
      fail_msg("case %zu R=%d: mean %.17g, expected %.17g (+- %g)", idx, R,
               mean, expect, Z * se);
    if (R == 0 && fabs(mean - k->x) > Z * se)
      fail_msg("case %zu exact SR: mean %.17g differs from x = %.17g by > %g",
               idx, mean, k->x, Z * se);
  }
  free(in);
  free(out);
}

static void test_sr_exact_mean_and_frequency(void **state) {
  (void)state;
  for (size_t i = 0; i < NELEM(cases); i++) run_case(i, 0);
}

/* R random bits: P(up) = floor(r 2^R) / 2^R.  For r = 0.7 that is 1/2, 1/2,
 * 5/8, 11/16, 22/32, 44/64, 89/128, 179/256 for R = 1..8; for r = 1/4 it is
 * 0 at R = 1 and 1/4 from R = 2; for r = 2^-9 it is 0 for every R <= 8. */
static void test_sr_few_bits(void **state) {
  (void)state;
  static const size_t which[] = {0, 1, 2, 3, 4};
  for (size_t w = 0; w < NELEM(which); w++)
    for (int R = 1; R <= 8; R++) run_case(which[w], R);
  run_case(0, 16);
  run_case(0, 32);
  /* the probabilities quoted above, by hand */
  static const double p07[9] = {0, 0.5, 0.5, 0.625, 0.6875, 0.6875, 0.6875,
                                89.0 / 128, 179.0 / 256};
  double r = case_r(&cases[0]);
  for (int R = 1; R <= 8; R++)
    if (floor(ldexp(r, R)) / ldexp(1.0, R) != p07[R])
      fail_msg("r = %.17g, R = %d: hand value %g", r, R, p07[R]);
}

/* The comparison itself, with chosen random words. */
static void test_sr_directed_words(void **state) {
  (void)state;
  const fp8lab_format *f = fp8lab_e4m3fn;
  const uint64_t MAX = UINT64_MAX;
  fp8lab_cvt c = {.round = FP8LAB_SR};
  /* r = 1/4: floor(r 2^64) = 2^62; up iff u < 2^62 */
  assert_int_equal(fp8lab_encode_f64(f, 1.03125, &c, 0), 0x39);
  assert_int_equal(fp8lab_encode_f64(f, 1.03125, &c, ((uint64_t)1 << 62) - 1), 0x39);
  assert_int_equal(fp8lab_encode_f64(f, 1.03125, &c, (uint64_t)1 << 62), 0x38);
  assert_int_equal(fp8lab_encode_f64(f, 1.03125, &c, MAX), 0x38);
  /* negative: up is away from zero */
  assert_int_equal(fp8lab_encode_f64(f, -1.03125, &c, 0), 0xB9);
  assert_int_equal(fp8lab_encode_f64(f, -1.03125, &c, MAX), 0xB8);
  /* r = 2^-49 (x = 1 + 2^-52, beyond f32): floor(r 2^64) = 2^15 */
  assert_int_equal(fp8lab_encode_f64(f, 1.0 + 0x1p-52, &c, 32767), 0x39);
  assert_int_equal(fp8lab_encode_f64(f, 1.0 + 0x1p-52, &c, 32768), 0x38);
  /* x = 2^-10 + 2^-62: quantum 2^-9, r = 1/2 + 2^-53, floor(r 2^64) =
   * 2^63 + 2^11 */
  assert_int_equal(fp8lab_encode_f64(f, 0x1p-10 + 0x1p-62, &c, 0x80000000000007FFull), 0x01);
  assert_int_equal(fp8lab_encode_f64(f, 0x1p-10 + 0x1p-62, &c, 0x8000000000000800ull), 0x00);
  /* x = 3 * 2^-74: r = 1.5 * 2^-64, floor(r 2^64) = 1: up only for u = 0 */
  assert_int_equal(fp8lab_encode_f64(f, 3 * 0x1p-74, &c, 0), 0x01);
  assert_int_equal(fp8lab_encode_f64(f, 3 * 0x1p-74, &c, 1), 0x00);
  /* r below 2^-64 (x = 2^-1074): floor(r 2^64) = 0, never up */
  assert_int_equal(fp8lab_encode_f64(f, 0x1p-1074, &c, 0), 0x00);
  assert_int_equal(fp8lab_encode_f64(f, -0x1p-1074, &c, 0), 0x80);
  /* R = 2, r = 1/4: up iff 1 + (u >> 62) >= 4, i.e. u >= 0xC000... */
  c.sr_bits = 2;
  assert_int_equal(fp8lab_encode_f64(f, 1.03125, &c, 0xC000000000000000ull), 0x39);
  assert_int_equal(fp8lab_encode_f64(f, 1.03125, &c, 0xBFFFFFFFFFFFFFFFull), 0x38);
  assert_int_equal(fp8lab_encode_f64(f, 1.03125, &c, 0), 0x38);
  /* R = 1, r = 1/4: floor(r 2) = 0, never up */
  c.sr_bits = 1;
  assert_int_equal(fp8lab_encode_f64(f, 1.03125, &c, MAX), 0x38);
  /* R = 1, r = 1/2: up iff the top bit of u is set */
  assert_int_equal(fp8lab_encode_f64(f, 1.0625, &c, 0x8000000000000000ull), 0x39);
  assert_int_equal(fp8lab_encode_f64(f, 1.0625, &c, 0x7FFFFFFFFFFFFFFFull), 0x38);
  /* R = 32, r = 1/4: up iff 2^30 + (u >> 32) >= 2^32 */
  c.sr_bits = 32;
  assert_int_equal(fp8lab_encode_f64(f, 1.03125, &c, 0xC000000000000000ull), 0x39);
  assert_int_equal(fp8lab_encode_f64(f, 1.03125, &c, 0xBFFFFFFFFFFFFFFFull), 0x38);
  /* R = 8, r = 2^-9: floor(r 2^8) = 0, never up */
  c.sr_bits = 8;
  assert_int_equal(fp8lab_encode_f64(f, 1.0 + 0x1p-12, &c, MAX), 0x38);
  /* overflow: 464 is halfway from 448 to the would-be 480 */
  c.sr_bits = 0;
  assert_int_equal(fp8lab_encode_f64(f, 464.0, &c, 0), 0x7F);   /* NaN */
  assert_int_equal(fp8lab_encode_f64(f, 464.0, &c, MAX), 0x7E);
  c.saturate = true;
  assert_int_equal(fp8lab_encode_f64(f, 464.0, &c, 0), 0x7E);
  c.saturate = false;
  assert_int_equal(fp8lab_encode_f64(fp8lab_e5m2, 61440.0, &c, 0), 0x7C); /* Inf */
  assert_int_equal(fp8lab_encode_f64(fp8lab_e5m2, -61440.0, &c, 0), 0xFC);
  assert_int_equal(fp8lab_encode_f64(fp8lab_e5m2, -61440.0, &c, MAX), 0xFB);
  /* specials are not random */
  assert_int_equal(fp8lab_encode_f64(f, NAN, &c, 0), 0x7F);
  assert_int_equal(fp8lab_encode_f64(f, -0.0, &c, 0), 0x80);
  assert_int_equal(fp8lab_encode_f64(fp8lab_e5m2, INFINITY, &c, MAX), 0x7C);
}

/* Exactly representable inputs never change, whatever the word and R. */
static void test_sr_exact_inputs_unchanged(void **state) {
  (void)state;
  static const char *const fmts[] = {"e4m3fn", "e5m2", "e4m3", "e3m4",
                                     "e4m3fnuz", "e2m1", "e3m2", "e8m0"};
  static const int Rs[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 32};
  for (size_t fi = 0; fi < NELEM(fmts); fi++) {
    const fp8lab_format *f = fp8lab_format_named(fmts[fi]);
    for (uint32_t code = 0; code < fp8lab_format_ncodes(f); code++) {
      if (fp8lab_format_is_nan(f, code)) continue;
      double v = fp8lab_decode_f64(f, code);
      for (size_t ri = 0; ri < NELEM(Rs); ri++) {
        fp8lab_cvt c = {.round = FP8LAB_SR, .sr_bits = Rs[ri]};
        uint64_t s = (uint64_t)fi << 40 | (uint64_t)code << 8 | ri;
        for (int t = 0; t < 64; t++) {
          uint64_t u = t == 0 ? 0 : t == 1 ? UINT64_MAX : splitmix(&s);
          uint32_t got = fp8lab_encode_f64(f, v, &c, u);
          if (got != code)
            fail_msg("%s code 0x%X (%a) R=%d u=%016llx: -> 0x%X", f->name,
                     code, v, Rs[ri], (unsigned long long)u, got);
        }
      }
    }
  }
}

/* ---- reproducibility: threads, pieces, index0 --------------------------- */

static float *make_inputs(size_t n, uint64_t seed) {
  float *x = malloc(n * sizeof *x);
  assert_non_null(x);
  for (size_t i = 0; i < n; i++) {
    uint64_t s = seed * 0x100000000ull + i; /* element i seeded by its index */
    uint64_t w = splitmix(&s);
    /* mostly values in +-512 (overflow included), some specials */
    switch (w & 255) {
    case 0: x[i] = NAN; break;
    case 1: x[i] = INFINITY; break;
    case 2: x[i] = -0.0f; break;
    case 3: x[i] = ldexpf((float)(w >> 40), -50); break; /* tiny */
    default: x[i] = ((float)(int32_t)(w >> 32)) * 0x1p-22f; break;
    }
  }
  return x;
}

static void test_sr_threads_identical(void **state) {
  (void)state;
  /* above the 2^20-element threshold where threads are used at all */
  const size_t n = 3 * ((size_t)1 << 20) + 17;
  float *x = make_inputs(n, 1);
  uint8_t *one = malloc(n), *many = malloc(n + 2);
  assert_non_null(one);
  assert_non_null(many);
  static const int threads[] = {2, 3, 5, 8, 0};
  static const uint64_t index0s[] = {0, 1, 1000003};
  for (size_t t0 = 0; t0 < NELEM(index0s); t0++) {
    fp8lab_cvt c = {.round = FP8LAB_SR, .seed = 42 + t0, .stream = 7};
    uint64_t i0 = index0s[t0];
    fp8lab_encode_f32_array_mt(fp8lab_e4m3fn, x, one, n, &c, i0, 1);
    /* against the scalar codec with the element's own word */
    for (size_t i = 0; i < n; i++) {
      uint32_t s = fp8lab_encode_f64(fp8lab_e4m3fn, x[i], &c, fp8lab_sr_word(&c, i0 + i));
      if (s != one[i])
        fail_msg("index0 %llu element %zu (x = %a): 1 thread 0x%X, scalar 0x%X",
                 (unsigned long long)i0, i, (double)x[i], one[i], s);
    }
    for (size_t k = 0; k < NELEM(threads); k++) {
      memset(many, 0xEE, n + 2);
      fp8lab_encode_f32_array_mt(fp8lab_e4m3fn, x, many + 1, n, &c, i0, threads[k]);
      if (many[0] != 0xEE || many[n + 1] != 0xEE)
        fail_msg("%d threads wrote outside the output", threads[k]);
      for (size_t i = 0; i < n; i++)
        if (many[i + 1] != one[i])
          fail_msg("index0 %llu, %d threads: element %zu is 0x%X, 1 thread 0x%X",
                   (unsigned long long)i0, threads[k], i, many[i + 1], one[i]);
    }
  }
  /* deterministic modes split the same way */
  fp8lab_cvt rne = {.round = FP8LAB_RNE, .saturate = true};
  fp8lab_encode_f32_array_mt(fp8lab_e5m2, x, one, n, &rne, 0, 1);
  fp8lab_encode_f32_array_mt(fp8lab_e5m2, x, many, n, &rne, 0, 4);
  assert_memory_equal(one, many, n);
  free(x);
  free(one);
  free(many);
}

/* Converting in pieces, each with index0 = its first element's index,
 * gives the codes of the whole; cut points include odd ones, which split a
 * Philox block (two elements per block). */
static void test_sr_pieces_identical(void **state) {
  (void)state;
  const size_t n = 10007;
  static const size_t cuts[] = {0, 1, 2, 3, 64, 65, 1001, 4096, 9999, 10006, 10007};
  float *x = make_inputs(n, 2);
  double *xd = malloc(n * sizeof *xd);
  uint16_t *h = malloc(n * sizeof *h);
  uint8_t *whole = malloc(n), *pieces = malloc(n);
  assert_non_null(xd);
  assert_non_null(h);
  assert_non_null(whole);
  assert_non_null(pieces);
  fp8lab_cvt to16 = {.round = FP8LAB_RNE};
  for (size_t i = 0; i < n; i++) {
    xd[i] = (double)x[i] * (1.0 + 0x1p-40); /* not an f32 */
    h[i] = (uint16_t)fp8lab_encode_f64(fp8lab_f16, x[i], &to16, 0);
  }
  for (int R = 0; R <= 8; R += 4) {
    for (uint64_t base = 0; base < 2; base++) {
      fp8lab_cvt c = {.round = FP8LAB_SR, .sr_bits = R, .seed = 1234 + (uint64_t)R,
                      .stream = 99 + base};
      /* f32 */
      fp8lab_encode_f32_array(fp8lab_e4m3fn, x, whole, n, &c, base);
      memset(pieces, 0xEE, n);
      for (size_t k = 0; k + 1 < NELEM(cuts); k++)
        fp8lab_encode_f32_array(fp8lab_e4m3fn, x + cuts[k], pieces + cuts[k],
                                cuts[k + 1] - cuts[k], &c, base + cuts[k]);
      assert_memory_equal(whole, pieces, n);
      /* the reference twin agrees */
      fp8lab_encode_f32_array_ref(fp8lab_e4m3fn, x, pieces, n, &c, base);
      assert_memory_equal(whole, pieces, n);
      /* f64 */
      fp8lab_encode_f64_array(fp8lab_e5m2, xd, whole, n, &c, base);
      memset(pieces, 0xEE, n);
      for (size_t k = 0; k + 1 < NELEM(cuts); k++)
        fp8lab_encode_f64_array(fp8lab_e5m2, xd + cuts[k], pieces + cuts[k],
                                cuts[k + 1] - cuts[k], &c, base + cuts[k]);
      assert_memory_equal(whole, pieces, n);
      for (size_t i = 0; i < n; i += 97)
        assert_int_equal(whole[i], fp8lab_encode_f64(fp8lab_e5m2, xd[i], &c,
                                                     fp8lab_sr_word(&c, base + i)));
      /* code -> code */
      fp8lab_recode_array(fp8lab_f16, h, fp8lab_e4m3fn, whole, n, &c, base);
      memset(pieces, 0xEE, n);
      for (size_t k = 0; k + 1 < NELEM(cuts); k++)
        fp8lab_recode_array(fp8lab_f16, h + cuts[k], fp8lab_e4m3fn,
                            pieces + cuts[k], cuts[k + 1] - cuts[k], &c,
                            base + cuts[k]);
      assert_memory_equal(whole, pieces, n);
      for (size_t i = 0; i < n; i += 97)
        assert_int_equal(whole[i], fp8lab_recode(fp8lab_f16, h[i], fp8lab_e4m3fn,
                                                 &c, fp8lab_sr_word(&c, base + i)));
    }
  }
  free(x);
  free(xd);
  free(h);
  free(whole);
  free(pieces);
}

/* Count positions where two SR streams over x = 1.0625 (p = 1/2) disagree.
 * Independent streams disagree with probability 1/2 at each position:
 * D ~ Binomial(n, 1/2), and |D - n/2| <= Z sqrt(n)/2 is required. */
static void check_streams_differ(const fp8lab_cvt *a, const fp8lab_cvt *b,
                                 const char *what) {
  const size_t n = 1 << 14;
  float *x = malloc(n * sizeof *x);
  uint8_t *oa = malloc(n), *ob = malloc(n);
  assert_non_null(x);
  assert_non_null(oa);
  assert_non_null(ob);
  for (size_t i = 0; i < n; i++) x[i] = 1.0625f;
  fp8lab_encode_f32_array(fp8lab_e4m3fn, x, oa, n, a, 0);
  fp8lab_encode_f32_array(fp8lab_e4m3fn, x, ob, n, b, 0);
  size_t d = 0;
  for (size_t i = 0; i < n; i++) d += oa[i] != ob[i];
  double z = ((double)d - n / 2.0) / (sqrt((double)n) / 2);
  if (fabs(z) > Z)
    fail_msg("%s: %zu of %zu codes differ (z = %.2f)", what, d, n, z);
  /* and the raw words all differ */
  for (uint64_t i = 0; i < 4096; i++)
    if (fp8lab_sr_word(a, i) == fp8lab_sr_word(b, i))
      fail_msg("%s: word %llu equal", what, (unsigned long long)i);
  free(x);
  free(oa);
  free(ob);
}

static void test_sr_seeds_and_streams_differ(void **state) {
  (void)state;
  fp8lab_cvt a = {.round = FP8LAB_SR, .seed = 1, .stream = 0};
  fp8lab_cvt b = {.round = FP8LAB_SR, .seed = 2, .stream = 0};
  fp8lab_cvt s1 = {.round = FP8LAB_SR, .seed = 1, .stream = 1};
  fp8lab_cvt hi = {.round = FP8LAB_SR, .seed = 1ull << 32, .stream = 0};
  fp8lab_cvt shi = {.round = FP8LAB_SR, .seed = 1, .stream = 1ull << 32};
  check_streams_differ(&a, &b, "seed 1 vs 2");
  check_streams_differ(&a, &s1, "stream 0 vs 1");
  check_streams_differ(&b, &s1, "(seed 2, stream 0) vs (seed 1, stream 1)");
  check_streams_differ(&a, &hi, "seed 1 vs 2^32 + 0 (high key word)");
  check_streams_differ(&a, &shi, "stream 0 vs 2^32 (high counter word)");
  /* the same (seed, stream) gives the same stream; index0 shifts it */
  const size_t n = 1000;
  float x[1001];
  uint8_t o0[1001], o1[1000], o2[1001];
  for (size_t i = 0; i <= n; i++) x[i] = 1.0625f;
  fp8lab_encode_f32_array(fp8lab_e4m3fn, x, o0, n + 1, &a, 0);
  fp8lab_encode_f32_array(fp8lab_e4m3fn, x, o2, n + 1, &a, 0);
  assert_memory_equal(o0, o2, n + 1);
  fp8lab_encode_f32_array(fp8lab_e4m3fn, x, o1, n, &a, 1);
  assert_memory_equal(o0 + 1, o1, n);
  /* two words per block are different words */
  for (uint64_t i = 0; i < 4096; i += 2)
    if (fp8lab_sr_word(&a, i) == fp8lab_sr_word(&a, i + 1))
      fail_msg("words %llu and %llu equal", (unsigned long long)i,
               (unsigned long long)i + 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sr_directed_words),
      cmocka_unit_test(test_sr_exact_inputs_unchanged),
      cmocka_unit_test(test_sr_exact_mean_and_frequency),
      cmocka_unit_test(test_sr_few_bits),
      cmocka_unit_test(test_sr_threads_identical),
      cmocka_unit_test(test_sr_pieces_identical),
      cmocka_unit_test(test_sr_seeds_and_streams_differ),
  };
  return cmocka_run_group_tests_name("sr", tests, NULL, NULL);
}
