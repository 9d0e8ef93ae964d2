/*
 * lib/results_read.c: results files read back (fp8lab/results_read.h).
 *
 * Every public call: switch HDF5's error printing off, walk the file, and on
 * failure quote the innermost HDF5 message in err with the file and the
 * object.  Attribute types are mapped by class: strings (fixed or variable
 * length) -> STR, signed integers -> I64 (1-D: I64S), unsigned integers ->
 * U64, floats -> F64.  Columns: float -> F64, 1-byte unsigned -> U8, other
 * integers -> I64, strings -> STR (fixed-length, NUL-terminated or padded).
 */
#include "h5util.h"
#include "fp8lab/results_read.h"

#include <hdf5.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSGLEN 256

__attribute__((format(printf, 3, 4))) static int seterr(char *err,
                                                        size_t errlen,
                                                        const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* ---- attributes --------------------------------------------------------- */

/* Read attribute `name` of obj into *v (name set by the caller). */
static int read_attr(hid_t obj, const char *name, fp8lab_results_value *v) {
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return -1;
  hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
  int rc = -1;
  if (t < 0 || sp < 0) goto done;
  int ndims = H5Sget_simple_extent_ndims(sp);
  hssize_t npts = H5Sget_simple_extent_npoints(sp);
  if (ndims < 0 || npts < 0 || ndims > 1) goto done;
  switch (H5Tget_class(t)) {
  case H5T_STRING: {
    if (ndims != 0) goto done;
    if (H5Tis_variable_str(t) > 0) {
      hid_t mt = H5Tcopy(H5T_C_S1);
      H5Tset_size(mt, H5T_VARIABLE);
      H5Tset_cset(mt, H5Tget_cset(t));
      char *s = NULL;
      if (H5Aread(a, mt, &s) >= 0) {
        v->s = strdup(s ? s : "");
        H5free_memory(s);
        rc = v->s ? 0 : -1;
      }
      H5Tclose(mt);
    } else {
      size_t w = H5Tget_size(t);
      v->s = calloc(w + 1, 1);
      if (v->s && H5Aread(a, t, v->s) >= 0) rc = 0;
    }
    v->kind = FP8LAB_VALUE_STR;
    break;
  }
  case H5T_INTEGER:
    if (H5Tget_sign(t) == H5T_SGN_NONE && ndims == 0) {
      v->kind = FP8LAB_VALUE_U64;
      rc = H5Aread(a, H5T_NATIVE_UINT64, &v->u) < 0 ? -1 : 0;
    } else if (ndims == 0) {
      v->kind = FP8LAB_VALUE_I64;
      rc = H5Aread(a, H5T_NATIVE_INT64, &v->i) < 0 ? -1 : 0;
    } else {
      v->kind = FP8LAB_VALUE_I64S;
      v->n = (size_t)npts;
      v->v = calloc(v->n ? v->n : 1, sizeof *v->v);
      rc = v->v && H5Aread(a, H5T_NATIVE_INT64, v->v) >= 0 ? 0 : -1;
    }
    break;
  case H5T_FLOAT:
    if (ndims != 0) goto done;
    v->kind = FP8LAB_VALUE_F64;
    rc = H5Aread(a, H5T_NATIVE_DOUBLE, &v->f) < 0 ? -1 : 0;
    break;
  default:
    break;
  }
done:
  if (t >= 0) H5Tclose(t);
  if (sp >= 0) H5Sclose(sp);
  H5Aclose(a);
  return rc;
}

typedef struct attr_list {
  fp8lab_results_value *v;
  size_t n, cap;
  int failed;
  char bad[128]; /* the attribute that failed */
} attr_list;

static herr_t attr_cb(hid_t obj, const char *name, const H5A_info_t *info,
                      void *data) {
  (void)info;
  attr_list *l = data;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    fp8lab_results_value *p = realloc(l->v, cap * sizeof *p);
    if (!p) return -1;
    l->v = p;
    l->cap = cap;
  }
  fp8lab_results_value *v = &l->v[l->n];
  memset(v, 0, sizeof *v);
  v->name = strdup(name);
  l->n++;
  if (!v->name || read_attr(obj, name, v) != 0) {
    snprintf(l->bad, sizeof l->bad, "%s", name);
    l->failed = 1;
    return -1;
  }
  return 0;
}

