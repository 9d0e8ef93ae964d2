/*
 * The specialised f32 -> 8-bit kernels (formats/convert_fast.c) against their
 * reference twin, fp8lab_encode_f32_array_ref (the scalar codec in a loop).
 *
 *   test_convert_fast unit
 *       every kernel on edge cases (every f32 exponent with bit patterns at
 *       each rounding position, the midpoints between adjacent codes and
 *       their f32 neighbours, Inf, NaN, zeros) and 2^22 random patterns;
 *       lengths 0..130 at every misalignment with guard bytes around the
 *       output and an unmapped page after the input; which (format, cvt)
 *       pairs get a kernel; and fp8lab_encode_f32_array_mt giving the same
 *       codes for 1, 2, 3 and 7 threads, stochastic rounding included.
 *   test_convert_fast exhaustive [--complement] [--nan POLICY] [FORMAT...]
 *       all 2^32 f32 inputs through every kernel of the listed formats and
 *       NaN policy (or, with --complement, through every other kernel), in
 *       chunks of 2^22 over one thread per CPU; a mismatch names the first
 *       input, the kernel's code and the reference's.  The reference codec
 *       runs at ~45 M inputs/s per thread, so each kernel takes about
 *       50 s on two cores.
 *
 * Random inputs are seeded by their index (splitmix64 of the index), so a
 * failing one reruns by number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fp8lab/convert.h"
#include "internal.h"

/* ---- the conversions a kernel may serve --------------------------------- */

typedef struct {
  const fp8lab_format *f;
  fp8lab_cvt c;
  char name[64];
} case_t;

static const bool sat_values[] = {true, false};
static const fp8lab_nan_policy nan_values[] = {FP8LAB_NAN_CANONICAL,
                                               FP8LAB_NAN_SIGNED};

static void case_init(case_t *k, const fp8lab_format *f, bool sat,
                      fp8lab_nan_policy nan) {
  k->f = f;
  k->c = (fp8lab_cvt){.round = FP8LAB_RNE, .saturate = sat, .nan = nan};
  snprintf(k->name, sizeof k->name, "%s_rne_%s_%s", f->name,
           sat ? "sat" : "nosat",
           nan == FP8LAB_NAN_SIGNED ? "signed" : "canonical");
}

/* Every (named format, saturation, NaN policy) that has a kernel; *n gets
 * the count.  Caller frees. */
static case_t *kernel_cases(size_t *n) {
  size_t cap = fp8lab_nformats * 4, m = 0;
  case_t *v = calloc(cap, sizeof *v);
  if (!v) return NULL;
  for (size_t i = 0; i < fp8lab_nformats; i++)
    for (size_t s = 0; s < sizeof sat_values / sizeof sat_values[0]; s++)
      for (size_t p = 0; p < sizeof nan_values / sizeof nan_values[0]; p++) {
        case_t k;
        case_init(&k, &fp8lab_formats[i], sat_values[s], nan_values[p]);
        if (fp8lab_encode_f32_fast_kernel(k.f, &k.c)) v[m++] = k;
      }
  *n = m;
  return v;
}

/* ---- inputs --------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

static float from_bits(uint32_t b) { return fp8lab_f32_from_bits(b); }

/* Edge-case f32 patterns for format f; returns the count written (at most
 * cap). */
static size_t edge_inputs(const fp8lab_format *f, float *v, size_t cap) {
  size_t n = 0;
#define PUT(b)                                   \
  do {                                           \
    if (n < cap) v[n++] = from_bits((uint32_t)(b)); \
  } while (0)
  /* every exponent, fractions around each bit position */
  for (uint32_t e = 0; e < 256; e++)
    for (int k = 0; k < 23; k++) {
      uint32_t one = 1u << k;
      uint32_t fr[] = {0, one, one - 1, one + 1, one | (one >> 1), 0x7FFFFF,
                       0x7FFFFF ^ one};
      for (size_t j = 0; j < sizeof fr / sizeof fr[0]; j++)
        for (uint32_t s = 0; s < 2; s++)
          PUT(s << 31 | e << 23 | (fr[j] & 0x7FFFFF));
    }
  /* each finite value of f, the midpoints between neighbours, and their
   * f32 neighbours (ties, one ulp either side) */
  uint32_t ncodes = fp8lab_format_ncodes(f);
  uint32_t half = ncodes >> 1; /* magnitudes: codes 0 .. half-1 */
  double prev = 0;
  for (uint32_t code = 0; code < half; code++) {
    double v1 = fp8lab_decode_f64(f, code);
    if (isnan(v1) || isinf(v1)) continue;
    double mids[] = {v1, (prev + v1) / 2, v1 + (v1 - prev) / 2};
    for (size_t j = 0; j < sizeof mids / sizeof mids[0]; j++) {
      uint32_t b = fp8lab_f32_bits((float)mids[j]);
      for (int d = -2; d <= 2; d++)
        for (uint32_t s = 0; s < 2; s++) PUT((s << 31) | (uint32_t)(b + (uint32_t)d));
    }
    prev = v1;
  }
#undef PUT
  return n;
}

