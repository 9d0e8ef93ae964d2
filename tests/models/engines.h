/* Shared by the model tests: run a GEMM through every engine (the plain
 * reference, and each variant of the specialised kernel the CPU runs when
 * it has one for the model), compare bit patterns with what is expected. */
#ifndef FP8LAB_TESTS_ENGINES_H
#define FP8LAB_TESTS_ENGINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fp8lab/gemm.h"

enum { ENGINE_REF, ENGINE_PORTABLE, ENGINE_AVX2, NENGINES };

typedef struct engine_counts {
  size_t ok[NENGINES];    /* bit-exact outputs per engine       */
  size_t total[NENGINES]; /* outputs compared per engine         */
  size_t shown;           /* mismatches printed so far           */
} engine_counts;

extern const char *const engine_names[NENGINES];

/* The trace's name for an FP8 format ("e4m3": OCP fn; "e5m2"). */
const fp8lab_format *trace_format(const char *name);

/* Run g (its d is ignored: each engine writes a scratch buffer of
 * g->m x g->n outputs, d_rs = n) through every engine; compare with
 * `expect` (f32 or bf16 bit patterns per g->out_type, row stride
 * expect_rs).  `what` names the case in mismatch messages.  Returns false
 * when an engine failed to run. */
bool run_engines(const fp8lab_gemm_args *g, const void *expect,
                 size_t expect_rs, const char *what, engine_counts *c);

/* "name: ok/total" lines for every engine that ran. */
void print_counts(const char *what, const engine_counts *c);
/* True when every engine that ran matched everything it compared and the
 * reference ran on every output. */
bool all_exact(const engine_counts *c, size_t outputs);

#endif
