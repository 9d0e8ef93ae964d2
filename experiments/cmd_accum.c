/* fp8lab accum: error of long sums and dot products in low-precision
 * accumulators, with and without chunk-based accumulation (Wang, Choi,
 * Brand, Chen, Gopalakrishnan, "Training Deep Neural Networks with 8-bit
 * Floating Point Numbers", NeurIPS 2018, arXiv 1812.08011, section 3 and
 * its chunk-based accumulation figure).
 *
 * A configuration is (op, distribution, format, rounding, chunk, length);
 * each runs `trials` independent vectors.  Per trial:
 *   1. data      x (and y for dot) of the length, drawn by GSL's MT19937
 *                seeded with mix(seed, distribution, op, length, trial),
 *                then rounded to nearest even in the --input format (f32
 *                by default): every format, rounding and chunk sees the
 *                same vectors.
 *   2. model     the terms (x_i, or the exact products x_i y_i) fed in
 *                order to fp8lab's streaming accumulator (fp8lab/accum.h):
 *                chunk 1 = SEQ (recursive summation, one rounding per
 *                step), chunk CL > 1 = CHUNKED (chunks of CL summed from
 *                +0, chunk results summed in the same format: Wang et al.).
 *                SR words: Philox keyed by mix(seed, format, rounding,
 *                sr_bits, chunk, length, distribution, op), stream = trial.
 *   3. exact     the exact sum S (fp8lab/exact_sum.h), rounded once to
 *                double; relative error |s - S| / |S| (0 when s = S = 0,
 *                Inf when S = 0 != s or s is not finite).
 *   4. stagnation the outer additions (every step for chunk 1, every chunk
 *                result otherwise) are numbered j = 1..J; the trial
 *                stagnated when J >= 2 and none of the additions
 *                floor(J/2)+1..J changed the accumulator.
 * Seeds come from the content of a configuration, never from thread ids
 * or list positions: results do not depend on --threads, --shard or the
 * order of the option lists. */
#include <getopt.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fp8lab/accum.h"
#include "runner.h"

static const char *const C = "accum";

static const char *const help =
    "usage: fp8lab accum [--formats LIST] [--round LIST] [--sr-bits N]\n"
    "                    [--chunks LIST] [--lengths LIST] [--dists LIST]\n"
    "                    [--ops LIST] [--input FMT] [--trials N] [--seed S]\n"
    "                    [--threads N] [--shard I/N] [--out FILE]\n\n"
    "Error of long sums and dot products accumulated in a low-precision\n"
    "format, sequentially or chunk by chunk (Wang et al., arXiv 1812.08011,\n"
    "chunk-based accumulation), against the exact sum. One configuration per\n"
    "(op, distribution, format, rounding, chunk, length), each over --trials\n"
    "vectors; one row each in the table 'accum' of the results file\n"
    "(docs/results-format.md): mean and max relative error |s - S| / |S|,\n"
    "the trials that stagnated (the accumulator did not change during the\n"
    "second half of its additions), the fraction of additions absorbed.\n\n"
    "  --formats LIST  accumulator formats (default ibm169,f16,bf16,e8m13);\n"
    "                  any name 'fp8lab formats' knows or e<X>m<Y>...\n"
    "  --round LIST    roundings of every addition: rne, rna, rtz, rup, rdn,\n"
    "                  rto, sr (default rne,sr)\n"
    "  --sr-bits N     stochastic rounding with N random bits, 1..32;\n"
    "                  0 = exact probabilities (default 0)\n"
    "  --chunks LIST   chunk lengths; 1 = no chunking (default 1,16,64,256)\n"
    "  --lengths LIST  vector lengths, integers or 2^k, 1..2^20 (default\n"
    "                  the powers of two 2^4..2^20)\n"
    "  --dists LIST    uniform ([0,1)), gaussian (N(0,1)), ones\n"
    "                  (default uniform,gaussian,ones)\n"
    "  --ops LIST      sum (sum of x_i), dot (sum of exact x_i y_i)\n"
    "                  (default sum,dot)\n"
    "  --input FMT     round every x_i and y_i to FMT first (nearest even,\n"
    "                  saturating): f32 (default), any fp8lab format (e.g.\n"
    "                  e4m3fn for FP8 operands), or f64 to keep the draws\n"
    "                  (dot products of f64 data take the slow exact path)\n"
    "  --trials N      vectors per configuration, 1..100000 (default 4)\n"
    "  --seed S        seed of the data and of stochastic rounding (default 0)\n"
    "  --threads N     worker threads, 0 = one per CPU (default 0); results\n"
    "                  do not depend on it\n"
    "  --shard I/N     run configurations c with c % N == I only (0 <= I < N)\n"
    "  --out FILE      results file (default results/accum.h5), written\n"
    "                  under a temporary name and renamed when complete\n"
    "  -h, --help      this text\n\n"
    "example: fp8lab accum --formats ibm169 --round rne --chunks 1,64 \\\n"
    "           --lengths 2^10,2^12 --dists ones --ops sum --trials 1\n";

