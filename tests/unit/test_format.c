/*
 * test_format.c: the format descriptor table and the format-name parser.
 *
 * Every expected number below is written by hand from the published
 * definitions, never computed by fp8lab:
 *   OCP 8-bit Floating Point Specification (OFP8) rev 1.0, table 1, and
 *   Micikevicius et al., arXiv 2209.05433, table 1:
 *     E4M3 (our e4m3fn): max 448 = 1.75 * 2^8, min normal 2^-6, min subnormal
 *       2^-9, NaN S.1111.111, no Inf;
 *     E5M2: max 57344 = 1.75 * 2^15, min normal 2^-14, min subnormal 2^-16,
 *       Inf S.11111.00, NaN S.11111.{01,10,11}.
 *   OCP Microscaling Formats (MX) v1.0, section 5.3 / 5.4:
 *     E3M2: max 28, min normal 0.25, min subnormal 0.0625;
 *     E2M3: max 7.5, min normal 1, min subnormal 0.125;
 *     E2M1: max 6, min normal 1, min subnormal 0.5;
 *     E8M0: 2^-127 .. 2^127, NaN 0xFF, no zero, no sign.
 *   IEEE 754-2019 table 3.5: binary16 max 65504, min normal 2^-14, min
 *     subnormal 2^-24; binary32 max (2 - 2^-23) 2^127, 2^-126, 2^-149.
 *   bfloat16: binary32's exponent, 7 fraction bits: max (2 - 2^-7) 2^127.
 *   IBM 1-6-9 (Wang et al. 2018), IEEE-style with bias 2^5 - 1 = 31.
 *   e8m13 (FP22): binary32's exponent, 13 fraction bits.
 *   fnuz formats (Noune et al. arXiv 2206.02915, ml_dtypes): bias 2^(E-1),
 *     the code 0x80 is the only NaN, no Inf, no -0.
 *   E3M4 / E2M5 (Kuzmin et al. 2208.09225): IEEE-style, bias 2^(E-1) - 1.
 *
 * Finite-value counts: 2^bits minus the non-finite codes (IEEE: 2 * 2^m codes
 * at the all-ones exponent; FN: the two all-ones codes; FNUZ: the one NaN;
 * E8M0: 0xFF).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fp8lab/format.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum { IEEE = FP8LAB_SPECIAL_IEEE, FN = FP8LAB_SPECIAL_FN,
       FNUZ = FP8LAB_SPECIAL_FNUZ, NONE = FP8LAB_SPECIAL_NONE,
       E8M0 = FP8LAB_SPECIAL_E8M0 };

typedef struct {
  const char *name;
  int bits, ebits, mbits, bias;
  int has_sign;
  int special;
  double max, min_normal, min_subnormal; /* hex float literals: exact */
  int emax, emin;
  uint64_t nfinite;
  int has_inf, has_nan, has_negzero, has_zero, has_subnormals;
  uint32_t max_code, inf_code, nan_code, qnan_pos, qnan_neg;
} expected_format;

