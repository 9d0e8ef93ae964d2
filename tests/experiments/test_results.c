/* tests/experiments/test_results.c: the results-file writer (lib/results.c).
 *
 *   roundtrip   a file with every parameter and column type, read back with
 *               the plain HDF5 API: root attributes, parameters, the table's
 *               columns attribute, values, units and description on every
 *               dataset; only the final name exists after close
 *   validators  every argument check, table-driven: each bad table, column
 *               or parameter is refused with a message naming the file and
 *               the object, and the file is still usable afterwards
 *   abort       abort removes the temporary file and leaves no result;
 *               an unwritable directory is an error naming the path */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fp8lab/results.h"

static char dir[256];

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/fp8lab-results-test.XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  DIR *d = opendir(dir);
  struct dirent *e;
  char p[512];
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.') {
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
  if (d) closedir(d);
  rmdir(dir);
  return 0;
}

/* Names of the files in dir, comma-separated, sorted by readdir order. */
static int count_files(char *names, size_t len) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  names[0] = '\0';
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.') {
      n++;
      strncat(names, e->d_name, len - strlen(names) - 2);
      strcat(names, ",");
    }
  if (d) closedir(d);
  return n;
}

static const fp8lab_results_info info = {
    .runner = "test", .version = "9.9.9", .git_commit = "abc123",
    .command_line = "fp8lab test --x 'a b'", .seed = 0xFFFFFFFFFFFFFFFFu,
    .threads = 3, .start_time = "2026-01-02T03:04:05Z"};

static void read_str_attr(hid_t obj, const char *name, char *buf, size_t len) {
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  assert_true(a >= 0);
  hid_t t = H5Aget_type(a);
  assert_true(H5Tis_variable_str(t) > 0);
  hid_t mt = H5Tcopy(H5T_C_S1);
  H5Tset_size(mt, H5T_VARIABLE);
  H5Tset_cset(mt, H5T_CSET_UTF8);
  char *s = NULL;
  assert_true(H5Aread(a, mt, &s) >= 0);
  snprintf(buf, len, "%s", s);
  H5free_memory(s);
  H5Tclose(mt);
  H5Tclose(t);
  H5Aclose(a);
}

static void expect_str_attr(hid_t obj, const char *name, const char *want) {
  char buf[512];
  read_str_attr(obj, name, buf, sizeof buf);
  assert_string_equal(buf, want);
}

