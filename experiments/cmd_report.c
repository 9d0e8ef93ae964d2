/* fp8lab report: render results files into executed Jupyter notebooks, PNG
 * plots and a README.md.  A thin front: the work is Python at fp8lab's edge
 * (experiments/report/render.py, h5py + matplotlib + nbclient), run with
 * the python of the source tree's .venv/ (scripts/setup), which replaces
 * this process: its exit status and messages are the command's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fp8lab_config.h"

static const char *const C = "report";

static const char *const help =
    "usage: fp8lab report [--out-dir DIR] [RESULTS...]\n\n"
    "Render results files (the HDF5 files of fp8lab's runners,\n"
    "docs/results-format.md) from the files alone: one executed Jupyter\n"
    "notebook per file (DIR/<name>.ipynb, outputs and PNG plots embedded so\n"
    "it reads without running; its cells read the file with h5py and plot\n"
    "with matplotlib), the plots as DIR/<name>-<plot>.png, and DIR/README.md\n"
    "indexing them with the key tables in Markdown and each run's\n"
    "provenance (command line, commit, seed, times).  Plots by the file's\n"
    "runner: accum (error vs vector length per chunk size, format and\n"
    "rounding), sqnr (SQNR per format and distribution), hopper-accum (error\n"
    "vs K with and without promotion, beside the H100), reproduce (fp8lab vs\n"
    "the published values); every file gets its tables with units and\n"
    "descriptions.\n\n"
    "DIR is replaced as a whole: rendering goes to a temporary directory\n"
    "beside it, renamed over it when complete, so a failed or interrupted\n"
    "run leaves DIR as it was.  Needs the Python packages of\n"
    "requirements.txt in the source tree's .venv/ (./scripts/setup); the\n"
    "environment variable FP8LAB_PYTHON names another python.\n\n"
    "  --out-dir DIR  output directory (default notebooks-out)\n"
    "  RESULTS        results files (default results/*.h5)\n"
    "  -h, --help     this text\n\n"
    "example: fp8lab accum && fp8lab report\n";

int cmd_report(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      fputs(help, stdout);
      return 0;
    }
  }
  static char python[4096], script[4096];
  const char *env = getenv("FP8LAB_PYTHON");
  if (env && *env)
    snprintf(python, sizeof python, "%s", env);
  else
    snprintf(python, sizeof python, "%s/.venv/bin/python3", FP8LAB_SOURCE_DIR);
  snprintf(script, sizeof script, "%s/experiments/report/render.py",
           FP8LAB_SOURCE_DIR);
  if (access(script, R_OK) != 0)
    cli_fail(C, "%s: %s (the renderer of the source tree)", script,
             strerror(errno));
  if (!env && access(python, X_OK) != 0)
    cli_die(C, "%s not found: the Python packages of requirements.txt are "
               "not installed; run ./scripts/setup", python);
  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (!args) cli_fail(C, "out of memory");
  args[0] = python;
  args[1] = script;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
  fflush(stdout);
  execvp(python, args);
  int e = errno;
  free(args);
  if (e == ENOENT)
    cli_die(C, "%s not found; run ./scripts/setup", python);
  cli_fail(C, "cannot run %s: %s", python, strerror(e));
}