static void free_values(fp8lab_results_value *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].name);
    free(v[i].s);
    free(v[i].v);
  }
  free(v);
}

static int read_attrs(hid_t obj, fp8lab_results_value **out, size_t *n,
                      char *bad, size_t badlen) {
  attr_list l = {0};
  hsize_t idx = 0;
  herr_t hr = H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_cb, &l);
  if (hr < 0 || l.failed) {
    snprintf(bad, badlen, "%s", l.bad);
    free_values(l.v, l.n);
    return -1;
  }
  *out = l.v;
  *n = l.n;
  return 0;
}

const fp8lab_results_value *fp8lab_results_find(const fp8lab_results_value *v,
                                                size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i].name, name) == 0) return &v[i];
  return NULL;
}

bool fp8lab_results_value_equal(const fp8lab_results_value *a,
                                const fp8lab_results_value *b) {
  if (!a || !b || a->kind != b->kind) return false;
  switch (a->kind) {
  case FP8LAB_VALUE_STR: return strcmp(a->s, b->s) == 0;
  case FP8LAB_VALUE_I64: return a->i == b->i;
  case FP8LAB_VALUE_U64: return a->u == b->u;
  case FP8LAB_VALUE_F64: return memcmp(&a->f, &b->f, sizeof a->f) == 0;
  case FP8LAB_VALUE_I64S:
    return a->n == b->n && memcmp(a->v, b->v, a->n * sizeof *a->v) == 0;
  }
  return false;
}

const char *fp8lab_results_value_str(const fp8lab_results_value *v, char *buf,
                                     size_t len) {
  if (!v) {
    snprintf(buf, len, "(absent)");
    return buf;
  }
  switch (v->kind) {
  case FP8LAB_VALUE_STR: snprintf(buf, len, "'%s'", v->s); break;
  case FP8LAB_VALUE_I64: snprintf(buf, len, "%" PRId64, v->i); break;
  case FP8LAB_VALUE_U64: snprintf(buf, len, "%" PRIu64, v->u); break;
  case FP8LAB_VALUE_F64: snprintf(buf, len, "%.17g", v->f); break;
  case FP8LAB_VALUE_I64S: {
    size_t k = (size_t)snprintf(buf, len, "[");
    for (size_t i = 0; i < v->n && k < len; i++)
      k += (size_t)snprintf(buf + k, len - k, "%s%" PRId64, i ? ", " : "",
                            v->v[i]);
    if (k < len) snprintf(buf + k, len - k, "]");
    break;
  }
  }
  return buf;
}

/* ---- tables ------------------------------------------------------------- */

static void free_table(fp8lab_results_table_data *t) {
  for (size_t c = 0; c < t->ncols; c++) {
    fp8lab_results_column *col = &t->cols[c];
    if (col->type == FP8LAB_RESULTS_STR && col->data) {
      char **s = (char **)col->data;
      for (size_t k = 0; k < t->nrows; k++) free(s[k]);
    }
    free((void *)col->data);
    free((char *)col->name);
    free((char *)col->units);
    free((char *)col->description);
  }
  free(t->cols);
  free(t->name);
  free(t->description);
}

static char *str_attr(hid_t obj, const char *name) {
  fp8lab_results_value v = {0};
  if (H5Aexists(obj, name) <= 0 || read_attr(obj, name, &v) != 0 ||
      v.kind != FP8LAB_VALUE_STR) {
    free(v.s);
    free(v.v);
    return NULL;
  }
  return v.s;
}

