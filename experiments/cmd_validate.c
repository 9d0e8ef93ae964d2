/* fp8lab validate: replay a trace file (fp8lab/trace.h) through the GEMM
 * engine and compare every recorded output with the model's, bit for bit. */
#include <getopt.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fp8lab/gemm.h"
#include "fp8lab/trace.h"

static const char *const help_head =
    "usage: fp8lab validate [--model NAME] [--group G] [--output D] [--threads T]\n"
    "                       [--all-codes] TRACE.h5\n\n"
    "Replay every case of a trace file through fp8lab's GEMM engine and compare\n"
    "each output element with the recorded one, bit for bit. TRACE.h5 is one of\n"
    "the H100 traces in data/ or a file recorded with fp8lab's trace writer\n"
    "(docs/trace-format.md). Instruction traces (A[n][M][K]) are replayed case\n"
    "by case with C as the initial accumulator; a chained trace (K > 32) is the\n"
    "instruction model over all of K. GEMM traces (A[M][K]) are replayed with\n"
    "the scales and the output type their output's name gives.\n\n"
    "One line per group and output: outputs checked, bit-exact, mismatched;\n"
    "then, where some mismatch, a histogram of their ULP distance in the\n"
    "output's format (f32, f16 or bf16 bit patterns compared as ordered\n"
    "integers; NaN against a number, two different NaNs, and +0 against -0\n"
    "are buckets of their own) and the first mismatching element: group, case,\n"
    "i, j, A's row and B's column codes, C, and both outputs as bits and\n"
    "values. Exit status 0 when every output matches, 1 when some do not, 2\n"
    "for bad input (missing or malformed file, unknown model, group, output).\n\n"
    "  --model NAME   check every output with this model, or 'auto' (default):\n"
    "                 an output's own 'model' attribute when it has one, else\n"
    "                   D                 -> cublaslt\n"
    "                   D_fast            -> cublaslt-fast\n"
    "                   D_tensor_<out>, D_rowwise_<out>           -> cublaslt\n"
    "                   D_tensor_fast_<out>, D_rowwise_fast_<out> -> cublaslt-fast\n"
    "                   D_blockwise_<out> -> deepgemm\n"
    "                 and instruction traces by the file's 'instruction'\n"
    "                 attribute: mma.sync -> hopper-mma-sync, wgmma ->\n"
    "                 hopper-wgmma (hopper-wgmma-f16 for f16 outputs).\n"
    "                 Scales and output type always come from the output name.\n"
    "  --group G      only the case groups at or below path G (e.g. e4m3_e4m3,\n"
    "                 e4m3_e4m3/K128)\n"
    "  --output D     only the outputs named D (e.g. D_fast)\n"
    "  --threads T    worker threads, 0 = one per CPU (default 0); results do\n"
    "                 not depend on it\n"
    "  --all-codes    print all K codes of the first mismatch's row and column\n"
    "                 (default: the first 64)\n"
    "  -h, --help     this text\n\n"
    "models:\n";

static const char *const C = "validate";

/* ---- comparing ----------------------------------------------------------- */

enum { NBUCKET = 34 }; /* ULP distances 1, 2, 3..4, ..., 2^32 */

typedef struct tally {
  uint64_t checked, exact;
  uint64_t bucket[NBUCKET];
  uint64_t nan_num, nan_nan, zero_sign;
  bool have_first;
  size_t first; /* flat index [case][i][j] */
} tally;

static int64_t ordered(uint32_t u, int bits) {
  uint32_t sign = 1u << (bits - 1);
  int64_t mag = (int64_t)(u & (sign - 1));
  return (u & sign) ? -mag : mag;
}

static int bucket_of(uint64_t d) {
  if (d <= 1) return 0;
  int b = 64 - __builtin_clzll(d - 1); /* d in (2^(b-1), 2^b] */
  return b < NBUCKET ? b : NBUCKET - 1;
}

