/*
 * fp8lab/results.h: results files, one self-describing HDF5 file per run of
 * an experiment runner (fp8lab accum, fp8lab reproduce, ...).  The schema is
 * docs/results-format.md; in short:
 *
 *   /                 attributes: schema ("fp8lab-results/1"), runner,
 *                     fp8lab_version, git_commit, command_line, seed (u64),
 *                     threads (i64), start_time, end_time (ISO 8601 UTC,
 *                     "2026-11-23T10:34:22Z")
 *   /parameters       a group whose attributes are every parameter of the
 *                     run: strings, i64, f64 or 1-D i64 arrays
 *   /tables/<name>    one table: a group with attributes description, nrows
 *                     (i64) and columns (the column names, comma-separated,
 *                     in order), holding one 1-D dataset of nrows elements
 *                     per column: f64, i64, u8 or fixed-length UTF-8
 *                     strings.  Every dataset has `units` and `description`
 *                     string attributes ("1" for dimensionless numbers).
 *
 * A table is a group of columns rather than one compound dataset so that
 * every column carries its own units and description, and so that h5py,
 * pandas (through h5py) and h5dump read it with nothing fp8lab-specific:
 *     t = f["tables/accum"]
 *     df = pandas.DataFrame({c: t[c][()] for c in t.attrs["columns"].split(",")})
 *
 * Atomicity.  fp8lab_results_create writes the file under a temporary name
 * next to `path` ("<path>.tmp.<pid>.<n>"), fp8lab_results_tmp_path gives it,
 * and fp8lab_results_close renames it over `path` once complete; a failed
 * run removes it (fp8lab_results_abort).  This library installs no signal
 * handler (it never exits or prints): a program that must leave nothing
 * behind when interrupted removes fp8lab_results_tmp_path from its own
 * handler (experiments/runner.c does).
 *
 * Files are written with HDF5 1.10 file-format features (checksummed
 * metadata); readable by HDF5 >= 1.10 and h5py built on it.
 *
 * Errors: every function returns 0 (or a pointer) on success and -1 (or
 * NULL) with a one-line message naming the file and the object in err.
 * HDF5's automatic error printing is off while these functions run.
 * Thread safety: as the HDF5 library's (one thread at a time).
 */
#ifndef FP8LAB_RESULTS_H
#define FP8LAB_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The schema name written into the root `schema` attribute. */
#define FP8LAB_RESULTS_SCHEMA "fp8lab-results/1"

typedef struct fp8lab_results fp8lab_results;

/* What a run records about itself.  Strings may not be NULL except
 * start_time (NULL: now).  version and git_commit come from the caller (the
 * command passes FP8LAB_VERSION and FP8LAB_GIT_DESCRIBE), so that lib/ does
 * not depend on headers generated at build time. */
typedef struct fp8lab_results_info {
  const char *runner;       /* "accum", "reproduce stagnation", ...        */
  const char *version;      /* fp8lab version                              */
  const char *git_commit;   /* git describe of the build                   */
  const char *command_line; /* the full command line, shell-quoted         */
  uint64_t seed;            /* the run's seed                              */
  int64_t threads;          /* worker threads used                         */
  const char *start_time;   /* ISO 8601 UTC; NULL: now                     */
} fp8lab_results_info;

/* Create the file (under its temporary name) and write the root attributes
 * and an empty /parameters group. */
fp8lab_results *fp8lab_results_create(const char *path,
                                      const fp8lab_results_info *info,
                                      char *err, size_t errlen);

/* The temporary file being written, or NULL after close / abort. */
const char *fp8lab_results_tmp_path(const fp8lab_results *r);
/* The final path. */
const char *fp8lab_results_path(const fp8lab_results *r);

/* Parameters: attributes of /parameters.  A name may be given once. */
int fp8lab_results_param_str(fp8lab_results *r, const char *name,
                             const char *value, char *err, size_t errlen);
int fp8lab_results_param_i64(fp8lab_results *r, const char *name,
                             int64_t value, char *err, size_t errlen);
int fp8lab_results_param_f64(fp8lab_results *r, const char *name,
                             double value, char *err, size_t errlen);
int fp8lab_results_param_i64s(fp8lab_results *r, const char *name,
                              const int64_t *values, size_t n, char *err,
                              size_t errlen);

typedef enum fp8lab_results_type {
  FP8LAB_RESULTS_F64, /* double[nrows]                         */
  FP8LAB_RESULTS_I64, /* int64_t[nrows]                        */
  FP8LAB_RESULTS_U8,  /* uint8_t[nrows] (flags: 0 or 1)       */
  FP8LAB_RESULTS_STR, /* const char *[nrows], UTF-8, not NULL  */
} fp8lab_results_type;

/* One column of a table.  units: "1" for dimensionless quantities, else a
 * unit ("s", "terms", ...); description: one sentence, its meaning. */
typedef struct fp8lab_results_column {
  const char *name;
  fp8lab_results_type type;
  const void *data;
  const char *units;
  const char *description;
} fp8lab_results_column;

/* Write table /tables/<name> (name: letters, digits, '_', '-'): nrows rows
 * (0 allowed) of ncols >= 1 columns, names unique and free of ','. */
int fp8lab_results_table(fp8lab_results *r, const char *name,
                         const char *description, size_t nrows,
                         const fp8lab_results_column *cols, size_t ncols,
                         char *err, size_t errlen);

/* Write end_time (NULL: now), close, rename into place.  Frees r whatever
 * happens; on failure the temporary file is removed. */
int fp8lab_results_close(fp8lab_results *r, const char *end_time, char *err,
                         size_t errlen);
/* Give up: close, remove the temporary file, free r. */
void fp8lab_results_abort(fp8lab_results *r);

/* The current time as ISO 8601 UTC ("2026-11-23T10:34:22Z") into buf
 * (at least 21 bytes).  Returns buf. */
char *fp8lab_results_now(char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
