/* fp8lab: the command.  Git-style subcommands, each with --help. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fp8lab_config.h"
#include "fp8lab_version.h"

static const cli_command commands[] = {
    {"formats", cmd_formats, "print the table of floating-point formats"},
    {"convert", cmd_convert, "convert raw binary arrays between formats"},
    {"bench", cmd_bench, "benchmarks against peer libraries (convert)"},
    {"validate", cmd_validate, "replay a trace file through a model, bit for bit"},
    {"accum", cmd_accum, "error of long sums in low-precision accumulators"},
    {"hopper-accum", cmd_hopper_accum, "error of FP8 GEMMs under the Hopper models vs K"},
    {"scaling", cmd_scaling, "FP8 scaling recipes on heavy-tailed data: SQNR, overflow"},
    {"merge", cmd_merge, "combine the results files of a sweep's shards"},
    {"sqnr", cmd_sqnr, "quantization error (SQNR) of INT8 and FP8 formats"},
    {"reproduce", cmd_reproduce, "regenerate published results beside their numbers"},
    {"report", cmd_report, "render results files into notebooks-out/ (notebooks, plots)"},
};
static const size_t ncommands = sizeof commands / sizeof commands[0];

static void usage(FILE *fp) {
  fprintf(fp,
          "usage: fp8lab [--version] [--help] <command> [<args>]\n\n"
          "fp8lab: a bit-exact model of FP8 arithmetic.\n\n"
          "commands:\n");
  for (size_t i = 0; i < ncommands; i++)
    fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(fp, "\n'fp8lab <command> --help' describes each command.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
      strcmp(cmd, "help") == 0) {
    if (argc > 2 && strcmp(cmd, "help") == 0) {
      for (size_t i = 0; i < ncommands; i++)
        if (strcmp(argv[2], commands[i].name) == 0) {
          char *args[] = {argv[2], "--help", NULL};
          return commands[i].run(2, args);
        }
    }
    usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("fp8lab %s (git %s)\n", FP8LAB_VERSION, FP8LAB_GIT_DESCRIBE);
    return 0;
  }
  for (size_t i = 0; i < ncommands; i++)
    if (strcmp(cmd, commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "fp8lab: unknown command '%s' (see 'fp8lab --help')\n", cmd);
  return 2;
}
