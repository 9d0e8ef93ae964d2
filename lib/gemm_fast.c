/* The specialised GEMM engine (fp8lab/gemm.h, fp8lab_gemm_fast) for the FP22
 * rows of fp8lab/bfma.h: one block of n products with c in the block, no
 * renormalisation, the sum truncated to R <= 24 significant bits and packed
 * into f32 (h100-wgmma-fp8-f32 under hopper-wgmma, cublaslt-fast, cublaslt
 * and deepgemm), with operands of <= 8-bit formats.  Its twin is
 * fp8lab_gemm_ref; tests/models runs both on the same inputs.
 *
 * The arithmetic of one instruction, per output lane (the BFMA phases):
 *
 *   unpack    per-code tables built from the codec: the value a_f as f32
 *             (exact), the exponent e = max(floor(log2|a|), emin) as int16;
 *             zeros, NaNs and Infs get value 0 and exponent NOEXP.  Outputs
 *             whose row of A or column of B holds a NaN or an Inf, or whose
 *             initial C is not finite, are recomputed by the reference.
 *   align     E = max(e_c, max_k e_a + e_b)        (int16 lanes)
 *   products  T_k = trunc(a_f * b_f * 2^(F - E)): a_f * b_f is exact (its
 *             significand has <= 16 bits and the supported formats keep it
 *             normal), the power of two is exact unless the value is below
 *             2^-126, where it truncates to 0 either way, and the f32 -> int
 *             conversion truncates toward zero: this is the BFMA's "truncate
 *             the magnitude to a multiple of 2^(E-F)", term by term.
 *             c: T_c = sig_c >> (23 - F + E - e_c), sign applied after.
 *   sum       S = T_c + sum T_k in int32 (|S| < 2^(F+2+log2(n+1)) <= 2^24)
 *   result    |S| -> f32 exactly (< 2^24), keep its top R bits by masking
 *             the fraction, add E - F to the exponent field: the FP22 value.
 *             Lanes whose result would be subnormal or overflow (c-only
 *             blocks with a tiny c) go through the scalar rule of the
 *             reference (pack_scalar).
 *
 * Layout: B is packed in panels of W = 16 consecutive j, so that for each k
 * the 16 values (f32) and exponents (int16) are contiguous; A in rows of
 * value / exponent.  K is padded with zero codes to whole instructions
 * (zero products are absent).  Threads split row tiles of RT = 4 rows.
 * The schedules (chain, promotion by f32 add or fma32, scales) run in
 * plain C around the instruction kernel, per 4 x 16 tile of D.
 * Both kernels vectorise across j (int16 lanes for the exponent max, f32 /
 * int32 lanes for the products): the AVX2 one with intrinsics, the portable
 * one with 16-byte GNU C vector extensions (SSE2, NEON, or scalar code).
 */
#include "fp8lab/gemm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

#define W 16           /* lanes: consecutive j per packed B panel */
#define RT 4           /* rows per tile                           */
#define NOEXP (-4096)  /* exponent of a zero / special operand    */

/* ---- support ------------------------------------------------------------- */

static int ceil_log2(unsigned x) {
  int r = 0;
  while ((1u << r) < x) r++;
  return r;
}

static bool is_binary32(const fp8lab_format *f) {
  return f->ebits == 8 && f->mbits == 23 && f->bias == 127 && f->has_sign &&
         f->special == FP8LAB_SPECIAL_IEEE;
}

bool fp8lab_gemm_fast_supports(const fp8lab_gemm_args *g) {
  if (!g || !g->model || !g->fa || !g->fb) return false;
  const fp8lab_model *md = g->model;
  const fp8lab_bfma *p = md->bfma;
  if (fp8lab_model_check(md, g->fa, g->fb, NULL, 0) != 0) return false;
  if (p->steps > 1 || p->operand || !p->c_in_block || p->renormalise)
    return false;
  if (!is_binary32(p->acc) || p->result_bits < 1 || p->result_bits > 24)
    return false;
  if (p->frac_bits < 1 || p->frac_bits > 23 || p->frac_bits + 2 + ceil_log2((unsigned)p->block + 1) > 24)
    return false;
  const fp8lab_format *fa = g->fa, *fb = g->fb;
  if (fp8lab_format_bits(fa) > 8 || fp8lab_format_bits(fb) > 8) return false;
  /* products stay normal f32 values, 2^(F - E) stays finite */
  if (fp8lab_format_min_subnormal(fa) * fp8lab_format_min_subnormal(fb) <
      0x1p-126)
    return false;
  if (fp8lab_format_max(fa) * fp8lab_format_max(fb) >= 0x1p127) return false;
  if (p->frac_bits - (fp8lab_format_emin(fa) + fp8lab_format_emin(fb)) > 127)
    return false;
  /* E <= 127, so 2^(F - E) stays a normal power of two */
  if (fp8lab_format_emax(fa) + fp8lab_format_emax(fb) > 127) return false;
  return true;
}

