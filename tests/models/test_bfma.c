/* Suite 'unit': crafted cases for the BFMA rows and the models, powers of
 * two chosen so that one bit decides each rule (Fasi et al. 2021), and the
 * tables' consistency.  Every expected value is derived in the comment
 * beside it from the rules of fp8lab/bfma.h. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fp8lab/gemm.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const fp8lab_bfma *row(const char *name) {
  const fp8lab_bfma *p = fp8lab_bfma_named(name);
  if (!p) fail_msg("no BFMA row %s", name);
  return p;
}

static const fp8lab_model *model(const char *name) {
  const fp8lab_model *m = fp8lab_model_named(name);
  if (!m) fail_msg("no model %s", name);
  return m;
}

/* The code of v in f, which must hold v exactly. */
static uint8_t code(const fp8lab_format *f, double v) {
  uint32_t c = fp8lab_encode_f64_rne(f, v);
  if (fp8lab_decode_f64(f, c) != v) fail_msg("%g is not a value of %s", v, f->name);
  return (uint8_t)c;
}

static uint32_t f32(double v) {
  float x = (float)v;
  if ((double)x != v) fail_msg("%g is not an f32 value", v);
  return fp8lab_f32_bits(x);
}

/* sum_k a[k] b[k] + c under row p, operands given as values of fa / fb. */
static uint32_t dot(const fp8lab_bfma *p, const fp8lab_format *fa,
                    const double *a, const fp8lab_format *fb, const double *b,
                    size_t n, uint32_t c) {
  uint8_t ca[FP8LAB_BFMA_MAX_K], cb[FP8LAB_BFMA_MAX_K];
  for (size_t k = 0; k < n; k++) ca[k] = code(fa, a[k]), cb[k] = code(fb, b[k]);
  return fp8lab_bfma_block(p, fa, ca, 1, fb, cb, 1, n, c);
}

static uint32_t model_dot(const char *name, const fp8lab_format *fa,
                          const double *a, const fp8lab_format *fb,
                          const double *b, size_t n, uint32_t c) {
  uint8_t ca[1024], cb[1024];
  assert_true(n <= 1024);
  for (size_t k = 0; k < n; k++) ca[k] = code(fa, a[k]), cb[k] = code(fb, b[k]);
  return fp8lab_model_dot(model(name), fa, ca, 1, fb, cb, 1, n, c, NULL, NULL);
}

#define WGMMA row("h100-wgmma-fp8-f32")
#define E5M2 fp8lab_e5m2
#define E4M3 fp8lab_e4m3fn

/* ---- tables --------------------------------------------------------------- */

static void test_rows_table(void **state) {
  (void)state;
  static const struct { const char *name, *acc; bool checked; } want[] = {
      {"h100-wgmma-fp8-f32", "f32", true}, {"h100-wgmma-fp8-f16", "f16", true},
      {"h100-mma-sync-fp8", "f32", true},  {"v100-hmma-f16", "f32", false},
      {"a100-hmma-f16", "f32", false},     {"h100-hmma-f16", "f32", false},
      {"ada-mma-sync-fp8", "f32", false},  {"b200-tcgen05-fp8", "f32", false},
  };
  assert_int_equal(fp8lab_bfma_nrows, N_OF(want));
  for (size_t i = 0; i < N_OF(want); i++) {
    const fp8lab_bfma *p = &fp8lab_bfma_rows[i];
    assert_string_equal(p->name, want[i].name);
    assert_string_equal(p->acc->name, want[i].acc);
    assert_int_equal(p->checked, want[i].checked);
    assert_ptr_equal(fp8lab_bfma_named(p->name), p);
    assert_non_null(p->source);
    if (p->operand) assert_string_equal(p->operand->name, "f16");
    /* every row takes FP8 operands; the hmma rows also f16 and bf16 */
    char err[128];
    assert_int_equal(fp8lab_bfma_check(p, E4M3, E5M2, err, sizeof err), 0);
    if (strstr(p->name, "hmma")) {
      assert_int_equal(fp8lab_bfma_check(p, fp8lab_f16, fp8lab_f16, err, sizeof err), 0);
      assert_int_equal(fp8lab_bfma_check(p, fp8lab_bf16, fp8lab_bf16, err, sizeof err), 0);
    }
  }
  assert_null(fp8lab_bfma_named("no-such-row"));
  /* bf16 operands cannot be widened exactly to f16 */
  char err[128] = "";
  assert_int_equal(fp8lab_bfma_check(row("h100-mma-sync-fp8"), fp8lab_bf16,
                                     E4M3, err, sizeof err), -1);
  assert_true(strlen(err) > 0);
}

