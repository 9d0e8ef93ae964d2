/*
 * fp8lab's conversions against the H100 conversion traces in data/cvt.h5
 * (recorded by `recorder.cu cvtscan|cvt16`, see shared/hw-traces/README.md).
 *
 * The file holds what `cvt.rn.satfinite.{e4m3x2,e5m2x2}` wrote on a real H100:
 *
 *   f32_intervals[fmt][isnan][sign][code][lo, hi, count]
 *       over all 2^32 f32 bit patterns: for each (input is NaN, input sign,
 *       output code) the smallest and largest input bit pattern that produced
 *       the code and how many did; count 0 has lo = UINT64_MAX, hi = 0.
 *   f16_to_fp8[fmt][65536]    cvt.rn.satfinite.{e4m3x2,e5m2x2}.f16x2
 *   fp8_to_f16[fmt][256]      cvt.rn.f16x2.{e4m3x2,e5m2x2}
 *
 * fmt 0 is OCP E4M3 (fp8lab's e4m3fn), fmt 1 is E5M2.  The hardware's NaN is
 * the canonical one (0x7F, 0x7FFF), so every fp8lab conversion here runs with
 * RNE, satfinite (f32/f16 -> fp8) and FP8LAB_NAN_CANONICAL.
 *
 * Because f32 -> fp8 rounding is monotone, each (isnan, sign, code) class is
 * a contiguous run of bit patterns: equal [lo, hi, count] for every class
 * means equal codes for every one of the 2^32 inputs.  The sweep computes the
 * same table from fp8lab and compares all of it, field by field.
 *
 * Usage: test_hw_cvt fast | sweep-ref | sweep-public
 *   fast          f16 -> fp8 (all 2^16) and fp8 -> f16 (all 256), suite hw
 *   sweep-ref     all 2^32 f32 through fp8lab_encode_f32_array_ref
 *   sweep-public  all 2^32 f32 through fp8lab_encode_f32_array (the public,
 *                 possibly specialised path)
 * The sweeps use FP8LAB_TEST_THREADS threads (default 2).
 */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <hdf5.h>

#include "fp8lab/convert.h"
#include "fp8lab/format.h"
#include "fp8lab_config.h"

#define NFMT 2
#define NCODE 256
#define NF16 65536

/* The file's format axis. */
static const char *const fmt_label[NFMT] = {"e4m3", "e5m2"};
static const fp8lab_format *fmt_of(int i) {
  return i == 0 ? fp8lab_e4m3fn : fp8lab_e5m2;
}

typedef struct {
  uint64_t lo, hi, count;
} interval;

typedef struct {
  interval f32[NFMT][2][2][NCODE]; /* [fmt][isnan][sign][code] */
  uint8_t f16_to_fp8[NFMT][NF16];
  uint16_t fp8_to_f16[NFMT][NCODE];
} hw_traces;

static hw_traces *traces; /* read once per process */

/* ---- reading data/cvt.h5 ------------------------------------------------ */

static void trace_path(char *buf, size_t len) {
  const char *dir = getenv("FP8LAB_DATA_DIR");
  if (!dir || !*dir) dir = FP8LAB_DATA_DIR;
  snprintf(buf, len, "%s/cvt.h5", dir);
}

/* Read dataset `name` of shape dims[0..rank-1] into buf as mem_type.  The
 * stored type must be an unsigned integer of `size` bytes.  Returns 0 or -1
 * (with a message). */
