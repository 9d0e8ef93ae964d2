/* Scaling recipes (rules and contracts in fp8lab/scaling.h). */
#include "fp8lab/scaling.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "fp8lab/exact_sum.h"

/* ---- helpers ------------------------------------------------------------ */

static const fp8lab_cvt rne = {.round = FP8LAB_RNE};
static const fp8lab_cvt rne_sat = {.round = FP8LAB_RNE, .saturate = true};

static float f32_of(uint32_t bits) { return fp8lab_f32_from_bits(bits); }

/* a / b rounded once to binary32 (RNE, overflow to Inf): q = RN64(a/b) and
 * the exact remainder r = a - q b (fma) give a / b = q + r/b, and r/b
 * carries the sign and nonzeroness of the tail, all RNE needs (the tail is
 * far below binary32's decision points; fp8lab_encode_dd). */
static float div_rn32(double a, double b) {
  double q = a / b;
  if (!isfinite(q) || q == 0) return (float)q;
  double r = fma(-q, b, a);
  return f32_of(fp8lab_encode_dd(fp8lab_f32, q, isfinite(r) ? r / b : 0.0, &rne, 0));
}

static int valid_fmt(const fp8lab_format *f) {
  return f && f->has_sign && fp8lab_format_has_zero(f);
}

static uint8_t e8m0_of(float dequant) {
  int e;
  double m = frexp(dequant, &e); /* dequant = m 2^e, m in [1/2, 1) */
  if (!(dequant > 0) || !isfinite(dequant) || m != 0.5) return 0xFF;
  e -= 1;
  return e >= -127 && e <= 127 ? (uint8_t)(e + 127) : 0xFF;
}

static float pow2_floor(float x) { /* 2^floor(log2 x), x > 0 finite */
  int e;
  frexp(x, &e);
  return (float)ldexp(1.0, e - 1);
}

/* ---- scales ------------------------------------------------------------- */

fp8lab_scaling fp8lab_scaling_recipe_get(fp8lab_scaling_recipe r, bool pow2) {
  fp8lab_scaling s = {pow2 ? FP8LAB_SCALE_AMAX_POW2 : FP8LAB_SCALE_AMAX_F32, 0, 0, 0};
  switch (r) {
  case FP8LAB_RECIPE_PER_TENSOR: break;
  case FP8LAB_RECIPE_PER_ROW: s.block_rows = 1; break;
  case FP8LAB_RECIPE_PER_COL: s.block_cols = 1; break;
  case FP8LAB_RECIPE_TILE_1X128: s.block_rows = 1, s.block_cols = 128; break;
  case FP8LAB_RECIPE_BLOCK_128X128: s.block_rows = 128, s.block_cols = 128; break;
  case FP8LAB_RECIPE_MX32:
    s.rule = FP8LAB_SCALE_MX_E8M0, s.block_rows = 1, s.block_cols = 32;
    break;
  }
  return s;
}

/* mul from amax per TE, then dequant. */
static fp8lab_scale amax_scale(const fp8lab_format *fmt, double amax,
                               int margin, bool pow2, float fallback_mul) {
  fp8lab_scale sc = {0};
  sc.amax = amax;
  float mul = fallback_mul;
  if (isfinite(amax) && amax > 0) {
    mul = div_rn32(ldexp(fp8lab_format_max(fmt), -margin), amax);
    if (isinf(mul)) mul = FLT_MAX;
    if (mul == 0) mul = FLT_TRUE_MIN; /* amax beyond fmax * 2^149 */
  }
  if (pow2) mul = pow2_floor(mul);
  sc.mul = mul;
  sc.dequant = pow2 ? (float)(1.0 / mul) : div_rn32(1.0, mul);
  if (isinf(sc.dequant)) sc.dequant = FLT_MAX;
  sc.e8m0 = e8m0_of(sc.dequant);
  return sc;
}

