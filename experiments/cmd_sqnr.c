/* fp8lab sqnr: quantization error of INT8 and FP8 formats, single values and
 * products (Kuzmin, Van Baalen, Ren, Nagel, Peters, Blankevoort, "FP8
 * Quantization: The Power of the Exponent", NeurIPS 2022, arXiv 2208.09225,
 * section 3; their code: Qualcomm-AI-research/FP8-quantization,
 * compute_quant_error.py).
 *
 * A quantizer is a grid: the finite values of a format (every code decoded,
 * each value once; -0 = +0), or the integers of int8 ([-127, 127]) or
 * int8full ([-128, 127], Kuzmin et al.'s SymmetricUniformQuantizer), times a
 * scale s.  q(x) = the grid point nearest x (saturating: beyond the ends,
 * the end), which for FP formats is round-to-nearest with saturation.
 * Ties (a measure-zero set for continuous data) go to the lower point.
 *
 * A configuration is (distribution, format, scaling).  Per configuration:
 *   1. data    x and y, --samples values each, drawn by GSL's MT19937
 *              seeded with mix(seed, distribution, nu, stream) (y: stream 1),
 *              or the --input tensor (y = x rotated by n/2: y_i = x_{(i +
 *              n/2) mod n}); every format and scaling sees the same data.
 *   2. range   the threshold T that the grid's largest value is mapped to
 *              (s = T / gridmax):
 *                absmax  T = max |x_i|
 *                mse     Kuzmin et al.'s LineSearchEstimator: candidates
 *                        T_c = c * 10 (max|x_i| + 0.5) / 1000, c = 1..1000,
 *                        each rounded to binary32 (their torch.Tensor); for
 *                        int the step s = RN32(T_c / 127) as their float32
 *                        division; T = the candidate of least sum of
 *                        (x_i - q(x_i))^2 over x (first on ties, np.argmin).
 *                        Computed exactly per candidate from the sorted
 *                        sample with 80-bit prefix sums of x and x^2.
 *   3. metrics single: mse = mean (x - q(x))^2; sqnr_db = 10 log10(sum x^2 /
 *              sum (x - q(x))^2) (the true SQNR); neg_log_mse_db = -10
 *              log10(mse) (what Kuzmin et al. report as "SQNR").  dot (their
 *              definition: one term of a dot product, y quantized with the
 *              same range): mse = mean (x y - q(x) q(y))^2, sqnr over sum
 *              (x y)^2, and -10 log10(mse).
 * Seeds come from the content of a configuration: results depend neither on
 * --threads, nor on --shard, nor on the order of the lists. */
#include <getopt.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <hdf5.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sqnr.h"
#include "cli.h"
#include "runner.h"

static const char *const C = "sqnr";

static const char *const help =
    "usage: fp8lab sqnr [--formats LIST] [--dists LIST] [--nu NU]\n"
    "                   [--input FILE:DATASET] [--scaling LIST]\n"
    "                   [--samples N] [--seed S] [--threads N] [--shard I/N]\n"
    "                   [--out FILE]\n\n"
    "Quantization error of INT8 and FP formats on random or given data\n"
    "(Kuzmin et al., \"FP8 Quantization: The Power of the Exponent\", arXiv\n"
    "2208.09225): one row per (distribution, format, scaling) in the table\n"
    "'sqnr' of the results file (docs/results-format.md), with the true SQNR\n"
    "10 log10(signal power / error power) and the paper's -10 log10(MSE), for\n"
    "single values and for one product x*y of a dot product (their\n"
    "definition; y independent, same distribution, same range).\n\n"
    "  --formats LIST  quantizers (default e5m2,e4m3fn,e4m3,e3m4,e2m5,int8):\n"
    "                  any format of at most 16 bits that 'fp8lab formats'\n"
    "                  knows or e<X>m<Y>... (e4m3fnone: all 256 codes finite,\n"
    "                  as in Kuzmin et al.), int8 (integers -127..127) or\n"
    "                  int8full (-128..127, Kuzmin et al.'s INT8)\n"
    "  --dists LIST    uniform (on [-1,1]), gauss (N(0,1)), student-t (t with\n"
    "                  --nu degrees of freedom), laplace (scale 1)\n"
    "                  (default uniform,gauss,student-t,laplace)\n"
    "  --nu NU         degrees of freedom of student-t, > 0 (default 8)\n"
    "  --input FILE:DATASET  quantize the tensor of an HDF5 dataset instead\n"
    "                  (any numeric type and shape, read as f64, flattened;\n"
    "                  the dot products pair x_i with x_(i+n/2 mod n))\n"
    "  --scaling LIST  absmax (max |x| -> largest grid value), mse (Kuzmin\n"
    "                  et al.'s grid search for the MSE-optimal range)\n"
    "                  (default absmax,mse)\n"
    "  --samples N     values drawn per distribution, 2..2^26, integers or\n"
    "                  2^k (default 2^20)\n"
    "  --seed S        seed of the data (default 0)\n"
    "  --threads N     worker threads, 0 = one per CPU (default 0); results\n"
    "                  do not depend on it\n"
    "  --shard I/N     run configurations c with c % N == I only (0 <= I < N)\n"
    "  --out FILE      results file (default results/sqnr.h5), written\n"
    "                  under a temporary name and renamed when complete\n"
    "  -h, --help      this text\n\n"
    "example: fp8lab sqnr --formats e4m3fn,int8 --dists gauss --samples 2^16\n";

