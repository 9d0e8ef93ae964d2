/*
 * test_accum.c: accumulation models (fp8lab/accum.h).
 *
 * Oracles, none of them fp8lab output:
 *   - stagnation points by hand.  A sum of ones in a format with p
 *     significant bits (p = 1 + fraction bits) is exact up to 2^p; then
 *     2^p + 1 is the midpoint between 2^p and 2^p + 2 and RNE keeps the even
 *     2^p.  f16 p = 11: 2048; bf16 p = 8: 256; IBM 1-6-9 p = 1 + 9 = 10:
 *     1024; e8m13 p = 14: 16384.
 *   - the harmonic series, rounding re-derived here from first principles:
 *     rne_p(x) rounds a double to p significant bits with nearbyint (ties to
 *     even), unbounded exponent (every partial sum and term stays in the
 *     normal range of f16 and bf16).  s + t of two p-bit numbers with p <= 11
 *     is exact in double, and 1/k rounded to 53 then p bits is rne_p(1/k)
 *     (1/k is never within 2^-53 of a p-bit midpoint for k < 2^11).  This
 *     reproduces the published values (Higham and Pranesh, "Simulating low
 *     precision floating-point arithmetic", SIAM J. Sci. Comput. 41 (2019),
 *     section 1): f16 stagnates at 7.0859375 at term 513, bf16 at 5.0625 at
 *     term 65; numpy.float16 gives the same f16 numbers.
 *   - hardware: f32 RNE sums (s += x in float), f32 fused steps
 *     (s = fmaf(a, b, s)), double loops, Kahan loops written out here.
 *   - the exact sum where the answer is exact by construction (FP8 inputs
 *     on a grid that f32 holds).
 *   - statistics for SR: E[sum] = n for SR sums of ones (see test).
 * Every random case is seeded by its index.
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

#include "fp8lab/accum.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static bool same(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static double *ones(size_t n) {
  double *x = malloc(n * sizeof *x);
  assert_non_null(x);
  for (size_t i = 0; i < n; i++) x[i] = 1.0;
  return x;
}

static fp8lab_accum seq(const char *fmt, fp8lab_round r) {
  fp8lab_accum a = {.kind = FP8LAB_ACCUM_SEQ, .fmt = fp8lab_format_named(fmt)};
  a.cvt.round = r;
  assert_non_null(a.fmt);
  return a;
}

/* ---- stagnation ---------------------------------------------------------- */

static void test_ones_stagnation(void **state) {
  (void)state;
  /* codes by hand: 2^e has field e + bias, fraction 0 */
  struct {
    const char *fmt;
    size_t n;
    double want;
    uint32_t code;
  } cases[] = {
      {"f16", 3000, 2048.0, (11 + 15) << 10},     /* 0x6800 */
      {"bf16", 300, 256.0, (8 + 127) << 7},       /* 0x4380 */
      {"ibm169", 1100, 1024.0, (10 + 31) << 9},   /* 0x5200 */
      {"e8m13", 17000, 16384.0, (14 + 127) << 13}, /* 0x11A000 */
  };
  for (size_t i = 0; i < NELEM(cases); i++) {
    double *x = ones(cases[i].n);
    fp8lab_accum a = seq(cases[i].fmt, FP8LAB_RNE);
    uint32_t code;
    double got = fp8lab_sum(&a, x, cases[i].n, &code);
    if (got != cases[i].want || code != cases[i].code)
      fail_msg("%s: got %g (0x%X) want %g (0x%X)", cases[i].fmt, got, code,
               cases[i].want, cases[i].code);
    /* it gets there exactly at term 2^p and stays */
    size_t p2 = (size_t)cases[i].want;
    assert_true(fp8lab_sum(&a, x, p2 - 1, NULL) == cases[i].want - 1);
    assert_true(fp8lab_sum(&a, x, p2 + 1, NULL) == cases[i].want);
    free(x);
  }
  /* pairwise f16: every subtree of the 3000 ones sums exactly (<= 1500),
   * and the root 1500 + 1500 = 3000 is even, representable in [2048, 4096) */
  double *x = ones(3000);
  fp8lab_accum pw = {.kind = FP8LAB_ACCUM_PAIRWISE, .fmt = fp8lab_f16};
  assert_true(fp8lab_sum(&pw, x, 3000, NULL) == 3000.0);
  free(x);
}

