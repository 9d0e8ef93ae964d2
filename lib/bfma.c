/* The generic block FMA (fp8lab/bfma.h): the rows, and the plain reference
 * of one instruction for any row and any operand formats.  Formats are read
 * from their descriptors; the final rounding into acc is the codec's. */
#include "fp8lab/bfma.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- the rows ------------------------------------------------------------ */

/* The accumulators, by their place in formats/format.c's table (a C
 * constant expression must name the array; tests/models checks the names). */
#define F16 (&fp8lab_formats[12])
#define F32 (&fp8lab_formats[16])

#define TRACES "fp8lab's H100 traces (data/"
#define PUBLISHED                                                              \
  "published parameters (shared/design/tensor-core-numerics.md): "

const fp8lab_bfma fp8lab_bfma_rows[] = {
    {.name = "h100-wgmma-fp8-f32", .block = 32, .frac_bits = 13,
     .c_in_block = true, .result_bits = 14, .result_round = FP8LAB_RNE,
     .acc = F32, .checked = true,
     .source = TRACES "wgmma_dev.h5, wgmma_chain_dev.h5, scaled_mm_dev.h5, "
               "scaled_gemm_dev.h5; docs/hardware-models.md); = Khattak & "
               "Mikaitis arXiv 2512.07004, MMA-Sim arXiv 2511.10909"},
    {.name = "h100-wgmma-fp8-f16", .block = 32, .frac_bits = 13,
     .c_in_block = true, .result_bits = 0, .result_round = FP8LAB_RNE,
     .acc = F16, .checked = true,
     .source = TRACES "wgmma_f16acc_dev.h5; docs/hardware-models.md)"},
    /* mma.sync FP8 on Hopper: F2FP to f16, two chained HMMA.16816 k16
     * steps (k mod 4 in {0,1}, then {2,3}) from +0, then d = fl32(c + s2). */
    {.name = "h100-mma-sync-fp8", .block = 16, .steps = 2, .interleave = 2,
     .operand = F16, .frac_bits = 25, .c_in_block = false, .result_bits = 0,
     .result_round = FP8LAB_RTZ, .acc = F32, .checked = true,
     .source = TRACES "mma_sync_dev.h5; docs/hardware-models.md); block = "
               "the published H100 fp16 row (16 products, 25 bits)"},
    {.name = "v100-hmma-f16", .block = 4, .frac_bits = 23, .c_in_block = true,
     .result_round = FP8LAB_RTZ, .acc = F32,
     .source = PUBLISHED "4 products, 23 bits; Fasi et al. PeerJ CS 7:e330 "
                         "(2021); c placement and result rounding assumed"},
    {.name = "a100-hmma-f16", .block = 8, .frac_bits = 24, .c_in_block = true,
     .result_round = FP8LAB_RTZ, .acc = F32,
     .source = PUBLISHED "8 products, 24 bits (fp16 and bf16); Khattak & "
                         "Mikaitis arXiv 2512.07004; c placement and result "
                         "rounding assumed"},
    {.name = "h100-hmma-f16", .block = 16, .frac_bits = 25, .c_in_block = true,
     .result_round = FP8LAB_RTZ, .acc = F32,
     .source = PUBLISHED "16 products, 25 bits (fp16 and bf16); Khattak & "
                         "Mikaitis arXiv 2512.07004; c placement and result "
                         "rounding assumed"},
    {.name = "ada-mma-sync-fp8", .block = 16, .steps = 2, .frac_bits = 13,
     .c_in_block = true, .result_round = FP8LAB_RTZ,
     .acc = F32,
     .source = PUBLISHED "16 products, two chained halves, 13 bits; MMA-Sim "
                         "arXiv 2511.10909; halves contiguous, c in the first "
                         "half, result RZ assumed"},
    {.name = "b200-tcgen05-fp8", .block = 32, .frac_bits = 25,
     .c_in_block = true, .result_round = FP8LAB_RTZ,
     .acc = F32,
     .source = PUBLISHED "32 products, 25 bits; MMA-Sim arXiv 2511.10909; "
                         "c placement and result rounding assumed"},
};
const size_t fp8lab_bfma_nrows =
    sizeof fp8lab_bfma_rows / sizeof fp8lab_bfma_rows[0];

const fp8lab_bfma *fp8lab_bfma_named(const char *name) {
  for (size_t i = 0; i < fp8lab_bfma_nrows; i++)
    if (strcmp(name, fp8lab_bfma_rows[i].name) == 0) return &fp8lab_bfma_rows[i];
  return NULL;
}