/* ---- grids ---------------------------------------------------------------- */

int sqnr_grid_make(const char *name, sqnr_grid *g, char *why, size_t len) {
  memset(g, 0, sizeof *g);
  snprintf(g->name, sizeof g->name, "%s", name);
  if (strcmp(name, "int8") == 0 || strcmp(name, "int8full") == 0) {
    int lo = name[4] ? -128 : -127;
    g->n = (size_t)(127 - lo + 1);
    g->v = malloc(g->n * sizeof *g->v);
    if (!g->v) return snprintf(why, len, "out of memory"), -1;
    for (size_t i = 0; i < g->n; i++) g->v[i] = lo + (int)i;
    g->max = 127;
    g->is_int = true;
    return 0;
  }
  fp8lab_format f;
  if (fp8lab_format_parse(name, &f, why, len) != 0) return -1;
  int bits = (int)f.has_sign + f.ebits + f.mbits;
  if (bits > 16) {
    snprintf(why, len, "%s has %d bits: at most 16 (a grid of every value)",
             name, bits);
    return -1;
  }
  if (!f.has_sign || !fp8lab_format_has_zero(&f)) {
    snprintf(why, len, "%s has no sign or no zero: it cannot quantize", name);
    return -1;
  }
  size_t ncodes = (size_t)1 << bits;
  g->v = malloc(ncodes * sizeof *g->v);
  if (!g->v) return snprintf(why, len, "out of memory"), -1;
  for (size_t c = 0; c < ncodes; c++) {
    double v = fp8lab_decode_f64(&f, (uint32_t)c);
    if (isfinite(v)) g->v[g->n++] = v == 0 ? 0.0 : v;
  }
  /* sort, one of each value */
  qsort(g->v, g->n, sizeof *g->v, sqnr_cmp_f64);
  size_t k = 0;
  for (size_t i = 0; i < g->n; i++)
    if (k == 0 || g->v[i] != g->v[k - 1]) g->v[k++] = g->v[i];
  g->n = k;
  g->max = fp8lab_format_max(&f);
  snprintf(g->name, sizeof g->name, "%s", f.name);
  return 0;
}

void sqnr_grid_free(sqnr_grid *g) {
  free(g->v);
  g->v = NULL;
}

int sqnr_cmp_f64(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double sqnr_step(const sqnr_grid *g, double threshold) {
  float t = (float)threshold;
  if (g->is_int) return (double)(float)(t / (float)g->max);
  return (double)t / g->max;
}

/* Index of the grid point nearest x/s among n sorted points (ties: lower). */
static size_t nearest(const double *v, size_t n, double y) {
  if (y <= v[0]) return 0;
  if (y >= v[n - 1]) return n - 1;
  size_t lo = 0, hi = n - 1; /* v[lo] <= y < v[hi] */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (v[mid] <= y) lo = mid;
    else hi = mid;
  }
  return y - v[lo] <= v[hi] - y ? lo : hi;
}

