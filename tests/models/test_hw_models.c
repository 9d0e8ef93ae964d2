/* Suite 'hw': every recorded output of the H100 traces in data/ replayed
 * through the models, by the reference engine and by every variant of the
 * specialised kernel the CPU runs; bit patterns compared, NaN included.
 * The counts printed are the ones docs/hardware-models.md quotes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engines.h"
#include "fp8lab/gemm.h"
#include "h5read.h"

/* "e4m3_e5m2..." -> the two operand formats. */
static void pair_formats(const char *name, const fp8lab_format **fa,
                         const fp8lab_format **fb) {
  *fa = trace_format(name);
  *fb = trace_format(name + 5);
}

static long long open_trace(const char *name) {
  long long f = h5_open(h5_data_path(name));
  if (f < 0) fail_msg("cannot open %s", h5_data_path(name));
  return f;
}

static void read_or_fail(long long f, const char *path, h5arr *a) {
  if (h5_read(f, path, a) != 0) fail_msg("cannot read dataset %s", path);
}

/* ---- wgmma: one instruction (or a chain) per instance ------------------ */

/* A[n][M][K], B[n][N][K], C/D[n][M][N] f32: D = A B^T + C per instance. */
static void replay_instances(const char *file, const char *model_name,
                             size_t *ok_total, size_t *n_total) {
  long long f = open_trace(file);
  char **groups;
  size_t ng = h5_groups_with(f, "D", &groups);
  assert_true(ng > 0);
  const fp8lab_model *md = fp8lab_model_named(model_name);
  assert_non_null(md);
  for (size_t gi = 0; gi < ng; gi++) {
    char path[512];
    h5arr A, B, C, D;
    snprintf(path, sizeof path, "%s/A", groups[gi]), read_or_fail(f, path, &A);
    snprintf(path, sizeof path, "%s/B", groups[gi]), read_or_fail(f, path, &B);
    snprintf(path, sizeof path, "%s/C", groups[gi]), read_or_fail(f, path, &C);
    snprintf(path, sizeof path, "%s/D", groups[gi]), read_or_fail(f, path, &D);
    const fp8lab_format *fa, *fb;
    pair_formats(groups[gi], &fa, &fb);
    assert_non_null(fa);
    assert_non_null(fb);
    size_t n = A.dims[0], M = A.dims[1], K = A.dims[2], N = B.dims[1];
    engine_counts cnt = {0};
    for (size_t t = 0; t < n; t++) {
      fp8lab_gemm_args g = {
          .model = md, .m = M, .n = N, .k = K, .fa = fa, .fb = fb,
          .a = (const uint8_t *)A.data + t * M * K, .a_rs = (ptrdiff_t)K, .a_cs = 1,
          .b = (const uint8_t *)B.data + t * N * K, .b_rs = 1, .b_cs = (ptrdiff_t)K,
          .c = (const float *)C.data + t * M * N, .c_rs = (ptrdiff_t)N,
          .out_type = FP8LAB_OUT_F32, .threads = 1};
      assert_true(run_engines(&g, (const uint32_t *)D.data + t * M * N, N,
                              groups[gi], &cnt));
    }
    char what[600];
    snprintf(what, sizeof what, "%s %s [%s]", file, groups[gi], model_name);
    print_counts(what, &cnt);
    *ok_total += cnt.ok[ENGINE_REF];
    *n_total += cnt.total[ENGINE_REF];
    assert_true(all_exact(&cnt, n * M * N));
    h5_free(&A), h5_free(&B), h5_free(&C), h5_free(&D);
  }
  h5_free_names(groups, ng);
  h5_close(f);
}

static void test_wgmma_dev(void **state) {
  (void)state;
  size_t ok = 0, n = 0;
  replay_instances("wgmma_dev.h5", "hopper-wgmma", &ok, &n);
  printf("wgmma_dev.h5 total: %zu / %zu\n", ok, n);
  assert_int_equal(n, 884736);
}

