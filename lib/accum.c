/* Accumulation models (algorithms and contracts in fp8lab/accum.h). */
#include "fp8lab/accum.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "KAHAN_F32 needs float expressions evaluated in binary32 (FLT_EVAL_METHOD 0)"
#endif

/* ---- descriptor --------------------------------------------------------- */

static int bad(char *err, size_t len, const char *why) {
  if (err && len) snprintf(err, len, "invalid accumulator: %s", why);
  return -1;
}

static int check_fmt_cvt(const fp8lab_format *f, const fp8lab_cvt *c,
                         char *err, size_t len) {
  if (f && !fp8lab_format_has_zero(f))
    return bad(err, len, "the format has no zero (E8M0)");
  if ((unsigned)c->round > FP8LAB_SR) return bad(err, len, "unknown rounding mode");
  if (c->sr_bits < 0 || c->sr_bits > 32) return bad(err, len, "sr_bits not in 0..32");
  return 0;
}

int fp8lab_accum_check(const fp8lab_accum *a, char *err, size_t errlen) {
  if (!a) return bad(err, errlen, "NULL descriptor");
  if ((unsigned)a->kind > FP8LAB_ACCUM_F64) return bad(err, errlen, "unknown kind");
  switch (a->kind) {
  case FP8LAB_ACCUM_EXACT:
  case FP8LAB_ACCUM_SEQ:
  case FP8LAB_ACCUM_PAIRWISE:
    return check_fmt_cvt(a->fmt, &a->cvt, err, errlen);
  case FP8LAB_ACCUM_CHUNKED:
    if (a->chunk < 1) return bad(err, errlen, "CHUNKED needs chunk >= 1");
    if (check_fmt_cvt(a->fmt, &a->cvt, err, errlen)) return -1;
    return a->inter_fmt ? check_fmt_cvt(a->inter_fmt, &a->inter_cvt, err, errlen) : 0;
  default:
    return 0;
  }
}

static const fp8lab_format *acc_fmt(const fp8lab_accum *a) {
  return a->fmt ? a->fmt : fp8lab_f32;
}

const fp8lab_format *fp8lab_accum_code_format(const fp8lab_accum *a) {
  switch (a->kind) {
  case FP8LAB_ACCUM_EXACT: return a->fmt;
  case FP8LAB_ACCUM_SEQ:
  case FP8LAB_ACCUM_PAIRWISE: return acc_fmt(a);
  case FP8LAB_ACCUM_CHUNKED: return a->inter_fmt ? a->inter_fmt : acc_fmt(a);
  case FP8LAB_ACCUM_KAHAN_F32: return fp8lab_f32;
  default: return NULL;
  }
}

static fp8lab_cvt level2(fp8lab_cvt c) {
  c.stream ^= FP8LAB_ACCUM_LEVEL2_STREAM;
  return c;
}

/* ---- one rounded addition: s' = round_f(s + t), t = a or a*b exactly ----- */

static double decode(const fp8lab_format *f, uint32_t code) {
  return fp8lab_decode_f64(f, code);
}

/* s + x for doubles s, x, rounded once (fp8lab_encode_dd). */
static uint32_t round_add(const fp8lab_format *f, const fp8lab_cvt *c,
                          double s, double x, uint64_t u) {
  if (!isfinite(s) || !isfinite(x)) return fp8lab_encode_f64(f, s + x, c, u);
  if (s + x == 0) { /* exact zero (sums of doubles never underflow to 0) */
    bool neg = signbit(s) && signbit(x) ? true
               : signbit(s) == signbit(x) ? false
                                          : c->round == FP8LAB_RDN;
    return fp8lab_encode_f64(f, neg ? -0.0 : 0.0, c, u);
  }
  return fp8lab_encode_dd(f, s, x, c, u);
}

/* s + a*b, the product exact, rounded once. */
static uint32_t round_fma(const fp8lab_format *f, const fp8lab_cvt *c,
                          double s, double a, double b, uint64_t u) {
  double p = a * b;
  if (!isfinite(a) || !isfinite(b) || a == 0 || b == 0)
    return round_add(f, c, s, p, u); /* IEEE product: signed 0, Inf, NaN */
  if (isfinite(p) && fabs(p) >= 0x1p-969) {
    double e = fma(a, b, -p); /* exact here (no underflow) */
    if (e == 0) return round_add(f, c, s, p, u);
  }
  if (!isfinite(s)) return fp8lab_encode_f64(f, s + p, c, u);
  fp8lab_exact_sum xs; /* three terms (or a product beyond double): exact */
  fp8lab_exact_sum_init(&xs);
  fp8lab_exact_sum_add(&xs, s);
  fp8lab_exact_sum_add_prod(&xs, a, b);
  return fp8lab_exact_sum_encode(&xs, f, c, u);
}

/* ---- streaming state ---------------------------------------------------- */

