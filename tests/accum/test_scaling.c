/*
 * test_scaling.c: scaling recipes (fp8lab/scaling.h) against scales worked
 * out by hand.
 *
 * Element formats: e4m3fn max 448 = 1.75 2^8 (emax 8), e5m2 max 57344 =
 * 1.75 2^15 (emax 15), e2m1 max 6 = 1.5 2^2 (emax 2).  AMAX_F32 quotients
 * are checked against the host's binary32 division (IEEE: correctly
 * rounded), the others are powers of two by hand.
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

#include "fp8lab/scaling.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static const fp8lab_format *e4m3(void) { return fp8lab_e4m3fn; }

static void expect_scale(fp8lab_scale s, float mul, float dequant, int e8m0) {
  if (!(s.mul == mul && s.dequant == dequant && s.e8m0 == e8m0))
    fail_msg("scale (%a, %a, %d), want (%a, %a, %d)", s.mul, s.dequant, s.e8m0,
             mul, dequant, e8m0);
}

static void test_amax_f32(void **state) {
  (void)state;
  const fp8lab_scale_rule R = FP8LAB_SCALE_AMAX_F32;
  expect_scale(fp8lab_scale_from_amax(R, e4m3(), 448, 0), 1, 1, 127);
  expect_scale(fp8lab_scale_from_amax(R, e4m3(), 3.5, 0), 128, 0x1p-7f, 120);
  float m10 = 448.0f / 10.0f; /* RN32(44.8) */
  fp8lab_scale s = fp8lab_scale_from_amax(R, e4m3(), 10, 0);
  expect_scale(s, m10, 1.0f / m10, 0xFF);
  float m10m2 = 112.0f / 10.0f; /* margin 2: fmax / 4 */
  s = fp8lab_scale_from_amax(R, e4m3(), 10, 2);
  expect_scale(s, m10m2, 1.0f / m10m2, 0xFF);
  /* e5m2, amax 3: RN32(57344 / 3) */
  s = fp8lab_scale_from_amax(R, fp8lab_e5m2, 3, 0);
  expect_scale(s, 57344.0f / 3.0f, 1.0f / (57344.0f / 3.0f), 0xFF);
  /* amax 0, Inf, NaN: 1 (TE) */
  expect_scale(fp8lab_scale_from_amax(R, e4m3(), 0, 0), 1, 1, 127);
  expect_scale(fp8lab_scale_from_amax(R, e4m3(), INFINITY, 0), 1, 1, 127);
  expect_scale(fp8lab_scale_from_amax(R, e4m3(), NAN, 0), 1, 1, 127);
  /* 448 / 2^-140 overflows binary32: FLT_MAX */
  assert_true(fp8lab_scale_from_amax(R, e4m3(), 0x1p-140, 0).mul == FLT_MAX);
}

/* Power of two: mul rounded down, dequant = 1/mul exactly. */
static void test_amax_pow2(void **state) {
  (void)state;
  const fp8lab_scale_rule R = FP8LAB_SCALE_AMAX_POW2;
  expect_scale(fp8lab_scale_from_amax(R, e4m3(), 10, 0), 32, 0x1p-5f, 122);  /* 44.8 -> 32 */
  expect_scale(fp8lab_scale_from_amax(R, e4m3(), 3.5, 0), 128, 0x1p-7f, 120); /* exact */
  expect_scale(fp8lab_scale_from_amax(R, e4m3(), 672, 0), 0.5f, 2, 128);    /* 2/3 -> 1/2 */
  expect_scale(fp8lab_scale_from_amax(R, e4m3(), 10, 1), 16, 0x1p-4f, 123); /* 22.4 -> 16 */
  expect_scale(fp8lab_scale_from_amax(R, fp8lab_e5m2, 1, 0), 32768, 0x1p-15f, 112);
  /* rounding down keeps amax * mul <= fmax */
  uint64_t seed = 1;
  for (int k = 0; k < 1000; k++) {
    double amax = ldexp(1.0 + (double)(splitmix(&seed) >> 11) * 0x1p-53,
                        (int)(splitmix(&seed) % 60) - 30);
    fp8lab_scale s = fp8lab_scale_from_amax(R, e4m3(), amax, 0);
    assert_true(amax * s.mul <= 448.0 && amax * s.mul > 224.0);
    assert_true((double)s.mul * s.dequant == 1.0);
  }
}