/* ---- per-code tables, from the codec ------------------------------------- */

typedef struct code_table {
  float v[256];      /* value (0 for zeros and specials) */
  int16_t e[256];    /* exponent, NOEXP when v is 0      */
  bool special[256]; /* NaN or Inf                       */
} code_table;

static void build_table(const fp8lab_format *f, code_table *t) {
  int w = fp8lab_format_bits(f);
  int emin = fp8lab_format_emin(f);
  for (unsigned c = 0; c < 256; c++) {
    unsigned code = w < 8 ? c & ((1u << w) - 1) : c;
    t->special[c] = fp8lab_format_is_nan(f, code) || fp8lab_format_is_inf(f, code);
    double v = t->special[c] ? 0.0 : fp8lab_decode_f64(f, code);
    t->v[c] = (float)v;
    if (v == 0.0) {
      t->v[c] = 0.0f;
      t->e[c] = NOEXP;
    } else {
      int ex;
      frexp(v, &ex); /* |v| = fr * 2^ex, fr in [0.5, 1) */
      t->e[c] = (int16_t)(ex - 1 > emin ? ex - 1 : emin);
    }
  }
}

/* ---- the plan ------------------------------------------------------------ */

typedef struct kparams {
  int F;          /* frac bits                                     */
  int R;          /* result bits                                   */
  uint32_t keep;  /* f32 mask keeping R significant bits            */
  int cshift;     /* 23 - F: c's right shift when E = e_c           */
  fp8lab_round round;
} kparams;

typedef void (*instr_fn)(const float *const *af, const int16_t *const *ae,
                         const float *bf, const int16_t *be, size_t ki,
                         uint32_t x[RT][W], const kparams *q);

typedef struct plan {
  const fp8lab_gemm_args *g;
  kparams q;
  instr_fn instr;
  size_t ki, kp, npanel, ntile, ng, pk;
  code_table ta, tb;
  float *af;     /* [ntile * RT][kp]   */
  int16_t *ae;
  float *bf;     /* [npanel][kp][W]    */
  int16_t *be;
  bool *row_special, *col_special;
} plan;

/* ---- results: the BFMA's step 6 ------------------------------------------ */

static int bit_length32(uint32_t x) { return x ? 32 - __builtin_clz(x) : 0; }

/* The reference rule for S * 2^(E-F) (any range): RZ to R bits, codec. */
static uint32_t pack_scalar(int32_t S, int E, const kparams *q) {
  if (S == 0) return 0;
  bool neg = S < 0;
  uint32_t mag = neg ? (uint32_t)-(int64_t)S : (uint32_t)S;
  int L = bit_length32(mag);
  if (L > q->R) mag = (mag >> (L - q->R)) << (L - q->R);
  int base = E - q->F;
  fp8lab_cvt cvt = {.round = q->round};
  double v = ldexp((double)mag, base);
  uint32_t d = fp8lab_encode_f64(fp8lab_f32, neg ? -v : v, &cvt, 0);
  return (d & 0x7FFFFFFFu) ? d : 0;
}

/* The common case: normal results, exact in f32. */
static inline uint32_t pack_lane(int32_t S, int E, const kparams *q) {
  if (S == 0) return 0;
  uint32_t sgn = (uint32_t)S & 0x80000000u;
  uint32_t mag = S < 0 ? (uint32_t)-(int64_t)S : (uint32_t)S;
  uint32_t fm = fp8lab_f32_bits((float)mag) & q->keep;
  int biased = (int)(fm >> 23) + E - q->F;
  if (biased < 1 || biased > 254) return pack_scalar(S, E, q);
  return (fm + ((uint32_t)(E - q->F) << 23)) | sgn;
}