double sqnr_quantize(const sqnr_grid *g, double s, double x) {
  if (g->is_int) {
    double y = x / s, r = nearbyint(y);
    if (r < g->v[0]) r = g->v[0];
    if (r > g->v[g->n - 1]) r = g->v[g->n - 1];
    return r * s;
  }
  return g->v[nearest(g->v, g->n, x / s)] * s;
}

/* Lower bound in sorted x[0..n) of value b. */
static size_t lower_bound(const double *x, size_t n, double b) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (x[mid] < b) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

double sqnr_line_search(const sqnr_grid *g, const double *sorted, size_t n,
                        double *loss_out) {
  enum { NCAND = 1000 };
  const double margin = 0.5, expand = 10.0;
  double absmax = fmax(fabs(sorted[0]), fabs(sorted[n - 1]));
  double step = (absmax + margin) * expand / NCAND;
  long double *p1 = malloc((n + 1) * sizeof *p1), *p2 = malloc((n + 1) * sizeof *p2);
  if (!p1 || !p2) {
    free(p1), free(p2);
    return NAN;
  }
  p1[0] = p2[0] = 0;
  for (size_t i = 0; i < n; i++) {
    p1[i + 1] = p1[i] + sorted[i];
    p2[i + 1] = p2[i] + (long double)sorted[i] * sorted[i];
  }
  double best = INFINITY;
  int bestc = 0;
  for (int c = 1; c <= NCAND; c++) {
    double s = sqnr_step(g, step * c);
    long double loss = 0;
    size_t start = 0;
    for (size_t j = 0; j < g->n; j++) {
      double gj = g->v[j] * s;
      size_t end = j + 1 < g->n
                       ? lower_bound(sorted, n, 0.5 * (g->v[j] + g->v[j + 1]) * s)
                       : n;
      if (end < start) end = start;
      long double cnt = (long double)(end - start);
      long double s1 = p1[end] - p1[start], s2 = p2[end] - p2[start];
      loss += s2 - 2 * (long double)gj * s1 + cnt * (long double)gj * gj;
      start = end;
    }
    if ((double)loss < best) best = (double)loss, bestc = c;
  }
  free(p1), free(p2);
  if (loss_out) *loss_out = best;
  return (double)(float)(step * bestc);
}

/* ---- the runner ------------------------------------------------------------ */

enum { MAXLIST = 64 };
static const char *const dist_names[] = {"uniform", "gauss", "student-t", "laplace"};
static const char *const scaling_names[] = {"absmax", "mse"};
enum { NDISTS = sizeof dist_names / sizeof dist_names[0],
       NSCALINGS = sizeof scaling_names / sizeof scaling_names[0] };

static int lookup(const char *const *names, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], s) == 0) return (int)i;
  return -1;
}

typedef struct data {
  const char *name; /* distribution or "input" */
  double *x, *y, *sorted;
  size_t n;
  double absmax;
} data;

typedef struct config {
  int64_t index;
  int data, fmt, scaling;
} config;

typedef struct run {
  data d[NDISTS];
  size_t nd;
  sqnr_grid g[MAXLIST];
  size_t ng;
  config *cfg;
  size_t ncfg;
  double *thr, *clipped, *mse, *sqnr, *nlm, *dmse, *dsqnr, *dnlm;
  atomic_int failed;
} run;

static void draw(gsl_rng *r, int dist, double nu, double *x, size_t n) {
  for (size_t i = 0; i < n; i++) {
    switch (dist) {
    case 0: x[i] = 2.0 * gsl_rng_uniform(r) - 1.0; break;
    case 1: x[i] = gsl_ran_gaussian_ziggurat(r, 1.0); break;
    case 2: x[i] = gsl_ran_tdist(r, nu); break;
    default: x[i] = gsl_ran_laplace(r, 1.0); break;
    }
  }
}

static double db(double num, double den) {
  if (den == 0) return num == 0 ? NAN : INFINITY;
  return 10.0 * log10(num / den);
}

