"""Shared by the experiment tests (test_*.py here): counted checks, running
the fp8lab command, and the one-line-error contract of every subcommand.
Each test script imports what it needs and ends with `return finish()`."""
import os
import subprocess
import sys

EXE = os.environ.get("FP8LAB_EXE")
SKIP = 77  # meson's exit status for a skipped test

failures = []
_count = [0]


def check(cond, what):
    """Count a check; record and print `what` when cond is false."""
    _count[0] += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(args, cwd=None, env=None, timeout=280):
    """Run fp8lab with args; (exit status, stdout, stderr)."""
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([EXE] + args, capture_output=True, timeout=timeout,
                       cwd=cwd, env=e)
    return p.returncode, p.stdout.decode(), p.stderr.decode("utf-8", "replace")


def one_line_error(rc, err, words, what, code=2, prefix="fp8lab"):
    """Exit status `code`, one line on stderr starting with `prefix` and
    mentioning every word of `words`."""
    check(rc == code, "%s: exit status %d, want %d (stderr %r)" % (what, rc, code, err))
    lines = err.splitlines()
    check(len(lines) == 1, "%s: stderr has %d lines, want 1: %r" % (what, len(lines), err))
    check(err.startswith(prefix), "%s: stderr %r does not start with %r" % (what, err, prefix))
    for w in words:
        check(w in err, "%s: stderr %r does not mention %r" % (what, err, w))


def finish():
    """Print the count line; the exit status for the script."""
    print("%d checks, %d failed" % (_count[0], len(failures)))
    return 1 if failures else 0
