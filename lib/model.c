/* lib/model.c: to be written. */
typedef int fp8lab_model_placeholder;