static void test_roundtrip(void **state) {
  (void)state;
  char path[512], err[512];
  snprintf(path, sizeof path, "%s/r.h5", dir);
  fp8lab_results *r = fp8lab_results_create(path, &info, err, sizeof err);
  assert_non_null(r);
  assert_non_null(strstr(fp8lab_results_tmp_path(r), "r.h5.tmp."));
  assert_int_equal(access(fp8lab_results_tmp_path(r), F_OK), 0);
  assert_int_not_equal(access(path, F_OK), 0);
  int64_t sizes[] = {16, 1 << 20};
  assert_int_equal(fp8lab_results_param_str(r, "formats", "f16,bf16", err, sizeof err), 0);
  assert_int_equal(fp8lab_results_param_i64(r, "trials", -4, err, sizeof err), 0);
  assert_int_equal(fp8lab_results_param_f64(r, "nu", 0.1, err, sizeof err), 0);
  assert_int_equal(fp8lab_results_param_i64s(r, "lengths", sizes, 2, err, sizeof err), 0);
  double f[] = {0.5, NAN, INFINITY};
  int64_t i[] = {-1, 0, INT64_MAX};
  uint8_t u[] = {0, 1, 1};
  const char *s[] = {"", "e4m3fn", "a longer string"};
  const fp8lab_results_column cols[] = {
      {"f", FP8LAB_RESULTS_F64, f, "1", "doubles"},
      {"i", FP8LAB_RESULTS_I64, i, "terms", "integers"},
      {"u", FP8LAB_RESULTS_U8, u, "1", "flags"},
      {"s", FP8LAB_RESULTS_STR, s, "1", "labels"}};
  assert_int_equal(fp8lab_results_table(r, "t-1", "a table", 3, cols, 4, err, sizeof err), 0);
  assert_int_equal(fp8lab_results_table(r, "empty", "no rows", 0, cols, 4, err, sizeof err), 0);
  assert_int_equal(fp8lab_results_close(r, "2026-01-02T03:04:06Z", err, sizeof err), 0);
  char names[512];
  assert_int_equal(count_files(names, sizeof names), 1);
  assert_string_equal(names, "r.h5,");

  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  assert_true(file >= 0);
  expect_str_attr(file, "schema", FP8LAB_RESULTS_SCHEMA);
  expect_str_attr(file, "runner", "test");
  expect_str_attr(file, "fp8lab_version", "9.9.9");
  expect_str_attr(file, "git_commit", "abc123");
  expect_str_attr(file, "command_line", "fp8lab test --x 'a b'");
  expect_str_attr(file, "start_time", "2026-01-02T03:04:05Z");
  expect_str_attr(file, "end_time", "2026-01-02T03:04:06Z");
  uint64_t seed = 0;
  int64_t threads = 0;
  hid_t a = H5Aopen(file, "seed", H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_UINT64, &seed);
  H5Aclose(a);
  a = H5Aopen(file, "threads", H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_INT64, &threads);
  H5Aclose(a);
  assert_true(seed == info.seed);
  assert_int_equal(threads, 3);

  hid_t p = H5Gopen2(file, "parameters", H5P_DEFAULT);
  expect_str_attr(p, "formats", "f16,bf16");
  int64_t v[2] = {0, 0};
  a = H5Aopen(p, "lengths", H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_INT64, v);
  H5Aclose(a);
  assert_true(v[0] == 16 && v[1] == 1 << 20);
  H5Gclose(p);

  hid_t t = H5Gopen2(file, "tables/t-1", H5P_DEFAULT);
  assert_true(t >= 0);
  expect_str_attr(t, "columns", "f,i,u,s");
  expect_str_attr(t, "description", "a table");
  const char *units[] = {"1", "terms", "1", "1"};
  for (int c = 0; c < 4; c++) {
    hid_t ds = H5Dopen2(t, cols[c].name, H5P_DEFAULT);
    assert_true(ds >= 0);
    expect_str_attr(ds, "units", units[c]);
    expect_str_attr(ds, "description", cols[c].description);
    hid_t sp = H5Dget_space(ds);
    hsize_t dims[1];
    assert_int_equal(H5Sget_simple_extent_ndims(sp), 1);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    assert_int_equal(dims[0], 3);
    H5Sclose(sp);
    if (c == 0) {
      double g[3];
      H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, g);
      assert_true(g[0] == 0.5 && isnan(g[1]) && g[2] == INFINITY);
    } else if (c == 1) {
      int64_t g[3];
      H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, g);
      assert_true(g[0] == -1 && g[1] == 0 && g[2] == INT64_MAX);
    } else if (c == 3) {
      hid_t ft = H5Dget_type(ds);
      size_t w = H5Tget_size(ft);
      assert_int_equal(w, strlen("a longer string") + 1);
      char buf[3 * 16];
      H5Dread(ds, ft, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
      assert_string_equal(buf + w, "e4m3fn");
      assert_string_equal(buf + 2 * w, "a longer string");
      H5Tclose(ft);
    }
    H5Dclose(ds);
  }
  H5Gclose(t);
  H5Fclose(file);
}

typedef struct bad_table {
  const char *what;
  const char *name;
  size_t nrows;
  fp8lab_results_column cols[2];
  size_t ncols;
  const char *words; /* the message must contain this */
} bad_table;

