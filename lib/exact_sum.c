/* The superaccumulator (algorithm and contract in fp8lab/exact_sum.h). */
#include "fp8lab/exact_sum.h"

#include <math.h>
#include <string.h>

#define N FP8LAB_EXACT_SUM_LIMBS
#define LSB FP8LAB_EXACT_SUM_LSB
#define DIGIT 32
#define DMASK 0xFFFFFFFFu
#define MAX_PENDING (1u << 30) /* deposits of < 2^32 each before a carry pass */

/* Canonical form and magnitude of a sum: digits d[0..N) in [0, 2^32). */
typedef struct {
  uint32_t d[N];
  int neg;
  int top; /* index of the highest nonzero digit, -1 for zero */
} magnitude;

/* ---- step 3: carry propagation ----------------------------------------- */

/* limb[i] = low 32 bits, carry the floor quotient up; the top limb keeps the
 * rest with its sign.  The value is unchanged. */
static void carry(int64_t *limb) {
  int64_t c = 0;
  for (int i = 0; i < N - 1; i++) {
    int64_t v = limb[i] + c;
    int64_t low = (int64_t)((uint64_t)v & DMASK);
    c = (v - low) / ((int64_t)1 << DIGIT); /* exact: v - low is a multiple */
    limb[i] = low;
  }
  limb[N - 1] += c;
}

/* ---- step 2: deposit ---------------------------------------------------- */

/* S += (-1)^neg * (mhi 2^64 + mlo) * 2^(pos + LSB), pos >= 0, value < 2^107. */
static void deposit(fp8lab_exact_sum *s, int neg, uint64_t mhi, uint64_t mlo,
                    int pos) {
  uint32_t w[5] = {(uint32_t)mlo, (uint32_t)(mlo >> 32), (uint32_t)mhi,
                   (uint32_t)(mhi >> 32), 0};
  int i = pos / DIGIT, o = pos % DIGIT;
  uint32_t c[5];
  for (int k = 0; k < 5; k++) {
    uint64_t hi = (uint64_t)w[k] << o;
    uint64_t lo = k > 0 && o > 0 ? (uint64_t)w[k - 1] >> (DIGIT - o) : 0;
    c[k] = (uint32_t)((hi | lo) & DMASK);
  }
  for (int k = 0; k < 5 && i + k < N; k++)
    if (c[k]) s->limb[i + k] += neg ? -(int64_t)c[k] : (int64_t)c[k];
  if (++s->pending >= MAX_PENDING) {
    carry(s->limb);
    s->pending = 0;
  }
}

/* ---- step 1: unpack ----------------------------------------------------- */

/* |x| = M 2^(e - 52) with M < 2^53 (raw fraction for subnormals). */
static void unpack(double x, uint64_t *M, int *e, int *neg) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  *neg = (int)(b >> 63);
  int bexp = (int)(b >> 52) & 0x7FF;
  uint64_t frac = b & (((uint64_t)1 << 52) - 1);
  *M = bexp ? frac | (uint64_t)1 << 52 : frac;
  *e = bexp ? bexp - 1023 : -1022;
}

static void special(fp8lab_exact_sum *s, double x) {
  if (isnan(x)) s->nan = 1;
  else if (x > 0) s->ninf_pos += s->ninf_pos < UINT32_MAX;
  else s->ninf_neg += s->ninf_neg < UINT32_MAX;
}

void fp8lab_exact_sum_init(fp8lab_exact_sum *s) { memset(s, 0, sizeof *s); }

void fp8lab_exact_sum_add(fp8lab_exact_sum *s, double x) {
  if (!isfinite(x)) {
    special(s, x);
    return;
  }
  if (x == 0) return;
  uint64_t M;
  int e, neg;
  unpack(x, &M, &e, &neg);
  deposit(s, neg, 0, M, e - 52 - LSB); /* >= -1074 + 2176 */
}

