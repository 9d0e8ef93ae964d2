/* fp8lab bench gemm: the emulated FP8 GEMM (fp8lab_gemm) against OpenBLAS
 * sgemm on the same shape, the same values and the same thread count.
 *
 *   fp8lab bench gemm --model NAME -m M -n N -k K [--threads T]
 *                     [--repeat R] [--seed S] [--csv]
 *
 * Declared for experiments/cli.h as
 *   int bench_gemm(int argc, char **argv);   (argv[0] = "gemm")
 */
#include <cblas.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fp8lab/gemm.h"

static const char *const C = "bench gemm";

static const char *const help =
    "usage: fp8lab bench gemm [--model NAME] [-m M] [-n N] [-k K] [--threads T]\n"
    "                         [--repeat R] [--seed S] [--fa F] [--fb F]\n"
    "                         [--kernel auto|portable|avx2] [--csv]\n"
    "\n"
    "Times the emulated FP8 GEMM D = A B (A: M x K, B given as N x K, the\n"
    "cuBLASLt 'TN' layout of the traces) under a hardware model, and OpenBLAS\n"
    "cblas_sgemm on the same shape with the same values (the FP8 codes\n"
    "decoded to f32) and the same number of threads.  Inputs are Gaussian\n"
    "values rounded to the operand formats (RNE, saturating), drawn from a\n"
    "seeded generator: the same --seed gives the same codes.  Each engine\n"
    "runs once to warm up, then --repeat times; the best time counts.\n"
    "\n"
    "options:\n"
    "  --model NAME   fp8lab model (default hopper-wgmma); models without a\n"
    "                 specialised kernel run the plain reference (slow)\n"
    "  -m, -n, -k     the shape (default 1024 each)\n"
    "  --threads T    threads for both engines (default 1; 0 = one per CPU)\n"
    "  --repeat R     timed runs per engine (default 3)\n"
    "  --seed S       input seed (default 1)\n"
    "  --fa, --fb F   operand formats (default e4m3fn)\n"
    "  --kernel V     specialised-kernel variant (default auto)\n"
    "  --csv          one CSV row per engine instead of the table\n"
    "\n"
    "Output: seconds (best), products/s = M*N*K / seconds, the time ratio\n"
    "fp8lab / sgemm, and the relative Frobenius difference of the two\n"
    "results (the model's accumulation error, roughly).\n";

