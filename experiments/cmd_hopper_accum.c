/* fp8lab hopper-accum: error of FP8 GEMMs under fp8lab's bit-exact Hopper
 * models as K grows, without promotion (cublaslt-fast: one FP22 chain over
 * all of K) and with promotion of the FP22 partial into an f32 accumulator
 * every N_C of K (cublaslt: N_C = 128; cublaslt:NC any multiple of the
 * instruction's K = 32), beside what an H100 measured
 * (data/accum_error_stats.json; DeepSeek-V3, arXiv 2412.19437, sec. 3.5.2).
 *
 * A configuration is (distribution, K); per configuration:
 *   1. data      A (M x K) and B (K x N, stored N x K: cuBLASLt's "TN") drawn
 *                by GSL's MT19937 seeded with mix(seed, dist, M, N, K,
 *                operand), then rounded to the operand format (e4m3fn by
 *                default) nearest-even, saturating.  Distributions:
 *                gauss N(0,1), uniform U(-1,1), abs-gauss |N(0,1)|,
 *                lognormal exp(1.5 N(0,1)) (sigma fitted: see
 *                LOGNORMAL_SIGMA), drawn unscaled.  The H100 recorder's
 *                draws are not in data/ (recorder.cu does not contain them);
 *                these are our choice.  The error statistics below do not
 *                change when the data is scaled by a power of two (the
 *                models are scale-invariant away from underflow), so the
 *                choice of scale matters only through FP8 subnormals.
 *   2. reference R = f64 GEMM of the decoded operands (OpenBLAS cblas_dgemm,
 *                fp8lab_gemm_reference_f64): the products are exact in f64.
 *   3. models    D = fp8lab_gemm under each --models entry, f32 output,
 *                unit scales: every model sees the same A and B.
 *   4. stats     as accum_error_stats.json defines them ("vs f64 GEMM of
 *                the decoded inputs"):
 *                  max_rel   max over elements of |D - R| / |R|
 *                  median_rel median of the same
 *                  max_abs_over_max_ref  max |D - R| / max |R|
 *                  frob_rel  ||D - R||_F / ||R||_F
 *                Elements with R = 0 have no relative error and are left out
 *                of max_rel and median_rel (counted in ref_zeros); a
 *                non-finite D gives Inf.  With signed data max_rel is set by
 *                the element whose R is nearest zero: it is not a stable
 *                statistic (the H100 file has 65 .. 1e32 there).
 * Seeds come from the content of a configuration: results do not depend on
 * --threads, --shard or the order of the option lists. */
#include <getopt.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hopper_accum.h"
#include "cli.h"
#include "fp8lab/gemm.h"
#include "fp8lab/model.h"
#include "fp8lab_config.h"
#include "runner.h"

static const char *const C = "hopper-accum";

static const char *const help =
    "usage: fp8lab hopper-accum [--dists LIST] [--ks LIST] [--m M] [--n N]\n"
    "                           [--models LIST] [--format FMT] [--seed S]\n"
    "                           [--threads N] [--shard I/N] [--out FILE]\n\n"
    "Error of FP8 GEMMs under fp8lab's bit-exact Hopper models as K grows,\n"
    "without promotion (cublaslt-fast) and with the FP22 partial promoted to\n"
    "f32 every N_C of K (cublaslt: N_C = 128; cublaslt:NC), against an f64\n"
    "GEMM of the decoded inputs, beside the H100 cuBLASLt statistics of\n"
    "data/accum_error_stats.json (M = N = 1024). One row per (distribution,\n"
    "K, model) in the table 'hopper_accum' of the results file: max and\n"
    "median element-wise relative error, max |D - R| / max |R|, Frobenius\n"
    "relative error, and the H100's values where it measured them.\n\n"
    "  --dists LIST   gauss (N(0,1)), uniform (U(-1,1)), abs-gauss (|N(0,1)|),\n"
    "                 lognormal (exp(1.5 N(0,1))), each rounded to FMT (default\n"
    "                 all four)\n"
    "  --ks LIST      K values, integers or 2^k, 1..65536 (default\n"
    "                 128,256,512,1024,2048,4096,8192,16384)\n"
    "  --m M, --n N   output size, 1..4096 (default 256 x 256: see the README\n"
    "                 of the results: the statistics match M = N = 1024's\n"
    "                 within sampling noise, except the extreme-value max_rel\n"
    "                 of signed data)\n"
    "  --models LIST  fp8lab models (cublaslt-fast, cublaslt, hopper-wgmma,\n"
    "                 ...) or cublaslt:NC = cublaslt promoting every NC of K\n"
    "                 (NC a multiple of 32) (default\n"
    "                 cublaslt-fast,cublaslt,cublaslt:512)\n"
    "  --format FMT   operand format of A and B, <= 8 bits (default e4m3fn)\n"
    "  --seed S       seed of the data (default 0)\n"
    "  --threads N    GEMM threads, 0 = one per CPU (default 0); results do\n"
    "                 not depend on it\n"
    "  --shard I/N    run configurations c with c % N == I only (0 <= I < N)\n"
    "  --out FILE     results file (default results/hopper-accum.h5)\n"
    "  -h, --help     this text\n\n"
    "example: fp8lab hopper-accum --dists abs-gauss --ks 1024,4096 --m 128 --n 128\n";