/* Column `c` of group g into col (name set); nrows expected. */
static int read_column(hid_t g, fp8lab_results_column *col, size_t nrows,
                       char *why, size_t whylen) {
  hid_t d = H5Dopen2(g, col->name, H5P_DEFAULT);
  if (d < 0) return seterr(why, whylen, "no dataset");
  hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
  int rc = -1;
  char *buf = NULL;
  if (t < 0 || sp < 0) goto done;
  if (H5Sget_simple_extent_ndims(sp) != 1 ||
      H5Sget_simple_extent_npoints(sp) != (hssize_t)nrows) {
    seterr(why, whylen, "not a 1-D dataset of nrows = %zu elements", nrows);
    goto done;
  }
  size_t m = nrows ? nrows : 1;
  switch (H5Tget_class(t)) {
  case H5T_FLOAT:
    col->type = FP8LAB_RESULTS_F64;
    col->data = calloc(m, sizeof(double));
    if (col->data && (!nrows || H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                                        H5P_DEFAULT, (void *)col->data) >= 0))
      rc = 0;
    break;
  case H5T_INTEGER:
    if (H5Tget_size(t) == 1 && H5Tget_sign(t) == H5T_SGN_NONE) {
      col->type = FP8LAB_RESULTS_U8;
      col->data = calloc(m, 1);
      if (col->data && (!nrows || H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL,
                                          H5P_DEFAULT, (void *)col->data) >= 0))
        rc = 0;
    } else {
      col->type = FP8LAB_RESULTS_I64;
      col->data = calloc(m, sizeof(int64_t));
      if (col->data && (!nrows || H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL,
                                          H5P_DEFAULT, (void *)col->data) >= 0))
        rc = 0;
    }
    break;
  case H5T_STRING: {
    col->type = FP8LAB_RESULTS_STR;
    if (H5Tis_variable_str(t) > 0) {
      seterr(why, whylen, "variable-length strings (fp8lab writes fixed)");
      goto done;
    }
    size_t w = H5Tget_size(t);
    char **s = calloc(m, sizeof *s);
    col->data = s;
    buf = calloc(m, w);
    if (!s || !buf) break;
    if (nrows && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) break;
    rc = 0;
    for (size_t k = 0; k < nrows && rc == 0; k++) {
      s[k] = calloc(w + 1, 1);
      if (!s[k]) rc = -1;
      else memcpy(s[k], buf + k * w, w);
    }
    break;
  }
  default:
    seterr(why, whylen, "unsupported type");
    goto done;
  }
  if (rc == 0) {
    col->units = str_attr(d, "units");
    col->description = str_attr(d, "description");
    if (!col->units || !col->description) {
      seterr(why, whylen, "no units or description attribute");
      rc = -1;
    }
  } else if (!why[0]) {
    char msg[MSGLEN];
    seterr(why, whylen, "%s", fp8lab_h5_msg(msg, sizeof msg));
  }
done:
  free(buf);
  if (t >= 0) H5Tclose(t);
  if (sp >= 0) H5Sclose(sp);
  H5Dclose(d);
  return rc;
}

static int read_table(hid_t tables, const char *name,
                      fp8lab_results_table_data *t, char *why, size_t whylen) {
  hid_t g = H5Gopen2(tables, name, H5P_DEFAULT);
  if (g < 0) return seterr(why, whylen, "cannot open the group");
  int rc = -1;
  char *columns = NULL;
  fp8lab_results_value nr = {0};
  t->description = str_attr(g, "description");
  columns = str_attr(g, "columns");
  if (!t->description || !columns || H5Aexists(g, "nrows") <= 0 ||
      read_attr(g, "nrows", &nr) != 0 || nr.kind != FP8LAB_VALUE_I64 ||
      nr.i < 0) {
    seterr(why, whylen, "attributes description, columns, nrows missing or "
           "malformed");
    goto done;
  }
  t->nrows = (size_t)nr.i;
  size_t nc = 1;
  for (const char *p = columns; *p; p++) nc += *p == ',';
  t->cols = calloc(nc, sizeof *t->cols);
  if (!t->cols) goto done;
  char *save = NULL;
  for (char *c = strtok_r(columns, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
    fp8lab_results_column *col = &t->cols[t->ncols++];
    col->name = strdup(c);
    if (!col->name) goto done;
    char w[200] = "";
    if (read_column(g, col, t->nrows, w, sizeof w) != 0) {
      seterr(why, whylen, "column %s: %s", c, w);
      goto done;
    }
  }
  rc = 0;
done:
  free(columns);
  H5Gclose(g);
  return rc;
}

typedef struct name_list {
  char **v;
  size_t n, cap;
} name_list;

static herr_t link_cb(hid_t g, const char *name, const H5L_info_t *info,
                      void *data) {
  (void)g, (void)info;
  name_list *l = data;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 8;
    char **p = realloc(l->v, cap * sizeof *p);
    if (!p) return -1;
    l->v = p;
    l->cap = cap;
  }
  if (!(l->v[l->n] = strdup(name))) return -1;
  l->n++;
  return 0;
}

void fp8lab_results_file_free(fp8lab_results_file *f) {
  if (!f) return;
  free_values(f->root, f->nroot);
  free_values(f->params, f->nparams);
  for (size_t i = 0; i < f->ntables; i++) free_table(&f->tables[i]);
  free(f->tables);
  free(f->path);
  free(f);
}

