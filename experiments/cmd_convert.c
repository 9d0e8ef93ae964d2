/* fp8lab convert: raw little-endian arrays in, codes (or values) out. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char *const help =
    "usage: fp8lab convert --to FMT [--from TYPE] [options] IN OUT\n"
    "       fp8lab convert --decode --from FMT [--to f32|f64] IN OUT\n\n"
    "Convert a raw little-endian binary array element by element. IN and OUT\n"
    "are file names or '-' for stdin / stdout. Codes of formats of 8 bits or\n"
    "fewer take one byte each (in the low bits), of 9..16 bits two bytes,\n"
    "wider ones four. An output file is written under a temporary name and\n"
    "renamed when complete: a failed run leaves no partial OUT.\n\n"
    "  --to FMT         target format: any name 'fp8lab formats' lists, or\n"
    "                   e<X>m<Y>[b<N>][fn|fnuz|fnone]; 'f64' only with --decode\n"
    "  --from TYPE      input type: f64, f32 (default), f16, bf16, or codes of\n"
    "                   any format (converted exactly, then rounded)\n"
    "  --round MODE     rne (default), rna, rtz, rup, rdn, rto, sr\n"
    "  --saturate       overflow and +-Inf go to +-max finite (default; the\n"
    "                   'satfinite' of NVIDIA's cvt and of FP8 training recipes)\n"
    "  --no-saturate    the format's own overflow: Inf where it has one, else\n"
    "                   NaN (IEEE 754 rules: toward-zero modes give +-max)\n"
    "  --nan POLICY     canonical (default): every NaN is the positive all-ones\n"
    "                   code, as NVIDIA hardware writes it; signed: quiet NaN\n"
    "                   with the input's sign, as IEEE software (ml_dtypes)\n"
    "  --sr-bits N      stochastic rounding with N random bits (1..32);\n"
    "                   0 (default) = exact probabilities\n"
    "  --seed S         Philox key for stochastic rounding (default 0)\n"
    "  --stream S       Philox stream, e.g. a tensor id (default 0)\n"
    "  --decode         codes of --from (or of --to when --from is not given)\n"
    "                   to f32 values, or f64 with --to f64\n"
    "  --threads N      worker threads, 0 = one per CPU (default 0); results\n"
    "                   do not depend on it, stochastic rounding included\n"
    "  -h, --help       this text\n\n"
    "example: fp8lab convert --to e4m3fn --round sr --seed 7 x.f32 x.e4m3\n";

#define CHUNK ((size_t)1 << 20)

static bool same_format(const fp8lab_format *a, const fp8lab_format *b) {
  return a->ebits == b->ebits && a->mbits == b->mbits && a->bias == b->bias &&
         a->has_sign == b->has_sign && a->special == b->special;
}

int cmd_convert(int argc, char **argv) {
  enum { O_SAT = 256, O_NOSAT, O_NAN, O_SRBITS, O_SEED, O_STREAM, O_DECODE,
         O_THREADS, O_FROM, O_TO, O_ROUND };
  static const struct option opts[] = {
      {"to", required_argument, 0, O_TO},
      {"from", required_argument, 0, O_FROM},
      {"round", required_argument, 0, O_ROUND},
      {"saturate", no_argument, 0, O_SAT},
      {"no-saturate", no_argument, 0, O_NOSAT},
      {"nan", required_argument, 0, O_NAN},
      {"sr-bits", required_argument, 0, O_SRBITS},
      {"seed", required_argument, 0, O_SEED},
      {"stream", required_argument, 0, O_STREAM},
      {"decode", no_argument, 0, O_DECODE},
      {"threads", required_argument, 0, O_THREADS},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char *C = "convert";
  const char *to_name = NULL, *from_name = NULL;
  bool decode = false;
  int threads = 0;
  fp8lab_cvt cvt = {.round = FP8LAB_RNE, .saturate = true,
                    .nan = FP8LAB_NAN_CANONICAL};
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (o) {
    case O_TO: to_name = optarg; break;
    case O_FROM: from_name = optarg; break;
    case O_ROUND: cvt.round = cli_parse_round(C, optarg); break;
    case O_SAT: cvt.saturate = true; break;
    case O_NOSAT: cvt.saturate = false; break;
    case O_NAN:
      if (strcmp(optarg, "canonical") == 0) cvt.nan = FP8LAB_NAN_CANONICAL;
      else if (strcmp(optarg, "signed") == 0) cvt.nan = FP8LAB_NAN_SIGNED;
      else cli_die(C, "--nan: unknown policy '%s' (canonical, signed)", optarg);
      break;
    case O_SRBITS: cvt.sr_bits = (int)cli_parse_int(C, "--sr-bits", optarg, 0, 32); break;
    case O_SEED: cvt.seed = cli_parse_u64(C, "--seed", optarg); break;
    case O_STREAM: cvt.stream = cli_parse_u64(C, "--stream", optarg); break;
    case O_DECODE: decode = true; break;
    case O_THREADS: threads = cli_parse_threads(C, optarg); break;
    case 'h': fputs(help, stdout); return 0;
    default: fputs(help, stderr); return 2;
    }
  }
  if (argc - optind != 2)
    cli_die(C, "expected IN and OUT (got %d file argument%s; see --help)",
            argc - optind, argc - optind == 1 ? "" : "s");
  const char *in_path = argv[optind], *out_path = argv[optind + 1];

  /* Resolve the element types. */
  bool in_f64 = false, out_f64 = false;
  fp8lab_format from, to;
  if (decode) {
    const char *code_name = from_name ? from_name : to_name;
    if (!code_name) cli_die(C, "--decode needs --from FMT (the codes' format)");
    cli_parse_format(C, from_name ? "--from" : "--to", code_name, &from);
    const char *wide = from_name ? (to_name ? to_name : "f32") : "f32";
    if (strcmp(wide, "f64") == 0) out_f64 = true;
    else if (strcmp(wide, "f32") == 0) to = *fp8lab_f32;
    else cli_die(C, "--to: --decode writes f32 or f64, not '%s'", wide);
    cvt.round = FP8LAB_RNE; /* decoding is exact */
  } else {
    if (!to_name) cli_die(C, "--to FMT is required (see --help)");
    if (strcmp(to_name, "f64") == 0)
      cli_die(C, "--to f64: use --decode to widen codes to f64");
    cli_parse_format(C, "--to", to_name, &to);
    if (!from_name || strcmp(from_name, "f64") != 0)
      cli_parse_format(C, "--from", from_name ? from_name : "f32", &from);
    else
      in_f64 = true;
  }
  size_t isz = in_f64 ? 8 : fp8lab_code_size(&from);
  size_t osz = out_f64 ? 8 : fp8lab_code_size(&to);

  /* Open the input; a regular file's length is checked before any output. */
  FILE *in = strcmp(in_path, "-") == 0 ? stdin : fopen(in_path, "rb");
  if (!in) cli_die(C, "%s: cannot open: %s", in_path, strerror(errno));
  struct stat st;
  if (in != stdin && fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode) &&
      st.st_size % (off_t)isz != 0)
    cli_die(C, "%s: length %lld bytes is not a multiple of %zu (the size of "
            "one %s element)", in_path, (long long)st.st_size, isz,
            in_f64 ? "f64" : from.name);

  cli_out out;
  if (cli_out_open(&out, out_path) != 0)
    cli_fail(C, "%s: cannot create: %s", out_path, strerror(errno));

  unsigned char *ibuf = malloc(CHUNK * isz);
  unsigned char *obuf = malloc(CHUNK * osz);
  if (!ibuf || !obuf) {
    cli_out_abort(&out);
    cli_fail(C, "out of memory");
  }
  const bool f32_source = !in_f64 && same_format(&from, fp8lab_f32);
  uint64_t index = 0;
  size_t have = 0; /* bytes carried over from a short read */
  for (;;) {
    size_t got = fread(ibuf + have, 1, CHUNK * isz - have, in);
    if (ferror(in)) {
      cli_out_abort(&out);
      cli_fail(C, "%s: read error: %s", in_path, strerror(errno));
    }
    have += got;
    size_t n = have / isz;
    if (got == 0 && have % isz) {
      cli_out_abort(&out);
      cli_die(C, "%s: input ends inside an element (%zu stray byte%s; the "
              "length must be a multiple of %zu)", in_path, have % isz,
              have % isz == 1 ? "" : "s", isz);
    }
    if (n == 0 && got == 0) break;
    if (n == 0) continue;
    if (decode && out_f64)
      fp8lab_decode_f64_array(&from, ibuf, (double *)obuf, n, cvt.nan);
    else if (decode)
      fp8lab_decode_f32_array(&from, ibuf, (float *)obuf, n, cvt.nan);
    else if (in_f64)
      fp8lab_encode_f64_array(&to, (const double *)ibuf, obuf, n, &cvt, index);
    else if (f32_source)
      fp8lab_encode_f32_array_mt(&to, (const float *)ibuf, obuf, n, &cvt,
                                 index, threads);
    else
      fp8lab_recode_array(&from, ibuf, &to, obuf, n, &cvt, index);
    if (fwrite(obuf, osz, n, out.fp) != n) {
      cli_out_abort(&out);
      cli_fail(C, "%s: write error: %s", out_path, strerror(errno));
    }
    index += n;
    size_t used = n * isz;
    memmove(ibuf, ibuf + used, have - used);
    have -= used;
  }
  if (in != stdin) fclose(in);
  free(ibuf);
  free(obuf);
  if (cli_out_commit(&out) != 0)
    cli_fail(C, "%s: cannot write: %s", out_path, strerror(errno));
  return 0;
}
