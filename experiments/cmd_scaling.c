/* fp8lab scaling: FP8 scaling recipes on heavy-tailed data with outliers.
 *
 * Two studies, one global configuration index over both (recipes first):
 *
 * Table `scaling`: a configuration is (dist, format, recipe variant).  A
 * variant is a recipe of fp8lab/scaling.h (per-tensor current scaling,
 * per-row, per-column, 1x128 tiles, 128x128 blocks: f32 or pow2 scales;
 * MX blocks of 32: E8M0 scales) or per-tensor delayed scaling (Transformer
 * Engine's DelayedScaling: amax history length, "max" or "most_recent",
 * f32 or pow2).  Every variant sees the same sequence of `steps` tensors:
 *   1. data    step t: rows x cols values of the distribution, times the
 *              step's magnitude 2^(drift t), times spike_factor when
 *              (t + 1) % spike_every == 0 (the amax drifts and spikes, so
 *              the delayed recipes' history matters); drawn by GSL's
 *              MT19937 seeded with mix(seed, dist, step, rows, cols), then
 *              rounded to binary32 (the tensor a training step holds);
 *   2. scale   current recipes: from this step's block amaxes; delayed: the
 *              scale of the history before this step (step 0: scale 1),
 *              then this step's amax recorded and the scale updated;
 *   3. quant   RNE, saturating (satfinite), counting overflow (|x mul| >
 *              max) and underflow (x != 0 quantised to zero);
 *   4. error   dequantised exactly; SQNR = 10 log10(sum x^2 / sum (x -
 *              x^)^2) over all steps (Inf when every value is recovered
 *              exactly), and the worst step's SQNR.
 *
 * Table `bias_sweep`: Graphcore's FP8-CSCALE versus FP8-AMAX (Perez, Zhang,
 * Briggs, Blake, Levy-Kramer, Balanca, Luschi, Barlow, Fitzgibbon, "Training
 * and inference of large language models using 8-bit floating point", arXiv
 * 2309.17224, sections 3-4): a set of tensors of the distribution at
 * magnitudes 2^m (m from --magnitudes), quantised either with one constant
 * scale 2^b shared by all (b = bias_min .. bias_max: one configuration
 * each), or each with its own power-of-two scale from its amax
 * (AMAX_POW2: the largest 2^k with amax 2^k <= max).  Per configuration:
 * mean and minimum over the tensors of their SQNR, overflow and underflow.
 * Data: mix(seed, dist, tensor, rows, cols).
 *
 * The `grid` distribution is for checking: values of the element format,
 * +-max at row 0 and at every 32nd column (so every block of every recipe
 * has amax = max and every scale is exactly 1) and elsewhere random values
 * of the format of magnitude <= max/4.  Every recipe recovers it exactly
 * (SQNR Inf, no overflow or underflow) when drift = 0 and spike_factor = 1;
 * with a constant bias b = 1 exactly the +-max entries overflow.
 *
 * Seeds come from the content of a configuration: results do not depend on
 * --threads, --shard or the order of the option lists. */
#include <getopt.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fp8lab/scaling.h"
#include "runner.h"

static const char *const C = "scaling";

static const char *const help =
    "usage: fp8lab scaling [--formats LIST] [--recipes LIST] [--scales LIST]\n"
    "                      [--history LIST] [--amax-algo LIST] [--dists LIST]\n"
    "                      [--nu X] [--outlier-rate P] [--outlier-scale X]\n"
    "                      [--rows N] [--cols N] [--steps N] [--drift X]\n"
    "                      [--spike-every N] [--spike-factor X] [--margin N]\n"
    "                      [--bias-min B] [--bias-max B] [--magnitudes LIST]\n"
    "                      [--seed S] [--threads N] [--shard I/N] [--out FILE]\n\n"
    "FP8 scaling recipes on heavy-tailed data with outliers: SQNR, overflow\n"
    "and underflow per (distribution, format, recipe) over a sequence of\n"
    "steps whose amax drifts and spikes (table 'scaling'); and one constant\n"
    "power-of-two scale shared by tensors of different magnitudes versus a\n"
    "per-tensor scale from each amax (Graphcore FP8-CSCALE vs FP8-AMAX, arXiv\n"
    "2309.17224; table 'bias_sweep').  Schema: docs/results-format.md.\n\n"
    "  --formats LIST    element formats (default e4m3fn,e5m2)\n"
    "  --recipes LIST    tensor (per-tensor current scaling), delayed (per-\n"
    "                    tensor, amax history), row, col (per channel), tile\n"
    "                    (1x128), block (128x128), mx (OCP MX, 1x32, E8M0)\n"
    "                    (default all: tensor,delayed,row,col,tile,block,mx)\n"
    "  --scales LIST     f32 (scale = max/amax in binary32), pow2 (rounded\n"
    "                    down to a power of two) (default f32,pow2); mx\n"
    "                    always has E8M0 scales\n"
    "  --history LIST    delayed: amax history lengths (default 1,16)\n"
    "  --amax-algo LIST  delayed: max, most_recent (default max,most_recent)\n"
    "  --dists LIST      student-t (Student's t, nu degrees of freedom),\n"
    "                    outliers (N(0,1), a fraction P times X), grid (exact\n"
    "                    check data, see the file's header) (default\n"
    "                    student-t,outliers)\n"
    "  --nu X            Student-t degrees of freedom, > 0 (default 3)\n"
    "  --outlier-rate P  outliers: fraction of outliers, 0..1 (default 0.001)\n"
    "  --outlier-scale X outliers: their magnitude factor (default 100)\n"
    "  --rows N, --cols N  tensor shape, 1..8192 (default 256 x 256)\n"
    "  --steps N         steps of the scaling study, 1..1000 (default 16)\n"
    "  --drift X         log2 of the magnitude growth per step (default 0.25)\n"
    "  --spike-every N   a spike every N-th step, 0 = none (default 8)\n"
    "  --spike-factor X  the spike's magnitude factor (default 16)\n"
    "  --margin N        amax recipes: headroom 2^N, 0..16 (default 0)\n"
    "  --bias-min B, --bias-max B  constant scales 2^b, -100..100 (default\n"
    "                    -16 .. 16)\n"
    "  --magnitudes LIST bias sweep: log2 magnitudes of its tensors, integers\n"
    "                    in -60..60 (default -12,-8,-4,0,4,8,12)\n"
    "  --seed S          seed of the data (default 0)\n"
    "  --threads N       worker threads, 0 = one per CPU (default 0); results\n"
    "                    do not depend on it\n"
    "  --shard I/N       run configurations c with c % N == I only (0 <= I <\n"
    "                    N); 'fp8lab merge' combines the shards' files\n"
    "  --out FILE        results file (default results/scaling.h5), written\n"
    "                    under a temporary name and renamed when complete\n"
    "  -h, --help        this text\n\n"
    "example: fp8lab scaling --formats e4m3fn --recipes tensor,delayed,mx \\\n"
    "           --dists student-t --nu 2 --steps 8\n";