static int read_dataset(hid_t file, const char *name, int rank,
                        const hsize_t *dims, hid_t mem_type, size_t size,
                        void *buf) {
  int rc = -1;
  hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
  if (ds < 0) {
    fprintf(stderr, "cvt.h5: no dataset '%s'\n", name);
    return -1;
  }
  hid_t sp = H5Dget_space(ds), ty = H5Dget_type(ds);
  hsize_t got[8];
  int r = H5Sget_simple_extent_ndims(sp);
  if (r != rank || r > 8) {
    fprintf(stderr, "cvt.h5: '%s' has rank %d, expected %d\n", name, r, rank);
    goto out;
  }
  H5Sget_simple_extent_dims(sp, got, NULL);
  for (int i = 0; i < rank; i++)
    if (got[i] != dims[i]) {
      fprintf(stderr, "cvt.h5: '%s' dim %d is %llu, expected %llu\n", name, i,
              (unsigned long long)got[i], (unsigned long long)dims[i]);
      goto out;
    }
  if (H5Tget_class(ty) != H5T_INTEGER || H5Tget_sign(ty) != H5T_SGN_NONE ||
      H5Tget_size(ty) != size) {
    fprintf(stderr, "cvt.h5: '%s' is not a %zu-byte unsigned integer\n", name,
            size);
    goto out;
  }
  if (H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
    fprintf(stderr, "cvt.h5: reading '%s' failed\n", name);
    goto out;
  }
  rc = 0;
out:
  H5Tclose(ty);
  H5Sclose(sp);
  H5Dclose(ds);
  return rc;
}

static int load_traces(void **state) {
  (void)state;
  if (traces) return 0;
  char path[4096];
  trace_path(path, sizeof path);
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) {
    fprintf(stderr, "cannot open %s\n", path);
    return -1;
  }
  hw_traces *t = calloc(1, sizeof *t);
  static uint64_t raw[NFMT][2][2][NCODE][3];
  const hsize_t d_iv[] = {NFMT, 2, 2, NCODE, 3};
  const hsize_t d_h2f[] = {NFMT, NF16};
  const hsize_t d_f2h[] = {NFMT, NCODE};
  int rc = t ? 0 : -1;
  if (!rc)
    rc = read_dataset(file, "f32_intervals", 5, d_iv, H5T_NATIVE_UINT64, 8, raw);
  if (!rc)
    rc = read_dataset(file, "f16_to_fp8", 2, d_h2f, H5T_NATIVE_UINT8, 1,
                      t->f16_to_fp8);
  if (!rc)
    rc = read_dataset(file, "fp8_to_f16", 2, d_f2h, H5T_NATIVE_UINT16, 2,
                      t->fp8_to_f16);
  H5Fclose(file);
  if (rc) {
    free(t);
    return -1;
  }
  for (int f = 0; f < NFMT; f++)
    for (int n = 0; n < 2; n++)
      for (int s = 0; s < 2; s++)
        for (int c = 0; c < NCODE; c++)
          t->f32[f][n][s][c] = (interval){raw[f][n][s][c][0], raw[f][n][s][c][1],
                                          raw[f][n][s][c][2]};
  traces = t;
  return 0;
}

/* ---- the file is what it says ------------------------------------------- */

static void test_trace_file_sane(void **state) {
  (void)state;
  for (int f = 0; f < NFMT; f++) {
    uint64_t total = 0, contiguous = 0, classes = 0;
    for (int n = 0; n < 2; n++)
      for (int s = 0; s < 2; s++)
        for (int c = 0; c < NCODE; c++) {
          const interval *iv = &traces->f32[f][n][s][c];
          total += iv->count;
          if (iv->count) {
            classes++;
            contiguous += iv->hi - iv->lo + 1 == iv->count;
          }
        }
    printf("cvt.h5 %s: %" PRIu64 " inputs in %" PRIu64 " classes, %" PRIu64
           " contiguous\n", fmt_label[f], total, classes, contiguous);
    /* every f32 pattern was converted exactly once */
    assert_int_equal(total, UINT64_C(1) << 32);
  }
}

/* ---- f16 -> fp8 and fp8 -> f16 (all inputs) ----------------------------- */

static const fp8lab_cvt rne_sat_canonical = {
    .round = FP8LAB_RNE, .saturate = true, .nan = FP8LAB_NAN_CANONICAL};