static void test_models_table(void **state) {
  (void)state;
  static const struct {
    const char *name, *bfma;
    fp8lab_schedule sched;
    bool c_as_initial, checked;
  } want[] = {
      {"hopper-wgmma", "h100-wgmma-fp8-f32", FP8LAB_SCHED_CHAIN, true, true},
      {"hopper-wgmma-f16", "h100-wgmma-fp8-f16", FP8LAB_SCHED_CHAIN, true, true},
      {"hopper-mma-sync", "h100-mma-sync-fp8", FP8LAB_SCHED_CHAIN, true, true},
      {"cublaslt-fast", "h100-wgmma-fp8-f32", FP8LAB_SCHED_CHAIN, false, true},
      {"cublaslt", "h100-wgmma-fp8-f32", FP8LAB_SCHED_PROMOTE, false, true},
      {"deepgemm", "h100-wgmma-fp8-f32", FP8LAB_SCHED_PROMOTE_FMA, false, true},
      {"ada-mma-sync", "ada-mma-sync-fp8", FP8LAB_SCHED_CHAIN, true, false},
      {"blackwell-tcgen05", "b200-tcgen05-fp8", FP8LAB_SCHED_CHAIN, true, false},
  };
  assert_int_equal(fp8lab_nmodels, N_OF(want));
  for (size_t i = 0; i < N_OF(want); i++) {
    const fp8lab_model *m = &fp8lab_models[i];
    assert_string_equal(m->name, want[i].name);
    assert_string_equal(m->bfma->name, want[i].bfma);
    assert_int_equal(m->schedule, want[i].sched);
    assert_int_equal(m->c_as_initial, want[i].c_as_initial);
    assert_int_equal(m->checked, want[i].checked);
    assert_true(!m->checked || m->bfma->checked);
    assert_ptr_equal(fp8lab_model_named(m->name), m);
    assert_int_equal(fp8lab_model_check(m, E4M3, E5M2, NULL, 0), 0);
    if (m->schedule != FP8LAB_SCHED_CHAIN) assert_int_equal(m->promote_k, 128);
  }
  assert_null(fp8lab_model_named("no-such-model"));
}

/* ---- alignment ------------------------------------------------------------- */

/* E = 0 (product 1*1); the grid is 2^(E-13).  A term of exactly 2^-13
 * survives, 2^-14 (half of it) is dropped entirely: no guard or sticky. */
static void test_align_grid(void **state) {
  (void)state;
  double a[2] = {1, 0x1p-6}, b[2] = {1, 0x1p-7};
  assert_int_equal(dot(WGMMA, E5M2, a, E5M2, b, 2, 0), f32(1 + 0x1p-13));
  a[1] = 0x1p-7; /* 2^-14 */
  assert_int_equal(dot(WGMMA, E5M2, a, E5M2, b, 2, 0), f32(1));
  /* 31 such terms: 31 * 2^-14 would carry into the grid, but each is
   * truncated first: the result stays 1 (exact: 1 + 31 * 2^-14) */
  double a32[32], b32[32];
  a32[0] = b32[0] = 1;
  for (int k = 1; k < 32; k++) a32[k] = 0x1p-7, b32[k] = 0x1p-7;
  assert_int_equal(dot(WGMMA, E5M2, a32, E5M2, b32, 32, 0), f32(1));
  /* negative terms are truncated toward zero too (not floor): 1 - 2^-14 -> 1 */
  a[1] = -0x1p-7;
  assert_int_equal(dot(WGMMA, E5M2, a, E5M2, b, 2, 0), f32(1));
}

