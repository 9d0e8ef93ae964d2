/* Suite 'unit': the accumulation-model GEMM, the OCP MX block-scaled GEMM
 * and the OpenBLAS references (lib/gemm_accum.c, fp8lab/gemm.h).
 *   - fp8lab_gemm_accum against fp8lab_dot_ex per element (every kind, SR
 *     included, both layouts, odd sizes), C against the dot product with C
 *     as a leading term;
 *   - exact-sum inputs (small integers, powers of two): every kind equals
 *     the integer sum known by construction;
 *   - SR results identical for 1, 3 and 0 (= all) threads;
 *   - MX on crafted blocks with hand-computed answers, NaN scales, scale
 *     extremes, and random blocks against fp8lab_sum_ex of the block terms;
 *   - the BLAS references: equal to the exact sum on exact-sum inputs under
 *     every scale mode, within the dgemm / sgemm error bound on random
 *     inputs (equal for E4M3, whose partial sums are exact in double).
 * Case i is seeded by i, so a failing case reruns by number. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fp8lab/gemm.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t next(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static double gauss(uint64_t *s) {
  double u = (double)(next(s) >> 11) * 0x1p-53 + 0x1p-60;
  double v = (double)(next(s) >> 11) * 0x1p-53;
  return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static uint64_t bits64(double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}
/* Same double: equal bits, or both NaN. */
static bool same(double x, double y) { return (isnan(x) && isnan(y)) || bits64(x) == bits64(y); }

/* Finite random codes of f (Gaussian values at mixed magnitudes). */
static uint8_t random_code(const fp8lab_format *f, uint64_t *s) {
  double x = gauss(s) * ldexp(1.0, (int)(next(s) % 9) - 4);
  return (uint8_t)fp8lab_encode_f64_rne_sat(f, x);
}

/* Operands: A (m x k) row-major, B (k x n) either row-major (b_rs = n) or
 * "TN" (B stored n x k: b_rs = 1, b_cs = k). */
typedef struct operands {
  uint8_t *a, *b;
  fp8lab_gemm_accum_args g;
} operands;

static operands make_operands(size_t m, size_t n, size_t k, const fp8lab_format *fa,
                              const fp8lab_format *fb, bool tn) {
  operands o;
  o.a = malloc(m * k + 1), o.b = malloc(k * n + 1);
  assert_non_null(o.a), assert_non_null(o.b);
  o.g = (fp8lab_gemm_accum_args){.m = m, .n = n, .k = k, .fa = fa, .fb = fb,
                                 .a = o.a, .a_rs = (ptrdiff_t)k, .a_cs = 1, .b = o.b,
                                 .b_rs = tn ? 1 : (ptrdiff_t)n,
                                 .b_cs = tn ? (ptrdiff_t)k : 1, .threads = 1};
  return o;
}
static uint8_t *a_at(operands *o, size_t i, size_t k) {
  return &o->a[i * (size_t)o->g.a_rs + k * (size_t)o->g.a_cs];
}
static uint8_t *b_at(operands *o, size_t k, size_t j) {
  return &o->b[k * (size_t)o->g.b_rs + j * (size_t)o->g.b_cs];
}

/* The models under test. */
static fp8lab_accum accum_case(size_t c) {
  const fp8lab_cvt sr = {.round = FP8LAB_SR, .sr_bits = 12, .seed = 7, .stream = 3};
  const fp8lab_cvt rtz = {.round = FP8LAB_RTZ};
  fp8lab_accum cases[] = {
      {.kind = FP8LAB_ACCUM_EXACT, .fmt = fp8lab_f32},
      {.kind = FP8LAB_ACCUM_EXACT, .fmt = fp8lab_bf16, .cvt = sr},
      {.kind = FP8LAB_ACCUM_SEQ},
      {.kind = FP8LAB_ACCUM_SEQ, .fmt = fp8lab_bf16, .cvt = rtz},
      {.kind = FP8LAB_ACCUM_SEQ, .fmt = fp8lab_f16, .cvt = sr},
      {.kind = FP8LAB_ACCUM_PAIRWISE, .fmt = fp8lab_f16, .cvt = sr, .chunk = 4},
      {.kind = FP8LAB_ACCUM_PAIRWISE},
      {.kind = FP8LAB_ACCUM_CHUNKED, .fmt = fp8lab_f16, .cvt = sr, .chunk = 8},
      {.kind = FP8LAB_ACCUM_CHUNKED, .fmt = fp8lab_bf16, .chunk = 5,
       .inter_fmt = fp8lab_f32},
      {.kind = FP8LAB_ACCUM_KAHAN_F32},
      {.kind = FP8LAB_ACCUM_KAHAN_F64},
      {.kind = FP8LAB_ACCUM_F64},
  };
  return cases[c];
}
enum { NACCUM = 12 };

