/* fp8lab reproduce deepseek-accum. */
#include "reproduce.h"

const bool repro_deepseek_accum_ready = false;

void repro_deepseek_accum(repro_table *t) {
  (void)t;
  repro_not_yet("deepseek-accum");
}
