/* Internal to the codec: the hooks between the array front ends and the
 * specialised kernels.  Not installed. */
#ifndef FP8LAB_FORMATS_INTERNAL_H
#define FP8LAB_FORMATS_INTERNAL_H

#include "fp8lab/convert.h"

/* Specialised f32 -> code kernel for (f, c), or NULL when none applies.
 * Every kernel returned here must give exactly the scalar codec's codes;
 * tests/fast/test_convert_fast.c runs both over all 2^32 inputs. */
typedef void (*fp8lab_encode_f32_kernel)(const float *in, uint8_t *out,
                                         size_t n);
fp8lab_encode_f32_kernel fp8lab_encode_f32_fast_kernel(const fp8lab_format *f,
                                                        const fp8lab_cvt *c);

#endif