static void decode_col(operands *o, size_t j, double *y) {
  for (size_t k = 0; k < o->g.k; k++) y[k] = fp8lab_decode_f64(o->g.fb, *b_at(o, k, j));
}
static void decode_row(operands *o, size_t i, double *x) {
  for (size_t k = 0; k < o->g.k; k++) x[k] = fp8lab_decode_f64(o->g.fa, *a_at(o, i, k));
}

/* ---- against fp8lab_dot_ex ------------------------------------------------ */

static void test_matches_dot(void **state) {
  (void)state;
  static const fp8lab_format *const *fmts[][2] = {{&fp8lab_e4m3fn, &fp8lab_e4m3fn},
                                                  {&fp8lab_e5m2, &fp8lab_e4m3fn},
                                                  {&fp8lab_e5m2, &fp8lab_e5m2}};
  for (size_t cs = 0; cs < 2 * N_OF(fmts); cs++) {
    uint64_t s = cs;
    size_t m = 3 + cs % 4, n = 5 + cs % 3, k = 37 + 10 * cs;
    operands o = make_operands(m, n, k, *fmts[cs / 2][0], *fmts[cs / 2][1], cs & 1);
    for (size_t i = 0; i < m; i++)
      for (size_t kk = 0; kk < k; kk++) *a_at(&o, i, kk) = random_code(o.g.fa, &s);
    for (size_t kk = 0; kk < k; kk++)
      for (size_t j = 0; j < n; j++) *b_at(&o, kk, j) = random_code(o.g.fb, &s);
    double *d = malloc(m * n * sizeof *d), *c = malloc(m * n * sizeof *c);
    uint32_t *codes = malloc(m * n * sizeof *codes);
    double *x = malloc((k + 1) * sizeof *x), *y = malloc((k + 1) * sizeof *y);
    for (size_t e = 0; e < m * n; e++) c[e] = gauss(&s) * 16 + 0.5; /* not -0 */
    for (size_t ac = 0; ac < NACCUM; ac++) {
      fp8lab_accum a = accum_case(ac);
      for (int with_c = 0; with_c < 2; with_c++) {
        /* with C, the expectation is the dot product with C as term 0
         * (index base): the same rule for EXACT, SEQ, Kahan and F64 */
        if (with_c && (a.kind == FP8LAB_ACCUM_PAIRWISE || a.kind == FP8LAB_ACCUM_CHUNKED))
          continue;
        fp8lab_gemm_accum_args g = o.g;
        g.accum = &a, g.d = d, g.d_rs = (ptrdiff_t)n, g.codes = codes,
        g.codes_rs = (ptrdiff_t)n, g.c = with_c ? c : NULL, g.c_rs = (ptrdiff_t)n;
        char err[256];
        if (fp8lab_gemm_accum(&g, err, sizeof err) != 0) fail_msg("case %zu: %s", cs, err);
        for (size_t i = 0; i < m; i++) {
          decode_row(&o, i, x + 1);
          for (size_t j = 0; j < n; j++) {
            decode_col(&o, j, y + 1);
            uint64_t base = ((uint64_t)i * n + j) * (k + 1);
            uint32_t code;
            double want;
            if (with_c) {
              x[0] = c[i * n + j], y[0] = 1.0;
              /* EXACT rounds once, with the word of its first product */
              uint64_t i0 = a.kind == FP8LAB_ACCUM_EXACT ? base + 1 : base;
              want = fp8lab_dot_ex(&a, x, 1, y, 1, k + 1, i0, &code);
            } else {
              want = fp8lab_dot_ex(&a, x + 1, 1, y + 1, 1, k, base + 1, &code);
            }
            if (!same(d[i * n + j], want) || codes[i * n + j] != code)
              fail_msg("case %zu accum %zu C %d (%zu, %zu): %a (0x%X), dot %a (0x%X)", cs,
                       ac, with_c, i, j, d[i * n + j], (unsigned)codes[i * n + j], want,
                       (unsigned)code);
          }
        }
      }
    }
    free(d), free(c), free(codes), free(x), free(y), free(o.a), free(o.b);
  }
}

/* ---- exact-sum inputs ------------------------------------------------------ */

/* Integer values in [-4, 4] (or +-1, 2, 4 when pow2): every partial sum of
 * K = 64 products (and C in [-32, 32)) is an integer below 2^11, exact in
 * f16 and f32; bf16 (8 bits) is skipped. */
