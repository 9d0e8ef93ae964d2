/* Accumulation-model GEMMs, OCP MX block-scaled GEMMs and the OpenBLAS
 * reference products (contracts in fp8lab/gemm.h, "accumulation-model
 * GEMMs"). */
#include "fp8lab/gemm.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t len, const char *what) {
  if (err && len) snprintf(err, len, "%s", what);
  return -1;
}

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }
/* Element counts for malloc: never 0 (malloc(0) may return NULL). */
static size_t count1(size_t n) { return n ? n : 1; }

static const fp8lab_accum default_accum = {.kind = FP8LAB_ACCUM_SEQ};

static const fp8lab_accum *accum_of(const fp8lab_gemm_accum_args *g) {
  return g->accum ? g->accum : &default_accum;
}

static bool operand_format_ok(const fp8lab_format *f) {
  return f && fp8lab_format_bits(f) <= 8 && fp8lab_format_has_zero(f);
}

/* Shared argument checks; mx: fp8lab_gemm_mx's scales are required;
 * model: an accumulation model runs (accum checked, d required). */
static int check_args(const fp8lab_gemm_accum_args *g, bool mx, bool model,
                      char *err, size_t errlen) {
  if (!g) return fail(err, errlen, "no arguments");
  if (!operand_format_ok(g->fa) || !operand_format_ok(g->fb))
    return fail(err, errlen, "operand formats must be of <= 8 bits, with a zero");
  if (g->m && g->n && g->k && (!g->a || !g->b))
    return fail(err, errlen, "A or B missing");
  if (model && g->m && g->n && !g->d) return fail(err, errlen, "D missing");
  if (model && fp8lab_accum_check(accum_of(g), err, errlen) != 0) return -1;
  if (mx && g->m && g->n && g->k && (!g->mx.a || !g->mx.b))
    return fail(err, errlen, "MX scales missing");
  return 0;
}

/* value(code) for every code of f (<= 8 bits). */
static void decode_table(const fp8lab_format *f, double lut[256]) {
  uint32_t n = fp8lab_format_ncodes(f);
  for (uint32_t c = 0; c < 256; c++) lut[c] = c < n ? fp8lab_decode_f64(f, c) : NAN;
}

/* B decoded into columns: bt[j K + k] = value(B(k, j)). */
static double *decode_b_columns(const fp8lab_gemm_accum_args *g) {
  double lut[256];
  decode_table(g->fb, lut);
  double *bt = malloc(count1(g->n * g->k) * sizeof *bt);
  if (!bt) return NULL;
  for (size_t j = 0; j < g->n; j++)
    for (size_t k = 0; k < g->k; k++)
      bt[j * g->k + k] = lut[g->b[(ptrdiff_t)k * g->b_rs + (ptrdiff_t)j * g->b_cs]];
  return bt;
}

static void store(const fp8lab_gemm_accum_args *g, size_t i, size_t j,
                  double v, uint32_t code) {
  g->d[(ptrdiff_t)i * g->d_rs + (ptrdiff_t)j] = v;
  if (g->codes) g->codes[(ptrdiff_t)i * g->codes_rs + (ptrdiff_t)j] = code;
}

/* ---- C as the initial value ---------------------------------------------- */

static fp8lab_cvt level2(fp8lab_cvt c) {
  c.stream ^= FP8LAB_ACCUM_LEVEL2_STREAM;
  return c;
}

static uint64_t sr_word(const fp8lab_cvt *c, uint64_t index) {
  return c->round == FP8LAB_SR ? fp8lab_sr_word(c, index) : 0;
}

/* Start st (first term index base + 1) with C = c as its initial value
 * (fp8lab/gemm.h lists the rule per kind; PAIRWISE has no state). */