/* ---- unit: the kernels on edge cases and random patterns ------------------ */

static int first_mismatch(const uint8_t *a, const uint8_t *b, size_t n,
                          size_t *at) {
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i]) return *at = i, 1;
  return 0;
}

static void check_kernel_on(const case_t *k, const float *in, size_t n) {
  fp8lab_encode_f32_kernel fast = fp8lab_encode_f32_fast_kernel(k->f, &k->c);
  assert_non_null(fast);
  uint8_t *got = malloc(n), *want = malloc(n);
  assert_non_null(got);
  assert_non_null(want);
  fast(in, got, n);
  fp8lab_encode_f32_array_ref(k->f, in, want, n, &k->c, 0);
  size_t at;
  if (first_mismatch(got, want, n, &at))
    fail_msg("%s: input 0x%08X (%a): kernel 0x%02X, reference 0x%02X",
             k->name, (unsigned)fp8lab_f32_bits(in[at]), (double)in[at],
             got[at], want[at]);
  free(got);
  free(want);
}

static void test_kernels_edges(void **state) {
  (void)state;
  size_t nk;
  case_t *ks = kernel_cases(&nk);
  assert_non_null(ks);
  size_t cap = 1 << 17;
  float *in = malloc(cap * sizeof *in);
  assert_non_null(in);
  for (size_t i = 0; i < nk; i++) {
    size_t n = edge_inputs(ks[i].f, in, cap);
    assert_true(n < cap);
    check_kernel_on(&ks[i], in, n);
  }
  free(in);
  free(ks);
}

static void test_kernels_random(void **state) {
  (void)state;
  size_t nk;
  case_t *ks = kernel_cases(&nk);
  assert_non_null(ks);
  const size_t n = (size_t)1 << 22;
  float *in = malloc(n * sizeof *in);
  assert_non_null(in);
  for (size_t i = 0; i < n; i++) {
    uint64_t r = splitmix64(i);
    uint32_t b = (uint32_t)r;
    /* three in four near the 8-bit formats' range: exponent 2^-30..2^20 */
    if ((r >> 32) & 3) b = (b & 0x807FFFFFu) | (uint32_t)(97 + (r >> 40) % 51) << 23;
    in[i] = from_bits(b);
  }
  for (size_t i = 0; i < nk; i++) check_kernel_on(&ks[i], in, n);
  free(in);
  free(ks);
}

/* ---- unit: no write outside out[0..n), no read outside in[0..n) ---------- */

#define GUARD 64
#define GUARD_BYTE 0xA5

