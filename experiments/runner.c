/* Experiment runners' shared machinery (experiments/runner.h). */
#include "runner.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fp8lab_config.h"
#include "fp8lab_version.h"

/* ---- the temporary results file ----------------------------------------- */

/* The results file being written: its temporary name, in a static buffer
 * so that the signal handler touches no heap.  Empty when none. */
static char pending[4096];
static volatile sig_atomic_t have_pending;

static void remove_pending(void) {
  if (have_pending) {
    unlink(pending);
    have_pending = 0;
  }
}

static void on_signal(int sig) {
  if (have_pending) unlink(pending);
  signal(sig, SIG_DFL);
  raise(sig);
}

static void set_pending(const char *tmp) {
  static bool registered;
  if (!registered) {
    atexit(remove_pending);
    registered = true;
  }
  snprintf(pending, sizeof pending, "%s", tmp);
  have_pending = 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
}

fp8lab_results *runner_open(const char *cmd, const char *path,
                            const char *runner, int argc, char **argv,
                            uint64_t seed, int threads) {
  if (strncmp(path, "results/", 8) == 0 && mkdir("results", 0777) != 0 &&
      errno != EEXIST)
    cli_fail(cmd, "results: cannot create directory: %s", strerror(errno));
  char *line = runner_command_line(argc, argv);
  if (!line) cli_fail(cmd, "out of memory");
  fp8lab_results_info info = {.runner = runner, .version = FP8LAB_VERSION,
                              .git_commit = FP8LAB_GIT_DESCRIBE, .command_line = line,
                              .seed = seed, .threads = threads};
  char err[1024];
  /* Signals are held until the temporary name is registered, so that an
   * interrupt cannot slip between creating the file and knowing its name. */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  sigprocmask(SIG_BLOCK, &block, &old);
  fp8lab_results *r = fp8lab_results_create(path, &info, err, sizeof err);
  if (r) set_pending(fp8lab_results_tmp_path(r));
  sigprocmask(SIG_SETMASK, &old, NULL);
  free(line);
  if (!r) cli_fail(cmd, "%s", err);
  return r;
}

void runner_close(const char *cmd, fp8lab_results *r) {
  char err[1024];
  if (fp8lab_results_close(r, NULL, err, sizeof err) != 0) {
    have_pending = 0; /* close removed it */
    cli_fail(cmd, "%s", err);
  }
  have_pending = 0;
}

_Noreturn void runner_fail(const char *cmd, fp8lab_results *r,
                           const char *err) {
  fp8lab_results_abort(r);
  have_pending = 0;
  cli_fail(cmd, "%s", err);
}

void runner_param_str(const char *cmd, fp8lab_results *r, const char *name,
                      const char *value) {
  char err[512];
  if (fp8lab_results_param_str(r, name, value, err, sizeof err))
    runner_fail(cmd, r, err);
}

void runner_param_i64(const char *cmd, fp8lab_results *r, const char *name,
                      int64_t value) {
  char err[512];
  if (fp8lab_results_param_i64(r, name, value, err, sizeof err))
    runner_fail(cmd, r, err);
}

void runner_param_i64s(const char *cmd, fp8lab_results *r, const char *name,
                       const int64_t *v, size_t n) {
  char err[512];
  if (fp8lab_results_param_i64s(r, name, v, n, err, sizeof err))
    runner_fail(cmd, r, err);
}

/* ---- command line ------------------------------------------------------- */

static bool plain(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                "0123456789-_=.,/:+^@%", *s))
      return false;
  return true;
}

char *runner_command_line(int argc, char **argv) {
  size_t len = 8;
  for (int i = 0; i < argc; i++) len += 4 * strlen(argv[i]) + 3;
  char *s = malloc(len), *p = s;
  if (!s) return NULL;
  p += sprintf(p, "fp8lab");
  for (int i = 0; i < argc; i++) {
    *p++ = ' ';
    if (plain(argv[i])) {
      p += sprintf(p, "%s", argv[i]);
      continue;
    }
    *p++ = '\'';
    for (const char *q = argv[i]; *q; q++) {
      if (*q == '\'') p += sprintf(p, "'\\''");
      else *p++ = *q;
    }
    *p++ = '\'';
  }
  *p = '\0';
  return s;
}

/* ---- option values ------------------------------------------------------ */

size_t runner_split(const char *cmd, const char *opt, const char *s,
                    const char **items, size_t max) {
  char *copy = strdup(s); /* items point into it; items[0] == copy */
  if (!copy) cli_fail(cmd, "out of memory");
  size_t n = 0;
  char *p = copy;
  for (;;) {
    char *comma = strchr(p, ',');
    if (comma) *comma = '\0';
    if (!*p) cli_die(cmd, "%s: empty item in '%s'", opt, s);
    if (n == max) cli_die(cmd, "%s: more than %zu items in '%s'", opt, max, s);
    items[n++] = p;
    if (!comma) break;
    p = comma + 1;
  }
  return n;
}

