/* The emulated GEMM engine (fp8lab/gemm.h): argument checks, the epilogue
 * every engine shares, the row-parallel driver, and the plain reference. */
#include "fp8lab/gemm.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int fail(char *err, size_t len, const char *what) {
  if (err && len) snprintf(err, len, "%s", what);
  return -1;
}

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

int fp8lab_gemm_check(const fp8lab_gemm_args *g, char *err, size_t errlen) {
  if (!g || !g->model) return fail(err, errlen, "no model");
  const fp8lab_model *md = g->model;
  if (!g->fa || !g->fb) return fail(err, errlen, "no operand formats");
  if (fp8lab_format_bits(g->fa) > 8 || fp8lab_format_bits(g->fb) > 8)
    return fail(err, errlen, "operand formats must be of <= 8 bits");
  if (fp8lab_model_check(md, g->fa, g->fb, err, errlen) != 0) return -1;
  if (g->m && g->n && g->k && (!g->a || !g->b))
    return fail(err, errlen, "A or B missing");
  if (g->m && g->n && !g->d) return fail(err, errlen, "D missing");
  if (g->out_type != FP8LAB_OUT_F32 && g->out_type != FP8LAB_OUT_BF16)
    return fail(err, errlen, "unknown output type");
  const fp8lab_scales *s = &g->scales;
  bool fma = md->schedule == FP8LAB_SCHED_PROMOTE_FMA;
  switch (s->mode) {
  case FP8LAB_SCALE_NONE: break;
  case FP8LAB_SCALE_TENSOR:
    if (fma) return fail(err, errlen, "tensor scales: model scales per block");
    break;
  case FP8LAB_SCALE_ROWWISE:
    if (fma) return fail(err, errlen, "row-wise scales: model scales per block");
    if ((g->m && !s->row_a) || (g->n && !s->col_b))
      return fail(err, errlen, "row-wise scales missing");
    break;
  case FP8LAB_SCALE_BLOCKWISE:
    if (!fma)
      return fail(err, errlen, "block-wise scales need a PROMOTE_FMA model");
    if (g->k && ((g->m && !s->tile_a) || (g->n && !s->block_b)))
      return fail(err, errlen, "block-wise scales missing");
    break;
  default: return fail(err, errlen, "unknown scale mode");
  }
  return 0;
}

/* ---- shared per-element steps --------------------------------------------- */

uint32_t fp8lab_gemm_initial(const fp8lab_gemm_args *g, size_t i, size_t j) {
  if (!g->model->c_as_initial || !g->c) return 0;
  float c = g->c[(ptrdiff_t)i * g->c_rs + (ptrdiff_t)j];
  const fp8lab_format *acc = g->model->bfma->acc;
  if (acc->ebits == 8 && acc->mbits == 23) return fp8lab_f32_bits(c);
  static const fp8lab_cvt rne = {.round = FP8LAB_RNE};
  return fp8lab_encode_f64(acc, c, &rne, 0);
}

static const uint32_t f32_nan = 0x7FFFFFFF;

/* fl32 of a sum / product of two f32 values: exact in f64, one rounding
 * more is the correctly rounded f32 result (53 >= 2 * 24 + 2). */
static float add32(float a, float b) { return (float)((double)a + (double)b); }
static float mul32(float a, float b) { return (float)((double)a * (double)b); }

