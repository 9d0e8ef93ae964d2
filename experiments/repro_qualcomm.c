/* fp8lab reproduce qualcomm-sqnr. */
#include "reproduce.h"

const bool repro_qualcomm_sqnr_ready = false;

void repro_qualcomm_sqnr(repro_table *t) {
  (void)t;
  repro_not_yet("qualcomm-sqnr");
}
