/*
 * test_exact_sum.c: the superaccumulator (fp8lab/exact_sum.h).
 *
 * Oracles: sums known by hand (cancellation across the whole double range,
 * products below DBL_MIN and above DBL_MAX, ties of the final rounding), and
 * for random sums a 128-bit integer: terms m 2^e with e in [-60, 0] are
 * integers times 2^-60, so the exact sum of 1000 of them is an __int128, and
 * its binary64 rounding is GCC's int128 -> double conversion (correctly
 * rounded, libgcc __floattidf) scaled by 2^-60.  Order independence and
 * merging are checked bit for bit.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fp8lab/exact_sum.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static bool same(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static void test_known_sums(void **state) {
  (void)state;
  const double big = 0x1.fffffffffffffp1023; /* DBL_MAX, ulp 2^971 */
  struct {
    double x[4];
    size_t n;
    double want;
  } cases[] = {
      {{1e308, 1.0, -1e308}, 3, 1.0},
      {{0x1p-1074, 0x1p1023, -0x1p1023}, 3, 0x1p-1074},
      {{big, big, -big}, 3, big},                    /* no intermediate overflow */
      {{big, 0x1p970}, 2, INFINITY},                 /* tie above DBL_MAX: odd, up */
      {{big, 0x1p969}, 2, big},                      /* below the tie */
      {{1.0, 0x1p-53}, 2, 1.0},                      /* tie, 1 is even */
      {{1.0, 0x1p-53, 0x1p-1074}, 3, 1.0 + 0x1p-52}, /* sticky breaks it */
      {{1.0 + 0x1p-52, 0x1p-53}, 2, 1.0 + 0x1p-51},  /* tie, odd -> up */
      {{-1.0, -0x1p-53, -0x1p-1074}, 3, -1.0 - 0x1p-52},
      {{0x1p-1074, -0x1p-1074}, 2, 0.0},
      {{0}, 0, 0.0},
  };
  for (size_t i = 0; i < NELEM(cases); i++) {
    double got = fp8lab_exact_sum_f64(cases[i].x, 1, cases[i].n);
    if (!same(got, cases[i].want))
      fail_msg("case %zu: got %a want %a", i, got, cases[i].want);
  }
}

static void test_products(void **state) {
  (void)state;
  fp8lab_exact_sum s;
  /* (1 + 2^-52)(1 - 2^-52) - 1 = -2^-104 */
  fp8lab_exact_sum_init(&s);
  fp8lab_exact_sum_add_prod(&s, 1.0 + 0x1p-52, 1.0 - 0x1p-52);
  fp8lab_exact_sum_add(&s, -1.0);
  assert_true(same(fp8lab_exact_sum_f64_rne(&s), -0x1p-104));
  /* 2^1000 * 2^1000 beyond DBL_MAX, cancelled exactly */
  fp8lab_exact_sum_init(&s);
  fp8lab_exact_sum_add_prod(&s, 0x1p1000, 0x1p1000);
  fp8lab_exact_sum_add(&s, 1.0);
  fp8lab_exact_sum_add_prod(&s, -0x1p1000, 0x1p1000);
  assert_true(same(fp8lab_exact_sum_f64_rne(&s), 1.0));
  /* products below the subnormals: 2^-1075 alone is a tie to 0 (even), one
   * more 2^-1200 breaks it up to 2^-1074; 3 2^-1076 rounds to 2^-1074 */
  fp8lab_exact_sum_init(&s);
  fp8lab_exact_sum_add_prod(&s, 0x1p-537, 0x1p-538);
  assert_true(same(fp8lab_exact_sum_f64_rne(&s), 0.0));
  assert_int_equal(fp8lab_exact_sum_sign(&s), 1);
  fp8lab_exact_sum_add_prod(&s, 0x1p-600, 0x1p-600);
  assert_true(same(fp8lab_exact_sum_f64_rne(&s), 0x1p-1074));
  fp8lab_exact_sum_init(&s);
  fp8lab_exact_sum_add_prod(&s, 3 * 0x1p-538, 0x1p-538);
  assert_true(same(fp8lab_exact_sum_f64_rne(&s), 0x1p-1074));
  /* the smallest product, 2^-2148, is kept: its sign survives */
  fp8lab_exact_sum_init(&s);
  fp8lab_exact_sum_add_prod(&s, -0x1p-1074, 0x1p-1074);
  assert_int_equal(fp8lab_exact_sum_sign(&s), -1);
  fp8lab_cvt rdn = {.round = FP8LAB_RDN}, rup = {.round = FP8LAB_RUP};
  assert_int_equal(fp8lab_exact_sum_encode(&s, fp8lab_f32, &rdn, 0), 0x80000001u);
  assert_int_equal(fp8lab_exact_sum_encode(&s, fp8lab_f32, &rup, 0), 0x80000000u);
}