static const fp8lab_cvt rne_canonical = {
    .round = FP8LAB_RNE, .saturate = false, .nan = FP8LAB_NAN_CANONICAL};

static void check_f16_to_fp8(int f, bool array_path) {
  static uint16_t in[NF16];
  static uint8_t out[NF16];
  for (uint32_t h = 0; h < NF16; h++) in[h] = (uint16_t)h;
  if (array_path)
    fp8lab_recode_array(fp8lab_f16, in, fmt_of(f), out, NF16,
                        &rne_sat_canonical, 0);
  else
    for (uint32_t h = 0; h < NF16; h++)
      out[h] = (uint8_t)fp8lab_recode(fp8lab_f16, h, fmt_of(f),
                                      &rne_sat_canonical, 0);
  unsigned bad = 0, first = 0;
  for (uint32_t h = 0; h < NF16; h++)
    if (out[h] != traces->f16_to_fp8[f][h] && bad++ == 0) first = h;
  if (bad)
    fail_msg("f16 -> %s (%s): %u of 65536 differ; first: f16 0x%04X, "
             "hardware 0x%02X, fp8lab 0x%02X", fmt_label[f],
             array_path ? "fp8lab_recode_array" : "fp8lab_recode", bad, first,
             traces->f16_to_fp8[f][first], out[first]);
}

static void test_f16_to_e4m3fn(void **s) { (void)s; check_f16_to_fp8(0, false); }
static void test_f16_to_e5m2(void **s) { (void)s; check_f16_to_fp8(1, false); }
static void test_f16_to_e4m3fn_array(void **s) { (void)s; check_f16_to_fp8(0, true); }
static void test_f16_to_e5m2_array(void **s) { (void)s; check_f16_to_fp8(1, true); }

static void check_fp8_to_f16(int f, bool array_path) {
  uint8_t in[NCODE];
  uint16_t out[NCODE];
  for (int c = 0; c < NCODE; c++) in[c] = (uint8_t)c;
  if (array_path)
    fp8lab_recode_array(fmt_of(f), in, fp8lab_f16, out, NCODE, &rne_canonical, 0);
  else
    for (int c = 0; c < NCODE; c++)
      out[c] = (uint16_t)fp8lab_recode(fmt_of(f), (uint32_t)c, fp8lab_f16,
                                       &rne_canonical, 0);
  unsigned bad = 0, first = 0;
  for (int c = 0; c < NCODE; c++)
    if (out[c] != traces->fp8_to_f16[f][c] && bad++ == 0) first = (unsigned)c;
  if (bad)
    fail_msg("%s -> f16 (%s): %u of 256 differ; first: code 0x%02X, hardware "
             "0x%04X, fp8lab 0x%04X", fmt_label[f],
             array_path ? "fp8lab_recode_array" : "fp8lab_recode", bad, first,
             traces->fp8_to_f16[f][first], out[first]);
}

static void test_e4m3fn_to_f16(void **s) { (void)s; check_fp8_to_f16(0, false); }
static void test_e5m2_to_f16(void **s) { (void)s; check_fp8_to_f16(1, false); }
static void test_e4m3fn_to_f16_array(void **s) { (void)s; check_fp8_to_f16(0, true); }
static void test_e5m2_to_f16_array(void **s) { (void)s; check_fp8_to_f16(1, true); }

/* ---- all 2^32 f32 inputs -------------------------------------------------- */

#define CHUNK 65536

typedef struct {
  const fp8lab_format *f;
  bool ref; /* fp8lab_encode_f32_array_ref, else fp8lab_encode_f32_array */
  uint64_t begin, end;
  interval acc[2][2][NCODE];
} sweep_job;