static void test_validators(void **state) {
  (void)state;
  char path[512], err[512];
  snprintf(path, sizeof path, "%s/v.h5", dir);
  fp8lab_results *r = fp8lab_results_create(path, &info, err, sizeof err);
  assert_non_null(r);
  double f[2] = {1, 2};
  const char *snull[2] = {"x", NULL};
  const bad_table cases[] = {
      {"empty name", "", 2, {{"a", FP8LAB_RESULTS_F64, f, "1", "d"}}, 1, "table name"},
      {"slash in name", "a/b", 2, {{"a", FP8LAB_RESULTS_F64, f, "1", "d"}}, 1, "table name"},
      {"no columns", "t", 2, {{0}}, 0, "no columns"},
      {"comma in column", "t", 2, {{"a,b", FP8LAB_RESULTS_F64, f, "1", "d"}}, 1, "a,b"},
      {"no units", "t", 2, {{"a", FP8LAB_RESULTS_F64, f, NULL, "d"}}, 1, "units"},
      {"no description", "t", 2, {{"a", FP8LAB_RESULTS_F64, f, "1", NULL}}, 1, "description"},
      {"no data", "t", 2, {{"a", FP8LAB_RESULTS_F64, NULL, "1", "d"}}, 1, "data"},
      {"NULL string", "t", 2, {{"a", FP8LAB_RESULTS_STR, snull, "1", "d"}}, 1, "row 1"},
      {"bad type", "t", 2, {{"a", (fp8lab_results_type)9, f, "1", "d"}}, 1, "type"},
      {"twice", "t", 2,
       {{"a", FP8LAB_RESULTS_F64, f, "1", "d"}, {"a", FP8LAB_RESULTS_F64, f, "1", "d"}},
       2, "twice"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const bad_table *c = &cases[k];
    err[0] = '\0';
    int rc = fp8lab_results_table(r, c->name, "x", c->nrows, c->ncols ? c->cols : NULL,
                                  c->ncols, err, sizeof err);
    if (rc == 0 || !strstr(err, c->words) || !strstr(err, path))
      fail_msg("%s: rc %d, message '%s' (want '%s' and the path)", c->what, rc, err, c->words);
  }
  const fp8lab_results_column ok = {"a", FP8LAB_RESULTS_F64, f, "1", "d"};
  assert_int_equal(fp8lab_results_table(r, "t", "x", 2, &ok, 1, err, sizeof err), 0);
  assert_int_equal(fp8lab_results_table(r, "t", "x", 2, &ok, 1, err, sizeof err), -1);
  assert_non_null(strstr(err, "exists"));
  assert_int_equal(fp8lab_results_param_i64(r, "n", 1, err, sizeof err), 0);
  assert_int_equal(fp8lab_results_param_i64(r, "n", 2, err, sizeof err), -1);
  assert_non_null(strstr(err, "given twice"));
  assert_int_equal(fp8lab_results_param_str(r, "a/b", "x", err, sizeof err), -1);
  assert_int_equal(fp8lab_results_param_i64s(r, "e", NULL, 0, err, sizeof err), -1);
  assert_int_equal(fp8lab_results_close(r, NULL, err, sizeof err), 0);
  fp8lab_results_info bad = info;
  bad.git_commit = NULL;
  assert_null(fp8lab_results_create(path, &bad, err, sizeof err));
  assert_non_null(strstr(err, "git_commit"));
}

static void test_abort(void **state) {
  (void)state;
  char path[512], err[512], names[512];
  snprintf(path, sizeof path, "%s/a.h5", dir);
  int before = count_files(names, sizeof names);
  fp8lab_results *r = fp8lab_results_create(path, &info, err, sizeof err);
  assert_non_null(r);
  assert_int_equal(count_files(names, sizeof names), before + 1);
  fp8lab_results_abort(r);
  assert_int_equal(count_files(names, sizeof names), before);
  assert_int_not_equal(access(path, F_OK), 0);
  snprintf(path, sizeof path, "%s/missing/a.h5", dir);
  assert_null(fp8lab_results_create(path, &info, err, sizeof err));
  assert_non_null(strstr(err, path));
  assert_non_null(strstr(err, "cannot create"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_validators),
      cmocka_unit_test(test_abort),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
