/* lib/accum.c: to be written. */
typedef int fp8lab_accum_placeholder;
