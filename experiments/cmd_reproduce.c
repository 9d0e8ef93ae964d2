/* fp8lab reproduce: regenerate published results and print them beside the
 * published numbers.  Each reproduction has an ID, a citation, a fixed
 * configuration, and a file of reference values data/published/<ID>.csv:
 *
 *   name,value,source,location
 *   f16/harmonic/sum,7.0859375,"N. J. Higham, ...","section ..."
 *
 * (RFC 4180 CSV; value a decimal number, 2^k, or m*2^k).  Every row of the
 * file must be one the reproduction computes; rows it computes without a
 * published number print an empty reference. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fp8lab/accum.h"
#include "fp8lab_config.h"
#include "reproduce.h"
#include "runner.h"

static const char *const C = "reproduce";

void repro_put(repro_table *t, const char *name, double v) {
  if (t->n == REPRO_MAXROWS)
    cli_fail(C, "internal: more than %d rows", REPRO_MAXROWS);
  repro_row *r = &t->rows[t->n++];
  memset(r, 0, sizeof *r);
  snprintf(r->name, sizeof r->name, "%s", name);
  r->value = v;
}

/* ---- stagnation ---------------------------------------------------------- */

/* Recursive summation of x_k = f(k), k = 1..n, in fmt under cvt, one
 * rounding per step (fp8lab/accum.h SEQ, or CHUNKED when chunk > 1).
 * Returns the sum; *stop = the term at which the sum stops changing: the
 * first k from which no term up to n changed it (0 if the last did). */
static double stagnate(const fp8lab_format *fmt, fp8lab_round round,
                       size_t chunk, bool harmonic, size_t n, uint64_t seed,
                       size_t *stop) {
  fp8lab_accum a = {.kind = chunk > 1 ? FP8LAB_ACCUM_CHUNKED : FP8LAB_ACCUM_SEQ,
                    .fmt = fmt, .chunk = chunk};
  a.cvt.round = round;
  a.cvt.seed = seed;
  fp8lab_accum_state st;
  if (fp8lab_accum_init(&st, &a, 0) != 0) cli_fail(C, "internal: bad model");
  double prev = 0;
  *stop = 0;
  for (size_t k = 1; k <= n; k++) {
    fp8lab_accum_add(&st, harmonic ? 1.0 / (double)k : 1.0);
    double s = fp8lab_accum_result(&st, NULL);
    if (s == prev && *stop == 0) *stop = k;
    if (s != prev) *stop = 0; /* it moved again: not stagnated yet */
    prev = s;
  }
  return fp8lab_accum_result(&st, NULL);
}

/* Harmonic terms 1/k (the double nearest, added exactly and rounded once
 * per step) up to NH: both formats have stopped long before. */
#define NH 65536
#define NONES 4096

static void run_stagnation(repro_table *t) {
  const fp8lab_format *ibm = fp8lab_format_named("ibm169");
  size_t k;
  double s;
  s = stagnate(fp8lab_f16, FP8LAB_RNE, 1, true, NH, 0, &k);
  repro_put(t, "f16/harmonic/sum", s);
  repro_put(t, "f16/harmonic/k", (double)k);
  s = stagnate(fp8lab_bf16, FP8LAB_RNE, 1, true, NH, 0, &k);
  repro_put(t, "bf16/harmonic/sum", s);
  repro_put(t, "bf16/harmonic/k", (double)k);
  repro_put(t, "ibm169/ones/naive", stagnate(ibm, FP8LAB_RNE, 1, false, NONES, 0, &k));
  repro_put(t, "ibm169/ones/chunk64", stagnate(ibm, FP8LAB_RNE, 64, false, NONES, 0, &k));
  /* Contrast: stochastic rounding (exact probabilities, seed 0) does not
   * stagnate; its sums stay near the exact ones. */
  repro_put(t, "f16/harmonic/sr/sum", stagnate(fp8lab_f16, FP8LAB_SR, 1, true, NH, 0, &k));
  repro_put(t, "bf16/harmonic/sr/sum", stagnate(fp8lab_bf16, FP8LAB_SR, 1, true, NH, 0, &k));
  repro_put(t, "ibm169/ones/sr/naive", stagnate(ibm, FP8LAB_SR, 1, false, NONES, 0, &k));
  fp8lab_exact_sum ex;
  fp8lab_exact_sum_init(&ex);
  for (size_t i = 1; i <= NH; i++) fp8lab_exact_sum_add(&ex, 1.0 / (double)i);
  repro_put(t, "exact/harmonic/sum", fp8lab_exact_sum_f64_rne(&ex));
  repro_put(t, "exact/ones/sum", NONES);
}

/* ---- format tables ------------------------------------------------------- */