/* The product exponent is e_a + e_b, not floor(log2|ab|): 1.75 * 1.75 =
 * 3.0625 has exponent 0 (significand in [0, 4)), so the grid is 2^-13, not
 * 2^-12; and a subnormal operand keeps the minimum exponent. */
static void test_product_exponent(void **state) {
  (void)state;
  /* 3.0625 + 2 * 2^-13: S = 25090 (15 bits) -> 14 bits: 3.0625 + 2^-12;
   * renormalised (E = 1, grid 2^-12) both small terms would vanish */
  double a[3] = {1.75, 0x1p-6, 0x1p-6}, b[3] = {1.75, 0x1p-7, 0x1p-7};
  assert_int_equal(dot(WGMMA, E5M2, a, E5M2, b, 3, 0), f32(3.0625 + 0x1p-12));
  /* e4m3: 2^-9 (subnormal: sig 1, e -6) * 448 (sig 14, e 8): pe = 2,
   * although the product 0.875 has floor(log2) = -1.  The grid is 2^-11,
   * so a 2^-13 term (2^-6 * 2^-7) is dropped; renormalised it would stay. */
  double c[2] = {0x1p-9, 0x1p-6}, d[2] = {448, 0x1p-7};
  assert_int_equal(dot(WGMMA, E4M3, c, E4M3, d, 2, 0), f32(0.875));
  /* the same through mma.sync: FP8 -> f16 makes 2^-9 an f16 normal, the
   * block keeps 25 bits: 0.875 + 2^-13 exactly */
  assert_int_equal(model_dot("hopper-mma-sync", E4M3, c, E4M3, d, 2, 0),
                   f32(0.875 + 0x1p-13));
}

/* ---- result: 14 significant bits, toward zero ---------------------------- */

static void test_result_truncation(void **state) {
  (void)state;
  /* 1 + 1 + 3 * 2^-13: S = 2^14 + 3 (15 bits) -> RZ to 14 bits = 2^14 + 2:
   * 2 + 2^-12 (RNE would give 2 + 2^-11, exact f32 2 + 3 * 2^-13) */
  double a[5] = {1, 1, 0x1p-6, 0x1p-6, 0x1p-6}, b[5] = {1, 1, 0x1p-7, 0x1p-7, 0x1p-7};
  assert_int_equal(dot(WGMMA, E5M2, a, E5M2, b, 5, 0), f32(2 + 0x1p-12));
  /* negative: -(2 + 2^-12), the truncation is on the magnitude */
  double an[5] = {-1, -1, -0x1p-6, -0x1p-6, -0x1p-6};
  assert_int_equal(dot(WGMMA, E5M2, an, E5M2, b, 5, 0), f32(-(2 + 0x1p-12)));
  /* every finite result has its 10 low fraction bits zero */
  for (unsigned s = 1; s < 2000; s++) {
    uint8_t ca[32], cb[32];
    for (int k = 0; k < 32; k++)
      ca[k] = (uint8_t)((s * 2654435761u >> (k % 24)) & 0x77),
      cb[k] = (uint8_t)((s * 40503u + 977u * (unsigned)k) & 0xF7);
    uint32_t d = fp8lab_bfma_block(WGMMA, E4M3, ca, 1, E4M3, cb, 1, 32, 0);
    assert_int_equal(d & 0x3FF, 0);
  }
}

/* ---- where c enters --------------------------------------------------------- */

