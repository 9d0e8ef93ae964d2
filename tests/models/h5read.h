/* Minimal HDF5 reading for the model tests: whole datasets into memory,
 * bit patterns kept (float datasets are read as stored, never converted). */
#ifndef FP8LAB_TESTS_H5READ_H
#define FP8LAB_TESTS_H5READ_H

#include <stddef.h>
#include <stdint.h>

typedef struct h5arr {
  void *data;
  size_t n;          /* elements */
  int rank;
  size_t dims[4];
  size_t elsize;     /* bytes per element: 1 (u8), 2 (u16), 4 (f32) */
} h5arr;

/* Path of a trace file: $FP8LAB_DATA_DIR/<name> (or FP8LAB_DATA_DIR of the
 * build).  Returns a static buffer. */
const char *h5_data_path(const char *name);

/* Open / close a file read-only; -1 (negative hid) on failure. */
long long h5_open(const char *path);
void h5_close(long long file);

/* Read dataset `path` of file; 0 on success.  The element type must be
 * uint8, uint16 or float32 (kept as bits). */
int h5_read(long long file, const char *path, h5arr *out);
void h5_free(h5arr *a);

/* 1 if the link exists. */
int h5_exists(long long file, const char *path);

/* A float attribute of an object (group); 0 on success. */
int h5_attr_float(long long file, const char *obj, const char *name, float *out);

/* Every group under the root that holds a dataset named `leaf` (e.g. "D"),
 * depth first, sorted by name; returns the count, names in *out (free with
 * h5_free_names). */
size_t h5_groups_with(long long file, const char *leaf, char ***out);
void h5_free_names(char **names, size_t n);

#endif
