/* lib/trace.c: to be written. */
typedef int fp8lab_trace_placeholder;
