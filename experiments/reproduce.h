/* fp8lab reproduce: the table every reproduction fills, and the
 * reproductions that live in files of their own (repro_*.c). */
#ifndef FP8LAB_REPRODUCE_H
#define FP8LAB_REPRODUCE_H

#include <stdbool.h>
#include <stddef.h>

enum { REPRO_MAXROWS = 512, REPRO_NAMELEN = 64 };

typedef struct repro_row {
  char name[REPRO_NAMELEN]; /* a path: "gauss/e4m3/single"              */
  double value;             /* fp8lab's                                 */
  bool has_ref;             /* filled from data/published/<id>.csv      */
  double ref;
  char *source;
} repro_row;

typedef struct repro_table {
  repro_row rows[REPRO_MAXROWS];
  size_t n;
} repro_table;

/* Append fp8lab's value of result `name` (the reference, if any, is joined
 * afterwards from data/published/<id>.csv by name). */
void repro_put(repro_table *t, const char *name, double v);

typedef void (*repro_fn)(repro_table *t);

typedef struct repro {
  const char *id;
  const char *citation;
  repro_fn run;
  const bool *ready; /* false: listed as not yet implemented */
} repro;

/* Reproductions in their own files, each with its `_ready` flag. */
void repro_qualcomm_sqnr(repro_table *t);  /* repro_qualcomm.c */
void repro_ibm_chunk(repro_table *t);      /* repro_ibm.c      */
void repro_deepseek_accum(repro_table *t); /* repro_deepseek.c */
extern const bool repro_qualcomm_sqnr_ready, repro_ibm_chunk_ready,
    repro_deepseek_accum_ready;

/* A reproduction that is registered but not written yet calls this: it
 * exits with status 2 and says so. */
_Noreturn void repro_not_yet(const char *id);

#endif