enum { MAXLIST = 64, NSTAT = 4 };

static const char *const dist_names[] = {"gauss", "uniform", "abs-gauss",
                                         "lognormal"};
enum { NDISTS = sizeof dist_names / sizeof dist_names[0] };
static const char *const stat_names[NSTAT] = {
    "max_rel", "median_rel", "max_abs_over_max_ref", "frob_rel"};

static int hopper_accum_dist(const char *name) {
  for (size_t i = 0; i < NDISTS; i++)
    if (strcmp(dist_names[i], name) == 0) return (int)i;
  return -1;
}

/* sigma of the log-normal draws.  The H100 recorder's value is unknown;
 * 1.5 was fitted to one H100 number (the fast median_rel at K = 4096:
 * sigma = 0.5, 1, 1.5, 2 give 0.076, 0.073, 0.052, 0.034 against the
 * H100's 0.052); every other K and statistic is a prediction. */
#define LOGNORMAL_SIGMA 1.5

static void draw(gsl_rng *g, int dist, double *x, size_t n) {
  for (size_t i = 0; i < n; i++) {
    double z = gsl_ran_gaussian_ziggurat(g, 1.0);
    switch (dist) {
    case 0: x[i] = z; break;
    case 1: x[i] = 2.0 * gsl_rng_uniform(g) - 1.0; break;
    case 2: x[i] = fabs(z); break;
    default: x[i] = exp(LOGNORMAL_SIGMA * z); break;
    }
  }
}