/* 64 x 64 -> 128-bit product from 32-bit halves. */
static void mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
  uint64_t a0 = a & DMASK, a1 = a >> 32, b0 = b & DMASK, b1 = b >> 32;
  uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  uint64_t mid = (p00 >> 32) + (p01 & DMASK) + (p10 & DMASK);
  *lo = (mid << 32) | (p00 & DMASK);
  *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

void fp8lab_exact_sum_add_prod(fp8lab_exact_sum *s, double a, double b) {
  if (!isfinite(a) || !isfinite(b)) {
    if (isnan(a) || isnan(b) || a == 0 || b == 0) s->nan = 1;
    else special(s, a * b);
    return;
  }
  if (a == 0 || b == 0) return;
  uint64_t Ma, Mb, hi, lo;
  int ea, eb, na, nb;
  unpack(a, &Ma, &ea, &na);
  unpack(b, &Mb, &eb, &nb);
  mul64(Ma, Mb, &hi, &lo);
  deposit(s, na ^ nb, hi, lo, ea + eb - 104 - LSB); /* >= -2148 + 2176 */
}

void fp8lab_exact_sum_add_sum(fp8lab_exact_sum *s, const fp8lab_exact_sum *t) {
  /* both in canonical form: each limb then moves by < 2^32, one deposit */
  fp8lab_exact_sum u = *t;
  carry(u.limb);
  carry(s->limb);
  for (int i = 0; i < N; i++) s->limb[i] += u.limb[i];
  s->pending = 1;
  s->nan |= t->nan;
  s->ninf_pos = s->ninf_pos + t->ninf_pos < s->ninf_pos ? UINT32_MAX
                                                        : s->ninf_pos + t->ninf_pos;
  s->ninf_neg = s->ninf_neg + t->ninf_neg < s->ninf_neg ? UINT32_MAX
                                                        : s->ninf_neg + t->ninf_neg;
}

/* ---- step 4: round ------------------------------------------------------ */

/* Specials first: NaN, or +-Inf; returns 0 when S is finite. */
static int special_value(const fp8lab_exact_sum *s, double *v) {
  if (s->nan || (s->ninf_pos && s->ninf_neg)) return *v = NAN, 1;
  if (s->ninf_pos) return *v = INFINITY, 1;
  if (s->ninf_neg) return *v = -INFINITY, 1;
  return 0;
}

static void magnitude_of(const fp8lab_exact_sum *s, magnitude *m) {
  int64_t l[N];
  memcpy(l, s->limb, sizeof l);
  carry(l);
  m->neg = l[N - 1] < 0;
  if (m->neg) { /* negate and carry again: every digit then in [0, 2^32) */
    for (int i = 0; i < N; i++) l[i] = -l[i];
    carry(l);
  }
  m->top = -1;
  for (int i = 0; i < N; i++) {
    m->d[i] = (uint32_t)l[i]; /* top limb < 2^32 for any reachable sum */
    if (l[i]) m->top = i;
  }
}

/* Bit at absolute exponent p (weight 2^p) of the magnitude. */
static unsigned bit_at(const magnitude *m, int p) {
  int q = p - LSB;
  if (q < 0 || q >= N * DIGIT) return 0;
  return (m->d[q / DIGIT] >> (q % DIGIT)) & 1u;
}

/* Bits [p, p + n) as an integer, n <= 64. */
static uint64_t bits(const magnitude *m, int p, int n) {
  uint64_t v = 0;
  for (int k = n - 1; k >= 0; k--) v = v << 1 | bit_at(m, p + k);
  return v;
}

/* Any bit strictly below weight 2^p? */
static int any_below(const magnitude *m, int p) {
  int q = p - LSB;
  if (q <= 0) return 0;
  if (q >= N * DIGIT) q = N * DIGIT;
  int i = q / DIGIT, o = q % DIGIT;
  for (int k = 0; k < i; k++)
    if (m->d[k]) return 1;
  return o && i < N && (m->d[i] & (((uint32_t)1 << o) - 1)) != 0;
}