/* OCP MX v1.0 6.3: X = 2^(floor(log2 amax) - emax), clamped to E8M0. */
static void test_mx_e8m0(void **state) {
  (void)state;
  const fp8lab_scale_rule R = FP8LAB_SCALE_MX_E8M0;
  const fp8lab_format *e2m1 = fp8lab_format_named("e2m1");
  struct {
    const fp8lab_format *f;
    double amax;
    int shared; /* by hand */
  } cases[] = {
      {fp8lab_e4m3fn, 7, 2 - 8},      /* floor(log2 7) = 2 */
      {fp8lab_e4m3fn, 448, 8 - 8},
      {fp8lab_e4m3fn, 1000, 9 - 8},   /* 1000 / 2 = 500 > 448: saturates */
      {fp8lab_e4m3fn, 1, 0 - 8},
      {fp8lab_e5m2, 1, 0 - 15},
      {fp8lab_e5m2, 57344, 15 - 15},
      {e2m1, 6, 2 - 2},
      {e2m1, 0.75, -1 - 2},
      {fp8lab_e4m3fn, 0x1p200, 127},  /* clamped */
      {fp8lab_e4m3fn, 0x1p-140, -127}, /* clamped */
      {fp8lab_e4m3fn, 0, -127},        /* zero block: the smallest scale */
  };
  for (size_t i = 0; i < NELEM(cases); i++) {
    fp8lab_scale s = fp8lab_scale_from_amax(R, cases[i].f, cases[i].amax, 0);
    expect_scale(s, (float)ldexp(1, -cases[i].shared), (float)ldexp(1, cases[i].shared),
                 127 + cases[i].shared);
  }
  fp8lab_scale s = fp8lab_scale_from_amax(R, e4m3(), NAN, 0);
  assert_true(isnan(s.mul) && isnan(s.dequant) && s.e8m0 == 0xFF);
  s = fp8lab_scale_from_amax(R, e4m3(), INFINITY, 0);
  assert_true(s.e8m0 == 0xFF);
}

/* Block grids and per-block amax. */
static void test_granularity(void **state) {
  (void)state;
  struct {
    fp8lab_scaling_recipe r;
    size_t rows, cols, gr, gc;
  } cases[] = {
      {FP8LAB_RECIPE_PER_TENSOR, 3, 130, 1, 1},
      {FP8LAB_RECIPE_PER_ROW, 3, 130, 3, 1},
      {FP8LAB_RECIPE_PER_COL, 3, 130, 1, 130},
      {FP8LAB_RECIPE_TILE_1X128, 3, 130, 3, 2},
      {FP8LAB_RECIPE_BLOCK_128X128, 130, 130, 2, 2},
      {FP8LAB_RECIPE_BLOCK_128X128, 3, 5, 1, 1},
      {FP8LAB_RECIPE_MX32, 2, 64, 2, 2},
      {FP8LAB_RECIPE_MX32, 1, 33, 1, 2},
  };
  for (size_t i = 0; i < NELEM(cases); i++) {
    fp8lab_scaling s = fp8lab_scaling_recipe_get(cases[i].r, false);
    size_t gr, gc;
    size_t n = fp8lab_scaling_grid(&s, cases[i].rows, cases[i].cols, &gr, &gc);
    if (gr != cases[i].gr || gc != cases[i].gc || n != gr * gc)
      fail_msg("case %zu: grid %zu x %zu", i, gr, gc);
  }
  /* 3 x 130 with 1 x 128 tiles: background 0.5, block (r, 0) has amax
   * 2^(r+1) at column 5, block (r, 1) has amax 3 (r + 1) at column 129 */
  enum { R = 3, C = 130, LD = 131 };
  static float x[R * LD];
  for (size_t i = 0; i < R * LD; i++) x[i] = 0.5f;
  for (int r = 0; r < R; r++) {
    x[r * LD + 5] = -(float)ldexp(1, r + 1);
    x[r * LD + 129] = 3.0f * (float)(r + 1);
  }
  fp8lab_scaling s = fp8lab_scaling_recipe_get(FP8LAB_RECIPE_TILE_1X128, false);
  fp8lab_scale sc[6];
  assert_int_equal(fp8lab_scales_f32(&s, e4m3(), x, R, C, LD, sc), 0);
  for (int r = 0; r < R; r++) {
    assert_true(sc[2 * r].amax == ldexp(1, r + 1));
    assert_true(sc[2 * r + 1].amax == 3.0 * (r + 1));
    assert_true(sc[2 * r].mul == (float)(448.0f / (float)ldexp(1, r + 1)));
    assert_true(sc[2 * r + 1].mul == 448.0f / (3.0f * (float)(r + 1)));
  }
  /* per-tensor: amax 9 */
  fp8lab_scaling t = fp8lab_scaling_recipe_get(FP8LAB_RECIPE_PER_TENSOR, true);
  assert_int_equal(fp8lab_scales_f32(&t, e4m3(), x, R, C, LD, sc), 0);
  assert_true(sc[0].amax == 9.0 && sc[0].mul == 32.0f); /* 448/9 = 49.8 -> 32 */
  /* invalid arguments */
  assert_int_equal(fp8lab_scales_f32(&t, e4m3(), x, R, C, C - 1, sc), -1);
  assert_int_equal(fp8lab_scales_f32(&t, fp8lab_format_named("e8m0"), x, R, C, LD, sc), -1);
}