static void run_config(void *ctx, size_t k) {
  run *r = ctx;
  const config *c = &r->cfg[k];
  const data *d = &r->d[c->data];
  const sqnr_grid *g = &r->g[c->fmt];
  double t;
  if (c->scaling == 0) {
    t = d->absmax;
  } else {
    t = sqnr_line_search(g, d->sorted, d->n, NULL);
    if (isnan(t)) {
      atomic_store(&r->failed, 1);
      return;
    }
  }
  double s = t > 0 ? sqnr_step(g, t) : 1.0;
  if (c->scaling == 0 && t > 0) s = t / g->max; /* no binary32 rounding */
  double sig = 0, err = 0, dsig = 0, derr = 0, clip = 0;
  double top = g->v[g->n - 1] * s, bottom = g->v[0] * s;
  for (size_t i = 0; i < d->n; i++) {
    double x = d->x[i], y = d->y[i];
    double qx = sqnr_quantize(g, s, x), qy = sqnr_quantize(g, s, y);
    sig += x * x;
    err += (x - qx) * (x - qx);
    double e = x * y - qx * qy;
    dsig += (x * y) * (x * y);
    derr += e * e;
    clip += x > top || x < bottom;
  }
  double n = (double)d->n;
  r->thr[k] = t;
  r->clipped[k] = clip / n;
  r->mse[k] = err / n;
  r->sqnr[k] = db(sig, err);
  r->nlm[k] = -10.0 * log10(err / n);
  r->dmse[k] = derr / n;
  r->dsqnr[k] = db(dsig, derr);
  r->dnlm[k] = -10.0 * log10(derr / n);
}

/* Read FILE:DATASET as f64, flattened. */
static double *read_input(const char *spec, size_t *n) {
  const char *colon = strrchr(spec, ':');
  if (!colon || colon == spec || !colon[1])
    cli_die(C, "--input: '%s' is not FILE:DATASET", spec);
  char file[4096];
  size_t fl = (size_t)(colon - spec);
  if (fl >= sizeof file) cli_die(C, "--input: file name too long");
  memcpy(file, spec, fl);
  file[fl] = '\0';
  const char *dset = colon + 1;
  FILE *probe = fopen(file, "rb");
  if (!probe) cli_fail(C, "--input: %s: cannot open", file);
  fclose(probe);
  /* HDF5's own error printing is off while reading (errors are ours, one
   * line); every exit below is cli_die / cli_fail or the restore. */
  H5E_auto2_t old_fn;
  void *old_data;
  H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) cli_die(C, "--input: %s: not an HDF5 file", file);
  if (H5Lexists(f, dset, H5P_DEFAULT) <= 0) {
    H5Fclose(f);
    cli_die(C, "--input: %s: no dataset '%s'", file, dset);
  }
  hid_t ds = H5Dopen2(f, dset, H5P_DEFAULT);
  if (ds < 0) {
    H5Fclose(f);
    cli_die(C, "--input: %s: '%s' is not a dataset", file, dset);
  }
  hid_t ty = H5Dget_type(ds);
  H5T_class_t cl = H5Tget_class(ty);
  H5Tclose(ty);
  if (cl != H5T_INTEGER && cl != H5T_FLOAT) {
    H5Dclose(ds), H5Fclose(f);
    cli_die(C, "--input: %s:%s: not a numeric dataset", file, dset);
  }
  hid_t sp = H5Dget_space(ds);
  hssize_t np = H5Sget_simple_extent_npoints(sp);
  H5Sclose(sp);
  if (np < 2) {
    H5Dclose(ds), H5Fclose(f);
    cli_die(C, "--input: %s:%s: %lld elements, need at least 2", file, dset,
            (long long)np);
  }
  double *x = malloc((size_t)np * sizeof *x);
  if (!x) cli_fail(C, "out of memory");
  if (H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) < 0) {
    H5Dclose(ds), H5Fclose(f);
    cli_fail(C, "--input: %s:%s: read failed", file, dset);
  }
  H5Dclose(ds), H5Fclose(f);
  H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
  for (hssize_t i = 0; i < np; i++)
    if (!isfinite(x[i]))
      cli_die(C, "--input: %s:%s: element %lld is not finite", file, dset,
              (long long)i);
  *n = (size_t)np;
  return x;
}

static void finish_data(data *d) {
  d->sorted = malloc(d->n * sizeof *d->sorted);
  if (!d->sorted) cli_fail(C, "out of memory");
  memcpy(d->sorted, d->x, d->n * sizeof *d->x);
  qsort(d->sorted, d->n, sizeof *d->sorted, sqnr_cmp_f64);
  d->absmax = fmax(fabs(d->sorted[0]), fabs(d->sorted[d->n - 1]));
}