static void test_wgmma_chain_dev(void **state) {
  (void)state;
  size_t ok = 0, n = 0;
  replay_instances("wgmma_chain_dev.h5", "hopper-wgmma", &ok, &n);
  printf("wgmma_chain_dev.h5 total: %zu / %zu\n", ok, n);
  assert_int_equal(n, 131072);
}

/* mma.sync: the f16 HMMA path; no specialised kernel (reference only). */
static void test_mma_sync_dev(void **state) {
  (void)state;
  size_t ok = 0, n = 0;
  replay_instances("mma_sync_dev.h5", "hopper-mma-sync", &ok, &n);
  printf("mma_sync_dev.h5 total: %zu / %zu\n", ok, n);
  assert_int_equal(n, 884736);
}

/* f16 accumulator: fp8lab_model_dot's f16 patterns compared with D as
 * stored; the GEMM engines (f32 output: exact widening) with D widened. */
static void test_wgmma_f16acc_dev(void **state) {
  (void)state;
  long long f = open_trace("wgmma_f16acc_dev.h5");
  char **groups;
  size_t ng = h5_groups_with(f, "D", &groups);
  assert_int_equal(ng, 2);
  const fp8lab_model *md = fp8lab_model_named("hopper-wgmma-f16");
  assert_non_null(md);
  size_t ok_dot = 0, total = 0;
  for (size_t gi = 0; gi < ng; gi++) {
    char path[512];
    h5arr A, B, C, D;
    snprintf(path, sizeof path, "%s/A", groups[gi]), read_or_fail(f, path, &A);
    snprintf(path, sizeof path, "%s/B", groups[gi]), read_or_fail(f, path, &B);
    snprintf(path, sizeof path, "%s/C", groups[gi]), read_or_fail(f, path, &C);
    snprintf(path, sizeof path, "%s/D", groups[gi]), read_or_fail(f, path, &D);
    const fp8lab_format *fa, *fb;
    pair_formats(groups[gi], &fa, &fb);
    size_t n = A.dims[0], M = A.dims[1], K = A.dims[2], N = B.dims[1];
    const uint8_t *a = A.data, *b = B.data;
    const uint16_t *c16 = C.data, *d16 = D.data;
    float *c32 = malloc(M * N * sizeof *c32);
    uint32_t *d32 = malloc(M * N * sizeof *d32);
    engine_counts cnt = {0};
    size_t ok_g = 0, shown = 0;
    for (size_t t = 0; t < n; t++) {
      for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
          size_t o = t * M * N + i * N + j;
          uint32_t d = fp8lab_model_dot(md, fa, a + (t * M + i) * K, 1, fb,
                                        b + (t * N + j) * K, 1, K, c16[o], NULL, NULL);
          ok_g += d == d16[o];
          if (d != d16[o] && shown++ < 8)
            printf("  mismatch %s (%zu,%zu,%zu): got 0x%04X want 0x%04X\n",
                   groups[gi], t, i, j, (unsigned)d, (unsigned)d16[o]);
          c32[i * N + j] = fp8lab_f32_from_bits(
              fp8lab_decode_f32bits(fp8lab_f16, c16[o], FP8LAB_NAN_CANONICAL));
          d32[i * N + j] = fp8lab_decode_f32bits(fp8lab_f16, d16[o], FP8LAB_NAN_CANONICAL);
        }
      fp8lab_gemm_args g = {
          .model = md, .m = M, .n = N, .k = K, .fa = fa, .fb = fb,
          .a = a + t * M * K, .a_rs = (ptrdiff_t)K, .a_cs = 1,
          .b = b + t * N * K, .b_rs = 1, .b_cs = (ptrdiff_t)K,
          .c = c32, .c_rs = (ptrdiff_t)N, .out_type = FP8LAB_OUT_F32, .threads = 1};
      assert_true(run_engines(&g, d32, N, groups[gi], &cnt));
    }
    char what[600];
    snprintf(what, sizeof what, "wgmma_f16acc_dev.h5 %s [gemm, f32 out]", groups[gi]);
    print_counts(what, &cnt);
    printf("%-44s %-14s %9zu / %9zu bit-exact (f16 patterns)\n",
           "wgmma_f16acc_dev.h5 [fp8lab_model_dot]", groups[gi], ok_g, n * M * N);
    ok_dot += ok_g;
    total += n * M * N;
    assert_true(all_exact(&cnt, n * M * N));
    free(c32), free(d32);
    h5_free(&A), h5_free(&B), h5_free(&C), h5_free(&D);
  }
  printf("wgmma_f16acc_dev.h5 total: %zu / %zu\n", ok_dot, total);
  assert_int_equal(total, 442368);
  assert_int_equal(ok_dot, total);
  h5_free_names(groups, ng);
  h5_close(f);
}