/* ---- the portable kernel ---------------------------------------------------- */

/* GNU C vector extensions of 16 bytes (GCC, Clang): SSE2 on x86-64, NEON on
 * AArch64, scalar code elsewhere.  The 16 lanes are 4 x 4 (f32, int32) or
 * 2 x 8 (int16). */
typedef int16_t v8hi __attribute__((vector_size(16)));
typedef int32_t v4si __attribute__((vector_size(16)));
typedef uint32_t v4su __attribute__((vector_size(16)));
typedef float v4sf __attribute__((vector_size(16)));
#define NV (W / 4)

static void instr_portable(const float *const *af, const int16_t *const *ae,
                           const float *bf, const int16_t *be, size_t ki,
                           uint32_t x[RT][W], const kparams *q) {
  for (int r = 0; r < RT; r++) {
    int16_t ec[W], E[W];
    for (int l = 0; l < W; l++) {
      uint32_t c = x[r][l], field = (c >> 23) & 0xFF;
      ec[l] = (int16_t)((c & 0x7FFFFFFF) ? (field ? (int)field : 1) - 127 : NOEXP);
    }
    /* align: the largest exponent, int16 lanes */
    v8hi E0, E1;
    memcpy(&E0, ec, 16), memcpy(&E1, ec + 8, 16);
    for (size_t k = 0; k < ki; k++) {
      v8hi b0, b1;
      memcpy(&b0, be + k * W, 16), memcpy(&b1, be + k * W + 8, 16);
      v8hi a = (v8hi){0} + ae[r][k];
      v8hi p0 = a + b0, p1 = a + b1;
      v8hi g0 = p0 > E0, g1 = p1 > E1;
      E0 = (p0 & g0) | (E0 & ~g0), E1 = (p1 & g1) | (E1 & ~g1);
    }
    memcpy(E, &E0, 16), memcpy(E + 8, &E1, 16);
    /* c's term and the scale 2^(F - E), lane by lane */
    int32_t S[W];
    float sc[W];
    for (int l = 0; l < W; l++) {
      uint32_t c = x[r][l], field = (c >> 23) & 0xFF;
      uint32_t sig = (c & 0x7FFFFF) | (field ? 0x800000u : 0);
      int sh = q->cshift + E[l] - ec[l];
      int32_t t = sh < 32 ? (int32_t)(sig >> sh) : 0;
      S[l] = (c >> 31) ? -t : t;
      int eb = q->F - E[l] + 127;
      eb = eb < 1 ? 1 : eb > 254 ? 254 : eb;
      sc[l] = fp8lab_f32_from_bits((uint32_t)eb << 23);
    }
    /* products, truncated toward zero by the conversion, summed */
    v4si Sv[NV];
    v4sf scv[NV];
    memcpy(Sv, S, sizeof Sv), memcpy(scv, sc, sizeof scv);
    for (size_t k = 0; k < ki; k++) {
      v4sf a = (v4sf){0} + af[r][k], b[NV];
      memcpy(b, bf + k * W, sizeof b);
      for (int v = 0; v < NV; v++)
        Sv[v] += __builtin_convertvector((a * b[v]) * scv[v], v4si);
    }
    memcpy(S, Sv, sizeof S);
    for (int l = 0; l < W; l++) x[r][l] = pack_lane(S[l], E[l], q);
  }
}

/* ---- the AVX2 kernel -------------------------------------------------------- */