fp8lab_scale fp8lab_scale_from_amax(fp8lab_scale_rule rule,
                                    const fp8lab_format *fmt, double amax,
                                    int margin) {
  fp8lab_scale sc = {0};
  sc.amax = amax;
  if (!valid_fmt(fmt)) {
    sc.mul = sc.dequant = NAN;
    sc.e8m0 = 0xFF;
    return sc;
  }
  switch (rule) {
  case FP8LAB_SCALE_AMAX_F32: return amax_scale(fmt, amax, margin, false, 1.0f);
  case FP8LAB_SCALE_AMAX_POW2: return amax_scale(fmt, amax, margin, true, 1.0f);
  case FP8LAB_SCALE_MX_E8M0:
    if (!(amax >= 0) || isinf(amax)) { /* NaN or Inf in the block */
      sc.mul = sc.dequant = NAN;
      sc.e8m0 = 0xFF;
      return sc;
    }
    {
      int e = -127;
      if (amax > 0) {
        int fe;
        frexp(amax, &fe); /* amax in [2^(fe-1), 2^fe): floor(log2) = fe-1 */
        e = fe - 1 - fp8lab_format_emax(fmt);
        e = e < -127 ? -127 : e > 127 ? 127 : e;
      }
      sc.dequant = (float)ldexp(1.0, e);
      sc.mul = (float)ldexp(1.0, -e);
      sc.e8m0 = (uint8_t)(e + 127);
    }
    return sc;
  }
  sc.mul = sc.dequant = NAN;
  sc.e8m0 = 0xFF;
  return sc;
}

/* ---- block geometry ----------------------------------------------------- */

typedef struct {
  size_t br, bc, gr, gc;
} grid;

static grid grid_of(const fp8lab_scaling *s, size_t rows, size_t cols) {
  grid g;
  g.br = s->block_rows && s->block_rows < rows ? s->block_rows : (rows ? rows : 1);
  g.bc = s->block_cols && s->block_cols < cols ? s->block_cols : (cols ? cols : 1);
  g.gr = (rows + g.br - 1) / g.br;
  g.gc = (cols + g.bc - 1) / g.bc;
  return g;
}

size_t fp8lab_scaling_grid(const fp8lab_scaling *s, size_t rows, size_t cols,
                           size_t *grows, size_t *gcols) {
  grid g = grid_of(s, rows, cols);
  if (grows) *grows = g.gr;
  if (gcols) *gcols = g.gc;
  return g.gr * g.gc;
}

static size_t scale_index(const grid *g, size_t r, size_t c) {
  return (r / g->br) * g->gc + c / g->bc;
}

/* ---- amax and scales ---------------------------------------------------- */

double fp8lab_amax_f32(const float *x, size_t inc, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)x[i * inc]));
  return m;
}

double fp8lab_amax_f64(const double *x, size_t inc, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i * inc]));
  return m;
}

/* Element (r, c) as double from either input type. */
typedef struct {
  const float *f;
  const double *d;
  size_t ld;
} tensor;

static double elem(const tensor *t, size_t r, size_t c) {
  return t->f ? (double)t->f[r * t->ld + c] : t->d[r * t->ld + c];
}

static int scales(const fp8lab_scaling *s, const fp8lab_format *fmt,
                  const tensor *t, size_t rows, size_t cols,
                  fp8lab_scale *out) {
  if (!s || !valid_fmt(fmt) || !out || (rows && cols && !(t->f || t->d)) ||
      t->ld < cols)
    return -1;
  grid g = grid_of(s, rows, cols);
  size_t ns = g.gr * g.gc;
  for (size_t k = 0; k < ns; k++) {
    size_t r0 = (k / g.gc) * g.br, c0 = (k % g.gc) * g.bc;
    size_t r1 = r0 + g.br < rows ? r0 + g.br : rows;
    size_t c1 = c0 + g.bc < cols ? c0 + g.bc : cols;
    double m = 0;
    bool nonfinite = false;
    for (size_t r = r0; r < r1; r++)
      for (size_t c = c0; c < c1; c++) {
        double v = elem(t, r, c);
        if (!isfinite(v)) nonfinite = true;
        m = fmax(m, fabs(v));
      }
    /* MX: a NaN anywhere in the block makes its scale NaN */
    double a = s->rule == FP8LAB_SCALE_MX_E8M0 && nonfinite ? NAN : m;
    out[k] = fp8lab_scale_from_amax(s->rule, fmt, a, s->margin);
    out[k].amax = m;
  }
  return 0;
}