static void state_start(fp8lab_accum_state *st, const fp8lab_accum *a,
                        uint64_t base, const double *c) {
  fp8lab_accum_init(st, a, base + 1);
  if (!c) return;
  switch (a->kind) {
  case FP8LAB_ACCUM_EXACT: fp8lab_exact_sum_add(&st->x, *c); break;
  case FP8LAB_ACCUM_SEQ:
    st->code = fp8lab_encode_f64(st->fmt, *c, &a->cvt, sr_word(&a->cvt, base));
    st->s = fp8lab_decode_f64(st->fmt, st->code);
    break;
  case FP8LAB_ACCUM_CHUNKED: {
    fp8lab_cvt c2 = level2(st->icvt);
    st->code = fp8lab_encode_f64(st->ifmt, *c, &st->icvt, sr_word(&c2, base));
    st->s = fp8lab_decode_f64(st->ifmt, st->code);
    break;
  }
  case FP8LAB_ACCUM_KAHAN_F32: st->s = (float)*c; break;
  default: st->s = *c; break;
  }
}

/* PAIRWISE with C: round(round(C) + tree), each rounding exact. */
static double pairwise_with_c(const fp8lab_accum *a, double tree, double c,
                              uint64_t base, uint32_t *code) {
  const fp8lab_format *f = a->fmt ? a->fmt : fp8lab_f32;
  double c0 = fp8lab_decode_f64(f, fp8lab_encode_f64(f, c, &a->cvt, sr_word(&a->cvt, base)));
  fp8lab_cvt c2 = level2(a->cvt);
  uint64_t u = sr_word(&c2, base);
  uint32_t k;
  if (!isfinite(c0) || !isfinite(tree) || c0 + tree == 0)
    k = fp8lab_encode_f64(f, c0 + tree, &a->cvt, u); /* exact: specials, zeros */
  else
    k = fp8lab_encode_dd(f, c0, tree, &a->cvt, u);   /* the pair, rounded once */
  *code = k;
  return fp8lab_decode_f64(f, k);
}

/* ---- fp8lab_gemm_accum ---------------------------------------------------- */

typedef struct accum_job {
  const fp8lab_gemm_accum_args *g;
  const fp8lab_accum *a;
  const double *bt; /* B columns, decoded */
  double lut_a[256];
  bool failed;      /* a worker could not allocate its row buffer */
} accum_job;

static void accum_rows(void *ctx, size_t i0, size_t i1) {
  accum_job *job = ctx;
  const fp8lab_gemm_accum_args *g = job->g;
  const fp8lab_accum *a = job->a;
  const size_t K = g->k;
  double *row = malloc(count1(K) * sizeof *row);
  if (!row) {
    job->failed = true; /* a benign race: every writer stores true */
    return;
  }
  for (size_t i = i0; i < i1; i++) {
    for (size_t k = 0; k < K; k++)
      row[k] = job->lut_a[g->a[(ptrdiff_t)i * g->a_rs + (ptrdiff_t)k * g->a_cs]];
    for (size_t j = 0; j < g->n; j++) {
      const double *col = job->bt + j * K;
      const double *c = g->c ? &g->c[(ptrdiff_t)i * g->c_rs + (ptrdiff_t)j] : NULL;
      uint64_t base = ((uint64_t)i * g->n + j) * ((uint64_t)K + 1);
      uint32_t code;
      double v;
      if (a->kind == FP8LAB_ACCUM_PAIRWISE) {
        v = fp8lab_dot_ex(a, row, 1, col, 1, K, base + 1, &code);
        if (c) v = pairwise_with_c(a, v, *c, base, &code);
      } else {
        fp8lab_accum_state st;
        state_start(&st, a, base, c);
        for (size_t k = 0; k < K; k++) fp8lab_accum_add_prod(&st, row[k], col[k]);
        v = fp8lab_accum_result(&st, &code);
      }
      store(g, i, j, v, code);
    }
  }
  free(row);
}

int fp8lab_gemm_accum(const fp8lab_gemm_accum_args *g, char *err, size_t errlen) {
  if (check_args(g, false, true, err, errlen) != 0) return -1;
  if (g->mx.a || g->mx.b)
    return fail(err, errlen, "MX scales given: use fp8lab_gemm_mx");
  if (!g->m || !g->n) return 0;
  accum_job *job = malloc(sizeof *job);
  double *bt = decode_b_columns(g);
  if (!job || !bt) {
    free(job), free(bt);
    return fail(err, errlen, "out of memory");
  }
  job->g = g, job->a = accum_of(g), job->bt = bt, job->failed = false;
  decode_table(g->fa, job->lut_a);
  fp8lab_gemm_parallel(g->m, g->threads, accum_rows, job);
  bool failed = job->failed;
  free(job), free(bt);
  return failed ? fail(err, errlen, "out of memory") : 0;
}

