/* tests/trace/test_trace_roundtrip.c: the trace writer, end to end.
 *
 * Four groups are made with seeded random inputs and the outputs fp8lab's
 * own models give (an instruction chain with f32 C, an f16-accumulator
 * instruction with f16 C, row-wise and block-/tensor-scaled GEMMs with f32
 * and bf16 outputs), written with the writer, read back (every field and
 * bit equal), and replayed by `fp8lab validate` (exit 0).  Then single bits
 * of single outputs are flipped, one file each: validate must exit 1 and
 * report exactly one mismatch, at the flipped group, output, case, i, j.
 * Also: the writer refuses groups the reader would reject, and leaves no
 * file behind when it gives up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "fp8lab/gemm.h"
#include "fp8lab/trace.h"
#include "util.h"

enum { NG = 4 };

typedef struct made {
  fp8lab_trace_group g;
  fp8lab_trace_output out[4];
} made;

static made groups[NG];
static char *dir;
static const char *exe;

static void *xcalloc(size_t n, size_t sz) {
  void *p = calloc(n ? n : 1, sz);
  assert_non_null(p);
  return p;
}

/* Uniform finite codes of f (NaN and Inf codes drawn again), so that the
 * outputs are numbers and a flipped bit is a measurable ULP distance. */
static void random_codes(const fp8lab_format *f, uint8_t *p, size_t n,
                         uint64_t seed) {
  for (size_t i = 0; i < n; i++) {
    uint8_t c;
    do c = (uint8_t)splitmix64(&seed);
    while (fp8lab_format_is_nan(f, c) || fp8lab_format_is_inf(f, c));
    p[i] = c;
  }
}

/* Positive scales in [0.25, 4): f32 values with random mantissas. */
static void random_scales(float *p, size_t n, uint64_t seed) {
  for (size_t i = 0; i < n; i++)
    p[i] = (float)(0.25 + 3.75 * (double)(splitmix64(&seed) >> 11) * 0x1p-53);
}

/* Output o of g under model md, case by case. */
static void compute(fp8lab_trace_group *g, fp8lab_trace_output *o,
                    const char *model) {
  const fp8lab_model *md = fp8lab_model_named(model);
  assert_non_null(md);
  size_t mn = g->m * g->n, es = fp8lab_trace_dtype_size(o->type);
  o->data = xcalloc(g->ncases * mn, es);
  float *c32 = NULL, *tmp = xcalloc(mn, sizeof *tmp);
  if (g->c) {
    c32 = xcalloc(g->ncases * mn, sizeof *c32);
    if (g->c_type == FP8LAB_TRACE_F32) memcpy(c32, g->c, 4 * g->ncases * mn);
    else fp8lab_decode_f32_array(fp8lab_trace_dtype_format(g->c_type), g->c,
                                 c32, g->ncases * mn, FP8LAB_NAN_SIGNED);
  }
  fp8lab_scale_mode sm;
  assert_true(fp8lab_trace_output_kind(o->name, &sm, &o->fast));
  for (size_t cs = 0; cs < g->ncases; cs++) {
    fp8lab_gemm_args a = {
        .model = md, .m = g->m, .n = g->n, .k = g->k, .fa = &g->fa,
        .fb = &g->fb, .a = g->a + cs * g->m * g->k, .a_rs = (ptrdiff_t)g->k,
        .a_cs = 1, .b = g->b + cs * g->n * g->k, .b_rs = 1,
        .b_cs = (ptrdiff_t)g->k, .c = c32 ? c32 + cs * mn : NULL,
        .c_rs = (ptrdiff_t)g->n,
        .scales = {sm, g->tensor_scale_a, g->tensor_scale_b, g->row_scale_a,
                   g->col_scale_b, g->tile_scale_a, g->block_scale_b},
        .out_type = o->type == FP8LAB_TRACE_BF16 ? FP8LAB_OUT_BF16 : FP8LAB_OUT_F32,
        .d = o->type == FP8LAB_TRACE_F16 ? (void *)tmp
                                         : (unsigned char *)o->data + cs * mn * es,
        .d_rs = (ptrdiff_t)g->n, .threads = 1};
    char err[256];
    if (fp8lab_gemm(&a, err, sizeof err) != 0) fail_msg("%s: %s", o->name, err);
    if (o->type == FP8LAB_TRACE_F16)
      for (size_t q = 0; q < mn; q++)
        ((uint16_t *)o->data)[cs * mn + q] =
            (uint16_t)fp8lab_encode_f32_rne(fp8lab_f16, tmp[q]);
  }
  free(c32);
  free(tmp);
}

