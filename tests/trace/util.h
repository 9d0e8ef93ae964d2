/* Helpers of the trace tests: seeded randomness, a scratch directory,
 * whole-file copies, running the fp8lab command. */
#ifndef FP8LAB_TESTS_TRACE_UTIL_H
#define FP8LAB_TESTS_TRACE_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fp8lab/trace.h"
#include "fp8lab_config.h"

/* SplitMix64: case i of a test draws from splitmix(seed_of(i)), so any
 * failing case reruns by its number. */
static inline uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static inline const char *data_dir(void) {
  const char *d = getenv("FP8LAB_DATA_DIR");
  return d && d[0] ? d : FP8LAB_DATA_DIR;
}

/* A fresh directory under $TMPDIR (or /tmp); the caller removes it with
 * scratch_remove. */
static inline char *scratch_make(const char *tag) {
  const char *base = getenv("TMPDIR");
  if (!base || !base[0]) base = "/tmp";
  size_t len = strlen(base) + strlen(tag) + 32;
  char *p = malloc(len);
  if (!p) return NULL;
  snprintf(p, len, "%s/fp8lab-%s-XXXXXX", base, tag);
  if (!mkdtemp(p)) {
    free(p);
    return NULL;
  }
  return p;
}

/* Remove the files directly inside dir (the tests make no subdirectories),
 * then dir itself. */
static inline void scratch_remove(char *dir) {
  if (!dir) return;
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      char p[4096];
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
    closedir(d);
  }
  rmdir(dir);
  free(dir);
}

static inline unsigned char *slurp(const char *path, size_t *len) {
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static inline int spit(const char *path, const void *buf, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(buf, 1, len, f);
  return fclose(f) == 0 && w == len ? 0 : -1;
}

/* Run argv (argv[0] a path) with stdout and stderr to files; returns the
 * exit status, or -1 if it did not exit normally. */
static inline int run_to(char *const argv[], const char *out_path,
                         const char *err_path) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0) _exit(127);
    dup2(o, 1);
    dup2(e, 2);
    execv(argv[0], argv);
    _exit(127);
  }
  int st;
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Two groups equal in every field and every bit of data. */

static inline bool same_str(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static inline bool same_mem(const void *a, const void *b, size_t n) {
  return (!a && !b) || (a && b && memcmp(a, b, n) == 0);
}

static inline bool groups_equal(const fp8lab_trace_group *x,
                         const fp8lab_trace_group *y) {
  if (!same_str(x->path, y->path) || x->instruction != y->instruction ||
      strcmp(x->fa.name, y->fa.name) || strcmp(x->fb.name, y->fb.name) ||
      x->ncases != y->ncases || x->m != y->m || x->n != y->n || x->k != y->k ||
      x->c_type != y->c_type || x->has_tensor_scales != y->has_tensor_scales ||
      x->noutputs != y->noutputs)
    return false;
  size_t mn = x->ncases * x->m * x->n, kt = (x->k + 127) / 128;
  if (!same_mem(x->a, y->a, x->ncases * x->m * x->k) ||
      !same_mem(x->b, y->b, x->ncases * x->n * x->k) ||
      !same_mem(x->c, y->c, mn * fp8lab_trace_dtype_size(x->c_type)) ||
      !same_mem(x->family, y->family, x->ncases) ||
      !same_mem(x->row_scale_a, y->row_scale_a, 4 * x->m) ||
      !same_mem(x->col_scale_b, y->col_scale_b, 4 * x->n) ||
      !same_mem(x->tile_scale_a, y->tile_scale_a, 4 * x->m * kt) ||
      !same_mem(x->block_scale_b, y->block_scale_b,
                4 * ((x->n + 127) / 128) * kt))
    return false;
  if (x->has_tensor_scales &&
      (memcmp(&x->tensor_scale_a, &y->tensor_scale_a, 4) ||
       memcmp(&x->tensor_scale_b, &y->tensor_scale_b, 4)))
    return false;
  for (size_t i = 0; i < x->noutputs; i++) {
    const fp8lab_trace_output *a = &x->outputs[i], *b = &y->outputs[i];
    if (!same_str(a->name, b->name) || a->type != b->type ||
        a->scales != b->scales || a->fast != b->fast ||
        !same_str(a->model, b->model) || !same_str(a->kernels, b->kernels) ||
        !same_mem(a->data, b->data, mn * fp8lab_trace_dtype_size(a->type)))
      return false;
  }
  return true;
}

#endif