/* Quantise with a given scale: saturation, flush to zero, specials. */
static void test_overflow_underflow(void **state) {
  (void)state;
  const float x[] = {500, -1000, 0x1p-10f, 0x1p-11f, 0, NAN, INFINITY, 1, 448, 464};
  /* e4m3fn codes by hand: max 448 = 0x7E, NaN 0x7F, 1 = 0x38; 2^-10 is the
   * midpoint of 0 and the min subnormal 2^-9: RNE -> 0 (even); 464 is the
   * midpoint of 448 (fraction 110) and 480 (111, the NaN code): even, 448 */
  const uint8_t want[] = {0x7E, 0xFE, 0x00, 0x00, 0x00, 0x7F, 0x7E, 0x38, 0x7E, 0x7E};
  const size_t n = NELEM(x);
  fp8lab_scaling s = fp8lab_scaling_recipe_get(FP8LAB_RECIPE_PER_TENSOR, false);
  fp8lab_scale one = {.mul = 1, .dequant = 1, .amax = 0, .e8m0 = 127};
  uint8_t codes[NELEM(x)];
  fp8lab_quant_stats st;
  assert_int_equal(fp8lab_quantize_f32(&s, e4m3(), x, 1, n, n, &one, NULL, 0, codes, &st), 0);
  for (size_t i = 0; i < n; i++)
    if (codes[i] != want[i]) fail_msg("element %zu: 0x%02X want 0x%02X", i, codes[i], want[i]);
  assert_int_equal(st.overflow, 3);  /* 500, -1000, 464 */
  assert_int_equal(st.underflow, 2); /* 2^-10, 2^-11 */
  assert_int_equal(st.nonfinite, 2);
  /* without saturation 500 and -1000 overflow to NaN (e4m3fn has no Inf) */
  fp8lab_cvt nosat = {.round = FP8LAB_RNE};
  assert_int_equal(fp8lab_quantize_f32(&s, e4m3(), x, 1, 2, 2, &one, &nosat, 0, codes, &st), 0);
  assert_int_equal(codes[0], 0x7F);
  assert_int_equal(codes[1], 0x7F);
  /* MX: a block with amax 1000 gets X = 2, and 1000 / 2 = 500 saturates */
  float blk[32];
  for (int i = 0; i < 32; i++) blk[i] = (float)i / 4;
  blk[7] = 1000;
  fp8lab_scaling mx = fp8lab_scaling_recipe_get(FP8LAB_RECIPE_MX32, false);
  fp8lab_scale sc;
  assert_int_equal(fp8lab_scales_f32(&mx, e4m3(), blk, 1, 32, 32, &sc), 0);
  assert_int_equal(sc.e8m0, 128);
  uint8_t q[32];
  assert_int_equal(fp8lab_quantize_f32(&mx, e4m3(), blk, 1, 32, 32, &sc, NULL, 0, q, &st), 0);
  assert_int_equal(st.overflow, 1);
  assert_int_equal(st.underflow, 0);
  float back[32];
  assert_int_equal(fp8lab_dequantize_f32(&mx, e4m3(), q, 1, 32, &sc, back, 32), 0);
  assert_true(back[7] == 896.0f); /* 448 * 2 */
  assert_true(back[1] == 0.25f);  /* 0.125 in e4m3fn times 2: exact */
  /* a NaN in an MX block makes its scale NaN */
  blk[3] = NAN;
  assert_int_equal(fp8lab_scales_f32(&mx, e4m3(), blk, 1, 32, 32, &sc), 0);
  assert_int_equal(sc.e8m0, 0xFF);
}

