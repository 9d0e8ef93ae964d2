/* HDF5 error-stack helpers (lib/h5util.h). */
#include "h5util.h"

#include <stdio.h>

void fp8lab_h5_quiet_on(fp8lab_h5_quiet *q) {
  q->func = NULL;
  q->data = NULL;
  H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void fp8lab_h5_quiet_off(const fp8lab_h5_quiet *q) {
  H5Eclear2(H5E_DEFAULT);
  H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
}

typedef struct walk_state {
  char *buf;
  size_t len;
} walk_state;

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
  walk_state *w = data;
  if (n == 0 && e && e->desc && e->desc[0])
    snprintf(w->buf, w->len, "%s", e->desc);
  return 0;
}

const char *fp8lab_h5_msg(char *buf, size_t len) {
  buf[0] = '\0';
  walk_state w = {buf, len};
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &w);
  H5Eclear2(H5E_DEFAULT);
  if (!buf[0]) snprintf(buf, len, "HDF5 error");
  return buf;
}