/* clang-format off */
static const expected_format expected[] = {
  /* name          bits E  M  bias sign special   max              min normal  min subnormal emax emin nfinite
                   inf nan -0 zero sub   max code   inf code   NaN code   qNaN+      qNaN- */
  {"e5m2",         8,  5, 2, 15, 1, IEEE, 57344.0,          0x1p-14,  0x1p-16,   15, -14, 256 - 8,
                   1, 1, 1, 1, 1,        0x7B,      0x7C,      0x7F,      0x7E,      0xFE},
  {"e4m3fn",       8,  4, 3, 7,  1, FN,   448.0,            0x1p-6,   0x1p-9,     8,  -6, 256 - 2,
                   0, 1, 1, 1, 1,        0x7E,      0x7E,      0x7F,      0x7F,      0xFF},
  {"e4m3",         8,  4, 3, 7,  1, IEEE, 240.0,            0x1p-6,   0x1p-9,     7,  -6, 256 - 16,
                   1, 1, 1, 1, 1,        0x77,      0x78,      0x7F,      0x7C,      0xFC},
  {"e3m4",         8,  3, 4, 3,  1, IEEE, 15.5,             0x1p-2,   0x1p-6,     3,  -2, 256 - 32,
                   1, 1, 1, 1, 1,        0x6F,      0x70,      0x7F,      0x78,      0xF8},
  {"e2m5",         8,  2, 5, 1,  1, IEEE, 3.9375,           0x1p0,    0x1p-5,     1,   0, 256 - 64,
                   1, 1, 1, 1, 1,        0x5F,      0x60,      0x7F,      0x70,      0xF0},
  {"e4m3fnuz",     8,  4, 3, 8,  1, FNUZ, 240.0,            0x1p-7,   0x1p-10,    7,  -7, 256 - 1,
                   0, 1, 0, 1, 1,        0x7F,      0x7F,      0x80,      0x80,      0x80},
  {"e5m2fnuz",     8,  5, 2, 16, 1, FNUZ, 57344.0,          0x1p-15,  0x1p-17,   15, -15, 256 - 1,
                   0, 1, 0, 1, 1,        0x7F,      0x7F,      0x80,      0x80,      0x80},
  {"e4m3b11fnuz",  8,  4, 3, 11, 1, FNUZ, 30.0,             0x1p-10,  0x1p-13,    4, -10, 256 - 1,
                   0, 1, 0, 1, 1,        0x7F,      0x7F,      0x80,      0x80,      0x80},
  {"e3m2",         6,  3, 2, 3,  1, NONE, 28.0,             0.25,     0.0625,     4,  -2, 64,
                   0, 0, 1, 1, 1,        0x1F,      0x1F,      0x00,      0x00,      0x00},
  {"e2m3",         6,  2, 3, 1,  1, NONE, 7.5,              1.0,      0.125,      2,   0, 64,
                   0, 0, 1, 1, 1,        0x1F,      0x1F,      0x00,      0x00,      0x00},
  {"e2m1",         4,  2, 1, 1,  1, NONE, 6.0,              1.0,      0.5,        2,   0, 16,
                   0, 0, 1, 1, 1,        0x7,       0x7,       0x0,       0x0,       0x0},
  /* E8M0 has no subnormals: min_subnormal is documented to equal min normal */
  {"e8m0",         8,  8, 0, 127, 0, E8M0, 0x1p127,         0x1p-127, 0x1p-127, 127, -127, 255,
                   0, 1, 0, 0, 0,        0xFE,      0xFE,      0xFF,      0xFF,      0xFF},
  {"f16",          16, 5, 10, 15, 1, IEEE, 65504.0,         0x1p-14,  0x1p-24,   15, -14, 65536 - 2048,
                   1, 1, 1, 1, 1,        0x7BFF,    0x7C00,    0x7FFF,    0x7E00,    0xFE00},
  {"bf16",         16, 8, 7, 127, 1, IEEE, 0x1.fep127,      0x1p-126, 0x1p-133, 127, -126, 65536 - 256,
                   1, 1, 1, 1, 1,        0x7F7F,    0x7F80,    0x7FFF,    0x7FC0,    0xFFC0},
  {"ibm169",       16, 6, 9, 31, 1, IEEE, 0x1.ff8p31,       0x1p-30,  0x1p-39,   31, -30, 65536 - 1024,
                   1, 1, 1, 1, 1,        0x7DFF,    0x7E00,    0x7FFF,    0x7F00,    0xFF00},
  {"e8m13",        22, 8, 13, 127, 1, IEEE, 0x1.fff8p127,   0x1p-126, 0x1p-139, 127, -126, 4194304 - 16384,
                   1, 1, 1, 1, 1,        0x1FDFFF,  0x1FE000,  0x1FFFFF,  0x1FF000,  0x3FF000},
  {"f32",          32, 8, 23, 127, 1, IEEE, 0x1.fffffep127, 0x1p-126, 0x1p-149, 127, -126, 4278190080ull, /* 2^32 - 2^24 */
                   1, 1, 1, 1, 1,        0x7F7FFFFF, 0x7F800000, 0x7FFFFFFF, 0x7FC00000, 0xFFC00000},
};
/* clang-format on */

static const expected_format *find_expected(const char *name) {
  for (size_t i = 0; i < NELEM(expected); i++)
    if (strcmp(expected[i].name, name) == 0) return &expected[i];
  return NULL;
}

#define CHECK_D(fmt, what, got, want)                                        \
  do {                                                                       \
    double g_ = (got), w_ = (want);                                          \
    if (!(g_ == w_))                                                         \
      fail_msg("%s: %s = %a (%.17g), want %a (%.17g)", fmt, what, g_, g_,    \
               w_, w_);                                                      \
  } while (0)