/* Codes of an M x K (or N x K) operand, row-major. */
static int make_operand(const fp8lab_format *f, int dist, uint64_t seed,
                        int64_t m, int64_t n, int64_t k, int which,
                        uint8_t *codes, size_t rows) {
  uint64_t key[] = {seed, 0x4acc, (uint64_t)dist, (uint64_t)m, (uint64_t)n,
                    (uint64_t)k, (uint64_t)which};
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  double *x = malloc((size_t)k * sizeof *x);
  if (!g || !x) {
    if (g) gsl_rng_free(g);
    free(x);
    return -1;
  }
  gsl_rng_set(g, (unsigned long)runner_mix(key, sizeof key / sizeof key[0]));
  for (size_t r = 0; r < rows; r++) {
    draw(g, dist, x, (size_t)k);
    for (int64_t j = 0; j < k; j++)
      codes[r * (size_t)k + (size_t)j] =
          (uint8_t)fp8lab_encode_f64_rne_sat(f, x[j]);
  }
  gsl_rng_free(g);
  free(x);
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The statistics of D (f32) against R (f64), n elements; tmp: n doubles. */
static void error_stats(const float *d, const double *r, size_t n,
                        double *tmp, double st[NSTAT], int64_t *zeros) {
  double max_rel = 0, max_abs = 0, max_ref = 0, se = 0, sr = 0;
  size_t nr = 0;
  int64_t z = 0;
  for (size_t i = 0; i < n; i++) {
    double e = isfinite(d[i]) ? fabs((double)d[i] - r[i]) : INFINITY;
    if (e > max_abs) max_abs = e;
    if (fabs(r[i]) > max_ref) max_ref = fabs(r[i]);
    se += e * e;
    sr += r[i] * r[i];
    if (r[i] == 0) {
      z++;
      continue;
    }
    double rel = e / fabs(r[i]);
    if (rel > max_rel) max_rel = rel;
    tmp[nr++] = rel;
  }
  double med = NAN;
  if (nr) {
    qsort(tmp, nr, sizeof *tmp, cmp_double);
    med = nr % 2 ? tmp[nr / 2] : 0.5 * (tmp[nr / 2 - 1] + tmp[nr / 2]);
  }
  st[0] = nr ? max_rel : NAN;
  st[1] = med;
  st[2] = max_ref > 0 ? max_abs / max_ref : (max_abs > 0 ? INFINITY : 0.0);
  st[3] = sr > 0 ? sqrt(se) / sqrt(sr) : (se > 0 ? INFINITY : 0.0);
  *zeros = z;
}

int hopper_accum_measure(const char *dist, const fp8lab_format *fmt,
                         int64_t m, int64_t n, int64_t k, uint64_t seed,
                         const struct fp8lab_model *const *models,
                         size_t nmodels, int threads, double (*stats)[4],
                         int64_t *ref_zeros, char *err, size_t errlen) {
  int di = hopper_accum_dist(dist);
  if (di < 0) {
    snprintf(err, errlen, "unknown distribution '%s'", dist);
    return -1;
  }
  size_t mn = (size_t)m * (size_t)n;
  uint8_t *a = malloc((size_t)m * (size_t)k), *b = malloc((size_t)n * (size_t)k);
  double *ref = malloc(mn * sizeof *ref), *tmp = malloc(mn * sizeof *tmp);
  float *d = malloc(mn * sizeof *d);
  int rc = -1;
  if (!a || !b || !ref || !tmp || !d) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  if (make_operand(fmt, di, seed, m, n, k, 0, a, (size_t)m) ||
      make_operand(fmt, di, seed, m, n, k, 1, b, (size_t)n)) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  fp8lab_gemm_accum_args ra = {
      .m = (size_t)m, .n = (size_t)n, .k = (size_t)k, .fa = fmt, .fb = fmt,
      .a = a, .a_rs = k, .a_cs = 1, .b = b, .b_rs = 1, .b_cs = k,
      .d = ref, .d_rs = n, .threads = threads};
  if (fp8lab_gemm_reference_f64(&ra, NULL, err, errlen) != 0) goto done;
  for (size_t q = 0; q < nmodels; q++) {
    fp8lab_gemm_args g = {
        .model = models[q], .m = (size_t)m, .n = (size_t)n, .k = (size_t)k,
        .fa = fmt, .fb = fmt, .a = a, .a_rs = k, .a_cs = 1, .b = b,
        .b_rs = 1, .b_cs = k, .scales = {.mode = FP8LAB_SCALE_NONE},
        .out_type = FP8LAB_OUT_F32, .d = d, .d_rs = n, .threads = threads};
    if (fp8lab_gemm(&g, err, errlen) != 0) goto done;
    error_stats(d, ref, mn, tmp, stats[q], &ref_zeros[q]);
  }
  rc = 0;
done:
  free(a), free(b), free(ref), free(tmp), free(d);
  return rc;
}

/* ---- the H100 statistics (data/accum_error_stats.json) ------------------- */

typedef struct h100_row {
  char dist[32];
  int64_t m, n, k;
  double v[2][NSTAT]; /* [0] promoted, [1] fast */
} h100_row;

/* The file's flat layout: {"rows": [{"dist": "...", "K": 256, "fast_max_rel":
 * ..., ...}, ...]}.  A small reader for that layout only: objects inside
 * "rows", string or number values.  Returns the rows read, -1 on error. */
static int hopper_accum_h100(h100_row *rows, size_t max, char *err, size_t errlen) {
  const char *dir = getenv("FP8LAB_DATA_DIR");
  char path[768];
  snprintf(path, sizeof path, "%s/accum_error_stats.json",
           dir && dir[0] ? dir : FP8LAB_DATA_DIR);
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    snprintf(err, errlen, "%s: cannot open", path);
    return -1;
  }
  static char buf[1 << 20];
  size_t len = fread(buf, 1, sizeof buf - 1, fp);
  fclose(fp);
  buf[len] = '\0';
  const char *p = strstr(buf, "\"rows\"");
  if (!p || !(p = strchr(p, '['))) {
    snprintf(err, errlen, "%s: no \"rows\" array", path);
    return -1;
  }
  size_t n = 0;
  for (;;) {
    const char *o = strchr(p, '{'), *end = strchr(p, ']');
    if (!o || (end && end < o)) break;
    const char *close = strchr(o, '}');
    if (!close || n == max) {
      snprintf(err, errlen, "%s: malformed row %zu", path, n + 1);
      return -1;
    }
    h100_row *r = &rows[n];
    memset(r, 0, sizeof *r);
    for (int s = 0; s < NSTAT; s++) r->v[0][s] = r->v[1][s] = NAN;
    const char *q = o + 1;
    for (;;) {
      const char *k0 = strchr(q, '"');
      if (!k0 || k0 > close) break;
      const char *k1 = strchr(k0 + 1, '"');
      if (!k1 || k1 > close) break;
      char key[64];
      snprintf(key, sizeof key, "%.*s", (int)(k1 - k0 - 1), k0 + 1);
      const char *v = strchr(k1, ':');
      if (!v || v > close) break;
      v++;
      while (*v == ' ' || *v == '\n' || *v == '\t' || *v == '\r') v++;
      if (*v == '"') {
        const char *v1 = strchr(v + 1, '"');
        if (!v1 || v1 > close) break;
        if (strcmp(key, "dist") == 0)
          snprintf(r->dist, sizeof r->dist, "%.*s", (int)(v1 - v - 1), v + 1);
        q = v1 + 1;
        continue;
      }
      char *e;
      double x = strtod(v, &e);
      if (e == v) {
        snprintf(err, errlen, "%s: row %zu: field %s: not a number", path,
                 n + 1, key);
        return -1;
      }
      q = e;
      if (strcmp(key, "M") == 0) r->m = (int64_t)x;
      else if (strcmp(key, "N") == 0) r->n = (int64_t)x;
      else if (strcmp(key, "K") == 0) r->k = (int64_t)x;
      for (int w = 0; w < 2; w++)
        for (int s = 0; s < NSTAT; s++) {
          char name[64];
          snprintf(name, sizeof name, "%s_%s", w ? "fast" : "promoted",
                   stat_names[s]);
          if (strcmp(key, name) == 0) r->v[w][s] = x;
        }
    }
    n++;
    p = close + 1;
  }
  return (int)n;
}