/* ---- cuBLASLt -------------------------------------------------------- */

static void test_scaled_mm_dev(void **state) {
  (void)state;
  long long f = open_trace("scaled_mm_dev.h5");
  char **groups;
  size_t ng = h5_groups_with(f, "D", &groups);
  assert_int_equal(ng, 97);
  const char *outs[2] = {"D", "D_fast"};
  const char *models[2] = {"cublaslt", "cublaslt-fast"};
  size_t ok[2] = {0}, tot[2] = {0};
  for (size_t gi = 0; gi < ng; gi++) {
    char path[512];
    h5arr A, B;
    snprintf(path, sizeof path, "%s/A", groups[gi]), read_or_fail(f, path, &A);
    snprintf(path, sizeof path, "%s/B", groups[gi]), read_or_fail(f, path, &B);
    const char *pair = strncmp(groups[gi], "large/", 6) == 0 ? groups[gi] + 6 : groups[gi];
    const fp8lab_format *fa, *fb;
    pair_formats(pair, &fa, &fb);
    assert_non_null(fa);
    assert_non_null(fb);
    size_t M = A.dims[0], K = A.dims[1], N = B.dims[0];
    for (int o = 0; o < 2; o++) {
      h5arr D;
      snprintf(path, sizeof path, "%s/%s", groups[gi], outs[o]), read_or_fail(f, path, &D);
      fp8lab_gemm_args g = {
          .model = fp8lab_model_named(models[o]), .m = M, .n = N, .k = K,
          .fa = fa, .fb = fb, .a = A.data, .a_rs = (ptrdiff_t)K, .a_cs = 1,
          .b = B.data, .b_rs = 1, .b_cs = (ptrdiff_t)K,
          .out_type = FP8LAB_OUT_F32, .threads = 0};
      assert_true(fp8lab_gemm_fast_supports(&g));
      engine_counts cnt = {0};
      char what[600];
      snprintf(what, sizeof what, "%s/%s [%s]", groups[gi], outs[o], models[o]);
      assert_true(run_engines(&g, D.data, N, what, &cnt));
      if (!all_exact(&cnt, M * N) || strncmp(groups[gi], "large/", 6) == 0)
        print_counts(what, &cnt);
      ok[o] += cnt.ok[ENGINE_REF];
      tot[o] += cnt.total[ENGINE_REF];
      assert_true(all_exact(&cnt, M * N));
      h5_free(&D);
    }
    h5_free(&A), h5_free(&B);
  }
  for (int o = 0; o < 2; o++)
    printf("scaled_mm_dev.h5 %-6s [%s]: %zu / %zu bit-exact (every engine)\n",
           outs[o], models[o], ok[o], tot[o]);
  h5_free_names(groups, ng);
  h5_close(f);
}