fp8lab_results_file *fp8lab_results_read(const char *path, char *err,
                                         size_t errlen) {
  char msg[MSGLEN], bad[160] = "", why[400] = "";
  fp8lab_results_file *f = calloc(1, sizeof *f);
  if (!f || !(f->path = strdup(path))) {
    free(f);
    seterr(err, errlen, "%s: out of memory", path);
    return NULL;
  }
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  hid_t file = -1, params = -1, tables = -1;
  name_list names = {0};
  int ok = 0;
  if (H5Fis_hdf5(path) <= 0) {
    seterr(err, errlen, "%s: not an HDF5 file (or cannot be read)", path);
    goto done;
  }
  file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) {
    seterr(err, errlen, "%s: cannot open: %s", path, fp8lab_h5_msg(msg, sizeof msg));
    goto done;
  }
  if (read_attrs(file, &f->root, &f->nroot, bad, sizeof bad) != 0) {
    seterr(err, errlen, "%s: cannot read root attribute %s", path, bad);
    goto done;
  }
  params = H5Gopen2(file, "parameters", H5P_DEFAULT);
  if (params < 0 || read_attrs(params, &f->params, &f->nparams, bad, sizeof bad)) {
    seterr(err, errlen, "%s: cannot read /parameters%s%s", path,
           bad[0] ? " attribute " : "", bad);
    goto done;
  }
  tables = H5Gopen2(file, "tables", H5P_DEFAULT);
  hsize_t idx = 0;
  if (tables < 0 ||
      H5Literate(tables, H5_INDEX_NAME, H5_ITER_INC, &idx, link_cb, &names) < 0) {
    seterr(err, errlen, "%s: cannot read /tables", path);
    goto done;
  }
  f->tables = calloc(names.n ? names.n : 1, sizeof *f->tables);
  if (!f->tables) {
    seterr(err, errlen, "%s: out of memory", path);
    goto done;
  }
  for (size_t i = 0; i < names.n; i++) {
    fp8lab_results_table_data *t = &f->tables[f->ntables++];
    t->name = strdup(names.v[i]);
    if (!t->name || read_table(tables, names.v[i], t, why, sizeof why) != 0) {
      seterr(err, errlen, "%s: table %s: %s", path, names.v[i], why);
      goto done;
    }
  }
  ok = 1;
done:
  for (size_t i = 0; i < names.n; i++) free(names.v[i]);
  free(names.v);
  if (tables >= 0) H5Gclose(tables);
  if (params >= 0) H5Gclose(params);
  if (file >= 0) H5Fclose(file);
  fp8lab_h5_quiet_off(&q);
  if (!ok) {
    fp8lab_results_file_free(f);
    return NULL;
  }
  return f;
}

/* ---- provenance --------------------------------------------------------- */

int fp8lab_results_add_root_strs(const char *path, const char *const *names,
                                 const char *const *values, size_t n,
                                 char *err, size_t errlen) {
  char msg[MSGLEN];
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  int rc = -1;
  const char *what = "file";
  hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
  hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  if (file < 0 || t < 0 || sp < 0 || H5Tset_size(t, H5T_VARIABLE) < 0 ||
      H5Tset_cset(t, H5T_CSET_UTF8) < 0)
    goto done;
  for (size_t i = 0; i < n; i++) {
    what = names[i];
    if (H5Aexists(file, names[i]) != 0) {
      snprintf(msg, sizeof msg, "it exists already");
      goto report;
    }
    hid_t a = H5Acreate2(file, names[i], t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) goto done;
    herr_t hr = H5Awrite(a, t, &values[i]);
    H5Aclose(a);
    if (hr < 0) goto done;
  }
  what = "file";
  if (H5Fclose(file) < 0) {
    file = -1;
    goto done;
  }
  file = -1;
  rc = 0;
  goto out;
done:
  fp8lab_h5_msg(msg, sizeof msg);
report:
  seterr(err, errlen, "%s: cannot write root attribute %s: %s", path, what, msg);
out:
  if (file >= 0) H5Fclose(file);
  if (t >= 0) H5Tclose(t);
  if (sp >= 0) H5Sclose(sp);
  fp8lab_h5_quiet_off(&q);
  return rc;
}
