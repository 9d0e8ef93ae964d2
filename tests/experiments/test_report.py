#!/usr/bin/env python3
"""Tests of `fp8lab report` (suite 'cli').

usage: test_report.py GROUP      GROUP: help | render | errors | all

The command is $FP8LAB_EXE.  `render` runs `fp8lab accum` on a tiny
configuration (sums of ones in ibm169 and f16, n = 2^8 and 2^11, chunks 1
and 64) and `fp8lab reproduce stagnation`, renders both, and checks: one
valid, executed notebook per file with image/png outputs and no errors, the
PNGs beside it, README.md with provenance and the key table, whose numbers
are known exactly (a naive 1-6-9 sum of 2^11 ones stops at 1024: relative
error 0.5, stagnated; f16 and chunks of 64 are exact), the default
arguments (results/*.h5 -> notebooks-out/), the replacement of an older
directory and no temporary left behind.  `errors`: missing, foreign and
non-results files, no results, a missing python: one line, exit 2, the
output directory untouched.  Groups that render exit 77 (skip) when the
Python packages of requirements.txt are missing (./scripts/setup installs
them).
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

from harness import check, run, one_line_error, finish, EXE, SKIP, failures  # noqa: F401


def skip_if_no_packages(rc, err):
    if rc == 2 and ("missing Python packages" in err or "scripts/setup" in err):
        print("SKIP: fp8lab report needs the Python packages of requirements.txt "
              "(run ./scripts/setup): " + err.strip())
        sys.exit(SKIP)


def tiny_results(d):
    os.makedirs(os.path.join(d, "results"), exist_ok=True)
    acc = os.path.join(d, "results", "accum.h5")
    rc, _, err = run(["accum", "--formats", "ibm169,f16", "--round", "rne,sr",
                      "--chunks", "1,64", "--lengths", "2^8,2^11", "--dists", "ones",
                      "--ops", "sum", "--trials", "1", "--out", acc])
    check(rc == 0, "accum: exit %d: %s" % (rc, err))
    stag = os.path.join(d, "results", "stag.h5")
    rc, _, err = run(["reproduce", "stagnation", "--out", stag])
    check(rc == 0, "reproduce stagnation: exit %d: %s" % (rc, err))
    return acc, stag


def group_help():
    rc, out, err = run(["report", "--help"])
    check(rc == 0, "report --help: exit %d" % rc)
    for w in ("usage: fp8lab report", "--out-dir", "notebooks-out", "results/*.h5"):
        check(w in out, "report --help does not mention %r" % w)
    rc, out, _ = run(["--help"])
    check("report" in out, "fp8lab --help does not list report")


def notebook_checks(path, pngs_min):
    try:
        import nbformat
    except ImportError:
        print("SKIP: nbformat missing in %s (run ./scripts/setup)" % sys.executable)
        sys.exit(SKIP)
    check(os.path.isfile(path), "%s: missing" % path)
    if not os.path.isfile(path):
        return
    nb = nbformat.read(path, as_version=4)
    try:
        nbformat.validate(nb)
        valid = True
    except nbformat.ValidationError as e:
        valid = False
        print(e, file=sys.stderr)
    check(valid, "%s: not valid nbformat" % path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    check(code and all(c.get("execution_count") for c in code),
          "%s: not every code cell was executed" % path)
    outs = [o for c in code for o in c.get("outputs", [])]
    pngs = [o for o in outs if "image/png" in o.get("data", {})]
    check(len(pngs) >= pngs_min, "%s: %d image/png outputs, want >= %d" % (path, len(pngs), pngs_min))
    errs = [o for o in outs if o.get("output_type") == "error"]
    check(not errs, "%s: error outputs: %r" % (path, [e.get("ename") for e in errs]))
    src = "\n".join(c.source for c in code)
    check("h5py.File(" in src and "matplotlib" in src, "%s: cells do not read with h5py / plot with matplotlib" % path)


def group_render():
    with tempfile.TemporaryDirectory(prefix="fp8lab-report-") as d:
        acc, stag = tiny_results(d)
        out = os.path.join(d, "nb")
        os.makedirs(out)
        with open(os.path.join(out, "stale.txt"), "w") as fp:
            fp.write("from an older run\n")
        rc, so, err = run(["report", "--out-dir", out, acc, stag])
        skip_if_no_packages(rc, err)
        check(rc == 0, "report: exit %d: %s" % (rc, err))
        check("2 notebooks" in so, "report: stdout %r does not count 2 notebooks" % so)
        check(not os.path.exists(os.path.join(out, "stale.txt")),
              "report: the older directory was not replaced")
        left = [p for p in os.listdir(d) if ".tmp." in p or ".old." in p]
        check(not left, "report: temporaries left behind: %r" % left)
        notebook_checks(os.path.join(out, "accum.ipynb"), 1)
        notebook_checks(os.path.join(out, "stag.ipynb"), 1)
        for png in ("accum-sum-ones.png", "stag-reproduce.png"):
            p = os.path.join(out, png)
            ok = os.path.isfile(p) and open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
            check(ok, "report: %s missing or not a PNG" % png)
        rd = os.path.join(out, "README.md")
        text = open(rd, encoding="utf-8").read() if os.path.isfile(rd) else ""
        check(text, "report: README.md missing")
        for w in ("[accum.ipynb](accum.ipynb)", "[stag.ipynb](stag.ipynb)",
                  "![accum-sum-ones.png](accum-sum-ones.png)",
                  "fp8lab accum --formats ibm169,f16", "seed 0", "commit `",
                  "| op | dist | format | round | chunk=1 | chunk=64 |",
                  "| sum | ones | ibm169 | rne | 0.5 † | 0 |",
                  "| sum | ones | f16 | rne | 0 | 0 |",
                  "| ibm169/ones/naive | 1024 | 1024 | 0 |"):
            check(w in text, "README.md does not contain %r" % w)
        # The notebook reads its file by a path relative to itself.
        nb = json.load(open(os.path.join(out, "accum.ipynb")))
        src = "".join(nb["cells"][1]["source"])
        check("'../results/accum.h5'" in src, "accum.ipynb: RESULTS is not ../results/accum.h5")

        # Defaults: results/*.h5 -> notebooks-out, in the current directory.
        rc, so, err = run(["report"], cwd=d)
        check(rc == 0, "report (defaults): exit %d: %s" % (rc, err))
        for p in ("accum.ipynb", "stag.ipynb", "README.md"):
            check(os.path.isfile(os.path.join(d, "notebooks-out", p)),
                  "report (defaults): notebooks-out/%s missing" % p)


def group_errors():
    with tempfile.TemporaryDirectory(prefix="fp8lab-report-") as d:
        out = os.path.join(d, "nb")
        os.makedirs(out)
        keep = os.path.join(out, "keep.txt")
        open(keep, "w").write("x")

        missing = os.path.join(d, "nope.h5")
        rc, _, err = run(["report", "--out-dir", out, missing])
        skip_if_no_packages(rc, err)
        one_line_error(rc, err, [missing, "no such file"], "missing file", prefix='fp8lab report: ')

        txt = os.path.join(d, "notes.h5")
        open(txt, "w").write("not hdf5\n")
        rc, _, err = run(["report", "--out-dir", out, txt])
        one_line_error(rc, err, [txt, "not an HDF5 file"], "text file", prefix='fp8lab report: ')

        try:
            import h5py
            foreign = os.path.join(d, "foreign.h5")
            with h5py.File(foreign, "w") as f:
                f["x"] = [1, 2, 3]
            rc, _, err = run(["report", "--out-dir", out, foreign])
            one_line_error(rc, err, [foreign, "not an fp8lab results file", "schema"],
                           "HDF5 file without schema", prefix='fp8lab report: ')
        except ImportError:
            print("note: h5py missing here; the foreign-HDF5 case is not checked")

        rc, _, err = run(["report", "--out-dir", out], cwd=d)
        one_line_error(rc, err, ["results/*.h5", "matches nothing"], "no results", prefix='fp8lab report: ')

        rc, _, err = run(["report", "--bogus"])
        one_line_error(rc, err, ["--bogus"], "unknown option", prefix='fp8lab report: ')

        rc, _, err = run(["report", "--out-dir", out, missing],
                         env={"FP8LAB_PYTHON": os.path.join(d, "no-python")})
        one_line_error(rc, err, ["no-python", "./scripts/setup"], "missing python", prefix='fp8lab report: ')

        # A python without the packages (the system's, when it lacks them).
        for py in ("/usr/bin/python3",):
            if not os.access(py, os.X_OK):
                continue
            p = subprocess.run([py, "-c", "import nbclient, matplotlib, h5py"],
                               capture_output=True)
            if p.returncode == 0:
                continue
            rc, _, err = run(["report", "--out-dir", out, missing],
                             env={"FP8LAB_PYTHON": py})
            one_line_error(rc, err, ["missing Python packages", "./scripts/setup"],
                           "python without the packages", prefix='fp8lab report: ')

        check(os.listdir(out) == ["keep.txt"], "errors: --out-dir was touched: %r" % os.listdir(out))
        left = [p for p in os.listdir(d) if ".tmp." in p or ".old." in p]
        check(not left, "errors: temporaries left behind: %r" % left)


def main():
    if not EXE:
        print("FP8LAB_EXE is not set (run through meson test)", file=sys.stderr)
        return 2
    group = sys.argv[1] if len(sys.argv) > 1 else "all"
    groups = {"help": group_help, "render": group_render, "errors": group_errors}
    for g in (groups if group == "all" else [group]):
        groups[g]()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