static void base_group(made *w, const char *path, bool instr, size_t nc,
                       size_t m, size_t n, size_t k, const fp8lab_format *fa,
                       const fp8lab_format *fb, uint64_t seed) {
  fp8lab_trace_group *g = &w->g;
  memset(w, 0, sizeof *w);
  g->path = strdup(path);
  g->instruction = instr;
  g->fa = *fa, g->fb = *fb;
  g->ncases = nc, g->m = m, g->n = n, g->k = k;
  g->a = xcalloc(nc * m * k, 1);
  g->b = xcalloc(nc * n * k, 1);
  random_codes(fa, g->a, nc * m * k, seed);
  random_codes(fb, g->b, nc * n * k, seed + 1);
  g->outputs = w->out;
}

static void add_output(made *w, const char *name, fp8lab_trace_dtype t,
                       const char *model, bool record_model) {
  fp8lab_trace_output *o = &w->out[w->g.noutputs++];
  o->name = strdup(name);
  o->type = t;
  compute(&w->g, o, model);
  if (record_model) o->model = strdup(model);
}

static void make_groups(void) {
  /* 1: an instruction chain over K = 64, f32 C (random finite values, every
   * eighth +0), families */
  made *w = &groups[0];
  base_group(w, "wgmma/e4m3fn_e5m2/K64", true, 6, 8, 4, 64, fp8lab_e4m3fn,
             fp8lab_e5m2, 101);
  size_t nmn = 6 * 8 * 4;
  float *c = xcalloc(nmn, sizeof *c);
  uint64_t s = 7;
  for (size_t i = 0; i < nmn; i++)
    c[i] = i % 8 ? (float)((double)(int64_t)splitmix64(&s) * 0x1p-60) : 0.0f;
  w->g.c = c, w->g.c_type = FP8LAB_TRACE_F32;
  w->g.family = xcalloc(6, 1);
  for (size_t i = 0; i < 6; i++) w->g.family[i] = (uint8_t)(i % 3);
  add_output(w, "D", FP8LAB_TRACE_F32, "hopper-wgmma", true);
  w->out[0].kernels = strdup("[\"my_kernel<64>\"]");

  /* 2: f16 accumulator, f16 C */
  w = &groups[1];
  base_group(w, "f16/e5m2_e5m2", true, 3, 4, 4, 32, fp8lab_e5m2, fp8lab_e5m2,
             202);
  uint16_t *h = xcalloc(3 * 4 * 4, 2);
  s = 9;
  for (size_t i = 0; i < 48; i++)
    h[i] = (uint16_t)fp8lab_encode_f64_rne(
        fp8lab_f16, (double)(int64_t)splitmix64(&s) * 0x1p-58);
  w->g.c = h, w->g.c_type = FP8LAB_TRACE_F16;
  add_output(w, "D", FP8LAB_TRACE_F16, "hopper-wgmma-f16", true);

  /* 3: a GEMM with row-wise scales; no model attributes (auto by name) */
  w = &groups[2];
  base_group(w, "gemm/rowwise", false, 1, 24, 20, 256, fp8lab_e4m3fn,
             fp8lab_e4m3fn, 303);
  w->g.row_scale_a = xcalloc(24, 4);
  w->g.col_scale_b = xcalloc(20, 4);
  random_scales(w->g.row_scale_a, 24, 31);
  random_scales(w->g.col_scale_b, 20, 32);
  add_output(w, "D_rowwise_bf16", FP8LAB_TRACE_BF16, "cublaslt", false);
  add_output(w, "D_rowwise_f32", FP8LAB_TRACE_F32, "cublaslt", false);
  add_output(w, "D_rowwise_fast_f32", FP8LAB_TRACE_F32, "cublaslt-fast", false);

  /* 4: block-wise scales over two 128-column blocks of B (N = 160) and
   * three K tiles; tensor scales; unscaled D */
  w = &groups[3];
  base_group(w, "gemm/blockwise", false, 1, 16, 160, 384, fp8lab_e4m3fn,
             fp8lab_e4m3fn, 404);
  w->g.tile_scale_a = xcalloc(16 * 3, 4);
  w->g.block_scale_b = xcalloc(2 * 3, 4);
  random_scales(w->g.tile_scale_a, 48, 41);
  random_scales(w->g.block_scale_b, 6, 42);
  w->g.has_tensor_scales = true;
  w->g.tensor_scale_a = 0.8653275f, w->g.tensor_scale_b = 0.11752133f;
  add_output(w, "D", FP8LAB_TRACE_F32, "cublaslt", false);
  add_output(w, "D_blockwise_f32", FP8LAB_TRACE_F32, "deepgemm", false);
  add_output(w, "D_tensor_f32", FP8LAB_TRACE_F32, "cublaslt", false);
}