static void test_exact_sum_inputs(void **state) {
  (void)state;
  for (size_t cs = 0; cs < 4; cs++) {
    uint64_t s = 100 + cs;
    const bool pow2 = cs & 1;
    size_t m = 4, n = 6, k = 64;
    operands o = make_operands(m, n, k, fp8lab_e4m3fn, cs & 2 ? fp8lab_e5m2 : fp8lab_e4m3fn,
                               cs & 2);
    double *va = malloc(m * k * sizeof *va), *vb = malloc(k * n * sizeof *vb);
    for (size_t e = 0; e < m * k; e++) {
      int r = (int)(next(&s) % 9) - 4;
      va[e] = pow2 ? (r < 0 ? -1 : 1) * ldexp(1.0, (int)(next(&s) % 3)) : r;
    }
    for (size_t e = 0; e < k * n; e++) {
      int r = (int)(next(&s) % 9) - 4;
      vb[e] = pow2 ? (r < 0 ? -1 : 1) * ldexp(1.0, (int)(next(&s) % 3)) : r;
    }
    for (size_t i = 0; i < m; i++)
      for (size_t kk = 0; kk < k; kk++)
        *a_at(&o, i, kk) = (uint8_t)fp8lab_encode_f64_rne(o.g.fa, va[i * k + kk]);
    for (size_t kk = 0; kk < k; kk++)
      for (size_t j = 0; j < n; j++)
        *b_at(&o, kk, j) = (uint8_t)fp8lab_encode_f64_rne(o.g.fb, vb[kk * n + j]);
    double want[4 * 6], cval[4 * 6], d[4 * 6], blas[4 * 6];
    float blas32[4 * 6];
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) {
        double t = 0; /* exact: multiples of 2^-4 below 2^11 */
        for (size_t kk = 0; kk < k; kk++) t += va[i * k + kk] * vb[kk * n + j];
        want[i * n + j] = t;
        cval[i * n + j] = (double)((int)(next(&s) % 64) - 32);
      }
    for (size_t ac = 0; ac < NACCUM; ac++) {
      fp8lab_accum a = accum_case(ac);
      if (a.fmt == fp8lab_bf16) continue; /* 8 bits: not exact here */
      for (int with_c = 0; with_c < 2; with_c++) {
        fp8lab_gemm_accum_args g = o.g;
        g.accum = &a, g.d = d, g.d_rs = (ptrdiff_t)n;
        g.c = with_c ? cval : NULL, g.c_rs = (ptrdiff_t)n;
        g.threads = 2;
        char err[256];
        assert_int_equal(fp8lab_gemm_accum(&g, err, sizeof err), 0);
        for (size_t e = 0; e < m * n; e++) {
          double w = want[e] + (with_c ? cval[e] : 0);
          if (d[e] != w) fail_msg("case %zu accum %zu C %d element %zu: %a, exact %a", cs, ac,
                                  with_c, e, d[e], w);
        }
      }
    }
    /* the BLAS references: the exact sum too */
    fp8lab_gemm_accum_args g = o.g;
    g.d = blas, g.d_rs = (ptrdiff_t)n, g.c = cval, g.c_rs = (ptrdiff_t)n;
    char err[256];
    assert_int_equal(fp8lab_gemm_reference_f64(&g, NULL, err, sizeof err), 0);
    assert_int_equal(fp8lab_gemm_reference_f32(&g, NULL, blas32, (ptrdiff_t)n, err, sizeof err),
                     0);
    for (size_t e = 0; e < m * n; e++) {
      assert_true(blas[e] == want[e] + cval[e]);
      assert_true((double)blas32[e] == want[e] + cval[e]);
    }
    free(va), free(vb), free(o.a), free(o.b);
  }
}

/* ---- threads ------------------------------------------------------------- */

static void test_sr_thread_independence(void **state) {
  (void)state;
  uint64_t s = 300;
  size_t m = 13, n = 9, k = 70;
  operands o = make_operands(m, n, k, fp8lab_e4m3fn, fp8lab_e5m2, true);
  for (size_t e = 0; e < m * k; e++) o.a[e] = random_code(fp8lab_e4m3fn, &s);
  for (size_t e = 0; e < k * n; e++) o.b[e] = random_code(fp8lab_e5m2, &s);
  uint8_t sa[13 * 3], sb[9 * 3];
  for (size_t e = 0; e < N_OF(sa); e++) sa[e] = (uint8_t)(120 + next(&s) % 15);
  for (size_t e = 0; e < N_OF(sb); e++) sb[e] = (uint8_t)(120 + next(&s) % 15);
  double c[13 * 9];
  for (size_t e = 0; e < N_OF(c); e++) c[e] = gauss(&s);
  static const int threads[] = {1, 3, 0};
  for (size_t ac = 0; ac < NACCUM; ac++) {
    fp8lab_accum a = accum_case(ac);
    for (int mx = 0; mx < 2; mx++) {
      double first[13 * 9], d[13 * 9];
      uint32_t firstc[13 * 9], codes[13 * 9];
      for (size_t t = 0; t < N_OF(threads); t++) {
        fp8lab_gemm_accum_args g = o.g;
        g.accum = &a, g.d = d, g.d_rs = (ptrdiff_t)n, g.codes = codes,
        g.codes_rs = (ptrdiff_t)n, g.c = c, g.c_rs = (ptrdiff_t)n, g.threads = threads[t];
        if (mx) g.mx = (fp8lab_mx_scales){sa, 3, 1, sb, 1, 3};
        char err[256];
        assert_int_equal(mx ? fp8lab_gemm_mx(&g, err, sizeof err)
                            : fp8lab_gemm_accum(&g, err, sizeof err),
                         0);
        if (t == 0) {
          memcpy(first, d, sizeof d), memcpy(firstc, codes, sizeof codes);
        } else {
          assert_memory_equal(first, d, sizeof d);
          assert_memory_equal(firstc, codes, sizeof codes);
        }
      }
    }
  }
  /* SR is live: another seed changes some output */
  fp8lab_accum a = accum_case(4), b = a;
  b.cvt.seed = 8;
  double d1[13 * 9], d2[13 * 9];
  fp8lab_gemm_accum_args g = o.g;
  g.d_rs = (ptrdiff_t)n, g.threads = 3;
  char err[256];
  g.accum = &a, g.d = d1;
  assert_int_equal(fp8lab_gemm_accum(&g, err, sizeof err), 0);
  g.accum = &b, g.d = d2;
  assert_int_equal(fp8lab_gemm_accum(&g, err, sizeof err), 0);
  assert_true(memcmp(d1, d2, sizeof d1) != 0);
  free(o.a), free(o.b);
}