static void test_specials(void **state) {
  (void)state;
  fp8lab_exact_sum s;
  fp8lab_exact_sum_init(&s);
  fp8lab_exact_sum_add(&s, 1.0);
  fp8lab_exact_sum_add(&s, INFINITY);
  assert_true(fp8lab_exact_sum_f64_rne(&s) == INFINITY);
  fp8lab_exact_sum_add(&s, -INFINITY);
  assert_true(isnan(fp8lab_exact_sum_f64_rne(&s)));
  fp8lab_exact_sum_init(&s);
  fp8lab_exact_sum_add_prod(&s, INFINITY, 0.0);
  assert_true(isnan(fp8lab_exact_sum_f64_rne(&s)));
  fp8lab_exact_sum_init(&s);
  fp8lab_exact_sum_add_prod(&s, -INFINITY, 2.0);
  assert_true(fp8lab_exact_sum_f64_rne(&s) == -INFINITY);
  assert_int_equal(fp8lab_exact_sum_sign(&s), -1);
  fp8lab_exact_sum_init(&s);
  fp8lab_exact_sum_add(&s, NAN);
  assert_true(isnan(fp8lab_exact_sum_f64_rne(&s)));
}

/* Rounding into formats through the round-to-odd double-double. */
static void test_encode(void **state) {
  (void)state;
  fp8lab_exact_sum s;
  double hi, lo;
  /* 1 + 2^-200: RTO at 2^-105 sets the last place */
  fp8lab_exact_sum_init(&s);
  fp8lab_exact_sum_add(&s, 1.0);
  fp8lab_exact_sum_add(&s, 0x1p-200);
  fp8lab_exact_sum_dd_rto(&s, &hi, &lo);
  assert_true(hi == 1.0 && lo == 0x1p-105);
  fp8lab_cvt c[7];
  for (int m = 0; m < 7; m++) c[m] = (fp8lab_cvt){.round = (fp8lab_round)m};
  /* f16, S = 1 + 2^-200:  RNE RNA RTZ 1, RUP RTO 1 + 2^-10, RDN 1 */
  const uint32_t up[6] = {0x3C00, 0x3C00, 0x3C00, 0x3C01, 0x3C00, 0x3C01};
  for (int m = 0; m < 6; m++)
    assert_int_equal(fp8lab_exact_sum_encode(&s, fp8lab_f16, &c[m], 0), up[m]);
  /* S = 1 - 2^-200 */
  fp8lab_exact_sum_init(&s);
  fp8lab_exact_sum_add(&s, 1.0);
  fp8lab_exact_sum_add(&s, -0x1p-200);
  const uint32_t dn[6] = {0x3C00, 0x3C00, 0x3BFF, 0x3C00, 0x3BFF, 0x3BFF};
  for (int m = 0; m < 6; m++)
    assert_int_equal(fp8lab_exact_sum_encode(&s, fp8lab_f16, &c[m], 0), dn[m]);
  /* the f16 tie 1 + 2^-11 is even (1) alone, up with 2^-300 added, down
   * with -2^-300: the sticky bit survives 289 bits of gap */
  fp8lab_exact_sum_init(&s);
  fp8lab_exact_sum_add(&s, 1.0);
  fp8lab_exact_sum_add(&s, 0x1p-11);
  assert_int_equal(fp8lab_exact_sum_encode(&s, fp8lab_f16, NULL, 0), 0x3C00);
  fp8lab_exact_sum_add(&s, 0x1p-300);
  assert_int_equal(fp8lab_exact_sum_encode(&s, fp8lab_f16, NULL, 0), 0x3C01);
  fp8lab_exact_sum_add(&s, -0x1p-299);
  assert_int_equal(fp8lab_exact_sum_encode(&s, fp8lab_f16, NULL, 0), 0x3C00);
  assert_int_equal(fp8lab_exact_sum_encode(&s, fp8lab_f16, &c[FP8LAB_RNA], 0), 0x3C00);
  /* SR: S = 1 + 2^-60 in f16, P(up) = 2^14 / 2^64 exactly */
  fp8lab_exact_sum_init(&s);
  fp8lab_exact_sum_add(&s, 1.0);
  fp8lab_exact_sum_add(&s, 0x1p-60);
  assert_int_equal(fp8lab_exact_sum_encode(&s, fp8lab_f16, &c[FP8LAB_SR], (1u << 14) - 1), 0x3C01);
  assert_int_equal(fp8lab_exact_sum_encode(&s, fp8lab_f16, &c[FP8LAB_SR], 1u << 14), 0x3C00);
  /* beyond 2^1024: overflow of every format */
  fp8lab_exact_sum_init(&s);
  fp8lab_exact_sum_add_prod(&s, 0x1p600, 0x1p600);
  assert_int_equal(fp8lab_exact_sum_encode(&s, fp8lab_f16, &c[FP8LAB_RTZ], 0), 0x7BFF);
  assert_int_equal(fp8lab_exact_sum_encode(&s, fp8lab_f16, &c[FP8LAB_RNE], 0), 0x7C00);
}