#define CHECK_U(fmt, what, got, want)                                        \
  do {                                                                       \
    unsigned long long g_ = (got), w_ = (want);                              \
    if (g_ != w_)                                                            \
      fail_msg("%s: %s = %llu (0x%llX), want %llu (0x%llX)", fmt, what, g_,  \
               g_, w_, w_);                                                  \
  } while (0)

/* The table holds exactly the formats above: none missing, none extra, no
 * duplicate names, and the named pointers point at the right rows. */
static void test_table_is_complete(void **state) {
  (void)state;
  CHECK_U("table", "fp8lab_nformats", fp8lab_nformats, NELEM(expected));
  for (size_t i = 0; i < fp8lab_nformats; i++) {
    if (!find_expected(fp8lab_formats[i].name))
      fail_msg("format '%s' in the table has no hand-written row here",
               fp8lab_formats[i].name);
    for (size_t j = 0; j < i; j++)
      if (strcmp(fp8lab_formats[i].name, fp8lab_formats[j].name) == 0)
        fail_msg("format '%s' appears twice", fp8lab_formats[i].name);
    if (!fp8lab_formats[i].summary || !fp8lab_formats[i].summary[0])
      fail_msg("format '%s' has no summary", fp8lab_formats[i].name);
  }
  for (size_t i = 0; i < NELEM(expected); i++)
    if (!fp8lab_format_named(expected[i].name))
      fail_msg("format '%s' is missing from the table", expected[i].name);
  assert_string_equal(fp8lab_e5m2->name, "e5m2");
  assert_string_equal(fp8lab_e4m3fn->name, "e4m3fn");
  assert_string_equal(fp8lab_e4m3->name, "e4m3");
  assert_string_equal(fp8lab_f16->name, "f16");
  assert_string_equal(fp8lab_bf16->name, "bf16");
  assert_string_equal(fp8lab_e8m13->name, "e8m13");
  assert_string_equal(fp8lab_f32->name, "f32");
}

static void check_fields(const fp8lab_format *f, const expected_format *e) {
  CHECK_U(e->name, "ebits", f->ebits, e->ebits);
  CHECK_U(e->name, "mbits", f->mbits, e->mbits);
  CHECK_U(e->name, "bias", f->bias, e->bias);
  CHECK_U(e->name, "has_sign", f->has_sign, e->has_sign);
  CHECK_U(e->name, "special", f->special, e->special);
}

static void check_derived(const fp8lab_format *f, const expected_format *e) {
  const char *n = e->name;
  CHECK_U(n, "bits", fp8lab_format_bits(f), e->bits);
  CHECK_U(n, "ncodes", fp8lab_format_ncodes(f),
          e->bits >= 32 ? 0 : (uint64_t)1 << e->bits);
  CHECK_D(n, "max", fp8lab_format_max(f), e->max);
  CHECK_D(n, "min_normal", fp8lab_format_min_normal(f), e->min_normal);
  CHECK_D(n, "min_subnormal", fp8lab_format_min_subnormal(f),
          e->min_subnormal);
  CHECK_U(n, "emax", (unsigned)fp8lab_format_emax(f), (unsigned)e->emax);
  CHECK_U(n, "emin", (unsigned)fp8lab_format_emin(f), (unsigned)e->emin);
  CHECK_U(n, "nfinite", fp8lab_format_nfinite(f), e->nfinite);
  CHECK_U(n, "has_inf", fp8lab_format_has_inf(f), e->has_inf);
  CHECK_U(n, "has_nan", fp8lab_format_has_nan(f), e->has_nan);
  CHECK_U(n, "has_negzero", fp8lab_format_has_negzero(f), e->has_negzero);
  CHECK_U(n, "has_zero", fp8lab_format_has_zero(f), e->has_zero);
  CHECK_U(n, "has_subnormals", fp8lab_format_has_subnormals(f),
          e->has_subnormals);
  CHECK_U(n, "max_code", fp8lab_format_max_code(f), e->max_code);
  CHECK_U(n, "inf_code", fp8lab_format_inf_code(f), e->inf_code);
  CHECK_U(n, "nan_code", fp8lab_format_nan_code(f), e->nan_code);
  CHECK_U(n, "qnan_code(+)", fp8lab_format_qnan_code(f, false), e->qnan_pos);
  CHECK_U(n, "qnan_code(-)", fp8lab_format_qnan_code(f, true), e->qnan_neg);
  /* Classification of the special codes just listed. */
  if (e->has_nan) {
    CHECK_U(n, "is_nan(nan_code)", fp8lab_format_is_nan(f, e->nan_code), 1);
    CHECK_U(n, "is_nan(qnan+)", fp8lab_format_is_nan(f, e->qnan_pos), 1);
    CHECK_U(n, "is_nan(qnan-)", fp8lab_format_is_nan(f, e->qnan_neg), 1);
  }
  CHECK_U(n, "is_nan(max_code)", fp8lab_format_is_nan(f, e->max_code), 0);
  CHECK_U(n, "is_inf(max_code)", fp8lab_format_is_inf(f, e->max_code), 0);
  CHECK_U(n, "is_nan(0)", fp8lab_format_is_nan(f, 0), 0);
  if (e->has_inf) {
    uint32_t sign = (uint32_t)1 << (e->bits - 1);
    CHECK_U(n, "is_inf(inf)", fp8lab_format_is_inf(f, e->inf_code), 1);
    CHECK_U(n, "is_inf(-inf)", fp8lab_format_is_inf(f, e->inf_code | sign), 1);
    CHECK_U(n, "is_nan(inf)", fp8lab_format_is_nan(f, e->inf_code), 0);
  }
}

