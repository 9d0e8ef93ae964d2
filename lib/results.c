/*
 * lib/results.c: results files (fp8lab/results.h, docs/results-format.md).
 *
 * Every public call: check its arguments, switch HDF5's error printing off,
 * do the HDF5 work, and on failure quote the innermost HDF5 message in err.
 * Strings: attributes are variable-length UTF-8 (h5py reads them as str);
 * string columns are fixed-length, NUL-terminated UTF-8, as long as their
 * longest value (numpy dtype S<n>: h5dump, h5py and pandas read them
 * directly).
 */
#include "h5util.h"
#include "fp8lab/results.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MSGLEN 256

struct fp8lab_results {
  char *path;
  char *tmp;
  hid_t file;
  hid_t params;
  hid_t tables;
};

/* ---- errors ------------------------------------------------------------- */


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

/* ---- small writers (return 0 or -1, HDF5 stack left for h5_msg) --------- */

static hid_t str_type(size_t len) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return -1;
  if (H5Tset_size(t, len ? len : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
      H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
    H5Tclose(t);
    return -1;
  }
  return t;
}

static int put_attr(hid_t obj, const char *name, hid_t ftype, hid_t mtype,
                    hid_t space, const void *data) {
  if (H5Aexists(obj, name) > 0) return -1;
  hid_t a = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) return -1;
  int rc = H5Awrite(a, mtype, data) < 0 ? -1 : 0;
  H5Aclose(a);
  return rc;
}

/* String attributes are variable-length UTF-8 (h5py reads them as str). */
static int put_str_attr(hid_t obj, const char *name, const char *value) {
  hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
  int rc = -1;
  if (t >= 0 && sp >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 &&
      H5Tset_cset(t, H5T_CSET_UTF8) >= 0)
    rc = put_attr(obj, name, t, t, sp, &value);
  if (t >= 0) H5Tclose(t);
  if (sp >= 0) H5Sclose(sp);
  return rc;
}

static int put_num_attr(hid_t obj, const char *name, hid_t ftype, hid_t mtype,
                        const void *v, size_t n, bool array) {
  hsize_t d[1] = {n};
  hid_t sp = array ? H5Screate_simple(1, d, NULL) : H5Screate(H5S_SCALAR);
  if (sp < 0) return -1;
  int rc = put_attr(obj, name, ftype, mtype, sp, v);
  H5Sclose(sp);
  return rc;
}

/* ---- time --------------------------------------------------------------- */

char *fp8lab_results_now(char *buf, size_t len) {
  time_t t = time(NULL);
  struct tm tm;
  if (len == 0) return buf;
  if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    buf[0] = '\0';
  return buf;
}

/* ---- create / close ----------------------------------------------------- */

const char *fp8lab_results_tmp_path(const fp8lab_results *r) {
  return r ? r->tmp : NULL;
}

const char *fp8lab_results_path(const fp8lab_results *r) {
  return r ? r->path : NULL;
}

static void close_handles(fp8lab_results *r) {
  if (r->tables > 0) H5Gclose(r->tables);
  if (r->params > 0) H5Gclose(r->params);
  r->tables = r->params = 0;
}

void fp8lab_results_abort(fp8lab_results *r) {
  if (!r) return;
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  close_handles(r);
  if (r->file > 0) H5Fclose(r->file);
  fp8lab_h5_quiet_off(&q);
  if (r->tmp) unlink(r->tmp);
  free(r->tmp);
  free(r->path);
  free(r);
}