static void *sweep_worker(void *arg) {
  sweep_job *j = arg;
  float *in = malloc(CHUNK * sizeof *in);
  uint8_t *out = malloc(CHUNK);
  if (!in || !out) {
    free(in);
    free(out);
    return (void *)1;
  }
  for (int n = 0; n < 2; n++)
    for (int s = 0; s < 2; s++)
      for (int c = 0; c < NCODE; c++) j->acc[n][s][c] = (interval){UINT64_MAX, 0, 0};
  for (uint64_t base = j->begin; base < j->end; base += CHUNK) {
    size_t len = j->end - base < CHUNK ? (size_t)(j->end - base) : CHUNK;
    for (size_t i = 0; i < len; i++) {
      uint32_t b = (uint32_t)(base + i);
      memcpy(&in[i], &b, sizeof b);
    }
    if (j->ref)
      fp8lab_encode_f32_array_ref(j->f, in, out, len, &rne_sat_canonical, base);
    else
      fp8lab_encode_f32_array(j->f, in, out, len, &rne_sat_canonical, base);
    for (size_t i = 0; i < len; i++) {
      uint32_t b = (uint32_t)(base + i);
      int isnan_ = (b & 0x7FFFFFFFu) > 0x7F800000u, sign = (int)(b >> 31);
      interval *iv = &j->acc[isnan_][sign][out[i]];
      if (b < iv->lo) iv->lo = b;
      if (b > iv->hi) iv->hi = b;
      iv->count++;
    }
  }
  free(in);
  free(out);
  return NULL;
}

static int sweep_threads(void) {
  const char *e = getenv("FP8LAB_TEST_THREADS");
  int n = e ? atoi(e) : 2;
  return n < 1 ? 1 : n > 64 ? 64 : n;
}

/* The hardware's code for input bits b, from the file's intervals (valid
 * because each class is contiguous; -1 if no interval holds b). */
static int hw_code_for(int f, uint32_t b) {
  int n = (b & 0x7FFFFFFFu) > 0x7F800000u, s = (int)(b >> 31);
  for (int c = 0; c < NCODE; c++) {
    const interval *iv = &traces->f32[f][n][s][c];
    if (iv->count && iv->hi - iv->lo + 1 == iv->count && b >= iv->lo &&
        b <= iv->hi)
      return c;
  }
  return -1;
}

