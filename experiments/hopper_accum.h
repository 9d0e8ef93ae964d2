/* fp8lab hopper-accum's measurement, shared with fp8lab reproduce
 * deepseek-accum. */
#ifndef FP8LAB_HOPPER_ACCUM_H
#define FP8LAB_HOPPER_ACCUM_H

#include <stddef.h>
#include <stdint.h>

#include "fp8lab/format.h"

/* fp8lab hopper-accum's measurement (experiments/cmd_hopper_accum.c), for
 * fp8lab reproduce deepseek-accum: one (dist, M, N, K) configuration under
 * each of `nmodels` models; stats[q] = {max_rel, median_rel,
 * max_abs_over_max_ref, frob_rel}.  0, or -1 with a reason in err. */
struct fp8lab_model;
int hopper_accum_measure(const char *dist, const fp8lab_format *fmt,
                         int64_t m, int64_t n, int64_t k, uint64_t seed,
                         const struct fp8lab_model *const *models,
                         size_t nmodels, int threads, double (*stats)[4],
                         int64_t *ref_zeros, char *err, size_t errlen);

#endif
