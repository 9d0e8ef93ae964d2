/* Internal to lib/: HDF5 error-stack handling shared by the trace and the
 * results files.  Not installed.  fp8lab never lets HDF5 print: errors are
 * read off the stack and returned to the caller as text. */
#ifndef FP8LAB_H5UTIL_H
#define FP8LAB_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>

/* Saved automatic error printing, turned off between on and off. */
typedef struct fp8lab_h5_quiet {
  H5E_auto2_t func;
  void *data;
} fp8lab_h5_quiet;

void fp8lab_h5_quiet_on(fp8lab_h5_quiet *q);
void fp8lab_h5_quiet_off(const fp8lab_h5_quiet *q); /* also clears the stack */

/* The innermost message of HDF5's error stack into buf (then cleared);
 * "HDF5 error" when the stack holds none. */
const char *fp8lab_h5_msg(char *buf, size_t len);

#endif
