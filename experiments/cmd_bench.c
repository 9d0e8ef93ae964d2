/* fp8lab bench convert: conversion throughput, fp8lab against numpy +
 * ml_dtypes on the same inputs (the peer runs experiments/bench_peer.py). */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fp8lab_config.h"

static const char *const help =
    "usage: fp8lab bench convert [--format F ...] [--round R ...] [--n N]\n"
    "                            [--repeat R] [--threads T] [--csv] [--no-peer]\n\n"
    "Time conversions of arrays larger than the caches and print elements per\n"
    "second, best of R runs.  Each row is a (format, rounding) pair; 'rne'\n"
    "gives two rows, saturating (satfinite, canonical NaN: NVIDIA's cvt) and\n"
    "not (Inf or NaN on overflow, NaN sign kept: IEEE software, ml_dtypes);\n"
    "other modes saturate; 'decode' times codes -> f32 (NaN sign kept).\n"
    "The f32 inputs have random signs and fractions and magnitudes in\n"
    "[2^-15, 2^9): subnormal, normal and overflowing e4m3fn values; decode\n"
    "inputs are uniform over all codes.\n"
    "Without --format and --round the rows are e4m3fn and e5m2 with rne,\n"
    "rtz and sr on e4m3fn, and decode of both.\n\n"
    "When python3 can import numpy and ml_dtypes, the same conversions run\n"
    "there too (experiments/bench_peer.py: np.copyto into a preallocated\n"
    "ml_dtypes array, the cast x.astype(ml_dtypes.float8_e4m3fn) uses), on\n"
    "the same values, single-threaded, and the table shows the ratio\n"
    "fp8lab / peer and whether the codes are the same.  ml_dtypes rounds to\n"
    "nearest even and overflows to Inf/NaN: that is the non-saturating row;\n"
    "the saturating row is compared with the same peer time, marked '*'.\n\n"
    "  --format F    format to time (repeatable; default e4m3fn, e5m2)\n"
    "  --round R     rne, rna, rtz, rup, rdn, rto, sr or decode (repeatable;\n"
    "                with --format only: rne and decode)\n"
    "  --n N         elements per array (default 2^26 = 67108864)\n"
    "  --repeat R    runs per row, the best one counts (default 5)\n"
    "  --threads T   threads for fp8lab's encode rows, 0 = one per CPU\n"
    "                (default 1; decode and the peer are single-threaded)\n"
    "  --csv         comma-separated output with a header line\n"
    "  --no-peer     do not run the numpy / ml_dtypes peer\n"
    "  -h, --help    this text\n";

static const char *const C = "bench";

/* ---- inputs: the same values bench_peer.py makes ------------------------- */

static inline uint32_t bench_mix(uint64_t i) {
  uint64_t h = i * 0x9E3779B97F4A7C15ull;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  return (uint32_t)(h >> 32);
}

/* f32 inputs: random sign and fraction, exponent field 112..135
 * (2^-15 .. 2^9): subnormal, normal and overflowing values of the FP8
 * formats all occur. */
static void bench_inputs(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t h = bench_mix(i);
    uint32_t b = (h & 0x807FFFFFu) | (112u + ((h >> 23) & 0xFFu) % 24u) << 23;
    memcpy(&x[i], &b, sizeof b);
  }
}

/* Codes: every code of a `bits`-wide format equally often. */
static void bench_codes(void *codes, size_t size, int bits, size_t n) {
  uint32_t mask = bits >= 32 ? 0xFFFFFFFFu : (1u << bits) - 1;
  for (size_t i = 0; i < n; i++) {
    uint32_t v = bench_mix(i) & mask;
    if (size == 1) ((uint8_t *)codes)[i] = (uint8_t)v;
    else if (size == 2) ((uint16_t *)codes)[i] = (uint16_t)v;
    else ((uint32_t *)codes)[i] = v;
  }
}

/* sum(code[i] * (i % 65521 + 1)) mod 2^64, as bench_peer.py computes it. */
static uint64_t bench_checksum(const void *codes, size_t size, size_t n) {
  uint64_t s = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t v = size == 1   ? ((const uint8_t *)codes)[i]
                 : size == 2 ? ((const uint16_t *)codes)[i]
                             : ((const uint32_t *)codes)[i];
    s += v * (i % 65521 + 1);
  }
  return s;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- rows ------------------------------------------------------------------ */

