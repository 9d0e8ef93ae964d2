/* Shared helpers of the fp8lab command (experiments/cli.h). */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The one temporary output file of this process, removed on a fatal error
 * or a signal so that no partial result is ever left under its final name. */
static char *pending_tmp;

static void vmessage(const char *cmd, const char *fmt, va_list ap) {
  fprintf(stderr, "fp8lab%s%s: ", cmd ? " " : "", cmd ? cmd : "");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

_Noreturn void cli_die(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage(cmd, fmt, ap);
  va_end(ap);
  if (pending_tmp) unlink(pending_tmp);
  exit(2);
}

_Noreturn void cli_fail(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage(cmd, fmt, ap);
  va_end(ap);
  if (pending_tmp) unlink(pending_tmp);
  exit(1);
}

void cli_parse_format(const char *cmd, const char *opt, const char *name,
                      fp8lab_format *out) {
  char err[256];
  if (fp8lab_format_parse(name, out, err, sizeof err) != 0)
    cli_die(cmd, "%s: %s", opt, err);
}

fp8lab_round cli_parse_round(const char *cmd, const char *name) {
  fp8lab_round r;
  if (fp8lab_round_parse(name, &r) != 0)
    cli_die(cmd, "--round: unknown rounding mode '%s' (rne, rna, rtz, rup, "
            "rdn, rto, sr)", name);
  return r;
}

/* Numbers are decimal, or hexadecimal after "0x": a leading zero does not
 * make them octal ("010" is ten), and no space or '+' may precede them. */
static int number_base(const char *digits) {
  return digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X') ? 16 : 10;
}

long long cli_parse_int(const char *cmd, const char *opt, const char *s,
                        long long lo, long long hi) {
  char *end;
  const char *digits = s[0] == '-' ? s + 1 : s;
  if (*digits < '0' || *digits > '9')
    cli_die(cmd, "%s: '%s' is not an integer", opt, s);
  errno = 0;
  long long v = strtoll(s, &end, number_base(digits));
  if (errno || end == s || *end)
    cli_die(cmd, "%s: '%s' is not an integer", opt, s);
  if (v < lo || v > hi)
    cli_die(cmd, "%s: %lld is out of range [%lld, %lld]", opt, v, lo, hi);
  return v;
}

unsigned long long cli_parse_u64(const char *cmd, const char *opt,
                                 const char *s) {
  char *end;
  errno = 0;
  if (*s == '-') cli_die(cmd, "%s: '%s' must not be negative", opt, s);
  if (*s < '0' || *s > '9')
    cli_die(cmd, "%s: '%s' is not a non-negative integer", opt, s);
  unsigned long long v = strtoull(s, &end, number_base(s));
  if (errno || end == s || *end)
    cli_die(cmd, "%s: '%s' is not a non-negative integer", opt, s);
  return v;
}

int cli_parse_threads(const char *cmd, const char *s) {
  return (int)cli_parse_int(cmd, "--threads", s, 0, 256);
}

bool cli_stderr_is_tty(void) { return isatty(STDERR_FILENO); }

static void on_signal(int sig) {
  if (pending_tmp) unlink(pending_tmp);
  signal(sig, SIG_DFL);
  raise(sig);
}

int cli_out_open(cli_out *o, const char *path) {
  memset(o, 0, sizeof *o);
  if (strcmp(path, "-") == 0) {
    o->fp = stdout;
    return 0;
  }
  o->path = strdup(path);
  size_t len = strlen(path) + 32;
  o->tmp = malloc(len);
  if (!o->path || !o->tmp) return -1;
  snprintf(o->tmp, len, "%s.tmp.%ld", path, (long)getpid());
  o->fp = fopen(o->tmp, "wb");
  if (!o->fp) return -1;
  pending_tmp = o->tmp;
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGHUP, on_signal);
  return 0;
}

int cli_out_commit(cli_out *o) {
  int rc = 0;
  if (o->fp == stdout) return fflush(stdout) == 0 ? 0 : -1;
  if (fflush(o->fp) != 0 || ferror(o->fp)) rc = -1;
  if (fclose(o->fp) != 0) rc = -1;
  o->fp = NULL;
  if (rc == 0 && rename(o->tmp, o->path) != 0) rc = -1;
  if (rc != 0) unlink(o->tmp);
  pending_tmp = NULL;
  free(o->tmp);
  free(o->path);
  o->tmp = o->path = NULL;
  return rc;
}

void cli_out_abort(cli_out *o) {
  if (o->fp && o->fp != stdout) fclose(o->fp);
  if (o->tmp) unlink(o->tmp);
  pending_tmp = NULL;
  free(o->tmp);
  free(o->path);
  memset(o, 0, sizeof *o);
}
