/* The format table, the name parser and derived properties (fp8lab/format.h). */
#include "fp8lab/format.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IEEE FP8LAB_SPECIAL_IEEE
#define FN FP8LAB_SPECIAL_FN
#define FNUZ FP8LAB_SPECIAL_FNUZ
#define NONE FP8LAB_SPECIAL_NONE
#define E8M0 FP8LAB_SPECIAL_E8M0

/* name, ebits, mbits, bias, has_sign, special, summary */
const fp8lab_format fp8lab_formats[] = {
    {"e5m2", 5, 2, 15, true, IEEE, "OCP OFP8 E5M2 / NVIDIA FP8 E5M2 (IEEE-style)"},
    {"e4m3fn", 4, 3, 7, true, FN, "OCP OFP8 E4M3 / NVIDIA FP8 E4M3 (no Inf)"},
    {"e4m3", 4, 3, 7, true, IEEE, "IEEE-style E4M3 (Inf and NaN at E=15)"},
    {"e3m4", 3, 4, 3, true, IEEE, "IEEE-style E3M4 (Kuzmin et al. 2022)"},
    {"e2m5", 2, 5, 1, true, IEEE, "IEEE-style E2M5 (Kuzmin et al. 2022)"},
    {"e4m3fnuz", 4, 3, 8, true, FNUZ, "E4M3 fnuz: NaN at 0x80, no -0 (Graphcore/AMD)"},
    {"e5m2fnuz", 5, 2, 16, true, FNUZ, "E5M2 fnuz: NaN at 0x80, no -0 (Graphcore/AMD)"},
    {"e4m3b11fnuz", 4, 3, 11, true, FNUZ, "E4M3 bias 11 fnuz (TPU)"},
    {"e3m2", 3, 2, 3, true, NONE, "OCP MX FP6 E3M2 element (no Inf, no NaN)"},
    {"e2m3", 2, 3, 1, true, NONE, "OCP MX FP6 E2M3 element (no Inf, no NaN)"},
    {"e2m1", 2, 1, 1, true, NONE, "OCP MX FP4 E2M1 element (no Inf, no NaN)"},
    {"e8m0", 8, 0, 127, false, E8M0, "OCP MX E8M0 scale (powers of two, NaN 0xFF)"},
    {"f16", 5, 10, 15, true, IEEE, "IEEE 754 binary16"},
    {"bf16", 8, 7, 127, true, IEEE, "bfloat16"},
    {"ibm169", 6, 9, 31, true, IEEE, "IBM 1-6-9 16-bit accumulator (Wang et al. 2018)"},
    {"e8m13", 8, 13, 127, true, IEEE, "FP22: Hopper FP8 tensor-core accumulator"},
    {"f32", 8, 23, 127, true, IEEE, "IEEE 754 binary32"},
};
const size_t fp8lab_nformats = sizeof fp8lab_formats / sizeof fp8lab_formats[0];

const fp8lab_format *const fp8lab_e5m2 = &fp8lab_formats[0];
const fp8lab_format *const fp8lab_e4m3fn = &fp8lab_formats[1];
const fp8lab_format *const fp8lab_e4m3 = &fp8lab_formats[2];
const fp8lab_format *const fp8lab_f16 = &fp8lab_formats[12];
const fp8lab_format *const fp8lab_bf16 = &fp8lab_formats[13];
const fp8lab_format *const fp8lab_e8m13 = &fp8lab_formats[15];
const fp8lab_format *const fp8lab_f32 = &fp8lab_formats[16];

static const struct {
  const char *alias, *name;
} aliases[] = {
    {"float8_e5m2", "e5m2"},       {"float8_e4m3fn", "e4m3fn"},
    {"float8_e4m3", "e4m3"},       {"float8_e3m4", "e3m4"},
    {"float8_e4m3fnuz", "e4m3fnuz"}, {"float8_e5m2fnuz", "e5m2fnuz"},
    {"float8_e4m3b11fnuz", "e4m3b11fnuz"},
    {"float6_e3m2fn", "e3m2"},     {"float6_e2m3fn", "e2m3"},
    {"float4_e2m1fn", "e2m1"},     {"float8_e8m0fnu", "e8m0"},
    {"e8m0fnu", "e8m0"},           {"ue8m0", "e8m0"},
    {"fp16", "f16"},               {"half", "f16"},
    {"float16", "f16"},            {"binary16", "f16"},
    {"bfloat16", "bf16"},          {"fp32", "f32"},
    {"float32", "f32"},            {"float", "f32"},
    {"binary32", "f32"},           {"fp22", "e8m13"},
    {"1-6-9", "ibm169"},           {"e6m9", "ibm169"},
};