#if HAVE_X86
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static void instr_avx2(const float *const *af, const int16_t *const *ae,
                            const float *bf, const int16_t *be, size_t ki,
                            uint32_t x[RT][W], const kparams *q) {
  const __m256i noexp = _mm256_set1_epi32(NOEXP);
  const __m256i one = _mm256_set1_epi32(1), b127 = _mm256_set1_epi32(127);
  const __m256i hid = _mm256_set1_epi32(0x800000), mmask = _mm256_set1_epi32(0x7FFFFF);
  const __m256i absmask = _mm256_set1_epi32(0x7FFFFFFF);
  __m256i xv[RT][2], ec[RT][2], E16[RT];
  /* unpack c */
  for (int r = 0; r < RT; r++) {
    for (int h = 0; h < 2; h++) {
      __m256i c = _mm256_loadu_si256((const __m256i *)&x[r][8 * h]);
      __m256i field = _mm256_and_si256(_mm256_srli_epi32(c, 23), _mm256_set1_epi32(0xFF));
      __m256i e = _mm256_sub_epi32(_mm256_max_epi32(field, one), b127);
      __m256i zero = _mm256_cmpeq_epi32(_mm256_and_si256(c, absmask), _mm256_setzero_si256());
      xv[r][h] = c;
      ec[r][h] = _mm256_blendv_epi8(e, noexp, zero);
    }
    E16[r] = _mm256_permute4x64_epi64(_mm256_packs_epi32(ec[r][0], ec[r][1]), 0xD8);
  }
  /* align: E = max(e_c, e_a + e_b), 16 lanes of int16 */
  for (size_t k = 0; k < ki; k++) {
    __m256i b = _mm256_loadu_si256((const __m256i *)(be + k * W));
    for (int r = 0; r < RT; r++)
      E16[r] = _mm256_max_epi16(E16[r], _mm256_add_epi16(b, _mm256_set1_epi16(ae[r][k])));
  }
  const __m256i F = _mm256_set1_epi32(q->F), cshift = _mm256_set1_epi32(q->cshift);
  const __m256i lo1 = _mm256_set1_epi32(1), hi254 = _mm256_set1_epi32(254);
  for (int h = 0; h < 2; h++) {
    __m256i E[RT], S[RT];
    __m256 sc[RT];
    for (int r = 0; r < RT; r++) {
      __m128i e16 = h ? _mm256_extracti128_si256(E16[r], 1) : _mm256_castsi256_si128(E16[r]);
      E[r] = _mm256_cvtepi16_epi32(e16);
      /* c's term: sig >> (23 - F + E - e_c), sign after */
      __m256i c = xv[r][h];
      __m256i field = _mm256_and_si256(_mm256_srli_epi32(c, 23), _mm256_set1_epi32(0xFF));
      __m256i sig = _mm256_or_si256(
          _mm256_and_si256(c, mmask),
          _mm256_andnot_si256(_mm256_cmpeq_epi32(field, _mm256_setzero_si256()), hid));
      __m256i sh = _mm256_add_epi32(cshift, _mm256_sub_epi32(E[r], ec[r][h]));
      __m256i t = _mm256_srlv_epi32(sig, sh);
      S[r] = _mm256_sign_epi32(t, _mm256_or_si256(c, one)); /* c < 0: -t */
      /* 2^(F - E), clamped to finite normal powers */
      __m256i eb = _mm256_add_epi32(_mm256_sub_epi32(F, E[r]), b127);
      eb = _mm256_min_epi32(_mm256_max_epi32(eb, lo1), hi254);
      sc[r] = _mm256_castsi256_ps(_mm256_slli_epi32(eb, 23));
    }
    /* products, truncated toward zero by the conversion, summed (the
     * four rows spelled out: the accumulators stay in registers) */
    _Static_assert(RT == 4, "the AVX2 product loop is written for 4 rows");
    {
      const float *a0 = af[0], *a1 = af[1], *a2 = af[2], *a3 = af[3];
      __m256i S0 = S[0], S1 = S[1], S2 = S[2], S3 = S[3];
      const __m256 sc0 = sc[0], sc1 = sc[1], sc2 = sc[2], sc3 = sc[3];
      const float *bp = bf + 8 * h;
      for (size_t k = 0; k < ki; k++, bp += W) {
        __m256 b = _mm256_loadu_ps(bp);
#define TERM(S, a, sc)                                                          \
  S = _mm256_add_epi32(                                                        \
      S, _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(a[k]), b), sc)))
        TERM(S0, a0, sc0);
        TERM(S1, a1, sc1);
        TERM(S2, a2, sc2);
        TERM(S3, a3, sc3);
#undef TERM
      }
      S[0] = S0, S[1] = S1, S[2] = S2, S[3] = S3;
    }
    /* result: |S| exactly in f32, top R bits, exponent + E - F */
    const __m256i keep = _mm256_set1_epi32((int)q->keep);
    for (int r = 0; r < RT; r++) {
      __m256i sgn = _mm256_and_si256(S[r], _mm256_set1_epi32((int)0x80000000u));
      __m256i fm = _mm256_and_si256(
          _mm256_castps_si256(_mm256_cvtepi32_ps(_mm256_abs_epi32(S[r]))), keep);
      __m256i ef = _mm256_sub_epi32(E[r], F);
      __m256i biased = _mm256_add_epi32(_mm256_srli_epi32(fm, 23), ef);
      __m256i nz = _mm256_cmpeq_epi32(S[r], _mm256_setzero_si256()); /* zero */
      __m256i bad = _mm256_andnot_si256(
          nz, _mm256_or_si256(_mm256_cmpgt_epi32(lo1, biased),
                              _mm256_cmpgt_epi32(biased, hi254)));
      __m256i res = _mm256_or_si256(_mm256_add_epi32(fm, _mm256_slli_epi32(ef, 23)), sgn);
      res = _mm256_andnot_si256(nz, res);
      _mm256_storeu_si256((__m256i *)&x[r][8 * h], res);
      if (_mm256_movemask_epi8(bad)) {
        int32_t s[8], e[8];
        _mm256_storeu_si256((__m256i *)s, S[r]);
        _mm256_storeu_si256((__m256i *)e, E[r]);
        for (int l = 0; l < 8; l++) x[r][8 * h + l] = pack_lane(s[l], e[l], q);
      }
    }
  }
}
#endif

