/*
 * fp8lab/results_read.h: read a results file (docs/results-format.md) back
 * into memory, generically: every root attribute, every parameter, every
 * table with its columns, whatever the runner.  Used by `fp8lab merge`.
 *
 * What is read:
 *   root attributes   strings, u64 or i64 scalars (schema, runner, seed, ...)
 *   /parameters       strings, i64, f64 scalars, 1-D i64 arrays (the
 *                     group's own `description` attribute included)
 *   /tables/<name>    description, nrows, the columns in the order of the
 *                     `columns` attribute: f64, i64, u8 or strings, each
 *                     with its units and description
 * Attributes come sorted by name; tables sorted by name.
 *
 * Errors: NULL / -1 with a one-line message naming the file and the object.
 * HDF5's automatic error printing is off while these functions run.
 */
#ifndef FP8LAB_RESULTS_READ_H
#define FP8LAB_RESULTS_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fp8lab/results.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fp8lab_results_kind {
  FP8LAB_VALUE_STR,  /* s                          */
  FP8LAB_VALUE_I64,  /* i                          */
  FP8LAB_VALUE_U64,  /* u                          */
  FP8LAB_VALUE_F64,  /* f                          */
  FP8LAB_VALUE_I64S, /* v[0 .. n-1] (1-D array)    */
} fp8lab_results_kind;

/* One attribute. */
typedef struct fp8lab_results_value {
  char *name;
  fp8lab_results_kind kind;
  char *s;
  int64_t i;
  uint64_t u;
  double f;
  int64_t *v;
  size_t n;
} fp8lab_results_value;

/* One table: columns as the writer takes them (fp8lab/results.h); string
 * columns' data is a char *[nrows]. */
typedef struct fp8lab_results_table_data {
  char *name;
  char *description;
  size_t nrows;
  size_t ncols;
  fp8lab_results_column *cols; /* names, units, descriptions, data owned */
} fp8lab_results_table_data;

typedef struct fp8lab_results_file {
  char *path;
  fp8lab_results_value *root;
  size_t nroot;
  fp8lab_results_value *params;
  size_t nparams;
  fp8lab_results_table_data *tables;
  size_t ntables;
} fp8lab_results_file;

/* Read the whole file. */
fp8lab_results_file *fp8lab_results_read(const char *path, char *err,
                                         size_t errlen);
void fp8lab_results_file_free(fp8lab_results_file *f);

/* The attribute `name` among v[0..n-1], or NULL. */
const fp8lab_results_value *fp8lab_results_find(const fp8lab_results_value *v,
                                                size_t n, const char *name);
/* Same kind and same value (f64: same bits, so NaN equals NaN). */
bool fp8lab_results_value_equal(const fp8lab_results_value *a,
                                const fp8lab_results_value *b);
/* The value as text, for messages ("e4m3fn", "42", "[1, 64]"): into buf. */
const char *fp8lab_results_value_str(const fp8lab_results_value *v, char *buf,
                                     size_t len);

/* Add string attributes to the root of a complete results file (closed,
 * not yet renamed into place by its writer): provenance beyond
 * fp8lab_results_info, such as what `fp8lab merge` records.  names and
 * values: n each; a name that exists already is an error. */
int fp8lab_results_add_root_strs(const char *path, const char *const *names,
                                 const char *const *values, size_t n,
                                 char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