int fp8lab_accum_init(fp8lab_accum_state *st, const fp8lab_accum *a,
                      uint64_t index0) {
  memset(st, 0, sizeof *st);
  if (fp8lab_accum_check(a, NULL, 0) || a->kind == FP8LAB_ACCUM_PAIRWISE) {
    st->s = NAN;
    return -1;
  }
  st->a = *a;
  st->fmt = acc_fmt(a);
  st->ifmt = a->inter_fmt ? a->inter_fmt : st->fmt;
  st->icvt = a->inter_fmt ? a->inter_cvt : a->cvt;
  st->index0 = st->index = st->chunk_first = index0;
  st->s = st->c = st->cs = 0.0;
  st->code = fp8lab_encode_f64(st->ifmt, 0.0, &a->cvt, 0); /* +0 */
  fp8lab_exact_sum_init(&st->x);
  return 0;
}

/* CHUNKED: the inter-chunk accumulator after adding chunk sum cs. */
static uint32_t chunk_flush(const fp8lab_accum_state *st) {
  fp8lab_cvt c2 = level2(st->icvt);
  return round_add(st->ifmt, &st->icvt, st->s, st->cs,
                   fp8lab_sr_word(&c2, st->chunk_first));
}

static void add_term(fp8lab_accum_state *st, double a, double b, bool prod) {
  const fp8lab_cvt *c = &st->a.cvt;
  uint64_t i = st->index++;
  switch (st->a.kind) {
  case FP8LAB_ACCUM_EXACT:
    if (prod) fp8lab_exact_sum_add_prod(&st->x, a, b);
    else fp8lab_exact_sum_add(&st->x, a);
    return;
  case FP8LAB_ACCUM_SEQ: {
    uint64_t u = c->round == FP8LAB_SR ? fp8lab_sr_word(c, i) : 0;
    st->code = prod ? round_fma(st->fmt, c, st->s, a, b, u)
                    : round_add(st->fmt, c, st->s, a, u);
    st->s = decode(st->fmt, st->code);
    return;
  }
  case FP8LAB_ACCUM_CHUNKED: {
    uint64_t u = c->round == FP8LAB_SR ? fp8lab_sr_word(c, i) : 0;
    uint32_t cc = prod ? round_fma(st->fmt, c, st->cs, a, b, u)
                       : round_add(st->fmt, c, st->cs, a, u);
    st->cs = decode(st->fmt, cc);
    if (++st->in_chunk == st->a.chunk) {
      st->code = chunk_flush(st);
      st->s = decode(st->ifmt, st->code);
      st->cs = 0.0;
      st->in_chunk = 0;
      st->chunk_first = st->index;
    }
    return;
  }
  case FP8LAB_ACCUM_KAHAN_F32: {
    float s = (float)st->s, cf = (float)st->c, y;
    if (prod) y = fmaf((float)a, (float)b, -cf);
    else y = (float)a - cf;
    float t = s + y;
    cf = (t - s) - y;
    st->s = t;
    st->c = cf;
    return;
  }
  case FP8LAB_ACCUM_KAHAN_F64: {
    double y = prod ? fma(a, b, -st->c) : a - st->c;
    double t = st->s + y;
    st->c = (t - st->s) - y;
    st->s = t;
    return;
  }
  case FP8LAB_ACCUM_F64:
    st->s = prod ? fma(a, b, st->s) : st->s + a;
    return;
  case FP8LAB_ACCUM_PAIRWISE:
    return;
  }
}

void fp8lab_accum_add(fp8lab_accum_state *st, double x) {
  add_term(st, x, 0.0, false);
}

void fp8lab_accum_add_prod(fp8lab_accum_state *st, double a, double b) {
  add_term(st, a, b, true);
}

double fp8lab_accum_result(const fp8lab_accum_state *st, uint32_t *code) {
  uint32_t k = 0;
  double v = st->s;
  switch (st->a.kind) {
  case FP8LAB_ACCUM_EXACT:
    v = fp8lab_exact_sum_f64_rne(&st->x);
    if (st->a.fmt) {
      uint64_t u = st->a.cvt.round == FP8LAB_SR ? fp8lab_sr_word(&st->a.cvt, st->index0) : 0;
      k = fp8lab_exact_sum_encode(&st->x, st->a.fmt, &st->a.cvt, u);
    }
    break;
  case FP8LAB_ACCUM_SEQ: k = st->code; break;
  case FP8LAB_ACCUM_CHUNKED:
    k = st->in_chunk ? chunk_flush(st) : st->code;
    v = decode(st->ifmt, k);
    break;
  case FP8LAB_ACCUM_KAHAN_F32: k = fp8lab_f32_bits((float)v); break;
  default: break;
  }
  if (code) *code = k;
  return v;
}

/* ---- pairwise ----------------------------------------------------------- */

typedef struct {
  const fp8lab_format *f;
  fp8lab_cvt c, c2; /* leaves / nodes */
  size_t leaf;
  const double *x, *y;
  size_t incx, incy;
  uint64_t index0;
} pw_ctx;

