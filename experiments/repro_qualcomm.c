/* fp8lab reproduce qualcomm-sqnr: the expected quantization error of Kuzmin
 * et al., "FP8 Quantization: The Power of the Exponent" (NeurIPS 2022, arXiv
 * 2208.09225), with the setup of their script compute_quant_error.py
 * (github.com/Qualcomm-AI-research/FP8-quantization, and what it imports:
 * utils/distributions.py, utils/grid.py, quantization/range_estimators.py,
 * quantization/quant_error_estimator.py, quantization/quantizers/):
 *
 *   1. data     seed_all(10), i.e. numpy's legacy RandomState(10), then
 *               5,000,000 samples of the distribution, drawn again for each
 *               distribution after reseeding:
 *                 uniform    np.random.uniform(-1, 1)
 *                 gauss      np.random.normal(0, 1), clipped to [-10, 10]
 *                 student-t  np.random.standard_t(8), clipped to [-100, 100]
 *               Here: the same MT19937 stream (GSL's mt19937 seeded with 10
 *               is numpy's init_genrand(10)) and numpy's legacy transforms
 *               (53-bit doubles from two words, the polar Gaussian with its
 *               cached second value, Marsaglia-Tsang gamma for the t), so
 *               the sample is theirs up to the last bit of libm's log.
 *   2. formats  FPQuantizer(8 bits, M mantissa bits): every one of the 256
 *               codes finite (no Inf/NaN, subnormals), scaled so that the
 *               largest value is the range T: the fp8lab formats
 *               e5m2b16fnone, e4m3b8fnone, e3m4b4fnone, e2m5b2fnone.
 *               INT8: SymmetricUniformQuantizer(8), integers -128..127 times
 *               RN32(T / 127): fp8lab's int8full.
 *   3. range    estimate_range_line_search: LineSearchEstimator, 1000
 *               candidates c * 10 (max|x| + 0.5) / 1000 (binary32), least
 *               sum of squared errors over the 5M samples (sqnr_line_search).
 *   4. metric   compute_expected_quant_mse: the expected squared rounding
 *               error of the clipped distribution, integrated over the grid
 *               cell by cell (nearest rounding: each half cell rounds to its
 *               end point; below the smallest / above the largest point to
 *               it), plus the clipping point masses at +-10 / +-100; they
 *               do it in closed form, here by Gauss-Legendre quadrature
 *               (24 nodes on pieces of width <= 1/4: exact to rounding for
 *               these smooth densities).  compute_expected_dot_prod_mse: for
 *               x, y independent from the same distribution and the same
 *               quantizer, R = q(x) - x,
 *                 E[(xy - q(x)q(y))^2] = 2 E[R^2] E[x^2] + 2 E[xR]^2
 *                                        + E[R^2]^2 + 4 E[R^2] E[xR].
 *               Reported: -10 log10(MSE) in dB, what their script prints as
 *               "SQNR" (to 3 digits).
 * Rows: <dist>/<format>/single and .../dot (that -10 log10 MSE, dB), and
 * .../range (the range T the search found). */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sqnr.h"
#include "cli.h"
#include "reproduce.h"

const bool repro_qualcomm_sqnr_ready = true;

static const char *const C = "reproduce";

/* ---- numpy's legacy RandomState ------------------------------------------ */

typedef struct np_legacy {
  gsl_rng *r;
  bool has_gauss;
  double gauss;
} np_legacy;

static double np_double(np_legacy *s) {
  unsigned long a = gsl_rng_get(s->r) >> 5, b = gsl_rng_get(s->r) >> 6;
  return ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
}

static double np_gauss(np_legacy *s) {
  if (s->has_gauss) {
    s->has_gauss = false;
    return s->gauss;
  }
  double x1, x2, r2;
  do {
    x1 = 2.0 * np_double(s) - 1.0;
    x2 = 2.0 * np_double(s) - 1.0;
    r2 = x1 * x1 + x2 * x2;
  } while (r2 >= 1.0 || r2 == 0.0);
  double f = sqrt(-2.0 * log(r2) / r2);
  s->gauss = f * x1;
  s->has_gauss = true;
  return f * x2;
}

