/*
 * fp8lab/trace.h: trace files, what a GPU (or any kernel) computed on FP8
 * inputs, stored exactly so that a model can be checked against it bit for
 * bit.  The format is HDF5; docs/trace-format.md describes it in full.
 *
 * A file holds case groups: every HDF5 group that directly contains a
 * dataset.  Two kinds, told apart by the rank of A:
 *
 *   instruction  A[ncases][M][K] u8, B[ncases][N][K] u8 (B[c][j][k] is
 *                element (k, j)), optional C[ncases][M][N], outputs
 *                D...[ncases][M][N], optional family[ncases] u8 indexing the
 *                file's `families` attribute (a JSON list of strings).
 *                ncases independent runs of one instruction, or of a chain
 *                of instructions over K (D = A*B + C).
 *   gemm         A[M][K] u8, B[N][K] u8 (D = A * B^T), optional C[M][N],
 *                outputs D...[M][N], optional scales: `tensor_scale_a` and
 *                `tensor_scale_b` f32 attributes, row_scale_a[M][1],
 *                col_scale_b[1][N], tile_scale_a_1x128[M][ceil(K/128)],
 *                block_scale_b_128x128[ceil(N/128)][ceil(K/128)] (f32).
 *                One case (ncases = 1).
 *
 * Values (C and the outputs) are kept as bit patterns: f32 datasets as
 * float, f16 and bf16 as uint16 (h5py float16 is accepted as f16).  Which
 * of f16 and bf16 a uint16 dataset holds: its `format` attribute, else a
 * name ending in _bf16 / _f16, else a `dtype` attribute mentioning bf16,
 * else f16.
 *
 * Outputs are the datasets named D or D_*.  The name says the scaling and
 * the accumulation the output was made with:
 *   D, D_fast                       no scales (promoted / fast accumulation)
 *   D_<mode>[_fast]_<f32|bf16|f16>  mode tensor, rowwise or blockwise
 * Any other D_* name is an output without scales; an output's `model`
 * attribute, when present, names the fp8lab model that reproduces it.
 *
 * Operand formats, first rule that applies: the group's `format_a` and
 * `format_b` attributes (fp8lab format names, fp8lab_format_parse); the
 * group path, whose deepest component of the form <a>_<b>[_...] with a, b
 * FP8 format names gives them ("e4m3" there is NVIDIA's E4M3, fp8lab's
 * e4m3fn); the file's `layout` attribute when it names exactly one of
 * e4m3, e5m2 (both operands that format).
 *
 * Errors.  Every function returns 0 (or a pointer) on success and -1 (or
 * NULL) with a one-line message in err: the file, the group and dataset,
 * and what is wrong ("x.h5: e4m3_e4m3/D: shape [864][64][7], expected
 * [864][64][8] (ncases, M, N of A and B)").  Missing, truncated, non-HDF5
 * and malformed files are errors, never a crash; HDF5's own error printing
 * is switched off during every call (and restored after it) and the
 * innermost HDF5 message is quoted in err instead.  (One limit, outside
 * any reader's reach: HDF5 1.10 itself can crash on corrupt metadata of
 * files without checksums, as h5py writes by default; files from the
 * writer below carry checksums.  docs/trace-format.md.)
 *
 * Thread safety: as the HDF5 library's (serial builds: one thread at a
 * time in these functions).  A loaded group is plain memory.
 */
#ifndef FP8LAB_TRACE_H
#define FP8LAB_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fp8lab/gemm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fp8lab_trace_dtype {
  FP8LAB_TRACE_NONE, /* absent (C of a trace without C)            */
  FP8LAB_TRACE_F32,  /* binary32, stored as float                   */
  FP8LAB_TRACE_F16,  /* binary16 bit patterns, stored as uint16_t   */
  FP8LAB_TRACE_BF16, /* bfloat16 bit patterns, stored as uint16_t   */
} fp8lab_trace_dtype;

/* "f32", "f16", "bf16" ("none"); the fp8lab format of the values; bytes
 * per element (0 for NONE). */
const char *fp8lab_trace_dtype_name(fp8lab_trace_dtype t);
const fp8lab_format *fp8lab_trace_dtype_format(fp8lab_trace_dtype t);
size_t fp8lab_trace_dtype_size(fp8lab_trace_dtype t);

/* Element i of an array of values of type t, as a bit pattern. */
static inline uint32_t fp8lab_trace_bits(fp8lab_trace_dtype t,
                                         const void *data, size_t i) {
  if (t == FP8LAB_TRACE_F32) {
    uint32_t u;
    memcpy(&u, (const unsigned char *)data + 4 * i, 4);
    return u;
  }
  uint16_t h;
  memcpy(&h, (const unsigned char *)data + 2 * i, 2);
  return h;
}

typedef struct fp8lab_trace_output {
  char *name;                /* "D", "D_fast", "D_rowwise_bf16", ...        */
  fp8lab_trace_dtype type;   /* F32, F16 or BF16                            */
  fp8lab_scale_mode scales;  /* from the name (NONE unless D_<mode>_...)     */
  bool fast;                 /* the name says fast accumulation             */
  char *model;               /* the `model` attribute, or NULL              */
  char *kernels;             /* the `kernels` attribute (JSON), or NULL     */
  void *data;                /* [ncases][m][n] values of `type`             */
} fp8lab_trace_output;