static void tally_one(tally *t, const fp8lab_format *f, size_t at,
                      uint32_t want, uint32_t got) {
  t->checked++;
  if (want == got) {
    t->exact++;
    return;
  }
  if (!t->have_first) {
    t->have_first = true;
    t->first = at;
  }
  bool wn = fp8lab_format_is_nan(f, want), gn = fp8lab_format_is_nan(f, got);
  if (wn || gn) {
    if (wn && gn) t->nan_nan++;
    else t->nan_num++;
    return;
  }
  int bits = fp8lab_format_bits(f);
  int64_t d = ordered(want, bits) - ordered(got, bits);
  uint64_t ad = d < 0 ? (uint64_t)(-d) : (uint64_t)d;
  if (ad == 0) t->zero_sign++;
  else t->bucket[bucket_of(ad)]++;
}

static void print_histogram(const tally *t, const char *fmt) {
  printf("  mismatches by ULP distance (%s):", fmt);
  const char *sep = " ";
  for (int b = 0; b < NBUCKET; b++) {
    if (!t->bucket[b]) continue;
    if (b <= 1)
      printf("%s%d: %" PRIu64, sep, b + 1, t->bucket[b]);
    else if (b < 20)
      printf("%s%llu..%llu: %" PRIu64, sep, (1ull << (b - 1)) + 1, 1ull << b,
             t->bucket[b]);
    else
      printf("%s2^%d+1..2^%d: %" PRIu64, sep, b - 1, b, t->bucket[b]);
    sep = ", ";
  }
  if (t->zero_sign) printf("%s+0 vs -0: %" PRIu64, sep, t->zero_sign), sep = ", ";
  if (t->nan_num) printf("%sNaN vs number: %" PRIu64, sep, t->nan_num), sep = ", ";
  if (t->nan_nan) printf("%sNaN vs other NaN: %" PRIu64, sep, t->nan_nan);
  printf("\n");
}

/* "0x3f800000 (1)" */
static void print_value(const char *label, fp8lab_trace_dtype t, uint32_t bits) {
  const fp8lab_format *f = fp8lab_trace_dtype_format(t);
  double v = fp8lab_decode_f64(f, bits);
  printf("    %-8s %s 0x%0*x (%.9g)\n", label, fp8lab_trace_dtype_name(t),
         t == FP8LAB_TRACE_F32 ? 8 : 4, bits, v);
}

static void print_codes(const char *label, const uint8_t *codes, size_t k,
                        ptrdiff_t stride, bool all) {
  size_t shown = all || k <= 64 ? k : 64;
  printf("    %s", label);
  if (shown < k) printf(" (first %zu of %zu; --all-codes prints all)", shown, k);
  printf(":");
  for (size_t q = 0; q < shown; q++) {
    if (q % 32 == 0) printf("\n     ");
    printf(" %02x", codes[(ptrdiff_t)q * stride]);
  }
  printf("\n");
}

/* ---- choosing models ------------------------------------------------------ */

static const fp8lab_model *named_model(const char *name) {
  return fp8lab_model_named(name);
}

/* The model auto picks for output o, or NULL with the reason in why. */
static const fp8lab_model *auto_model(const fp8lab_trace *t,
                                      const fp8lab_trace_group *g,
                                      const fp8lab_trace_output *o,
                                      char *why, size_t len) {
  const char *name = NULL;
  if (o->model) {
    name = o->model;
  } else if (g->instruction) {
    const char *ins = t->instruction;
    if (ins && strstr(ins, "mma.sync"))
      name = "hopper-mma-sync";
    else if (ins && strstr(ins, "wgmma"))
      name = o->type == FP8LAB_TRACE_F16 ? "hopper-wgmma-f16" : "hopper-wgmma";
    else {
      snprintf(why, len, "an instruction trace whose file has no 'instruction' "
               "attribute naming wgmma or mma.sync, and no 'model' attribute "
               "on the output");
      return NULL;
    }
  } else if (o->scales == FP8LAB_SCALE_BLOCKWISE) {
    name = "deepgemm";
  } else if (strcmp(o->name, "D") == 0 || strcmp(o->name, "D_fast") == 0 ||
             o->scales != FP8LAB_SCALE_NONE) {
    name = o->fast ? "cublaslt-fast" : "cublaslt";
  } else {
    snprintf(why, len, "the name %s is not one auto knows (D, D_fast, "
             "D_<mode>[_fast]_<out>) and the output has no 'model' attribute",
             o->name);
    return NULL;
  }
  const fp8lab_model *md = named_model(name);
  if (!md) snprintf(why, len, "model '%s' is not one fp8lab has", name);
  return md;
}