bool fp8lab_gemm_kernel_available(fp8lab_gemm_kernel k) {
  switch (k) {
  case FP8LAB_KERNEL_AUTO:
  case FP8LAB_KERNEL_PORTABLE: return true;
  case FP8LAB_KERNEL_AVX2:
#if HAVE_X86
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
  }
  return false;
}

const char *fp8lab_gemm_kernel_name(fp8lab_gemm_kernel k) {
  switch (k) {
  case FP8LAB_KERNEL_AUTO: return "auto";
  case FP8LAB_KERNEL_PORTABLE: return "portable";
  case FP8LAB_KERNEL_AVX2: return "avx2";
  }
  return "?";
}

/* ---- packing --------------------------------------------------------------- */

static void pack_a_rows(void *ctx, size_t t0, size_t t1) {
  plan *pl = ctx;
  const fp8lab_gemm_args *g = pl->g;
  for (size_t i = t0 * RT; i < t1 * RT; i++) {
    float *v = pl->af + i * pl->kp;
    int16_t *e = pl->ae + i * pl->kp;
    bool special = false;
    for (size_t k = 0; k < pl->kp; k++) {
      unsigned c = 0;
      if (i < g->m && k < g->k) c = g->a[(ptrdiff_t)i * g->a_rs + (ptrdiff_t)k * g->a_cs];
      v[k] = i < g->m && k < g->k ? pl->ta.v[c] : 0.0f;
      e[k] = i < g->m && k < g->k ? pl->ta.e[c] : NOEXP;
      special |= i < g->m && k < g->k && pl->ta.special[c];
    }
    if (i < g->m) pl->row_special[i] = special;
  }
}

static void pack_b_panels(void *ctx, size_t p0, size_t p1) {
  plan *pl = ctx;
  const fp8lab_gemm_args *g = pl->g;
  for (size_t p = p0; p < p1; p++) {
    float *v = pl->bf + p * pl->kp * W;
    int16_t *e = pl->be + p * pl->kp * W;
    for (int l = 0; l < W; l++) {
      size_t j = p * W + (size_t)l;
      bool special = false;
      for (size_t k = 0; k < pl->kp; k++) {
        bool in = j < g->n && k < g->k;
        unsigned c = in ? g->b[(ptrdiff_t)k * g->b_rs + (ptrdiff_t)j * g->b_cs] : 0;
        v[k * W + (size_t)l] = in ? pl->tb.v[c] : 0.0f;
        e[k * W + (size_t)l] = in ? pl->tb.e[c] : NOEXP;
        special |= in && pl->tb.special[c];
      }
      if (j < g->n) pl->col_special[j] = special;
    }
  }
}

/* ---- the driver over row tiles -------------------------------------------- */

