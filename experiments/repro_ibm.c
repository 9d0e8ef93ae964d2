/* fp8lab reproduce ibm-chunk: the chunk-based accumulation study of Wang,
 * Choi, Brand, Chen, Gopalakrishnan, "Training Deep Neural Networks with
 * 8-bit Floating Point Numbers", NeurIPS 2018, arXiv 1812.08011, section 3
 * and its chunk-based accumulation figure (error of long sums in a 16-bit
 * accumulator against vector length, naive and chunked, and stochastic
 * rounding).  The paper gives that result as a plot only:
 * data/published/ibm-chunk.csv holds no numbers, and every row prints an
 * empty reference.  The exactly known points of the same study (a naive
 * 1-6-9 sum of ones stops at 1024; chunked by 64 it is exact) are rows of
 * `fp8lab reproduce stagnation`.
 *
 * Fixed configuration:
 *   data     x_i ~ U[0,1) (GSL MT19937, seeded by mix(0, length, trial)),
 *            rounded to binary32 (RNE), TRIALS vectors per length: every
 *            accumulator sees the same vectors;
 *   models   fp8lab/accum.h: IBM 1-6-9 (ibm169) and binary16 (f16), round
 *            to nearest even, chunk CL = 1 (naive recursive summation) and
 *            CL = 8, 32, 64, 256 (both levels in the same 16-bit format, as
 *            in the paper); naive with stochastic rounding (exact
 *            probabilities, seed 0) for contrast;
 *   lengths  n = 2^8, 2^10, ..., 2^20 (ibm169); up to 2^16 for f16, whose
 *            largest finite value 65504 is below the sums of longer
 *            vectors (their chunked sums overflow to Inf);
 *   value    mean over the trials of |s - S| / |S|, S the exact sum
 *            (fp8lab/exact_sum.h).
 * Rows: <format>/<CL<c>|sr>/n2^<k>/rel_err. */
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fp8lab/accum.h"
#include "fp8lab/exact_sum.h"
#include "reproduce.h"
#include "runner.h"

const bool repro_ibm_chunk_ready = true;

enum { TRIALS = 4, LOG2_MAX = 20 }; /* LOG2_MAX: the longest vector */

void repro_ibm_chunk(repro_table *t) {
  static const struct {
    const char *fmt;
    int log2_max;
  } fmts[] = {{"ibm169", 20}, {"f16", 16}};
  static const size_t chunks[] = {1, 8, 32, 64, 256};
  const size_t nmax = (size_t)1 << LOG2_MAX;
  double *x = malloc(nmax * sizeof *x);
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  if (!x || !g) cli_fail("reproduce", "out of memory");
  for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
    const fp8lab_format *fmt = fp8lab_format_named(fmts[f].fmt);
    if (!fmt) cli_fail("reproduce", "internal: no format %s", fmts[f].fmt);
    /* columns: the chunk sizes, then SR */
    for (size_t c = 0; c <= sizeof chunks / sizeof chunks[0]; c++) {
      bool sr = c == sizeof chunks / sizeof chunks[0];
      size_t cl = sr ? 1 : chunks[c];
      fp8lab_accum a = {.kind = cl > 1 ? FP8LAB_ACCUM_CHUNKED : FP8LAB_ACCUM_SEQ,
                        .fmt = fmt, .chunk = cl};
      a.cvt.round = sr ? FP8LAB_SR : FP8LAB_RNE;
      for (int k = 8; k <= fmts[f].log2_max; k += 2) {
        size_t n = (size_t)1 << k;
        double err = 0;
        for (int tr = 0; tr < TRIALS; tr++) {
          uint64_t key[] = {0, 0x1b3c, (uint64_t)n, (uint64_t)tr};
          gsl_rng_set(g, (unsigned long)runner_mix(key, sizeof key / sizeof key[0]));
          for (size_t i = 0; i < n; i++) x[i] = (float)gsl_rng_uniform(g);
          fp8lab_exact_sum ex;
          fp8lab_exact_sum_init(&ex);
          for (size_t i = 0; i < n; i++) fp8lab_exact_sum_add(&ex, x[i]);
          double S = fp8lab_exact_sum_f64_rne(&ex);
          a.cvt.stream = (uint64_t)tr;
          double s = fp8lab_sum(&a, x, n, NULL);
          err += isfinite(s) ? fabs(s - S) / S : INFINITY;
        }
        char name[REPRO_NAMELEN];
        if (sr)
          snprintf(name, sizeof name, "%s/sr/n2^%d/rel_err", fmts[f].fmt, k);
        else
          snprintf(name, sizeof name, "%s/CL%zu/n2^%d/rel_err", fmts[f].fmt, cl, k);
        repro_put(t, name, err / TRIALS);
      }
    }
  }
  gsl_rng_free(g);
  free(x);
}
