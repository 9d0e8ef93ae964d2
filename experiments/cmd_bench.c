/* fp8lab bench: placeholder until the conversion benchmark lands. */
#include "cli.h"

int cmd_bench(int argc, char **argv) {
  (void)argc;
  (void)argv;
  cli_die("bench", "not implemented yet");
}