static bool c_special(const fp8lab_gemm_args *g, size_t i, size_t j) {
  if (!g->model->c_as_initial || !g->c) return false;
  return !isfinite(g->c[(ptrdiff_t)i * g->c_rs + (ptrdiff_t)j]);
}

static void reference_one(const plan *pl, size_t i, size_t j) {
  const fp8lab_gemm_args *g = pl->g;
  bool bw = g->scales.mode == FP8LAB_SCALE_BLOCKWISE;
  const float *sa = bw ? g->scales.tile_a + i * pl->ng : NULL;
  const float *sb = bw ? g->scales.block_b + (j / FP8LAB_GEMM_BLOCK_N) * pl->ng : NULL;
  uint32_t acc = fp8lab_model_dot(g->model, g->fa, g->a + (ptrdiff_t)i * g->a_rs,
                                  g->a_cs, g->fb, g->b + (ptrdiff_t)j * g->b_cs,
                                  g->b_rs, g->k, fp8lab_gemm_initial(g, i, j), sa, sb);
  fp8lab_gemm_epilogue(g, i, j, acc);
}

static void tile_rows(void *ctx, size_t t0, size_t t1) {
  const plan *pl = ctx;
  const fp8lab_gemm_args *g = pl->g;
  const fp8lab_model *md = g->model;
  const bool chain = md->schedule == FP8LAB_SCHED_CHAIN;
  const bool fma = md->schedule == FP8LAB_SCHED_PROMOTE_FMA;
  const bool bw = g->scales.mode == FP8LAB_SCALE_BLOCKWISE;
  for (size_t p = 0; p < pl->npanel; p++) {
    const float *bf = pl->bf + p * pl->kp * W;
    const int16_t *be = pl->be + p * pl->kp * W;
    for (size_t t = t0; t < t1; t++) {
      uint32_t x[RT][W];
      float acc[RT][W];
      const float *af[RT];
      const int16_t *ae[RT];
      for (int r = 0; r < RT; r++) {
        size_t i = t * RT + (size_t)r;
        for (int l = 0; l < W; l++) {
          size_t j = p * W + (size_t)l;
          bool in = i < g->m && j < g->n && !c_special(g, i, j);
          x[r][l] = in && chain ? fp8lab_gemm_initial(g, i, j) : 0;
          acc[r][l] = 0.0f;
        }
      }
      if (chain) {
        for (size_t k0 = 0; k0 < pl->kp; k0 += pl->ki) {
          for (int r = 0; r < RT; r++) {
            af[r] = pl->af + (t * RT + (size_t)r) * pl->kp + k0;
            ae[r] = pl->ae + (t * RT + (size_t)r) * pl->kp + k0;
          }
          pl->instr(af, ae, bf + k0 * W, be + k0 * W, pl->ki, x, &pl->q);
        }
      } else {
        for (size_t k0 = 0, grp = 0; k0 < pl->kp; k0 += pl->pk, grp++) {
          memset(x, 0, sizeof x); /* the partial restarts at +0 */
          size_t k1 = k0 + pl->pk < pl->kp ? k0 + pl->pk : pl->kp;
          for (size_t kk = k0; kk < k1; kk += pl->ki) {
            for (int r = 0; r < RT; r++) {
              af[r] = pl->af + (t * RT + (size_t)r) * pl->kp + kk;
              ae[r] = pl->ae + (t * RT + (size_t)r) * pl->kp + kk;
            }
            pl->instr(af, ae, bf + kk * W, be + kk * W, pl->ki, x, &pl->q);
          }
          for (int r = 0; r < RT; r++) {
            size_t i = t * RT + (size_t)r;
            float sa = bw && i < g->m ? g->scales.tile_a[i * pl->ng + grp] : 1.0f;
            for (int l = 0; l < W; l++) {
              float part = fp8lab_f32_from_bits(x[r][l]);
              if (!fma) {
                acc[r][l] = (float)((double)acc[r][l] + (double)part);
              } else {
                size_t j = p * W + (size_t)l;
                float sb = bw && j < g->n
                               ? g->scales.block_b[(j / FP8LAB_GEMM_BLOCK_N) * pl->ng + grp]
                               : 1.0f;
                float s = (float)((double)sa * (double)sb);
                acc[r][l] = fmaf(s, part, acc[r][l]);
              }
            }
          }
        }
        for (int r = 0; r < RT; r++)
          for (int l = 0; l < W; l++) {
            float v = acc[r][l];
            x[r][l] = isnan(v) ? 0x7FFFFFFFu : fp8lab_f32_bits(v);
          }
      }
      for (int r = 0; r < RT; r++) {
        size_t i = t * RT + (size_t)r;
        if (i >= g->m) break;
        for (int l = 0; l < W; l++) {
          size_t j = p * W + (size_t)l;
          if (j >= g->n) break;
          if (pl->row_special[i] || pl->col_special[j] || c_special(g, i, j))
            reference_one(pl, i, j);
          else
            fp8lab_gemm_epilogue(g, i, j, x[r][l]);
        }
      }
    }
  }
}