typedef struct {
  bool decode;
  fp8lab_format f;
  fp8lab_cvt c;
  char peer_row[48];  /* "encode:e4m3fn"; the peer's key */
  bool peer_compare;  /* the peer has this conversion (RNE or decode) */
  bool peer_exact;    /* same semantics as ml_dtypes: codes must match */
  double secs;        /* best fp8lab time */
  uint64_t checksum;
  bool peer_have;
  double peer_secs;
  uint64_t peer_checksum;
} row_t;

typedef struct {
  row_t *v;
  size_t n, cap;
} rows_t;

static row_t *row_add(rows_t *r) {
  if (r->n == r->cap) {
    size_t cap = r->cap ? 2 * r->cap : 16;
    row_t *v = realloc(r->v, cap * sizeof *v);
    if (!v) cli_fail(C, "out of memory");
    r->v = v;
    r->cap = cap;
  }
  row_t *row = &r->v[r->n++];
  memset(row, 0, sizeof *row);
  return row;
}

static void add_encode(rows_t *r, const fp8lab_format *f, fp8lab_round mode,
                       bool sat) {
  row_t *row = row_add(r);
  row->f = *f;
  row->c = (fp8lab_cvt){.round = mode, .saturate = sat,
                        .nan = sat ? FP8LAB_NAN_CANONICAL : FP8LAB_NAN_SIGNED,
                        .seed = 1};
  snprintf(row->peer_row, sizeof row->peer_row, "encode:%s", f->name);
  row->peer_compare = mode == FP8LAB_RNE;
  row->peer_exact = mode == FP8LAB_RNE && !sat;
}

static void add_decode(rows_t *r, const fp8lab_format *f) {
  row_t *row = row_add(r);
  row->decode = true;
  row->f = *f;
  row->c = (fp8lab_cvt){.nan = FP8LAB_NAN_SIGNED};
  snprintf(row->peer_row, sizeof row->peer_row, "decode:%s:%d", f->name,
           fp8lab_format_bits(f));
  row->peer_compare = true;
  row->peer_exact = true;
}

/* A round name or "decode" -> the rows of one format. */
static void add_rows(rows_t *r, const fp8lab_format *f, const char *round) {
  if (strcmp(round, "decode") == 0) {
    add_decode(r, f);
    return;
  }
  fp8lab_round mode;
  if (fp8lab_round_parse(round, &mode) != 0)
    cli_die(C, "--round: unknown '%s' (rne, rna, rtz, rup, rdn, rto, sr, "
            "decode)", round);
  if (mode == FP8LAB_RNE) add_encode(r, f, mode, true);
  add_encode(r, f, mode, mode != FP8LAB_RNE);
}

/* ---- timing fp8lab ----------------------------------------------------------- */

static void time_row(row_t *row, const float *x, void *codes_in, void *out,
                     size_t n, int repeat, int threads) {
  size_t sz = fp8lab_code_size(&row->f);
  double best = 1e300;
  if (row->decode) {
    bench_codes(codes_in, sz, fp8lab_format_bits(&row->f), n);
    memset(out, 0, n * sizeof(float));
    for (int k = 0; k < repeat; k++) {
      double t0 = now_s();
      fp8lab_decode_f32_array(&row->f, codes_in, out, n, row->c.nan);
      double t = now_s() - t0;
      if (t < best) best = t;
    }
    row->checksum = bench_checksum(out, sizeof(float), n);
  } else {
    memset(out, 0, n * sz);
    for (int k = 0; k < repeat; k++) {
      double t0 = now_s();
      fp8lab_encode_f32_array_mt(&row->f, x, out, n, &row->c, 0, threads);
      double t = now_s() - t0;
      if (t < best) best = t;
    }
    row->checksum = bench_checksum(out, sz, n);
  }
  row->secs = best;
}

/* ---- the peer ------------------------------------------------------------------ */

typedef struct {
  bool ran;
  char versions[128]; /* "numpy 2.4.6, ml_dtypes 0.6.0" */
  char why[512];      /* why there is no peer */
} peer_t;