static int steps_of(const fp8lab_bfma *p) { return p->steps > 0 ? p->steps : 1; }
static int interleave_of(const fp8lab_bfma *p) {
  return p->interleave > 0 ? p->interleave : p->block;
}

size_t fp8lab_bfma_k(const fp8lab_bfma *p) {
  return (size_t)p->block * (size_t)steps_of(p);
}

/* ---- helpers ------------------------------------------------------------- */

static int bit_length(uint64_t x) { return x ? 64 - __builtin_clzll(x) : 0; }

/* floor(mag * 2^sh) for any integer sh: truncation toward zero. */
static uint64_t shift_rz(uint64_t mag, int sh) {
  if (sh >= 0) return mag << sh; /* callers keep the result below 2^53 */
  return -sh >= 64 ? 0 : mag >> -sh;
}

static int ceil_log2(unsigned x) {
  int r = 0;
  while ((1u << r) < x) r++;
  return r;
}

static int fail(char *err, size_t len, const char *what) {
  if (err && len) snprintf(err, len, "%s", what);
  return -1;
}

/* Can every value of `from` be written exactly in `to`?  A finite value of
 * `from` has at most from->mbits + 1 significant bits and is a multiple of
 * from's smallest subnormal (a power of two): with at least as many fraction
 * bits, a smallest subnormal no larger and a max no smaller, `to` holds it
 * in its normal range (precision) and in its subnormal range (grid). */
static bool holds(const fp8lab_format *to, const fp8lab_format *from) {
  if (to->mbits < from->mbits) return false;
  if (fp8lab_format_max(to) < fp8lab_format_max(from)) return false;
  if (fp8lab_format_min_subnormal(to) > fp8lab_format_min_subnormal(from))
    return false;
  if (fp8lab_format_has_inf(from) && !fp8lab_format_has_inf(to)) return false;
  if (fp8lab_format_has_nan(from) && !fp8lab_format_has_nan(to)) return false;
  return fp8lab_format_has_zero(to);
}

int fp8lab_bfma_check(const fp8lab_bfma *p, const fp8lab_format *fa,
                      const fp8lab_format *fb, char *err, size_t errlen) {
  if (!p || !p->acc) return fail(err, errlen, "no BFMA row");
  if (p->block < 1 || fp8lab_bfma_k(p) > FP8LAB_BFMA_MAX_K)
    return fail(err, errlen, "block * steps outside 1 .. FP8LAB_BFMA_MAX_K");
  if (p->steps > 1 && (p->interleave < 0 || p->block % interleave_of(p) != 0))
    return fail(err, errlen, "interleave must divide block (equal steps)");
  if (p->frac_bits < 0 || p->result_bits < 0 || p->result_bits > 53)
    return fail(err, errlen, "frac_bits or result_bits out of range");
  if (p->frac_bits + 2 + ceil_log2((unsigned)p->block + 1) > 53)
    return fail(err, errlen, "aligned sum wider than 53 bits");
  if (p->acc->special != FP8LAB_SPECIAL_IEEE || !p->acc->has_sign)
    return fail(err, errlen, "accumulator must be an IEEE-style signed format");
  if (!p->c_in_block && p->acc->mbits > 24)
    return fail(err, errlen, "late c needs an accumulator of <= 25 bits");
  const fp8lab_format *ops[2] = {fa, fb};
  for (int i = 0; i < 2; i++) {
    const fp8lab_format *f = ops[i];
    if (!f || fp8lab_format_bits(f) > 16 || !fp8lab_format_has_zero(f))
      return fail(err, errlen, "operands must be <= 16-bit formats with a zero");
    if (p->operand && !holds(p->operand, f))
      return fail(err, errlen, "operand format does not hold the inputs exactly");
  }
  if (p->operand && !fp8lab_format_has_zero(p->operand))
    return fail(err, errlen, "operand format has no zero");
  return 0;
}

/* ---- phase 1: unpack ----------------------------------------------------- */

/* A finite value (-1)^neg * sig * 2^(e - m), or a special. */
typedef struct operand {
  bool nan, inf, neg;
  uint64_t sig; /* 0 for zeros                                  */
  int e;        /* max(field, 1) - bias                          */
  int m;        /* fraction bits of the format it is written in */
} operand;