static double rne_p(double x, int p) {
  if (x == 0) return x;
  int e = ilogb(x);
  return ldexp(nearbyint(ldexp(x, p - 1 - e)), e - p + 1);
}

static void test_harmonic(void **state) {
  (void)state;
  struct {
    const char *fmt;
    int p, stop_term;
    double stop_value;
  } cases[] = {
      {"f16", 11, 513, 7.0859375},
      {"bf16", 8, 65, 5.0625},
  };
  for (size_t i = 0; i < NELEM(cases); i++) {
    fp8lab_accum a = seq(cases[i].fmt, FP8LAB_RNE);
    fp8lab_accum_state st;
    assert_int_equal(fp8lab_accum_init(&st, &a, 0), 0);
    double ref = 0;
    int stop = 0;
    for (int k = 1; k <= 2000; k++) {
      double t = rne_p(1.0 / k, cases[i].p);
      double next = rne_p(ref + t, cases[i].p);
      if (!stop && next == ref) stop = k;
      ref = next;
      fp8lab_accum_add(&st, t);
      double got = fp8lab_accum_result(&st, NULL);
      if (got != ref) fail_msg("%s term %d: got %a want %a", cases[i].fmt, k, got, ref);
    }
    assert_int_equal(stop, cases[i].stop_term);
    assert_true(ref == cases[i].stop_value);
  }
}

/* Chunk-based accumulation of 2^20 ones in IBM 1-6-9 (p = 10), by hand:
 *   SEQ                         stagnates at 2^10 = 1024
 *   CHUNKED CL = 64, 1-6-9      chunk sums 64 exact; the inter-chunk sum of
 *                               64s is exact up to 2^10 64 = 65536, where
 *                               65536 + 64 is the midpoint (spacing 2^(16-9)
 *                               = 128): RNE keeps 65536
 *   CHUNKED CL = 64, f32 inter  2^14 chunk sums of 64 add exactly: 2^20
 *   CHUNKED CL = 1024, 1-6-9    chunk sums 1024 exact (1023 + 1 = 1024 is
 *                               representable); 1024 chunks of 1024 stay
 *                               exact (k 2^10, k <= 2^10): 2^20 */
static void test_chunked_ibm169(void **state) {
  (void)state;
  const size_t n = 1u << 20;
  double *x = ones(n);
  const fp8lab_format *ibm = fp8lab_format_named("ibm169");
  fp8lab_accum a = {.kind = FP8LAB_ACCUM_SEQ, .fmt = ibm};
  assert_true(fp8lab_sum(&a, x, n, NULL) == 1024.0);
  a.kind = FP8LAB_ACCUM_CHUNKED;
  a.chunk = 64;
  assert_true(fp8lab_sum(&a, x, n, NULL) == 65536.0);
  a.inter_fmt = fp8lab_f32;
  uint32_t code;
  assert_true(fp8lab_sum(&a, x, n, &code) == 0x1p20);
  assert_int_equal(code, 0x49800000); /* 2^20 in f32 */
  a.inter_fmt = NULL;
  a.chunk = 1024;
  assert_true(fp8lab_sum(&a, x, n, NULL) == 0x1p20);
  free(x);
}

/* ---- stochastic rounding ------------------------------------------------- */

/* SR sum of n = 3000 ones in f16.  Up to 2048 every step is exact.  From
 * there s is even and in [2048, 4096) (s <= 2048 + 2 (n - 2048) = 3952), so
 * s + 1 is the midpoint of s and s + 2: each of the 952 later steps adds 0
 * or 2 with probability 1/2 (exact SR and every sr_bits >= 1, since r = 1/2
 * has one bit).  So S = 2048 + 2 B, B ~ Binomial(952, 1/2): E[S] = 3000 = n,
 * Var[S] = 952.  Over T = 256 independent streams the mean has standard
 * error sqrt(952 / 256) = 1.93; we require |mean - 3000| <= 6 of them
 * (false alarm < 2e-9) and a sample variance within 50% of 952 (its
 * relative standard error is sqrt(2/255) = 0.089). */