/* Single-quote s for /bin/sh into buf. */
static void shell_quote(char *buf, size_t len, const char *s) {
  size_t o = 0;
  if (o < len) buf[o++] = '\'';
  for (; *s && o + 5 < len; s++) {
    if (*s == '\'') {
      memcpy(buf + o, "'\\''", 4);
      o += 4;
    } else {
      buf[o++] = *s;
    }
  }
  if (o + 1 < len) buf[o++] = '\'';
  buf[o < len ? o : len - 1] = 0;
}

static void run_peer(rows_t *r, size_t n, int repeat, peer_t *p) {
  char script[4096], q[4200];
  snprintf(script, sizeof script, "%s/experiments/bench_peer.py",
           FP8LAB_SOURCE_DIR);
  if (access(script, R_OK) != 0) {
    snprintf(p->why, sizeof p->why, "%.400s not found", script);
    return;
  }
  shell_quote(q, sizeof q, script);
  size_t cap = 8192 + r->n * 64;
  char *cmd = malloc(cap);
  if (!cmd) cli_fail(C, "out of memory");
  size_t o = (size_t)snprintf(cmd, cap, "python3 %s --n %zu --repeat %d", q, n,
                              repeat);
  for (size_t i = 0; i < r->n; i++) {
    bool dup = false; /* the sat and non-sat rows share one peer row */
    for (size_t j = 0; j < i; j++)
      dup |= r->v[j].peer_compare &&
             strcmp(r->v[i].peer_row, r->v[j].peer_row) == 0;
    if (r->v[i].peer_compare && !dup)
      o += (size_t)snprintf(cmd + o, cap - o, " %s", r->v[i].peer_row);
  }
  snprintf(cmd + o, cap - o, " 2>&1");
  FILE *fp = popen(cmd, "r");
  free(cmd);
  if (!fp) {
    snprintf(p->why, sizeof p->why, "cannot run python3: %s", strerror(errno));
    return;
  }
  char line[1024], first_other[256] = "";
  while (fgets(line, sizeof line, fp)) {
    line[strcspn(line, "\n")] = 0;
    char key[64], a[64], b[64];
    if (strncmp(line, "peer ", 5) == 0) {
      char np[48] = "?", ml[48] = "?";
      sscanf(line, "peer numpy=%47s ml_dtypes=%47s", np, ml);
      snprintf(p->versions, sizeof p->versions, "numpy %s, ml_dtypes %s", np, ml);
    } else if (strncmp(line, "missing: ", 9) == 0) {
      snprintf(p->why, sizeof p->why,
               "python3 cannot import numpy and ml_dtypes (%.400s)", line + 9);
    } else if (sscanf(line, "row %63s %63s %63s", key, a, b) >= 2) {
      for (size_t i = 0; i < r->n; i++) {
        row_t *row = &r->v[i];
        if (!row->peer_compare || strcmp(row->peer_row, key) != 0 ||
            strcmp(a, "none") == 0)
          continue;
        row->peer_have = true;
        row->peer_secs = strtod(a, NULL);
        row->peer_checksum = strtoull(b, NULL, 10);
      }
    } else if (!first_other[0]) {
      snprintf(first_other, sizeof first_other, "%.255s", line);
    }
  }
  int st = pclose(fp);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
    p->ran = true;
  } else if (!p->why[0]) {
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
      snprintf(p->why, sizeof p->why, "python3 not found");
    else
      snprintf(p->why, sizeof p->why, "%.200s failed%s%.255s", script,
               first_other[0] ? ": " : "", first_other);
  }
}

/* ---- output ---------------------------------------------------------------- */

static const char *round_col(const row_t *row) {
  return row->decode ? "-" : fp8lab_round_name(row->c.round);
}
static const char *overflow_col(const row_t *row) {
  return row->decode ? "-" : row->c.saturate ? "satfinite" : "inf/nan";
}
static const char *nan_col(const row_t *row) {
  return row->c.nan == FP8LAB_NAN_SIGNED ? "signed" : "canonical";
}
static const char *codes_col(const row_t *row) {
  if (!row->peer_have || !row->peer_exact) return "-";
  return row->checksum == row->peer_checksum ? "same" : "DIFFER";
}