enum { MAXLIST = 64 };

static const char *const dist_names[] = {"uniform", "gaussian", "ones"};
static const char *const op_names[] = {"sum", "dot"};
enum { NDISTS = sizeof dist_names / sizeof dist_names[0],
       NOPS = sizeof op_names / sizeof op_names[0] };

static int lookup(const char *const *names, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], s) == 0) return (int)i;
  return -1;
}

typedef struct config {
  int64_t index;   /* global configuration index */
  int op, dist;    /* indices into op_names, dist_names */
  int fmt;         /* index into the run's formats */
  int round;       /* index into the run's roundings */
  int64_t chunk, length;
} config;

typedef struct run {
  fp8lab_format fmts[MAXLIST];
  size_t nfmts;
  fp8lab_round rounds[MAXLIST];
  size_t nrounds;
  int sr_bits;
  bool input_f64;          /* --input f64: the draws as they are */
  fp8lab_format input;     /* else every x_i, y_i rounded (RNE) to it */
  int64_t trials;
  uint64_t seed;
  config *cfg;       /* the configurations of this shard */
  size_t ncfg;
  int64_t max_length;
  /* results, one per configuration of this shard */
  double *mean_err, *max_err, *absorbed;
  int64_t *stag_trials;
  uint8_t *stagnated;
  atomic_int failed; /* 1: out of memory, 2: invalid accumulator */
} run;

static void draw(gsl_rng *g, int dist, double *x, size_t n) {
  switch (dist) {
  case 0: for (size_t i = 0; i < n; i++) x[i] = gsl_rng_uniform(g); break;
  case 1: for (size_t i = 0; i < n; i++) x[i] = gsl_ran_gaussian_ziggurat(g, 1.0); break;
  default: for (size_t i = 0; i < n; i++) x[i] = 1.0; break;
  }
}

static double rel_err(double s, double exact) {
  if (!isfinite(s)) return INFINITY;
  if (exact == 0) return s == 0 ? 0.0 : INFINITY;
  return fabs(s - exact) / fabs(exact);
}