/* Every named format's descriptor and derived values against the sources. */
static void test_named_formats(void **state) {
  (void)state;
  for (size_t i = 0; i < NELEM(expected); i++) {
    const fp8lab_format *f = fp8lab_format_named(expected[i].name);
    if (!f) fail_msg("named format '%s' not found", expected[i].name);
    assert_string_equal(f->name, expected[i].name);
    check_fields(f, &expected[i]);
    check_derived(f, &expected[i]);
  }
}

/* The headline numbers once more, literally as NVIDIA's Table 1 and the MX
 * spec print them (decimal), so a typo in the hex table above cannot hide. */
static void test_published_numbers(void **state) {
  (void)state;
  const fp8lab_format *e4 = fp8lab_format_named("e4m3fn");
  const fp8lab_format *e5 = fp8lab_format_named("e5m2");
  assert_non_null(e4);
  assert_non_null(e5);
  CHECK_D("e4m3fn", "max", fp8lab_format_max(e4), 448.0);
  CHECK_D("e4m3fn", "min normal", fp8lab_format_min_normal(e4), 0.015625);
  CHECK_D("e4m3fn", "min subnormal", fp8lab_format_min_subnormal(e4), 0.001953125);
  CHECK_D("e5m2", "max", fp8lab_format_max(e5), 57344.0);
  CHECK_D("e5m2", "min normal", fp8lab_format_min_normal(e5), 0.00006103515625);
  CHECK_D("e5m2", "min subnormal", fp8lab_format_min_subnormal(e5), 0.0000152587890625);
  CHECK_D("f16", "max", fp8lab_format_max(fp8lab_f16), 65504.0);
  CHECK_D("f16", "min subnormal", fp8lab_format_min_subnormal(fp8lab_f16), 5.9604644775390625e-08);
  CHECK_D("bf16", "max", fp8lab_format_max(fp8lab_bf16), 3.3895313892515355e+38);
  CHECK_D("f32", "max", fp8lab_format_max(fp8lab_f32), 3.4028234663852886e+38);
  CHECK_D("e2m1", "max", fp8lab_format_max(fp8lab_format_named("e2m1")), 6.0);
  CHECK_D("e2m3", "max", fp8lab_format_max(fp8lab_format_named("e2m3")), 7.5);
  CHECK_D("e3m2", "max", fp8lab_format_max(fp8lab_format_named("e3m2")), 28.0);
  CHECK_D("e8m0", "max", fp8lab_format_max(fp8lab_format_named("e8m0")), 1.7014118346046923e+38);
  CHECK_D("e8m0", "min", fp8lab_format_min_normal(fp8lab_format_named("e8m0")), 5.877471754111438e-39);
}