static void test_c_enters(void **state) {
  (void)state;
  double one = 1, zero = 0;
  /* wgmma: c is a term of the block.  Alone it is cut to 14 bits. */
  assert_int_equal(dot(WGMMA, E5M2, &zero, E5M2, &zero, 1, f32(1 + 0x1p-20)), f32(1));
  /* c sets E: c = 2^14 puts the grid at 2^1, the product 1 vanishes */
  assert_int_equal(dot(WGMMA, E5M2, &one, E5M2, &one, 1, f32(0x1p14)), f32(0x1p14));
  /* c below the grid of the products vanishes: 1 + 2^-14 -> 1 */
  assert_int_equal(dot(WGMMA, E5M2, &one, E5M2, &one, 1, f32(0x1p-14)), f32(1));
  /* mma.sync: c is added last, in IEEE f32 round-to-nearest-even */
  assert_int_equal(model_dot("hopper-mma-sync", E5M2, &one, E5M2, &one, 1,
                             f32(0x1p-14)), f32(1 + 0x1p-14));
  assert_int_equal(model_dot("hopper-mma-sync", E5M2, &zero, E5M2, &zero, 1,
                             f32(1 + 0x1p-20)), f32(1 + 0x1p-20));
  /* ... 1 + 2^-24 is a tie: to even, 1 */
  assert_int_equal(model_dot("hopper-mma-sync", E5M2, &one, E5M2, &one, 1,
                             f32(0x1p-24)), f32(1));
  /* f16 accumulator: c aligned as well, the exact sum then RNE to f16 */
  uint32_t c16 = fp8lab_encode_f64_rne(fp8lab_f16, 0x1p-11);
  uint32_t d = fp8lab_bfma_block(row("h100-wgmma-fp8-f16"), E5M2,
                                 (uint8_t[]){code(E5M2, 1)}, 1, E5M2,
                                 (uint8_t[]){code(E5M2, 1)}, 1, 1, c16);
  assert_int_equal(d, fp8lab_encode_f64_rne(fp8lab_f16, 1)); /* tie -> even */
  /* library models ignore C in the dot (it enters in the epilogue) */
  assert_int_equal(model_dot("cublaslt-fast", E5M2, &one, E5M2, &one, 1, f32(5)), f32(1));
  assert_int_equal(model_dot("hopper-wgmma", E5M2, &one, E5M2, &one, 1, f32(5)), f32(6));
}

/* ---- block size: the 33rd product goes to the next instruction ------------ */

static void test_block_boundary(void **state) {
  (void)state;
  /* 32 products of 2^-14 sum exactly to 2^-9 in their own block (E = -14);
   * a product 1 in the next block meets c = 2^-9, on the grid: 1 + 2^-9.
   * The same 1 inside the first block (position 31) makes E = 0 and every
   * 2^-14 term vanishes. */
  double a[33], b[33];
  for (int k = 0; k < 33; k++) a[k] = 0x1p-7, b[k] = 0x1p-7;
  a[32] = b[32] = 1;
  assert_int_equal(model_dot("hopper-wgmma", E5M2, a, E5M2, b, 33, 0), f32(1 + 0x1p-9));
  a[31] = b[31] = 1, a[32] = b[32] = 0x1p-7;
  assert_int_equal(model_dot("hopper-wgmma", E5M2, a, E5M2, b, 33, 0), f32(1));
  /* promotion: cublaslt adds partials of 128 of K in f32: 128 products of
   * 2^-14 (exact 2^-7, in 4 FP22 steps) then a partial of 1: 1 + 2^-7,
   * while the fast chain cuts each 2^-14 against E = 0 once the 1 is in */
  double p[129], q[129];
  for (int k = 0; k < 129; k++) p[k] = 0x1p-7, q[k] = 0x1p-7;
  p[128] = q[128] = 1;
  assert_int_equal(model_dot("cublaslt", E5M2, p, E5M2, q, 129, 0), f32(1 + 0x1p-7));
  assert_int_equal(model_dot("cublaslt-fast", E5M2, p, E5M2, q, 129, 0), f32(1 + 0x1p-7));
  /* with the 1 first, the fast chain drops every later 2^-14 (grid 2^-13),
   * the promoted one restarts at +0 for the second group and keeps its
   * single 2^-14 */
  p[0] = q[0] = 1, p[128] = q[128] = 0x1p-7;
  assert_int_equal(model_dot("cublaslt-fast", E5M2, p, E5M2, q, 129, 0), f32(1));
  assert_int_equal(model_dot("cublaslt", E5M2, p, E5M2, q, 129, 0),
                   f32(1 + 0x1p-14)); /* group 2: one 2^-14, exactly */
}

/* mma.sync deals k mod 4 in {0,1} to the first k16 step, {2,3} to the
 * second, which starts from the first's f32 result. */