/* ---- replaying ------------------------------------------------------------ */

typedef struct replay {
  const fp8lab_trace_group *g;
  const fp8lab_trace_output *o;
  const fp8lab_model *md;
  const float *c32;     /* C as f32 values, or NULL */
  void *out;            /* [ncases][m][n] of the output's type */
  atomic_int failed;
  char err[256];
} replay;

static void case_args(const replay *r, size_t cs, fp8lab_gemm_args *a,
                      void *d) {
  const fp8lab_trace_group *g = r->g;
  const fp8lab_trace_output *o = r->o;
  memset(a, 0, sizeof *a);
  a->model = r->md;
  a->m = g->m, a->n = g->n, a->k = g->k;
  a->fa = &g->fa, a->fb = &g->fb;
  a->a = g->a + cs * g->m * g->k;
  a->a_rs = (ptrdiff_t)g->k, a->a_cs = 1;
  a->b = g->b + cs * g->n * g->k;
  a->b_rs = 1, a->b_cs = (ptrdiff_t)g->k;
  a->c = r->c32 ? r->c32 + cs * g->m * g->n : NULL;
  a->c_rs = (ptrdiff_t)g->n;
  a->scales.mode = o->scales;
  a->scales.tensor_a = g->tensor_scale_a;
  a->scales.tensor_b = g->tensor_scale_b;
  a->scales.row_a = g->row_scale_a;
  a->scales.col_b = g->col_scale_b;
  a->scales.tile_a = g->tile_scale_a;
  a->scales.block_b = g->block_scale_b;
  a->out_type = o->type == FP8LAB_TRACE_BF16 ? FP8LAB_OUT_BF16 : FP8LAB_OUT_F32;
  a->d = d;
  a->d_rs = (ptrdiff_t)g->n;
  a->threads = 1;
}

/* Cases [c0, c1) of r, one engine call each.  f16 outputs come back from
 * the engine as exactly widened f32 values and are narrowed again here
 * (exact; NaN is canonical either way). */
static void replay_cases(void *ctx, size_t c0, size_t c1) {
  replay *r = ctx;
  const fp8lab_trace_group *g = r->g;
  size_t mn = g->m * g->n;
  bool f16 = r->o->type == FP8LAB_TRACE_F16;
  float *tmp = f16 ? malloc(mn * sizeof *tmp) : NULL;
  if (f16 && !tmp) {
    atomic_store(&r->failed, 1);
    return;
  }
  for (size_t cs = c0; cs < c1 && !atomic_load(&r->failed); cs++) {
    size_t esz = fp8lab_trace_dtype_size(r->o->type);
    void *d = f16 ? (void *)tmp : (unsigned char *)r->out + cs * mn * esz;
    fp8lab_gemm_args a;
    case_args(r, cs, &a, d);
    char err[256];
    if (fp8lab_gemm(&a, err, sizeof err) != 0) {
      if (atomic_exchange(&r->failed, 1) == 0)
        snprintf(r->err, sizeof r->err, "%s", err);
      break;
    }
    if (f16) {
      uint16_t *h = (uint16_t *)r->out + cs * mn;
      for (size_t q = 0; q < mn; q++)
        h[q] = (uint16_t)fp8lab_encode_f32_rne(fp8lab_f16, tmp[q]);
    }
  }
  free(tmp);
}