/* Aliases (ml_dtypes / PyTorch / common spellings) resolve to table rows. */
static void test_aliases(void **state) {
  (void)state;
  static const struct { const char *alias, *name; } cases[] = {
      {"float8_e5m2", "e5m2"},         {"float8_e4m3fn", "e4m3fn"},
      {"float8_e4m3", "e4m3"},         {"float8_e3m4", "e3m4"},
      {"float8_e4m3fnuz", "e4m3fnuz"}, {"float8_e5m2fnuz", "e5m2fnuz"},
      {"float8_e4m3b11fnuz", "e4m3b11fnuz"},
      {"float6_e3m2fn", "e3m2"},       {"float6_e2m3fn", "e2m3"},
      {"float4_e2m1fn", "e2m1"},       {"float8_e8m0fnu", "e8m0"},
      {"e8m0fnu", "e8m0"},             {"ue8m0", "e8m0"},
      {"fp16", "f16"},                 {"half", "f16"},
      {"float16", "f16"},              {"binary16", "f16"},
      {"bfloat16", "bf16"},            {"fp32", "f32"},
      {"float32", "f32"},              {"float", "f32"},
      {"binary32", "f32"},             {"fp22", "e8m13"},
      {"1-6-9", "ibm169"},             {"e6m9", "ibm169"},
  };
  for (size_t i = 0; i < NELEM(cases); i++) {
    const fp8lab_format *a = fp8lab_format_named(cases[i].alias);
    if (!a) fail_msg("alias '%s' not found", cases[i].alias);
    if (strcmp(a->name, cases[i].name) != 0)
      fail_msg("alias '%s' -> '%s', want '%s'", cases[i].alias, a->name,
               cases[i].name);
    fp8lab_format p;
    char err[128] = "";
    if (fp8lab_format_parse(cases[i].alias, &p, err, sizeof err) != 0)
      fail_msg("parse('%s') failed: %s", cases[i].alias, err);
    assert_string_equal(p.name, cases[i].name);
    check_fields(&p, find_expected(cases[i].name));
  }
  /* Names are case-sensitive and exact. */
  assert_null(fp8lab_format_named("E4M3FN"));
  assert_null(fp8lab_format_named("e4m3fn "));
  assert_null(fp8lab_format_named(""));
  assert_null(fp8lab_format_named("float8"));
}

/* User-defined names: e<X>m<Y>[b<N>][fn|fnuz|fnone]. */
static void test_parse_user_formats(void **state) {
  (void)state;
  static const struct {
    const char *name;
    int ebits, mbits, bias, special;
    double max, min_normal, min_subnormal;
    uint64_t nfinite;
  } cases[] = {
      /* e3m4b5: IEEE-style, top exponent field 6: (1 + 15/16) 2^(6-5);
       * min normal 2^(1-5), min subnormal 2^(1-5-4). 256 - 32 finite. */
      {"e3m4b5", 3, 4, 5, IEEE, 3.875, 0x1p-4, 0x1p-8, 224},
      /* e5m10 has binary16's fields, so binary16's numbers */
      {"e5m10", 5, 10, 15, IEEE, 65504.0, 0x1p-14, 0x1p-24, 63488},
      /* e5m2b15 = e5m2, e4m3b7fn = e4m3fn, e3m2fnone = MX E3M2 */
      {"e5m2b15", 5, 2, 15, IEEE, 57344.0, 0x1p-14, 0x1p-16, 248},
      {"e4m3b7fn", 4, 3, 7, FN, 448.0, 0x1p-6, 0x1p-9, 254},
      {"e4m3fn", 4, 3, 7, FN, 448.0, 0x1p-6, 0x1p-9, 254},
      {"e3m2fnone", 3, 2, 3, NONE, 28.0, 0.25, 0.0625, 64},
      /* fnuz default bias is 2^(X-1): e3m2fnuz bias 4, max 1.75 * 2^(7-4) */
      {"e3m2fnuz", 3, 2, 4, FNUZ, 14.0, 0x1p-3, 0x1p-5, 63},
      {"e4m3b11fnuz", 4, 3, 11, FNUZ, 30.0, 0x1p-10, 0x1p-13, 255},
      {"e4m3fnuz", 4, 3, 8, FNUZ, 240.0, 0x1p-7, 0x1p-10, 255},
      {"e2m5", 2, 5, 1, IEEE, 3.9375, 1.0, 0x1p-5, 192},
      /* a bias may be negative: e4m3b-2: max 1.875 * 2^(14+2) = 122880 */
      {"e4m3b-2", 4, 3, -2, IEEE, 122880.0, 0x1p3, 0x1p0, 240},
      /* widest user form: 1 + 8 + 23 = 32 bits, binary32's fields */
      {"e8m23", 8, 23, 127, IEEE, 0x1.fffffep127, 0x1p-126, 0x1p-149,
       4278190080ull},
      /* smallest: 1 + 1 + 0 bits, finite only: codes +-0 and +-2^(1-0) */
      {"e1m0fnone", 1, 0, 0, NONE, 2.0, 2.0, 2.0, 4},
      /* m = 0 with fnuz: bias 2^(5-1) = 16, max 2^(31-16) */
      {"e5m0fnuz", 5, 0, 16, FNUZ, 0x1p15, 0x1p-15, 0x1p-15, 63},
      {"e8m7b100", 8, 7, 100, IEEE, 0x1.fep154, 0x1p-99, 0x1p-106, 65280},
  };
  for (size_t i = 0; i < NELEM(cases); i++) {
    fp8lab_format f;
    char err[256] = "";
    memset(&f, 0xA5, sizeof f);
    if (fp8lab_format_parse(cases[i].name, &f, err, sizeof err) != 0)
      fail_msg("parse('%s') failed: %s", cases[i].name, err);
    const char *n = cases[i].name;
    CHECK_U(n, "ebits", f.ebits, cases[i].ebits);
    CHECK_U(n, "mbits", f.mbits, cases[i].mbits);
    CHECK_U(n, "bias", (unsigned)f.bias, (unsigned)cases[i].bias);
    CHECK_U(n, "has_sign", f.has_sign, 1);
    CHECK_U(n, "special", f.special, cases[i].special);
    CHECK_D(n, "max", fp8lab_format_max(&f), cases[i].max);
    CHECK_D(n, "min_normal", fp8lab_format_min_normal(&f), cases[i].min_normal);
    CHECK_D(n, "min_subnormal", fp8lab_format_min_subnormal(&f),
            cases[i].min_subnormal);
    CHECK_U(n, "nfinite", fp8lab_format_nfinite(&f), cases[i].nfinite);
    assert_string_equal(f.name, n);
  }
}