static inline operand unpack(const fp8lab_format *f, uint32_t code) {
  operand r = {0};
  int w = fp8lab_format_bits(f);
  if (w < 32) code &= ((uint32_t)1 << w) - 1;
  r.nan = fp8lab_format_is_nan(f, code);
  r.inf = fp8lab_format_is_inf(f, code);
  r.neg = f->has_sign && ((code >> (f->ebits + f->mbits)) & 1);
  if (r.nan || r.inf) return r;
  uint32_t field = (code >> f->mbits) & (((uint32_t)1 << f->ebits) - 1);
  uint64_t frac = code & (((uint32_t)1 << f->mbits) - 1);
  r.m = f->mbits;
  r.sig = field ? frac | (uint64_t)1 << f->mbits : frac;
  r.e = (field ? (int)field : 1) - f->bias;
  return r;
}

/* Re-express a finite operand exactly in format g (p->operand): the exponent
 * becomes max(floor(log2|x|), emin_g) and the significand g's. */
static inline operand widen(operand x, const fp8lab_format *g) {
  if (x.nan || x.inf || !g) return x;
  operand r = x;
  r.m = g->mbits;
  if (x.sig == 0) {
    r.e = fp8lab_format_emin(g);
    return r;
  }
  int lead = x.e - x.m + bit_length(x.sig) - 1;
  int emin = fp8lab_format_emin(g);
  r.e = lead > emin ? lead : emin;
  /* value = sig * 2^(e - m) = sig' * 2^(e' - m'), exact by fp8lab_bfma_check */
  r.sig = shift_rz(x.sig, (x.e - x.m) - (r.e - r.m));
  return r;
}

/* ---- the instruction ----------------------------------------------------- */

/* A term of the aligned sum: (-1)^neg * sig * 2^unit, exponent ex for E. */
typedef struct term {
  bool neg;
  uint64_t sig;
  int unit, ex;
} term;

static inline term acc_term(const fp8lab_format *acc, uint32_t bits) {
  operand x = unpack(acc, bits);
  return (term){x.neg, x.sig, x.e - x.m, x.e};
}

/* Phases 4-6 for one step: align the present terms to 2^(E-F), sum exactly,
 * truncate and round into acc.  Returns acc's bit pattern. */
static uint32_t align_sum_round(const fp8lab_bfma *p, const term *t, size_t nt) {
  const fp8lab_format *acc = p->acc;
  /* 4. align */
  bool any = false;
  int E = 0;
  for (size_t i = 0; i < nt; i++)
    if (t[i].sig && (!any || t[i].ex > E)) E = t[i].ex, any = true;
  if (!any) return 0; /* nothing present: +0 */
  const int base = E - p->frac_bits;
  /* 5. sum, exactly (|S| < 2^53 by fp8lab_bfma_check) */
  int64_t S = 0;
  for (size_t i = 0; i < nt; i++) {
    if (!t[i].sig) continue;
    int64_t v = (int64_t)shift_rz(t[i].sig, t[i].unit - base);
    S += t[i].neg ? -v : v;
  }
  /* 6. result */
  if (S == 0) return 0; /* +0 whatever the signs */
  bool neg = S < 0;
  uint64_t mag = neg ? (uint64_t)-S : (uint64_t)S;
  int L = bit_length(mag);
  if (p->result_bits > 0 && L > p->result_bits)
    mag = (mag >> (L - p->result_bits)) << (L - p->result_bits);
  double v = ldexp((double)mag, base); /* exact: mag < 2^53 */
  uint32_t sign = (uint32_t)1 << (acc->ebits + acc->mbits);
  fp8lab_cvt cvt = {.round = p->result_round};
  uint32_t d = fp8lab_encode_f64(acc, neg ? -v : v, &cvt, 0);
  if ((d & (sign - 1)) == 0) return 0; /* underflow to zero: +0 */
  return d;
}

/* The instruction over operand codes ca[0..n), cb[0..n) (already widened to
 * 32-bit integers). */