/* ---- MX ---------------------------------------------------------------------- */

/* One output (m = n = 1) of K elements, A values va[k], B values vb[k]
 * (codes of f, exact), scales sa[g], sb[g]. */
static double mx_one_f(const fp8lab_format *f, const double *va, const double *vb, size_t k, const uint8_t *sa,
                     const uint8_t *sb, const fp8lab_accum *a, uint32_t *code) {
  uint8_t ca[256], cb[256];
  for (size_t e = 0; e < k; e++) {
    ca[e] = (uint8_t)fp8lab_encode_f64_rne(f, va[e]);
    cb[e] = (uint8_t)fp8lab_encode_f64_rne(f, vb[e]);
    assert_true(fp8lab_decode_f64(f, ca[e]) == va[e]);
    assert_true(fp8lab_decode_f64(f, cb[e]) == vb[e]);
  }
  double d = -1;
  uint32_t cd = 0;
  fp8lab_gemm_accum_args g = {.m = 1, .n = 1, .k = k, .fa = f,
                              .fb = f, .a = ca, .a_cs = 1, .b = cb,
                              .b_rs = 1, .accum = a, .mx = {sa, 0, 1, sb, 1, 0},
                              .d = &d, .codes = &cd, .threads = 1};
  char err[256];
  if (fp8lab_gemm_mx(&g, err, sizeof err) != 0) fail_msg("%s", err);
  if (code) *code = cd;
  return d;
}
static double mx_one(const double *va, const double *vb, size_t k, const uint8_t *sa,
                     const uint8_t *sb, const fp8lab_accum *a, uint32_t *code) {
  return mx_one_f(fp8lab_e4m3fn, va, vb, k, sa, sb, a, code);
}