size_t runner_parse_sizes(const char *cmd, const char *opt, const char *s,
                          int64_t *out, size_t max, int64_t lo, int64_t hi) {
  const char *items[256];
  size_t n = runner_split(cmd, opt, s, items, max < 256 ? max : 256);
  for (size_t i = 0; i < n; i++) {
    if (strncmp(items[i], "2^", 2) == 0) {
      long long k = cli_parse_int(cmd, opt, items[i] + 2, 0, 62);
      out[i] = (int64_t)1 << k;
      if (out[i] < lo || out[i] > hi)
        cli_die(cmd, "%s: %s = %lld is out of range [%lld, %lld]", opt,
                items[i], (long long)out[i], (long long)lo, (long long)hi);
    } else {
      out[i] = cli_parse_int(cmd, opt, items[i], lo, hi);
    }
  }
  free((char *)items[0]);
  return n;
}

void runner_parse_shard(const char *cmd, const char *s, int64_t *i,
                        int64_t *n) {
  const char *slash = strchr(s, '/');
  if (!slash || slash == s || !slash[1])
    cli_die(cmd, "--shard: '%s' is not I/N (e.g. 0/4: the first of 4 shards)",
            s);
  char head[32];
  size_t len = (size_t)(slash - s);
  if (len >= sizeof head) cli_die(cmd, "--shard: '%s' is not I/N", s);
  memcpy(head, s, len);
  head[len] = '\0';
  *n = cli_parse_int(cmd, "--shard N", slash + 1, 1, 1000000);
  *i = cli_parse_int(cmd, "--shard I", head, 0, *n - 1);
}

/* ---- seeds -------------------------------------------------------------- */

static uint64_t splitmix(uint64_t z) {
  z += 0x9e3779b97f4a7c15u;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

uint64_t runner_mix(const uint64_t *words, size_t n) {
  uint64_t h = 0x6a09e667f3bcc908u; /* any fixed start */
  for (size_t i = 0; i < n; i++) h = splitmix(h ^ words[i]);
  return h;
}

uint64_t runner_hash_str(const char *s) {
  uint64_t h = 0xcbf29ce484222325u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3u;
  return h;
}

/* ---- workers and progress ----------------------------------------------- */

typedef struct pool {
  void (*fn)(void *, size_t);
  void *ctx;
  size_t n;
  atomic_size_t next, done;
} pool;

static void *worker(void *arg) {
  pool *p = arg;
  for (;;) {
    size_t k = atomic_fetch_add(&p->next, 1);
    if (k >= p->n) break;
    p->fn(p->ctx, k);
    atomic_fetch_add(&p->done, 1);
  }
  return NULL;
}

int runner_threads(int threads, size_t n) {
  long t = threads;
  if (t <= 0) t = sysconf(_SC_NPROCESSORS_ONLN);
  if (t < 1) t = 1;
  if ((size_t)t > n && n > 0) t = (long)n;
  return (int)t;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void clock_str(char *buf, size_t len, double s) {
  long t = (long)(s + 0.5);
  if (t >= 3600) snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else snprintf(buf, len, "%02ld:%02ld", t / 60, t % 60);
}

int runner_parallel(const char *cmd, size_t n, int threads,
                    void (*fn)(void *ctx, size_t k), void *ctx,
                    const char *unit) {
  int nt = runner_threads(threads, n);
  pool p = {.fn = fn, .ctx = ctx, .n = n};
  atomic_init(&p.next, 0);
  atomic_init(&p.done, 0);
  pthread_t *tid = calloc((size_t)nt, sizeof *tid);
  if (!tid) cli_fail(cmd, "out of memory");
  int started = 0;
  for (int t = 0; t < nt; t++)
    if (pthread_create(&tid[t], NULL, worker, &p) == 0) started++;
    else break;
  if (started == 0) worker(&p); /* no threads to be had: work here */
  bool tty = cli_stderr_is_tty(), shown = false;
  double t0 = now_s(), last = 0;
  while (atomic_load(&p.done) < n && started > 0) {
    struct timespec nap = {0, 100 * 1000 * 1000};
    nanosleep(&nap, NULL);
    double el = now_s() - t0;
    if (!tty || el < 2.0 || el - last < 0.5) continue;
    last = el;
    size_t d = atomic_load(&p.done);
    char e[32], l[32] = "";
    clock_str(e, sizeof e, el);
    if (d) clock_str(l, sizeof l, el * (double)(n - d) / (double)d);
    fprintf(stderr, "\rfp8lab %s: %zu/%zu %s (%zu%%), %s elapsed%s%s%s   ",
            cmd, d, n, unit, n ? 100 * d / n : 100, e, d ? ", ~" : "",
            d ? l : "", d ? " left" : "");
    fflush(stderr);
    shown = true;
  }
  for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
  free(tid);
  if (shown) {
    char e[32];
    clock_str(e, sizeof e, now_s() - t0);
    fprintf(stderr, "\rfp8lab %s: %zu/%zu %s, %s%-30s\n", cmd, n, n, unit, e, "");
  }
  return started > 0 ? started : 1;
}