static void test_mma_sync_steps(void **state) {
  (void)state;
  /* F = 25: with the product 1 at k = 0, four 2^-26 (k = 1, 4, 5, 8, all
   * in step 1) are below the grid 2^-25 and vanish: 1.  Four 2^-25 stay:
   * S = 2^25 + 4, RZ to 24 bits: 1 + 2^-23 */
  double a[9] = {1, 0x1p-13, 0, 0, 0x1p-13, 0x1p-13, 0, 0, 0x1p-13};
  double b[9] = {1, 0x1p-13, 0, 0, 0x1p-13, 0x1p-13, 0, 0, 0x1p-13};
  assert_int_equal(model_dot("hopper-mma-sync", E5M2, a, E5M2, b, 9, 0), f32(1));
  a[1] = a[4] = a[5] = a[8] = 0x1p-12;
  assert_int_equal(model_dot("hopper-mma-sync", E5M2, a, E5M2, b, 9, 0), f32(1 + 0x1p-23));
  /* step membership and order: sixteen 2^-26 at k mod 4 in {0, 1} sum
   * exactly to 2^-22 in step 1 (E = -26); the 1 at k = 2 is in step 2,
   * where x = 2^-22 is on the grid: 1 + 2^-22.  With the 1 at k = 0 (step
   * 1) each 2^-26 meets E = 0 and vanishes: 1. */
  double p[32] = {0}, q[32] = {0};
  for (int k = 0; k < 32; k++)
    if (k % 4 < 2) p[k] = 0x1p-13, q[k] = 0x1p-13;
  p[2] = q[2] = 1;
  assert_int_equal(model_dot("hopper-mma-sync", E5M2, p, E5M2, q, 32, 0), f32(1 + 0x1p-22));
  p[2] = q[2] = 0, p[0] = q[0] = 1;
  assert_int_equal(model_dot("hopper-mma-sync", E5M2, p, E5M2, q, 32, 0), f32(1));
}

/* ---- zero signs --------------------------------------------------------------- */

static void test_zero_sign(void **state) {
  (void)state;
  double a[2] = {1, -1}, b[2] = {1, 1}, z[2] = {0, -0.0};
  const uint32_t neg0 = 0x80000000u;
  /* cancelling products: +0 */
  assert_int_equal(dot(WGMMA, E5M2, a, E5M2, b, 2, 0), 0);
  assert_int_equal(dot(WGMMA, E5M2, a, E5M2, b, 2, neg0), 0);
  /* no term at all, c = -0: +0 */
  assert_int_equal(dot(WGMMA, E5M2, z, E5M2, b, 2, neg0), 0);
  /* an exact sum of -2^-14 whose truncated terms cancel: +0 */
  double c[3] = {1, -1, -0x1p-7}, d[3] = {1, 1, 0x1p-7};
  assert_int_equal(dot(WGMMA, E5M2, c, E5M2, d, 3, 0), 0);
  assert_int_equal(model_dot("cublaslt", E5M2, a, E5M2, b, 2, 0), 0);
  /* f16: an underflow to zero is +0 */
  uint32_t h = fp8lab_bfma_block(row("h100-wgmma-fp8-f16"), E5M2,
                                 (uint8_t[]){code(E5M2, -0x1p-14)}, 1, E5M2,
                                 (uint8_t[]){code(E5M2, 0x1p-14)}, 1, 1, 0);
  assert_int_equal(h, 0);
  /* mma.sync: s2 is +0 when zero, and c = -0 adds as -0 + +0 = +0 (RN) */
  assert_int_equal(model_dot("hopper-mma-sync", E5M2, z, E5M2, b, 2, neg0), 0);
}

/* ---- specials ------------------------------------------------------------------ */