static void test_sr_unbiased(void **state) {
  (void)state;
  enum { N = 3000, T = 256 };
  double *x = ones(N);
  for (int R = 0; R <= 2; R += 2) {
    double sum = 0, sum2 = 0;
    for (int t = 0; t < T; t++) {
      fp8lab_accum a = seq("f16", FP8LAB_SR);
      a.cvt.seed = 0x5EED;
      a.cvt.stream = (uint64_t)t;
      a.cvt.sr_bits = R;
      double s = fp8lab_sum(&a, x, N, NULL);
      assert_true(s >= 2048 && s <= 3952 && fmod(s, 2) == 0);
      sum += s;
      sum2 += s * s;
    }
    double mean = sum / T, var = (sum2 - T * mean * mean) / (T - 1);
    double se = sqrt(952.0 / T);
    if (fabs(mean - N) > 6 * se) fail_msg("R=%d: mean %g", R, mean);
    if (fabs(var - 952) > 0.5 * 952) fail_msg("R=%d: variance %g", R, var);
  }
  /* RNE on the same input stagnates at 2048: SR rescues the sum */
  fp8lab_accum a = seq("f16", FP8LAB_RNE);
  assert_true(fp8lab_sum(&a, x, N, NULL) == 2048.0);
  free(x);
}

/* Results depend on indices, not on threads or how the terms are fed. */
static void test_sr_independence(void **state) {
  (void)state;
  enum { M = 37, K = 300 };
  static double A[M * K], v[K];
  uint64_t seed = 11;
  for (size_t i = 0; i < M * K; i++)
    A[i] = ldexp((double)(splitmix(&seed) >> 40) - 0x1p23, -20);
  for (size_t i = 0; i < K; i++) v[i] = ldexp((double)(splitmix(&seed) >> 44), -16);
  fp8lab_accum models[] = {
      {.kind = FP8LAB_ACCUM_SEQ, .fmt = fp8lab_bf16,
       .cvt = {.round = FP8LAB_SR, .seed = 1, .stream = 2}},
      {.kind = FP8LAB_ACCUM_CHUNKED, .fmt = fp8lab_f16, .chunk = 16,
       .cvt = {.round = FP8LAB_SR, .seed = 3, .sr_bits = 4}},
      {.kind = FP8LAB_ACCUM_PAIRWISE, .fmt = fp8lab_bf16, .chunk = 8,
       .cvt = {.round = FP8LAB_SR, .seed = 5}},
  };
  for (size_t mi = 0; mi < NELEM(models); mi++) {
    double out1[M], out3[M], out8[M];
    uint32_t c1[M], c8[M];
    assert_int_equal(fp8lab_dot_rows(&models[mi], A, K, v, M, K, 100, out1, c1, 1), 0);
    assert_int_equal(fp8lab_dot_rows(&models[mi], A, K, v, M, K, 100, out3, NULL, 3), 0);
    assert_int_equal(fp8lab_dot_rows(&models[mi], A, K, v, M, K, 100, out8, c8, 8), 0);
    for (int r = 0; r < M; r++) {
      assert_true(same(out1[r], out3[r]) && same(out1[r], out8[r]));
      assert_int_equal(c1[r], c8[r]);
      /* row r is dot_ex with index0 = 100 + r K */
      uint32_t k;
      double d = fp8lab_dot_ex(&models[mi], A + r * K, 1, v, 1, K, 100 + (uint64_t)r * K, &k);
      assert_true(same(d, out1[r]));
      assert_int_equal(k, c1[r]);
    }
    /* streaming in random pieces equals the whole (not PAIRWISE) */
    if (models[mi].kind == FP8LAB_ACCUM_PAIRWISE) continue;
    for (int trial = 0; trial < 5; trial++) {
      fp8lab_accum_state st;
      assert_int_equal(fp8lab_accum_init(&st, &models[mi], 100), 0);
      size_t i = 0;
      while (i < K) {
        size_t piece = 1 + splitmix(&seed) % 40;
        for (size_t j = i; j < i + piece && j < K; j++) fp8lab_accum_add_prod(&st, A[j], v[j]);
        i += piece;
        if (i < K) { /* a result mid-way does not disturb the state */
          uint32_t kk;
          fp8lab_accum_result(&st, &kk);
        }
      }
      uint32_t k;
      assert_true(same(fp8lab_accum_result(&st, &k), out1[0]));
      assert_int_equal(k, c1[0]);
    }
  }
  /* a different seed changes the SR result (the stream is really used) */
  fp8lab_accum a = models[0];
  double d0 = fp8lab_dot(&a, A, v, K, NULL);
  int differ = 0;
  for (uint64_t s = 10; s < 20; s++) {
    a.cvt.seed = s;
    differ += !same(fp8lab_dot(&a, A, v, K, NULL), d0);
  }
  assert_true(differ > 0);
}

