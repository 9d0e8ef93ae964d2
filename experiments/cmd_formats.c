/* fp8lab formats: the format table (NVIDIA's "FP8 Formats for Deep
 * Learning" Table 1 and its OCP, IEEE-style and MX siblings), every number
 * derived from the descriptors. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const help =
    "usage: fp8lab formats [--format NAME] [--csv]\n\n"
    "Print one row per floating-point format: width, exponent and fraction\n"
    "bits, bias, largest finite value, smallest normal and subnormal value,\n"
    "how Inf and NaN are encoded (S = sign bit) and how many finite values\n"
    "the format has (both zeros counted where it has -0).\n\n"
    "  --format NAME  only this format: a named one or e<X>m<Y>[b<N>][fn|fnuz|fnone]\n"
    "  --csv          comma-separated, with a header line, values in full\n"
    "  -h, --help     this text\n";

/* "2^k" where v is a power of two, else the value. */
static void fmt_value(char *buf, size_t len, double v, bool csv) {
  int e;
  double fr = frexp(v, &e);
  if (csv)
    snprintf(buf, len, "%.17g", v);
  else if (fr == 0.5 && (e - 1 < -4 || e - 1 > 16))
    snprintf(buf, len, "2^%d", e - 1);
  else
    snprintf(buf, len, "%.10g", v);
}

static void row(const fp8lab_format *f, bool csv) {
  char mx[48], mn[48], ms[48], nan[48];
  fmt_value(mx, sizeof mx, fp8lab_format_max(f), csv);
  fmt_value(mn, sizeof mn, fp8lab_format_min_normal(f), csv);
  if (fp8lab_format_has_subnormals(f))
    fmt_value(ms, sizeof ms, fp8lab_format_min_subnormal(f), csv);
  else
    snprintf(ms, sizeof ms, "none");
  fp8lab_special_nan_str(f, nan, sizeof nan);
  if (csv)
    printf("%s,%d,%d,%d,%d,%s,%s,%s,%s,%s,%llu,\"%s\"\n", f->name,
           fp8lab_format_bits(f), f->ebits, f->mbits, f->bias, mx, mn, ms,
           fp8lab_special_inf_str(f), nan,
           (unsigned long long)fp8lab_format_nfinite(f),
           f->summary ? f->summary : "");
  else
    printf("%-12s %4d %2d %2d %5d  %-16s %-16s %-16s %-14s %-21s %11llu\n",
           f->name, fp8lab_format_bits(f), f->ebits, f->mbits, f->bias, mx,
           mn, ms, fp8lab_special_inf_str(f), nan,
           (unsigned long long)fp8lab_format_nfinite(f));
}

int cmd_formats(int argc, char **argv) {
  static const struct option opts[] = {{"format", required_argument, 0, 'f'},
                                       {"csv", no_argument, 0, 'c'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *only = NULL;
  bool csv = false;
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (o) {
    case 'f': only = optarg; break;
    case 'c': csv = true; break;
    case 'h': fputs(help, stdout); return 0;
    default: fputs(help, stderr); return 2;
    }
  }
  if (optind < argc) cli_die("formats", "unexpected argument '%s'", argv[optind]);
  fp8lab_format one;
  if (only) cli_parse_format("formats", "--format", only, &one);
  if (csv)
    printf("name,bits,exponent_bits,mantissa_bits,bias,max_normal,min_normal,"
           "min_subnormal,inf,nan,finite_values,description\n");
  else
    printf("%-12s %4s %2s %2s %5s  %-16s %-16s %-16s %-14s %-21s %11s\n",
           "format", "bits", "E", "M", "bias", "max normal", "min normal",
           "min subnormal", "Inf", "NaN", "finite");
  if (only)
    row(&one, csv);
  else
    for (size_t i = 0; i < fp8lab_nformats; i++) row(&fp8lab_formats[i], csv);
  return 0;
}