/* ---- fp8lab_gemm_mx ------------------------------------------------------- */

/* 2^(e - 127) for an E8M0 code, NaN for 0xFF. */
static double e8m0_value(uint8_t e) {
  return e == 0xFF ? NAN : ldexp(1.0, (int)e - 127);
}

/* SEQ step with a term that is not a double: s' = round(s + X), X exact. */
static void seq_add_exact(fp8lab_accum_state *st, const fp8lab_exact_sum *x) {
  uint64_t idx = st->index++;
  if (!isfinite(st->s)) { /* Inf/NaN accumulator: X is finite here */
    st->code = fp8lab_encode_f64(st->fmt, st->s, &st->a.cvt, 0);
  } else {
    fp8lab_exact_sum t = *x;
    fp8lab_exact_sum_add(&t, st->s);
    st->code = fp8lab_exact_sum_encode(&t, st->fmt, &st->a.cvt, sr_word(&st->a.cvt, idx));
  }
  st->s = fp8lab_decode_f64(st->fmt, st->code);
}

typedef struct mx_job {
  const fp8lab_gemm_accum_args *g;
  const fp8lab_accum *a;
  const double *bt;
  double lut_a[256];
  bool failed;
} mx_job;

static void mx_rows(void *ctx, size_t i0, size_t i1) {
  mx_job *job = ctx;
  const fp8lab_gemm_accum_args *g = job->g;
  const fp8lab_accum *a = job->a;
  const size_t K = g->k, G = ceil_div(K, FP8LAB_MX_BLOCK);
  double *row = malloc(count1(K) * sizeof *row);
  double *terms = malloc(count1(G) * sizeof *terms);
  if (!row || !terms) {
    job->failed = true;
    free(row), free(terms);
    return;
  }
  for (size_t i = i0; i < i1; i++) {
    for (size_t k = 0; k < K; k++)
      row[k] = job->lut_a[g->a[(ptrdiff_t)i * g->a_rs + (ptrdiff_t)k * g->a_cs]];
    for (size_t j = 0; j < g->n; j++) {
      const double *col = job->bt + j * K;
      const double *c = g->c ? &g->c[(ptrdiff_t)i * g->c_rs + (ptrdiff_t)j] : NULL;
      uint64_t base = ((uint64_t)i * g->n + j) * ((uint64_t)G + 1);
      fp8lab_accum_state st;
      bool pairwise = a->kind == FP8LAB_ACCUM_PAIRWISE;
      if (!pairwise) state_start(&st, a, base, c);
      for (size_t b = 0; b < G; b++) {
        uint8_t ea = g->mx.a[(ptrdiff_t)i * g->mx.a_rs + (ptrdiff_t)b * g->mx.a_cs];
        uint8_t eb = g->mx.b[(ptrdiff_t)b * g->mx.b_rs + (ptrdiff_t)j * g->mx.b_cs];
        size_t k0 = b * FP8LAB_MX_BLOCK;
        size_t k1 = k0 + FP8LAB_MX_BLOCK < K ? k0 + FP8LAB_MX_BLOCK : K;
        /* t_b = 2^(ea-127) 2^(eb-127) sum value(A) value(B): every scaled
         * element is exact in double (|e| <= 127 + 17), the products exact
         * in the superaccumulator. */
        fp8lab_exact_sum x;
        fp8lab_exact_sum_init(&x);
        double xa = e8m0_value(ea), xb = e8m0_value(eb);
        if (isnan(xa) || isnan(xb)) {
          fp8lab_exact_sum_add(&x, NAN);
        } else {
          for (size_t k = k0; k < k1; k++)
            fp8lab_exact_sum_add_prod(&x, row[k] * xa, col[k] * xb);
        }
        double t = fp8lab_exact_sum_f64_rne(&x);
        bool is_double = true;
        if (isfinite(t)) {
          fp8lab_exact_sum r = x;
          fp8lab_exact_sum_add(&r, -t);
          is_double = fp8lab_exact_sum_sign(&r) == 0;
        }
        if (pairwise) {
          terms[b] = t;
        } else if (a->kind == FP8LAB_ACCUM_EXACT) {
          fp8lab_exact_sum_add_sum(&st.x, &x);
          st.index++;
        } else if (a->kind == FP8LAB_ACCUM_SEQ && !is_double) {
          seq_add_exact(&st, &x);
        } else {
          fp8lab_accum_add(&st, t);
        }
      }
      uint32_t code;
      double v;
      if (pairwise) {
        v = fp8lab_sum_ex(a, terms, 1, G, base + 1, &code);
        if (c) v = pairwise_with_c(a, v, *c, base, &code);
      } else {
        v = fp8lab_accum_result(&st, &code);
      }
      store(g, i, j, v, code);
    }
  }
  free(row), free(terms);
}

