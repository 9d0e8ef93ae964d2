/* tests/trace/test_trace_fuzz.c: the trace reader against malformed files.
 *
 * A base trace is made from real H100 data (the first cases of
 * wgmma_dev.h5 e4m3_e5m2 and of wgmma_f16acc_dev.h5 e5m2_e5m2, and a 16 x 16
 * corner of scaled_gemm_dev.h5 K128 with all its scales and outputs) and
 * written with fp8lab's trace writer.  Copies of it are then broken: by the
 * HDF5 API (datasets deleted, retyped, reshaped, replaced by groups or
 * links; attributes wrong), by truncation at many lengths, and by random
 * byte flips (case i seeded by i); plus files that are not traces at all.
 * Every copy must be read correctly (equal to the base) or rejected with a
 * message naming what is wrong; nothing may crash, and the reader must
 * print nothing on stderr although HDF5's error printing is left on.
 * FP8LAB_TEST_KEEP=1 keeps the scratch directory for a look. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <hdf5.h>

#include "fp8lab/trace.h"
#include "util.h"

enum { NGROUPS = 3, NFLIPS = 2000 };
static const char *const G1 = "e4m3_e5m2";        /* instruction, f32     */
static const char *const G2 = "f16acc/e5m2_e5m2"; /* instruction, f16     */
static const char *const G3 = "K128";             /* GEMM, every scale    */

static char *dir;
static char base_path[4096], mut_path[4096], cap_path[4096];
static unsigned char *base_bytes;
static size_t base_len;
static fp8lab_trace base_trace;
static fp8lab_trace_group base[NGROUPS];

/* ---- HDF5 quiet for the test's own calls ------------------------------- */