/* Values that are FP8 values times the scale come back exactly. */
static void test_roundtrip(void **state) {
  (void)state;
  enum { R = 4, C = 64 };
  static double x[R * C], back[R * C];
  uint64_t seed = 3;
  for (int r = 0; r < R; r++)
    for (int c = 0; c < C; c++) {
      uint32_t code = (uint32_t)(splitmix(&seed) & 0x7F);
      if (code == 0x7F) code = 0x7E;
      if (c % 32 == 0) code = 0x7E; /* every 32-block reaches 448 */
      x[r * C + c] = fp8lab_decode_f64(e4m3(), code | (uint32_t)(c & 1) << 7) *
                     ldexp(1, 3 * r - 5);
    }
  fp8lab_scaling recipes[] = {
      fp8lab_scaling_recipe_get(FP8LAB_RECIPE_PER_ROW, true),
      fp8lab_scaling_recipe_get(FP8LAB_RECIPE_PER_ROW, false),
      fp8lab_scaling_recipe_get(FP8LAB_RECIPE_MX32, false),
  };
  for (size_t k = 0; k < NELEM(recipes); k++) {
    fp8lab_scale sc[R * 2];
    uint8_t q[R * C];
    fp8lab_quant_stats st;
    assert_int_equal(fp8lab_scales_f64(&recipes[k], e4m3(), x, R, C, C, sc), 0);
    assert_int_equal(fp8lab_quantize_f64(&recipes[k], e4m3(), x, R, C, C, sc, NULL, 0, q, &st), 0);
    assert_int_equal(st.overflow + st.underflow + st.nonfinite, 0);
    assert_int_equal(fp8lab_dequantize_f64(&recipes[k], e4m3(), q, R, C, sc, back, C), 0);
    for (int i = 0; i < R * C; i++)
      if (back[i] != x[i]) fail_msg("recipe %zu element %d: %a vs %a", k, i, back[i], x[i]);
  }
}

/* x * mul is rounded once even when it is not a double: x = RN64(1/3),
 * mul = 3: x * 3 = 1 - 2^-54, RN64 of which is the tie 1.0.  Into the f32
 * element format with RDN the exact product gives 1 - 2^-24 (0x3F7FFFFF),
 * rounding RN64(x * 3) first would give 1.0. */
static void test_product_rounded_once(void **state) {
  (void)state;
  double x = 1.0 / 3.0;
  assert_true(x * 3.0 == 1.0 && fma(x, 3.0, -1.0) == -0x1p-54);
  fp8lab_scaling s = fp8lab_scaling_recipe_get(FP8LAB_RECIPE_PER_TENSOR, false);
  fp8lab_scale three = {.mul = 3, .dequant = 1, .amax = 0, .e8m0 = 0xFF};
  fp8lab_cvt rdn = {.round = FP8LAB_RDN};
  uint32_t code;
  assert_int_equal(fp8lab_quantize_f64(&s, fp8lab_f32, &x, 1, 1, 1, &three, &rdn, 0, &code, NULL), 0);
  assert_int_equal(code, 0x3F7FFFFF);
}

/* SR codes depend on the element index only: two halves = the whole. */
static void test_sr_pieces(void **state) {
  (void)state;
  enum { R = 6, C = 50 };
  static double x[R * C];
  uint64_t seed = 8;
  for (int i = 0; i < R * C; i++) x[i] = ldexp((double)(splitmix(&seed) >> 11), -53) - 0.5;
  fp8lab_scaling s = fp8lab_scaling_recipe_get(FP8LAB_RECIPE_PER_ROW, false);
  fp8lab_scale sc[R];
  assert_int_equal(fp8lab_scales_f64(&s, e4m3(), x, R, C, C, sc), 0);
  fp8lab_cvt sr = {.round = FP8LAB_SR, .saturate = true, .seed = 77};
  uint8_t whole[R * C], part[R * C];
  assert_int_equal(fp8lab_quantize_f64(&s, e4m3(), x, R, C, C, sc, &sr, 1000, whole, NULL), 0);
  assert_int_equal(fp8lab_quantize_f64(&s, e4m3(), x, 2, C, C, sc, &sr, 1000, part, NULL), 0);
  assert_int_equal(fp8lab_quantize_f64(&s, e4m3(), x + 2 * C, R - 2, C, C, sc + 2, &sr,
                                       1000 + 2 * C, part + 2 * C, NULL), 0);
  assert_memory_equal(whole, part, sizeof whole);
  uint8_t rne[R * C];
  assert_int_equal(fp8lab_quantize_f64(&s, e4m3(), x, R, C, C, sc, NULL, 0, rne, NULL), 0);
  assert_memory_not_equal(whole, rne, sizeof whole);
}