/* Random sums against the int128 oracle; order and merge independence. */
static void test_random_vs_int128(void **state) {
  (void)state;
  enum { N = 1000, CASES = 300 };
  static double x[N];
  uint64_t seed = 42;
  for (int k = 0; k < CASES; k++) {
    __int128 exact = 0;
    for (int i = 0; i < N; i++) {
      uint64_t m = splitmix(&seed) >> (11 + (unsigned)(k % 40));
      int e = -(int)(splitmix(&seed) % 61); /* x = +-m 2^e */
      bool neg = k % 3 == 0 ? (i & 1) : (splitmix(&seed) & 1);
      if (k % 5 == 0 && i == N - 1) { /* heavy cancellation: the last term
                                         takes the integer part of -sum */
        __int128 r = -exact;
        neg = r < 0;
        if (neg) r = -r;
        if (r >= ((__int128)1 << 53) << 60) r = 0;
        m = (uint64_t)(r >> 60);
        e = 0;
      }
      x[i] = ldexp((double)m, e) * (neg ? -1 : 1);
      __int128 v = (__int128)m << (e + 60);
      exact += neg ? -v : v;
    }
    double want = ldexp((double)exact, -60); /* int128 -> double is RNE */
    double got = fp8lab_exact_sum_f64(x, 1, N);
    if (!same(got, want)) fail_msg("case %d: got %a want %a", k, got, want);
    /* reversed order and merged halves give the same bits */
    fp8lab_exact_sum a, b;
    fp8lab_exact_sum_init(&a);
    fp8lab_exact_sum_init(&b);
    for (int i = N - 1; i >= N / 2; i--) fp8lab_exact_sum_add(&a, x[i]);
    for (int i = 0; i < N / 2; i++) fp8lab_exact_sum_add(&b, x[i]);
    fp8lab_exact_sum_add_sum(&a, &b);
    assert_true(same(fp8lab_exact_sum_f64_rne(&a), want));
    int sgn = exact > 0 ? 1 : exact < 0 ? -1 : 0;
    assert_int_equal(fp8lab_exact_sum_sign(&a), sgn);
  }
}

/* The carry pass every 2^30 deposits: start just below it (the counter is
 * an implementation field, set here only to reach the pass quickly). */
static void test_carry_pass(void **state) {
  (void)state;
  enum { N = 64 };
  double x[N];
  uint64_t seed = 17;
  __int128 exact = 0;
  fp8lab_exact_sum s;
  fp8lab_exact_sum_init(&s);
  s.pending = (1u << 30) - N / 2;
  for (int i = 0; i < N; i++) {
    uint64_t m = splitmix(&seed) >> 11;
    bool neg = i % 2;
    x[i] = (double)m * (neg ? -1 : 1);
    exact += neg ? -(__int128)m : (__int128)m;
    fp8lab_exact_sum_add(&s, x[i]);
  }
  assert_true(s.pending < N);
  assert_true(same(fp8lab_exact_sum_f64_rne(&s), (double)exact));
}

/* Dot products of random doubles over the full exponent range: the sum of
 * a_i b_i and of -a_i b_i is exactly zero, and a term added in between
 * comes out unchanged. */
static void test_dot_cancellation(void **state) {
  (void)state;
  enum { N = 500 };
  static double a[2 * N], b[2 * N];
  uint64_t seed = 3;
  for (int i = 0; i < N; i++) {
    uint64_t ba = splitmix(&seed), bb = splitmix(&seed);
    memcpy(&a[i], &ba, 8);
    memcpy(&b[i], &bb, 8);
    if (!isfinite(a[i])) a[i] = 1.0;
    if (!isfinite(b[i])) b[i] = -3.0;
    a[N + i] = -a[i];
    b[N + i] = b[i];
  }
  assert_true(same(fp8lab_exact_dot_f64(a, 1, b, 1, 2 * N), 0.0));
  fp8lab_exact_sum s;
  fp8lab_exact_sum_init(&s);
  for (int i = 0; i < 2 * N; i++) {
    fp8lab_exact_sum_add_prod(&s, a[i], b[i]);
    if (i == N) fp8lab_exact_sum_add(&s, 0x1.23456789abcdep-1000);
  }
  assert_true(same(fp8lab_exact_sum_f64_rne(&s), 0x1.23456789abcdep-1000));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_sums),
      cmocka_unit_test(test_products),
      cmocka_unit_test(test_specials),
      cmocka_unit_test(test_encode),
      cmocka_unit_test(test_random_vs_int128),
      cmocka_unit_test(test_carry_pass),
      cmocka_unit_test(test_dot_cancellation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
