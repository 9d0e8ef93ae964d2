#include "engines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const engine_names[NENGINES] = {"reference", "fast/portable",
                                            "fast/avx2"};

const fp8lab_format *trace_format(const char *name) {
  if (strncmp(name, "e4m3", 4) == 0) return fp8lab_e4m3fn;
  if (strncmp(name, "e5m2", 4) == 0) return fp8lab_e5m2;
  return NULL;
}

static uint32_t get(const void *p, fp8lab_out_type t, size_t at) {
  return t == FP8LAB_OUT_F32 ? ((const uint32_t *)p)[at]
                             : ((const uint16_t *)p)[at];
}

bool run_engines(const fp8lab_gemm_args *g0, const void *expect,
                 size_t expect_rs, const char *what, engine_counts *c) {
  size_t es = g0->out_type == FP8LAB_OUT_F32 ? 4 : 2;
  size_t nout = g0->m * g0->n;
  void *d = malloc(nout * es + 1);
  if (!d) return false;
  bool ran_all = true;
  for (int e = 0; e < NENGINES; e++) {
    fp8lab_gemm_args g = *g0;
    g.d = d;
    g.d_rs = (ptrdiff_t)g.n;
    memset(d, 0xA5, nout * es);
    char err[256] = "";
    int rc;
    if (e == ENGINE_REF) {
      rc = fp8lab_gemm_ref(&g, err, sizeof err);
    } else {
      fp8lab_gemm_kernel k = e == ENGINE_PORTABLE ? FP8LAB_KERNEL_PORTABLE
                                                  : FP8LAB_KERNEL_AVX2;
      if (!fp8lab_gemm_fast_supports(&g) || !fp8lab_gemm_kernel_available(k))
        continue;
      rc = fp8lab_gemm_fast_ex(&g, k, err, sizeof err);
    }
    if (rc != 0) {
      printf("%s: %s failed: %s\n", what, engine_names[e], err);
      ran_all = false;
      continue;
    }
    for (size_t i = 0; i < g.m; i++)
      for (size_t j = 0; j < g.n; j++) {
        uint32_t got = get(d, g.out_type, i * g.n + j);
        uint32_t want = get(expect, g.out_type, i * expect_rs + j);
        c->total[e]++;
        if (got == want) {
          c->ok[e]++;
        } else if (c->shown < 8) {
          c->shown++;
          printf("  mismatch %s %s (%zu, %zu): got 0x%08X want 0x%08X\n", what,
                 engine_names[e], i, j, (unsigned)got, (unsigned)want);
        }
      }
  }
  free(d);
  return ran_all;
}

void print_counts(const char *what, const engine_counts *c) {
  for (int e = 0; e < NENGINES; e++)
    if (c->total[e])
      printf("%-44s %-14s %9zu / %9zu bit-exact\n", what, engine_names[e],
             c->ok[e], c->total[e]);
}

bool all_exact(const engine_counts *c, size_t outputs) {
  if (c->total[ENGINE_REF] != outputs) return false;
  for (int e = 0; e < NENGINES; e++)
    if (c->ok[e] != c->total[e]) return false;
  return true;
}