enum { MAXLIST = 64 };

static const char *const recipe_names[] = {"tensor", "delayed", "row", "col",
                                           "tile", "block", "mx"};
enum { R_TENSOR, R_DELAYED, R_ROW, R_COL, R_TILE, R_BLOCK, R_MX,
       NRECIPES = sizeof recipe_names / sizeof recipe_names[0] };
/* The fp8lab/scaling.h recipe of each name (delayed: per tensor). */
static const fp8lab_scaling_recipe recipe_of[NRECIPES] = {
    FP8LAB_RECIPE_PER_TENSOR, FP8LAB_RECIPE_PER_TENSOR, FP8LAB_RECIPE_PER_ROW,
    FP8LAB_RECIPE_PER_COL, FP8LAB_RECIPE_TILE_1X128, FP8LAB_RECIPE_BLOCK_128X128,
    FP8LAB_RECIPE_MX32};
static const char *const dist_names[] = {"student-t", "outliers", "grid"};
enum { D_STUDENT, D_OUTLIERS, D_GRID,
       NDISTS = sizeof dist_names / sizeof dist_names[0] };
static const char *const algo_names[] = {"max", "most_recent"};
static const char *const scale_names[] = {"f32", "pow2"};

static int lookup(const char *const *names, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], s) == 0) return (int)i;
  return -1;
}

/* One variant of the scaling study. */
typedef struct variant {
  int recipe;    /* R_* */
  bool pow2;     /* scale rounded to a power of two (not MX) */
  int64_t history;
  int algo;      /* delayed only */
} variant;

typedef struct config {
  int64_t index;
  bool sweep;    /* a bias_sweep row, else a scaling row */
  int dl;        /* index into the run's distributions */
  int dist, fmt;
  int var;       /* scaling: index into the variants */
  bool amax;     /* sweep: per-tensor amax scale, else constant bias */
  int64_t bias;
} config;

typedef struct run {
  fp8lab_format fmts[MAXLIST];
  size_t nfmts;
  variant vars[4 * MAXLIST * MAXLIST];
  size_t nvars;
  double nu, outlier_rate, outlier_scale, drift, spike_factor;
  int64_t rows, cols, steps, spike_every, margin;
  int64_t mags[MAXLIST];
  size_t nmags;
  uint64_t seed;
  int dists[MAXLIST];
  size_t ndists;
  /* The tensors, drawn once and shared by every configuration: slot
   * dl * nfmts + (grid ? fmt : 0), tensor t < steps of the scaling study,
   * then the nmags tensors of the bias sweep. */
  float **data;
  size_t ntensors;
  config *cfg;
  size_t ncfg;
  /* results per configuration of this shard */
  double *sqnr, *mean_sqnr, *min_sqnr, *mean_bias;
  int64_t *overflow, *underflow, *elements;
  atomic_int failed;
} run;

/* Tensor of dist into x (rows x cols, row-major), times factor, rounded to
 * binary32. */
