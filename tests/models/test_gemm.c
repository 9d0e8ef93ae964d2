/* Suite 'unit': the GEMM engines.  The specialised kernel (each variant the
 * CPU runs) against the plain reference on random inputs of odd sizes, both
 * layouts, every model it specialises, every scale mode and output type,
 * with guard bytes around D; thread-count independence; argument errors;
 * the shared bf16 store against the codec.  Case i is seeded by i, so a
 * failing case reruns by number. */
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
#define GUARD 64
#define GUARD_BYTE 0xA5

/* splitmix64: the test's random numbers, seeded per case. */
static uint64_t next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static double uniform(uint64_t *s) { return (double)(next(s) >> 11) * 0x1p-53; }
static double gauss(uint64_t *s) {
  double u = uniform(s) + 0x1p-60, v = uniform(s);
  return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* Codes of f: kind 0 uniform over all codes (NaN, Inf included), 1
 * Gaussian values, 2 Gaussian with a few specials and zeros sprinkled, 3
 * mostly zeros (instructions where only c is present: tiny and subnormal
 * results). */
static void fill_codes(uint8_t *p, size_t n, const fp8lab_format *f, int kind,
                       uint64_t *s) {
  int w = fp8lab_format_bits(f);
  for (size_t i = 0; i < n; i++) {
    if (kind == 0) {
      p[i] = (uint8_t)(next(s) & ((1u << w) - 1));
      continue;
    }
    double x = gauss(s) * ldexp(1.0, (int)(next(s) % 7) - 3);
    p[i] = (uint8_t)fp8lab_encode_f64_rne_sat(f, x);
    uint64_t r = next(s) % 1000;
    if (kind == 2 && r < 3) p[i] = (uint8_t)(next(s) & ((1u << w) - 1));
    if (r >= 990 || (kind == 3 && r < 950)) p[i] = 0;
  }
}

static float random_f32(uint64_t *s) {
  uint64_t r = next(s) % 100;
  if (r < 60) return (float)(gauss(s) * ldexp(1.0, (int)(next(s) % 40) - 20));
  if (r < 80) return fp8lab_f32_from_bits((uint32_t)next(s)); /* any pattern */
  if (r < 85) return fp8lab_f32_from_bits((uint32_t)next(s) & 0x807FFFFFu); /* subnormal */
  if (r < 90) return r & 1 ? -0.0f : 0.0f;
  return (float)gauss(s);
}

static size_t out_size(fp8lab_out_type t) { return t == FP8LAB_OUT_F32 ? 4 : 2; }

/* D with guard bytes before, after and between rows (d_rs = n + 3). */
typedef struct guarded {
  uint8_t *base;
  size_t bytes;
  void *d;
  ptrdiff_t d_rs;
} guarded;

static guarded guarded_alloc(size_t m, size_t n, fp8lab_out_type t) {
  guarded g;
  g.d_rs = (ptrdiff_t)n + 3;
  g.bytes = 2 * GUARD + (m ? m : 1) * (size_t)g.d_rs * out_size(t);
  g.base = malloc(g.bytes);
  assert_non_null(g.base);
  memset(g.base, GUARD_BYTE, g.bytes);
  g.d = g.base + GUARD;
  return g;
}

/* Every byte outside the m x n outputs still holds the guard pattern. */
static void check_guards(const guarded *g, size_t m, size_t n, fp8lab_out_type t,
                         const char *what) {
  size_t es = out_size(t);
  for (size_t b = 0; b < g->bytes; b++) {
    if (b >= GUARD) {
      size_t o = (b - GUARD) / es;
      size_t i = o / (size_t)g->d_rs, j = o % (size_t)g->d_rs;
      if (i < m && j < n) continue;
    }
    if (g->base[b] != GUARD_BYTE) fail_msg("%s: byte %zu outside D written", what, b);
  }
}

static uint32_t at(const guarded *g, fp8lab_out_type t, size_t i, size_t j) {
  size_t o = i * (size_t)g->d_rs + j;
  return t == FP8LAB_OUT_F32 ? ((const uint32_t *)g->d)[o] : ((const uint16_t *)g->d)[o];
}

/* Run g through the reference and every kernel variant the CPU runs (or
 * the dispatcher, for models without a kernel); all must agree bit for bit
 * and leave the guards alone.  Returns the number of engines compared. */
static int compare_engines(const fp8lab_gemm_args *g0, const char *what) {
  fp8lab_gemm_args g = *g0;
  guarded ref = guarded_alloc(g.m, g.n, g.out_type);
  g.d = ref.d, g.d_rs = ref.d_rs;
  char err[256] = "";
  if (fp8lab_gemm_ref(&g, err, sizeof err) != 0) fail_msg("%s: reference: %s", what, err);
  check_guards(&ref, g.m, g.n, g.out_type, what);
  int engines = 0;
  static const fp8lab_gemm_kernel kernels[] = {FP8LAB_KERNEL_PORTABLE, FP8LAB_KERNEL_AVX2,
                                               FP8LAB_KERNEL_AUTO};
  for (size_t v = 0; v < N_OF(kernels) + 1; v++) {
    bool dispatcher = v == N_OF(kernels);
    if (!dispatcher && (!fp8lab_gemm_fast_supports(&g) ||
                        !fp8lab_gemm_kernel_available(kernels[v])))
      continue;
    guarded out = guarded_alloc(g.m, g.n, g.out_type);
    g.d = out.d, g.d_rs = out.d_rs;
    int rc = dispatcher ? fp8lab_gemm(&g, err, sizeof err)
                        : fp8lab_gemm_fast_ex(&g, kernels[v], err, sizeof err);
    const char *name = dispatcher ? "fp8lab_gemm" : fp8lab_gemm_kernel_name(kernels[v]);
    if (rc != 0) fail_msg("%s: %s: %s", what, name, err);
    check_guards(&out, g.m, g.n, g.out_type, what);
    for (size_t i = 0; i < g.m; i++)
      for (size_t j = 0; j < g.n; j++)
        if (at(&out, g.out_type, i, j) != at(&ref, g.out_type, i, j))
          fail_msg("%s: %s (%zu, %zu): 0x%08X, reference 0x%08X", what, name, i, j,
                   (unsigned)at(&out, g.out_type, i, j),
                   (unsigned)at(&ref, g.out_type, i, j));
    free(out.base);
    engines++;
  }
  free(ref.base);
  return engines;
}

/* Operands, C and scales of one random case, owned here. */
typedef struct operands {
  uint8_t *a, *b;
  float *c, *row_a, *col_b, *tile_a, *block_b;
} operands;

static void free_operands(operands *o) {
  free(o->a), free(o->b), free(o->c), free(o->row_a), free(o->col_b);
  free(o->tile_a), free(o->block_b);
}

/* Case `id` of size m x n x k: fills g (layouts picked by the id). */
static void make_case(unsigned id, size_t m, size_t n, size_t k,
                      const fp8lab_model *md, const fp8lab_format *fa,
                      const fp8lab_format *fb, fp8lab_scale_mode sm,
                      fp8lab_out_type ot, bool with_c, fp8lab_gemm_args *g,
                      operands *o) {
  uint64_t s = 0x243F6A8885A308D3ull ^ ((uint64_t)id << 32);
  int kind = (int)(id % 4);
  bool a_colmajor = id & 1, b_rowmajor = (id >> 1) & 1;
  size_t lda = (a_colmajor ? m : k) + (id % 5), ldb = (b_rowmajor ? n : k) + (id % 3);
  size_t na = (a_colmajor ? k : m) * lda + 1, nb = (b_rowmajor ? k : n) * ldb + 1;
  memset(o, 0, sizeof *o);
  o->a = malloc(na), o->b = malloc(nb);
  fill_codes(o->a, na, fa, kind, &s);
  fill_codes(o->b, nb, fb, kind, &s);
  size_t ldc = n + 2;
  if (with_c) {
    o->c = malloc((m * ldc + 1) * sizeof *o->c);
    for (size_t i = 0; i < m * ldc + 1; i++) o->c[i] = random_f32(&s);
  }
  size_t ng = (k + 127) / 128, nbn = (n + 127) / 128;
  o->row_a = malloc((m + 1) * sizeof(float));
  o->col_b = malloc((n + 1) * sizeof(float));
  o->tile_a = malloc((m * ng + 1) * sizeof(float));
  o->block_b = malloc((nbn * ng + 1) * sizeof(float));
  for (size_t i = 0; i < m + 1; i++) o->row_a[i] = (float)ldexp(uniform(&s) + 0.5, (int)(next(&s) % 9) - 4);
  for (size_t i = 0; i < n + 1; i++) o->col_b[i] = (float)ldexp(uniform(&s) + 0.5, (int)(next(&s) % 9) - 4);
  for (size_t i = 0; i < m * ng + 1; i++) o->tile_a[i] = (float)(uniform(&s) * 3);
  for (size_t i = 0; i < nbn * ng + 1; i++) o->block_b[i] = (float)(uniform(&s) * 0.1);
  *g = (fp8lab_gemm_args){
      .model = md, .m = m, .n = n, .k = k, .fa = fa, .fb = fb, .a = o->a,
      .a_rs = a_colmajor ? 1 : (ptrdiff_t)lda, .a_cs = a_colmajor ? (ptrdiff_t)lda : 1,
      .b = o->b, .b_rs = b_rowmajor ? (ptrdiff_t)ldb : 1,
      .b_cs = b_rowmajor ? 1 : (ptrdiff_t)ldb, .c = o->c, .c_rs = (ptrdiff_t)ldc,
      .scales = {.mode = sm, .tensor_a = (float)(uniform(&s) + 0.25),
                 .tensor_b = (float)(uniform(&s) * 4), .row_a = o->row_a,
                 .col_b = o->col_b, .tile_a = o->tile_a, .block_b = o->block_b},
      .out_type = ot, .threads = (int)(id % 4)};
}

static const size_t sizes[][3] = {
    {1, 1, 1}, {3, 17, 33}, {37, 29, 101}, {5, 40, 257}, {64, 16, 128},
    {13, 50, 0}, {9, 7, 31}, {4, 33, 300}, {20, 130, 160},
};

/* ---- the specialised kernel against the reference --------------------------- */

static void test_fast_matches_reference(void **state) {
  (void)state;
  const fp8lab_format *fp8[2] = {fp8lab_e4m3fn, fp8lab_e5m2};
  static const struct {
    const char *model;
    fp8lab_scale_mode scales;
    bool c;
  } configs[] = {
      {"hopper-wgmma", FP8LAB_SCALE_NONE, true},
      {"hopper-wgmma", FP8LAB_SCALE_NONE, false},
      {"cublaslt-fast", FP8LAB_SCALE_NONE, false},
      {"cublaslt-fast", FP8LAB_SCALE_TENSOR, true},
      {"cublaslt", FP8LAB_SCALE_NONE, false},
      {"cublaslt", FP8LAB_SCALE_ROWWISE, false},
      {"cublaslt", FP8LAB_SCALE_TENSOR, true},
      {"deepgemm", FP8LAB_SCALE_BLOCKWISE, false},
      {"deepgemm", FP8LAB_SCALE_NONE, true},
  };
  unsigned id = 0;
  int compared = 0;
  for (size_t c = 0; c < N_OF(configs); c++)
    for (size_t z = 0; z < N_OF(sizes); z++)
      for (int pair = 0; pair < 4; pair++, id++) {
        fp8lab_gemm_args g;
        operands o;
        fp8lab_out_type ot = id % 2 ? FP8LAB_OUT_BF16 : FP8LAB_OUT_F32;
        make_case(id, sizes[z][0], sizes[z][1], sizes[z][2],
                  fp8lab_model_named(configs[c].model), fp8[pair & 1],
                  fp8[pair >> 1], configs[c].scales, ot, configs[c].c, &g, &o);
        assert_true(fp8lab_gemm_fast_supports(&g));
        char what[128];
        snprintf(what, sizeof what, "case %u (%s %zux%zux%zu)", id, configs[c].model,
                 g.m, g.n, g.k);
        compared += compare_engines(&g, what);
        free_operands(&o);
      }
  printf("%u cases, %d engine runs compared with the reference\n", id, compared);
}

/* Other <= 8-bit formats: the kernel's tables come from the codec, its
 * support conditions from the descriptors.  Supported or not, every
 * engine agrees with the reference. */
static void test_other_formats(void **state) {
  (void)state;
  static const char *const names[] = {"e4m3", "e3m4", "e2m5", "e4m3fnuz", "e5m2fnuz",
                                      "e4m3b11fnuz", "e3m2", "e2m3", "e2m1"};
  unsigned id = 1000;
  int supported = 0;
  for (size_t f = 0; f < N_OF(names); f++)
    for (int side = 0; side < 2; side++, id++) {
      const fp8lab_format *x = fp8lab_format_named(names[f]);
      assert_non_null(x);
      fp8lab_gemm_args g;
      operands o;
      make_case(id, 11, 21, 77, fp8lab_model_named(id % 2 ? "cublaslt" : "hopper-wgmma"),
                side ? x : fp8lab_e4m3fn, side ? fp8lab_e5m2 : x, FP8LAB_SCALE_NONE,
                FP8LAB_OUT_F32, true, &g, &o);
      supported += fp8lab_gemm_fast_supports(&g);
      char what[128];
      snprintf(what, sizeof what, "case %u (%s)", id, names[f]);
      compare_engines(&g, what);
      free_operands(&o);
    }
  printf("%d of %zu format pairs run the specialised kernel\n", supported, 2 * N_OF(names));
  assert_true(supported > 0);
}

/* Models without a specialised kernel go through the reference. */
static void test_models_without_kernel(void **state) {
  (void)state;
  static const char *const models[] = {"hopper-wgmma-f16", "hopper-mma-sync",
                                       "ada-mma-sync", "blackwell-tcgen05"};
  unsigned id = 2000;
  for (size_t i = 0; i < N_OF(models); i++, id++) {
    fp8lab_gemm_args g;
    operands o;
    make_case(id, 7, 19, 70, fp8lab_model_named(models[i]), fp8lab_e4m3fn,
              fp8lab_e5m2, FP8LAB_SCALE_NONE, FP8LAB_OUT_F32, true, &g, &o);
    assert_false(fp8lab_gemm_fast_supports(&g));
    char err[128] = "";
    assert_int_equal(fp8lab_gemm_fast(&g, err, sizeof err), -1);
    assert_true(strlen(err) > 0);
    compare_engines(&g, models[i]);
    free_operands(&o);
  }
}

/* ---- threads ------------------------------------------------------------------ */

static void test_thread_count_independence(void **state) {
  (void)state;
  static const char *const models[] = {"hopper-wgmma", "cublaslt", "hopper-mma-sync"};
  for (size_t mi = 0; mi < N_OF(models); mi++) {
    fp8lab_gemm_args g;
    operands o;
    make_case(3000 + (unsigned)mi, 45, 33, 200, fp8lab_model_named(models[mi]),
              fp8lab_e4m3fn, fp8lab_e4m3fn, FP8LAB_SCALE_NONE, FP8LAB_OUT_F32, true,
              &g, &o);
    static const int threads[] = {1, 2, 3, 8, 64, 0};
    uint32_t *first = malloc(g.m * g.n * 4), *d = malloc(g.m * g.n * 4);
    for (size_t t = 0; t < N_OF(threads); t++)
      for (int engine = 0; engine < 2; engine++) {
        g.threads = threads[t];
        g.d = d, g.d_rs = (ptrdiff_t)g.n;
        char err[128];
        assert_int_equal(engine ? fp8lab_gemm(&g, err, sizeof err)
                                : fp8lab_gemm_ref(&g, err, sizeof err), 0);
        if (t == 0 && engine == 0) memcpy(first, d, g.m * g.n * 4);
        else assert_memory_equal(first, d, g.m * g.n * 4);
      }
    free(first), free(d);
    free_operands(&o);
  }
}

/* ---- arguments ------------------------------------------------------------------ */

static void test_argument_errors(void **state) {
  (void)state;
  uint8_t a[4] = {0}, b[4] = {0};
  float d[4], s[4] = {1, 1, 1, 1};
  fp8lab_gemm_args base = {.model = fp8lab_model_named("cublaslt"), .m = 2, .n = 2,
                           .k = 2, .fa = fp8lab_e4m3fn, .fb = fp8lab_e4m3fn, .a = a,
                           .a_rs = 2, .a_cs = 1, .b = b, .b_rs = 1, .b_cs = 2,
                           .d = d, .d_rs = 2, .threads = 1};
  char err[256];
  fp8lab_gemm_args g = base;
  assert_int_equal(fp8lab_gemm(&g, err, sizeof err), 0);
  g.scales.mode = FP8LAB_SCALE_BLOCKWISE, g.scales.tile_a = s, g.scales.block_b = s;
  assert_int_equal(fp8lab_gemm(&g, err, sizeof err), -1); /* cublaslt: no blocks */
  g = base, g.model = fp8lab_model_named("deepgemm");
  g.scales.mode = FP8LAB_SCALE_TENSOR;
  assert_int_equal(fp8lab_gemm(&g, err, sizeof err), -1);
  g.scales.mode = FP8LAB_SCALE_BLOCKWISE; /* scales missing */
  assert_int_equal(fp8lab_gemm_ref(&g, err, sizeof err), -1);
  g = base, g.scales.mode = FP8LAB_SCALE_ROWWISE;
  assert_int_equal(fp8lab_gemm(&g, err, sizeof err), -1);
  g = base, g.fa = fp8lab_f16; /* codes of more than 8 bits */
  assert_int_equal(fp8lab_gemm(&g, err, sizeof err), -1);
  g = base, g.model = NULL;
  assert_int_equal(fp8lab_gemm(&g, err, sizeof err), -1);
  g = base, g.d = NULL;
  assert_int_equal(fp8lab_gemm_fast(&g, err, sizeof err), -1);
  assert_true(strlen(err) > 0);
  g = base, g.out_type = (fp8lab_out_type)7;
  assert_int_equal(fp8lab_gemm(&g, err, sizeof err), -1);
}

/* C: the chain's initial value for instruction models, added after the
 * scales (fl32) for library models. */
static void test_c_semantics(void **state) {
  (void)state;
  uint8_t one = (uint8_t)fp8lab_encode_f64_rne(fp8lab_e4m3fn, 1);
  float c = 0x1p-14f, d = 0;
  fp8lab_gemm_args g = {.model = fp8lab_model_named("hopper-wgmma"), .m = 1, .n = 1,
                        .k = 1, .fa = fp8lab_e4m3fn, .fb = fp8lab_e4m3fn, .a = &one,
                        .b = &one, .c = &c, .d = &d, .threads = 1};
  char err[128];
  assert_int_equal(fp8lab_gemm(&g, err, sizeof err), 0);
  assert_true(d == 1.0f); /* 2^-14 below the FP22 grid of 1 */
  g.model = fp8lab_model_named("cublaslt-fast");
  assert_int_equal(fp8lab_gemm(&g, err, sizeof err), 0);
  assert_true(d == 1.0f + 0x1p-14f); /* fl32(1 + 2^-14) */
  g.scales = (fp8lab_scales){.mode = FP8LAB_SCALE_TENSOR, .tensor_a = 3, .tensor_b = 0.5f};
  assert_int_equal(fp8lab_gemm(&g, err, sizeof err), 0);
  assert_true(d == 1.5f + 0x1p-14f);
}

/* ---- the bf16 store: RNE of the f32 value, as the codec rounds ---------------- */

static void test_bf16_store_is_codec(void **state) {
  (void)state;
  fp8lab_gemm_args g = {.model = fp8lab_model_named("cublaslt-fast"), .m = 1, .n = 1,
                        .fa = fp8lab_e4m3fn, .fb = fp8lab_e4m3fn,
                        .out_type = FP8LAB_OUT_BF16};
  uint16_t h;
  g.d = &h;
  static const fp8lab_cvt rne = {.round = FP8LAB_RNE};
  uint64_t s = 42;
  for (uint64_t t = 0; t < (1u << 22) + 64; t++) {
    uint32_t u = t < 64 ? (uint32_t)(0x7F7FFFC0u + t) ^ (t & 32 ? 0x80000000u : 0)
                        : (uint32_t)next(&s);
    if (t % 7 == 0) u = (u & 0xFFFF0000u) | 0x8000u | (uint32_t)(t & 1) << 16; /* ties */
    fp8lab_gemm_epilogue(&g, 0, 0, u);
    float x = fp8lab_f32_from_bits(u);
    uint32_t want = fp8lab_encode_f64(fp8lab_bf16, (double)x, &rne, 0);
    if (h != want) fail_msg("f32 0x%08X: bf16 0x%04X, codec 0x%04X", u, h, want);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fast_matches_reference),
      cmocka_unit_test(test_other_formats),
      cmocka_unit_test(test_models_without_kernel),
      cmocka_unit_test(test_thread_count_independence),
      cmocka_unit_test(test_argument_errors),
      cmocka_unit_test(test_c_semantics),
      cmocka_unit_test(test_bf16_store_is_codec),
  };
  return cmocka_run_group_tests_name("gemm engines", tests, NULL, NULL);
}