/* Every validator branch of fp8lab_format_parse, with its message.  The
 * message is "unknown format '<name>': <reason>". */
static void test_parse_invalid(void **state) {
  (void)state;
  static const char *const grammar =
      "expected a named format (see 'fp8lab formats') or "
      "e<X>m<Y>[b<N>][fn|fnuz|fnone]";
  static const struct { const char *name, *reason; } cases[] = {
      /* grammar: must start e<digits>m<digits> */
      {"", grammar},
      {"x4m3", grammar},
      {"E4M3", grammar},
      {"e", grammar},
      {"e4", grammar},
      {"e4m", grammar},
      {"em3", grammar},
      {"e4x3", grammar},
      {"e-4m3", grammar},
      {"e4m-3", grammar},
      {"e4m3.0", "unknown suffix (fn, fnuz or fnone)"},
      {"e999999m3", grammar}, /* integer too long */
      {"float8_e4m3fnx", grammar},
      /* bias */
      {"e4m3b", "bad bias after 'b'"},
      {"e4m3bx", "bad bias after 'b'"},
      {"e4m3b-", "bad bias after 'b'"},
      {"e4m3b--1", "bad bias after 'b'"},
      {"e4m3b9999999", "bad bias after 'b'"},
      {"e4m3b255", "bias out of range"},
      {"e4m3b-127", "bias out of range"},
      {"e8m7b1000", "bias out of range"},
      /* suffix */
      {"e4m3f", "unknown suffix (fn, fnuz or fnone)"},
      {"e4m3fnu", "unknown suffix (fn, fnuz or fnone)"},
      {"e4m3fnuzz", "unknown suffix (fn, fnuz or fnone)"},
      {"e4m3ieee", "unknown suffix (fn, fnuz or fnone)"},
      {"e4m3 ", "unknown suffix (fn, fnuz or fnone)"},
      {"e4m3b7b7", "unknown suffix (fn, fnuz or fnone)"},
      {"e4m3fnb7", "unknown suffix (fn, fnuz or fnone)"},
      /* widths */
      {"e0m3fn", "exponent bits must be 1..8"},
      {"e9m3", "exponent bits must be 1..8"},
      {"e9m2fnuz", "exponent bits must be 1..8"},
      {"e4m24fnone", "fraction bits must be 0..23"},
      {"e1m99", "fraction bits must be 0..23"},
      /* IEEE-style needs a non-empty exponent and fraction */
      {"e1m3", "IEEE-style needs 2+ exponent bits and 1+ fraction bits "
               "(add 'fnone' for a format without Inf/NaN)"},
      {"e4m0", "IEEE-style needs 2+ exponent bits and 1+ fraction bits "
               "(add 'fnone' for a format without Inf/NaN)"},
      {"e5m0b15", "IEEE-style needs 2+ exponent bits and 1+ fraction bits "
                  "(add 'fnone' for a format without Inf/NaN)"},
      {"e4m0fn", "fn needs 1+ fraction bits"},
  };
  /* Unreachable by construction (so not listed): "more than 32 bits"
   * (X <= 8 and Y <= 23 give at most 32) and "exponent range too wide"
   * (bias in [-126, 254] keeps emax <= 381 and emin - Y >= -276). */
  for (size_t i = 0; i < NELEM(cases); i++) {
    fp8lab_format f;
    char err[512], want[512];
    memset(err, 'x', sizeof err);
    err[sizeof err - 1] = 0;
    snprintf(want, sizeof want, "unknown format '%s': %s", cases[i].name,
             cases[i].reason);
    int rc = fp8lab_format_parse(cases[i].name, &f, err, sizeof err);
    if (rc != -1)
      fail_msg("parse('%s') = %d, want -1", cases[i].name, rc);
    if (strcmp(err, want) != 0)
      fail_msg("parse('%s') message\n  got:  %s\n  want: %s", cases[i].name,
               err, want);
    if (strchr(err, '\n')) fail_msg("parse('%s'): message not one line",
                                    cases[i].name);
    /* err may be NULL; a short buffer is truncated and terminated */
    assert_int_equal(fp8lab_format_parse(cases[i].name, &f, NULL, 0), -1);
    char small[12];
    memset(small, 'x', sizeof small);
    assert_int_equal(fp8lab_format_parse(cases[i].name, &f, small, sizeof small), -1);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, want, sizeof small - 1);
  }
}