fp8lab_results *fp8lab_results_create(const char *path,
                                      const fp8lab_results_info *info,
                                      char *err, size_t errlen) {
  char msg[MSGLEN];
  if (!path || !path[0]) {
    seterr(err, errlen, "results: no file name");
    return NULL;
  }
  if (!info || !info->runner || !info->version || !info->git_commit ||
      !info->command_line) {
    seterr(err, errlen, "%s: results info incomplete (runner, version, "
           "git_commit and command_line are required)", path);
    return NULL;
  }
  fp8lab_results *r = calloc(1, sizeof *r);
  size_t len = strlen(path) + 48;
  if (!r || !(r->path = strdup(path)) || !(r->tmp = malloc(len))) {
    fp8lab_results_abort(r);
    seterr(err, errlen, "%s: out of memory", path);
    return NULL;
  }
  /* A fresh name next to the target, created with the usual permissions. */
  static _Atomic unsigned counter;
  int fd = -1;
  for (int tries = 0; fd < 0 && tries < 100; tries++) {
    snprintf(r->tmp, len, "%s.tmp.%ld.%u", path, (long)getpid(),
             counter++ % 100000u);
    fd = open(r->tmp, O_CREAT | O_EXCL | O_WRONLY, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    seterr(err, errlen, "%s: cannot create: %s", path, strerror(errno));
    free(r->tmp);
    r->tmp = NULL;
    fp8lab_results_abort(r);
    return NULL;
  }
  close(fd);

  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  const char *what = "file";
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0) {
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_LATEST);
  }
  r->file = H5Fcreate(r->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (fapl >= 0) H5Pclose(fapl);
  if (r->file < 0) goto fail;
  what = "root attributes";
  char now[32];
  const char *start = info->start_time ? info->start_time
                                       : fp8lab_results_now(now, sizeof now);
  if (put_str_attr(r->file, "schema", FP8LAB_RESULTS_SCHEMA) ||
      put_str_attr(r->file, "runner", info->runner) ||
      put_str_attr(r->file, "fp8lab_version", info->version) ||
      put_str_attr(r->file, "git_commit", info->git_commit) ||
      put_str_attr(r->file, "command_line", info->command_line) ||
      put_num_attr(r->file, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64,
                   &info->seed, 1, false) ||
      put_num_attr(r->file, "threads", H5T_STD_I64LE, H5T_NATIVE_INT64,
                   &info->threads, 1, false) ||
      put_str_attr(r->file, "start_time", start))
    goto fail;
  what = "/parameters";
  r->params = H5Gcreate2(r->file, "parameters", H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
  if (r->params < 0 ||
      put_str_attr(r->params, "description",
                   "every parameter of the run, one attribute each"))
    goto fail;
  what = "/tables";
  r->tables = H5Gcreate2(r->file, "tables", H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
  if (r->tables < 0) goto fail;
  fp8lab_h5_quiet_off(&q);
  return r;
fail:
  seterr(err, errlen, "%s: cannot write %s: %s", path, what,
         fp8lab_h5_msg(msg, sizeof msg));
  fp8lab_h5_quiet_off(&q);
  fp8lab_results_abort(r);
  return NULL;
}

int fp8lab_results_close(fp8lab_results *r, const char *end_time, char *err,
                         size_t errlen) {
  char msg[MSGLEN], now[32];
  if (!r) return seterr(err, errlen, "results: none");
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  int rc = 0;
  if (put_str_attr(r->file, "end_time",
                   end_time ? end_time : fp8lab_results_now(now, sizeof now)))
    rc = seterr(err, errlen, "%s: cannot write end_time: %s", r->path,
                fp8lab_h5_msg(msg, sizeof msg));
  close_handles(r);
  herr_t hr = H5Fclose(r->file);
  r->file = 0;
  if (rc == 0 && hr < 0)
    rc = seterr(err, errlen, "%s: cannot write: %s", r->path,
                fp8lab_h5_msg(msg, sizeof msg));
  fp8lab_h5_quiet_off(&q);
  if (rc == 0 && rename(r->tmp, r->path) != 0)
    rc = seterr(err, errlen, "%s: cannot rename %s into place: %s", r->path,
                r->tmp, strerror(errno));
  if (rc == 0) {
    free(r->tmp);
    r->tmp = NULL;
  }
  fp8lab_results_abort(r); /* removes tmp only if it is still there */
  return rc;
}

/* ---- parameters --------------------------------------------------------- */

static int param_check(fp8lab_results *r, const char *name, char *err,
                       size_t errlen) {
  if (!r || !r->file) return seterr(err, errlen, "results: not open");
  if (!name || !name[0] || strchr(name, '/'))
    return seterr(err, errlen, "%s: parameter name '%s' is empty or has '/'",
                  r->path, name ? name : "");
  return 0;
}

static int param_done(fp8lab_results *r, const char *name, int rc, fp8lab_h5_quiet *q,
                      char *err, size_t errlen) {
  char msg[MSGLEN];
  if (rc != 0)
    seterr(err, errlen, "%s: cannot write parameter %s: %s", r->path, name,
           H5Aexists(r->params, name) > 0 ? "given twice"
                                          : fp8lab_h5_msg(msg, sizeof msg));
  fp8lab_h5_quiet_off(q);
  return rc;
}

int fp8lab_results_param_str(fp8lab_results *r, const char *name,
                             const char *value, char *err, size_t errlen) {
  if (param_check(r, name, err, errlen)) return -1;
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  int rc = put_str_attr(r->params, name, value ? value : "");
  return param_done(r, name, rc, &q, err, errlen);
}

int fp8lab_results_param_i64(fp8lab_results *r, const char *name,
                             int64_t value, char *err, size_t errlen) {
  if (param_check(r, name, err, errlen)) return -1;
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  int rc = put_num_attr(r->params, name, H5T_STD_I64LE, H5T_NATIVE_INT64,
                        &value, 1, false);
  return param_done(r, name, rc, &q, err, errlen);
}

int fp8lab_results_param_f64(fp8lab_results *r, const char *name,
                             double value, char *err, size_t errlen) {
  if (param_check(r, name, err, errlen)) return -1;
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  int rc = put_num_attr(r->params, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                        &value, 1, false);
  return param_done(r, name, rc, &q, err, errlen);
}

int fp8lab_results_param_i64s(fp8lab_results *r, const char *name,
                              const int64_t *values, size_t n, char *err,
                              size_t errlen) {
  if (param_check(r, name, err, errlen)) return -1;
  if (n == 0 || !values)
    return seterr(err, errlen, "%s: parameter %s: empty array", r->path, name);
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  int rc = put_num_attr(r->params, name, H5T_STD_I64LE, H5T_NATIVE_INT64,
                        values, n, true);
  return param_done(r, name, rc, &q, err, errlen);
}

/* ---- tables ------------------------------------------------------------- */

static bool valid_name(const char *s) {
  if (!s || !s[0]) return false;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
      return false;
  return true;
}

/* One column as a 1-D dataset with its units and description. */
static int put_column(hid_t g, const fp8lab_results_column *c, size_t nrows) {
  hsize_t d[1] = {nrows};
  hid_t sp = H5Screate_simple(1, d, NULL), ds = -1, st = -1;
  char *buf = NULL;
  int rc = -1;
  if (sp < 0) return -1;
  const void *data = c->data;
  hid_t ft, mt;
  switch (c->type) {
  case FP8LAB_RESULTS_F64: ft = H5T_IEEE_F64LE, mt = H5T_NATIVE_DOUBLE; break;
  case FP8LAB_RESULTS_I64: ft = H5T_STD_I64LE, mt = H5T_NATIVE_INT64; break;
  case FP8LAB_RESULTS_U8: ft = H5T_STD_U8LE, mt = H5T_NATIVE_UINT8; break;
  default: {
    /* Fixed-length strings as long as the longest, packed into one buffer. */
    const char *const *s = c->data;
    size_t w = 1;
    for (size_t i = 0; i < nrows; i++)
      if (strlen(s[i]) + 1 > w) w = strlen(s[i]) + 1;
    buf = calloc(nrows ? nrows : 1, w);
    if (!buf) goto done;
    for (size_t i = 0; i < nrows; i++) memcpy(buf + i * w, s[i], strlen(s[i]));
    st = str_type(w);
    if (st < 0) goto done;
    ft = mt = st;
    data = buf;
  }
  }
  ds = H5Dcreate2(g, c->name, ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (ds < 0) goto done;
  if (nrows && H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    goto done;
  if (put_str_attr(ds, "units", c->units) ||
      put_str_attr(ds, "description", c->description))
    goto done;
  rc = 0;
done:
  if (ds >= 0) H5Dclose(ds);
  if (st >= 0) H5Tclose(st);
  H5Sclose(sp);
  free(buf);
  return rc;
}

int fp8lab_results_table(fp8lab_results *r, const char *name,
                         const char *description, size_t nrows,
                         const fp8lab_results_column *cols, size_t ncols,
                         char *err, size_t errlen) {
  char msg[MSGLEN];
  if (!r || !r->file) return seterr(err, errlen, "results: not open");
  const char *p = r->path;
  if (!valid_name(name))
    return seterr(err, errlen, "%s: table name '%s': use letters, digits, "
                  "'_' and '-'", p, name ? name : "");
  if (!cols || ncols == 0)
    return seterr(err, errlen, "%s: table %s has no columns", p, name);
  size_t namelen = 1;
  for (size_t i = 0; i < ncols; i++) {
    const fp8lab_results_column *c = &cols[i];
    if (!c->name || !c->name[0] || strchr(c->name, ',') || strchr(c->name, '/'))
      return seterr(err, errlen, "%s: table %s: column %zu: name '%s' is "
                    "empty or has ',' or '/'", p, name, i, c->name ? c->name : "");
    if (!c->units || !c->description || (!c->data && nrows))
      return seterr(err, errlen, "%s: table %s: column %s needs data, units "
                    "and description", p, name, c->name);
    if (c->type > FP8LAB_RESULTS_STR)
      return seterr(err, errlen, "%s: table %s: column %s: unknown type", p,
                    name, c->name);
    if (c->type == FP8LAB_RESULTS_STR)
      for (size_t k = 0; k < nrows; k++)
        if (!((const char *const *)c->data)[k])
          return seterr(err, errlen, "%s: table %s: column %s: row %zu is "
                        "NULL", p, name, c->name, k);
    for (size_t j = 0; j < i; j++)
      if (strcmp(cols[j].name, c->name) == 0)
        return seterr(err, errlen, "%s: table %s: column %s given twice", p,
                      name, c->name);
    namelen += strlen(c->name) + 1;
  }
  char *names = malloc(namelen);
  if (!names) return seterr(err, errlen, "%s: out of memory", p);
  names[0] = '\0';
  for (size_t i = 0; i < ncols; i++) {
    if (i) strcat(names, ",");
    strcat(names, cols[i].name);
  }
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  const char *what = "group";
  int rc = -1;
  hid_t g = -1;
  if (H5Lexists(r->tables, name, H5P_DEFAULT) > 0) {
    snprintf(msg, sizeof msg, "it exists already");
    goto done;
  }
  g = H5Gcreate2(r->tables, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  int64_t n64 = (int64_t)nrows;
  if (g < 0 ||
      put_str_attr(g, "description", description ? description : "") ||
      put_str_attr(g, "columns", names) ||
      put_num_attr(g, "nrows", H5T_STD_I64LE, H5T_NATIVE_INT64, &n64, 1, false))
    goto fail;
  for (size_t i = 0; i < ncols; i++) {
    what = cols[i].name;
    if (put_column(g, &cols[i], nrows) != 0) goto fail;
  }
  rc = 0;
  goto done;
fail:
  fp8lab_h5_msg(msg, sizeof msg);
done:
  if (rc != 0)
    seterr(err, errlen, "%s: cannot write table %s (%s): %s", p, name, what,
           msg);
  if (g >= 0) H5Gclose(g);
  fp8lab_h5_quiet_off(&q);
  free(names);
  return rc;
}
