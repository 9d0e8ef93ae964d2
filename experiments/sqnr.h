/* fp8lab sqnr's quantizers, shared with fp8lab reproduce qualcomm-sqnr. */
#ifndef FP8LAB_SQNR_H
#define FP8LAB_SQNR_H

#include <stdbool.h>
#include <stddef.h>

/* The quantizers of fp8lab sqnr (cmd_sqnr.c), shared with reproduce
 * qualcomm-sqnr: a sorted grid of distinct values (a format's finite values,
 * or the integers of int8 / int8full) mapped by a step s to s * v. */
typedef struct sqnr_grid {
  char name[32];
  double *v;
  size_t n;
  double max; /* largest value */
  bool is_int;
} sqnr_grid;
int sqnr_grid_make(const char *name, sqnr_grid *g, char *why, size_t len);
void sqnr_grid_free(sqnr_grid *g);
/* The step s mapping the grid's max to threshold T (T rounded to binary32;
 * int grids: RN32(T / max) as binary32 division, as Kuzmin et al.). */
double sqnr_step(const sqnr_grid *g, double threshold);
/* s times the grid point nearest x / s (saturating). */
double sqnr_quantize(const sqnr_grid *g, double s, double x);
/* Kuzmin et al.'s MSE line search over sorted data (n >= 1): the binary32
 * threshold; *loss = its sum of squared errors (may be NULL).  NaN: out of
 * memory. */
double sqnr_line_search(const sqnr_grid *g, const double *sorted, size_t n,
                        double *loss);
int sqnr_cmp_f64(const void *a, const void *b);

#endif
