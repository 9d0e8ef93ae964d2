/* Every cblas_* call of fp8lab must reach OpenBLAS: GSL ships a slow
 * reference CBLAS (libgslcblas) exporting the same symbols, and the link
 * order decides which one wins.  This test fails if the reference does. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* dladdr */
#endif
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cblas.h>
#include <cmocka.h>

static void cblas_sgemm_is_openblas(void **state) {
  (void)state;
  Dl_info info;
  void *sym = (void *)&cblas_sgemm;
  assert_true(dladdr(sym, &info) != 0);
  assert_non_null(info.dli_fname);
  print_message("cblas_sgemm comes from %s\n", info.dli_fname);
  assert_non_null(strstr(info.dli_fname, "openblas"));
  assert_null(strstr(info.dli_fname, "gslcblas"));
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(cblas_sgemm_is_openblas)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
