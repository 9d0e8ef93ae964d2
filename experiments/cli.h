/* The edge of fp8lab: argument parsing, errors, files.  Only experiments/
 * includes this; lib/ and formats/ never print or exit. */
#ifndef FP8LAB_CLI_H
#define FP8LAB_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "fp8lab/convert.h"

/* A subcommand: argv[0] is its name. Returns the process exit status. */
typedef int (*cli_command_fn)(int argc, char **argv);

typedef struct cli_command {
  const char *name;
  cli_command_fn run;
  const char *summary;
} cli_command;

/* Print "fp8lab <cmd>: <message>" to stderr and exit with status 2 (usage,
 * bad input) -- callers that own temporary files clean up before calling. */
_Noreturn void cli_die(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Same, for failures of the environment (I/O, memory): exit status 1. */
_Noreturn void cli_fail(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parse helpers: on failure they call cli_die with a message naming the
 * option and the value. */
void cli_parse_format(const char *cmd, const char *opt, const char *name,
                      fp8lab_format *out);
fp8lab_round cli_parse_round(const char *cmd, const char *name);
long long cli_parse_int(const char *cmd, const char *opt, const char *s,
                        long long lo, long long hi);
unsigned long long cli_parse_u64(const char *cmd, const char *opt,
                                 const char *s);
int cli_parse_threads(const char *cmd, const char *s);

/* True when stderr is a terminal (progress lines go there only then). */
bool cli_stderr_is_tty(void);

/* Output file written atomically: data goes to "<path>.tmp.<pid>", renamed
 * over <path> by cli_out_commit(); cli_out_abort() removes it.  Path "-" is
 * stdout (no rename). */
typedef struct cli_out {
  FILE *fp;
  char *path;
  char *tmp;
} cli_out;
int cli_out_open(cli_out *o, const char *path);
int cli_out_commit(cli_out *o);
void cli_out_abort(cli_out *o);

/* Subcommands. */
int cmd_formats(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int bench_gemm(int argc, char **argv); /* fp8lab bench gemm; argv[0] = "gemm" */
int cmd_validate(int argc, char **argv);
int cmd_accum(int argc, char **argv);
int cmd_reproduce(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_sqnr(int argc, char **argv);

int cmd_scaling(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_hopper_accum(int argc, char **argv);


#endif