/* ---- compensated, pairwise, hardware ------------------------------------ */

/* f32: 1 followed by 1024 terms e = 2^-24.  Sequential RNE: 1 + e is the
 * midpoint of 1 and 1 + 2e, even -> 1, forever.  Kahan, by hand, (s, c)
 * after each of four terms from (1, 0):
 *   y = e:        t = 1 (tie, even)        (1, -e)
 *   y = 2e:       t = 1 + 2e exactly       (1 + 2e, 0)
 *   y = e:        t = 1 + 4e (tie, even)   (1 + 4e, e)
 *   y = 0:        t = s                    (1 + 4e, 0)
 * and 1 + 4e has an even last bit again: the pattern repeats, so after 1024
 * terms s = 1 + 1024 e = 1 + 2^-14, the exact sum.  The same in f64 with
 * e = 2^-53: 1 + 2^-43. */
static void test_kahan_vs_exact(void **state) {
  (void)state;
  enum { N = 1025 };
  double x[N], y[N], ones1[N];
  for (int i = 0; i < N; i++) x[i] = i ? 0x1p-24 : 1.0, y[i] = i ? 0x1p-53 : 1.0;
  for (int i = 0; i < N; i++) ones1[i] = 1.0;
  fp8lab_accum ex = {.kind = FP8LAB_ACCUM_EXACT};
  fp8lab_accum kf = {.kind = FP8LAB_ACCUM_KAHAN_F32};
  fp8lab_accum kd = {.kind = FP8LAB_ACCUM_KAHAN_F64};
  fp8lab_accum f32 = {.kind = FP8LAB_ACCUM_SEQ};
  fp8lab_accum f64 = {.kind = FP8LAB_ACCUM_F64};
  uint32_t code;
  assert_true(fp8lab_sum(&ex, x, N, NULL) == 1.0 + 0x1p-14);
  assert_true(fp8lab_sum(&kf, x, N, &code) == 1.0 + 0x1p-14);
  assert_int_equal(code, 0x3F800200); /* 1 + 2^-14: fraction bit 9 */
  assert_true(fp8lab_sum(&f32, x, N, NULL) == 1.0);
  assert_true(fp8lab_sum(&ex, y, N, NULL) == 1.0 + 0x1p-43);
  assert_true(fp8lab_sum(&kd, y, N, NULL) == 1.0 + 0x1p-43);
  assert_true(fp8lab_sum(&f64, y, N, NULL) == 1.0);
  /* dot products: x_i * 1 and 2^-12 * 2^-12 give the same terms */
  double h[N];
  for (int i = 0; i < N; i++) h[i] = i ? 0x1p-12 : 1.0;
  assert_true(fp8lab_dot(&kf, h, h, N, NULL) == 1.0 + 0x1p-14);
  assert_true(fp8lab_dot(&kf, x, ones1, N, NULL) == 1.0 + 0x1p-14);
  assert_true(fp8lab_dot(&ex, h, h, N, NULL) == 1.0 + 0x1p-14);
}

/* f32, x = 1 followed by 2^m - 1 terms 2^-24, m = 10, n = 2^m.  Pairwise:
 * L(1) = fl(1 + 2^-24) = 1 (tie, even); the right subtree of level j holds
 * 2^(j-1) terms and sums exactly to 2^(j-25); L(j) = L(j-1) + 2^(j-25) is
 * exact from j = 2 on: L(m) = 1 + (2^m - 2) 2^-24.  Sequential: 1.  Exact:
 * 1 + (2^m - 1) 2^-24. */