int fp8lab_gemm_mx(const fp8lab_gemm_accum_args *g, char *err, size_t errlen) {
  if (check_args(g, true, true, err, errlen) != 0) return -1;
  if (!g->m || !g->n) return 0;
  mx_job *job = malloc(sizeof *job);
  double *bt = decode_b_columns(g);
  if (!job || !bt) {
    free(job), free(bt);
    return fail(err, errlen, "out of memory");
  }
  job->g = g, job->a = accum_of(g), job->bt = bt, job->failed = false;
  decode_table(g->fa, job->lut_a);
  fp8lab_gemm_parallel(g->m, g->threads, mx_rows, job);
  bool failed = job->failed;
  free(job), free(bt);
  return failed ? fail(err, errlen, "out of memory") : 0;
}

/* ---- OpenBLAS references -------------------------------------------------- */

/* The de-scaled operands, row-major doubles: A~ [M][K] and B~ [K][N]. */
static int descale(const fp8lab_gemm_accum_args *g, const fp8lab_scales *s,
                   double *at, double *bt, char *err, size_t errlen) {
  const bool mx = g->mx.a || g->mx.b;
  const fp8lab_scale_mode mode = s ? s->mode : FP8LAB_SCALE_NONE;
  if (mx && mode != FP8LAB_SCALE_NONE)
    return fail(err, errlen, "MX scales and engine scales both given");
  if (mx && g->k && (!g->mx.a || !g->mx.b)) return fail(err, errlen, "MX scales missing");
  switch (mode) {
  case FP8LAB_SCALE_NONE:
  case FP8LAB_SCALE_TENSOR: break;
  case FP8LAB_SCALE_ROWWISE:
    if ((g->m && !s->row_a) || (g->n && !s->col_b))
      return fail(err, errlen, "row-wise scales missing");
    break;
  case FP8LAB_SCALE_BLOCKWISE:
    if (g->k && ((g->m && !s->tile_a) || (g->n && !s->block_b)))
      return fail(err, errlen, "block-wise scales missing");
    break;
  default: return fail(err, errlen, "unknown scale mode");
  }
  const size_t M = g->m, N = g->n, K = g->k, GB = ceil_div(K, FP8LAB_GEMM_BLOCK_N);
  double la[256], lb[256];
  decode_table(g->fa, la);
  decode_table(g->fb, lb);
  for (size_t i = 0; i < M; i++)
    for (size_t k = 0; k < K; k++) {
      double sc = 1.0;
      if (mx) sc = e8m0_value(g->mx.a[(ptrdiff_t)i * g->mx.a_rs +
                                      (ptrdiff_t)(k / FP8LAB_MX_BLOCK) * g->mx.a_cs]);
      else if (mode == FP8LAB_SCALE_TENSOR) sc = s->tensor_a;
      else if (mode == FP8LAB_SCALE_ROWWISE) sc = s->row_a[i];
      else if (mode == FP8LAB_SCALE_BLOCKWISE) sc = s->tile_a[i * GB + k / FP8LAB_GEMM_BLOCK_N];
      at[i * K + k] = la[g->a[(ptrdiff_t)i * g->a_rs + (ptrdiff_t)k * g->a_cs]] * sc;
    }
  for (size_t k = 0; k < K; k++)
    for (size_t j = 0; j < N; j++) {
      double sc = 1.0;
      if (mx) sc = e8m0_value(g->mx.b[(ptrdiff_t)(k / FP8LAB_MX_BLOCK) * g->mx.b_rs +
                                      (ptrdiff_t)j * g->mx.b_cs]);
      else if (mode == FP8LAB_SCALE_TENSOR) sc = s->tensor_b;
      else if (mode == FP8LAB_SCALE_ROWWISE) sc = s->col_b[j];
      else if (mode == FP8LAB_SCALE_BLOCKWISE)
        sc = s->block_b[(j / FP8LAB_GEMM_BLOCK_N) * GB + k / FP8LAB_GEMM_BLOCK_N];
      bt[k * N + j] = lb[g->b[(ptrdiff_t)k * g->b_rs + (ptrdiff_t)j * g->b_cs]] * sc;
    }
  return 0;
}