static void test_kernels_bounds(void **state) {
  (void)state;
  size_t nk;
  case_t *ks = kernel_cases(&nk);
  assert_non_null(ks);
  const size_t maxn = 130;
  long page = sysconf(_SC_PAGESIZE);
  assert_true(page > 0);
  /* Input ends right before an unmapped page: any read past in[n-1] faults. */
  size_t span = ((maxn + 16) * sizeof(float) + (size_t)page - 1) / (size_t)page *
                (size_t)page;
  unsigned char *map = mmap(NULL, span + (size_t)page, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(map != MAP_FAILED);
  assert_int_equal(mprotect(map + span, (size_t)page, PROT_NONE), 0);
  unsigned char *outbuf = malloc(maxn + 2 * GUARD + 64);
  uint8_t *want = malloc(maxn);
  assert_non_null(outbuf);
  assert_non_null(want);
  for (size_t i = 0; i < nk; i++) {
    fp8lab_encode_f32_kernel fast = fp8lab_encode_f32_fast_kernel(ks[i].f, &ks[i].c);
    for (size_t n = 0; n <= maxn; n++)
      for (size_t ioff = 0; ioff < 4; ioff++)
        for (size_t ooff = 0; ooff < 4; ooff += 3) {
          /* in[0 .. n + ioff) ends at the unmapped page; the kernel runs on
           * in[0 .. n) and on the last n elements, in + ioff. */
          float *in = (float *)(void *)(map + span) - n - ioff;
          for (size_t j = 0; j < n + ioff; j++)
            in[j] = from_bits((uint32_t)splitmix64(j + 1000 * n + ooff));
          memset(outbuf, GUARD_BYTE, maxn + 2 * GUARD + 64);
          uint8_t *out = outbuf + GUARD + ooff;
          fast(in, out, n);
          fp8lab_encode_f32_array_ref(ks[i].f, in, want, n, &ks[i].c, 0);
          for (size_t j = 0; j < GUARD + ooff; j++)
            if (outbuf[j] != GUARD_BYTE)
              fail_msg("%s, n = %zu: wrote %zu bytes before out", ks[i].name, n,
                       GUARD + ooff - j);
          for (size_t j = 0; j < GUARD; j++)
            if (out[n + j] != GUARD_BYTE)
              fail_msg("%s, n = %zu: wrote out[%zu]", ks[i].name, n, n + j);
          size_t at;
          if (first_mismatch(out, want, n, &at))
            fail_msg("%s, n = %zu: element %zu: kernel 0x%02X, reference 0x%02X",
                     ks[i].name, n, at, out[at], want[at]);
          /* a kernel on the last elements of the input: in + ioff .. end */
          fast(in + ioff, out, n);
          fp8lab_encode_f32_array_ref(ks[i].f, in + ioff, want, n, &ks[i].c, 0);
          if (first_mismatch(out, want, n, &at))
            fail_msg("%s, n = %zu (at page end): element %zu", ks[i].name, n, at);
        }
  }
  munmap(map, span + (size_t)page);
  free(outbuf);
  free(want);
  free(ks);
}

/* ---- unit: which conversions get a kernel --------------------------------- */

static void test_dispatch(void **state) {
  (void)state;
  /* The OCP FP8 formats get a kernel for every RNE conversion. */
  const fp8lab_format *fast_formats[] = {fp8lab_e4m3fn, fp8lab_e5m2};
  for (size_t i = 0; i < sizeof fast_formats / sizeof fast_formats[0]; i++)
    for (size_t s = 0; s < sizeof sat_values / sizeof sat_values[0]; s++)
      for (size_t p = 0; p < sizeof nan_values / sizeof nan_values[0]; p++) {
        case_t k;
        case_init(&k, fast_formats[i], sat_values[s], nan_values[p]);
        if (!fp8lab_encode_f32_fast_kernel(k.f, &k.c))
          fail_msg("no kernel for %s", k.name);
      }
  /* Selected by descriptor fields: a parsed twin of e4m3fn gets one too. */
  fp8lab_format twin;
  assert_int_equal(fp8lab_format_parse("e4m3b7fn", &twin, NULL, 0), 0);
  fp8lab_cvt rne = {.round = FP8LAB_RNE, .saturate = true};
  assert_ptr_equal(fp8lab_encode_f32_fast_kernel(&twin, &rne),
                   fp8lab_encode_f32_fast_kernel(fp8lab_e4m3fn, &rne));
  /* NULL cvt means the documented default (RNE, no saturation, canonical). */
  fp8lab_cvt dflt = {0};
  assert_ptr_equal(fp8lab_encode_f32_fast_kernel(fp8lab_e4m3fn, NULL),
                   fp8lab_encode_f32_fast_kernel(fp8lab_e4m3fn, &dflt));
  /* No kernel for other rounding modes, wider formats or E8M0. */
  const fp8lab_round others[] = {FP8LAB_RNA, FP8LAB_RTZ, FP8LAB_RUP,
                                 FP8LAB_RDN, FP8LAB_RTO, FP8LAB_SR};
  for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
    fp8lab_cvt c = {.round = others[i], .saturate = true};
    assert_null(fp8lab_encode_f32_fast_kernel(fp8lab_e4m3fn, &c));
  }
  assert_null(fp8lab_encode_f32_fast_kernel(fp8lab_f16, &rne));
  assert_null(fp8lab_encode_f32_fast_kernel(fp8lab_bf16, &rne));
  assert_null(fp8lab_encode_f32_fast_kernel(fp8lab_format_named("e8m0"), &rne));
  /* Every kernel writes codes of at most 8 bits. */
  size_t nk;
  case_t *ks = kernel_cases(&nk);
  assert_non_null(ks);
  for (size_t i = 0; i < nk; i++) assert_true(fp8lab_format_bits(ks[i].f) <= 8);
  free(ks);
}