static void test_mx_crafted(void **state) {
  (void)state;
  double va[96], vb[96];
  const fp8lab_accum exact = {.kind = FP8LAB_ACCUM_EXACT};
  uint32_t code;
  /* two full blocks: A 1.0 | 2.0, B 1.0 | 0.5; scales A 127 (1), 130 (8),
   * B 128 (2), 125 (1/4): 32*1*1*(1*2) + 32*(2*0.5)*(8/4) = 64 + 64 */
  for (size_t e = 0; e < 64; e++) va[e] = e < 32 ? 1.0 : 2.0, vb[e] = e < 32 ? 1.0 : 0.5;
  {
    uint8_t sa[] = {127, 130}, sb[] = {128, 125};
    assert_true(mx_one(va, vb, 64, sa, sb, NULL, &code) == 128.0);
    assert_int_equal(code, 0x43000000); /* f32 128 */
    assert_true(mx_one(va, vb, 64, sa, sb, &exact, NULL) == 128.0);
    /* a partial last block: K = 40, block 1 has 8 elements: 64 + 16 */
    assert_true(mx_one(va, vb, 40, sa, sb, NULL, NULL) == 80.0);
    /* NaN scales: A's or B's 0xFF in any block makes the output NaN */
    uint8_t nan_a[] = {127, 0xFF}, nan_b[] = {0xFF, 125};
    assert_true(isnan(mx_one(va, vb, 64, nan_a, sb, NULL, &code)));
    assert_true(fp8lab_format_is_nan(fp8lab_f32, code));
    assert_true(isnan(mx_one(va, vb, 64, sa, nan_b, &exact, NULL)));
    /* even where the block's elements are all zero */
    double z[64] = {0};
    assert_true(isnan(mx_one(z, z, 64, nan_a, sb, NULL, NULL)));
  }
  /* scale extremes: 2^-127 2^-127 = 2^-254 (f32: underflows to 0; exact:
   * 32 2^-254), 2^127 2^127 with 448^2 products (f32: Inf) */
  {
    uint8_t lo[] = {0}, hi[] = {254};
    assert_true(mx_one(va, vb, 32, lo, lo, &exact, NULL) == ldexp(32, -254));
    assert_true(mx_one(va, vb, 32, lo, lo, NULL, NULL) == 0.0);
    double big[32];
    for (size_t e = 0; e < 32; e++) big[e] = 448;
    assert_true(mx_one(big, big, 32, hi, hi, &exact, NULL) == ldexp(448.0 * 448 * 32, 254));
    assert_true(isinf(mx_one(big, big, 32, hi, hi, NULL, NULL)));
  }
  /* the blocks are accumulated under the model: t = 2^24, 1, 1.  f32 SEQ
   * (RNE): 2^24 + 1 is a tie to even 2^24, twice; EXACT: 2^24 + 2;
   * PAIRWISE: 2^24 + (1 + 1) exactly; f32 SEQ rounding up: 2^24 + 4 */
  for (size_t e = 0; e < 96; e++) {
    va[e] = e < 32 || e == 32 || e == 64 ? 1.0 : 0.0;
    vb[e] = e < 32 || e == 32 || e == 64 ? 1.0 : 0.0;
  }
  {
    uint8_t sa[] = {127 + 19, 127, 127}, sb[] = {127, 127, 127}; /* 32 2^19 = 2^24 */
    const fp8lab_accum pw = {.kind = FP8LAB_ACCUM_PAIRWISE};
    const fp8lab_accum rup = {.kind = FP8LAB_ACCUM_SEQ, .cvt = {.round = FP8LAB_RUP}};
    assert_true(mx_one(va, vb, 96, sa, sb, NULL, NULL) == 0x1p24);
    assert_true(mx_one(va, vb, 96, sa, sb, &exact, NULL) == 0x1p24 + 2);
    assert_true(mx_one(va, vb, 96, sa, sb, &pw, NULL) == 0x1p24 + 2);
    assert_true(mx_one(va, vb, 96, sa, sb, &rup, NULL) == 0x1p24 + 4);
  }
  /* an E5M2 block that is not a double: t = 57344^2 + 2^-32 (64 bits).
   * f32 rounding up must see the 2^-32 (one rounding of the exact t): the
   * next f32 above 57344^2, ulp 2^8; EXACT rounded to double: 57344^2 */
  {
    double a5[32] = {57344, 0x1p-16}, b5[32] = {57344, 0x1p-16};
    uint8_t one[] = {127};
    const fp8lab_accum rup = {.kind = FP8LAB_ACCUM_SEQ, .cvt = {.round = FP8LAB_RUP}};
    const fp8lab_accum exact_rup = {.kind = FP8LAB_ACCUM_EXACT, .fmt = fp8lab_f32,
                                    .cvt = {.round = FP8LAB_RUP}};
    assert_true(mx_one_f(fp8lab_e5m2, a5, b5, 32, one, one, &rup, NULL) ==
                57344.0 * 57344 + 256);
    assert_true(mx_one_f(fp8lab_e5m2, a5, b5, 32, one, one, NULL, NULL) == 57344.0 * 57344);
    assert_true(mx_one_f(fp8lab_e5m2, a5, b5, 32, one, one, &exact_rup, &code) ==
                57344.0 * 57344);
    assert_int_equal(code, fp8lab_f32_bits(57344.0f * 57344 + 256));
  }
}

/* Random MX GEMMs: each output equals fp8lab_sum_ex of its block terms
 * t_g = 2^(ea + eb - 254) sum_block A B, computed here in double (exact for
 * E4M3 blocks: every partial sum is a multiple of 2^-18 below 2^23). */