static void write_trace(const char *path) {
  char err[512];
  fp8lab_trace_writer *w = fp8lab_trace_writer_open(path, err, sizeof err);
  if (!w) fail_msg("%s", err);
  if (fp8lab_trace_writer_attr(w, "families", "[\"alpha\", \"beta\", \"gamma\"]",
                               err, sizeof err) ||
      fp8lab_trace_writer_attr(w, "gpu", "none (fp8lab test)", err, sizeof err))
    fail_msg("%s", err);
  for (int i = 0; i < NG; i++)
    if (fp8lab_trace_write_group(w, &groups[i].g, err, sizeof err))
      fail_msg("%s", err);
  if (fp8lab_trace_writer_close(w, err, sizeof err)) fail_msg("%s", err);
}

static char *read_text(const char *path) {
  size_t n = 0;
  unsigned char *b = slurp(path, &n);
  assert_non_null(b);
  char *s = xcalloc(n + 1, 1);
  memcpy(s, b, n);
  free(b);
  return s;
}

/* fp8lab validate path; returns the exit status, stdout in *out. */
static int validate(const char *path, char **out, char **err) {
  char o[4096], e[4096];
  snprintf(o, sizeof o, "%s/validate.out", dir);
  snprintf(e, sizeof e, "%s/validate.err", dir);
  char *argv[] = {(char *)exe, "validate", (char *)path, NULL};
  int rc = run_to(argv, o, e);
  *out = read_text(o);
  *err = read_text(e);
  return rc;
}

static int setup(void **state) {
  (void)state;
  exe = getenv("FP8LAB_EXE");
  if (!exe || !exe[0]) exe = "./fp8lab";
  dir = scratch_make("trace-roundtrip");
  assert_non_null(dir);
  make_groups();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  for (int i = 0; i < NG; i++) {
    for (size_t q = 0; q < groups[i].g.noutputs; q++) {
      free(groups[i].out[q].name);
      free(groups[i].out[q].model);
      free(groups[i].out[q].kernels);
      free(groups[i].out[q].data);
    }
    groups[i].g.noutputs = 0;
    groups[i].g.outputs = NULL;
    fp8lab_trace_group_free(&groups[i].g);
  }
  scratch_remove(dir);
  return 0;
}

static void test_read_back(void **state) {
  (void)state;
  char path[4096], err[512];
  snprintf(path, sizeof path, "%s/rt.h5", dir);
  write_trace(path);
  fp8lab_trace t;
  if (fp8lab_trace_open(path, &t, err, sizeof err)) fail_msg("%s", err);
  assert_int_equal(t.ngroups, NG);
  assert_int_equal(t.nfamilies, 3);
  assert_string_equal(t.families[2], "gamma");
  assert_string_equal(t.gpu, "none (fp8lab test)");
  for (int i = 0; i < NG; i++) {
    long gi = fp8lab_trace_find(&t, groups[i].g.path);
    assert_true(gi >= 0);
    fp8lab_trace_group g;
    if (fp8lab_trace_load(&t, (size_t)gi, &g, err, sizeof err)) fail_msg("%s", err);
    /* the reader fills the name-derived fields; the made groups too */
    for (size_t q = 0; q < g.noutputs; q++) {
      fp8lab_trace_output *o = &groups[i].out[q];
      fp8lab_trace_output_kind(o->name, &o->scales, &o->fast);
    }
    /* (outputs come back in name order; they were made in that order) */
    if (!groups_equal(&g, &groups[i].g))
      fail_msg("group %s differs after the round trip", groups[i].g.path);
    fp8lab_trace_group_free(&g);
  }
  fp8lab_trace_close(&t);

  char *out, *errs;
  int rc = validate(path, &out, &errs);
  if (rc != 0) fail_msg("validate exited %d:\n%s%s", rc, out, errs);
  assert_non_null(strstr(out, " 0 mismatched (8 outputs in 4 groups"));
  assert_string_equal(errs, "");
  /* auto used the model attributes and the names */
  assert_non_null(strstr(out, "wgmma/e4m3fn_e5m2/K64 D [hopper-wgmma]"));
  assert_non_null(strstr(out, "f16/e5m2_e5m2 D [hopper-wgmma-f16]"));
  assert_non_null(strstr(out, "gemm/rowwise D_rowwise_fast_f32 [cublaslt-fast]"));
  assert_non_null(strstr(out, "gemm/blockwise D_blockwise_f32 [deepgemm]"));
  free(out);
  free(errs);
}

typedef struct flip {
  int group, output;
  size_t cs, i, j;
  int bit;
} flip;

