/* lib/exact_sum.c: to be written. */
typedef int fp8lab_exact_sum_placeholder;