static void test_mx_random(void **state) {
  (void)state;
  for (size_t cs = 0; cs < 4; cs++) {
    uint64_t s = 500 + cs;
    size_t m = 5, n = 4, k = 32 * (cs + 1) + (cs & 1 ? 7 : 0), G = (k + 31) / 32;
    operands o = make_operands(m, n, k, fp8lab_e4m3fn, fp8lab_e4m3fn, cs & 1);
    for (size_t e = 0; e < m * k; e++) o.a[e] = random_code(fp8lab_e4m3fn, &s);
    for (size_t e = 0; e < k * n; e++) o.b[e] = random_code(fp8lab_e4m3fn, &s);
    uint8_t *sa = malloc(m * G), *sb = malloc(G * n);
    for (size_t e = 0; e < m * G; e++) sa[e] = (uint8_t)(110 + next(&s) % 35);
    for (size_t e = 0; e < G * n; e++) sb[e] = (uint8_t)(110 + next(&s) % 35);
    double *d = malloc(m * n * sizeof *d), *terms = malloc(G * sizeof *terms);
    double *absum = malloc(m * n * sizeof *absum);
    uint32_t *codes = malloc(m * n * sizeof *codes);
    double x[256], y[256];
    for (size_t ac = 0; ac < NACCUM; ac++) {
      fp8lab_accum a = accum_case(ac);
      fp8lab_gemm_accum_args g = o.g;
      g.accum = &a, g.d = d, g.d_rs = (ptrdiff_t)n, g.codes = codes,
      g.codes_rs = (ptrdiff_t)n;
      g.mx = (fp8lab_mx_scales){sa, (ptrdiff_t)G, 1, sb, (ptrdiff_t)n, 1};
      g.threads = 2;
      char err[256];
      assert_int_equal(fp8lab_gemm_mx(&g, err, sizeof err), 0);
      memset(absum, 0, m * n * sizeof *absum);
      for (size_t i = 0; i < m; i++) {
        decode_row(&o, i, x);
        for (size_t j = 0; j < n; j++) {
          decode_col(&o, j, y);
          for (size_t b = 0; b < G; b++) {
            double p = 0, pa = 0;
            for (size_t kk = 32 * b; kk < k && kk < 32 * b + 32; kk++)
              p += x[kk] * y[kk], pa += fabs(x[kk] * y[kk]);
            terms[b] = ldexp(p, (int)sa[i * G + b] + (int)sb[b * n + j] - 254);
            absum[i * n + j] += ldexp(pa, (int)sa[i * G + b] + (int)sb[b * n + j] - 254);
          }
          uint32_t code;
          double want =
              fp8lab_sum_ex(&a, terms, 1, G, ((uint64_t)i * n + j) * (G + 1) + 1, &code);
          if (!same(d[i * n + j], want) || codes[i * n + j] != code)
            fail_msg("case %zu accum %zu (%zu, %zu): %a, expected %a", cs, ac, i, j,
                     d[i * n + j], want);
        }
      }
      /* the BLAS reference with the MX scales: dgemm on the exact
       * de-scaled operands, within gamma_K sum |a b| of the exact model */
      if (a.kind == FP8LAB_ACCUM_EXACT) {
        double *r = malloc(m * n * sizeof *r);
        fp8lab_gemm_accum_args gr = g;
        gr.d = r;
        assert_int_equal(fp8lab_gemm_reference_f64(&gr, NULL, err, sizeof err), 0);
        for (size_t e = 0; e < m * n; e++)
          if (fabs(r[e] - d[e]) > 2.0 * (double)k * 0x1p-53 * absum[e])
            fail_msg("case %zu element %zu: dgemm %a, exact %a", cs, e, r[e], d[e]);
        free(r);
      }
    }
    free(sa), free(sb), free(d), free(terms), free(absum), free(codes), free(o.a), free(o.b);
  }
}

/* ---- BLAS references ------------------------------------------------------ */

/* Every scale mode on exact-sum inputs (integers times powers-of-two
 * scales): the references equal the exact sum, computed here with the
 * superaccumulator over the scaled products. */