static void format_rows(repro_table *t, const char *label, const char *fmtname,
                        bool scale) {
  const fp8lab_format *f = fp8lab_format_named(fmtname);
  if (!f) cli_fail(C, "internal: no format %s", fmtname);
  char name[REPRO_NAMELEN];
#define ROW(what, v) (snprintf(name, sizeof name, "%s/%s", label, what), repro_put(t, name, v))
  ROW("exponent_bias", f->bias);
  if (scale) {
    ROW("max", fp8lab_format_max(f));
    ROW("min", fp8lab_format_min_normal(f));
    return;
  }
  ROW("max_normal", fp8lab_format_max(f));
  ROW("min_normal", fp8lab_format_min_normal(f));
  if (fp8lab_format_has_subnormals(f)) {
    double sub = fp8lab_format_min_subnormal(f);
    ROW("max_subnormal", fp8lab_format_min_normal(f) - sub);
    ROW("min_subnormal", sub);
  }
#undef ROW
}

static void run_nvidia(repro_table *t) {
  format_rows(t, "e4m3", "e4m3fn", false); /* NVIDIA's E4M3 */
  format_rows(t, "e5m2", "e5m2", false);
}

static void run_mx(repro_table *t) {
  format_rows(t, "e2m1", "e2m1", false);
  format_rows(t, "e2m3", "e2m3", false);
  format_rows(t, "e3m2", "e3m2", false);
  format_rows(t, "e8m0", "e8m0", true);
}

/* ---- the list ------------------------------------------------------------- */


static const repro repros[] = {
    {"stagnation",
     "stagnation of recursive summation: harmonic series in binary16 and "
     "bfloat16 (N. J. Higham, \"Half Precision Arithmetic: fp16 Versus "
     "bfloat16\", 2018), sums of ones in IBM 1-6-9 naive and chunked (Wang et "
     "al., arXiv 1812.08011, sec. 3), stochastic rounding for contrast",
     run_stagnation, NULL},
    {"nvidia-fp8-formats",
     "Micikevicius et al., \"FP8 Formats for Deep Learning\", arXiv "
     "2209.05433, Table 1; OCP OFP8 v1.0", run_nvidia, NULL},
    {"ocp-mx-formats",
     "OCP Microscaling Formats (MX) v1.0: elements E2M1, E2M3, E3M2 and the "
     "E8M0 scale", run_mx, NULL},
    {"qualcomm-sqnr",
     "Kuzmin et al., \"FP8 Quantization: The Power of the Exponent\", arXiv "
     "2208.09225: expected quantization error of E5M2, E4M3, E3M4, E2M5, INT8",
     repro_qualcomm_sqnr, &repro_qualcomm_sqnr_ready},
    {"ibm-chunk",
     "Wang et al., \"Training Deep Neural Networks with 8-bit Floating Point "
     "Numbers\", arXiv 1812.08011: chunk-based accumulation study",
     repro_ibm_chunk, &repro_ibm_chunk_ready},
    {"deepseek-accum",
     "DeepSeek-AI, \"DeepSeek-V3 Technical Report\", arXiv 2412.19437, "
     "sec. 3.5.2: accumulation precision of FP8 GEMMs, beside H100 statistics",
     repro_deepseek_accum, &repro_deepseek_accum_ready},
};
static const size_t nrepros = sizeof repros / sizeof repros[0];

static bool repro_ready(const repro *r) { return !r->ready || *r->ready; }

_Noreturn void repro_not_yet(const char *id) {
  cli_die(C, "%s: not yet implemented (see 'fp8lab reproduce --list')", id);
}

static const char *const help_head =
    "usage: fp8lab reproduce --list\n"
    "       fp8lab reproduce ID [--out FILE] [--csv]\n\n"
    "Run a published result's fixed configuration and print a table: name,\n"
    "the published (reference) value, fp8lab's value, and the difference\n"
    "fp8lab - reference. The reference values and their sources (paper,\n"
    "table or figure, page) are data/published/ID.csv; a row without a\n"
    "published number has an empty reference.\n\n"
    "  --list       each ID with its citation\n"
    "  --csv        the table as CSV, header name,reference,fp8lab,difference\n"
    "  --out FILE   also write the table to a results file (HDF5,\n"
    "               docs/results-format.md), atomically\n"
    "  -h, --help   this text\n\n"
    "IDs:\n";

/* ---- reference files ------------------------------------------------------ */

static const char *data_dir(void) {
  const char *d = getenv("FP8LAB_DATA_DIR");
  return d && d[0] ? d : FP8LAB_DATA_DIR;
}

/* One CSV record (RFC 4180) from *p into fields; returns the count, or -1
 * for an unterminated quote.  Advances *p past the record. */