/* ---- unit: the threaded driver does not change a code ---------------------- */

static void test_mt_thread_counts(void **state) {
  (void)state;
  /* over the driver's 1 M-element threshold, not a multiple of anything */
  const size_t n = ((size_t)3 << 20) + 12345;
  float *in = malloc(n * sizeof *in);
  assert_non_null(in);
  for (size_t i = 0; i < n; i++) {
    uint64_t r = splitmix64(i ^ 0x5EED);
    uint32_t b = (uint32_t)r;
    if ((r >> 32) & 3) b = (b & 0x807FFFFFu) | (uint32_t)(110 + (r >> 40) % 30) << 23;
    in[i] = from_bits(b);
  }
  struct {
    const fp8lab_format *f;
    fp8lab_cvt c;
    const char *what;
  } cases[] = {
      {fp8lab_e4m3fn, {.round = FP8LAB_RNE, .saturate = true}, "e4m3fn rne sat"},
      {fp8lab_e5m2, {.round = FP8LAB_RNE}, "e5m2 rne"},
      {fp8lab_e4m3fn,
       {.round = FP8LAB_SR, .saturate = true, .seed = 0x1234567ull, .stream = 3},
       "e4m3fn sr"},
      {fp8lab_e5m2, {.round = FP8LAB_SR, .sr_bits = 8, .seed = 99}, "e5m2 sr 8 bits"},
  };
  const int threads[] = {1, 2, 3, 7};
  const uint64_t index0 = 1001; /* odd: an SR pair straddles the start */
  uint8_t *want = malloc(n), *got = malloc(n);
  assert_non_null(want);
  assert_non_null(got);
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    fp8lab_encode_f32_array_ref(cases[k].f, in, want, n, &cases[k].c, index0);
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
      memset(got, 0xEE, n);
      fp8lab_encode_f32_array_mt(cases[k].f, in, got, n, &cases[k].c, index0,
                                 threads[t]);
      size_t at;
      if (first_mismatch(got, want, n, &at))
        fail_msg("%s, %d threads: element %zu: 0x%02X, single-threaded "
                 "reference 0x%02X", cases[k].what, threads[t], at, got[at],
                 want[at]);
    }
  }
  free(in);
  free(want);
  free(got);
}

/* ---- exhaustive ------------------------------------------------------------ */

#define CHUNK_BITS 22
#define NCHUNKS ((uint64_t)1 << (32 - CHUNK_BITS))

typedef struct {
  const case_t *k;
  fp8lab_encode_f32_kernel fast;
  pthread_mutex_t lock;
  uint64_t next_chunk;
  bool mismatch;
  uint32_t bad_input; /* lowest mismatching input seen */
  uint8_t bad_fast, bad_ref;
  bool oom;
} sweep_t;

static void *sweep_worker(void *arg) {
  sweep_t *s = arg;
  const size_t n = (size_t)1 << CHUNK_BITS;
  float *in = malloc(n * sizeof *in);
  uint8_t *got = malloc(n), *want = malloc(n);
  if (!in || !got || !want) {
    pthread_mutex_lock(&s->lock);
    s->oom = true;
    pthread_mutex_unlock(&s->lock);
    free(in), free(got), free(want);
    return NULL;
  }
  for (;;) {
    pthread_mutex_lock(&s->lock);
    uint64_t chunk = s->next_chunk++;
    bool stop = s->mismatch && (uint64_t)s->bad_input < (chunk << CHUNK_BITS);
    pthread_mutex_unlock(&s->lock);
    if (chunk >= NCHUNKS || stop) break;
    uint32_t base = (uint32_t)(chunk << CHUNK_BITS);
    for (size_t i = 0; i < n; i++) in[i] = from_bits(base + (uint32_t)i);
    s->fast(in, got, n);
    fp8lab_encode_f32_array_ref(s->k->f, in, want, n, &s->k->c, 0);
    size_t at;
    if (first_mismatch(got, want, n, &at)) {
      pthread_mutex_lock(&s->lock);
      if (!s->mismatch || base + (uint32_t)at < s->bad_input) {
        s->mismatch = true;
        s->bad_input = base + (uint32_t)at;
        s->bad_fast = got[at];
        s->bad_ref = want[at];
      }
      pthread_mutex_unlock(&s->lock);
    }
  }
  free(in);
  free(got);
  free(want);
  return NULL;
}