static void test_reference_scales(void **state) {
  (void)state;
  uint64_t s = 700;
  size_t m = 3, n = 130, k = 200, GB = 2; /* two K blocks, two N blocks */
  operands o = make_operands(m, n, k, fp8lab_e4m3fn, fp8lab_e5m2, true);
  for (size_t e = 0; e < m * k; e++)
    o.a[e] = (uint8_t)fp8lab_encode_f64_rne(fp8lab_e4m3fn, (int)(next(&s) % 9) - 4);
  for (size_t e = 0; e < k * n; e++)
    o.b[e] = (uint8_t)fp8lab_encode_f64_rne(fp8lab_e5m2, (int)(next(&s) % 9) - 4);
  float row_a[3], col_b[130], tile_a[3 * 2], block_b[2 * 2];
  for (size_t e = 0; e < N_OF(row_a); e++) row_a[e] = ldexpf(1, (int)(next(&s) % 9) - 4);
  for (size_t e = 0; e < N_OF(col_b); e++) col_b[e] = ldexpf(1, (int)(next(&s) % 9) - 4);
  /* scales varying along K: 2^-2..2^2 each, so that every partial sum
   * (multiples of 2^-4 below 2^16) is exact in binary32 as well */
  for (size_t e = 0; e < N_OF(tile_a); e++) tile_a[e] = ldexpf(1, (int)(next(&s) % 5) - 2);
  for (size_t e = 0; e < N_OF(block_b); e++) block_b[e] = ldexpf(1, (int)(next(&s) % 5) - 2);
  uint8_t mxa[3 * 7], mxb[7 * 130];
  for (size_t e = 0; e < N_OF(mxa); e++) mxa[e] = (uint8_t)(125 + next(&s) % 5);
  for (size_t e = 0; e < N_OF(mxb); e++) mxb[e] = (uint8_t)(125 + next(&s) % 5);
  const fp8lab_scales modes[] = {
      {.mode = FP8LAB_SCALE_NONE},
      {.mode = FP8LAB_SCALE_TENSOR, .tensor_a = 0.25f, .tensor_b = 8.0f},
      {.mode = FP8LAB_SCALE_ROWWISE, .row_a = row_a, .col_b = col_b},
      {.mode = FP8LAB_SCALE_BLOCKWISE, .tile_a = tile_a, .block_b = block_b},
      {.mode = FP8LAB_SCALE_NONE}, /* MX */
  };
  double *d = malloc(m * n * sizeof *d);
  float *d32 = malloc(m * n * sizeof *d32);
  for (size_t md = 0; md < N_OF(modes); md++) {
    const fp8lab_scales *sc = &modes[md];
    const bool mx = md == N_OF(modes) - 1;
    fp8lab_gemm_accum_args g = o.g;
    g.d = d, g.d_rs = (ptrdiff_t)n;
    if (mx) g.mx = (fp8lab_mx_scales){mxa, 7, 1, mxb, 130, 1};
    char err[256];
    assert_int_equal(fp8lab_gemm_reference_f64(&g, sc, err, sizeof err), 0);
    assert_int_equal(fp8lab_gemm_reference_f32(&g, sc, d32, (ptrdiff_t)n, err, sizeof err), 0);
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) {
        fp8lab_exact_sum x;
        fp8lab_exact_sum_init(&x);
        for (size_t kk = 0; kk < k; kk++) {
          double fa = 1, fb = 1;
          switch (sc->mode) {
          case FP8LAB_SCALE_TENSOR: fa = sc->tensor_a, fb = sc->tensor_b; break;
          case FP8LAB_SCALE_ROWWISE: fa = sc->row_a[i], fb = sc->col_b[j]; break;
          case FP8LAB_SCALE_BLOCKWISE:
            fa = sc->tile_a[i * GB + kk / 128], fb = sc->block_b[(j / 128) * GB + kk / 128];
            break;
          default: break;
          }
          if (mx) fa = ldexp(1, mxa[i * 7 + kk / 32] - 127), fb = ldexp(1, mxb[(kk / 32) * n + j] - 127);
          fp8lab_exact_sum_add_prod(&x, fp8lab_decode_f64(o.g.fa, *a_at(&o, i, kk)) * fa,
                                    fp8lab_decode_f64(o.g.fb, *b_at(&o, kk, j)) * fb);
        }
        double want = fp8lab_exact_sum_f64_rne(&x);
        if (d[i * n + j] != want || (double)d32[i * n + j] != want)
          fail_msg("mode %zu (%zu, %zu): f64 %a, f32 %a, exact %a", md, i, j, d[i * n + j],
                   (double)d32[i * n + j], want);
      }
  }
  /* MX scales and engine scales together: refused */
  fp8lab_gemm_accum_args g = o.g;
  g.d = d, g.d_rs = (ptrdiff_t)n, g.mx = (fp8lab_mx_scales){mxa, 7, 1, mxb, 130, 1};
  char err[256];
  assert_int_equal(fp8lab_gemm_reference_f64(&g, &modes[1], err, sizeof err), -1);
  free(d), free(d32), free(o.a), free(o.b);
}

/* Random inputs: dgemm / sgemm against the exact model within the
 * standard bound |ref - exact| <= gamma_K sum |a b| (Higham, 3.1), with
 * gamma_K < 2 K u here; equal for E4M3 x E4M3 in f64, whose partial sums
 * are all exact in double. */