/* ---- the runner ------------------------------------------------------------ */

typedef struct config {
  int64_t index;
  int dist;
  int64_t k;
} config;

typedef struct run {
  fp8lab_format fmt;
  const fp8lab_model *models[MAXLIST];
  size_t nmodels;
  int64_t m, n;
  uint64_t seed;
  int threads;
  config *cfg;
  size_t ncfg;
  double (*stats)[NSTAT]; /* [ncfg * nmodels] */
  int64_t *zeros;
  atomic_int failed;
  char err[512];
} run;

static void run_config(void *ctx, size_t c) {
  run *r = ctx;
  char err[512];
  if (hopper_accum_measure(dist_names[r->cfg[c].dist], &r->fmt, r->m, r->n,
                           r->cfg[c].k, r->seed, r->models, r->nmodels,
                           r->threads, &r->stats[c * r->nmodels],
                           &r->zeros[c * r->nmodels], err, sizeof err) != 0) {
    if (atomic_exchange(&r->failed, 1) == 0)
      snprintf(r->err, sizeof r->err, "%s", err);
  }
}

/* cublaslt:NC models, built from cublaslt's row with another promote_k. */
static fp8lab_model nc_models[MAXLIST];
static char nc_names[MAXLIST][32];

static const fp8lab_model *parse_model(const char *name, size_t slot) {
  const fp8lab_model *md = fp8lab_model_named(name);
  if (md) return md;
  if (strncmp(name, "cublaslt:", 9) == 0) {
    long long nc = cli_parse_int(C, "--models cublaslt:NC", name + 9, 1, 1 << 20);
    nc_models[slot] = *fp8lab_model_named("cublaslt");
    snprintf(nc_names[slot], sizeof nc_names[slot], "cublaslt:%lld", nc);
    nc_models[slot].name = nc_names[slot];
    nc_models[slot].promote_k = (int)nc;
    nc_models[slot].checked = false;
    nc_models[slot].summary = "cuBLASLt's FP22 partials promoted by f32 adds "
                              "every NC of K";
    return &nc_models[slot];
  }
  cli_die(C, "--models: unknown model '%s' (fp8lab models, or cublaslt:NC)",
          name);
}