static void test_scaled_gemm_dev(void **state) {
  (void)state;
  long long f = open_trace("scaled_gemm_dev.h5");
  static const char *const groups[] = {"K128", "K512", "K2048"};
  static const struct {
    const char *mode, *model;
    fp8lab_scale_mode scale;
  } cases[] = {
      {"tensor", "cublaslt", FP8LAB_SCALE_TENSOR},
      {"tensor_fast", "cublaslt-fast", FP8LAB_SCALE_TENSOR},
      {"rowwise", "cublaslt", FP8LAB_SCALE_ROWWISE},
      {"rowwise_fast", "cublaslt-fast", FP8LAB_SCALE_ROWWISE},
      {"blockwise", "deepgemm", FP8LAB_SCALE_BLOCKWISE},
  };
  size_t ok = 0, tot = 0, nout = 0;
  for (size_t gi = 0; gi < sizeof groups / sizeof groups[0]; gi++) {
    char path[512];
    h5arr A, B, ra, cb, ta, bb;
    snprintf(path, sizeof path, "%s/A", groups[gi]), read_or_fail(f, path, &A);
    snprintf(path, sizeof path, "%s/B", groups[gi]), read_or_fail(f, path, &B);
    snprintf(path, sizeof path, "%s/row_scale_a", groups[gi]), read_or_fail(f, path, &ra);
    snprintf(path, sizeof path, "%s/col_scale_b", groups[gi]), read_or_fail(f, path, &cb);
    snprintf(path, sizeof path, "%s/tile_scale_a_1x128", groups[gi]), read_or_fail(f, path, &ta);
    snprintf(path, sizeof path, "%s/block_scale_b_128x128", groups[gi]), read_or_fail(f, path, &bb);
    float sa, sb;
    assert_int_equal(h5_attr_float(f, groups[gi], "tensor_scale_a", &sa), 0);
    assert_int_equal(h5_attr_float(f, groups[gi], "tensor_scale_b", &sb), 0);
    size_t M = A.dims[0], K = A.dims[1], N = B.dims[0];
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
      for (int ob = 0; ob < 2; ob++) {
        snprintf(path, sizeof path, "%s/D_%s_%s", groups[gi], cases[ci].mode,
                 ob ? "bf16" : "f32");
        if (!h5_exists(f, path)) continue;
        h5arr D;
        read_or_fail(f, path, &D);
        fp8lab_gemm_args g = {
            .model = fp8lab_model_named(cases[ci].model), .m = M, .n = N, .k = K,
            .fa = fp8lab_e4m3fn, .fb = fp8lab_e4m3fn, .a = A.data,
            .a_rs = (ptrdiff_t)K, .a_cs = 1, .b = B.data, .b_rs = 1,
            .b_cs = (ptrdiff_t)K,
            .scales = {.mode = cases[ci].scale, .tensor_a = sa, .tensor_b = sb,
                       .row_a = ra.data, .col_b = cb.data, .tile_a = ta.data,
                       .block_b = bb.data},
            .out_type = ob ? FP8LAB_OUT_BF16 : FP8LAB_OUT_F32, .threads = 0};
        engine_counts cnt = {0};
        assert_true(run_engines(&g, D.data, N, path, &cnt));
        char what[600];
        snprintf(what, sizeof what, "%s [%s]", path, cases[ci].model);
        print_counts(what, &cnt);
        ok += cnt.ok[ENGINE_REF];
        tot += cnt.total[ENGINE_REF];
        nout++;
        assert_true(all_exact(&cnt, M * N));
        h5_free(&D);
      }
    h5_free(&A), h5_free(&B), h5_free(&ra), h5_free(&cb), h5_free(&ta), h5_free(&bb);
  }
  printf("scaled_gemm_dev.h5: %zu outputs, %zu / %zu values bit-exact\n", nout, ok, tot);
  assert_int_equal(nout, 30);
  h5_close(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wgmma_dev),
      cmocka_unit_test(test_wgmma_chain_dev),
      cmocka_unit_test(test_wgmma_f16acc_dev),
      cmocka_unit_test(test_mma_sync_dev),
      cmocka_unit_test(test_scaled_mm_dev),
      cmocka_unit_test(test_scaled_gemm_dev),
  };
  return cmocka_run_group_tests_name("hw models", tests, NULL, NULL);
}