/* Terms [lo, lo + n), n >= 1: the value, its code in *code. */
static double pairwise(const pw_ctx *p, size_t lo, size_t n, uint32_t *code) {
  const bool sr = p->c.round == FP8LAB_SR;
  if (n <= p->leaf) {
    double s = 0.0;
    for (size_t i = lo; i < lo + n; i++) {
      uint64_t u = sr ? fp8lab_sr_word(&p->c, p->index0 + i) : 0;
      *code = p->y ? round_fma(p->f, &p->c, s, p->x[i * p->incx], p->y[i * p->incy], u)
                   : round_add(p->f, &p->c, s, p->x[i * p->incx], u);
      s = decode(p->f, *code);
    }
    return s;
  }
  size_t h = n / 2;
  uint32_t k;
  double l = pairwise(p, lo, h, &k);
  double r = pairwise(p, lo + h, n - h, &k);
  uint64_t u = sr ? fp8lab_sr_word(&p->c2, p->index0 + lo + h) : 0;
  *code = round_add(p->f, &p->c, l, r, u);
  return decode(p->f, *code);
}

/* ---- array front ends --------------------------------------------------- */

static double run(const fp8lab_accum *a, const double *x, size_t incx,
                  const double *y, size_t incy, size_t n, uint64_t index0,
                  uint32_t *code) {
  if (code) *code = 0;
  if (fp8lab_accum_check(a, NULL, 0)) return NAN;
  if (a->kind == FP8LAB_ACCUM_PAIRWISE) {
    pw_ctx p = {acc_fmt(a), a->cvt, level2(a->cvt), a->chunk > 1 ? a->chunk : 1,
                x, y, incx, incy, index0};
    uint32_t k = fp8lab_encode_f64(p.f, 0.0, &a->cvt, 0);
    double v = n ? pairwise(&p, 0, n, &k) : 0.0;
    if (code) *code = k;
    return v;
  }
  fp8lab_accum_state st;
  fp8lab_accum_init(&st, a, index0);
  for (size_t i = 0; i < n; i++) {
    if (y) add_term(&st, x[i * incx], y[i * incy], true);
    else add_term(&st, x[i * incx], 0.0, false);
  }
  return fp8lab_accum_result(&st, code);
}

double fp8lab_sum(const fp8lab_accum *a, const double *x, size_t n,
                  uint32_t *code) {
  return run(a, x, 1, NULL, 0, n, 0, code);
}

double fp8lab_sum_ex(const fp8lab_accum *a, const double *x, size_t incx,
                     size_t n, uint64_t index0, uint32_t *code) {
  return run(a, x, incx, NULL, 0, n, index0, code);
}

double fp8lab_dot(const fp8lab_accum *a, const double *x, const double *y,
                  size_t n, uint32_t *code) {
  return run(a, x, 1, y, 1, n, 0, code);
}

double fp8lab_dot_ex(const fp8lab_accum *a, const double *x, size_t incx,
                     const double *y, size_t incy, size_t n, uint64_t index0,
                     uint32_t *code) {
  return run(a, x, incx, y, incy, n, index0, code);
}

/* ---- matrix-vector ------------------------------------------------------ */

typedef struct {
  const fp8lab_accum *a;
  const double *A, *x;
  size_t lda, n, r0, r1;
  uint64_t index0;
  double *out;
  uint32_t *codes;
} rows_job;

static void *rows_worker(void *arg) {
  const rows_job *j = arg;
  for (size_t r = j->r0; r < j->r1; r++) {
    uint32_t k;
    j->out[r] = run(j->a, j->A + r * j->lda, 1, j->x, 1, j->n,
                    j->index0 + r * j->n, &k);
    if (j->codes) j->codes[r] = k;
  }
  return NULL;
}

int fp8lab_dot_rows(const fp8lab_accum *a, const double *A, size_t lda,
                    const double *x, size_t m, size_t n, uint64_t index0,
                    double *out, uint32_t *codes, int nthreads) {
  if (fp8lab_accum_check(a, NULL, 0)) {
    for (size_t r = 0; r < m; r++) {
      out[r] = NAN;
      if (codes) codes[r] = 0;
    }
    return -1;
  }
  if (nthreads <= 0) {
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    nthreads = c > 0 ? (int)c : 1;
  }
  if ((size_t)nthreads > m) nthreads = m ? (int)m : 1;
  enum { MAXT = 256 };
  if (nthreads > MAXT) nthreads = MAXT;
  rows_job jobs[MAXT];
  pthread_t tid[MAXT];
  int started[MAXT] = {0};
  for (int t = 0; t < nthreads; t++) {
    jobs[t] = (rows_job){a, A, x, lda, n, m * (size_t)t / (size_t)nthreads,
                         m * (size_t)(t + 1) / (size_t)nthreads, index0, out, codes};
    if (t > 0) started[t] = pthread_create(&tid[t], NULL, rows_worker, &jobs[t]) == 0;
  }
  rows_worker(&jobs[0]);
  for (int t = 1; t < nthreads; t++) {
    if (started[t]) pthread_join(tid[t], NULL);
    else rows_worker(&jobs[t]); /* no thread: do it here, same result */
  }
  return 0;
}
