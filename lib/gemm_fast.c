/* lib/gemm_fast.c: to be written. */
typedef int fp8lab_gemm_fast_placeholder;