static bool blas_int_ok(size_t x) { return x <= 0x7FFFFFFF; }

/* The shared body: prec 64 writes g->d, prec 32 writes d32. */
static int reference(const fp8lab_gemm_accum_args *g, const fp8lab_scales *s,
                     int prec, float *d32, ptrdiff_t d32_rs, char *err,
                     size_t errlen) {
  if (check_args(g, false, false, err, errlen) != 0) return -1;
  if (g->m && g->n && !(prec == 32 ? (void *)d32 : (void *)g->d))
    return fail(err, errlen, "D missing");
  const size_t M = g->m, N = g->n, K = g->k;
  if (!blas_int_ok(M) || !blas_int_ok(N) || !blas_int_ok(K) ||
      (K && (M > SIZE_MAX / K || N > SIZE_MAX / K)) || (N && M > SIZE_MAX / N))
    return fail(err, errlen, "sizes too large for BLAS");
  if (!M || !N) return 0;
  double *at = malloc(count1(M * K) * sizeof *at);
  double *bt = malloc(count1(K * N) * sizeof *bt);
  double *cd = malloc(M * N * sizeof *cd);
  if (!at || !bt || !cd) {
    free(at), free(bt), free(cd);
    return fail(err, errlen, "out of memory");
  }
  int rc = descale(g, s, at, bt, err, errlen);
  if (rc == 0) {
    for (size_t i = 0; i < M; i++)
      for (size_t j = 0; j < N; j++)
        cd[i * N + j] = g->c ? g->c[(ptrdiff_t)i * g->c_rs + (ptrdiff_t)j] : 0.0;
    if (prec == 64) {
      if (K)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)K,
                    1.0, at, (int)count1(K), bt, (int)N, 1.0, cd, (int)N);
      for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) g->d[(ptrdiff_t)i * g->d_rs + (ptrdiff_t)j] = cd[i * N + j];
    } else {
      /* binary32 copies of the de-scaled operands and C, RNE */
      float *af = malloc(count1(M * K) * sizeof *af);
      float *bf = malloc(count1(K * N) * sizeof *bf);
      float *cf = malloc(M * N * sizeof *cf);
      if (!af || !bf || !cf) {
        rc = fail(err, errlen, "out of memory");
      } else {
        for (size_t x = 0; x < M * K; x++) af[x] = (float)at[x];
        for (size_t x = 0; x < K * N; x++) bf[x] = (float)bt[x];
        for (size_t x = 0; x < M * N; x++) cf[x] = (float)cd[x];
        if (K)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)K,
                      1.0f, af, (int)K, bf, (int)N, 1.0f, cf, (int)N);
        for (size_t i = 0; i < M; i++)
          for (size_t j = 0; j < N; j++) d32[(ptrdiff_t)i * d32_rs + (ptrdiff_t)j] = cf[i * N + j];
      }
      free(af), free(bf), free(cf);
    }
  }
  free(at), free(bt), free(cd);
  return rc;
}

int fp8lab_gemm_reference_f64(const fp8lab_gemm_accum_args *g,
                              const fp8lab_scales *scales, char *err,
                              size_t errlen) {
  return reference(g, scales, 64, NULL, 0, err, errlen);
}

int fp8lab_gemm_reference_f32(const fp8lab_gemm_accum_args *g,
                              const fp8lab_scales *scales, float *d32,
                              ptrdiff_t d32_rs, char *err, size_t errlen) {
  return reference(g, scales, 32, d32, d32_rs, err, errlen);
}