/* Exponent of the leading bit (|S| in [2^e, 2^(e+1))); m->top >= 0. */
static int lead(const magnitude *m) {
  uint32_t d = m->d[m->top];
  return LSB + m->top * DIGIT + 31 - __builtin_clz(d);
}

int fp8lab_exact_sum_sign(const fp8lab_exact_sum *s) {
  double v;
  if (special_value(s, &v)) return isnan(v) ? 0 : (v > 0 ? 1 : -1);
  magnitude m;
  magnitude_of(s, &m);
  return m.top < 0 ? 0 : (m.neg ? -1 : 1);
}

double fp8lab_exact_sum_f64_rne(const fp8lab_exact_sum *s) {
  double v;
  if (special_value(s, &v)) return v;
  magnitude m;
  magnitude_of(s, &m);
  if (m.top < 0) return 0.0;
  int e = lead(&m);
  if (e >= 1024) return m.neg ? -INFINITY : INFINITY;
  int lsb = e - 52 > -1074 ? e - 52 : -1074;
  uint64_t kept = bits(&m, lsb, e - lsb + 1);
  unsigned guard = bit_at(&m, lsb - 1);
  int sticky = any_below(&m, lsb - 1);
  kept += guard && (sticky || (kept & 1)); /* RNE; 2^53 carries exactly */
  v = ldexp((double)kept, lsb);             /* >= 2^1024 gives Inf */
  return m.neg ? -v : v;
}

void fp8lab_exact_sum_dd_rto(const fp8lab_exact_sum *s, double *hi, double *lo) {
  double v;
  *lo = 0;
  if (special_value(s, &v)) {
    *hi = v;
    return;
  }
  magnitude m;
  magnitude_of(s, &m);
  if (m.top < 0) {
    *hi = 0.0;
    return;
  }
  int e = lead(&m);
  if (e >= 1024) {
    *hi = m.neg ? -0x1p1023 : 0x1p1023;
    return;
  }
  int p = e - 105 > -1074 ? e - 105 : -1074;  /* last place of RTO(S) */
  int ph = e - 52 > -1074 ? e - 52 : -1074;   /* last place of hi       */
  uint64_t h = e >= ph ? bits(&m, ph, e - ph + 1) : 0;
  uint64_t l = bits(&m, p, ph - p);           /* ph - p <= 53 bits      */
  if (any_below(&m, p)) { /* round to odd: set the last place */
    if (ph == p) h |= 1;
    else l |= 1;
  }
  double H = ldexp((double)h, ph), L = ldexp((double)l, p);
  *hi = m.neg ? -H : H;
  *lo = m.neg ? -L : L;
}

uint32_t fp8lab_exact_sum_encode(const fp8lab_exact_sum *s,
                                 const fp8lab_format *f, const fp8lab_cvt *c,
                                 uint64_t u) {
  double hi, lo;
  fp8lab_exact_sum_dd_rto(s, &hi, &lo);
  return fp8lab_encode_dd(f, hi, lo, c, u);
}

double fp8lab_exact_sum_f64(const double *x, size_t incx, size_t n) {
  fp8lab_exact_sum s;
  fp8lab_exact_sum_init(&s);
  for (size_t i = 0; i < n; i++) fp8lab_exact_sum_add(&s, x[i * incx]);
  return fp8lab_exact_sum_f64_rne(&s);
}

double fp8lab_exact_dot_f64(const double *x, size_t incx, const double *y,
                            size_t incy, size_t n) {
  fp8lab_exact_sum s;
  fp8lab_exact_sum_init(&s);
  for (size_t i = 0; i < n; i++)
    fp8lab_exact_sum_add_prod(&s, x[i * incx], y[i * incy]);
  return fp8lab_exact_sum_f64_rne(&s);
}