/* One configuration, all its trials. */
static void run_config(void *ctx, size_t k) {
  run *r = ctx;
  const config *c = &r->cfg[k];
  size_t n = (size_t)c->length;
  double *x = malloc(n * sizeof *x), *y = c->op ? malloc(n * sizeof *y) : NULL;
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  if (!x || (c->op && !y) || !g) {
    atomic_store(&r->failed, 1);
    free(x), free(y);
    if (g) gsl_rng_free(g);
    return;
  }
  const fp8lab_format *f = &r->fmts[c->fmt];
  fp8lab_accum a = {.kind = c->chunk > 1 ? FP8LAB_ACCUM_CHUNKED : FP8LAB_ACCUM_SEQ,
                    .fmt = f, .chunk = (size_t)c->chunk};
  a.cvt.round = r->rounds[c->round];
  a.cvt.saturate = false;
  a.cvt.sr_bits = r->sr_bits;
  uint64_t key[] = {r->seed, runner_hash_str(f->name), (uint64_t)a.cvt.round,
                    (uint64_t)r->sr_bits, (uint64_t)c->chunk,
                    (uint64_t)c->length, (uint64_t)c->dist, (uint64_t)c->op};
  a.cvt.seed = runner_mix(key, sizeof key / sizeof key[0]);
  double sum_err = 0, max_err = 0, absorbed = 0;
  int64_t stag = 0;
  for (int64_t t = 0; t < r->trials; t++) {
    uint64_t dkey[] = {r->seed, 0xda7a, (uint64_t)c->dist, (uint64_t)c->op,
                       (uint64_t)c->length, (uint64_t)t};
    gsl_rng_set(g, (unsigned long)runner_mix(dkey, sizeof dkey / sizeof dkey[0]));
    draw(g, c->dist, x, n);
    if (y) draw(g, c->dist, y, n);
    if (!r->input_f64) {
      const fp8lab_cvt rne = {.round = FP8LAB_RNE, .saturate = true};
      for (size_t i = 0; i < n; i++) {
        x[i] = fp8lab_decode_f64(&r->input, fp8lab_encode_f64(&r->input, x[i], &rne, 0));
        if (y) y[i] = fp8lab_decode_f64(&r->input, fp8lab_encode_f64(&r->input, y[i], &rne, 0));
      }
    }
    a.cvt.stream = (uint64_t)t;
    fp8lab_accum_state st;
    if (fp8lab_accum_init(&st, &a, 0) != 0) {
      atomic_store(&r->failed, 2);
      break;
    }
    fp8lab_exact_sum ex;
    fp8lab_exact_sum_init(&ex);
    /* Outer additions: j counts them, last_change is the last j that moved
     * the accumulator. */
    int64_t j = 0, last_change = 0, unchanged = 0;
    double prev = 0.0;
    for (size_t i = 0; i < n; i++) {
      if (y) {
        fp8lab_accum_add_prod(&st, x[i], y[i]);
        fp8lab_exact_sum_add_prod(&ex, x[i], y[i]);
      } else {
        fp8lab_accum_add(&st, x[i]);
        fp8lab_exact_sum_add(&ex, x[i]);
      }
      bool outer = c->chunk <= 1 || st.in_chunk == 0;
      if (outer) {
        j++;
        /* Compare values, not codes: -0 and +0 are the same sum. */
        if (st.s != prev || isnan(st.s) != isnan(prev)) last_change = j;
        else unchanged++;
        prev = st.s;
      }
    }
    double s = fp8lab_accum_result(&st, NULL);
    if (c->chunk > 1 && st.in_chunk) { /* the last, partial chunk */
      j++;
      if (s != prev) last_change = j;
      else unchanged++;
    }
    double e = rel_err(s, fp8lab_exact_sum_f64_rne(&ex));
    sum_err += e;
    if (e > max_err || isnan(e)) max_err = e;
    absorbed += j ? (double)unchanged / (double)j : 0.0;
    if (j >= 2 && last_change <= j / 2) stag++;
  }
  r->mean_err[k] = sum_err / (double)r->trials;
  r->max_err[k] = max_err;
  r->absorbed[k] = absorbed / (double)r->trials;
  r->stag_trials[k] = stag;
  r->stagnated[k] = stag > 0;
  gsl_rng_free(g);
  free(x);
  free(y);
}

static char *join_names(const char *const *v, size_t n) {
  size_t len = 1;
  for (size_t i = 0; i < n; i++) len += strlen(v[i]) + 1;
  char *s = malloc(len);
  if (!s) return NULL;
  s[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (i) strcat(s, ",");
    strcat(s, v[i]);
  }
  return s;
}

