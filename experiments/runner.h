/* Shared machinery of the experiment runners (fp8lab accum, reproduce, ...):
 * the results file with its temporary name removed on any exit path, the
 * command line as recorded, comma lists, --shard, per-configuration seeds,
 * and a worker pool with progress on a terminal.  Only experiments/ uses
 * it; lib/fp8lab/results.h is the file format. */
#ifndef FP8LAB_RUNNER_H
#define FP8LAB_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fp8lab/results.h"

/* Open the results file `path` of runner `runner` (creating the directory
 * "results" when path lies in it and it is missing) and arrange for its
 * temporary file to be removed if the process ends before runner_close:
 * on SIGINT, SIGTERM, SIGHUP (then the signal's default action) and on
 * exit() (cli_die, cli_fail).  Failures: cli_fail (exit 1). */
fp8lab_results *runner_open(const char *cmd, const char *path,
                            const char *runner, int argc, char **argv,
                            uint64_t seed, int threads);
/* Close and rename into place (cli_fail on error). */
void runner_close(const char *cmd, fp8lab_results *r);
/* Abort the file (the temporary is removed) and cli_die / cli_fail with the
 * message: for errors met while the results file is open. */
_Noreturn void runner_fail(const char *cmd, fp8lab_results *r, const char *err);

/* Parameter writers that cli_fail on error. */
void runner_param_str(const char *cmd, fp8lab_results *r, const char *name,
                      const char *value);
void runner_param_i64(const char *cmd, fp8lab_results *r, const char *name,
                      int64_t value);
void runner_param_i64s(const char *cmd, fp8lab_results *r, const char *name,
                       const int64_t *v, size_t n);

/* "fp8lab <argv...>", each argument shell-quoted where it needs it.
 * argv[0] is the subcommand's name.  Caller frees. */
char *runner_command_line(int argc, char **argv);

/* Split a comma list into at most max items: pointers into one allocated
 * copy of s that starts at items[0] (free((char *)items[0]) when done);
 * cli_die naming opt when it is empty, has an empty item or more than max. */
size_t runner_split(const char *cmd, const char *opt, const char *s,
                    const char **items, size_t max);
/* A comma list of lengths: integers or 2^k, each in [lo, hi]. */
size_t runner_parse_sizes(const char *cmd, const char *opt, const char *s,
                          int64_t *out, size_t max, int64_t lo, int64_t hi);

/* --shard I/N: 0 <= I < N.  Configuration c runs when c % N == I. */
void runner_parse_shard(const char *cmd, const char *s, int64_t *i, int64_t *n);

/* A 64-bit hash of the words given: SplitMix64 finalizer chained over
 * them (Steele, Lea, Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014).  Seeds derived from a configuration's content
 * do not depend on threads, shards or the order of option lists. */
uint64_t runner_mix(const uint64_t *words, size_t n);
uint64_t runner_hash_str(const char *s); /* FNV-1a, 64 bits */

/* Run fn(ctx, k) for k = 0 .. n-1 on `threads` workers (0: one per CPU),
 * taking items in order from a shared counter.  On a terminal, once the
 * run has taken more than 2 s, a progress line on stderr every 0.5 s:
 * "fp8lab accum: 37/120 configurations (30%), 00:41 elapsed, ~01:32 left".
 * Returns the number of threads used. */
int runner_parallel(const char *cmd, size_t n, int threads,
                    void (*fn)(void *ctx, size_t k), void *ctx,
                    const char *unit);

/* Threads that runner_parallel will use for a --threads value. */
int runner_threads(int threads, size_t n);

#endif