static int csv_record(char **p, char **fields, int max) {
  char *s = *p, *w = s;
  int n = 0;
  if (!*s) return 0;
  for (;;) {
    char *start = w;
    if (*s == '"') {
      s++;
      for (;;) {
        if (!*s) return -1;
        if (*s == '"' && s[1] == '"') *w++ = '"', s += 2;
        else if (*s == '"') { s++; break; }
        else *w++ = *s++;
      }
    }
    while (*s && *s != ',' && *s != '\n' && *s != '\r') *w++ = *s++;
    char end = *s;
    *w++ = '\0';
    if (n < max) fields[n] = start;
    n++;
    /* w may have just overwritten *s: decide by `end`, read before. */
    if (end == ',') { s++; continue; }
    if (end == '\r') {
      s++;
      if (*s == '\n') s++;
    } else if (end == '\n') {
      s++;
    }
    break;
  }
  *p = s;
  return n;
}

/* "448", "0.875", "2^-6", "0.875*2^-6". */
static int parse_value(const char *s, double *v) {
  char *end;
  double m = 1.0;
  const char *pow2 = strstr(s, "2^");
  if (pow2 && pow2 != s) {
    if (pow2 < s + 2 || pow2[-1] != '*') return -1;
    errno = 0;
    m = strtod(s, &end);
    if (errno || end != pow2 - 1) return -1;
  } else if (!pow2) {
    errno = 0;
    *v = strtod(s, &end);
    return errno || end == s || *end || !isfinite(*v) ? -1 : 0;
  }
  errno = 0;
  long e = strtol(pow2 + 2, &end, 10);
  if (errno || end == pow2 + 2 || *end || e < -1074 || e > 1023) return -1;
  *v = ldexp(m, (int)e);
  return 0;
}

static void load_refs(const char *id, repro_table *t) {
  char path[4096];
  snprintf(path, sizeof path, "%s/published/%s.csv", data_dir(), id);
  FILE *fp = fopen(path, "rb");
  if (!fp) cli_fail(C, "%s: cannot open: %s", path, strerror(errno));
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap + 1);
  if (!buf) cli_fail(C, "out of memory");
  size_t got;
  while ((got = fread(buf + len, 1, cap - len, fp)) > 0) {
    len += got;
    if (len == cap) {
      char *nb = realloc(buf, 2 * cap + 1);
      if (!nb) cli_fail(C, "out of memory");
      buf = nb, cap *= 2;
    }
  }
  fclose(fp);
  buf[len] = '\0';
  char *p = buf, *f[8];
  int line = 1;
  int nf = csv_record(&p, f, 8);
  if (nf != 4 || strcmp(f[0], "name") || strcmp(f[1], "value") ||
      strcmp(f[2], "source") || strcmp(f[3], "location"))
    cli_die(C, "%s:1: header must be name,value,source,location", path);
  while (*p) {
    line++;
    nf = csv_record(&p, f, 8);
    if (nf < 0) cli_die(C, "%s:%d: unterminated quoted field", path, line);
    if (nf == 1 && !f[0][0]) continue; /* blank line */
    if (nf != 4)
      cli_die(C, "%s:%d: %d fields, expected 4 (name,value,source,location)",
              path, line, nf);
    if (!f[2][0])
      cli_die(C, "%s:%d: field source: empty (every published number names "
              "its source)", path, line);
    double v;
    if (parse_value(f[1], &v) != 0)
      cli_die(C, "%s:%d: field value: '%s' is not a number (decimal, 2^k or "
              "m*2^k)", path, line, f[1]);
    repro_row *r = NULL;
    for (size_t i = 0; i < t->n; i++)
      if (strcmp(t->rows[i].name, f[0]) == 0) r = &t->rows[i];
    if (!r)
      cli_die(C, "%s:%d: field name: '%s' is not a row %s computes", path,
              line, f[0], id);
    if (r->has_ref)
      cli_die(C, "%s:%d: field name: '%s' given twice", path, line, f[0]);
    r->has_ref = true;
    r->ref = v;
    size_t sl = strlen(f[2]) + strlen(f[3]) + 3;
    r->source = malloc(sl);
    if (!r->source) cli_fail(C, "out of memory");
    snprintf(r->source, sl, "%s; %s", f[2], f[3]);
  }
  free(buf);
}

/* ---- output --------------------------------------------------------------- */

static void print_table(const repro_table *t, bool csv) {
  if (csv) {
    printf("name,reference,fp8lab,difference\n");
    for (size_t i = 0; i < t->n; i++) {
      const repro_row *r = &t->rows[i];
      if (r->has_ref)
        printf("%s,%.17g,%.17g,%.17g\n", r->name, r->ref, r->value,
               r->value - r->ref);
      else
        printf("%s,,%.17g,\n", r->name, r->value);
    }
    return;
  }
  printf("%-24s  %-16s  %-16s  %s\n", "name", "reference", "fp8lab", "difference");
  for (size_t i = 0; i < t->n; i++) {
    const repro_row *r = &t->rows[i];
    char ref[32] = "", diff[32] = "";
    if (r->has_ref) {
      snprintf(ref, sizeof ref, "%.10g", r->ref);
      snprintf(diff, sizeof diff, "%.10g", r->value - r->ref);
    }
    printf("%-24s  %-16s  %-16.10g  %s\n", r->name, ref, r->value, diff);
  }
}

