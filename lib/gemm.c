/* lib/gemm.c: to be written. */
typedef int fp8lab_gemm_placeholder;