static void test_pairwise_vs_sequential(void **state) {
  (void)state;
  enum { M = 10, N = 1 << M };
  double x[N];
  for (int i = 0; i < N; i++) x[i] = i ? 0x1p-24 : 1.0;
  fp8lab_accum pw = {.kind = FP8LAB_ACCUM_PAIRWISE};
  fp8lab_accum sq = {.kind = FP8LAB_ACCUM_SEQ};
  fp8lab_accum ex = {.kind = FP8LAB_ACCUM_EXACT};
  assert_true(fp8lab_sum(&pw, x, N, NULL) == 1.0 + (N - 2) * 0x1p-24);
  assert_true(fp8lab_sum(&sq, x, N, NULL) == 1.0);
  assert_true(fp8lab_sum(&ex, x, N, NULL) == 1.0 + (N - 1) * 0x1p-24);
  /* leaves of 4 summed sequentially: [1, e, e, e] -> 1 (each a tie to 1),
   * the other leaves 4e exactly; then 1 + 4e + ... exact: 1 + (N - 4) e */
  pw.chunk = 4;
  assert_true(fp8lab_sum(&pw, x, N, NULL) == 1.0 + (N - 4) * 0x1p-24);
}

/* f32 SEQ against the host's binary32 arithmetic, f64 and Kahan against
 * loops written here. */
static void test_vs_hardware(void **state) {
  (void)state;
  enum { N = 2000, CASES = 50 };
  static float xf[N], yf[N];
  static double x[N], y[N];
  uint64_t seed = 99;
  for (int k = 0; k < CASES; k++) {
    for (int i = 0; i < N; i++) {
      uint32_t b = (uint32_t)splitmix(&seed);
      int e = (int)(splitmix(&seed) % 40) - 20;
      xf[i] = (float)ldexp((double)(b >> 8), e - 24) * ((b & 1) ? -1.0f : 1.0f);
      yf[i] = (float)ldexp((double)(uint32_t)(splitmix(&seed) >> 40), -24);
      x[i] = xf[i];
      y[i] = yf[i];
    }
    float s = 0, d = 0, ks = 0, kc = 0;
    double s64 = 0, ds64 = 0, kd = 0, kdc = 0;
    for (int i = 0; i < N; i++) {
      s += xf[i];
      d = fmaf(xf[i], yf[i], d);
      float yy = xf[i] - kc, t = ks + yy;
      kc = (t - ks) - yy;
      ks = t;
      s64 += x[i];
      ds64 = fma(x[i], y[i], ds64);
      double y2 = x[i] - kdc, t2 = kd + y2;
      kdc = (t2 - kd) - y2;
      kd = t2;
    }
    fp8lab_accum f32 = {.kind = FP8LAB_ACCUM_SEQ};
    fp8lab_accum kf = {.kind = FP8LAB_ACCUM_KAHAN_F32};
    fp8lab_accum f64 = {.kind = FP8LAB_ACCUM_F64};
    fp8lab_accum k64 = {.kind = FP8LAB_ACCUM_KAHAN_F64};
    uint32_t code;
    assert_true(same(fp8lab_sum(&f32, x, N, &code), (double)s));
    assert_int_equal(code, fp8lab_f32_bits(s));
    assert_true(same(fp8lab_dot(&f32, x, y, N, NULL), (double)d));
    assert_true(same(fp8lab_sum(&kf, x, N, NULL), (double)ks));
    assert_true(same(fp8lab_sum(&f64, x, N, NULL), s64));
    assert_true(same(fp8lab_dot(&f64, x, y, N, NULL), ds64));
    assert_true(same(fp8lab_sum(&k64, x, N, NULL), kd));
  }
}

/* FP8 E4M3 inputs in [1/2, 8) (exponent fields 6..9): 4-bit significands
 * on the grid 2^-4, so products are multiples of 2^-8 below 64 and any sum
 * of 256 of them is a multiple of 2^-8 below 2^14: 22 bits, exact in f32.
 * Every f32 (and f64) model, in any order and mode, must equal the exact
 * sum (style rule 9: inputs that make the sum exact, then equality). */
