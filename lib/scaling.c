/* lib/scaling.c: to be written. */
typedef int fp8lab_scaling_placeholder;