static void test_one_flipped_bit(void **state) {
  (void)state;
  static const flip flips[] = {
      {0, 0, 3, 5, 2, 0},    /* f32, lowest bit: ULP distance 1 */
      {1, 0, 1, 2, 3, 4},    /* f16 */
      {2, 0, 0, 7, 11, 15},  /* bf16 sign bit */
      {3, 1, 0, 3, 150, 22}, /* f32 in the second 128-column block */
  };
  for (size_t f = 0; f < sizeof flips / sizeof flips[0]; f++) {
    const flip *x = &flips[f];
    made *w = &groups[x->group];
    fp8lab_trace_output *o = &w->out[x->output];
    size_t at = (x->cs * w->g.m + x->i) * w->g.n + x->j;
    unsigned char *p = (unsigned char *)o->data +
                       at * fp8lab_trace_dtype_size(o->type) + x->bit / 8;
    *p ^= (unsigned char)(1u << (x->bit % 8));
    char path[4096];
    snprintf(path, sizeof path, "%s/flip%zu.h5", dir, f);
    write_trace(path);
    *p ^= (unsigned char)(1u << (x->bit % 8)); /* restore */

    char *out, *errs;
    int rc = validate(path, &out, &errs);
    if (rc != 1) fail_msg("flip %zu: validate exited %d, expected 1:\n%s%s", f,
                          rc, out, errs);
    char want[512];
    size_t total = w->g.ncases * w->g.m * w->g.n;
    snprintf(want, sizeof want, "%s %s [", w->g.path, o->name);
    const char *line = strstr(out, want);
    if (!line) fail_msg("flip %zu: no line for %s %s:\n%s", f, w->g.path,
                        o->name, out);
    snprintf(want, sizeof want, "]: %zu checked, %zu bit-exact, 1 mismatched\n",
             total, total - 1);
    const char *eol = strchr(line, '\n');
    if (!strstr(line, want) || strstr(line, want) > eol)
      fail_msg("flip %zu: expected '%s' on the line of %s %s:\n%s", f, want,
               w->g.path, o->name, out);
    snprintf(want, sizeof want, "first mismatch: %s case %zu", w->g.path, x->cs);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "i = %zu, j = %zu\n", x->i, x->j);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "  mismatches by ULP distance"));
    if (x->bit == 0 && !strstr(out, "(f32): 1: 1\n"))
      fail_msg("flip %zu: histogram should be one ULP-1 mismatch:\n%s", f, out);
    assert_non_null(strstr(out, " bit-exact, 1 mismatched (8 outputs in 4 groups"));
    /* exactly one group line reports a mismatch */
    size_t lines = 0;
    for (const char *q = out; (q = strstr(q, " mismatched\n")); q++)
      if (strncmp(q - 2, " 0", 2) != 0) lines++;
    assert_int_equal(lines, 1);
    free(out);
    free(errs);
  }
}

static void test_writer_refuses(void **state) {
  (void)state;
  char path[4096], err[512];
  snprintf(path, sizeof path, "%s/refused.h5", dir);
  fp8lab_trace_writer *w = fp8lab_trace_writer_open(path, err, sizeof err);
  assert_non_null(w);

  fp8lab_trace_group g = groups[2].g; /* the row-wise GEMM */
  fp8lab_trace_output o = groups[2].out[1]; /* D_rowwise_f32 */
  g.outputs = &o;
  g.noutputs = 1;
  /* case c bends one field (the switch below) */
  static const char *const cases[] = {
      "output name 'X'",        "a GEMM group has one case",
      "scales belong to GEMM groups", "group path",
      "needs scales the group does not have", "holds f32 values",
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    fp8lab_trace_group h = g;
    fp8lab_trace_output p = o;
    h.outputs = &p;
    switch (c) {
    case 0: p.name = (char *)"X"; break;
    case 1: h.ncases = 2; break;
    case 2: h.instruction = true; break;
    case 3: h.path = (char *)"/abs//path"; break;
    case 4: h.row_scale_a = h.col_scale_b = NULL; break;
    case 5: p.name = (char *)"D_rowwise_bf16"; break;
    }
    if (fp8lab_trace_write_group(w, &h, err, sizeof err) == 0)
      fail_msg("writer case %zu accepted", c);
    if (!strstr(err, cases[c]) || !strstr(err, path))
      fail_msg("writer case %zu: '%s' lacks '%s'", c, err, cases[c]);
  }
  /* the same group twice */
  assert_int_equal(fp8lab_trace_write_group(w, &g, err, sizeof err), 0);
  assert_int_equal(fp8lab_trace_write_group(w, &g, err, sizeof err), -1);
  assert_non_null(strstr(err, "gemm/rowwise"));
  fp8lab_trace_writer_abort(w);
  /* nothing left behind: neither the trace nor its temporary */
  struct stat st;
  assert_int_not_equal(stat(path, &st), 0);
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *e;
  while ((e = readdir(d)))
    if (strstr(e->d_name, "refused")) fail_msg("left behind: %s", e->d_name);
  closedir(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_read_back),
      cmocka_unit_test(test_one_flipped_bit),
      cmocka_unit_test(test_writer_refuses),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