static void test_specials(void **state) {
  (void)state;
  const uint32_t nan = 0x7FFFFFFF, pinf = 0x7F800000, ninf = 0xFF800000;
  uint8_t one = code(E5M2, 1), zero = 0, mzero = 0x80;
  uint8_t einf = 0x7C, eninf = 0xFC, enan = 0x7E, nnan = 0xFF; /* e5m2 */
  const fp8lab_bfma *rows[] = {WGMMA, row("h100-mma-sync-fp8")};
  for (size_t r = 0; r < N_OF(rows); r++) {
    const fp8lab_bfma *p = rows[r];
#define B1(x, y, c) fp8lab_bfma_block(p, E5M2, (uint8_t[]){x}, 1, E5M2, (uint8_t[]){y}, 1, 1, c)
    assert_int_equal(B1(enan, zero, 0), nan);    /* NaN, even times 0 */
    assert_int_equal(B1(nnan, one, 0), nan);     /* negative NaN: canonical */
    assert_int_equal(B1(einf, mzero, 0), nan);   /* Inf * 0 */
    assert_int_equal(B1(einf, one, 0), pinf);
    assert_int_equal(B1(einf, 0x80 | one, 0), ninf);
    assert_int_equal(B1(einf, one, ninf), nan);  /* +Inf meets -Inf c */
    assert_int_equal(B1(one, one, 0xFFC00001u), nan); /* NaN c */
    assert_int_equal(B1(one, one, pinf), pinf);
#undef B1
    /* +Inf and -Inf products in one instruction (two steps for mma.sync) */
    uint8_t a[4] = {einf, one, eninf, one}, b[4] = {one, one, one, one};
    assert_int_equal(fp8lab_bfma_block(p, E5M2, a, 1, E5M2, b, 1, 4, 0), nan);
  }
  /* e4m3fn: 0x7F and 0xFF are its NaNs, there is no Inf */
  uint8_t a = 0xFF, b = code(E4M3, 0);
  assert_int_equal(fp8lab_bfma_block(WGMMA, E4M3, &a, 1, E4M3, &b, 1, 1, 0), nan);
  /* f16 accumulator: canonical 0x7FFF; overflow -> Inf, not max */
  const fp8lab_bfma *h = row("h100-wgmma-fp8-f16");
  uint8_t big = code(E5M2, 57344);
  assert_int_equal(fp8lab_bfma_block(h, E5M2, &big, 1, E5M2, &big, 1, 1, 0), 0x7C00);
  assert_int_equal(fp8lab_bfma_block(h, E5M2, &enan, 1, E5M2, &big, 1, 1, 0), 0x7FFF);
  /* rejected combinations answer the canonical NaN */
  assert_int_equal(fp8lab_bfma_block(WGMMA, E5M2, &big, 1, E5M2, &big, 1,
                                     FP8LAB_BFMA_MAX_K + 1, 0), nan);
}

/* ---- generic rows ---------------------------------------------------------------- */

/* A row with F = 45 keeps every e4m3 product exactly (exponents within
 * 2^-18 .. 2^16, significands of <= 8 bits), so with RNE it is the
 * correctly rounded dot product: the reference against f64 arithmetic on
 * random inputs (seeded by case number). */
static void test_wide_row_is_exact(void **state) {
  (void)state;
  fp8lab_bfma wide = {.name = "test-wide", .block = 32, .frac_bits = 45, .c_in_block = true,
                      .result_round = FP8LAB_RNE, .acc = fp8lab_f32};
  assert_int_equal(fp8lab_bfma_check(&wide, E4M3, E4M3, NULL, 0), 0);
  for (uint32_t t = 0; t < 5000; t++) {
    uint8_t a[32], b[32];
    uint64_t s = 0x9E3779B97F4A7C15ull * (t + 1);
    double exact = 0;
    for (int k = 0; k < 32; k++) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      a[k] = (uint8_t)s, b[k] = (uint8_t)(s >> 8);
      if ((a[k] & 0x7F) == 0x7F) a[k] ^= 1; /* no NaN */
      if ((b[k] & 0x7F) == 0x7F) b[k] ^= 1;
      exact += fp8lab_decode_f64(E4M3, a[k]) * fp8lab_decode_f64(E4M3, b[k]);
    }
    /* 32 products within 2^-18 .. 2^18: the f64 sum is exact */
    uint32_t d = fp8lab_bfma_block(&wide, E4M3, a, 1, E4M3, b, 1, 32, 0);
    uint32_t want = exact == 0 ? 0 : fp8lab_f32_bits((float)exact);
    if (d != want) fail_msg("case %u: got 0x%08X want 0x%08X", t, d, want);
  }
}

