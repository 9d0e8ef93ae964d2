/* fp8lab reproduce ibm-chunk. */
#include "reproduce.h"

const bool repro_ibm_chunk_ready = false;

void repro_ibm_chunk(repro_table *t) {
  (void)t;
  repro_not_yet("ibm-chunk");
}