static uint32_t bfma_codes(const fp8lab_bfma *p, const fp8lab_format *fa,
                           const uint32_t *ca, const fp8lab_format *fb,
                           const uint32_t *cb, size_t n, uint32_t c) {
  const fp8lab_format *acc = p->acc;
  const uint32_t nan_code = fp8lab_format_nan_code(acc);
  const uint32_t sign = (uint32_t)1 << (acc->ebits + acc->mbits);
  if (fp8lab_bfma_check(p, fa, fb, NULL, 0) != 0) return nan_code;

  /* 1. unpack; 3. products (exact) */
  term prod[FP8LAB_BFMA_MAX_K];
  bool nan = false, pos_inf = false, neg_inf = false;
  for (size_t k = 0; k < n; k++) {
    operand x = widen(unpack(fa, ca[k]), p->operand);
    operand y = widen(unpack(fb, cb[k]), p->operand);
    bool s = x.neg != y.neg;
    prod[k] = (term){s, 0, 0, 0};
    /* 2. specials (products) */
    bool x_zero = !x.nan && !x.inf && x.sig == 0;
    bool y_zero = !y.nan && !y.inf && y.sig == 0;
    if (x.nan || y.nan || (x.inf && y_zero) || (y.inf && x_zero)) {
      nan = true;
      continue;
    }
    if (x.inf || y.inf) {
      if (s) neg_inf = true; else pos_inf = true;
      continue;
    }
    uint64_t P = x.sig * y.sig;
    int unit = (x.e - x.m) + (y.e - y.m);
    int pe = p->renormalise && P ? unit + bit_length(P) - 1 : x.e + y.e;
    prod[k] = (term){s, P, unit, pe};
  }
  /* 2. specials (c) */
  operand xc = unpack(acc, c);
  if (xc.nan) nan = true;
  if (xc.inf) {
    if (xc.neg) neg_inf = true; else pos_inf = true;
  }
  if (nan || (pos_inf && neg_inf)) return nan_code;
  if (pos_inf || neg_inf)
    return (neg_inf ? sign : 0) | fp8lab_format_inf_code(acc);

  /* 4-6, step by step; the in-block accumulator chains the steps */
  const int steps = steps_of(p), il = interleave_of(p);
  uint32_t x = p->c_in_block ? c : 0;
  for (int s = 0; s < steps; s++) {
    term t[FP8LAB_BFMA_MAX_K + 1];
    size_t nt = 0;
    /* runs of il products, every steps-th run: k / il = s (mod steps) */
    for (size_t k0 = (size_t)s * (size_t)il; k0 < n; k0 += (size_t)(steps * il))
      for (size_t k = k0; k < k0 + (size_t)il && k < n; k++) t[nt++] = prod[k];
    t[nt++] = acc_term(acc, x);
    x = align_sum_round(p, t, nt);
  }
  if (p->c_in_block) return x;

  /* 7. late c: one IEEE addition, round to nearest even */
  double sum = fp8lab_decode_f64(acc, x) + fp8lab_decode_f64(acc, c);
  static const fp8lab_cvt rne = {.round = FP8LAB_RNE};
  return fp8lab_encode_f64(acc, sum, &rne, 0);
}

/* The answer to a combination fp8lab_bfma_check rejects. */
static uint32_t rejected(const fp8lab_bfma *p) {
  return p && p->acc ? fp8lab_format_nan_code(p->acc) : 0x7FFFFFFFu;
}

uint32_t fp8lab_bfma_block(const fp8lab_bfma *p, const fp8lab_format *fa,
                           const uint8_t *a, ptrdiff_t sa,
                           const fp8lab_format *fb, const uint8_t *b,
                           ptrdiff_t sb, size_t n, uint32_t c) {
  uint32_t ca[FP8LAB_BFMA_MAX_K], cb[FP8LAB_BFMA_MAX_K];
  if (!p || !p->acc || n > fp8lab_bfma_k(p) || n > FP8LAB_BFMA_MAX_K)
    return rejected(p);
  for (size_t k = 0; k < n; k++)
    ca[k] = a[(ptrdiff_t)k * sa], cb[k] = b[(ptrdiff_t)k * sb];
  return bfma_codes(p, fa, ca, fb, cb, n, c);
}

uint32_t fp8lab_bfma_block16(const fp8lab_bfma *p, const fp8lab_format *fa,
                             const uint16_t *a, ptrdiff_t sa,
                             const fp8lab_format *fb, const uint16_t *b,
                             ptrdiff_t sb, size_t n, uint32_t c) {
  uint32_t ca[FP8LAB_BFMA_MAX_K], cb[FP8LAB_BFMA_MAX_K];
  if (!p || !p->acc || n > fp8lab_bfma_k(p) || n > FP8LAB_BFMA_MAX_K)
    return rejected(p);
  for (size_t k = 0; k < n; k++)
    ca[k] = a[(ptrdiff_t)k * sa], cb[k] = b[(ptrdiff_t)k * sb];
  return bfma_codes(p, fa, ca, fb, cb, n, c);
}