static void print_csv(const rows_t *r, size_t n, int repeat, int threads) {
  printf("op,format,round,overflow,nan,n,repeat,threads,fp8lab_elems_per_s,"
         "peer_elems_per_s,ratio,peer_same_semantics,codes\n");
  for (size_t i = 0; i < r->n; i++) {
    const row_t *row = &r->v[i];
    double mine = (double)n / row->secs;
    printf("%s,%s,%s,%s,%s,%zu,%d,%d,%.6e,", row->decode ? "decode" : "encode",
           row->f.name, round_col(row), overflow_col(row), nan_col(row), n,
           repeat, row->decode ? 1 : threads, mine);
    if (row->peer_have)
      printf("%.6e,%.4f,%s,%s\n", (double)n / row->peer_secs,
             row->peer_secs / row->secs, row->peer_exact ? "yes" : "no",
             codes_col(row));
    else
      printf(",,,\n");
  }
}

static void print_table(const rows_t *r, size_t n, int repeat, int threads,
                        const peer_t *p, bool no_peer) {
  printf("fp8lab bench convert: %zu elements per array (f32: %.4g MiB), best "
         "of %d, %d thread%s\n",
         n, (double)n * 4 / 1048576.0, repeat, threads,
         threads == 1 ? "" : "s (encode; decode has one)");
  if (no_peer)
    printf("peer: not run (--no-peer)\n");
  else if (p->ran)
    printf("peer: %s (python3, one thread)\n", p->versions[0] ? p->versions : "?");
  else
    printf("peer: not available: %s; fp8lab's numbers only\n", p->why);
  printf("\n%-6s  %-12s  %-5s  %-9s  %-9s  %13s  %13s  %8s  %s\n", "op",
         "format", "round", "overflow", "NaN", "fp8lab M/s", "ml_dtypes M/s",
         "ratio", "codes");
  bool starred = false;
  for (size_t i = 0; i < r->n; i++) {
    const row_t *row = &r->v[i];
    char peer[32] = "-", ratio[32] = "-";
    if (row->peer_have) {
      snprintf(peer, sizeof peer, "%.1f", (double)n / row->peer_secs / 1e6);
      snprintf(ratio, sizeof ratio, "%.2f%s", row->peer_secs / row->secs,
               row->peer_exact ? " " : "*");
      starred |= !row->peer_exact;
    }
    printf("%-6s  %-12s  %-5s  %-9s  %-9s  %13.1f  %13s  %8s  %s\n",
           row->decode ? "decode" : "encode", row->f.name, round_col(row),
           overflow_col(row), nan_col(row), (double)n / row->secs / 1e6, peer,
           ratio, codes_col(row));
  }
  printf("\nM/s: 10^6 elements per second.  ratio: fp8lab / ml_dtypes speed.\n"
         "codes: whether fp8lab and ml_dtypes wrote the same codes (rows with the\n"
         "same semantics).\n");
  if (starred)
    printf("*  ml_dtypes has no saturating cast: compared with its overflowing one.\n");
}

/* ---- the command ---------------------------------------------------------------- */