/* Map a model to the H100 column: 0 promoted (cublaslt), 1 fast
 * (cublaslt-fast), -1 none. */
static int h100_kind(const fp8lab_model *md) {
  if (strcmp(md->name, "cublaslt") == 0) return 0;
  if (strcmp(md->name, "cublaslt-fast") == 0) return 1;
  return -1;
}

int cmd_hopper_accum(int argc, char **argv) {
  enum { O_DISTS = 256, O_KS, O_M, O_N, O_MODELS, O_FORMAT, O_SEED, O_THREADS,
         O_SHARD, O_OUT };
  static const struct option opts[] = {
      {"dists", required_argument, 0, O_DISTS},
      {"ks", required_argument, 0, O_KS},
      {"m", required_argument, 0, O_M},
      {"n", required_argument, 0, O_N},
      {"models", required_argument, 0, O_MODELS},
      {"format", required_argument, 0, O_FORMAT},
      {"seed", required_argument, 0, O_SEED},
      {"threads", required_argument, 0, O_THREADS},
      {"shard", required_argument, 0, O_SHARD},
      {"out", required_argument, 0, O_OUT},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char *dists = "gauss,uniform,abs-gauss,lognormal",
             *ks = "128,256,512,1024,2048,4096,8192,16384",
             *models = "cublaslt-fast,cublaslt,cublaslt:512",
             *format = "e4m3fn", *out = "results/hopper-accum.h5";
  static run r;
  r.m = r.n = 256;
  int64_t shard_i = 0, shard_n = 1;
  int o;
  optind = 1;
  opterr = 0;
  while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (o) {
    case O_DISTS: dists = optarg; break;
    case O_KS: ks = optarg; break;
    case O_M: r.m = cli_parse_int(C, "--m", optarg, 1, 4096); break;
    case O_N: r.n = cli_parse_int(C, "--n", optarg, 1, 4096); break;
    case O_MODELS: models = optarg; break;
    case O_FORMAT: format = optarg; break;
    case O_SEED: r.seed = cli_parse_u64(C, "--seed", optarg); break;
    case O_THREADS: r.threads = cli_parse_threads(C, optarg); break;
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

  cli_parse_format(C, "--format", format, &r.fmt);
  if (fp8lab_format_bits(&r.fmt) > 8)
    cli_die(C, "--format: %s has %d bits; FP8 GEMM operands have at most 8",
            format, fp8lab_format_bits(&r.fmt));
  const char *dn[MAXLIST], *mn[MAXLIST];
  size_t ndists = runner_split(C, "--dists", dists, dn, MAXLIST);
  int dist_v[MAXLIST];
  for (size_t i = 0; i < ndists; i++)
    if ((dist_v[i] = hopper_accum_dist(dn[i])) < 0)
      cli_die(C, "--dists: unknown distribution '%s' (gauss, uniform, "
              "abs-gauss, lognormal)", dn[i]);
  r.nmodels = runner_split(C, "--models", models, mn, MAXLIST);
  for (size_t i = 0; i < r.nmodels; i++) {
    r.models[i] = parse_model(mn[i], i);
    char why[256];
    if (fp8lab_model_check(r.models[i], &r.fmt, &r.fmt, why, sizeof why) != 0)
      cli_die(C, "--models: %s: %s", mn[i], why);
  }
  int64_t kv[MAXLIST];
  size_t nks = runner_parse_sizes(C, "--ks", ks, kv, MAXLIST, 1, 65536);

  h100_row h100[256];
  char err[1024];
  int nh = hopper_accum_h100(h100, sizeof h100 / sizeof h100[0], err, sizeof err);
  if (nh < 0) cli_fail(C, "%s", err);

  size_t total = ndists * nks;
  r.cfg = calloc(total ? total : 1, sizeof *r.cfg);
  if (!r.cfg) cli_fail(C, "out of memory");
  int64_t idx = 0;
  for (size_t a = 0; a < ndists; a++)
    for (size_t b = 0; b < nks; b++, idx++)
      if (idx % shard_n == shard_i)
        r.cfg[r.ncfg++] = (config){idx, dist_v[a], kv[b]};
  size_t nrow = r.ncfg * r.nmodels, m1 = nrow ? nrow : 1;
  r.stats = calloc(m1, sizeof *r.stats);
  r.zeros = calloc(m1, sizeof *r.zeros);
  if (!r.stats || !r.zeros) cli_fail(C, "out of memory");

  int nt = runner_threads(r.threads, (size_t)r.m);
  fp8lab_results *res = runner_open(C, out, "hopper-accum", argc, argv, r.seed, nt);
  runner_param_str(C, res, "dists", dists);
  runner_param_i64s(C, res, "ks", kv, nks);
  runner_param_i64(C, res, "m", r.m);
  runner_param_i64(C, res, "n", r.n);
  runner_param_str(C, res, "models", models);
  runner_param_str(C, res, "format", r.fmt.name);
  runner_param_str(C, res, "input_rounding", "nearest even, saturating");
  runner_param_str(C, res, "reference", "f64 GEMM of the decoded operands "
                   "(OpenBLAS cblas_dgemm)");
  runner_param_str(C, res, "h100_source", "data/accum_error_stats.json "
                   "(NVIDIA H100 80GB HBM3, cuBLASLt e4m3, M = N = 1024)");
  runner_param_i64(C, res, "shard_index", shard_i);
  runner_param_i64(C, res, "shard_count", shard_n);
  runner_param_i64(C, res, "configurations_total", (int64_t)total);

  runner_parallel(C, r.ncfg, 1, run_config, &r, "configurations");
  if (atomic_load(&r.failed)) runner_fail(C, res, r.err);

  int64_t *cidx = calloc(m1, sizeof *cidx), *kc = calloc(m1, sizeof *kc),
          *mc = calloc(m1, sizeof *mc), *nc = calloc(m1, sizeof *nc),
          *pk = calloc(m1, sizeof *pk), *hm = calloc(m1, sizeof *hm);
  const char **dc = calloc(m1, sizeof *dc), **mdc = calloc(m1, sizeof *mdc);
  double *col[NSTAT], *hcol[NSTAT];
  for (int s = 0; s < NSTAT; s++) {
    col[s] = calloc(m1, sizeof(double));
    hcol[s] = calloc(m1, sizeof(double));
    if (!col[s] || !hcol[s]) runner_fail(C, res, "out of memory");
  }
  if (!cidx || !kc || !mc || !nc || !pk || !hm || !dc || !mdc)
    runner_fail(C, res, "out of memory");
  printf("%-10s %6s  %-14s %12s %12s %12s %12s   %12s %12s %12s %12s\n", "dist",
         "K", "model", "median_rel", "frob_rel", "maxabs/maxref", "max_rel",
         "H100 median", "H100 frob", "H100 maxabs", "H100 maxrel");
  for (size_t c = 0; c < r.ncfg; c++)
    for (size_t q = 0; q < r.nmodels; q++) {
      size_t i = c * r.nmodels + q;
      const config *cf = &r.cfg[c];
      cidx[i] = cf->index;
      dc[i] = dist_names[cf->dist];
      kc[i] = cf->k;
      mc[i] = r.m;
      nc[i] = r.n;
      mdc[i] = r.models[q]->name;
      pk[i] = r.models[q]->promote_k;
      const h100_row *h = NULL;
      int kind = h100_kind(r.models[q]);
      for (int j = 0; j < nh && kind >= 0; j++)
        if (strcmp(h100[j].dist, dc[i]) == 0 && h100[j].k == cf->k) h = &h100[j];
      hm[i] = h ? h->m : 0;
      for (int s = 0; s < NSTAT; s++) {
        col[s][i] = r.stats[i][s];
        hcol[s][i] = h ? h->v[kind][s] : NAN;
      }
      printf("%-10s %6lld  %-14s %12.4g %12.4g %12.4g %12.4g", dc[i],
             (long long)kc[i], mdc[i], col[1][i], col[3][i], col[2][i],
             col[0][i]);
      if (h)
        printf("   %12.4g %12.4g %12.4g %12.4g", hcol[1][i], hcol[3][i],
               hcol[2][i], hcol[0][i]);
      printf("\n");
    }
  const fp8lab_results_column cols[] = {
      {"config", FP8LAB_RESULTS_I64, cidx, "1",
       "index of the (dist, K) configuration in the full sweep (before --shard)"},
      {"dist", FP8LAB_RESULTS_STR, dc, "1",
       "distribution of A and B before rounding to the operand format: gauss "
       "N(0,1), uniform U(-1,1), abs-gauss |N(0,1)|, lognormal exp(1.5 N(0,1))"},
      {"k", FP8LAB_RESULTS_I64, kc, "elements", "inner dimension K"},
      {"m", FP8LAB_RESULTS_I64, mc, "rows", "rows of D"},
      {"n", FP8LAB_RESULTS_I64, nc, "columns", "columns of D"},
      {"model", FP8LAB_RESULTS_STR, mdc, "1",
       "fp8lab model (cublaslt:NC: cublaslt promoting every NC of K)"},
      {"promote_k", FP8LAB_RESULTS_I64, pk, "elements",
       "K elements per promotion of the FP22 partial to f32 (0: none)"},
      {"max_rel", FP8LAB_RESULTS_F64, col[0], "1",
       "max over elements with R != 0 of |D - R| / |R|, R the f64 GEMM"},
      {"median_rel", FP8LAB_RESULTS_F64, col[1], "1",
       "median over elements with R != 0 of |D - R| / |R|"},
      {"max_abs_over_max_ref", FP8LAB_RESULTS_F64, col[2], "1",
       "max |D - R| / max |R|"},
      {"frob_rel", FP8LAB_RESULTS_F64, col[3], "1", "||D - R||_F / ||R||_F"},
      {"ref_zeros", FP8LAB_RESULTS_I64, r.zeros, "elements",
       "elements with R = 0 (left out of max_rel and median_rel)"},
      {"h100_m", FP8LAB_RESULTS_I64, hm, "rows",
       "M (= N) of the H100 measurement of this row (0: none)"},
      {"h100_max_rel", FP8LAB_RESULTS_F64, hcol[0], "1",
       "H100 cuBLASLt max_rel (promoted for cublaslt, fast for "
       "cublaslt-fast; NaN: not measured)"},
      {"h100_median_rel", FP8LAB_RESULTS_F64, hcol[1], "1", "H100 median_rel"},
      {"h100_max_abs_over_max_ref", FP8LAB_RESULTS_F64, hcol[2], "1",
       "H100 max_abs_over_max_ref"},
      {"h100_frob_rel", FP8LAB_RESULTS_F64, hcol[3], "1", "H100 frob_rel"},
  };
  if (fp8lab_results_table(res, "hopper_accum",
                           "FP8 GEMM error per (dist, K, model) against the "
                           "f64 GEMM, beside the H100's",
                           nrow, cols, sizeof cols / sizeof cols[0], err,
                           sizeof err) != 0)
    runner_fail(C, res, err);
  runner_close(C, res);
  printf("%s: %zu row%s (%zu configurations x %zu models, M = %lld, N = %lld)\n",
         out, nrow, nrow == 1 ? "" : "s", r.ncfg, r.nmodels, (long long)r.m,
         (long long)r.n);
  free(cidx), free(kc), free(mc), free(nc), free(pk), free(hm);
  free(dc), free(mdc);
  for (int s = 0; s < NSTAT; s++) free(col[s]), free(hcol[s]);
  free(r.stats), free(r.zeros), free(r.cfg);
  free((char *)dn[0]), free((char *)mn[0]);
  return 0;
}