static void test_fp8_dots_exact(void **state) {
  (void)state;
  enum { N = 256, CASES = 40 };
  double a[N], b[N];
  uint64_t seed = 5;
  for (int k = 0; k < CASES; k++) {
    for (int i = 0; i < N; i++) {
      /* e4m3fn codes with exponent field 6..9 (2^-1 .. 2^2) */
      uint32_t ca = (uint32_t)((splitmix(&seed) % 4 + 6) << 3 | (splitmix(&seed) & 7));
      uint32_t cb = (uint32_t)((splitmix(&seed) % 4 + 6) << 3 | (splitmix(&seed) & 7));
      a[i] = fp8lab_decode_f64(fp8lab_e4m3fn, ca | (uint32_t)(splitmix(&seed) & 1) << 7);
      b[i] = fp8lab_decode_f64(fp8lab_e4m3fn, cb);
    }
    fp8lab_accum ex = {.kind = FP8LAB_ACCUM_EXACT};
    double want = fp8lab_dot(&ex, a, b, N, NULL);
    fp8lab_accum models[] = {
        {.kind = FP8LAB_ACCUM_SEQ},
        {.kind = FP8LAB_ACCUM_PAIRWISE},
        {.kind = FP8LAB_ACCUM_CHUNKED, .chunk = 32},
        {.kind = FP8LAB_ACCUM_KAHAN_F32},
        {.kind = FP8LAB_ACCUM_KAHAN_F64},
        {.kind = FP8LAB_ACCUM_F64},
        {.kind = FP8LAB_ACCUM_SEQ, .cvt = {.round = FP8LAB_SR, .seed = 9}},
        {.kind = FP8LAB_ACCUM_SEQ, .cvt = {.round = FP8LAB_RTZ}},
    };
    for (size_t m = 0; m < NELEM(models); m++) {
      double got = fp8lab_dot(&models[m], a, b, N, NULL);
      if (got != want) fail_msg("case %d model %zu: got %a want %a", k, m, got, want);
    }
  }
}

/* s + a*b rounded once when a*b is not a double.  f16, s = 1 + 2^-10 (odd
 * last bit), a = 1 - 2^-35, b = 2^-11 (1 + 2^-35): a b = 2^-11 (1 - 2^-70),
 * RN64(a b) = 2^-11.  Exact: s + a b is just below the midpoint 1 + 3 2^-11
 * -> RNE gives s = 0x3C01.  Rounding s + RN64(a b) would hit the midpoint
 * and give the even 1 + 2^-9 = 0x3C02. */
static void test_wide_products(void **state) {
  (void)state;
  double a = 1.0 - 0x1p-35, b = 0x1p-11 * (1.0 + 0x1p-35);
  assert_true(a * b == 0x1p-11);              /* the product is not exact */
  assert_true(fma(a, b, -0x1p-11) == -0x1p-81);
  double x[2] = {1.0 + 0x1p-10, a}, y[2] = {1.0, b};
  fp8lab_accum f16 = seq("f16", FP8LAB_RNE);
  uint32_t code;
  fp8lab_dot(&f16, x, y, 2, &code);
  assert_int_equal(code, 0x3C01);
  assert_int_equal(fp8lab_encode_f64(fp8lab_f16, (1.0 + 0x1p-10) + a * b, NULL, 0), 0x3C02);
  /* EXACT rounded into f16 agrees; RUP on a tiny positive error rounds up */
  fp8lab_accum ex = {.kind = FP8LAB_ACCUM_EXACT, .fmt = fp8lab_f16};
  fp8lab_dot(&ex, x, y, 2, &code);
  assert_int_equal(code, 0x3C01);
  double c = 1.0 + 0x1p-35, d = 0x1p-60 * (1.0 + 0x1p-35); /* error > 0 */
  double xs[2] = {1.0, c}, ys[2] = {1.0, d};
  fp8lab_accum up = seq("f16", FP8LAB_RUP);
  fp8lab_dot(&up, xs, ys, 2, &code);
  assert_int_equal(code, 0x3C01);
  /* a product below 2^-969 goes through exact_sum: 2^-600 2^-600 = 2^-1200 */
  fp8lab_accum f32up = {.kind = FP8LAB_ACCUM_SEQ, .cvt = {.round = FP8LAB_RUP}};
  double t1[1] = {0x1p-600}, t2[1] = {0x1p-600};
  fp8lab_dot(&f32up, t1, t2, 1, &code);
  assert_int_equal(code, 0x00000001); /* min subnormal */
}