typedef struct fp8lab_trace_group {
  char *path;                /* "e4m3_e4m3/K128" (no leading '/'; "/" for
                                datasets in the root group)                 */
  bool instruction;          /* rank-3 A: ncases instruction runs            */
  fp8lab_format fa, fb;      /* operand formats (<= 8 bits)                 */
  size_t ncases, m, n, k;    /* ncases = 1 for gemm groups                  */
  uint8_t *a;                /* [ncases][m][k] codes                         */
  uint8_t *b;                /* [ncases][n][k] codes: b[c][j][kk] = B(kk, j) */
  fp8lab_trace_dtype c_type; /* NONE when the group has no C                 */
  void *c;                   /* [ncases][m][n] values of c_type, or NULL    */
  uint8_t *family;           /* [ncases] or NULL                             */
  bool has_tensor_scales;    /* gemm groups: the scale attributes present    */
  float tensor_scale_a, tensor_scale_b;
  float *row_scale_a;        /* [m], or NULL                                 */
  float *col_scale_b;        /* [n]                                          */
  float *tile_scale_a;       /* [m][ceil(k/128)]                             */
  float *block_scale_b;      /* [ceil(n/128)][ceil(k/128)]                   */
  size_t noutputs;
  fp8lab_trace_output *outputs;
} fp8lab_trace_group;

typedef struct fp8lab_trace {
  char *path;                /* the file name as given                      */
  char *instruction;         /* root attributes (strings), NULL if absent   */
  char *call;
  char *layout;
  char *gpu;
  char **families;           /* the `families` attribute, parsed            */
  size_t nfamilies;
  char **groups;             /* case-group paths, natural order (K32 < K128) */
  size_t ngroups;
  int64_t h5;                /* the open HDF5 file (internal)               */
} fp8lab_trace;

/* ---- reading ----------------------------------------------------------- */

/* Switch HDF5's automatic error printing off for the calling thread, for
 * good: for programs (the fp8lab command) that report errors themselves.
 * The functions here silence HDF5 only while they run; but after reading
 * some corrupt files HDF5 (1.10 to 1.14) cannot shut down cleanly and, at
 * process exit, prints "HDF5: infinite loop closing library" if its error
 * printing is still on (HDFGroup/hdf5#6677).  Returns 0, or -1. */
int fp8lab_trace_hdf5_quiet(void);

/* Open a trace: check it is a readable HDF5 file, read the root attributes
 * and list the case groups (a file without any is an error).  Data are read
 * by fp8lab_trace_load. */
int fp8lab_trace_open(const char *path, fp8lab_trace *t, char *err,
                      size_t errlen);
void fp8lab_trace_close(fp8lab_trace *t);

/* Index of the case group at `path` ("e4m3_e4m3/K128", leading '/'
 * optional), or -1. */
long fp8lab_trace_find(const fp8lab_trace *t, const char *path);

/* Read case group `index` and check it: datasets present, types, ranks,
 * shapes consistent with each other, formats known, family values in range,
 * the scales every output's name asks for present.  On failure *g is left
 * empty (nothing to free). */
int fp8lab_trace_load(const fp8lab_trace *t, size_t index,
                      fp8lab_trace_group *g, char *err, size_t errlen);
void fp8lab_trace_group_free(fp8lab_trace_group *g);

/* An output name's meaning (see the top of this file): returns false for a
 * name that is not D or D_*. */
bool fp8lab_trace_output_kind(const char *name, fp8lab_scale_mode *scales,
                              bool *fast);

/* ---- writing ----------------------------------------------------------- */

/* Record traces in the same layout.  The file is written under a temporary
 * name next to `path` and renamed over it by fp8lab_trace_writer_close, so
 * a failed recording never leaves a partial trace.  Written with HDF5 1.10
 * file-format features (checksummed metadata) and chunked datasets with
 * shuffle, deflate and Fletcher-32 filters: corruption is detected, not
 * read as data.  Readable by HDF5 >= 1.10 (and h5py built on it). */
typedef struct fp8lab_trace_writer fp8lab_trace_writer;

fp8lab_trace_writer *fp8lab_trace_writer_open(const char *path, char *err,
                                              size_t errlen);
/* A string attribute of the file, e.g. "instruction", "gpu", "layout",
 * "families" (a JSON list of strings, e.g. ["gauss", "special"]). */
int fp8lab_trace_writer_attr(fp8lab_trace_writer *w, const char *name,
                             const char *value, char *err, size_t errlen);
/* Write one case group from the same structure the reader fills: g->path,
 * g->instruction, formats, sizes, arrays (NULL = absent; c per c_type),
 * outputs (name, type, data, and the optional model and kernels strings;
 * `scales` and `fast` are ignored: the name carries them).  The group gets
 * `format_a` and `format_b` attributes; value datasets a `format`
 * attribute. */
int fp8lab_trace_write_group(fp8lab_trace_writer *w,
                             const fp8lab_trace_group *g, char *err,
                             size_t errlen);
/* Finish: flush, close, rename into place.  Frees w whatever happens. */
int fp8lab_trace_writer_close(fp8lab_trace_writer *w, char *err,
                              size_t errlen);
/* Give up: remove the temporary file and free w. */
void fp8lab_trace_writer_abort(fp8lab_trace_writer *w);

#ifdef __cplusplus
}
#endif
#endif