static void run_sweep(int f, bool ref) {
  const fp8lab_format *fmt = fmt_of(f);
  int nt = sweep_threads();
  sweep_job *jobs = calloc((size_t)nt, sizeof *jobs);
  pthread_t *tid = calloc((size_t)nt, sizeof *tid);
  assert_non_null(jobs);
  assert_non_null(tid);
  const uint64_t total = UINT64_C(1) << 32;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int t = 0; t < nt; t++) {
    jobs[t].f = fmt;
    jobs[t].ref = ref;
    jobs[t].begin = total * (uint64_t)t / (uint64_t)nt;
    jobs[t].end = total * (uint64_t)(t + 1) / (uint64_t)nt;
    assert_int_equal(pthread_create(&tid[t], NULL, sweep_worker, &jobs[t]), 0);
  }
  for (int t = 0; t < nt; t++) {
    void *r = NULL;
    pthread_join(tid[t], &r);
    assert_null(r);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  printf("%s %s: 2^32 inputs in %.1f s (%.0f M/s, %d threads)\n",
         ref ? "fp8lab_encode_f32_array_ref" : "fp8lab_encode_f32_array",
         fmt->name, sec, (double)total / sec / 1e6, nt);

  interval got[2][2][NCODE];
  for (int n = 0; n < 2; n++)
    for (int s = 0; s < 2; s++)
      for (int c = 0; c < NCODE; c++) {
        interval m = {UINT64_MAX, 0, 0};
        for (int t = 0; t < nt; t++) {
          const interval *a = &jobs[t].acc[n][s][c];
          if (a->lo < m.lo) m.lo = a->lo;
          if (a->hi > m.hi) m.hi = a->hi;
          m.count += a->count;
        }
        got[n][s][c] = m;
      }
  free(jobs);
  free(tid);

  unsigned bad = 0;
  char first[512] = "";
  for (int n = 0; n < 2; n++)
    for (int s = 0; s < 2; s++)
      for (int c = 0; c < NCODE; c++) {
        const interval *e = &traces->f32[f][n][s][c], *g = &got[n][s][c];
        if (e->lo == g->lo && e->hi == g->hi && e->count == g->count) continue;
        if (bad++) continue;
        /* An input where the two differ: the first end of the class that
         * does not match (where one side's class begins or ends early). */
        uint64_t x = e->lo != g->lo ? (e->lo < g->lo ? e->lo : g->lo)
                                    : (e->hi > g->hi ? e->hi : g->hi);
        if (x > UINT32_MAX) x = e->count ? e->lo : g->lo;
        uint32_t xb = (uint32_t)x;
        char hw[16];
        int hc = hw_code_for(f, xb);
        if (hc < 0) snprintf(hw, sizeof hw, "?");
        else snprintf(hw, sizeof hw, "0x%02X", (unsigned)hc);
        float xf;
        memcpy(&xf, &xb, sizeof xf);
        uint8_t code;
        if (ref)
          fp8lab_encode_f32_array_ref(fmt, &xf, &code, 1, &rne_sat_canonical, 0);
        else
          fp8lab_encode_f32_array(fmt, &xf, &code, 1, &rne_sat_canonical, 0);
        snprintf(first, sizeof first,
                 "[isnan=%d][sign=%d][code 0x%02X]: hardware lo 0x%08" PRIX64
                 " hi 0x%08" PRIX64 " count %" PRIu64 ", fp8lab lo 0x%08" PRIX64
                 " hi 0x%08" PRIX64 " count %" PRIu64
                 "; e.g. input 0x%08X: hardware code %s, fp8lab code 0x%02X",
                 n, s, c, e->lo, e->hi, e->count, g->lo, g->hi, g->count, xb,
                 hw, (unsigned)code);
      }
  if (bad)
    fail_msg("f32 -> %s via %s: %u of %d (isnan, sign, code) classes differ "
             "from cvt.h5; first %s", fmt_label[f],
             ref ? "fp8lab_encode_f32_array_ref" : "fp8lab_encode_f32_array",
             bad, 2 * 2 * NCODE, first);
}

static void test_sweep_ref_e4m3fn(void **s) { (void)s; run_sweep(0, true); }
static void test_sweep_ref_e5m2(void **s) { (void)s; run_sweep(1, true); }
static void test_sweep_public_e4m3fn(void **s) { (void)s; run_sweep(0, false); }
static void test_sweep_public_e5m2(void **s) { (void)s; run_sweep(1, false); }

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "fast";
  if (strcmp(mode, "fast") == 0) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_file_sane),
        cmocka_unit_test(test_f16_to_e4m3fn),
        cmocka_unit_test(test_f16_to_e5m2),
        cmocka_unit_test(test_f16_to_e4m3fn_array),
        cmocka_unit_test(test_f16_to_e5m2_array),
        cmocka_unit_test(test_e4m3fn_to_f16),
        cmocka_unit_test(test_e5m2_to_f16),
        cmocka_unit_test(test_e4m3fn_to_f16_array),
        cmocka_unit_test(test_e5m2_to_f16_array),
    };
    return cmocka_run_group_tests_name("hw_cvt", tests, load_traces, NULL);
  }
  if (strcmp(mode, "sweep-ref") == 0) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_ref_e4m3fn),
        cmocka_unit_test(test_sweep_ref_e5m2),
    };
    return cmocka_run_group_tests_name("hw_cvt_f32_ref", tests, load_traces, NULL);
  }
  if (strcmp(mode, "sweep-public") == 0) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_public_e4m3fn),
        cmocka_unit_test(test_sweep_public_e5m2),
    };
    return cmocka_run_group_tests_name("hw_cvt_f32_public", tests, load_traces,
                                       NULL);
  }
  fprintf(stderr, "usage: %s fast|sweep-ref|sweep-public\n", argv[0]);
  return 2;
}