static void test_zero_signs_and_specials(void **state) {
  (void)state;
  double x[2] = {1.0, -1.0};
  uint32_t code;
  fp8lab_accum a = seq("f16", FP8LAB_RNE);
  fp8lab_sum(&a, x, 2, &code);
  assert_int_equal(code, 0x0000);
  a.cvt.round = FP8LAB_RDN; /* IEEE 754 6.3: exact zero sum is -0 */
  fp8lab_sum(&a, x, 2, &code);
  assert_int_equal(code, 0x8000);
  /* overflow to Inf and Inf - Inf */
  double big[3] = {65504.0, 65504.0, -INFINITY};
  a.cvt.round = FP8LAB_RNE;
  assert_true(fp8lab_sum(&a, big, 2, &code) == INFINITY);
  assert_int_equal(code, 0x7C00);
  assert_true(isnan(fp8lab_sum(&a, big, 3, NULL)));
  a.cvt.saturate = true;
  assert_true(fp8lab_sum(&a, big, 2, NULL) == 65504.0);
}

static void test_check(void **state) {
  (void)state;
  char err[128];
  fp8lab_accum ok = {.kind = FP8LAB_ACCUM_SEQ};
  assert_int_equal(fp8lab_accum_check(&ok, err, sizeof err), 0);
  fp8lab_accum bad[] = {
      {.kind = (fp8lab_accum_kind)99},
      {.kind = FP8LAB_ACCUM_CHUNKED, .chunk = 0},
      {.kind = FP8LAB_ACCUM_SEQ, .fmt = fp8lab_format_named("e8m0")},
      {.kind = FP8LAB_ACCUM_SEQ, .cvt = {.round = FP8LAB_SR, .sr_bits = 40}},
      {.kind = FP8LAB_ACCUM_CHUNKED, .chunk = 4, .inter_fmt = fp8lab_f16,
       .inter_cvt = {.round = (fp8lab_round)42}},
  };
  double x[1] = {1.0};
  for (size_t i = 0; i < NELEM(bad); i++) {
    assert_int_equal(fp8lab_accum_check(&bad[i], err, sizeof err), -1);
    assert_true(strlen(err) > 0);
    uint32_t code = 7;
    assert_true(isnan(fp8lab_sum(&bad[i], x, 1, &code)));
    assert_int_equal(code, 0);
  }
  fp8lab_accum_state st;
  fp8lab_accum pw = {.kind = FP8LAB_ACCUM_PAIRWISE};
  assert_int_equal(fp8lab_accum_init(&st, &pw, 0), -1);
  assert_true(fp8lab_accum_code_format(&pw) == fp8lab_f32);
  fp8lab_accum ch = {.kind = FP8LAB_ACCUM_CHUNKED, .fmt = fp8lab_f16, .chunk = 8,
                     .inter_fmt = fp8lab_bf16};
  assert_true(fp8lab_accum_code_format(&ch) == fp8lab_bf16);
  /* empty sums are +0 */
  assert_true(same(fp8lab_sum(&ch, x, 0, NULL), 0.0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ones_stagnation),
      cmocka_unit_test(test_harmonic),
      cmocka_unit_test(test_chunked_ibm169),
      cmocka_unit_test(test_sr_unbiased),
      cmocka_unit_test(test_sr_independence),
      cmocka_unit_test(test_kahan_vs_exact),
      cmocka_unit_test(test_pairwise_vs_sequential),
      cmocka_unit_test(test_vs_hardware),
      cmocka_unit_test(test_fp8_dots_exact),
      cmocka_unit_test(test_wide_products),
      cmocka_unit_test(test_zero_signs_and_specials),
      cmocka_unit_test(test_check),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