/* Boundary values each validator accepts (the other side of each branch). */
static void test_parse_limits_accepted(void **state) {
  (void)state;
  static const char *const ok[] = {
      "e1m0fnone", "e1m0fnuz", "e8m23", "e8m23fn", "e8m0fnone", "e2m1",
      "e2m1fn",    "e1m1fn",   "e4m3b254", "e4m3b-126", "e8m23b254",
      "e8m23b-126", "e4m3b0", "e4m3b007",
  };
  for (size_t i = 0; i < NELEM(ok); i++) {
    fp8lab_format f;
    char err[256] = "";
    if (fp8lab_format_parse(ok[i], &f, err, sizeof err) != 0)
      fail_msg("parse('%s') rejected: %s", ok[i], err);
    if (fp8lab_format_bits(&f) > 32) fail_msg("'%s' wider than 32 bits", ok[i]);
    /* every accepted format's extremes are finite, nonzero doubles */
    double mx = fp8lab_format_max(&f), mn = fp8lab_format_min_subnormal(&f);
    if (!(isfinite(mx) && mx > 0 && mn > 0 && mn <= mx))
      fail_msg("'%s': max %a, min subnormal %a", ok[i], mx, mn);
  }
  fp8lab_format f;
  assert_int_equal(fp8lab_format_parse("e4m3b007", &f, NULL, 0), 0);
  assert_int_equal(f.bias, 7);
  assert_int_equal(fp8lab_format_parse("e4m3b-126", &f, NULL, 0), 0);
  assert_int_equal(f.bias, -126);
  /* e8m23b254: max = (2 - 2^-23) 2^(254 - 254) */
  assert_int_equal(fp8lab_format_parse("e8m23b254", &f, NULL, 0), 0);
  CHECK_D("e8m23b254", "max", fp8lab_format_max(&f), 0x1.fffffep0);
  CHECK_D("e8m23b254", "min_subnormal", fp8lab_format_min_subnormal(&f),
          0x1p-276);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_is_complete),
      cmocka_unit_test(test_named_formats),
      cmocka_unit_test(test_published_numbers),
      cmocka_unit_test(test_aliases),
      cmocka_unit_test(test_parse_user_formats),
      cmocka_unit_test(test_parse_invalid),
      cmocka_unit_test(test_parse_limits_accepted),
  };
  return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