void fp8lab_gemm_epilogue(const fp8lab_gemm_args *g, size_t i, size_t j,
                          uint32_t acc) {
  const fp8lab_format *af = fp8lab_model_acc(g->model);
  float v;
  if (fp8lab_format_is_nan(af, acc))
    v = fp8lab_f32_from_bits(f32_nan);
  else if (af->ebits == 8 && af->mbits == 23)
    v = fp8lab_f32_from_bits(acc);
  else
    v = (float)fp8lab_decode_f64(af, acc); /* exact widening */
  const fp8lab_scales *s = &g->scales;
  if (s->mode == FP8LAB_SCALE_TENSOR)
    v = mul32(mul32(s->tensor_a, s->tensor_b), v);
  else if (s->mode == FP8LAB_SCALE_ROWWISE)
    v = mul32(mul32(v, s->col_b[j]), s->row_a[i]);
  if (!g->model->c_as_initial && g->c)
    v = add32(v, g->c[(ptrdiff_t)i * g->c_rs + (ptrdiff_t)j]);
  uint32_t u = isnan(v) ? f32_nan : fp8lab_f32_bits(v);
  ptrdiff_t at = (ptrdiff_t)i * g->d_rs + (ptrdiff_t)j;
  if (g->out_type == FP8LAB_OUT_F32) {
    ((float *)g->d)[at] = fp8lab_f32_from_bits(u);
  } else {
    /* bf16 RNE of the f32 value: the codec's result (canonical NaN 0x7FFF;
     * overflow to Inf), written with the usual carry trick */
    uint16_t h = isnan(v) ? 0x7FFF
                          : (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
    ((uint16_t *)g->d)[at] = h;
  }
}

/* ---- threads ----------------------------------------------------------- */

typedef struct range_job {
  void (*fn)(void *, size_t, size_t);
  void *ctx;
  size_t i0, i1;
} range_job;

static void *run_range(void *p) {
  range_job *r = p;
  r->fn(r->ctx, r->i0, r->i1);
  return NULL;
}

int fp8lab_gemm_parallel(size_t m, int threads,
                         void (*fn)(void *ctx, size_t i0, size_t i1),
                         void *ctx) {
  if (m == 0) return 0;
  long t = threads > 0 ? threads : sysconf(_SC_NPROCESSORS_ONLN);
  if (t < 1) t = 1;
  if ((size_t)t > m) t = (long)m;
  if (t == 1) {
    fn(ctx, 0, m);
    return 1;
  }
  range_job *jobs = calloc((size_t)t, sizeof *jobs);
  pthread_t *tid = calloc((size_t)t, sizeof *tid);
  bool *started = calloc((size_t)t, sizeof *started);
  if (!jobs || !tid || !started) {
    free(jobs), free(tid), free(started);
    fn(ctx, 0, m);
    return 1;
  }
  for (long q = 0; q < t; q++) {
    jobs[q] = (range_job){fn, ctx, m * (size_t)q / (size_t)t,
                          m * (size_t)(q + 1) / (size_t)t};
    if (q > 0)
      started[q] = pthread_create(&tid[q], NULL, run_range, &jobs[q]) == 0;
  }
  run_range(&jobs[0]);
  for (long q = 1; q < t; q++) {
    if (started[q]) pthread_join(tid[q], NULL);
    else run_range(&jobs[q]);
  }
  free(jobs), free(tid), free(started);
  return (int)t;
}

/* ---- the reference ------------------------------------------------------ */

static void ref_rows(void *ctx, size_t i0, size_t i1) {
  const fp8lab_gemm_args *g = ctx;
  const fp8lab_model *md = g->model;
  const bool blockwise = g->scales.mode == FP8LAB_SCALE_BLOCKWISE;
  const size_t ng = md->promote_k > 0 ? ceil_div(g->k, (size_t)md->promote_k) : 0;
  for (size_t i = i0; i < i1; i++)
    for (size_t j = 0; j < g->n; j++) {
      const float *sa = blockwise ? g->scales.tile_a + i * ng : NULL;
      const float *sb =
          blockwise ? g->scales.block_b + (j / FP8LAB_GEMM_BLOCK_N) * ng : NULL;
      uint32_t acc = fp8lab_model_dot(
          md, g->fa, g->a + (ptrdiff_t)i * g->a_rs, g->a_cs, g->fb,
          g->b + (ptrdiff_t)j * g->b_cs, g->b_rs, g->k,
          fp8lab_gemm_initial(g, i, j), sa, sb);
      fp8lab_gemm_epilogue(g, i, j, acc);
    }
}

int fp8lab_gemm_ref(const fp8lab_gemm_args *g, char *err, size_t errlen) {
  if (fp8lab_gemm_check(g, err, errlen) != 0) return -1;
  if (g->n) fp8lab_gemm_parallel(g->m, g->threads, ref_rows, (void *)g);
  return 0;
}

int fp8lab_gemm(const fp8lab_gemm_args *g, char *err, size_t errlen) {
  if (fp8lab_gemm_check(g, err, errlen) != 0) return -1;
  if (fp8lab_gemm_fast_supports(g)) return fp8lab_gemm_fast(g, err, errlen);
  return fp8lab_gemm_ref(g, err, errlen);
}