static int generate(const run *r, int dist, const fp8lab_format *f,
                    uint64_t key, double factor, float *x) {
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  if (!g) return -1;
  gsl_rng_set(g, (unsigned long)key);
  size_t rows = (size_t)r->rows, cols = (size_t)r->cols;
  double fmax = fp8lab_format_max(f);
  uint32_t ncodes = fp8lab_format_ncodes(f);
  for (size_t i = 0; i < rows; i++)
    for (size_t j = 0; j < cols; j++) {
      double v;
      switch (dist) {
      case D_STUDENT: v = gsl_ran_tdist(g, r->nu); break;
      case D_OUTLIERS:
        v = gsl_ran_gaussian_ziggurat(g, 1.0);
        if (gsl_rng_uniform(g) < r->outlier_rate) v *= r->outlier_scale;
        break;
      default:
        if (i == 0 || j % 32 == 0) {
          v = gsl_rng_uniform(g) < 0.5 ? -fmax : fmax;
        } else {
          do {
            uint32_t code = ncodes ? (uint32_t)gsl_rng_uniform_int(g, ncodes)
                                   : (uint32_t)gsl_rng_get(g);
            v = fp8lab_decode_f64(f, code);
          } while (!isfinite(v) || fabs(v) > fmax / 4);
        }
      }
      x[i * cols + j] = (float)(v * factor);
    }
  gsl_rng_free(g);
  return 0;
}

static double sqnr_db(double sig, double err) { return 10 * log10(sig / err); }

/* Quantise x with the given scales, dequantise, add the squared signal and
 * error to *sig, *err and the counts to *ov, *un. */
static int quant_error(const fp8lab_scaling *s, const fp8lab_format *f,
                       const float *x, size_t rows, size_t cols,
                       const fp8lab_scale *scales, void *codes, double *xh,
                       double *sig, double *err, int64_t *ov, int64_t *un) {
  fp8lab_quant_stats st;
  if (fp8lab_quantize_f32(s, f, x, rows, cols, cols, scales, NULL, 0, codes, &st) ||
      fp8lab_dequantize_f64(s, f, codes, rows, cols, scales, xh, cols))
    return -1;
  double a = 0, b = 0;
  for (size_t i = 0; i < rows * cols; i++) {
    double d = (double)x[i] - xh[i];
    a += (double)x[i] * x[i];
    b += d * d;
  }
  *sig = a, *err = b;
  *ov += (int64_t)st.overflow;
  *un += (int64_t)st.underflow;
  return 0;
}

static uint64_t data_key(const run *r, uint64_t study, int dist,
                         const fp8lab_format *f, int64_t t) {
  uint64_t k[] = {r->seed, study, (uint64_t)dist, (uint64_t)t, (uint64_t)r->rows,
                  (uint64_t)r->cols,
                  dist == D_GRID ? runner_hash_str(f->name) : 0};
  return runner_mix(k, sizeof k / sizeof k[0]);
}

static size_t slot(const run *r, size_t dl, size_t fmt) {
  return dl * r->nfmts + (r->dists[dl] == D_GRID ? fmt : 0);
}

/* Job j: tensor j % ntensors of slot j / ntensors. */
static void run_generate(void *ctx, size_t j) {
  run *r = ctx;
  size_t sl = j / r->ntensors, t = j % r->ntensors;
  size_t dl = sl / r->nfmts, fmt = sl % r->nfmts;
  int dist = r->dists[dl];
  if (dist != D_GRID && fmt != 0) return; /* shared slot: fmt 0 */
  const fp8lab_format *f = &r->fmts[fmt];
  size_t n = (size_t)(r->rows * r->cols);
  float *x = malloc(n * sizeof *x);
  double factor;
  uint64_t key;
  if (t < (size_t)r->steps) {
    factor = exp2(r->drift * (double)t);
    if (r->spike_every > 0 && ((int64_t)t + 1) % r->spike_every == 0)
      factor *= r->spike_factor;
    key = data_key(r, 0x5ca1e, dist, f, (int64_t)t);
  } else {
    size_t i = t - (size_t)r->steps;
    factor = exp2((double)r->mags[i]);
    key = data_key(r, 0xb1a5, dist, f, (int64_t)i);
  }
  if (!x || generate(r, dist, f, key, factor, x) != 0) {
    atomic_store(&r->failed, 1);
    free(x);
    return;
  }
  r->data[j] = x;
}

