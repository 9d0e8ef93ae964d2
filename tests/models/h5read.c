#include "h5read.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *h5_data_path(const char *name) {
  static char buf[4096];
  const char *dir = getenv("FP8LAB_DATA_DIR");
  snprintf(buf, sizeof buf, "%s/%s", dir && *dir ? dir : "data", name);
  return buf;
}

long long h5_open(const char *path) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  return (long long)H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
}

void h5_close(long long file) {
  if (file >= 0) H5Fclose((hid_t)file);
}

int h5_exists(long long file, const char *path) {
  return H5Lexists((hid_t)file, path, H5P_DEFAULT) > 0;
}

int h5_read(long long file, const char *path, h5arr *out) {
  memset(out, 0, sizeof *out);
  hid_t d = H5Dopen2((hid_t)file, path, H5P_DEFAULT);
  if (d < 0) return -1;
  hid_t ft = H5Dget_type(d), sp = H5Dget_space(d);
  int rc = -1;
  hsize_t dims[4] = {0};
  int rank = H5Sget_simple_extent_ndims(sp);
  if (rank < 0 || rank > 4) goto done;
  H5Sget_simple_extent_dims(sp, dims, NULL);
  hid_t mt;
  size_t es = H5Tget_size(ft);
  H5T_class_t cl = H5Tget_class(ft);
  if (cl == H5T_FLOAT && es == 4) mt = H5T_NATIVE_FLOAT;
  else if (cl == H5T_INTEGER && es == 1) mt = H5T_NATIVE_UINT8;
  else if (cl == H5T_INTEGER && es == 2) mt = H5T_NATIVE_UINT16;
  else goto done;
  out->rank = rank;
  out->n = 1;
  for (int r = 0; r < rank; r++) out->dims[r] = (size_t)dims[r], out->n *= (size_t)dims[r];
  out->elsize = es;
  out->data = malloc(out->n * es + 1);
  if (!out->data) goto done;
  if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out->data) < 0) {
    free(out->data);
    out->data = NULL;
    goto done;
  }
  rc = 0;
done:
  H5Sclose(sp);
  H5Tclose(ft);
  H5Dclose(d);
  return rc;
}

void h5_free(h5arr *a) {
  free(a->data);
  a->data = NULL;
}

int h5_attr_float(long long file, const char *obj, const char *name, float *out) {
  hid_t a = H5Aopen_by_name((hid_t)file, obj, name, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) return -1;
  int rc = H5Aread(a, H5T_NATIVE_FLOAT, out) < 0 ? -1 : 0;
  H5Aclose(a);
  return rc;
}

typedef struct visit_ctx {
  const char *leaf;
  char **names;
  size_t n, cap;
  hid_t file;
} visit_ctx;

static herr_t visit_group(const char *name, visit_ctx *v) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", name, v->leaf);
  if (strcmp(name, ".") == 0) snprintf(path, sizeof path, "%s", v->leaf);
  if (H5Lexists(v->file, path, H5P_DEFAULT) <= 0) return 0;
  if (v->n == v->cap) {
    v->cap = v->cap ? 2 * v->cap : 64;
    v->names = realloc(v->names, v->cap * sizeof *v->names);
  }
  v->names[v->n++] = strdup(name);
  return 0;
}

#if H5_VERSION_GE(1, 12, 0)
static herr_t visit(hid_t obj, const char *name, const H5O_info2_t *info, void *p) {
#else
static herr_t visit(hid_t obj, const char *name, const H5O_info_t *info, void *p) {
#endif
  (void)obj;
  return info->type == H5O_TYPE_GROUP ? visit_group(name, p) : 0;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t h5_groups_with(long long file, const char *leaf, char ***out) {
  visit_ctx v = {leaf, NULL, 0, 0, (hid_t)file};
#if H5_VERSION_GE(1, 12, 0)
  H5Ovisit3((hid_t)file, H5_INDEX_NAME, H5_ITER_INC, visit, &v, H5O_INFO_BASIC);
#else
  H5Ovisit2((hid_t)file, H5_INDEX_NAME, H5_ITER_INC, visit, &v, H5O_INFO_BASIC);
#endif
  if (v.n) qsort(v.names, v.n, sizeof *v.names, cmp_names);
  *out = v.names;
  return v.n;
}

void h5_free_names(char **names, size_t n) {
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
}
