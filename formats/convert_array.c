/* Array conversions: the reference loops over the scalar codec, the
 * dispatch to specialised kernels, table decode and the threaded driver. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "fp8lab/philox.h"

size_t fp8lab_code_size(const fp8lab_format *f) {
  int b = fp8lab_format_bits(f);
  return b <= 8 ? 1 : b <= 16 ? 2 : 4;
}

static inline void put_code(void *out, size_t size, size_t i, uint32_t v) {
  switch (size) {
  case 1: ((uint8_t *)out)[i] = (uint8_t)v; break;
  case 2: ((uint16_t *)out)[i] = (uint16_t)v; break;
  default: ((uint32_t *)out)[i] = v; break;
  }
}

static inline uint32_t get_code(const void *in, size_t size, size_t i) {
  switch (size) {
  case 1: return ((const uint8_t *)in)[i];
  case 2: return ((const uint16_t *)in)[i];
  default: return ((const uint32_t *)in)[i];
  }
}

/* Random words for elements index0 .. index0+n-1 come two per Philox call;
 * this walks them in order without recomputing a block. */
typedef struct {
  const fp8lab_cvt *c;
  uint64_t block;
  uint64_t w[2];
} sr_stream;

static inline uint64_t sr_next(sr_stream *s, uint64_t index) {
  uint64_t blk = index >> 1;
  if (blk != s->block) {
    fp8lab_philox_u64x2(s->c->seed, blk, s->c->stream, s->w);
    s->block = blk;
  }
  return s->w[index & 1];
}

#define ENCODE_LOOP(GET)                                                     \
  do {                                                                       \
    size_t sz = fp8lab_code_size(f);                                         \
    if (c->round == FP8LAB_SR) {                                             \
      sr_stream s = {c, UINT64_MAX, {0, 0}};                                 \
      for (size_t i = 0; i < n; i++)                                         \
        put_code(out, sz, i,                                                 \
                 fp8lab_encode_f64(f, GET, c, sr_next(&s, index0 + i)));     \
    } else {                                                                 \
      for (size_t i = 0; i < n; i++)                                         \
        put_code(out, sz, i, fp8lab_encode_f64(f, GET, c, 0));               \
    }                                                                        \
  } while (0)

static const fp8lab_cvt default_cvt;

void fp8lab_encode_f32_array_ref(const fp8lab_format *f, const float *in,
                                 void *out, size_t n, const fp8lab_cvt *c,
                                 uint64_t index0) {
  if (!c) c = &default_cvt;
  ENCODE_LOOP((double)in[i]);
}

void fp8lab_encode_f64_array(const fp8lab_format *f, const double *in,
                             void *out, size_t n, const fp8lab_cvt *c,
                             uint64_t index0) {
  if (!c) c = &default_cvt;
  ENCODE_LOOP(in[i]);
}

void fp8lab_encode_f32_array(const fp8lab_format *f, const float *in,
                             void *out, size_t n, const fp8lab_cvt *c,
                             uint64_t index0) {
  if (!c) c = &default_cvt;
  fp8lab_encode_f32_kernel k = fp8lab_encode_f32_fast_kernel(f, c);
  if (k) {
    k(in, (uint8_t *)out, n);
    return;
  }
  fp8lab_encode_f32_array_ref(f, in, out, n, c, index0);
}

void fp8lab_recode_array(const fp8lab_format *from, const void *in,
                         const fp8lab_format *to, void *out, size_t n,
                         const fp8lab_cvt *c, uint64_t index0) {
  if (!c) c = &default_cvt;
  size_t isz = fp8lab_code_size(from), osz = fp8lab_code_size(to);
  sr_stream s = {c, UINT64_MAX, {0, 0}};
  for (size_t i = 0; i < n; i++) {
    uint64_t u = c->round == FP8LAB_SR ? sr_next(&s, index0 + i) : 0;
    put_code(out, osz, i, fp8lab_recode(from, get_code(in, isz, i), to, c, u));
  }
}

void fp8lab_decode_f32_array_ref(const fp8lab_format *f, const void *in,
                                 float *out, size_t n, fp8lab_nan_policy nan) {
  size_t sz = fp8lab_code_size(f);
  for (size_t i = 0; i < n; i++) {
    uint32_t b = fp8lab_decode_f32bits(f, get_code(in, sz, i), nan);
    memcpy(&out[i], &b, sizeof b);
  }
}