static void test_exhaustive(void **state) {
  const case_t *k = *state;
  sweep_t s = {.k = k, .fast = fp8lab_encode_f32_fast_kernel(k->f, &k->c)};
  assert_non_null(s.fast);
  pthread_mutex_init(&s.lock, NULL);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int nt = cpus < 1 ? 1 : cpus > 64 ? 64 : (int)cpus;
  pthread_t tid[64];
  bool started[64] = {false};
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int t = 0; t < nt; t++)
    started[t] = pthread_create(&tid[t], NULL, sweep_worker, &s) == 0;
  if (!started[0]) sweep_worker(&s); /* no thread to be had */
  for (int t = 0; t < nt; t++)
    if (started[t]) pthread_join(tid[t], NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  pthread_mutex_destroy(&s.lock);
  assert_false(s.oom);
  if (s.mismatch)
    fail_msg("%s: first mismatch at input 0x%08X (%a): kernel 0x%02X, "
             "reference 0x%02X", k->name, (unsigned)s.bad_input,
             (double)from_bits(s.bad_input), s.bad_fast, s.bad_ref);
  print_message("%s: all 2^32 inputs agree (%.1f s, %d threads)\n", k->name,
                (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
                nt);
}

/* ---- main ------------------------------------------------------------------ */

static int usage(void) {
  fprintf(stderr,
          "usage: test_convert_fast unit\n"
          "       test_convert_fast exhaustive [--complement] [--nan "
          "canonical|signed] [FORMAT...]\n"
          "The exhaustive mode checks every kernel of the listed formats (all\n"
          "formats when none is listed) for the NaN policy given (both when\n"
          "not given); --complement checks every other kernel instead.\n");
  return 2;
}

static bool listed(const fp8lab_format *f, char **names, int nnames) {
  if (nnames == 0) return true;
  for (int i = 0; i < nnames; i++)
    if (strcmp(fp8lab_format_named(names[i])->name, f->name) == 0) return true;
  return false;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  if (strcmp(argv[1], "unit") == 0) {
    if (argc != 2) return usage();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_kernels_edges),
        cmocka_unit_test(test_kernels_random),
        cmocka_unit_test(test_kernels_bounds),
        cmocka_unit_test(test_mt_thread_counts),
    };
    return cmocka_run_group_tests_name("convert_fast_unit", tests, NULL, NULL);
  }
  if (strcmp(argv[1], "exhaustive") != 0) return usage();
  bool complement = false, any_nan = true;
  fp8lab_nan_policy nan = FP8LAB_NAN_CANONICAL;
  int a = 2;
  for (; a < argc && argv[a][0] == '-'; a++) {
    if (strcmp(argv[a], "--complement") == 0) {
      complement = true;
    } else if (strcmp(argv[a], "--nan") == 0 && a + 1 < argc) {
      any_nan = false;
      a++;
      if (strcmp(argv[a], "canonical") == 0) nan = FP8LAB_NAN_CANONICAL;
      else if (strcmp(argv[a], "signed") == 0) nan = FP8LAB_NAN_SIGNED;
      else return usage();
    } else {
      return usage();
    }
  }
  char **names = argv + a;
  int nnames = argc - a;
  for (int i = 0; i < nnames; i++)
    if (!fp8lab_format_named(names[i])) {
      fprintf(stderr, "test_convert_fast: unknown format '%s'\n", names[i]);
      return 2;
    }
  size_t nk;
  case_t *ks = kernel_cases(&nk);
  struct CMUnitTest *tests = calloc(nk ? nk : 1, sizeof *tests);
  if (!ks || !tests) return 1;
  size_t nt = 0;
  for (size_t i = 0; i < nk; i++) {
    bool chosen = listed(ks[i].f, names, nnames) && (any_nan || ks[i].c.nan == nan);
    if (chosen != complement)
      tests[nt++] = (struct CMUnitTest){ks[i].name, test_exhaustive, NULL, NULL,
                                        &ks[i]};
  }
  /* A listed format must have kernels: losing them is a regression. */
  for (int i = 0; i < nnames && !complement; i++) {
    bool any = false;
    for (size_t j = 0; j < nt; j++)
      any |= strcmp(((const case_t *)tests[j].initial_state)->f->name,
                    fp8lab_format_named(names[i])->name) == 0;
    if (!any) {
      fprintf(stderr, "test_convert_fast: no kernel for %s\n", names[i]);
      return 1;
    }
  }
  int rc = _cmocka_run_group_tests("convert_fast_exhaustive", tests, nt, NULL,
                                   NULL);
  free(tests);
  free(ks);
  return rc;
}