/* legacy_standard_gamma for shape > 1 (Marsaglia and Tsang). */
static double np_gamma(np_legacy *s, double shape) {
  double b = shape - 1.0 / 3.0, c = 1.0 / sqrt(9 * b);
  for (;;) {
    double x, v;
    do {
      x = np_gauss(s);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    double u = np_double(s);
    if (u < 1.0 - 0.0331 * (x * x) * (x * x)) return b * v;
    if (log(u) < 0.5 * x * x + b * (1.0 - v + log(v))) return b * v;
  }
}

static double np_standard_t(np_legacy *s, double df) {
  double num = np_gauss(s), denom = np_gamma(s, df / 2);
  return sqrt(df / 2) * num / sqrt(denom);
}

/* ---- the distributions ---------------------------------------------------- */

enum { UNIFORM, GAUSS, STUDENT_T };

typedef struct distr {
  const char *name;
  int kind;
  double lo, hi; /* support (clipping range) */
  double nu;
  double mass;   /* point mass at each clipping end (symmetric) */
} distr;

static double pdf(const distr *d, double x) {
  switch (d->kind) {
  case UNIFORM: return 1.0 / (d->hi - d->lo);
  case GAUSS: return gsl_ran_ugaussian_pdf(x);
  default: return gsl_ran_tdist_pdf(x, d->nu);
  }
}

static double sample(const distr *d, np_legacy *s) {
  double x;
  switch (d->kind) {
  case UNIFORM: return d->lo + (d->hi - d->lo) * np_double(s);
  case GAUSS: x = 0.0 + 1.0 * np_gauss(s); break;
  default: x = np_standard_t(s, d->nu); break;
  }
  return x < d->lo ? d->lo : x > d->hi ? d->hi : x;
}

/* int_a^b p(x) (x - u)^2 dx (which = 0) or int_a^b x p(x) (u - x) dx
 * (which = 1): E[R^2] and E[x R] over [a, b] rounding to u.  For the uniform
 * distribution their UniformDistr.integr_interv_x_p_signed_r integrates
 * p (u - x), without the factor x (E[R] for E[xR]); kept, to compute what
 * their script computes.  It changes only terms of order E[R^2]^2: the
 * uniform dot rows move by less than 0.001 dB. */
static double integral(const distr *d, const gsl_integration_glfixed_table *t,
                       double a, double b, double u, int which) {
  if (!(a < b)) return 0.0;
  int pieces = (int)ceil((b - a) / 0.25);
  double h = (b - a) / pieces, sum = 0.0;
  for (int k = 0; k < pieces; k++) {
    double pa = a + k * h, pb = k + 1 == pieces ? b : a + (k + 1) * h;
    for (size_t i = 0; i < t->n; i++) {
      double xi, wi;
      gsl_integration_glfixed_point(pa, pb, i, &xi, &wi, t);
      double p = pdf(d, xi);
      double xf = d->kind == UNIFORM ? 1.0 : xi;
      sum += wi * (which == 0 ? p * (xi - u) * (xi - u) : xf * p * (u - xi));
    }
  }
  return sum;
}

static double nearest_point(const double *g, size_t n, double x) {
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (fabs(x - g[i]) < fabs(x - g[best])) best = i;
  return g[best];
}

/* utils/grid.py integrate_pdf_grid_func_analyt, for the sorted grid g. */
static double integrate_grid(const distr *d, const gsl_integration_glfixed_table *t,
                             const double *g, size_t n, int which) {
  double res = 0.0;
  if (d->lo < g[0]) res += integral(d, t, d->lo, g[0], g[0], which);
  for (size_t i = 0; i + 1 < n; i++) {
    double mid = 0.5 * (g[i] + g[i + 1]);
    res += integral(d, t, fmax(g[i], d->lo), fmin(mid, d->hi), g[i], which);
    res += integral(d, t, fmax(mid, d->lo), fmin(g[i + 1], d->hi), g[i + 1], which);
  }
  if (d->hi > g[n - 1]) res += integral(d, t, g[n - 1], d->hi, g[n - 1], which);
  if (d->mass > 0) {
    double qlo = nearest_point(g, n, d->lo), qhi = nearest_point(g, n, d->hi);
    if (which == 0)
      res += (qlo - d->lo) * (qlo - d->lo) * d->mass + (qhi - d->hi) * (qhi - d->hi) * d->mass;
    else
      res += d->lo * (qlo - d->lo) * d->mass + d->hi * (qhi - d->hi) * d->mass;
  }
  return res;
}

static double second_moment(const distr *d, const gsl_integration_glfixed_table *t) {
  return 2 * d->mass * d->hi * d->hi + integral(d, t, d->lo, d->hi, 0.0, 0);
}

/* ---- the reproduction ----------------------------------------------------- */

enum { NSAMPLES = 5000000, SEED = 10 };

void repro_qualcomm_sqnr(repro_table *tab) {
  distr ds[] = {
      {"uniform", UNIFORM, -1.0, 1.0, 0, 0},
      {"gauss", GAUSS, -10.0, 10.0, 0, gsl_cdf_ugaussian_P(-10.0)},
      {"student-t", STUDENT_T, -100.0, 100.0, 8.0, gsl_cdf_tdist_P(-100.0, 8.0)},
  };
  static const struct { const char *row, *fmt; } fs[] = {
      {"e5m2", "e5m2b16fnone"}, {"e4m3", "e4m3b8fnone"}, {"e3m4", "e3m4b4fnone"},
      {"e2m5", "e2m5b2fnone"}, {"int8", "int8full"}};
  enum { NF = sizeof fs / sizeof fs[0] };
  sqnr_grid grids[NF];
  for (size_t f = 0; f < NF; f++) {
    char why[256];
    if (sqnr_grid_make(fs[f].fmt, &grids[f], why, sizeof why) != 0)
      cli_fail(C, "internal: %s", why);
  }
  gsl_integration_glfixed_table *gl = gsl_integration_glfixed_table_alloc(24);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  double *x = malloc(NSAMPLES * sizeof *x), *g = malloc(65536 * sizeof *g);
  if (!gl || !r || !x || !g) cli_fail(C, "out of memory");
  for (size_t di = 0; di < sizeof ds / sizeof ds[0]; di++) {
    const distr *d = &ds[di];
    gsl_rng_set(r, SEED);
    np_legacy s = {.r = r};
    for (size_t i = 0; i < NSAMPLES; i++) x[i] = sample(d, &s);
    qsort(x, NSAMPLES, sizeof *x, sqnr_cmp_f64);
    double m2 = second_moment(d, gl);
    for (size_t f = 0; f < NF; f++) {
      const sqnr_grid *q = &grids[f];
      double range = sqnr_line_search(q, x, NSAMPLES, NULL);
      if (isnan(range)) cli_fail(C, "out of memory");
      /* The grid their estimator integrates over: FP values / (max / T);
       * INT8 the binary32 products step * k (torch float32 arange). */
      double step = sqnr_step(q, range);
      for (size_t i = 0; i < q->n; i++)
        g[i] = q->is_int ? (double)(float)((float)step * (float)q->v[i])
                         : q->v[i] / (q->max / range);
      double r2 = integrate_grid(d, gl, g, q->n, 0);
      double xr = integrate_grid(d, gl, g, q->n, 1);
      double dot = 2 * r2 * m2 + 2 * xr * xr + r2 * r2 + 4 * r2 * xr;
      char name[REPRO_NAMELEN];
      snprintf(name, sizeof name, "%s/%s/single", d->name, fs[f].row);
      repro_put(tab, name, -10.0 * log10(r2));
      snprintf(name, sizeof name, "%s/%s/dot", d->name, fs[f].row);
      repro_put(tab, name, -10.0 * log10(dot));
      snprintf(name, sizeof name, "%s/%s/range", d->name, fs[f].row);
      repro_put(tab, name, range);
    }
  }
  for (size_t f = 0; f < NF; f++) sqnr_grid_free(&grids[f]);
  free(x), free(g);
  gsl_rng_free(r);
  gsl_integration_glfixed_table_free(gl);
}