/* splitmix64 and Box-Muller: the inputs, reproducible from the seed. */
static uint64_t next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double gauss(uint64_t *s) {
  double u = ((double)(next(s) >> 11) + 1) * 0x1p-53;
  double v = (double)(next(s) >> 11) * 0x1p-53;
  return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static void fill(uint8_t *codes, float *values, size_t n,
                 const fp8lab_format *f, uint64_t *s) {
  for (size_t i = 0; i < n; i++) {
    codes[i] = (uint8_t)fp8lab_encode_f64_rne_sat(f, gauss(s));
    values[i] = (float)fp8lab_decode_f64(f, codes[i]);
  }
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int bench_gemm(int argc, char **argv) {
  enum { O_MODEL = 256, O_THREADS, O_REPEAT, O_SEED, O_CSV, O_FA, O_FB, O_KERNEL };
  static const struct option opts[] = {
      {"model", required_argument, 0, O_MODEL},
      {"threads", required_argument, 0, O_THREADS},
      {"repeat", required_argument, 0, O_REPEAT},
      {"seed", required_argument, 0, O_SEED},
      {"fa", required_argument, 0, O_FA},
      {"fb", required_argument, 0, O_FB},
      {"kernel", required_argument, 0, O_KERNEL},
      {"csv", no_argument, 0, O_CSV},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char *model_name = "hopper-wgmma";
  size_t m = 1024, n = 1024, k = 1024;
  int threads = 1, repeat = 3;
  unsigned long long seed = 1;
  bool csv = false;
  fp8lab_format fa = *fp8lab_e4m3fn, fb = *fp8lab_e4m3fn;
  fp8lab_gemm_kernel kernel = FP8LAB_KERNEL_AUTO;
  const long long maxdim = 1 << 20;
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "hm:n:k:", opts, NULL)) != -1) {
    switch (o) {
    case O_MODEL: model_name = optarg; break;
    case 'm': m = (size_t)cli_parse_int(C, "-m", optarg, 1, maxdim); break;
    case 'n': n = (size_t)cli_parse_int(C, "-n", optarg, 1, maxdim); break;
    case 'k': k = (size_t)cli_parse_int(C, "-k", optarg, 1, maxdim); break;
    case O_THREADS: threads = cli_parse_threads(C, optarg); break;
    case O_REPEAT: repeat = (int)cli_parse_int(C, "--repeat", optarg, 1, 1000); break;
    case O_SEED: seed = cli_parse_u64(C, "--seed", optarg); break;
    case O_FA: cli_parse_format(C, "--fa", optarg, &fa); break;
    case O_FB: cli_parse_format(C, "--fb", optarg, &fb); break;
    case O_KERNEL:
      if (strcmp(optarg, "auto") == 0) kernel = FP8LAB_KERNEL_AUTO;
      else if (strcmp(optarg, "portable") == 0) kernel = FP8LAB_KERNEL_PORTABLE;
      else if (strcmp(optarg, "avx2") == 0) kernel = FP8LAB_KERNEL_AVX2;
      else cli_die(C, "--kernel: '%s' is not auto, portable or avx2", optarg);
      break;
    case O_CSV: csv = true; break;
    case 'h': fputs(help, stdout); return 0;
    default: fputs(help, stderr); return 2;
    }
  }
  if (optind != argc) cli_die(C, "unexpected argument '%s' (see --help)", argv[optind]);
  const fp8lab_model *md = fp8lab_model_named(model_name);
  if (!md) {
    fprintf(stderr, "fp8lab %s: unknown model '%s'; models:", C, model_name);
    for (size_t i = 0; i < fp8lab_nmodels; i++) fprintf(stderr, " %s", fp8lab_models[i].name);
    fputc('\n', stderr);
    return 2;
  }
  if (fp8lab_format_bits(&fa) > 8 || fp8lab_format_bits(&fb) > 8)
    cli_die(C, "operand formats must have <= 8 bits");
  if (threads == 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    threads = cpus > 0 ? (int)(cpus > 256 ? 256 : cpus) : 1;
  }
  if (!fp8lab_gemm_kernel_available(kernel))
    cli_die(C, "--kernel %s: not available on this CPU", fp8lab_gemm_kernel_name(kernel));

  uint8_t *a = malloc(m * k), *b = malloc(n * k);
  float *af = malloc(m * k * sizeof *af), *bf = malloc(n * k * sizeof *bf);
  float *d = malloc(m * n * sizeof *d), *ds = malloc(m * n * sizeof *ds);
  if (!a || !b || !af || !bf || !d || !ds) cli_fail(C, "out of memory");
  uint64_t s = seed;
  fill(a, af, m * k, &fa, &s);
  fill(b, bf, n * k, &fb, &s);

  fp8lab_gemm_args g = {.model = md, .m = m, .n = n, .k = k, .fa = &fa, .fb = &fb,
                        .a = a, .a_rs = (ptrdiff_t)k, .a_cs = 1,
                        .b = b, .b_rs = 1, .b_cs = (ptrdiff_t)k,
                        .out_type = FP8LAB_OUT_F32, .d = d, .d_rs = (ptrdiff_t)n,
                        .threads = threads};
  bool fast = fp8lab_gemm_fast_supports(&g);
  char err[256];
  const char *engine = fast ? fp8lab_gemm_kernel_name(kernel) : "reference";
  if (fast && kernel == FP8LAB_KERNEL_AUTO)
    engine = fp8lab_gemm_kernel_available(FP8LAB_KERNEL_AVX2) ? "auto (avx2)" : "auto (portable)";

  double best = INFINITY, best_blas = INFINITY;
  for (int r = 0; r <= repeat; r++) { /* run 0 warms up */
    double t0 = now();
    int rc = fast ? fp8lab_gemm_fast_ex(&g, kernel, err, sizeof err)
                  : fp8lab_gemm(&g, err, sizeof err);
    double t = now() - t0;
    if (rc != 0) cli_die(C, "%s", err);
    if (r > 0 && t < best) best = t;
  }
  openblas_set_num_threads(threads);
  for (int r = 0; r <= repeat; r++) {
    double t0 = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f,
                af, (int)k, bf, (int)k, 0.0f, ds, (int)n);
    double t = now() - t0;
    if (r > 0 && t < best_blas) best_blas = t;
  }
  double num = 0, den = 0;
  for (size_t i = 0; i < m * n; i++) {
    double e = (double)d[i] - (double)ds[i];
    num += e * e, den += (double)ds[i] * ds[i];
  }
  double rel = den > 0 ? sqrt(num / den) : 0;
  double products = (double)m * (double)n * (double)k;

  if (csv) {
    printf("model,fa,fb,m,n,k,threads,engine,seconds,products_per_s,ratio_to_sgemm,rel_diff\n");
    printf("%s,%s,%s,%zu,%zu,%zu,%d,fp8lab %s,%.6g,%.6g,%.4g,%.3g\n", md->name, fa.name,
           fb.name, m, n, k, threads, engine, best, products / best, best / best_blas, rel);
    printf("%s,%s,%s,%zu,%zu,%zu,%d,openblas sgemm,%.6g,%.6g,1,0\n", md->name, fa.name,
           fb.name, m, n, k, threads, best_blas, products / best_blas);
  } else {
    printf("fp8lab bench gemm: %s, %s x %s, M=%zu N=%zu K=%zu, %d thread%s, best of %d\n",
           md->name, fa.name, fb.name, m, n, k, threads, threads == 1 ? "" : "s", repeat);
    printf("  %-28s %12s %16s %10s\n", "engine", "seconds", "products/s", "time ratio");
    printf("  %-28s %12.6f %16.4g %10.2f\n", engine, best, products / best,
           best / best_blas);
    printf("  %-28s %12.6f %16.4g %10.2f\n", "openblas cblas_sgemm", best_blas,
           products / best_blas, 1.0);
    printf("  relative Frobenius difference fp8lab vs sgemm: %.3g\n", rel);
  }
  free(a), free(b), free(af), free(bf), free(d), free(ds);
  return 0;
}