/* Cases [c0 + 1, c1 + 1): the ones after case 0. */
static void replay_rest(void *ctx, size_t c0, size_t c1) {
  replay_cases(ctx, c0 + 1, c1 + 1);
}

typedef struct options {
  const char *model; /* NULL = auto */
  const char *group;
  const char *output;
  int threads;
  bool all_codes;
} options;

static bool group_selected(const char *path, const char *sel) {
  if (!sel) return true;
  size_t n = strlen(sel);
  if (strcmp(sel, "/") == 0) return true;
  return strncmp(path, sel, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static void print_first(const fp8lab_trace *t, const fp8lab_trace_group *g,
                        const fp8lab_trace_output *o, const replay *r,
                        const tally *ty, bool all_codes) {
  size_t mn = g->m * g->n;
  size_t cs = ty->first / mn, i = ty->first % mn / g->n, j = ty->first % g->n;
  printf("  first mismatch: %s case %zu", g->path, cs);
  if (g->family) {
    unsigned f = g->family[cs];
    if (f < t->nfamilies) printf(" (family %s)", t->families[f]);
    else printf(" (family %u)", f);
  }
  printf(", i = %zu, j = %zu\n", i, j);
  char label[128];
  if (g->instruction)
    snprintf(label, sizeof label, "A[%zu][%zu][:] (%s)", cs, i, g->fa.name);
  else
    snprintf(label, sizeof label, "A[%zu][:] (%s)", i, g->fa.name);
  print_codes(label, g->a + (cs * g->m + i) * g->k, g->k, 1, all_codes);
  if (g->instruction)
    snprintf(label, sizeof label, "B[%zu][%zu][:] (%s), column %zu", cs, j,
             g->fb.name, j);
  else
    snprintf(label, sizeof label, "B[%zu][:] (%s), column %zu", j, g->fb.name, j);
  print_codes(label, g->b + (cs * g->n + j) * g->k, g->k, 1, all_codes);
  if (g->c) print_value("C", g->c_type, fp8lab_trace_bits(g->c_type, g->c, ty->first));
  else printf("    C        none\n");
  switch (o->scales) {
  case FP8LAB_SCALE_TENSOR:
    printf("    scales   tensor_scale_a %.9g, tensor_scale_b %.9g\n",
           g->tensor_scale_a, g->tensor_scale_b);
    break;
  case FP8LAB_SCALE_ROWWISE:
    printf("    scales   row_scale_a[%zu] %.9g, col_scale_b[%zu] %.9g\n", i,
           g->row_scale_a[i], j, g->col_scale_b[j]);
    break;
  case FP8LAB_SCALE_BLOCKWISE: {
    size_t kt = (g->k + 127) / 128;
    printf("    scales   tile_scale_a_1x128[%zu][:]", i);
    for (size_t q = 0; q < kt; q++) printf(" %.9g", g->tile_scale_a[i * kt + q]);
    printf("\n             block_scale_b_128x128[%zu][:]", j / 128);
    for (size_t q = 0; q < kt; q++)
      printf(" %.9g", g->block_scale_b[(j / 128) * kt + q]);
    printf("\n");
    break;
  }
  default: break;
  }
  print_value("trace", o->type, fp8lab_trace_bits(o->type, o->data, ty->first));
  print_value("model", o->type, fp8lab_trace_bits(o->type, r->out, ty->first));
}

/* Check output o of group g; returns the number of mismatches. */
static uint64_t check_output(const fp8lab_trace *t, const fp8lab_trace_group *g,
                             const fp8lab_trace_output *o,
                             const fp8lab_model *md, const float *c32,
                             const options *op, tally *total) {
  if (o->type == FP8LAB_TRACE_F16 &&
      fp8lab_format_bits(fp8lab_model_acc(md)) != 16)
    cli_die(C, "%s: %s/%s holds f16 values, but model %s accumulates in %s "
            "(use an f16-accumulator model, e.g. hopper-wgmma-f16)", t->path,
            g->path, o->name, md->name, fp8lab_model_acc(md)->name);
  size_t total_el = g->ncases * g->m * g->n;
  replay r = {.g = g, .o = o, .md = md, .c32 = c32};
  atomic_init(&r.failed, 0);
  r.out = malloc(total_el * fp8lab_trace_dtype_size(o->type));
  if (!r.out) cli_fail(C, "out of memory");
  if (g->ncases == 1 && o->type != FP8LAB_TRACE_F16) {
    fp8lab_gemm_args a;
    case_args(&r, 0, &a, r.out);
    a.threads = op->threads;
    if (fp8lab_gemm(&a, r.err, sizeof r.err) != 0) atomic_store(&r.failed, 1);
  } else {
    /* Case 0 alone first, so that an argument error shows once; then the
     * others, split over the threads. */
    replay_cases(&r, 0, 1);
    if (!atomic_load(&r.failed) && g->ncases > 1)
      fp8lab_gemm_parallel(g->ncases - 1, op->threads, replay_rest, &r);
  }
  if (atomic_load(&r.failed)) {
    free(r.out);
    cli_die(C, "%s: %s/%s: model %s: %s", t->path, g->path, o->name, md->name,
            r.err[0] ? r.err : "out of memory");
  }
  tally ty = {0};
  const fp8lab_format *f = fp8lab_trace_dtype_format(o->type);
  for (size_t q = 0; q < total_el; q++)
    tally_one(&ty, f, q, fp8lab_trace_bits(o->type, o->data, q),
              fp8lab_trace_bits(o->type, r.out, q));
  uint64_t bad = ty.checked - ty.exact;
  printf("%s %s [%s]: %" PRIu64 " checked, %" PRIu64 " bit-exact, %" PRIu64
         " mismatched\n", g->path, o->name, md->name, ty.checked, ty.exact, bad);
  if (bad) {
    print_histogram(&ty, fp8lab_trace_dtype_name(o->type));
    print_first(t, g, o, &r, &ty, op->all_codes);
  }
  fflush(stdout);
  total->checked += ty.checked;
  total->exact += ty.exact;
  free(r.out);
  return bad;
}

int cmd_validate(int argc, char **argv) {
  enum { O_MODEL = 256, O_GROUP, O_OUTPUT, O_THREADS, O_ALL };
  static const struct option opts[] = {
      {"model", required_argument, 0, O_MODEL},
      {"group", required_argument, 0, O_GROUP},
      {"output", required_argument, 0, O_OUTPUT},
      {"threads", required_argument, 0, O_THREADS},
      {"all-codes", no_argument, 0, O_ALL},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  options op = {0};
  int o;
  optind = 1;
  opterr = 0; /* our own one-line messages */
  while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (o) {
    case O_MODEL: op.model = strcmp(optarg, "auto") == 0 ? NULL : optarg; break;
    case O_GROUP: op.group = optarg; break;
    case O_OUTPUT: op.output = optarg; break;
    case O_THREADS: op.threads = cli_parse_threads(C, optarg); break;
    case O_ALL: op.all_codes = true; break;
    case 'h':
      fputs(help_head, stdout);
      for (size_t i = 0; i < fp8lab_nmodels; i++)
        printf("  %-18s %s%s\n", fp8lab_models[i].name,
               fp8lab_models[i].summary,
               fp8lab_models[i].checked ? "" : " [unchecked]");
      printf("\nexample: fp8lab validate data/wgmma_chain_dev.h5 --group "
             "e4m3_e4m3/K128\n");
      return 0;
    case ':':
      cli_die(C, "%s needs a value (see --help)", argv[optind - 1]);
    default:
      cli_die(C, "unknown option '%s' (see --help)", argv[optind - 1]);
    }
  }
  if (argc - optind != 1)
    cli_die(C, "expected one TRACE.h5 (got %d file arguments; see --help)",
            argc - optind);
  const char *path = argv[optind];

  const fp8lab_model *forced = NULL;
  if (op.model && !(forced = named_model(op.model))) {
    char names[1024] = "";
    size_t len = 0;
    for (size_t i = 0; i < fp8lab_nmodels && len < sizeof names; i++)
      len += (size_t)snprintf(names + len, sizeof names - len, ", %s",
                              fp8lab_models[i].name);
    cli_die(C, "--model: unknown model '%s' (auto%s)", op.model, names);
  }

  /* Errors are ours to report (one line, exit 2); HDF5 prints nothing,
   * not even at exit (fp8lab_trace_hdf5_quiet). */
  fp8lab_trace_hdf5_quiet();
  char err[1024];
  fp8lab_trace t;
  if (fp8lab_trace_open(path, &t, err, sizeof err) != 0) cli_die(C, "%s", err);

  /* Normalise --group: no leading or trailing '/'. */
  char *sel = NULL;
  if (op.group) {
    const char *s = op.group;
    while (*s == '/' && s[1]) s++;
    sel = strdup(s);
    if (!sel) cli_fail(C, "out of memory");
    size_t n = strlen(sel);
    while (n > 1 && sel[n - 1] == '/') sel[--n] = '\0';
    size_t hits = 0;
    for (size_t i = 0; i < t.ngroups; i++) hits += group_selected(t.groups[i], sel);
    if (!hits) {
      char list[512] = "";
      size_t len = 0;
      for (size_t i = 0; i < t.ngroups && i < 8; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                                i ? ", " : "", t.groups[i]);
      cli_die(C, "%s: no group '%s' (the file has %zu: %s%s)", path, op.group,
              t.ngroups, list, t.ngroups > 8 ? ", ..." : "");
    }
  }

  tally total = {0};
  uint64_t mismatched = 0;
  size_t ngroups = 0, noutputs = 0;
  for (size_t gi = 0; gi < t.ngroups; gi++) {
    if (!group_selected(t.groups[gi], sel)) continue;
    fp8lab_trace_group g;
    if (fp8lab_trace_load(&t, gi, &g, err, sizeof err) != 0) cli_die(C, "%s", err);
    ngroups++;
    /* C as f32 values for the engine (f16/bf16 widen exactly). */
    float *c32 = NULL;
    if (g.c && g.c_type != FP8LAB_TRACE_F32) {
      size_t n = g.ncases * g.m * g.n;
      c32 = malloc(n * sizeof *c32);
      if (!c32) cli_fail(C, "out of memory");
      fp8lab_decode_f32_array(fp8lab_trace_dtype_format(g.c_type), g.c, c32, n,
                              FP8LAB_NAN_SIGNED);
    }
    const float *cin = g.c_type == FP8LAB_TRACE_F32 ? (const float *)g.c : c32;
    for (size_t q = 0; q < g.noutputs; q++) {
      const fp8lab_trace_output *out = &g.outputs[q];
      if (op.output && strcmp(op.output, out->name) != 0) continue;
      const fp8lab_model *md = forced;
      char why[256];
      if (!md && !(md = auto_model(&t, &g, out, why, sizeof why)))
        cli_die(C, "%s: %s/%s: cannot choose a model: %s; use --model", path,
                g.path, out->name, why);
      mismatched += check_output(&t, &g, out, md, cin, &op, &total);
      noutputs++;
    }
    free(c32);
    fp8lab_trace_group_free(&g);
  }
  if (op.output && noutputs == 0)
    cli_die(C, "%s: no output named '%s' in the selected groups", path,
            op.output);
  printf("total: %" PRIu64 " checked, %" PRIu64 " bit-exact, %" PRIu64
         " mismatched (%zu output%s in %zu group%s of %s)\n", total.checked,
         total.exact, mismatched, noutputs, noutputs == 1 ? "" : "s", ngroups,
         ngroups == 1 ? "" : "s", path);
  free(sel);
  fp8lab_trace_close(&t);
  return mismatched ? 1 : 0;
}