int cmd_accum(int argc, char **argv) {
  enum { O_FORMATS = 256, O_ROUND, O_SRBITS, O_CHUNKS, O_LENGTHS, O_DISTS,
         O_OPS, O_TRIALS, O_SEED, O_THREADS, O_SHARD, O_OUT, O_INPUT };
  static const struct option opts[] = {
      {"formats", required_argument, 0, O_FORMATS},
      {"round", required_argument, 0, O_ROUND},
      {"sr-bits", required_argument, 0, O_SRBITS},
      {"chunks", required_argument, 0, O_CHUNKS},
      {"lengths", required_argument, 0, O_LENGTHS},
      {"dists", required_argument, 0, O_DISTS},
      {"ops", required_argument, 0, O_OPS},
      {"input", required_argument, 0, O_INPUT},
      {"trials", required_argument, 0, O_TRIALS},
      {"seed", required_argument, 0, O_SEED},
      {"threads", required_argument, 0, O_THREADS},
      {"shard", required_argument, 0, O_SHARD},
      {"out", required_argument, 0, O_OUT},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char *formats = "ibm169,f16,bf16,e8m13", *rounds = "rne,sr",
             *chunks = "1,16,64,256", *dists = "uniform,gaussian,ones",
             *ops = "sum,dot", *out = "results/accum.h5", *input = "f32";
  const char *lengths =
      "2^4,2^5,2^6,2^7,2^8,2^9,2^10,2^11,2^12,2^13,2^14,2^15,2^16,2^17,2^18,"
      "2^19,2^20";
  run r = {.trials = 4};
  int threads = 0;
  int64_t shard_i = 0, shard_n = 1;
  int o;
  optind = 1;
  opterr = 0;
  while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (o) {
    case O_FORMATS: formats = optarg; break;
    case O_ROUND: rounds = optarg; break;
    case O_SRBITS: r.sr_bits = (int)cli_parse_int(C, "--sr-bits", optarg, 0, 32); break;
    case O_CHUNKS: chunks = optarg; break;
    case O_LENGTHS: lengths = optarg; break;
    case O_DISTS: dists = optarg; break;
    case O_OPS: ops = optarg; break;
    case O_INPUT: input = optarg; break;
    case O_TRIALS: r.trials = cli_parse_int(C, "--trials", optarg, 1, 100000); break;
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

  /* Parse and check every list before any output. */
  const char *fnames[MAXLIST], *rnames[MAXLIST], *dnames[MAXLIST], *onames[MAXLIST];
  r.nfmts = runner_split(C, "--formats", formats, fnames, MAXLIST);
  for (size_t i = 0; i < r.nfmts; i++) {
    cli_parse_format(C, "--formats", fnames[i], &r.fmts[i]);
    fp8lab_accum a = {.kind = FP8LAB_ACCUM_SEQ, .fmt = &r.fmts[i]};
    char why[256];
    if (fp8lab_accum_check(&a, why, sizeof why) != 0)
      cli_die(C, "--formats: %s cannot accumulate: %s", fnames[i], why);
  }
  r.input_f64 = strcmp(input, "f64") == 0;
  if (!r.input_f64) {
    cli_parse_format(C, "--input", input, &r.input);
    if (!fp8lab_format_has_zero(&r.input) || !r.input.has_sign)
      cli_die(C, "--input: %s has no zero or no sign: data cannot be rounded "
              "to it", input);
  }
  r.nrounds = runner_split(C, "--round", rounds, rnames, MAXLIST);
  bool any_sr = false;
  for (size_t i = 0; i < r.nrounds; i++) {
    r.rounds[i] = cli_parse_round(C, rnames[i]);
    any_sr |= r.rounds[i] == FP8LAB_SR;
  }
  if (r.sr_bits && !any_sr)
    cli_die(C, "--sr-bits %d: no stochastic rounding in --round '%s'",
            r.sr_bits, rounds);
  int64_t chunk_v[MAXLIST], len_v[MAXLIST];
  size_t nchunks = runner_parse_sizes(C, "--chunks", chunks, chunk_v, MAXLIST, 1,
                                      (int64_t)1 << 20);
  size_t nlens = runner_parse_sizes(C, "--lengths", lengths, len_v, MAXLIST, 1,
                                    (int64_t)1 << 20);
  size_t ndists = runner_split(C, "--dists", dists, dnames, MAXLIST);
  int dist_v[MAXLIST], op_v[MAXLIST];
  for (size_t i = 0; i < ndists; i++)
    if ((dist_v[i] = lookup(dist_names, NDISTS, dnames[i])) < 0)
      cli_die(C, "--dists: unknown distribution '%s' (uniform, gaussian, ones)",
              dnames[i]);
  size_t nops = runner_split(C, "--ops", ops, onames, MAXLIST);
  for (size_t i = 0; i < nops; i++)
    if ((op_v[i] = lookup(op_names, NOPS, onames[i])) < 0)
      cli_die(C, "--ops: unknown operation '%s' (sum, dot)", onames[i]);

  /* The configurations, in a fixed nesting; this shard's share. */
  size_t total = nops * ndists * r.nfmts * r.nrounds * nchunks * nlens;
  r.cfg = calloc(total, sizeof *r.cfg);
  if (!r.cfg) cli_fail(C, "out of memory");
  int64_t idx = 0;
  for (size_t a = 0; a < nops; a++)
    for (size_t b = 0; b < ndists; b++)
      for (size_t f = 0; f < r.nfmts; f++)
        for (size_t q = 0; q < r.nrounds; q++)
          for (size_t ch = 0; ch < nchunks; ch++)
            for (size_t l = 0; l < nlens; l++, idx++) {
              if (idx % shard_n != shard_i) continue;
              r.cfg[r.ncfg++] = (config){idx, op_v[a], dist_v[b], (int)f,
                                         (int)q, chunk_v[ch], len_v[l]};
            }
  size_t m = r.ncfg ? r.ncfg : 1;
  r.mean_err = calloc(m, sizeof(double));
  r.max_err = calloc(m, sizeof(double));
  r.absorbed = calloc(m, sizeof(double));
  r.stag_trials = calloc(m, sizeof(int64_t));
  r.stagnated = calloc(m, 1);
  if (!r.mean_err || !r.max_err || !r.absorbed || !r.stag_trials || !r.stagnated)
    cli_fail(C, "out of memory");

  int nt = runner_threads(threads, r.ncfg);
  fp8lab_results *res = runner_open(C, out, "accum", argc, argv, r.seed, nt);
  runner_param_str(C, res, "formats", formats);
  runner_param_str(C, res, "round", rounds);
  runner_param_i64(C, res, "sr_bits", r.sr_bits);
  runner_param_i64s(C, res, "chunks", chunk_v, nchunks);
  runner_param_i64s(C, res, "lengths", len_v, nlens);
  runner_param_str(C, res, "dists", dists);
  runner_param_str(C, res, "ops", ops);
  runner_param_str(C, res, "input", r.input_f64 ? "f64" : r.input.name);
  runner_param_i64(C, res, "trials", r.trials);
  runner_param_i64(C, res, "shard_index", shard_i);
  runner_param_i64(C, res, "shard_count", shard_n);
  runner_param_i64(C, res, "configurations_total", (int64_t)total);
  runner_param_str(C, res, "saturate", "no (IEEE overflow: Inf)");
  runner_param_str(C, res, "inter_chunk_format",
                   "the accumulator format (Wang et al.)");

  runner_parallel(C, r.ncfg, nt, run_config, &r, "configurations");
  if (atomic_load(&r.failed))
    runner_fail(C, res, atomic_load(&r.failed) == 1 ? "out of memory"
                                                    : "internal: invalid accumulator");

  /* The table. */
  size_t n = r.ncfg;
  int64_t *cidx = calloc(m, sizeof *cidx), *chunk = calloc(m, sizeof *chunk),
          *length = calloc(m, sizeof *length), *trials = calloc(m, sizeof *trials),
          *srb = calloc(m, sizeof *srb);
  const char **opc = calloc(m, sizeof *opc), **dc = calloc(m, sizeof *dc),
             **fc = calloc(m, sizeof *fc), **rc = calloc(m, sizeof *rc);
  if (!cidx || !chunk || !length || !trials || !srb || !opc || !dc || !fc || !rc)
    runner_fail(C, res, "out of memory");
  for (size_t k = 0; k < n; k++) {
    const config *c = &r.cfg[k];
    cidx[k] = c->index;
    opc[k] = op_names[c->op];
    dc[k] = dist_names[c->dist];
    fc[k] = r.fmts[c->fmt].name;
    rc[k] = fp8lab_round_name(r.rounds[c->round]);
    srb[k] = r.rounds[c->round] == FP8LAB_SR ? r.sr_bits : 0;
    chunk[k] = c->chunk;
    length[k] = c->length;
    trials[k] = r.trials;
  }
  const fp8lab_results_column cols[] = {
      {"config", FP8LAB_RESULTS_I64, cidx, "1",
       "index of the configuration in the full sweep (before --shard)"},
      {"op", FP8LAB_RESULTS_STR, opc, "1",
       "sum: sum of x_i; dot: sum of the exact products x_i y_i"},
      {"dist", FP8LAB_RESULTS_STR, dc, "1",
       "distribution of x and y: uniform [0,1), gaussian N(0,1), ones"},
      {"format", FP8LAB_RESULTS_STR, fc, "1",
       "accumulator format (fp8lab name), both levels when chunked"},
      {"round", FP8LAB_RESULTS_STR, rc, "1",
       "rounding of every addition (rne, rna, rtz, rup, rdn, rto, sr)"},
      {"sr_bits", FP8LAB_RESULTS_I64, srb, "bits",
       "random bits of stochastic rounding (0: exact probabilities; 0 for "
       "other roundings)"},
      {"chunk", FP8LAB_RESULTS_I64, chunk, "terms",
       "chunk length CL (1: no chunking, recursive summation)"},
      {"length", FP8LAB_RESULTS_I64, length, "terms", "vector length n"},
      {"trials", FP8LAB_RESULTS_I64, trials, "1", "vectors drawn"},
      {"mean_rel_err", FP8LAB_RESULTS_F64, r.mean_err, "1",
       "mean over trials of |s - S| / |S|, s the accumulated sum, S the "
       "exact sum (Inf when s overflowed or S = 0 != s)"},
      {"max_rel_err", FP8LAB_RESULTS_F64, r.max_err, "1",
       "largest |s - S| / |S| over the trials"},
      {"stagnated", FP8LAB_RESULTS_U8, r.stagnated, "1",
       "1 if some trial stagnated: no addition into the (inter-chunk) "
       "accumulator changed it during the second half of the additions"},
      {"stagnated_trials", FP8LAB_RESULTS_I64, r.stag_trials, "1",
       "trials that stagnated"},
      {"absorbed_fraction", FP8LAB_RESULTS_F64, r.absorbed, "1",
       "mean over trials of the fraction of additions into the "
       "(inter-chunk) accumulator that left it unchanged"},
  };
  char err[1024];
  if (fp8lab_results_table(res, "accum",
                           "accumulation error per (op, dist, format, round, "
                           "chunk, length)",
                           n, cols, sizeof cols / sizeof cols[0], err,
                           sizeof err) != 0)
    runner_fail(C, res, err);
  runner_close(C, res);
  char *fl = join_names(fnames, r.nfmts);
  printf("%s: %zu configuration%s (%s; %lld trial%s each)\n", out, n,
         n == 1 ? "" : "s", fl ? fl : formats, (long long)r.trials,
         r.trials == 1 ? "" : "s");
  free(fl);
  free(cidx), free(chunk), free(length), free(trials), free(srb);
  free(opc), free(dc), free(fc), free(rc);
  free(r.mean_err), free(r.max_err), free(r.absorbed), free(r.stag_trials);
  free(r.stagnated), free(r.cfg);
  free((char *)fnames[0]), free((char *)rnames[0]);
  free((char *)dnames[0]), free((char *)onames[0]);
  return 0;
}