/* The 16-bit entry point with the published H100 fp16 row: F = 25. */
static void test_block16_f16(void **state) {
  (void)state;
  const fp8lab_bfma *p = row("h100-hmma-f16");
  uint16_t one = (uint16_t)fp8lab_encode_f64_rne(fp8lab_f16, 1);
  uint16_t a[5], b[5];
  a[0] = b[0] = one;
  for (int k = 1; k < 5; k++)
    a[k] = (uint16_t)fp8lab_encode_f64_rne(fp8lab_f16, 0x1p-12),
    b[k] = (uint16_t)fp8lab_encode_f64_rne(fp8lab_f16, 0x1p-13);
  /* four 2^-25, on the grid 2^(0-25): S = 2^25 + 4, RZ to f32: 1 + 2^-23 */
  assert_int_equal(fp8lab_bfma_block16(p, fp8lab_f16, a, 1, fp8lab_f16, b, 1, 5, 0),
                   f32(1 + 0x1p-23));
  for (int k = 1; k < 5; k++) /* four 2^-26: each below the grid */
    b[k] = (uint16_t)fp8lab_encode_f64_rne(fp8lab_f16, 0x1p-14);
  assert_int_equal(fp8lab_bfma_block16(p, fp8lab_f16, a, 1, fp8lab_f16, b, 1, 5, 0),
                   f32(1));
  /* 16 products per block: a 17th operand count is rejected (NaN) */
  uint16_t many[17] = {0};
  assert_int_equal(fp8lab_bfma_block16(p, fp8lab_f16, many, 1, fp8lab_f16, many, 1, 17, 0),
                   0x7FFFFFFF);
}

/* PROMOTE_FMA: acc = fma32(fl32(sa * sb), part, acc), one rounding. */
static void test_promote_fma(void **state) {
  (void)state;
  /* two groups of 128 with partials 1 and 1; scales s0 = 1, s1 = 1 + 2^-23:
   * fma(1 + 2^-23, 1, 1) = 2 + 2^-23, half an ulp of 2: a tie -> 2 */
  uint8_t a[256], b[256];
  memset(a, 0, sizeof a), memset(b, 0, sizeof b);
  a[0] = b[0] = a[128] = b[128] = code(E4M3, 1);
  float sa[2] = {1, 1 + 0x1p-23f}, sb[2] = {1, 1};
  uint32_t d = fp8lab_model_dot(model("deepgemm"), E4M3, a, 1, E4M3, b, 1, 256, 0, sa, sb);
  assert_int_equal(d, f32(2));
  /* with s1 = 1 + 3 * 2^-23: 2 + 1.5 ulp(2) is a tie -> even: 2 + 2^-21 */
  sa[1] = 1 + 0x3p-23f;
  d = fp8lab_model_dot(model("deepgemm"), E4M3, a, 1, E4M3, b, 1, 256, 0, sa, sb);
  assert_int_equal(d, f32(2 + 0x1p-21));
  /* the scale product is rounded to f32 first: (1 + 2^-12)^2 = 1 + 2^-11 +
   * 2^-24 -> 1 + 2^-11 */
  sa[1] = sb[1] = 1 + 0x1p-12f;
  d = fp8lab_model_dot(model("deepgemm"), E4M3, a, 1, E4M3, b, 1, 256, 0, sa, sb);
  assert_int_equal(d, f32(2 + 0x1p-11));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rows_table),      cmocka_unit_test(test_models_table),
      cmocka_unit_test(test_align_grid),      cmocka_unit_test(test_product_exponent),
      cmocka_unit_test(test_result_truncation), cmocka_unit_test(test_c_enters),
      cmocka_unit_test(test_block_boundary),  cmocka_unit_test(test_mma_sync_steps),
      cmocka_unit_test(test_zero_sign),       cmocka_unit_test(test_specials),
      cmocka_unit_test(test_wide_row_is_exact), cmocka_unit_test(test_block16_f16),
      cmocka_unit_test(test_promote_fma),
  };
  return cmocka_run_group_tests_name("bfma", tests, NULL, NULL);
}