const fp8lab_format *fp8lab_format_named(const char *name) {
  for (size_t i = 0; i < fp8lab_nformats; i++)
    if (strcmp(name, fp8lab_formats[i].name) == 0) return &fp8lab_formats[i];
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (strcmp(name, aliases[i].alias) == 0)
      return fp8lab_format_named(aliases[i].name);
  return NULL;
}

static int fail(char *err, size_t len, const char *name, const char *why) {
  if (err && len) snprintf(err, len, "unknown format '%s': %s", name, why);
  return -1;
}

/* Read a decimal integer at *p (optionally negative when allow_neg). */
static int read_int(const char **p, long *v, int allow_neg) {
  const char *s = *p;
  int neg = 0;
  if (allow_neg && *s == '-') neg = 1, s++;
  if (*s < '0' || *s > '9') return -1;
  long x = 0;
  while (*s >= '0' && *s <= '9') {
    x = x * 10 + (*s++ - '0');
    if (x > 100000) return -1;
  }
  *v = neg ? -x : x;
  *p = s;
  return 0;
}

int fp8lab_format_parse(const char *name, fp8lab_format *out, char *err,
                        size_t errlen) {
  const fp8lab_format *named = fp8lab_format_named(name);
  if (named) {
    *out = *named;
    return 0;
  }
  const char *p = name;
  long e, m, b = 0;
  int has_bias = 0;
  if (*p++ != 'e' || read_int(&p, &e, 0) || *p++ != 'm' || read_int(&p, &m, 0))
    return fail(err, errlen, name,
                "expected a named format (see 'fp8lab formats') or "
                "e<X>m<Y>[b<N>][fn|fnuz|fnone]");
  if (*p == 'b') {
    p++;
    if (read_int(&p, &b, 1)) return fail(err, errlen, name, "bad bias after 'b'");
    has_bias = 1;
  }
  fp8lab_special sp = IEEE;
  if (*p == 0) sp = IEEE;
  else if (strcmp(p, "fn") == 0) sp = FN;
  else if (strcmp(p, "fnuz") == 0) sp = FNUZ;
  else if (strcmp(p, "fnone") == 0) sp = NONE;
  else return fail(err, errlen, name, "unknown suffix (fn, fnuz or fnone)");
  if (e < 1 || e > 8) return fail(err, errlen, name, "exponent bits must be 1..8");
  if (m < 0 || m > 23) return fail(err, errlen, name, "fraction bits must be 0..23");
  if (1 + e + m > 32) return fail(err, errlen, name, "more than 32 bits");
  if (sp == IEEE && (e < 2 || m < 1))
    return fail(err, errlen, name,
                "IEEE-style needs 2+ exponent bits and 1+ fraction bits "
                "(add 'fnone' for a format without Inf/NaN)");
  if (sp == FN && m < 1)
    return fail(err, errlen, name, "fn needs 1+ fraction bits");
  if (!has_bias) b = (1L << (e - 1)) - 1 + (sp == FNUZ);
  if (b < -126 || b > 254) return fail(err, errlen, name, "bias out of range");
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s", name);
  out->ebits = (int)e;
  out->mbits = (int)m;
  out->bias = (int)b;
  out->has_sign = true;
  out->special = sp;
  out->summary = NULL;
  /* A range that f64 cannot hold exactly would break the codec's contract. */
  if (fp8lab_format_emax(out) > 1000 || fp8lab_format_emin(out) - m < -1000)
    return fail(err, errlen, name, "exponent range too wide");
  return 0;
}

int fp8lab_format_bits(const fp8lab_format *f) {
  return (f->has_sign ? 1 : 0) + f->ebits + f->mbits;
}

uint32_t fp8lab_format_ncodes(const fp8lab_format *f) {
  int b = fp8lab_format_bits(f);
  return b >= 32 ? 0 : (uint32_t)1 << b;
}

bool fp8lab_format_has_inf(const fp8lab_format *f) { return f->special == IEEE; }
bool fp8lab_format_has_nan(const fp8lab_format *f) { return f->special != NONE; }
bool fp8lab_format_has_zero(const fp8lab_format *f) { return f->special != E8M0; }
bool fp8lab_format_has_negzero(const fp8lab_format *f) {
  return f->has_sign && f->special != FNUZ && f->special != E8M0;
}
bool fp8lab_format_has_subnormals(const fp8lab_format *f) {
  return f->special != E8M0 && f->mbits > 0;
}

/* Largest biased exponent field holding finite values. */
static int top_field(const fp8lab_format *f) {
  int all = (1 << f->ebits) - 1;
  switch (f->special) {
  case IEEE: return all - 1;
  case E8M0: return all - 1;
  default: return all; /* FN (minus one code), FNUZ, NONE */
  }
}