/* TE delayed scaling, history length 3, by hand (see scaling.h):
 *   step  record  history after update   max-amax  most_recent-amax
 *   1     10      [0, 0, 10]             10        10
 *   2     2       [0, 10, 2]             10        2
 *   3     3       [0, 2, 3]              10        3
 *   4     1       [0, 3, 1]              3         1
 *   5     -       [0, 1, 0]              3         0 -> keeps 448 */
static void test_delayed(void **state) {
  (void)state;
  float h1[3], h2[3], h3[3];
  fp8lab_delayed_scaling mx, mr, mxp;
  assert_int_equal(fp8lab_delayed_init(&mx, e4m3(), h1, 3, FP8LAB_AMAX_MAX, 0, false), 0);
  assert_int_equal(fp8lab_delayed_init(&mr, e4m3(), h2, 3, FP8LAB_AMAX_MOST_RECENT, 0, false), 0);
  assert_int_equal(fp8lab_delayed_init(&mxp, e4m3(), h3, 3, FP8LAB_AMAX_MAX, 1, true), 0);
  assert_true(mx.scale.mul == 1 && mx.scale.dequant == 1);
  const double rec[5] = {10, 2, 3, 1, 0};
  const float want_hist[5][3] = {{0, 0, 10}, {0, 10, 2}, {0, 2, 3}, {0, 3, 1}, {0, 1, 0}};
  const float mul_max[5] = {448.0f / 10, 448.0f / 10, 448.0f / 10, 448.0f / 3, 448.0f / 3};
  const float mul_mr[5] = {448.0f / 10, 448.0f / 2, 448.0f / 3, 448.0f / 1, 448.0f / 1};
  /* margin 1, pow2: 224 / amax rounded down: 22.4 -> 16, 74.67 -> 64 */
  const float mul_pow2[5] = {16, 16, 16, 64, 64};
  for (int t = 0; t < 5; t++) {
    if (rec[t] > 0) {
      fp8lab_delayed_record(&mx, rec[t]);
      fp8lab_delayed_record(&mr, rec[t]);
      fp8lab_delayed_record(&mxp, rec[t]);
    }
    fp8lab_delayed_update(&mx);
    fp8lab_delayed_update(&mr);
    fp8lab_delayed_update(&mxp);
    for (int i = 0; i < 3; i++) assert_true(h1[i] == want_hist[t][i]);
    assert_memory_equal(h1, h2, sizeof h1);
    if (mx.scale.mul != mul_max[t] || mr.scale.mul != mul_mr[t] || mxp.scale.mul != mul_pow2[t])
      fail_msg("step %d: %a %a %a", t + 1, mx.scale.mul, mr.scale.mul, mxp.scale.mul);
    assert_true(mx.scale.dequant == 1.0f / mul_max[t]);
    assert_true(mxp.scale.dequant * mxp.scale.mul == 1.0f);
  }
  /* history length 1: the update always sees just this step */
  float h4[1];
  fp8lab_delayed_scaling one;
  assert_int_equal(fp8lab_delayed_init(&one, e4m3(), h4, 1, FP8LAB_AMAX_MAX, 0, false), 0);
  fp8lab_delayed_record(&one, 7);
  fp8lab_delayed_update(&one);
  assert_true(one.scale.mul == 64.0f && h4[0] == 0);
  assert_int_equal(fp8lab_delayed_init(&one, e4m3(), h4, 0, FP8LAB_AMAX_MAX, 0, false), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_amax_f32),
      cmocka_unit_test(test_amax_pow2),
      cmocka_unit_test(test_mx_e8m0),
      cmocka_unit_test(test_granularity),
      cmocka_unit_test(test_overflow_underflow),
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_product_rounded_once),
      cmocka_unit_test(test_sr_pieces),
      cmocka_unit_test(test_delayed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