static void write_results(const char *out, const repro *rp, const repro_table *t,
                          int argc, char **argv) {
  char label[128];
  snprintf(label, sizeof label, "reproduce %s", rp->id);
  fp8lab_results *res = runner_open(C, out, label, argc, argv, 0, 1);
  runner_param_str(C, res, "id", rp->id);
  runner_param_str(C, res, "citation", rp->citation);
  size_t n = t->n;
  const char **names = calloc(n, sizeof *names), **src = calloc(n, sizeof *src);
  double *ref = calloc(n, sizeof *ref), *val = calloc(n, sizeof *val),
         *diff = calloc(n, sizeof *diff);
  if (!names || !src || !ref || !val || !diff) runner_fail(C, res, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const repro_row *r = &t->rows[i];
    names[i] = r->name;
    src[i] = r->source ? r->source : "";
    val[i] = r->value;
    ref[i] = r->has_ref ? r->ref : NAN;
    diff[i] = r->has_ref ? r->value - r->ref : NAN;
  }
  const fp8lab_results_column cols[] = {
      {"name", FP8LAB_RESULTS_STR, names, "1", "the result's name"},
      {"reference", FP8LAB_RESULTS_F64, ref, "1",
       "published value (NaN: none published); the row's own unit (a value, "
       "or a count of terms for .../k)"},
      {"fp8lab", FP8LAB_RESULTS_F64, val, "1", "fp8lab's value, same unit"},
      {"difference", FP8LAB_RESULTS_F64, diff, "1",
       "fp8lab - reference (NaN: no reference)"},
      {"source", FP8LAB_RESULTS_STR, src, "1",
       "source of the reference: paper, table or figure, page"},
  };
  char err[1024];
  if (fp8lab_results_table(res, "reproduce", rp->citation, n, cols,
                           sizeof cols / sizeof cols[0], err, sizeof err) != 0)
    runner_fail(C, res, err);
  runner_close(C, res);
  free(names), free(src), free(ref), free(val), free(diff);
}

int cmd_reproduce(int argc, char **argv) {
  enum { O_LIST = 256, O_CSV, O_OUT };
  static const struct option opts[] = {{"list", no_argument, 0, O_LIST},
                                       {"csv", no_argument, 0, O_CSV},
                                       {"out", required_argument, 0, O_OUT},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  bool list = false, csv = false;
  const char *out = NULL;
  int o;
  optind = 1;
  opterr = 0;
  while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (o) {
    case O_LIST: list = true; break;
    case O_CSV: csv = true; break;
    case O_OUT: out = optarg; break;
    case 'h':
      fputs(help_head, stdout);
      for (size_t i = 0; i < nrepros; i++)
        printf("  %-20s%s\n", repros[i].id,
               repro_ready(&repros[i]) ? "" : " (not yet implemented)");
      printf("\nexample: fp8lab reproduce stagnation --csv\n");
      return 0;
    case ':': cli_die(C, "%s needs a value (see --help)", argv[optind - 1]);
    default: cli_die(C, "unknown option '%s' (see --help)", argv[optind - 1]);
    }
  }
  if (list) {
    if (optind != argc || csv || out)
      cli_die(C, "--list takes no ID and no other option");
    for (size_t i = 0; i < nrepros; i++)
      printf("%-20s %s%s\n", repros[i].id,
             repro_ready(&repros[i]) ? "" : "[not yet implemented] ", repros[i].citation);
    return 0;
  }
  if (argc - optind != 1)
    cli_die(C, "expected one ID (got %d; 'fp8lab reproduce --list' names them)",
            argc - optind);
  const char *id = argv[optind];
  const repro *rp = NULL;
  for (size_t i = 0; i < nrepros; i++)
    if (strcmp(repros[i].id, id) == 0) rp = &repros[i];
  if (!rp)
    cli_die(C, "unknown ID '%s' ('fp8lab reproduce --list' names them)", id);
  if (!repro_ready(rp))
    cli_die(C, "%s: not yet implemented (see 'fp8lab reproduce --list')", id);
  if (out && !out[0]) cli_die(C, "--out: empty file name");
  static repro_table t;
  rp->run(&t);
  load_refs(rp->id, &t);
  if (out) write_results(out, rp, &t, argc, argv);
  print_table(&t, csv);
  for (size_t i = 0; i < t.n; i++) free(t.rows[i].source);
  return 0;
}