/* Largest finite fraction field at the top exponent. */
static uint32_t top_frac(const fp8lab_format *f) {
  uint32_t ones = ((uint32_t)1 << f->mbits) - 1;
  return f->special == FN ? ones - 1 : ones;
}

int fp8lab_format_emax(const fp8lab_format *f) { return top_field(f) - f->bias; }
int fp8lab_format_emin(const fp8lab_format *f) {
  return (f->special == E8M0 ? 0 : 1) - f->bias;
}

double fp8lab_format_max(const fp8lab_format *f) {
  double frac = (double)top_frac(f) / ldexp(1.0, f->mbits);
  return ldexp(1.0 + frac, fp8lab_format_emax(f));
}
double fp8lab_format_min_normal(const fp8lab_format *f) {
  return ldexp(1.0, fp8lab_format_emin(f));
}
double fp8lab_format_min_subnormal(const fp8lab_format *f) {
  if (!fp8lab_format_has_subnormals(f)) return fp8lab_format_min_normal(f);
  return ldexp(1.0, fp8lab_format_emin(f) - f->mbits);
}

uint64_t fp8lab_format_nfinite(const fp8lab_format *f) {
  uint64_t per_sign = ((uint64_t)top_field(f) << f->mbits) + top_frac(f) + 1;
  uint64_t n = per_sign * (f->has_sign ? 2 : 1);
  if (f->special == FNUZ) n -= 1; /* 0x80 is NaN, not -0 */
  return n;
}

uint32_t fp8lab_format_max_code(const fp8lab_format *f) {
  return ((uint32_t)top_field(f) << f->mbits) | top_frac(f);
}

static uint32_t sign_bit(const fp8lab_format *f) {
  return f->has_sign ? (uint32_t)1 << (f->ebits + f->mbits) : 0;
}

uint32_t fp8lab_format_inf_code(const fp8lab_format *f) {
  if (f->special != IEEE) return fp8lab_format_max_code(f);
  return (((uint32_t)1 << f->ebits) - 1) << f->mbits;
}

uint32_t fp8lab_format_nan_code(const fp8lab_format *f) {
  uint32_t ones_em = (((uint32_t)1 << (f->ebits + f->mbits)) - 1);
  switch (f->special) {
  case IEEE:
  case FN: return ones_em;
  case FNUZ: return sign_bit(f);
  case E8M0: return ones_em;
  case NONE: break;
  }
  return 0;
}

uint32_t fp8lab_format_qnan_code(const fp8lab_format *f, bool negative) {
  uint32_t s = negative ? sign_bit(f) : 0;
  switch (f->special) {
  case IEEE:
    return s | fp8lab_format_inf_code(f) | (f->mbits ? (uint32_t)1 << (f->mbits - 1) : 0);
  case FN: return s | fp8lab_format_nan_code(f);
  default: return fp8lab_format_nan_code(f);
  }
}

bool fp8lab_format_is_nan(const fp8lab_format *f, uint32_t code) {
  uint32_t mag = code & ((((uint32_t)1 << (f->ebits + f->mbits)) - 1));
  uint32_t ones_em = (((uint32_t)1 << (f->ebits + f->mbits)) - 1);
  switch (f->special) {
  case IEEE: return mag > fp8lab_format_inf_code(f);
  case FN: return mag == ones_em;
  case FNUZ: return code == sign_bit(f);
  case E8M0: return mag == ones_em;
  case NONE: return false;
  }
  return false;
}

bool fp8lab_format_is_inf(const fp8lab_format *f, uint32_t code) {
  uint32_t mag = code & ((((uint32_t)1 << (f->ebits + f->mbits)) - 1));
  return f->special == IEEE && mag == fp8lab_format_inf_code(f);
}

const char *fp8lab_special_inf_str(const fp8lab_format *f) {
  return f->special == IEEE ? "S.11..1.00..0" : "none";
}

const char *fp8lab_special_nan_str(const fp8lab_format *f, char *buf,
                                   size_t len) {
  switch (f->special) {
  case IEEE: snprintf(buf, len, "S.11..1.MM..M (M!=0)"); break;
  case FN: snprintf(buf, len, "S.11..1.11..1"); break;
  case FNUZ: snprintf(buf, len, "1.00..0.00..0 (0x%X)", (unsigned)sign_bit(f)); break;
  case E8M0: snprintf(buf, len, "11111111 (0xFF)"); break;
  case NONE: snprintf(buf, len, "none"); break;
  }
  return buf;
}