int fp8lab_scales_f32(const fp8lab_scaling *s, const fp8lab_format *fmt,
                      const float *x, size_t rows, size_t cols, size_t ld,
                      fp8lab_scale *out) {
  tensor t = {x, NULL, ld};
  return scales(s, fmt, &t, rows, cols, out);
}

int fp8lab_scales_f64(const fp8lab_scaling *s, const fp8lab_format *fmt,
                      const double *x, size_t rows, size_t cols, size_t ld,
                      fp8lab_scale *out) {
  tensor t = {NULL, x, ld};
  return scales(s, fmt, &t, rows, cols, out);
}

/* ---- quantise / dequantise ---------------------------------------------- */

static void put_code(void *out, size_t size, size_t i, uint32_t v) {
  switch (size) {
  case 1: ((uint8_t *)out)[i] = (uint8_t)v; break;
  case 2: ((uint16_t *)out)[i] = (uint16_t)v; break;
  default: ((uint32_t *)out)[i] = v; break;
  }
}

static uint32_t get_code(const void *in, size_t size, size_t i) {
  switch (size) {
  case 1: return ((const uint8_t *)in)[i];
  case 2: return ((const uint16_t *)in)[i];
  default: return ((const uint32_t *)in)[i];
  }
}

/* round(x * mul) with the product exact. */
static uint32_t quantize_one(const fp8lab_format *fmt, double x, double mul,
                             const fp8lab_cvt *c, uint64_t u) {
  double p = x * mul;
  if (!isfinite(x) || !isfinite(mul) || x == 0 || mul == 0)
    return fp8lab_encode_f64(fmt, p, c, u);
  if (isfinite(p) && fabs(p) >= 0x1p-969)
    return fp8lab_encode_dd(fmt, p, fma(x, mul, -p), c, u);
  fp8lab_exact_sum xs;
  fp8lab_exact_sum_init(&xs);
  fp8lab_exact_sum_add_prod(&xs, x, mul);
  return fp8lab_exact_sum_encode(&xs, fmt, c, u);
}

/* |x mul| > fmax for finite nonzero x, decided on the exact product
 * p + e (p = RN(x mul), e its fma error; exact wherever |p| is near fmax). */
static bool beyond(double x, double mul, double fmax) {
  if (!isfinite(mul) || mul == 0) return false;
  double p = fabs(x * mul);
  /* RN is monotone and fmax is a double: p > fmax implies x mul > fmax,
   * p < fmax implies x mul < fmax; p == fmax leaves the error's sign */
  if (p != fmax) return p > fmax;
  return fma(fabs(x), fabs(mul), -p) > 0;
}

static int quantize(const fp8lab_scaling *s, const fp8lab_format *fmt,
                    const tensor *t, size_t rows, size_t cols,
                    const fp8lab_scale *sc, const fp8lab_cvt *cvt,
                    uint64_t index0, void *codes, fp8lab_quant_stats *stats) {
  if (!s || !valid_fmt(fmt) || !sc || !codes || t->ld < cols ||
      (rows && cols && !(t->f || t->d)))
    return -1;
  if (!cvt) cvt = &rne_sat;
  fp8lab_quant_stats st = {0};
  grid g = grid_of(s, rows, cols);
  size_t size = fp8lab_code_size(fmt);
  double fmax = fp8lab_format_max(fmt);
  bool sr = cvt->round == FP8LAB_SR;
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < cols; c++) {
      double x = elem(t, r, c), mul = sc[scale_index(&g, r, c)].mul;
      uint64_t i = index0 + r * cols + c;
      uint32_t code = quantize_one(fmt, x, mul, cvt, sr ? fp8lab_sr_word(cvt, i) : 0);
      put_code(codes, size, r * cols + c, code);
      if (!isfinite(x)) {
        st.nonfinite++;
      } else if (x != 0) {
        if (beyond(x, mul, fmax)) st.overflow++;
        if (fp8lab_decode_f64(fmt, code) == 0) st.underflow++;
      }
    }
  if (stats) *stats = st;
  return 0;
}