static void run_config(void *ctx, size_t k) {
  run *r = ctx;
  const config *c = &r->cfg[k];
  const fp8lab_format *f = &r->fmts[c->fmt];
  size_t rows = (size_t)r->rows, cols = (size_t)r->cols, n = rows * cols;
  float *const *data = &r->data[slot(r, (size_t)c->dl, (size_t)c->fmt) * r->ntensors];
  double *xh = malloc(n * sizeof *xh);
  void *codes = malloc(n * fp8lab_code_size(f));
  fp8lab_scale *scales = malloc(n * sizeof *scales); /* at most one each */
  if (!xh || !codes || !scales) {
    atomic_store(&r->failed, 1);
    goto done;
  }
  double sig = 0, err = 0, worst = INFINITY, bias_sum = 0, sum_q = 0;
  int64_t ov = 0, un = 0;
  if (!c->sweep) {
    const variant *v = &r->vars[c->var];
    fp8lab_scaling s = fp8lab_scaling_recipe_get(recipe_of[v->recipe], v->pow2);
    s.margin = (int)r->margin;
    float hist[1024];
    fp8lab_delayed_scaling d;
    if (v->recipe == R_DELAYED &&
        fp8lab_delayed_init(&d, f, hist, (size_t)v->history,
                            v->algo ? FP8LAB_AMAX_MOST_RECENT : FP8LAB_AMAX_MAX,
                            (int)r->margin, v->pow2) != 0) {
      atomic_store(&r->failed, 2);
      goto done;
    }
    for (int64_t t = 0; t < r->steps; t++) {
      const float *x = data[t];
      if (v->recipe == R_DELAYED) {
        scales[0] = d.scale;
      } else if (fp8lab_scales_f32(&s, f, x, rows, cols, cols, scales) != 0) {
        atomic_store(&r->failed, 2);
        goto done;
      }
      double a, b;
      if (quant_error(&s, f, x, rows, cols, scales, codes, xh, &a, &b, &ov, &un)) {
        atomic_store(&r->failed, 2);
        goto done;
      }
      if (v->recipe == R_DELAYED) {
        fp8lab_delayed_record(&d, fp8lab_amax_f32(x, 1, n));
        fp8lab_delayed_update(&d);
      }
      sig += a, err += b;
      double q = sqnr_db(a, b);
      sum_q += q;
      if (q < worst || isnan(q)) worst = q;
    }
    r->sqnr[k] = sqnr_db(sig, err);
    r->mean_sqnr[k] = sum_q / (double)r->steps;
    r->elements[k] = r->steps * (int64_t)n;
  } else {
    fp8lab_scaling s = fp8lab_scaling_recipe_get(FP8LAB_RECIPE_PER_TENSOR, true);
    for (size_t t = 0; t < r->nmags; t++) {
      const float *x = data[(size_t)r->steps + t];
      if (c->amax) {
        scales[0] = fp8lab_scale_from_amax(FP8LAB_SCALE_AMAX_POW2, f,
                                           fp8lab_amax_f32(x, 1, n), (int)r->margin);
      } else {
        scales[0] = (fp8lab_scale){.mul = (float)ldexp(1, (int)c->bias),
                                   .dequant = (float)ldexp(1, -(int)c->bias)};
      }
      bias_sum += log2(scales[0].mul);
      double a, b;
      if (quant_error(&s, f, x, rows, cols, scales, codes, xh, &a, &b, &ov, &un)) {
        atomic_store(&r->failed, 2);
        goto done;
      }
      double q = sqnr_db(a, b);
      sum_q += q;
      if (q < worst || isnan(q)) worst = q;
    }
    r->sqnr[k] = sum_q / (double)r->nmags;
    r->mean_sqnr[k] = r->sqnr[k];
    r->mean_bias[k] = bias_sum / (double)r->nmags;
    r->elements[k] = (int64_t)(r->nmags * n);
  }
  r->min_sqnr[k] = worst;
  r->overflow[k] = ov;
  r->underflow[k] = un;
done:
  free(xh), free(codes), free(scales);
}

static double parse_f64(const char *opt, const char *s, double lo, double hi,
                        bool open_lo) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || *end || !isfinite(v) || v < lo || v > hi || (open_lo && v == lo))
    cli_die(C, "%s: '%s' is not a number in %s%g, %g]", opt, s,
            open_lo ? "(" : "[", lo, hi);
  return v;
}