int cmd_sqnr(int argc, char **argv) {
  enum { O_FORMATS = 256, O_DISTS, O_NU, O_INPUT, O_SCALING, O_SAMPLES,
         O_SEED, O_THREADS, O_SHARD, O_OUT };
  static const struct option opts[] = {
      {"formats", required_argument, 0, O_FORMATS},
      {"dists", required_argument, 0, O_DISTS},
      {"nu", required_argument, 0, O_NU},
      {"input", required_argument, 0, O_INPUT},
      {"scaling", required_argument, 0, O_SCALING},
      {"samples", required_argument, 0, O_SAMPLES},
      {"seed", required_argument, 0, O_SEED},
      {"threads", required_argument, 0, O_THREADS},
      {"shard", required_argument, 0, O_SHARD},
      {"out", required_argument, 0, O_OUT},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char *formats = "e5m2,e4m3fn,e4m3,e3m4,e2m5,int8",
             *dists = "uniform,gauss,student-t,laplace", *scalings = "absmax,mse",
             *out = "results/sqnr.h5", *input = NULL, *samples_s = "2^20";
  bool dists_given = false;
  double nu = 8.0;
  uint64_t seed = 0;
  int threads = 0;
  int64_t shard_i = 0, shard_n = 1;
  int o;
  optind = 1;
  opterr = 0;
  while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (o) {
    case O_FORMATS: formats = optarg; break;
    case O_DISTS: dists = optarg, dists_given = true; break;
    case O_NU: {
      char *end;
      nu = strtod(optarg, &end);
      if (end == optarg || *end || !isfinite(nu) || nu <= 0)
        cli_die(C, "--nu: '%s' is not a number > 0", optarg);
      break;
    }
    case O_INPUT: input = optarg; break;
    case O_SCALING: scalings = optarg; break;
    case O_SAMPLES: samples_s = optarg; break;
    case O_SEED: seed = cli_parse_u64(C, "--seed", optarg); break;
    case O_THREADS: threads = cli_parse_threads(C, optarg); break;
    case O_SHARD: runner_parse_shard(C, optarg, &shard_i, &shard_n); break;
    case O_OUT: out = optarg; break;
    case 'h': fputs(help, stdout); return 0;
    case ':': cli_die(C, "%s needs a value (see --help)", argv[optind - 1]);
    default: cli_die(C, "unknown option '%s' (see --help)", argv[optind - 1]);
    }
  }
  if (optind != argc)
    cli_die(C, "unexpected argument '%s' (see --help)", argv[optind]);
  if (!out[0]) cli_die(C, "--out: empty file name");
  if (input && dists_given)
    cli_die(C, "--input and --dists exclude each other: the data is one or "
            "the other");
  int64_t nsamples;
  runner_parse_sizes(C, "--samples", samples_s, &nsamples, 1, 2, (int64_t)1 << 26);

  static run r;
  const char *fnames[MAXLIST], *dnames[MAXLIST], *snames[MAXLIST];
  r.ng = runner_split(C, "--formats", formats, fnames, MAXLIST);
  for (size_t i = 0; i < r.ng; i++) {
    char why[256];
    if (sqnr_grid_make(fnames[i], &r.g[i], why, sizeof why) != 0)
      cli_die(C, "--formats: %s", why);
  }
  size_t nsc = runner_split(C, "--scaling", scalings, snames, MAXLIST);
  int sc_v[MAXLIST];
  for (size_t i = 0; i < nsc; i++)
    if ((sc_v[i] = lookup(scaling_names, NSCALINGS, snames[i])) < 0)
      cli_die(C, "--scaling: unknown scaling '%s' (absmax, mse)", snames[i]);
  int dist_v[MAXLIST];
  size_t ndl = 0;
  if (!input) {
    ndl = runner_split(C, "--dists", dists, dnames, MAXLIST);
    for (size_t i = 0; i < ndl; i++)
      if ((dist_v[i] = lookup(dist_names, NDISTS, dnames[i])) < 0)
        cli_die(C, "--dists: unknown distribution '%s' (uniform, gauss, "
                "student-t, laplace)", dnames[i]);
    for (size_t i = 0; i < ndl; i++)
      for (size_t j = 0; j < i; j++)
        if (dist_v[i] == dist_v[j])
          cli_die(C, "--dists: '%s' given twice", dnames[i]);
  }

  /* The data, one set per distribution (or the tensor). */
  if (input) {
    data *d = &r.d[r.nd++];
    d->name = "input";
    d->x = read_input(input, &d->n);
    d->y = malloc(d->n * sizeof *d->y);
    if (!d->y) cli_fail(C, "out of memory");
    for (size_t i = 0; i < d->n; i++) d->y[i] = d->x[(i + d->n / 2) % d->n];
    finish_data(d);
  } else {
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    if (!g) cli_fail(C, "out of memory");
    for (size_t i = 0; i < ndl; i++) {
      data *d = &r.d[r.nd++];
      d->name = dist_names[dist_v[i]];
      d->n = (size_t)nsamples;
      d->x = malloc(d->n * sizeof *d->x);
      d->y = malloc(d->n * sizeof *d->y);
      if (!d->x || !d->y) cli_fail(C, "out of memory");
      uint64_t nub;
      memcpy(&nub, &nu, sizeof nub);
      for (uint64_t st = 0; st < 2; st++) {
        uint64_t key[] = {seed, runner_hash_str(d->name),
                          dist_v[i] == 2 ? nub : 0, (uint64_t)nsamples, st};
        gsl_rng_set(g, (unsigned long)runner_mix(key, sizeof key / sizeof key[0]));
        draw(g, dist_v[i], nu, st ? d->y : d->x, d->n);
      }
      finish_data(d);
    }
    gsl_rng_free(g);
  }

  size_t total = r.nd * r.ng * nsc;
  r.cfg = calloc(total ? total : 1, sizeof *r.cfg);
  if (!r.cfg) cli_fail(C, "out of memory");
  int64_t idx = 0;
  for (size_t a = 0; a < r.nd; a++)
    for (size_t f = 0; f < r.ng; f++)
      for (size_t q = 0; q < nsc; q++, idx++)
        if (idx % shard_n == shard_i)
          r.cfg[r.ncfg++] = (config){idx, (int)a, (int)f, sc_v[q]};
  size_t m = r.ncfg ? r.ncfg : 1;
  double **cols_f[] = {&r.thr, &r.clipped, &r.mse, &r.sqnr, &r.nlm,
                       &r.dmse, &r.dsqnr, &r.dnlm};
  for (size_t i = 0; i < sizeof cols_f / sizeof cols_f[0]; i++)
    if (!(*cols_f[i] = calloc(m, sizeof(double)))) cli_fail(C, "out of memory");

  int nt = runner_threads(threads, r.ncfg);
  fp8lab_results *res = runner_open(C, out, "sqnr", argc, argv, seed, nt);
  runner_param_str(C, res, "formats", formats);
  runner_param_str(C, res, "dists", input ? "input" : dists);
  runner_param_str(C, res, "input", input ? input : "");
  runner_param_str(C, res, "scaling", scalings);
  runner_param_i64(C, res, "samples", input ? (int64_t)r.d[0].n : nsamples);
  char err[1024];
  if (fp8lab_results_param_f64(res, "nu", nu, err, sizeof err))
    runner_fail(C, res, err);
  runner_param_i64(C, res, "shard_index", shard_i);
  runner_param_i64(C, res, "shard_count", shard_n);
  runner_param_i64(C, res, "configurations_total", (int64_t)total);
  runner_param_str(C, res, "rounding", "nearest grid point, saturating");
  runner_param_str(C, res, "mse_search",
                   "Kuzmin et al. LineSearchEstimator: 1000 candidates "
                   "c*10*(absmax+0.5)/1000, least sum of squared errors");

  runner_parallel(C, r.ncfg, nt, run_config, &r, "configurations");
  if (atomic_load(&r.failed)) runner_fail(C, res, "out of memory");

  int64_t *cidx = calloc(m, sizeof *cidx), *ns = calloc(m, sizeof *ns);
  const char **dc = calloc(m, sizeof *dc), **fc = calloc(m, sizeof *fc),
             **sc = calloc(m, sizeof *sc);
  double *nuc = calloc(m, sizeof *nuc);
  if (!cidx || !ns || !dc || !fc || !sc || !nuc) runner_fail(C, res, "out of memory");
  for (size_t k = 0; k < r.ncfg; k++) {
    const config *c = &r.cfg[k];
    cidx[k] = c->index;
    dc[k] = r.d[c->data].name;
    nuc[k] = strcmp(dc[k], "student-t") == 0 ? nu : NAN;
    fc[k] = r.g[c->fmt].name;
    sc[k] = scaling_names[c->scaling];
    ns[k] = (int64_t)r.d[c->data].n;
  }
  const fp8lab_results_column cols[] = {
      {"config", FP8LAB_RESULTS_I64, cidx, "1",
       "index of the configuration in the full sweep (before --shard)"},
      {"dist", FP8LAB_RESULTS_STR, dc, "1",
       "data: uniform [-1,1], gauss N(0,1), student-t, laplace (scale 1), "
       "or input (the --input tensor)"},
      {"nu", FP8LAB_RESULTS_F64, nuc, "1",
       "degrees of freedom of student-t (NaN for other data)"},
      {"format", FP8LAB_RESULTS_STR, fc, "1",
       "quantizer: fp8lab format name, int8 (-127..127) or int8full "
       "(-128..127)"},
      {"scaling", FP8LAB_RESULTS_STR, sc, "1",
       "absmax (max |x| -> largest grid value) or mse (Kuzmin et al.'s "
       "line search)"},
      {"samples", FP8LAB_RESULTS_I64, ns, "1", "values of x (and of y)"},
      {"threshold", FP8LAB_RESULTS_F64, r.thr, "1",
       "the value the largest grid point is mapped to (range of the "
       "quantizer)"},
      {"clipped_fraction", FP8LAB_RESULTS_F64, r.clipped, "1",
       "fraction of x outside the quantizer's range (saturated)"},
      {"mse", FP8LAB_RESULTS_F64, r.mse, "1", "mean of (x - q(x))^2"},
      {"sqnr_db", FP8LAB_RESULTS_F64, r.sqnr, "dB",
       "10 log10(sum x^2 / sum (x - q(x))^2), the true SQNR (+Inf: no error)"},
      {"neg_log_mse_db", FP8LAB_RESULTS_F64, r.nlm, "dB",
       "-10 log10(mse), Kuzmin et al.'s 'SQNR' (+Inf: no error)"},
      {"dot_mse", FP8LAB_RESULTS_F64, r.dmse, "1",
       "mean of (x y - q(x) q(y))^2, one term of a dot product"},
      {"dot_sqnr_db", FP8LAB_RESULTS_F64, r.dsqnr, "dB",
       "10 log10(sum (x y)^2 / sum (x y - q(x) q(y))^2)"},
      {"dot_neg_log_mse_db", FP8LAB_RESULTS_F64, r.dnlm, "dB",
       "-10 log10(dot_mse), Kuzmin et al.'s dot-product 'SQNR'"},
  };
  if (fp8lab_results_table(res, "sqnr",
                           "quantization error per (dist, format, scaling)",
                           r.ncfg, cols, sizeof cols / sizeof cols[0], err,
                           sizeof err) != 0)
    runner_fail(C, res, err);
  runner_close(C, res);

  printf("%-10s %-10s %-7s %10s %9s %9s %9s %9s\n", "dist", "format", "scaling",
         "threshold", "sqnr", "-log mse", "dot sqnr", "dot -log");
  for (size_t k = 0; k < r.ncfg; k++)
    printf("%-10s %-10s %-7s %10.5g %9.3f %9.3f %9.3f %9.3f\n", dc[k], fc[k],
           sc[k], r.thr[k], r.sqnr[k], r.nlm[k], r.dsqnr[k], r.dnlm[k]);
  printf("%s: %zu configuration%s (dB)\n", out, r.ncfg, r.ncfg == 1 ? "" : "s");

  free(cidx), free(ns), free(dc), free(fc), free(sc), free(nuc);
  for (size_t i = 0; i < sizeof cols_f / sizeof cols_f[0]; i++) free(*cols_f[i]);
  for (size_t i = 0; i < r.nd; i++)
    free(r.d[i].x), free(r.d[i].y), free(r.d[i].sorted);
  for (size_t i = 0; i < r.ng; i++) sqnr_grid_free(&r.g[i]);
  free(r.cfg);
  free((char *)fnames[0]), free((char *)snames[0]);
  if (ndl) free((char *)dnames[0]);
  return 0;
}