int fp8lab_quantize_f32(const fp8lab_scaling *s, const fp8lab_format *fmt,
                        const float *x, size_t rows, size_t cols, size_t ld,
                        const fp8lab_scale *scales, const fp8lab_cvt *cvt,
                        uint64_t index0, void *codes,
                        fp8lab_quant_stats *stats) {
  tensor t = {x, NULL, ld};
  return quantize(s, fmt, &t, rows, cols, scales, cvt, index0, codes, stats);
}

int fp8lab_quantize_f64(const fp8lab_scaling *s, const fp8lab_format *fmt,
                        const double *x, size_t rows, size_t cols, size_t ld,
                        const fp8lab_scale *scales, const fp8lab_cvt *cvt,
                        uint64_t index0, void *codes,
                        fp8lab_quant_stats *stats) {
  tensor t = {NULL, x, ld};
  return quantize(s, fmt, &t, rows, cols, scales, cvt, index0, codes, stats);
}

static int dequantize(const fp8lab_scaling *s, const fp8lab_format *fmt,
                      const void *codes, size_t rows, size_t cols,
                      const fp8lab_scale *sc, float *of, double *od,
                      size_t ldo) {
  if (!s || !valid_fmt(fmt) || !sc || !codes || ldo < cols) return -1;
  grid g = grid_of(s, rows, cols);
  size_t size = fp8lab_code_size(fmt);
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < cols; c++) {
      double v = fp8lab_decode_f64(fmt, get_code(codes, size, r * cols + c)) *
                 (double)sc[scale_index(&g, r, c)].dequant; /* exact */
      if (of) of[r * ldo + c] = f32_of(fp8lab_encode_f64(fp8lab_f32, v, &rne, 0));
      else od[r * ldo + c] = v;
    }
  return 0;
}

int fp8lab_dequantize_f32(const fp8lab_scaling *s, const fp8lab_format *fmt,
                          const void *codes, size_t rows, size_t cols,
                          const fp8lab_scale *scales, float *out, size_t ldo) {
  if (!out) return -1;
  return dequantize(s, fmt, codes, rows, cols, scales, out, NULL, ldo);
}

int fp8lab_dequantize_f64(const fp8lab_scaling *s, const fp8lab_format *fmt,
                          const void *codes, size_t rows, size_t cols,
                          const fp8lab_scale *scales, double *out, size_t ldo) {
  if (!out) return -1;
  return dequantize(s, fmt, codes, rows, cols, scales, NULL, out, ldo);
}

/* ---- delayed scaling ---------------------------------------------------- */

int fp8lab_delayed_init(fp8lab_delayed_scaling *d, const fp8lab_format *fmt,
                        float *history, size_t len, fp8lab_amax_algo algo,
                        int margin, bool pow2) {
  if (!d || !valid_fmt(fmt) || !history || len == 0 ||
      (algo != FP8LAB_AMAX_MAX && algo != FP8LAB_AMAX_MOST_RECENT))
    return -1;
  memset(history, 0, len * sizeof *history);
  *d = (fp8lab_delayed_scaling){.fmt = fmt, .algo = algo, .margin = margin,
                                .pow2 = pow2, .len = len, .history = history,
                                .scale = {.mul = 1.0f, .dequant = 1.0f,
                                          .amax = 0, .e8m0 = 127}};
  return 0;
}

void fp8lab_delayed_record(fp8lab_delayed_scaling *d, double amax) {
  float a = (float)amax; /* TE keeps amax in binary32 */
  if (a > d->history[0] || isnan(d->history[0])) d->history[0] = a;
}

void fp8lab_delayed_update(fp8lab_delayed_scaling *d) {
  size_t n = d->len;
  float *h = d->history;
  /* 1. amax */
  double amax = h[0];
  if (d->algo == FP8LAB_AMAX_MAX)
    for (size_t i = 0; i < n; i++) amax = fmax(amax, h[i]);
  /* 2. scale; a non-finite or zero amax keeps the previous mul */
  double a = isfinite(amax) && amax > 0 ? amax : NAN;
  d->scale = amax_scale(d->fmt, a, d->margin, d->pow2, d->scale.mul);
  d->scale.amax = amax;
  /* 3. roll */
  float last = h[0];
  for (size_t i = 0; i + 1 < n; i++) h[i] = h[i + 1];
  h[n - 1] = last;
  h[0] = 0;
}