int cmd_scaling(int argc, char **argv) {
  enum { O_FORMATS = 256, O_RECIPES, O_SCALES, O_HISTORY, O_ALGO, O_DISTS,
         O_NU, O_ORATE, O_OSCALE, O_ROWS, O_COLS, O_STEPS, O_DRIFT, O_SEVERY,
         O_SFACTOR, O_MARGIN, O_BMIN, O_BMAX, O_MAGS, O_SEED, O_THREADS,
         O_SHARD, O_OUT };
  static const struct option opts[] = {
      {"formats", required_argument, 0, O_FORMATS},
      {"recipes", required_argument, 0, O_RECIPES},
      {"scales", required_argument, 0, O_SCALES},
      {"history", required_argument, 0, O_HISTORY},
      {"amax-algo", required_argument, 0, O_ALGO},
      {"dists", required_argument, 0, O_DISTS},
      {"nu", required_argument, 0, O_NU},
      {"outlier-rate", required_argument, 0, O_ORATE},
      {"outlier-scale", required_argument, 0, O_OSCALE},
      {"rows", required_argument, 0, O_ROWS},
      {"cols", required_argument, 0, O_COLS},
      {"steps", required_argument, 0, O_STEPS},
      {"drift", required_argument, 0, O_DRIFT},
      {"spike-every", required_argument, 0, O_SEVERY},
      {"spike-factor", required_argument, 0, O_SFACTOR},
      {"margin", required_argument, 0, O_MARGIN},
      {"bias-min", required_argument, 0, O_BMIN},
      {"bias-max", required_argument, 0, O_BMAX},
      {"magnitudes", required_argument, 0, O_MAGS},
      {"seed", required_argument, 0, O_SEED},
      {"threads", required_argument, 0, O_THREADS},
      {"shard", required_argument, 0, O_SHARD},
      {"out", required_argument, 0, O_OUT},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char *formats = "e4m3fn,e5m2",
             *recipes = "tensor,delayed,row,col,tile,block,mx",
             *scales = "f32,pow2", *history = "1,16", *algos = "max,most_recent",
             *dists = "student-t,outliers", *mags = "-12,-8,-4,0,4,8,12",
             *out = "results/scaling.h5";
  run r = {.nu = 3, .outlier_rate = 1e-3, .outlier_scale = 100, .drift = 0.25,
           .spike_factor = 16, .rows = 256, .cols = 256, .steps = 16,
           .spike_every = 8};
  int64_t bias_min = -16, bias_max = 16;
  int threads = 0;
  int64_t shard_i = 0, shard_n = 1;
  int o;
  optind = 1;
  opterr = 0;
  while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (o) {
    case O_FORMATS: formats = optarg; break;
    case O_RECIPES: recipes = optarg; break;
    case O_SCALES: scales = optarg; break;
    case O_HISTORY: history = optarg; break;
    case O_ALGO: algos = optarg; break;
    case O_DISTS: dists = optarg; break;
    case O_NU: r.nu = parse_f64("--nu", optarg, 0, 1e6, true); break;
    case O_ORATE: r.outlier_rate = parse_f64("--outlier-rate", optarg, 0, 1, false); break;
    case O_OSCALE: r.outlier_scale = parse_f64("--outlier-scale", optarg, 0, 1e30, true); break;
    case O_ROWS: r.rows = cli_parse_int(C, "--rows", optarg, 1, 8192); break;
    case O_COLS: r.cols = cli_parse_int(C, "--cols", optarg, 1, 8192); break;
    case O_STEPS: r.steps = cli_parse_int(C, "--steps", optarg, 1, 1000); break;
    case O_DRIFT: r.drift = parse_f64("--drift", optarg, -16, 16, false); break;
    case O_SEVERY: r.spike_every = cli_parse_int(C, "--spike-every", optarg, 0, 1000); break;
    case O_SFACTOR: r.spike_factor = parse_f64("--spike-factor", optarg, 0, 1e30, true); break;
    case O_MARGIN: r.margin = cli_parse_int(C, "--margin", optarg, 0, 16); break;
    case O_BMIN: bias_min = cli_parse_int(C, "--bias-min", optarg, -100, 100); break;
    case O_BMAX: bias_max = cli_parse_int(C, "--bias-max", optarg, -100, 100); break;
    case O_MAGS: mags = optarg; break;
    case O_SEED: r.seed = cli_parse_u64(C, "--seed", optarg); break;
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
  if (bias_min > bias_max)
    cli_die(C, "--bias-min %" PRId64 " is above --bias-max %" PRId64, bias_min,
            bias_max);

  /* Parse and check every list before any output. */
  const char *fnames[MAXLIST], *rnames[MAXLIST], *snames[MAXLIST],
      *anames[MAXLIST], *dnames[MAXLIST], *mnames[MAXLIST];
  r.nfmts = runner_split(C, "--formats", formats, fnames, MAXLIST);
  for (size_t i = 0; i < r.nfmts; i++) {
    cli_parse_format(C, "--formats", fnames[i], &r.fmts[i]);
    if (!r.fmts[i].has_sign || !fp8lab_format_has_zero(&r.fmts[i]) ||
        fp8lab_format_bits(&r.fmts[i]) > 16)
      cli_die(C, "--formats: %s: element formats need a sign, a zero and at "
              "most 16 bits", fnames[i]);
  }
  size_t nrec = runner_split(C, "--recipes", recipes, rnames, MAXLIST);
  int rec_v[MAXLIST];
  for (size_t i = 0; i < nrec; i++)
    if ((rec_v[i] = lookup(recipe_names, NRECIPES, rnames[i])) < 0)
      cli_die(C, "--recipes: unknown recipe '%s' (tensor, delayed, row, col, "
              "tile, block, mx)", rnames[i]);
  size_t nsc = runner_split(C, "--scales", scales, snames, 2);
  int sc_v[2];
  for (size_t i = 0; i < nsc; i++)
    if ((sc_v[i] = lookup(scale_names, 2, snames[i])) < 0)
      cli_die(C, "--scales: unknown scale '%s' (f32, pow2)", snames[i]);
  int64_t hist_v[MAXLIST];
  size_t nhist = runner_parse_sizes(C, "--history", history, hist_v, MAXLIST, 1, 1024);
  size_t nalg = runner_split(C, "--amax-algo", algos, anames, 2);
  int alg_v[2];
  for (size_t i = 0; i < nalg; i++)
    if ((alg_v[i] = lookup(algo_names, 2, anames[i])) < 0)
      cli_die(C, "--amax-algo: unknown algorithm '%s' (max, most_recent)", anames[i]);
  size_t ndists = runner_split(C, "--dists", dists, dnames, MAXLIST);
  int *dist_v = r.dists;
  r.ndists = ndists;
  for (size_t i = 0; i < ndists; i++)
    if ((dist_v[i] = lookup(dist_names, NDISTS, dnames[i])) < 0)
      cli_die(C, "--dists: unknown distribution '%s' (student-t, outliers, grid)",
              dnames[i]);
  r.nmags = runner_split(C, "--magnitudes", mags, mnames, MAXLIST);
  for (size_t i = 0; i < r.nmags; i++)
    r.mags[i] = cli_parse_int(C, "--magnitudes", mnames[i], -60, 60);

  /* The variants, in the order of the lists. */
  for (size_t i = 0; i < nrec; i++) {
    if (rec_v[i] == R_MX) {
      r.vars[r.nvars++] = (variant){R_MX, false, 0, 0};
      continue;
    }
    for (size_t s = 0; s < nsc; s++) {
      if (rec_v[i] != R_DELAYED) {
        r.vars[r.nvars++] = (variant){rec_v[i], sc_v[s] == 1, 0, 0};
        continue;
      }
      for (size_t h = 0; h < nhist; h++)
        for (size_t a = 0; a < nalg; a++)
          r.vars[r.nvars++] = (variant){R_DELAYED, sc_v[s] == 1, hist_v[h], alg_v[a]};
    }
  }

  /* The configurations: scaling rows, then bias-sweep rows; this shard's. */
  size_t nbias = (size_t)(bias_max - bias_min + 1);
  size_t total = ndists * r.nfmts * r.nvars + ndists * r.nfmts * (1 + nbias);
  r.cfg = calloc(total, sizeof *r.cfg);
  if (!r.cfg) cli_fail(C, "out of memory");
  int64_t idx = 0;
  for (size_t d = 0; d < ndists; d++)
    for (size_t f = 0; f < r.nfmts; f++)
      for (size_t v = 0; v < r.nvars; v++, idx++)
        if (idx % shard_n == shard_i)
          r.cfg[r.ncfg++] = (config){.index = idx, .dl = (int)d, .dist = dist_v[d],
                                     .fmt = (int)f, .var = (int)v};
  for (size_t d = 0; d < ndists; d++)
    for (size_t f = 0; f < r.nfmts; f++)
      for (size_t b = 0; b <= nbias; b++, idx++)
        if (idx % shard_n == shard_i)
          r.cfg[r.ncfg++] = (config){.index = idx, .sweep = true, .dl = (int)d,
                                     .dist = dist_v[d], .fmt = (int)f,
                                     .amax = b == 0,
                                     .bias = b ? bias_min + (int64_t)b - 1 : 0};
  size_t m = r.ncfg ? r.ncfg : 1;
  r.sqnr = calloc(m, sizeof(double));
  r.mean_sqnr = calloc(m, sizeof(double));
  r.ntensors = (size_t)r.steps + r.nmags;
  r.data = calloc(ndists * r.nfmts * r.ntensors, sizeof *r.data);
  r.min_sqnr = calloc(m, sizeof(double));
  r.mean_bias = calloc(m, sizeof(double));
  r.overflow = calloc(m, sizeof(int64_t));
  r.underflow = calloc(m, sizeof(int64_t));
  r.elements = calloc(m, sizeof(int64_t));
  if (!r.sqnr || !r.mean_sqnr || !r.data || !r.min_sqnr || !r.mean_bias || !r.overflow || !r.underflow ||
      !r.elements)
    cli_fail(C, "out of memory");

  int nt = runner_threads(threads, r.ncfg);
  fp8lab_results *res = runner_open(C, out, "scaling", argc, argv, r.seed, nt);
  runner_param_str(C, res, "formats", formats);
  runner_param_str(C, res, "recipes", recipes);
  runner_param_str(C, res, "scales", scales);
  runner_param_i64s(C, res, "history", hist_v, nhist);
  runner_param_str(C, res, "amax_algo", algos);
  runner_param_str(C, res, "dists", dists);
  char err[1024];
  if (fp8lab_results_param_f64(res, "nu", r.nu, err, sizeof err) ||
      fp8lab_results_param_f64(res, "outlier_rate", r.outlier_rate, err, sizeof err) ||
      fp8lab_results_param_f64(res, "outlier_scale", r.outlier_scale, err, sizeof err) ||
      fp8lab_results_param_f64(res, "drift_log2", r.drift, err, sizeof err) ||
      fp8lab_results_param_f64(res, "spike_factor", r.spike_factor, err, sizeof err))
    runner_fail(C, res, err);
  runner_param_i64(C, res, "rows", r.rows);
  runner_param_i64(C, res, "cols", r.cols);
  runner_param_i64(C, res, "steps", r.steps);
  runner_param_i64(C, res, "spike_every", r.spike_every);
  runner_param_i64(C, res, "margin", r.margin);
  runner_param_i64(C, res, "bias_min", bias_min);
  runner_param_i64(C, res, "bias_max", bias_max);
  runner_param_i64s(C, res, "magnitudes", r.mags, r.nmags);
  runner_param_str(C, res, "quantization", "rne, saturating (satfinite)");
  runner_param_str(C, res, "data_precision", "f32");
  runner_param_i64(C, res, "shard_index", shard_i);
  runner_param_i64(C, res, "shard_count", shard_n);
  runner_param_i64(C, res, "configurations_total", (int64_t)total);

  runner_parallel(C, ndists * r.nfmts * r.ntensors, nt, run_generate, &r, "tensors");
  if (!atomic_load(&r.failed))
    runner_parallel(C, r.ncfg, nt, run_config, &r, "configurations");
  if (atomic_load(&r.failed))
    runner_fail(C, res, atomic_load(&r.failed) == 1 ? "out of memory"
                                                    : "internal: scaling call failed");

  /* The two tables: this shard's rows of each, in configuration order. */
  int64_t *cidx = calloc(m, sizeof *cidx), *hist = calloc(m, sizeof *hist),
          *brows = calloc(m, sizeof *brows), *bcols = calloc(m, sizeof *bcols),
          *steps = calloc(m, sizeof *steps), *ovf = calloc(m, sizeof *ovf),
          *unf = calloc(m, sizeof *unf), *elem = calloc(m, sizeof *elem),
          *ntens = calloc(m, sizeof *ntens);
  double *q = calloc(m, sizeof *q), *qmean = calloc(m, sizeof *qmean), *qmin = calloc(m, sizeof *qmin),
         *bias = calloc(m, sizeof *bias);
  const char **dc = calloc(m, sizeof *dc), **fc = calloc(m, sizeof *fc),
             **rc = calloc(m, sizeof *rc), **sc = calloc(m, sizeof *sc),
             **ac = calloc(m, sizeof *ac), **mc = calloc(m, sizeof *mc);
  if (!cidx || !hist || !brows || !bcols || !steps || !ovf || !unf || !elem ||
      !ntens || !q || !qmean || !qmin || !bias || !dc || !fc || !rc || !sc || !ac || !mc)
    runner_fail(C, res, "out of memory");
  for (int pass = 0; pass < 2; pass++) {
    size_t n = 0;
    for (size_t k = 0; k < r.ncfg; k++) {
      const config *c = &r.cfg[k];
      if (c->sweep != (pass == 1)) continue;
      cidx[n] = c->index;
      dc[n] = dist_names[c->dist];
      fc[n] = r.fmts[c->fmt].name;
      q[n] = r.sqnr[k];
      qmean[n] = r.mean_sqnr[k];
      qmin[n] = r.min_sqnr[k];
      ovf[n] = r.overflow[k];
      unf[n] = r.underflow[k];
      elem[n] = r.elements[k];
      if (pass == 0) {
        const variant *v = &r.vars[c->var];
        fp8lab_scaling s = fp8lab_scaling_recipe_get(recipe_of[v->recipe], v->pow2);
        rc[n] = recipe_names[v->recipe];
        sc[n] = v->recipe == R_MX ? "e8m0" : scale_names[v->pow2];
        hist[n] = v->recipe == R_DELAYED ? v->history : 0;
        ac[n] = v->recipe == R_DELAYED ? algo_names[v->algo] : "current";
        brows[n] = s.block_rows ? (int64_t)s.block_rows : r.rows;
        bcols[n] = s.block_cols ? (int64_t)s.block_cols : r.cols;
        steps[n] = r.steps;
      } else {
        mc[n] = c->amax ? "amax" : "constant";
        bias[n] = c->amax ? r.mean_bias[k] : (double)c->bias;
        ntens[n] = (int64_t)r.nmags;
      }
      n++;
    }
    int e;
    if (pass == 0) {
      const fp8lab_results_column cols[] = {
          {"config", FP8LAB_RESULTS_I64, cidx, "1",
           "index of the configuration in the full sweep (before --shard)"},
          {"dist", FP8LAB_RESULTS_STR, dc, "1",
           "data: student-t (nu), outliers (N(0,1), a fraction outlier_rate "
           "times outlier_scale), grid (exact check data)"},
          {"format", FP8LAB_RESULTS_STR, fc, "1", "element format (fp8lab name)"},
          {"recipe", FP8LAB_RESULTS_STR, rc, "1",
           "tensor (current), delayed, row, col, tile (1x128), block (128x128), "
           "mx (OCP MX 1x32)"},
          {"scale", FP8LAB_RESULTS_STR, sc, "1",
           "f32 (max/amax in binary32), pow2 (rounded down to a power of two), "
           "e8m0 (OCP MX shared exponent)"},
          {"history", FP8LAB_RESULTS_I64, hist, "steps",
           "delayed: amax history length (0 for current scaling)"},
          {"amax_algo", FP8LAB_RESULTS_STR, ac, "1",
           "delayed: max or most_recent over the history; current: the "
           "step's own amax"},
          {"block_rows", FP8LAB_RESULTS_I64, brows, "elements",
           "rows of the blocks sharing one scale"},
          {"block_cols", FP8LAB_RESULTS_I64, bcols, "elements",
           "columns of the blocks sharing one scale"},
          {"steps", FP8LAB_RESULTS_I64, steps, "1", "tensors in the sequence"},
          {"elements", FP8LAB_RESULTS_I64, elem, "elements",
           "values quantised (all steps)"},
          {"sqnr_db", FP8LAB_RESULTS_F64, q, "dB",
           "10 log10(sum x^2 / sum (x - x^)^2) over all steps (Inf: every "
           "value recovered exactly)"},
          {"mean_step_sqnr_db", FP8LAB_RESULTS_F64, qmean, "dB",
           "mean over the steps of each step's SQNR"},
          {"min_step_sqnr_db", FP8LAB_RESULTS_F64, qmin, "dB",
           "the worst step's SQNR"},
          {"overflow", FP8LAB_RESULTS_I64, ovf, "elements",
           "values with |x mul| > max, saturated to +-max (an f32 scale "
           "rounded up puts a block's amax just above max: counted, though "
           "it rounds to max)"},
          {"underflow", FP8LAB_RESULTS_I64, unf, "elements",
           "nonzero values quantised to zero"},
      };
      e = fp8lab_results_table(res, "scaling",
                               "quantisation error per (dist, format, recipe, "
                               "scale, history, amax_algo) over the steps",
                               n, cols, sizeof cols / sizeof cols[0], err,
                               sizeof err);
    } else {
      const fp8lab_results_column cols[] = {
          {"config", FP8LAB_RESULTS_I64, cidx, "1",
           "index of the configuration in the full sweep (before --shard)"},
          {"dist", FP8LAB_RESULTS_STR, dc, "1",
           "data: student-t, outliers, grid (as in table scaling)"},
          {"format", FP8LAB_RESULTS_STR, fc, "1", "element format (fp8lab name)"},
          {"mode", FP8LAB_RESULTS_STR, mc, "1",
           "constant: one scale 2^bias for every tensor (FP8-CSCALE); amax: "
           "each tensor's own power-of-two scale from its amax (FP8-AMAX)"},
          {"bias", FP8LAB_RESULTS_F64, bias, "log2",
           "constant: b of the scale 2^b; amax: the mean over the tensors of "
           "log2 of their scales"},
          {"tensors", FP8LAB_RESULTS_I64, ntens, "1",
           "tensors, one per magnitude 2^m of the parameter magnitudes"},
          {"elements", FP8LAB_RESULTS_I64, elem, "elements", "values quantised"},
          {"mean_sqnr_db", FP8LAB_RESULTS_F64, q, "dB",
           "mean over the tensors of their SQNR"},
          {"min_sqnr_db", FP8LAB_RESULTS_F64, qmin, "dB",
           "the worst tensor's SQNR"},
          {"overflow", FP8LAB_RESULTS_I64, ovf, "elements",
           "values with |x 2^b| > max (saturated)"},
          {"underflow", FP8LAB_RESULTS_I64, unf, "elements",
           "nonzero values quantised to zero"},
      };
      e = fp8lab_results_table(res, "bias_sweep",
                               "one constant scale for all tensors versus a "
                               "per-tensor scale from amax, per (dist, format, "
                               "mode, bias)",
                               n, cols, sizeof cols / sizeof cols[0], err,
                               sizeof err);
    }
    if (e != 0) runner_fail(C, res, err);
  }
  runner_close(C, res);

  /* Summary: per (dist, format) the best constant bias against amax. */
  printf("%s: %zu configuration%s\n", out, r.ncfg, r.ncfg == 1 ? "" : "s");
  for (size_t k = 0; k < r.ncfg; k++) {
    const config *c = &r.cfg[k];
    if (c->sweep) continue;
    const variant *v = &r.vars[c->var];
    char h[32] = "";
    if (v->recipe == R_DELAYED)
      snprintf(h, sizeof h, " h=%" PRId64 " %s", v->history, algo_names[v->algo]);
    printf("  %-9s %-7s %-7s %-4s%-17s SQNR %6.2f dB, per step mean %6.2f "
           "min %6.2f; overflow %-7" PRId64 " underflow %" PRId64 "\n",
           dist_names[c->dist], r.fmts[c->fmt].name, recipe_names[v->recipe],
           v->recipe == R_MX ? "e8m0" : scale_names[v->pow2], h, r.sqnr[k],
           r.mean_sqnr[k], r.min_sqnr[k], r.overflow[k], r.underflow[k]);
  }
  for (size_t k = 0; k < r.ncfg; k++) {
    const config *c = &r.cfg[k];
    if (!c->sweep || !c->amax) continue;
    size_t best = SIZE_MAX;
    for (size_t j = 0; j < r.ncfg; j++)
      if (r.cfg[j].sweep && !r.cfg[j].amax && r.cfg[j].dist == c->dist &&
          r.cfg[j].fmt == c->fmt && (best == SIZE_MAX || r.sqnr[j] > r.sqnr[best]))
        best = j;
    printf("  bias sweep %-9s %-7s amax: mean SQNR %7.2f dB (worst %7.2f)",
           dist_names[c->dist], r.fmts[c->fmt].name, r.sqnr[k], r.min_sqnr[k]);
    if (best != SIZE_MAX)
      printf("; best constant b=%" PRId64 ": %7.2f dB (worst %7.2f)",
             r.cfg[best].bias, r.sqnr[best], r.min_sqnr[best]);
    printf("\n");
  }
  free(cidx), free(hist), free(brows), free(bcols), free(steps), free(ovf);
  free(unf), free(elem), free(ntens), free(q), free(qmean), free(qmin), free(bias);
  for (size_t j = 0; j < ndists * r.nfmts * r.ntensors; j++) free(r.data[j]);
  free(r.data), free(r.mean_sqnr);
  free(dc), free(fc), free(rc), free(sc), free(ac), free(mc);
  free(r.sqnr), free(r.min_sqnr), free(r.mean_bias), free(r.overflow);
  free(r.underflow), free(r.elements), free(r.cfg);
  free((char *)fnames[0]), free((char *)rnames[0]), free((char *)snames[0]);
  free((char *)anames[0]), free((char *)dnames[0]), free((char *)mnames[0]);
  return 0;
}
