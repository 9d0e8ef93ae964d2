/* lib/bfma.c: to be written. */
typedef int fp8lab_bfma_placeholder;