static int bench_convert(int argc, char **argv) {
  enum { O_FORMAT = 256, O_ROUND, O_N, O_REPEAT, O_THREADS, O_CSV, O_NOPEER };
  static const struct option opts[] = {
      {"format", required_argument, 0, O_FORMAT},
      {"round", required_argument, 0, O_ROUND},
      {"n", required_argument, 0, O_N},
      {"repeat", required_argument, 0, O_REPEAT},
      {"threads", required_argument, 0, O_THREADS},
      {"csv", no_argument, 0, O_CSV},
      {"no-peer", no_argument, 0, O_NOPEER},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char **formats = calloc((size_t)argc + 1, sizeof *formats);
  const char **rounds = calloc((size_t)argc + 1, sizeof *rounds);
  if (!formats || !rounds) cli_fail(C, "out of memory");
  size_t nformats = 0, nrounds = 0;
  size_t n = (size_t)1 << 26;
  int repeat = 5, threads = 1;
  bool csv = false, no_peer = false;
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (o) {
    case O_FORMAT: formats[nformats++] = optarg; break;
    case O_ROUND: rounds[nrounds++] = optarg; break;
    case O_N: n = (size_t)cli_parse_int(C, "--n", optarg, 1, (long long)1 << 32); break;
    case O_REPEAT: repeat = (int)cli_parse_int(C, "--repeat", optarg, 1, 1000); break;
    case O_THREADS: threads = cli_parse_threads(C, optarg); break;
    case O_CSV: csv = true; break;
    case O_NOPEER: no_peer = true; break;
    case 'h': fputs(help, stdout); return 0;
    default: fputs(help, stderr); return 2;
    }
  }
  if (optind != argc)
    cli_die(C, "convert: unexpected argument '%s' (see --help)", argv[optind]);
  if (threads == 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    threads = cpus > 0 ? (int)(cpus > 256 ? 256 : cpus) : 1;
  }

  rows_t rows = {0};
  if (nformats == 0 && nrounds == 0) {
    const fp8lab_format *fp8[] = {fp8lab_e4m3fn, fp8lab_e5m2};
    for (size_t i = 0; i < sizeof fp8 / sizeof fp8[0]; i++)
      add_rows(&rows, fp8[i], "rne");
    add_rows(&rows, fp8lab_e4m3fn, "rtz");
    add_rows(&rows, fp8lab_e4m3fn, "sr");
    for (size_t i = 0; i < sizeof fp8 / sizeof fp8[0]; i++)
      add_rows(&rows, fp8[i], "decode");
  } else {
    static const char *const default_formats[] = {"e4m3fn", "e5m2"};
    static const char *const default_rounds[] = {"rne", "decode"};
    if (nformats == 0)
      for (size_t i = 0; i < sizeof default_formats / sizeof default_formats[0]; i++)
        formats[nformats++] = default_formats[i];
    if (nrounds == 0)
      for (size_t i = 0; i < sizeof default_rounds / sizeof default_rounds[0]; i++)
        rounds[nrounds++] = default_rounds[i];
    for (size_t i = 0; i < nformats; i++) {
      fp8lab_format f;
      cli_parse_format(C, "--format", formats[i], &f);
      for (size_t j = 0; j < nrounds; j++) add_rows(&rows, &f, rounds[j]);
    }
  }
  free(formats);
  free(rounds);

  /* Buffers: the f32 inputs, codes for decode rows, the widest output. */
  size_t max_code = 1;
  for (size_t i = 0; i < rows.n; i++) {
    size_t sz = fp8lab_code_size(&rows.v[i].f);
    if (sz > max_code) max_code = sz;
  }
  float *x = malloc(n * sizeof *x);
  void *codes = malloc(n * max_code);
  void *out = malloc(n * (max_code > sizeof(float) ? max_code : sizeof(float)));
  if (!x || !codes || !out)
    cli_fail(C, "out of memory for %zu elements (try a smaller --n)", n);
  bench_inputs(x, n);

  bool tty = cli_stderr_is_tty();
  for (size_t i = 0; i < rows.n; i++) {
    if (tty)
      fprintf(stderr, "\r[%zu/%zu] %s %s ...   ", i + 1, rows.n,
              rows.v[i].decode ? "decode" : "encode", rows.v[i].f.name);
    time_row(&rows.v[i], x, codes, out, n, repeat, threads);
  }
  free(x);
  free(codes);
  free(out);

  peer_t peer = {0};
  if (!no_peer) {
    if (tty) fprintf(stderr, "\r[peer] numpy + ml_dtypes ...            ");
    run_peer(&rows, n, repeat, &peer);
  }
  if (tty) fprintf(stderr, "\r%40s\r", "");

  if (csv) print_csv(&rows, n, repeat, threads);
  else print_table(&rows, n, repeat, threads, &peer, no_peer);
  if (csv && !no_peer && !peer.ran)
    fprintf(stderr, "fp8lab bench: peer not available: %s\n", peer.why);
  free(rows.v);
  return 0;
}

int cmd_bench(int argc, char **argv) {
  static const char *const usage =
      "usage: fp8lab bench convert [options]   (fp8lab bench convert --help)\n"
      "       fp8lab bench gemm [options]      (fp8lab bench gemm --help)\n";
  if (argc < 2) {
    fputs(usage, stderr);
    return 2;
  }
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    fputs(usage, stdout);
    fputs("\nbenchmarks:\n"
          "  convert  f32 <-> 8-bit conversions against numpy + ml_dtypes\n"
          "  gemm     the emulated FP8 GEMM against OpenBLAS sgemm\n", stdout);
    return 0;
  }
  if (strcmp(argv[1], "convert") == 0) return bench_convert(argc - 1, argv + 1);
  if (strcmp(argv[1], "gemm") == 0) return bench_gemm(argc - 1, argv + 1);
  cli_die(C, "unknown benchmark '%s' (convert, gemm)", argv[1]);
}