static void test_reference_random(void **state) {
  (void)state;
  for (size_t cs = 0; cs < 4; cs++) {
    uint64_t s = 900 + cs;
    const fp8lab_format *f = cs & 2 ? fp8lab_e5m2 : fp8lab_e4m3fn;
    size_t m = 7, n = 11, k = 301;
    operands o = make_operands(m, n, k, f, f, cs & 1);
    for (size_t e = 0; e < m * k; e++) o.a[e] = random_code(f, &s);
    for (size_t e = 0; e < k * n; e++) o.b[e] = random_code(f, &s);
    double *ex = malloc(m * n * sizeof *ex), *r = malloc(m * n * sizeof *r);
    float *r32 = malloc(m * n * sizeof *r32);
    double x[301], y[301];
    const fp8lab_accum exact = {.kind = FP8LAB_ACCUM_EXACT};
    fp8lab_gemm_accum_args g = o.g;
    g.accum = &exact, g.d = ex, g.d_rs = (ptrdiff_t)n, g.threads = 0;
    char err[256];
    assert_int_equal(fp8lab_gemm_accum(&g, err, sizeof err), 0);
    g.d = r;
    assert_int_equal(fp8lab_gemm_reference_f64(&g, NULL, err, sizeof err), 0);
    assert_int_equal(fp8lab_gemm_reference_f32(&g, NULL, r32, (ptrdiff_t)n, err, sizeof err), 0);
    for (size_t i = 0; i < m; i++) {
      decode_row(&o, i, x);
      for (size_t j = 0; j < n; j++) {
        decode_col(&o, j, y);
        double absum = 0;
        for (size_t kk = 0; kk < k; kk++) absum += fabs(x[kk] * y[kk]);
        double e = ex[i * n + j];
        if (f == fp8lab_e4m3fn) assert_true(r[i * n + j] == e);
        double b64 = 2.0 * (double)k * 0x1p-53 * absum, b32 = 2.0 * (double)k * 0x1p-24 * absum;
        if (fabs(r[i * n + j] - e) > b64 || fabs((double)r32[i * n + j] - e) > b32)
          fail_msg("case %zu (%zu, %zu): exact %a, dgemm %a, sgemm %a", cs, i, j, e,
                   r[i * n + j], (double)r32[i * n + j]);
      }
    }
    free(ex), free(r), free(r32), free(o.a), free(o.b);
  }
}

/* ---- arguments ------------------------------------------------------------ */

static void test_argument_errors(void **state) {
  (void)state;
  uint8_t a[4] = {0}, b[4] = {0}, sc[4] = {127, 127, 127, 127};
  double d[4];
  const fp8lab_accum bad = {.kind = FP8LAB_ACCUM_CHUNKED}; /* chunk 0 */
  const fp8lab_gemm_accum_args base = {.m = 2, .n = 2, .k = 2, .fa = fp8lab_e4m3fn,
                                       .fb = fp8lab_e4m3fn, .a = a, .a_rs = 2, .a_cs = 1,
                                       .b = b, .b_rs = 2, .b_cs = 1, .d = d, .d_rs = 2,
                                       .threads = 1};
  char err[256];
  fp8lab_gemm_accum_args g = base;
  assert_int_equal(fp8lab_gemm_accum(&g, err, sizeof err), 0);
  assert_int_equal(fp8lab_gemm_mx(&g, err, sizeof err), -1); /* no scales */
  g.mx = (fp8lab_mx_scales){sc, 1, 1, sc, 1, 1};
  assert_int_equal(fp8lab_gemm_mx(&g, err, sizeof err), 0);
  assert_int_equal(fp8lab_gemm_accum(&g, err, sizeof err), -1); /* scales given */
  g = base, g.accum = &bad;
  assert_int_equal(fp8lab_gemm_accum(&g, err, sizeof err), -1);
  g = base, g.fa = fp8lab_f16;
  assert_int_equal(fp8lab_gemm_accum(&g, err, sizeof err), -1);
  assert_int_equal(fp8lab_gemm_reference_f64(&g, NULL, err, sizeof err), -1);
  g = base, g.d = NULL;
  assert_int_equal(fp8lab_gemm_accum(&g, err, sizeof err), -1);
  assert_int_equal(fp8lab_gemm_reference_f64(&g, NULL, err, sizeof err), -1);
  assert_int_equal(fp8lab_gemm_reference_f32(&g, NULL, NULL, 2, err, sizeof err), -1);
  g = base, g.b = NULL;
  assert_int_equal(fp8lab_gemm_accum(&g, err, sizeof err), -1);
  assert_true(strlen(err) > 0);
  const fp8lab_scales rw = {.mode = FP8LAB_SCALE_ROWWISE}; /* scales missing */
  g = base;
  assert_int_equal(fp8lab_gemm_reference_f64(&g, &rw, err, sizeof err), -1);
  /* empty sizes: nothing to do */
  g = base, g.m = 0, g.d = NULL;
  assert_int_equal(fp8lab_gemm_accum(&g, err, sizeof err), 0);
  /* K = 0: D = C (or +0) */
  double c[4] = {1, -2, 3, 0.5};
  g = base, g.k = 0, g.c = c, g.c_rs = 2;
  assert_int_equal(fp8lab_gemm_accum(&g, err, sizeof err), 0);
  assert_memory_equal(d, c, sizeof c);
  assert_int_equal(fp8lab_gemm_reference_f64(&g, NULL, err, sizeof err), 0);
  assert_memory_equal(d, c, sizeof c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matches_dot),
      cmocka_unit_test(test_exact_sum_inputs),
      cmocka_unit_test(test_sr_thread_independence),
      cmocka_unit_test(test_mx_crafted),
      cmocka_unit_test(test_mx_random),
      cmocka_unit_test(test_reference_scales),
      cmocka_unit_test(test_reference_random),
      cmocka_unit_test(test_argument_errors),
  };
  return cmocka_run_group_tests_name("accumulation-model and MX GEMMs", tests, NULL, NULL);
}
