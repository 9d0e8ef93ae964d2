/* fp8lab reproduce deepseek-accum: DeepSeek-V3's accumulation-precision
 * finding (DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv 2412.19437,
 * sec. 3.5.2: FP8 GEMMs on Hopper tensor cores keep about 14 bits; K = 4096
 * gave a maximum relative error near 2% without promotion), run through
 * fp8lab's bit-exact cuBLASLt models beside what an H100 measured
 * (data/accum_error_stats.json, copied into data/published/deepseek-accum.csv
 * with its source).
 *
 * Fixed configuration: the H100's distributions and K (256, 1024, 4096,
 * 16384), e4m3fn operands, seed 0, the models cublaslt-fast ("fast") and
 * cublaslt ("promoted", every 128 of K), the data and statistics of
 * fp8lab hopper-accum (experiments/cmd_hopper_accum.c).  M = N = 512
 * instead of the H100's 1024: the median and Frobenius errors are means
 * over 262,144 elements and move by well under 1% between 256 and 1024;
 * max_abs_over_max_ref and max_rel are extremes and grow slowly with the
 * number of elements; max_rel of the signed distributions (gauss, uniform)
 * is set by the one element whose reference is nearest zero and is not
 * reproducible by any model (the H100 file has 65 .. 1e32 there).
 *
 * Rows: <dist>/K<K>/<fast|promoted>/<stat>, stat one of max_rel,
 * median_rel, max_abs_over_max_ref, frob_rel; and deepseek-v3/K4096/fast/
 * max_rel, DeepSeek's "nearly 2%", beside the all-positive (abs-gauss)
 * fast max_rel at K = 4096. */
#include <stdio.h>
#include <string.h>

#include "hopper_accum.h"
#include "cli.h"
#include "fp8lab/model.h"
#include "reproduce.h"

const bool repro_deepseek_accum_ready = true;

enum { DS_M = 512, DS_N = 512 };

void repro_deepseek_accum(repro_table *t) {
  static const char *const dists[] = {"gauss", "uniform", "abs-gauss",
                                      "lognormal"};
  static const int64_t ks[] = {256, 1024, 4096, 16384};
  static const char *const stats[] = {"max_rel", "median_rel",
                                      "max_abs_over_max_ref", "frob_rel"};
  static const char *const modes[] = {"fast", "promoted"};
  const fp8lab_model *models[] = {fp8lab_model_named("cublaslt-fast"),
                                  fp8lab_model_named("cublaslt")};
  if (!models[0] || !models[1])
    cli_fail("reproduce", "internal: no cublaslt models");
  double claim = 0;
  for (size_t d = 0; d < sizeof dists / sizeof dists[0]; d++)
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
      double v[2][4];
      int64_t zeros[2];
      char err[512];
      if (hopper_accum_measure(dists[d], fp8lab_e4m3fn, DS_M, DS_N, ks[i], 0,
                               models, 2, 0, v, zeros, err, sizeof err) != 0)
        cli_fail("reproduce", "deepseek-accum: %s", err);
      for (size_t q = 0; q < 2; q++)
        for (size_t s = 0; s < sizeof stats / sizeof stats[0]; s++) {
          char name[REPRO_NAMELEN];
          snprintf(name, sizeof name, "%s/K%lld/%s/%s", dists[d],
                   (long long)ks[i], modes[q], stats[s]);
          repro_put(t, name, v[q][s]);
        }
      if (strcmp(dists[d], "abs-gauss") == 0 && ks[i] == 4096) claim = v[0][0];
    }
  repro_put(t, "deepseek-v3/K4096/fast/max_rel", claim);
}