static int fail(char *err, size_t len, const char *what) {
  if (err && len) snprintf(err, len, "%s", what);
  return -1;
}

int fp8lab_gemm_fast_ex(const fp8lab_gemm_args *g, fp8lab_gemm_kernel kernel,
                        char *err, size_t errlen) {
  if (fp8lab_gemm_check(g, err, errlen) != 0) return -1;
  if (!fp8lab_gemm_fast_supports(g))
    return fail(err, errlen, "no specialised kernel for this model and formats");
  if (!fp8lab_gemm_kernel_available(kernel))
    return fail(err, errlen, "kernel variant not available on this CPU");
  if (g->m == 0 || g->n == 0) return 0;

  plan *pl = calloc(1, sizeof *pl);
  if (!pl) return fail(err, errlen, "out of memory");
  const fp8lab_bfma *p = g->model->bfma;
  pl->g = g;
  pl->q = (kparams){.F = p->frac_bits, .R = p->result_bits,
                    .keep = ~((1u << (24 - p->result_bits)) - 1u),
                    .cshift = p->acc->mbits - p->frac_bits,
                    .round = p->result_round};
  pl->instr = instr_portable;
#if HAVE_X86
  if (kernel == FP8LAB_KERNEL_AVX2 ||
      (kernel == FP8LAB_KERNEL_AUTO && fp8lab_gemm_kernel_available(FP8LAB_KERNEL_AVX2)))
    pl->instr = instr_avx2;
#endif
  pl->ki = fp8lab_bfma_k(p);
  pl->kp = (g->k + pl->ki - 1) / pl->ki * pl->ki;
  pl->pk = g->model->promote_k > 0 ? (size_t)g->model->promote_k : pl->kp;
  pl->ng = g->model->promote_k > 0 ? (g->k + pl->pk - 1) / pl->pk : 0;
  pl->npanel = (g->n + W - 1) / W;
  pl->ntile = (g->m + RT - 1) / RT;
  build_table(g->fa, &pl->ta);
  build_table(g->fb, &pl->tb);
  size_t mrows = pl->ntile * RT, ncols = pl->npanel * W;
  pl->af = malloc(mrows * pl->kp * sizeof *pl->af + 1);
  pl->ae = malloc(mrows * pl->kp * sizeof *pl->ae + 1);
  pl->bf = malloc(ncols * pl->kp * sizeof *pl->bf + 1);
  pl->be = malloc(ncols * pl->kp * sizeof *pl->be + 1);
  pl->row_special = calloc(g->m, sizeof *pl->row_special);
  pl->col_special = calloc(g->n, sizeof *pl->col_special);
  int rc = 0;
  if (!pl->af || !pl->ae || !pl->bf || !pl->be || !pl->row_special ||
      !pl->col_special) {
    rc = fail(err, errlen, "out of memory");
  } else {
    fp8lab_gemm_parallel(pl->ntile, g->threads, pack_a_rows, pl);
    fp8lab_gemm_parallel(pl->npanel, g->threads, pack_b_panels, pl);
    fp8lab_gemm_parallel(pl->ntile, g->threads, tile_rows, pl);
  }
  free(pl->af), free(pl->ae), free(pl->bf), free(pl->be);
  free(pl->row_special), free(pl->col_special);
  free(pl);
  return rc;
}

int fp8lab_gemm_fast(const fp8lab_gemm_args *g, char *err, size_t errlen) {
  return fp8lab_gemm_fast_ex(g, FP8LAB_KERNEL_AUTO, err, errlen);
}