static H5E_auto2_t saved_func;
static void *saved_data;
static void h5_off(void) {
  H5Eget_auto2(H5E_DEFAULT, &saved_func, &saved_data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}
static void h5_on(void) {
  H5Eclear2(H5E_DEFAULT);
  H5Eset_auto2(H5E_DEFAULT, saved_func, saved_data);
}

/* ---- reading a file with stderr captured --------------------------------- */

typedef struct result {
  int rc;
  char err[1024];
  fp8lab_trace t;
  fp8lab_trace_group g[8];
  size_t ng;
  long stderr_bytes;
} result;

static void result_free(result *r) {
  for (size_t i = 0; i < r->ng; i++) fp8lab_trace_group_free(&r->g[i]);
  fp8lab_trace_close(&r->t);
  r->ng = 0;
}

/* Open and load every group of path, HDF5 error printing on, stderr sent
 * to a file whose growth is recorded. */
static void read_all(const char *path, result *r) {
  memset(r, 0, sizeof *r);
  fflush(stderr);
  int saved = dup(2);
  int cap = open(cap_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(saved >= 0 && cap >= 0);
  dup2(cap, 2);
  r->rc = fp8lab_trace_open(path, &r->t, r->err, sizeof r->err);
  for (size_t i = 0; r->rc == 0 && i < r->t.ngroups && i < 8; i++) {
    r->rc = fp8lab_trace_load(&r->t, i, &r->g[i], r->err, sizeof r->err);
    if (r->rc == 0) r->ng++;
  }
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  struct stat st;
  r->stderr_bytes = fstat(cap, &st) == 0 ? (long)st.st_size : -1;
  close(cap);
}

static bool equals_base(const result *r) {
  if (r->rc != 0 || r->ng != NGROUPS) return false;
  if (!same_str(r->t.instruction, base_trace.instruction) ||
      r->t.nfamilies != base_trace.nfamilies)
    return false;
  for (size_t i = 0; i < r->t.nfamilies; i++)
    if (strcmp(r->t.families[i], base_trace.families[i])) return false;
  for (size_t i = 0; i < NGROUPS; i++)
    if (!groups_equal(&r->g[i], &base[i])) return false;
  return true;
}

/* ---- the base trace ---------------------------------------------------- */

static void load_real(const char *file, const char *group, fp8lab_trace *t,
                      fp8lab_trace_group *g) {
  char path[4096], err[1024];
  snprintf(path, sizeof path, "%s/%s", data_dir(), file);
  if (fp8lab_trace_open(path, t, err, sizeof err) != 0) fail_msg("%s", err);
  long gi = fp8lab_trace_find(t, group);
  if (gi < 0) fail_msg("%s: no group %s", path, group);
  if (fp8lab_trace_load(t, (size_t)gi, g, err, sizeof err) != 0)
    fail_msg("%s", err);
}

/* The top-left m x n corner of a GEMM group, every dataset sliced. */
static void corner(const fp8lab_trace_group *src, size_t m, size_t n,
                   fp8lab_trace_group *dst, fp8lab_trace_output *outs) {
  *dst = *src;
  dst->m = m, dst->n = n;
  size_t k = src->k, kt = (k + 127) / 128;
  dst->a = src->a; /* the first m rows of A[M][K] */
  dst->b = src->b; /* the first n rows of B[N][K] */
  dst->row_scale_a = src->row_scale_a;
  dst->col_scale_b = src->col_scale_b;
  dst->tile_scale_a = src->tile_scale_a; /* first m rows */
  dst->block_scale_b = src->block_scale_b; /* n <= 128: first block row */
  (void)kt;
  for (size_t q = 0; q < src->noutputs; q++) {
    outs[q] = src->outputs[q];
    size_t es = fp8lab_trace_dtype_size(outs[q].type);
    unsigned char *d = malloc(m * n * es);
    assert_non_null(d);
    for (size_t i = 0; i < m; i++)
      memcpy(d + i * n * es, (unsigned char *)src->outputs[q].data + i * src->n * es,
             n * es);
    outs[q].data = d;
  }
  dst->outputs = outs;
}

static int setup(void **state) {
  (void)state;
  dir = scratch_make("trace-fuzz");
  assert_non_null(dir);
  snprintf(base_path, sizeof base_path, "%s/base.h5", dir);
  snprintf(mut_path, sizeof mut_path, "%s/mutant.h5", dir);
  snprintf(cap_path, sizeof cap_path, "%s/stderr.txt", dir);

  fp8lab_trace t1, t2, t3;
  fp8lab_trace_group g1, g2, g3;
  load_real("wgmma_dev.h5", G1, &t1, &g1);
  load_real("wgmma_f16acc_dev.h5", "e5m2_e5m2", &t2, &g2);
  load_real("scaled_gemm_dev.h5", "K128", &t3, &g3);

  fp8lab_trace_group w1 = g1, w2 = g2, w3;
  w1.ncases = 4; /* a prefix of [ncases][...] arrays is contiguous */
  w2.ncases = 2;
  w2.path = strdup(G2); /* g2 keeps (and frees) its own path */
  fp8lab_trace_output outs[16];
  assert_true(g3.noutputs <= 16);
  corner(&g3, 16, 16, &w3, outs);

  char err[1024];
  fp8lab_trace_writer *w = fp8lab_trace_writer_open(base_path, err, sizeof err);
  if (!w) fail_msg("%s", err);
  char fam[1024] = "[";
  for (size_t i = 0; i < t1.nfamilies; i++)
    snprintf(fam + strlen(fam), sizeof fam - strlen(fam), "%s\"%s\"",
             i ? ", " : "", t1.families[i]);
  strcat(fam, "]");
  if (fp8lab_trace_writer_attr(w, "instruction", t1.instruction, err, sizeof err) ||
      fp8lab_trace_writer_attr(w, "families", fam, err, sizeof err) ||
      fp8lab_trace_write_group(w, &w1, err, sizeof err) ||
      fp8lab_trace_write_group(w, &w2, err, sizeof err) ||
      fp8lab_trace_write_group(w, &w3, err, sizeof err))
    fail_msg("%s", err);
  if (fp8lab_trace_writer_close(w, err, sizeof err)) fail_msg("%s", err);

  for (size_t q = 0; q < w3.noutputs; q++) free(outs[q].data);
  fp8lab_trace_group_free(&g1);
  free(w2.path);
  fp8lab_trace_group_free(&g2);
  fp8lab_trace_group_free(&g3);
  fp8lab_trace_close(&t1);
  fp8lab_trace_close(&t2);
  fp8lab_trace_close(&t3);

  base_bytes = slurp(base_path, &base_len);
  assert_non_null(base_bytes);
  if (fp8lab_trace_open(base_path, &base_trace, err, sizeof err)) fail_msg("%s", err);
  assert_int_equal(base_trace.ngroups, NGROUPS);
  for (size_t i = 0; i < NGROUPS; i++)
    if (fp8lab_trace_load(&base_trace, i, &base[i], err, sizeof err))
      fail_msg("%s", err);
  /* natural order compares bytes: 'K' < 'e' < 'f' */
  assert_string_equal(base[0].path, G3);
  assert_string_equal(base[1].path, G1);
  assert_string_equal(base[2].path, G2);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  /* Some of the broken files leave HDF5 unable to shut down cleanly; with
   * its error printing on it would say so at exit (HDFGroup/hdf5#6677). */
  fp8lab_trace_hdf5_quiet();
  for (size_t i = 0; i < NGROUPS; i++) fp8lab_trace_group_free(&base[i]);
  fp8lab_trace_close(&base_trace);
  free(base_bytes);
  if (!getenv("FP8LAB_TEST_KEEP")) scratch_remove(dir); /* else: left for a look */
  return 0;
}

static const fp8lab_trace_group *base_group(const char *path) {
  for (size_t i = 0; i < NGROUPS; i++)
    if (!strcmp(base[i].path, path)) return &base[i];
  return NULL;
}

static const fp8lab_trace_group *got_group(const result *r, const char *path) {
  for (size_t i = 0; i < r->ng; i++)
    if (!strcmp(r->g[i].path, path)) return &r->g[i];
  return NULL;
}

/* ---- structured mutations ------------------------------------------------ */

typedef enum opkind {
  DEL,        /* delete dataset `name`                                     */
  RETYPE,     /* same shape, type `ty`, zeros                               */
  RESHAPE,    /* type `ty`, shape `rank`/`dims`, zeros                      */
  ADD,        /* new dataset, type `ty`, shape `rank`/`dims`                */
  FILL,       /* same shape, type `ty`, every element `val`                 */
  TOGROUP,    /* replaced by an (empty) group                              */
  DANGLING,   /* replaced by a soft link to nowhere                        */
  EXTERNAL,   /* replaced by an external link                              */
  SCALAR,     /* replaced by a scalar uint8                                */
  NULLSPACE,  /* replaced by a dataset with a null dataspace               */
  STRINGS,    /* replaced by a string dataset of the same shape            */
  HALF,       /* rewritten as IEEE binary16 (h5py float16), same bits      */
  ATTR_STR,   /* string attribute `name` = `sval` on object `obj`          */
  ATTR_INT,   /* int32 attribute `name` on `obj`                           */
  ATTR_F64,   /* float64 attribute `name` on `obj`                         */
  ATTR_DEL,   /* delete attribute `name` (and `sval` if set) on `obj`      */
  RENAME,     /* move group `obj` to `sval`, dropping its format attributes */
  EMPTY,      /* delete every group, add an empty one                      */
} opkind;

typedef enum ty { TY_U8, TY_I8, TY_U16, TY_I32, TY_F32, TY_F64 } ty;

typedef struct mutation {
  opkind op;
  const char *obj;  /* group (or object) path                        */
  const char *name; /* dataset or attribute                          */
  ty type;
  int rank;
  hsize_t dims[4];
  const char *sval;
  long val;
  const char *expect; /* substring of the error; NULL: must load     */
  bool (*verify)(const result *r);
} mutation;

static bool v_no_c(const result *r) {
  const fp8lab_trace_group *g = got_group(r, G1);
  return g && !g->c && g->c_type == FP8LAB_TRACE_NONE;
}
static bool v_no_family(const result *r) {
  const fp8lab_trace_group *g = got_group(r, G1);
  return g && !g->family;
}
static bool v_f16_c(const result *r) {
  const fp8lab_trace_group *g = got_group(r, G1);
  return g && g->c_type == FP8LAB_TRACE_F16;
}
static bool v_path_formats(const result *r) {
  const fp8lab_trace_group *g = got_group(r, G1);
  return g && !strcmp(g->fa.name, "e4m3fn") && !strcmp(g->fb.name, "e5m2");
}
static bool v_half(const result *r) {
  const fp8lab_trace_group *g = got_group(r, G2), *b = base_group(G2);
  return g && g->c_type == FP8LAB_TRACE_F16 &&
         !memcmp(g->c, b->c, 2 * b->ncases * b->m * b->n);
}
static bool v_bf16_d(const result *r) {
  const fp8lab_trace_group *g = got_group(r, G2);
  return g && g->outputs[0].type == FP8LAB_TRACE_BF16;
}
static bool v_col_rank1(const result *r) {
  const fp8lab_trace_group *g = got_group(r, G3);
  return g && g->col_scale_b;
}
static bool v_extra_output(const result *r) {
  const fp8lab_trace_group *g = got_group(r, G3), *b = base_group(G3);
  return g && g->noutputs == b->noutputs + 1;
}
static bool v_same_outputs(const result *r) {
  const fp8lab_trace_group *g = got_group(r, G3), *b = base_group(G3);
  return g && g->noutputs == b->noutputs;
}

#define D3(a, b, c) 3, {a, b, c}
#define D2(a, b) 2, {a, b}
#define D1(a) 1, {a}
static const mutation mutations[] = {
    /* instruction group, f32 */
    {DEL, "e4m3_e5m2", "A", .expect = "e4m3_e5m2/A: missing"},
    {DEL, "e4m3_e5m2", "B", .expect = "e4m3_e5m2/B: missing"},
    {DEL, "e4m3_e5m2", "D", .expect = "e4m3_e5m2: no output datasets"},
    {DEL, "e4m3_e5m2", "C", .verify = v_no_c},
    {DEL, "e4m3_e5m2", "family", .verify = v_no_family},
    {RETYPE, "e4m3_e5m2", "A", TY_F32, .expect = "e4m3_e5m2/A: type float32, expected uint8"},
    {RETYPE, "e4m3_e5m2", "A", TY_I8, .expect = "e4m3_e5m2/A: type int8, expected uint8"},
    {RETYPE, "e4m3_e5m2", "B", TY_U16, .expect = "e4m3_e5m2/B: type uint16, expected uint8"},
    {RESHAPE, "e4m3_e5m2", "A", TY_U8, D2(64, 32), .expect = "e4m3_e5m2/B: shape [4][8][32]: rank 3, but A has rank 2"},
    {RESHAPE, "e4m3_e5m2", "A", TY_U8, 4, {4, 64, 32, 1}, .expect = "e4m3_e5m2/A: shape [4][64][32][1]: expected rank 3"},
    {RESHAPE, "e4m3_e5m2", "A", TY_U8, D1(4), .expect = "e4m3_e5m2/A: shape [4]: expected rank 3"},
    {RESHAPE, "e4m3_e5m2", "A", TY_U8, D3(4, 64, 31), .expect = "e4m3_e5m2/B: shape [4][8][32], expected [4][8][31]"},
    {RESHAPE, "e4m3_e5m2", "A", TY_U8, D3(5, 64, 32), .expect = "e4m3_e5m2/B: shape [4][8][32], expected [5][8][32]"},
    {RESHAPE, "e4m3_e5m2", "B", TY_U8, D3(3, 8, 32), .expect = "e4m3_e5m2/B: shape [3][8][32], expected [4][8][32]"},
    {RESHAPE, "e4m3_e5m2", "C", TY_F32, D3(4, 64, 7), .expect = "e4m3_e5m2/C: shape [4][64][7], expected [4][64][8]"},
    {RESHAPE, "e4m3_e5m2", "D", TY_F32, D3(4, 8, 64), .expect = "e4m3_e5m2/D: shape [4][8][64], expected [4][64][8]"},
    {RESHAPE, "e4m3_e5m2", "D", TY_F32, D2(64, 8), .expect = "e4m3_e5m2/D: shape [64][8], expected [4][64][8]"},
    {RESHAPE, "e4m3_e5m2", "A", TY_U8, D3(0, 64, 32), .expect = "e4m3_e5m2/A: shape [0][64][32] has a zero dimension"},
    {RETYPE, "e4m3_e5m2", "D", TY_F64, .expect = "e4m3_e5m2/D: type float64, expected float32"},
    {RETYPE, "e4m3_e5m2", "D", TY_I32, .expect = "e4m3_e5m2/D: type int32, expected float32"},
    {RETYPE, "e4m3_e5m2", "C", TY_U16, .verify = v_f16_c},
    {RESHAPE, "e4m3_e5m2", "family", TY_U8, D1(5), .expect = "e4m3_e5m2/family: shape [5], expected [4]"},
    {RESHAPE, "e4m3_e5m2", "family", TY_U8, D2(4, 1), .expect = "e4m3_e5m2/family: shape [4][1], expected [4]"},
    {RETYPE, "e4m3_e5m2", "family", TY_F32, .expect = "e4m3_e5m2/family: type float32, expected uint8"},
    {FILL, "e4m3_e5m2", "family", TY_U8, .val = 9, .expect = "e4m3_e5m2/family: value 9 of case 0 is out of range (the file's families attribute lists 9)"},
    {FILL, "e4m3_e5m2", "family", TY_I32, .val = -1, .expect = "e4m3_e5m2/family: value -1 of case 0 is out of range"},
    {TOGROUP, "e4m3_e5m2", "A", .expect = "e4m3_e5m2/A: is a group, not a dataset"},
    {TOGROUP, "e4m3_e5m2", "D", .expect = "e4m3_e5m2/D: is a group, not a dataset"},
    {DANGLING, "e4m3_e5m2", "A", .expect = "e4m3_e5m2/A: cannot be opened (dangling soft link?)"},
    {EXTERNAL, "e4m3_e5m2", "B", .expect = "e4m3_e5m2/B: is an external link"},
    {SCALAR, "e4m3_e5m2", "A", .expect = "e4m3_e5m2/A: shape scalar: expected rank 3"},
    {NULLSPACE, "e4m3_e5m2", "A", .expect = "e4m3_e5m2/A: has an empty (null) dataspace"},
    {STRINGS, "e4m3_e5m2", "A", .expect = "e4m3_e5m2/A: type string, expected uint8"},
    {STRINGS, "e4m3_e5m2", "D", .expect = "e4m3_e5m2/D: type string, expected float32"},
    {ADD, "e4m3_e5m2", "D_rowwise_f32", TY_F32, D3(4, 64, 8), .expect = "e4m3_e5m2/D_rowwise_f32: needs dataset row_scale_a"},
    {ADD, "e4m3_e5m2", "row_scale_a", TY_F32, D2(64, 1), .expect = "e4m3_e5m2/row_scale_a: scales belong to GEMM groups"},
    {ADD, "e4m3_e5m2", "D_extra", TY_F32, D3(4, 64, 9), .expect = "e4m3_e5m2/D_extra: shape [4][64][9], expected [4][64][8]"},
    {ATTR_STR, "e4m3_e5m2", "format_a", .sval = "e9m9", .expect = "e4m3_e5m2: attribute format_a: "},
    {ATTR_STR, "e4m3_e5m2", "format_a", .sval = "f16", .expect = "e4m3_e5m2: attribute format_a: f16 has 16 bits"},
    {ATTR_INT, "e4m3_e5m2", "format_b", .expect = "e4m3_e5m2: attribute format_b is not a string"},
    {ATTR_DEL, "e4m3_e5m2", "format_a", .expect = "e4m3_e5m2: attribute format_b without format_a"},
    {ATTR_DEL, "e4m3_e5m2", "format_a", .sval = "format_b", .verify = v_path_formats},
    {RENAME, "e4m3_e5m2", .sval = "renamed", .expect = "renamed: cannot tell the operand formats"},
    {ATTR_STR, "e4m3_e5m2/D", "format", .sval = "bf16", .expect = "e4m3_e5m2/D: attribute format says bf16 but the data are float32"},
    {ATTR_INT, "e4m3_e5m2/D", "model", .expect = "e4m3_e5m2/D: attribute model is not a string"},
    {ATTR_INT, "e4m3_e5m2/D", "kernels", .expect = "e4m3_e5m2/D: attribute kernels is not a string"},
    /* file attributes */
    {ATTR_STR, "/", "families", .sval = "[\"benign\", ", .expect = "attribute families: "},
    {ATTR_STR, "/", "families", .sval = "{\"a\": 1}", .expect = "attribute families: not a JSON list of strings"},
    {ATTR_STR, "/", "families", .sval = "[\"a\\q\"]", .expect = "attribute families: bad escape"},
    {ATTR_STR, "/", "families", .sval = "[\"a\"] x", .expect = "attribute families: text after the JSON list"},
    {ATTR_INT, "/", "families", .expect = "attribute families is not a string"},
    {ATTR_INT, "/", "instruction", .expect = "attribute instruction is not a string"},
    {EMPTY, "/", .expect = "no case groups"},
    /* instruction group, f16 */
    {HALF, "f16acc/e5m2_e5m2", "C", .verify = v_half},
    {ATTR_STR, "f16acc/e5m2_e5m2/D", "format", .sval = "bf16", .verify = v_bf16_d},
    {ATTR_STR, "f16acc/e5m2_e5m2/D", "format", .sval = "f8", .expect = "f16acc/e5m2_e5m2/D: attribute format 'f8' is not f32, f16 or bf16"},
    {ATTR_STR, "f16acc/e5m2_e5m2/C", "format", .sval = "f32", .expect = "f16acc/e5m2_e5m2/C: attribute format says f32 but the data are uint16"},
    /* GEMM group */
    {DEL, "K128", "row_scale_a", .expect = "K128/D_rowwise_bf16: needs dataset row_scale_a, which is missing"},
    {DEL, "K128", "col_scale_b", .expect = "K128/D_rowwise_bf16: needs dataset col_scale_b, which is missing"},
    {DEL, "K128", "tile_scale_a_1x128", .expect = "K128/D_blockwise_bf16: needs dataset tile_scale_a_1x128"},
    {DEL, "K128", "block_scale_b_128x128", .expect = "K128/D_blockwise_bf16: needs dataset block_scale_b_128x128"},
    {ATTR_DEL, "K128", "tensor_scale_a", .expect = "K128: attribute tensor_scale_b without tensor_scale_a"},
    {ATTR_DEL, "K128", "tensor_scale_a", .sval = "tensor_scale_b", .expect = "K128/D_tensor_bf16: needs the group attributes tensor_scale_a and tensor_scale_b"},
    {ATTR_STR, "K128", "tensor_scale_a", .sval = "0.5", .expect = "K128: attribute tensor_scale_a is not a float32 value"},
    {ATTR_F64, "K128", "tensor_scale_b", .expect = "K128: attribute tensor_scale_b is not a float32 value"},
    {RESHAPE, "K128", "row_scale_a", TY_F32, D2(15, 1), .expect = "K128/row_scale_a: shape [15][1], expected [16][1]"},
    {RESHAPE, "K128", "col_scale_b", TY_F32, D1(16), .verify = v_col_rank1},
    {RESHAPE, "K128", "col_scale_b", TY_F32, D2(16, 1), .expect = "K128/col_scale_b: shape [16][1], expected [1][16]"},
    {RESHAPE, "K128", "tile_scale_a_1x128", TY_F32, D2(16, 2), .expect = "K128/tile_scale_a_1x128: shape [16][2], expected [16][1]"},
    {RESHAPE, "K128", "block_scale_b_128x128", TY_F32, D2(2, 1), .expect = "K128/block_scale_b_128x128: shape [2][1], expected [1][1]"},
    {RETYPE, "K128", "row_scale_a", TY_F64, .expect = "K128/row_scale_a: type float64, expected float32"},
    {RETYPE, "K128", "D_tensor_bf16", TY_F32, .expect = "K128/D_tensor_bf16: the name says bf16 but the data are f32"},
    {ATTR_STR, "K128/D_tensor_bf16", "format", .sval = "f16", .expect = "K128/D_tensor_bf16: the name says bf16 but the data are f16"},
    {RETYPE, "K128", "D_tensor_f32", TY_U16, .expect = "K128/D_tensor_f32: the name says f32 but the data are uint16"},
    {RESHAPE, "K128", "D_tensor_f32", TY_F32, D3(1, 16, 16), .expect = "K128/D_tensor_f32: shape [1][16][16], expected [16][16]"},
    {ADD, "K128", "D_custom", TY_F32, D2(16, 16), .verify = v_extra_output},
    {ADD, "K128", "Dnot_an_output", TY_F32, D2(3, 3), .verify = v_same_outputs},
    {ADD, "K128", "family", TY_U8, D1(2), .expect = "K128/family: shape [2], expected [1]"},
    {RESHAPE, "K128", "B", TY_U8, D3(1, 16, 128), .expect = "K128/B: shape [1][16][128]: rank 3, but A has rank 2"},
    {RESHAPE, "K128", "A", TY_U8, D2(16, 127), .expect = "K128/B: shape [16][128], expected [16][127]"},
    {ADD, "K128", "C", TY_I32, D2(16, 16), .expect = "K128/C: type int32, expected float32"},
};

static hid_t h5type(ty t) {
  switch (t) {
  case TY_U8: return H5T_STD_U8LE;
  case TY_I8: return H5T_STD_I8LE;
  case TY_U16: return H5T_STD_U16LE;
  case TY_I32: return H5T_STD_I32LE;
  case TY_F32: return H5T_IEEE_F32LE;
  default: return H5T_IEEE_F64LE;
  }
}

static void make_ds(hid_t g, const char *name, hid_t type, hid_t space,
                    const void *data) {
  hid_t d = H5Dcreate2(g, name, type, space, H5P_DEFAULT, H5P_DEFAULT,
                       H5P_DEFAULT);
  assert_true(d >= 0);
  if (data) assert_true(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
  H5Dclose(d);
}

/* Dataset of type t and shape rank/dims, every element v (integers) or
 * zeros. */
static void filled_ds(hid_t g, const char *name, ty t, int rank,
                      const hsize_t *dims, long v) {
  size_t n = 1;
  for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
  hid_t sp = H5Screate_simple(rank, dims, NULL);
  assert_true(sp >= 0);
  unsigned char *buf = calloc(n ? n : 1, 8);
  assert_non_null(buf);
  for (size_t i = 0; i < n; i++) {
    if (t == TY_U8 || t == TY_I8) buf[i] = (unsigned char)v;
    else if (t == TY_I32) ((int32_t *)buf)[i] = (int32_t)v;
  }
  make_ds(g, name, h5type(t), sp, n ? buf : NULL);
  free(buf);
  H5Sclose(sp);
}

static int ds_shape(hid_t g, const char *name, hsize_t *dims) {
  hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
  assert_true(d >= 0);
  hid_t sp = H5Dget_space(d);
  int rank = H5Sget_simple_extent_ndims(sp);
  H5Sget_simple_extent_dims(sp, dims, NULL);
  H5Sclose(sp);
  H5Dclose(d);
  return rank;
}

static void apply(const mutation *mu, hid_t f) {
  hid_t o = -1, g = -1;
  hsize_t dims[8];
  int rank;
  switch (mu->op) {
  case ATTR_STR: case ATTR_INT: case ATTR_F64: case ATTR_DEL: case RENAME:
  case EMPTY:
    o = H5Oopen(f, mu->obj, H5P_DEFAULT);
    assert_true(o >= 0);
    break;
  default:
    g = H5Gopen2(f, mu->obj, H5P_DEFAULT);
    assert_true(g >= 0);
  }
  switch (mu->op) {
  case DEL: assert_true(H5Ldelete(g, mu->name, H5P_DEFAULT) >= 0); break;
  case RETYPE:
    rank = ds_shape(g, mu->name, dims);
    H5Ldelete(g, mu->name, H5P_DEFAULT);
    filled_ds(g, mu->name, mu->type, rank, dims, 0);
    break;
  case FILL:
    rank = ds_shape(g, mu->name, dims);
    H5Ldelete(g, mu->name, H5P_DEFAULT);
    filled_ds(g, mu->name, mu->type, rank, dims, mu->val);
    break;
  case RESHAPE:
    H5Ldelete(g, mu->name, H5P_DEFAULT);
    /* fall through */
  case ADD: filled_ds(g, mu->name, mu->type, mu->rank, mu->dims, 0); break;
  case TOGROUP: {
    H5Ldelete(g, mu->name, H5P_DEFAULT);
    hid_t s = H5Gcreate2(g, mu->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(s >= 0);
    H5Gclose(s);
    break;
  }
  case DANGLING:
    H5Ldelete(g, mu->name, H5P_DEFAULT);
    assert_true(H5Lcreate_soft("/nowhere/at/all", g, mu->name, H5P_DEFAULT,
                               H5P_DEFAULT) >= 0);
    break;
  case EXTERNAL:
    H5Ldelete(g, mu->name, H5P_DEFAULT);
    assert_true(H5Lcreate_external("no-such-file.h5", "/B", g, mu->name,
                                   H5P_DEFAULT, H5P_DEFAULT) >= 0);
    break;
  case SCALAR: case NULLSPACE: {
    H5Ldelete(g, mu->name, H5P_DEFAULT);
    hid_t sp = H5Screate(mu->op == SCALAR ? H5S_SCALAR : H5S_NULL);
    unsigned char one = 1;
    make_ds(g, mu->name, H5T_STD_U8LE, sp, mu->op == SCALAR ? &one : NULL);
    H5Sclose(sp);
    break;
  }
  case STRINGS: {
    rank = ds_shape(g, mu->name, dims);
    H5Ldelete(g, mu->name, H5P_DEFAULT);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 4);
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    make_ds(g, mu->name, st, sp, NULL);
    H5Sclose(sp);
    H5Tclose(st);
    break;
  }
  case HALF: {
    /* h5py's float16: IEEE binary16 built from a copy of f32 */
    const fp8lab_trace_group *b = base_group(mu->obj);
    rank = ds_shape(g, mu->name, dims);
    H5Ldelete(g, mu->name, H5P_DEFAULT);
    hid_t h = H5Tcopy(H5T_IEEE_F32LE);
    assert_true(H5Tset_fields(h, 15, 10, 5, 0, 10) >= 0);
    assert_true(H5Tset_size(h, 2) >= 0);
    assert_true(H5Tset_ebias(h, 15) >= 0);
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    make_ds(g, mu->name, h, sp, b->c);
    H5Sclose(sp);
    H5Tclose(h);
    break;
  }
  case ATTR_STR: case ATTR_INT: case ATTR_F64: {
    if (H5Aexists(o, mu->name) > 0) H5Adelete(o, mu->name);
    hid_t sp = H5Screate(H5S_SCALAR), t;
    int32_t iv = 7;
    double dv = 0.5;
    const void *p;
    if (mu->op == ATTR_STR) {
      t = H5Tcopy(H5T_C_S1);
      H5Tset_size(t, strlen(mu->sval) + 1);
      p = mu->sval;
    } else {
      t = H5Tcopy(mu->op == ATTR_INT ? H5T_STD_I32LE : H5T_IEEE_F64LE);
      p = mu->op == ATTR_INT ? (const void *)&iv : (const void *)&dv;
    }
    hid_t a = H5Acreate2(o, mu->name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true(H5Awrite(a, t, p) >= 0);
    H5Aclose(a);
    H5Tclose(t);
    H5Sclose(sp);
    break;
  }
  case ATTR_DEL:
    assert_true(H5Adelete(o, mu->name) >= 0);
    if (mu->sval) assert_true(H5Adelete(o, mu->sval) >= 0);
    break;
  case RENAME:
    H5Adelete(o, "format_a");
    H5Adelete(o, "format_b");
    H5Oclose(o);
    o = -1;
    assert_true(H5Lmove(f, mu->obj, f, mu->sval, H5P_DEFAULT, H5P_DEFAULT) >= 0);
    break;
  case EMPTY: {
    const char *tops[] = {"e4m3_e5m2", "f16acc", "K128"};
    for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++)
      assert_true(H5Ldelete(o, tops[i], H5P_DEFAULT) >= 0);
    hid_t s = H5Gcreate2(o, "empty", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(s);
    break;
  }
  }
  if (o >= 0) H5Oclose(o);
  if (g >= 0) H5Gclose(g);
}

/* Copy `bytes` to the mutant file, apply mu with the HDF5 API, read it
 * back and judge. */
static void run_mutation(const unsigned char *bytes, size_t len,
                         const mutation *mu, size_t i) {
  assert_int_equal(spit(mut_path, bytes, len), 0);
  h5_off();
  hid_t f = H5Fopen(mut_path, H5F_ACC_RDWR, H5P_DEFAULT);
  assert_true(f >= 0);
  apply(mu, f);
  assert_true(H5Fclose(f) >= 0);
  h5_on();
  result r;
  read_all(mut_path, &r);
  if (r.stderr_bytes != 0)
    fail_msg("mutation %zu (%s %s): the reader wrote %ld bytes on stderr", i,
             mu->obj, mu->name ? mu->name : "", r.stderr_bytes);
  if (mu->expect) {
    if (r.rc == 0)
      fail_msg("mutation %zu (%s %s): accepted, expected an error with '%s'",
               i, mu->obj, mu->name ? mu->name : "", mu->expect);
    if (!strstr(r.err, mu->expect) || !strstr(r.err, mut_path))
      fail_msg("mutation %zu: error '%s' does not name the file and '%s'", i,
               r.err, mu->expect);
  } else {
    if (r.rc != 0)
      fail_msg("mutation %zu (%s %s): rejected: %s", i, mu->obj,
               mu->name ? mu->name : "", r.err);
    if (mu->verify && !mu->verify(&r))
      fail_msg("mutation %zu (%s %s): read, but not as expected", i, mu->obj,
               mu->name ? mu->name : "");
  }
  result_free(&r);
}

static void test_structured(void **state) {
  (void)state;
  size_t n = sizeof mutations / sizeof mutations[0];
  for (size_t i = 0; i < n; i++) run_mutation(base_bytes, base_len, &mutations[i], i);
  print_message("%zu structured mutations: each rejected with its message or "
                "read as expected\n", n);
}

/* The H100 traces are h5py files of the legacy format (superblock 0, no
 * metadata checksums): the structural checks and truncation apply to them
 * alike.  (Random byte flips in their metadata are not tried: HDF5 1.10
 * itself can crash on a corrupt global heap there; see docs/trace-format.md.) */
static const mutation legacy_mutations[] = {
    {DEL, "K512", "B", .expect = "K512/B: missing"},
    {RETYPE, "K2048", "D_tensor_f32", TY_F64, .expect = "K2048/D_tensor_f32: type float64, expected float32"},
    {RESHAPE, "K128", "tile_scale_a_1x128", TY_F32, D2(128, 2), .expect = "K128/tile_scale_a_1x128: shape [128][2], expected [128][1]"},
    {ATTR_STR, "/", "layout", .sval = "A[M][K] codes", .expect = "K128: cannot tell the operand formats"},
    {DEL, "K128", "D_tensor_f32", .expect = NULL}, /* still a trace */
};

static void test_legacy(void **state) {
  (void)state;
  char path[4096];
  snprintf(path, sizeof path, "%s/scaled_gemm_dev.h5", data_dir());
  size_t len;
  unsigned char *bytes = slurp(path, &len);
  assert_non_null(bytes);
  assert_int_equal(spit(mut_path, bytes, len), 0);
  result r;
  read_all(mut_path, &r);
  if (r.rc != 0) fail_msg("%s", r.err);
  assert_int_equal(r.ng, 3);
  result_free(&r);
  size_t n = sizeof legacy_mutations / sizeof legacy_mutations[0];
  for (size_t i = 0; i < n; i++) run_mutation(bytes, len, &legacy_mutations[i], i);
  for (size_t q = 0; q < 64; q++) {
    size_t L = len * q / 64 + q; /* 0, then spread over the file */
    assert_int_equal(spit(mut_path, bytes, L), 0);
    read_all(mut_path, &r);
    if (r.rc == 0 || r.stderr_bytes != 0)
      fail_msg("legacy file truncated to %zu bytes: %s", L,
               r.rc == 0 ? "accepted" : "wrote on stderr");
    result_free(&r);
  }
  free(bytes);
}

/* ---- truncations and byte flips -------------------------------------------- */

static void test_truncated(void **state) {
  (void)state;
  size_t lens[600], n = 0;
  for (size_t L = 0; L <= 96; L++) lens[n++] = L;
  for (size_t q = 1; q < 400; q++) lens[n++] = base_len * q / 400;
  lens[n++] = base_len - 1;
  lens[n++] = base_len - 8;
  for (size_t i = 0; i < n; i++) {
    size_t L = lens[i];
    if (L >= base_len) continue;
    assert_int_equal(spit(mut_path, base_bytes, L), 0);
    result r;
    read_all(mut_path, &r);
    if (r.stderr_bytes != 0)
      fail_msg("truncated to %zu bytes: the reader wrote on stderr", L);
    if (r.rc == 0) fail_msg("truncated to %zu of %zu bytes: accepted", L, base_len);
    if (!strstr(r.err, mut_path) || strlen(r.err) < strlen(mut_path) + 8)
      fail_msg("truncated to %zu bytes: unclear error '%s'", L, r.err);
    result_free(&r);
  }
  print_message("%zu truncations (base %zu bytes): all rejected\n", n, base_len);
}

static void test_flips(void **state) {
  (void)state;
  unsigned char *buf = malloc(base_len);
  assert_non_null(buf);
  size_t rejected = 0, intact = 0;
  for (uint64_t i = 0; i < NFLIPS; i++) {
    uint64_t s = 0x7472616365ull * 1000003u + i; /* case i: seed i */
    memcpy(buf, base_bytes, base_len);
    int nflips = 1 + (int)(splitmix64(&s) % 3);
    for (int q = 0; q < nflips; q++) {
      size_t at = (size_t)(splitmix64(&s) % base_len);
      unsigned char x = (unsigned char)(1 + splitmix64(&s) % 255);
      buf[at] ^= x;
    }
    assert_int_equal(spit(mut_path, buf, base_len), 0);
    result r;
    read_all(mut_path, &r);
    if (r.stderr_bytes != 0) fail_msg("flip case %llu: the reader wrote on stderr",
                                      (unsigned long long)i);
    if (r.rc != 0) {
      if (!strstr(r.err, mut_path))
        fail_msg("flip case %llu: error without the file name: '%s'",
                 (unsigned long long)i, r.err);
      rejected++;
    } else if (equals_base(&r)) {
      intact++;
    } else {
      fail_msg("flip case %llu: read without an error, but the data differ "
               "from the base trace", (unsigned long long)i);
    }
    result_free(&r);
  }
  free(buf);
  print_message("%d byte-flip cases: %zu rejected with a message, %zu read "
                "intact (flips in unused bytes)\n", NFLIPS, rejected, intact);
}

/* ---- files that are not traces ------------------------------------------- */

static void expect_reject(const char *path, const char *what) {
  result r;
  read_all(path, &r);
  if (r.stderr_bytes != 0) fail_msg("%s: the reader wrote on stderr", path);
  if (r.rc == 0) fail_msg("%s: accepted", path);
  if (!strstr(r.err, path) || !strstr(r.err, what))
    fail_msg("%s: error '%s' lacks '%s'", path, r.err, what);
  result_free(&r);
}

static void test_not_traces(void **state) {
  (void)state;
  char p[4200];
  static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  unsigned char junk[4096];
  uint64_t s = 42;
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)splitmix64(&s);

  snprintf(p, sizeof p, "%s/empty.h5", dir);
  spit(p, "", 0);
  expect_reject(p, "empty file (0 bytes), not an HDF5 file");

  snprintf(p, sizeof p, "%s/text.h5", dir);
  const char *text = "{\"this\": \"is json, not HDF5\"}\n";
  spit(p, text, strlen(text));
  expect_reject(p, "not an HDF5 file (no HDF5 signature");

  snprintf(p, sizeof p, "%s/random.h5", dir);
  spit(p, junk, sizeof junk);
  expect_reject(p, "not an HDF5 file (no HDF5 signature");

  snprintf(p, sizeof p, "%s/signature.h5", dir);
  memcpy(junk, sig, 8);
  spit(p, junk, sizeof junk);
  expect_reject(p, "cannot read as HDF5");

  snprintf(p, sizeof p, "%s/signature512.h5", dir);
  junk[0] ^= 1;
  memcpy(junk + 512, sig, 8);
  spit(p, junk, sizeof junk);
  expect_reject(p, "cannot read as HDF5");

  snprintf(p, sizeof p, "%s/only-signature.h5", dir);
  spit(p, sig, 8);
  expect_reject(p, "cannot read as HDF5");

  expect_reject(dir, "is a directory");

  snprintf(p, sizeof p, "%s/no-such-file.h5", dir);
  expect_reject(p, "cannot open: No such file or directory");

  snprintf(p, sizeof p, "%s/fifo.h5", dir);
  if (mkfifo(p, 0600) == 0) expect_reject(p, "is not a regular file");

  /* An HDF5 file without any dataset. */
  snprintf(p, sizeof p, "%s/no-datasets.h5", dir);
  h5_off();
  hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t g = H5Gcreate2(f, "e4m3_e4m3", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Gclose(g);
  H5Fclose(f);
  h5_on();
  expect_reject(p, "no case groups");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_structured),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_flips),
      cmocka_unit_test(test_not_traces),
      cmocka_unit_test(test_legacy),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