void fp8lab_decode_f32_array(const fp8lab_format *f, const void *in,
                             float *out, size_t n, fp8lab_nan_policy nan) {
  uint32_t ncodes = fp8lab_format_ncodes(f);
  /* A table pays for itself once the array is longer than the code space. */
  if (ncodes == 0 || ncodes > 65536 || n < ncodes) {
    fp8lab_decode_f32_array_ref(f, in, out, n, nan);
    return;
  }
  float *table = malloc(ncodes * sizeof *table);
  if (!table) {
    fp8lab_decode_f32_array_ref(f, in, out, n, nan);
    return;
  }
  for (uint32_t k = 0; k < ncodes; k++) {
    uint32_t b = fp8lab_decode_f32bits(f, k, nan);
    memcpy(&table[k], &b, sizeof b);
  }
  /* Bits above the format's width are ignored (masked), as in the scalar
   * decoder; they must never index past the table. */
  const uint32_t mask = ncodes - 1;
  if (fp8lab_code_size(f) == 1) {
    const uint8_t *p = in;
    for (size_t i = 0; i < n; i++) out[i] = table[p[i] & mask];
  } else {
    const uint16_t *p = in;
    for (size_t i = 0; i < n; i++) out[i] = table[p[i] & mask];
  }
  free(table);
}

void fp8lab_decode_f64_array(const fp8lab_format *f, const void *in,
                             double *out, size_t n, fp8lab_nan_policy nan) {
  size_t sz = fp8lab_code_size(f);
  int bits = fp8lab_format_bits(f);
  uint32_t mask = bits < 32 ? ((uint32_t)1 << bits) - 1 : UINT32_MAX;
  for (size_t i = 0; i < n; i++) {
    uint32_t code = get_code(in, sz, i) & mask; /* as fp8lab_decode_f64 */
    if (fp8lab_format_is_nan(f, code)) {
      /* f64 NaNs: canonical all-ones, or the signed quiet NaN */
      bool neg = f->has_sign && f->special != FP8LAB_SPECIAL_FNUZ &&
                 (code >> (f->ebits + f->mbits)) & 1;
      uint64_t b = nan == FP8LAB_NAN_SIGNED
                       ? ((uint64_t)neg << 63) | 0x7FF8000000000000ull
                       : 0x7FFFFFFFFFFFFFFFull;
      memcpy(&out[i], &b, sizeof b);
    } else {
      out[i] = fp8lab_decode_f64(f, code);
    }
  }
}

/* ---- threads ------------------------------------------------------------ */

typedef struct {
  const fp8lab_format *f;
  const float *in;
  void *out;
  size_t n;
  const fp8lab_cvt *c;
  uint64_t index0;
} encode_job;

static void *encode_worker(void *arg) {
  encode_job *j = arg;
  fp8lab_encode_f32_array(j->f, j->in, j->out, j->n, j->c, j->index0);
  return NULL;
}

void fp8lab_encode_f32_array_mt(const fp8lab_format *f, const float *in,
                                void *out, size_t n, const fp8lab_cvt *c,
                                uint64_t index0, int nthreads) {
  if (nthreads <= 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    nthreads = cpus > 0 ? (int)cpus : 1;
  }
  if (nthreads > 256) nthreads = 256;
  /* Below ~1 M elements a thread costs more than it saves. */
  if (nthreads == 1 || n < ((size_t)1 << 20)) {
    fp8lab_encode_f32_array(f, in, out, n, c, index0);
    return;
  }
  size_t sz = fp8lab_code_size(f);
  pthread_t tid[256];
  bool running[256] = {false};
  encode_job job[256];
  size_t chunk = (n + (size_t)nthreads - 1) / (size_t)nthreads;
  chunk = (chunk + 63) & ~(size_t)63; /* keep pieces cache-line aligned */
  int started = 0;
  for (int t = 0; t < nthreads; t++) {
    size_t lo = (size_t)t * chunk;
    if (lo >= n) break;
    size_t len = n - lo < chunk ? n - lo : chunk;
    job[t] = (encode_job){f, in + lo, (char *)out + lo * sz, len, c, index0 + lo};
    running[t] = pthread_create(&tid[t], NULL, encode_worker, &job[t]) == 0;
    if (!running[t]) encode_worker(&job[t]); /* no thread to be had */
    started = t + 1;
  }
  for (int t = 0; t < started; t++)
    if (running[t]) pthread_join(tid[t], NULL);
}
