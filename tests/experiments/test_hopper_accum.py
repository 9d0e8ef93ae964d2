#!/usr/bin/env python3
"""Tests of `fp8lab hopper-accum`, `reproduce deepseek-accum` and
`reproduce ibm-chunk` (suite 'cli').

usage: test_hopper_accum.py GROUP
       GROUP: errors | exact | schema | reproduce | all

The command is $FP8LAB_EXE, the data directory $FP8LAB_DATA_DIR.  Outcomes
known exactly:
  - K <= 128: cublaslt (promotion every 128) adds one FP22 partial to +0
    in f32, exactly, so it equals cublaslt-fast element for element: every
    statistic is the same;
  - e2m1 operands (values 0, 0.5 .. 6) with K <= 64: every product is a
    multiple of 1/4 below 36 and every partial sum below 2^12, exact in the
    FP22 accumulator (14 significant bits): zero error under every model;
  - results do not depend on --threads;
  - ibm-chunk: a naive 1-6-9 sum of U[0,1) terms stops near 1024 (half an
    ulp above 1024 is 1, more than any term), so at n = 2^12 (exact sum
    ~2048) the relative error is ~0.5.
Groups needing h5py exit 77 (skip) when it is missing.
"""
import csv
import io
import math
import os
import subprocess
import sys
import tempfile

from harness import check, run, one_line_error, finish, EXE, SKIP, failures  # noqa: F401


def h5py_or_skip():
    try:
        import h5py  # noqa: F401
        return h5py
    except ImportError:
        print("SKIP: h5py is not importable by %s" % sys.executable)
        sys.exit(SKIP)


def read_table(h5py, path, name="hopper_accum"):
    with h5py.File(path, "r") as f:
        t = f["tables"][name]
        cols = t.attrs["columns"].split(",")
        out = {}
        for c in cols:
            v = t[c][()]
            out[c] = [x.decode() if isinstance(x, bytes) else x.item() for x in v]
        return out


def nan_free(table):
    """The table with NaN written as the string 'nan' (NaN != NaN)."""
    return {c: ["nan" if isinstance(x, float) and math.isnan(x) else x for x in v]
            for c, v in table.items()}


def rows(table):
    cols = list(table)
    return [dict(zip(cols, vals)) for vals in zip(*(table[c] for c in cols))]


STATS = ["max_rel", "median_rel", "max_abs_over_max_ref", "frob_rel"]


def group_errors():
    rc, out, err = run(["hopper-accum", "--help"])
    check(rc == 0 and "--models" in out and "cublaslt:NC" in out, "--help")
    with tempfile.TemporaryDirectory() as d:
        out_path = os.path.join(d, "x.h5")
        cases = [
            (["--ks", "0"], ["--ks"]),
            (["--ks", "128,"], ["--ks"]),
            (["--m", "0"], ["--m"]),
            (["--n", "5000"], ["--n"]),
            (["--dists", "cauchy"], ["--dists", "cauchy"]),
            (["--models", "nope"], ["--models", "nope"]),
            (["--models", "cublaslt:100"], ["--models", "multiple of 32"]),
            (["--format", "f32"], ["--format"]),
            (["--format", "e9m9"], ["--format"]),
            (["--shard", "2/2"], ["--shard"]),
            (["--seed", "x"], ["--seed"]),
            (["--bogus"], ["--bogus"]),
            (["extra"], ["extra"]),
        ]
        for args, words in cases:
            rc, _, err = run(["hopper-accum"] + args + ["--out", out_path])
            what = "hopper-accum " + " ".join(args)
            check(rc == 2, "%s: exit status %d, want 2 (%r)" % (what, rc, err))
            lines = err.splitlines()
            check(len(lines) == 1 and err.startswith("fp8lab hopper-accum"),
                  "%s: want one line from fp8lab hopper-accum: %r" % (what, err))
            for w in words:
                check(w in err, "%s: stderr %r does not mention %r" % (what, err, w))
            check(not os.listdir(d), "%s: left %r behind" % (what, os.listdir(d)))


def group_exact():
    h5py = h5py_or_skip()
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "k128.h5")
        rc, out, err = run(["hopper-accum", "--ks", "32,128", "--m", "24", "--n", "20",
                            "--models", "cublaslt-fast,cublaslt", "--out", p])
        check(rc == 0, "K <= 128 run: rc %d %r" % (rc, err))
        t = rows(read_table(h5py, p))
        check(len(t) == 4 * 2 * 2, "K <= 128: %d rows, want 16" % len(t))
        by = {(r["dist"], r["k"], r["model"]): r for r in t}
        for (dist, k, model), r in by.items():
            if model != "cublaslt":
                continue
            f = by[(dist, k, "cublaslt-fast")]
            for s in STATS:
                check(r[s] == f[s], "K = %d %s %s: promoted %r != fast %r"
                      % (k, dist, s, r[s], f[s]))
            check(r["frob_rel"] > 0, "K = %d %s: FP8 GEMM with zero error?" % (k, dist))
        # exact sums: e2m1 operands, K <= 64
        p = os.path.join(d, "exact.h5")
        rc, out, err = run(["hopper-accum", "--format", "e2m1", "--ks", "32,64",
                            "--m", "16", "--n", "16", "--out", p])
        check(rc == 0, "exact run: rc %d %r" % (rc, err))
        for r in rows(read_table(h5py, p)):
            for s in STATS:
                check(r[s] == 0, "e2m1 K = %d %s %s: %r, want 0"
                      % (r["k"], r["dist"], r["model"], r[s]))
        # all-positive products drift down without promotion (H100: 7 % at
        # K = 4096); promotion keeps it near 6e-4
        p = os.path.join(d, "drift.h5")
        rc, out, err = run(["hopper-accum", "--dists", "abs-gauss", "--ks", "4096",
                            "--m", "32", "--n", "32", "--out", p])
        check(rc == 0, "drift run: rc %d %r" % (rc, err))
        by = {r["model"]: r for r in rows(read_table(h5py, p))}
        check(0.06 < by["cublaslt-fast"]["median_rel"] < 0.08,
              "abs-gauss K = 4096 fast median %r, want ~0.07" % by["cublaslt-fast"]["median_rel"])
        check(4e-4 < by["cublaslt"]["median_rel"] < 8e-4,
              "abs-gauss K = 4096 promoted median %r, want ~6e-4" % by["cublaslt"]["median_rel"])
        check(by["cublaslt"]["median_rel"] < by["cublaslt:512"]["median_rel"]
              < by["cublaslt-fast"]["median_rel"],
              "promotion every 128 < every 512 < none")
        # threads and shards do not change results
        outs = []
        for extra in (["--threads", "1"], ["--threads", "2"]):
            p = os.path.join(d, "t%s.h5" % extra[1])
            rc, _, err = run(["hopper-accum", "--ks", "256", "--m", "16", "--n", "16",
                              "--out", p] + extra)
            check(rc == 0, "threads run: %r" % err)
            outs.append(nan_free(read_table(h5py, p)))
        check(outs[0] == outs[1], "results depend on --threads")
        p = os.path.join(d, "s.h5")
        rc, _, err = run(["hopper-accum", "--ks", "256", "--m", "16", "--n", "16",
                          "--shard", "1/2", "--out", p])
        s = rows(nan_free(read_table(h5py, p)))
        full = rows(outs[0])
        check(len(s) == 6 and all(r in full for r in s),
              "--shard 1/2: %d rows, want 6 rows of the full run" % len(s))


def group_schema():
    h5py = h5py_or_skip()
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "s.h5")
        rc, out, err = run(["hopper-accum", "--dists", "abs-gauss,gauss", "--ks", "256,512",
                            "--m", "16", "--n", "16", "--seed", "7", "--out", p])
        check(rc == 0, "schema run: %r" % err)
        check("H100" in out and "abs-gauss" in out, "printed table: %r" % out[:200])
        with h5py.File(p, "r") as f:
            a = f.attrs
            check(a["schema"] in ("fp8lab-results/1", b"fp8lab-results/1"), "schema attr")
            check(a["runner"] in ("hopper-accum", b"hopper-accum"), "runner attr")
            check(int(a["seed"]) == 7, "seed attr")
            for k in ("fp8lab_version", "git_commit", "command_line", "start_time",
                      "end_time", "threads"):
                check(k in a, "root attribute %s missing" % k)
            par = f["parameters"].attrs
            for k in ("dists", "ks", "m", "n", "models", "format", "reference",
                      "h100_source"):
                check(k in par, "parameter %s missing" % k)
            t = f["tables/hopper_accum"]
            cols = t.attrs["columns"].split(",")
            for c in ["dist", "k", "m", "n", "model", "promote_k"] + STATS + \
                     ["ref_zeros", "h100_m"] + ["h100_" + s for s in STATS]:
                check(c in cols, "column %s missing" % c)
            for c in cols:
                check("units" in t[c].attrs and "description" in t[c].attrs,
                      "column %s lacks units/description" % c)
        t = rows(read_table(h5py, p))
        check(len(t) == 2 * 2 * 3, "schema: %d rows, want 12" % len(t))
        for r in t:
            h = r["h100_median_rel"]
            if r["model"] in ("cublaslt", "cublaslt-fast") and r["k"] == 256:
                check(r["h100_m"] == 1024 and h > 0, "H100 value missing: %r" % r)
            else:
                check(math.isnan(h) and r["h100_m"] == 0, "H100 value where none: %r" % r)
            check(r["promote_k"] == {"cublaslt": 128, "cublaslt-fast": 0,
                                     "cublaslt:512": 512}[r["model"]], "promote_k %r" % r)


def csv_rows(text):
    return {r["name"]: r for r in csv.DictReader(io.StringIO(text))}


def group_reproduce():
    rc, out, err = run(["reproduce", "--list"])
    check(rc == 0 and "[not yet implemented] DeepSeek" not in out, "--list: %r" % out)
    rc, out, err = run(["reproduce", "deepseek-accum", "--csv"])
    check(rc == 0, "deepseek-accum: rc %d %r" % (rc, err))
    t = csv_rows(out)
    check(len(t) == 4 * 4 * 2 * 4 + 1, "deepseek-accum: %d rows" % len(t))
    for dist in ("gauss", "uniform", "abs-gauss", "lognormal"):
        for k in (256, 1024, 4096, 16384):
            for mode in ("fast", "promoted"):
                for s in ("median_rel", "frob_rel"):
                    r = t.get("%s/K%d/%s/%s" % (dist, k, mode, s))
                    check(r is not None and r["reference"] != "", "row %s/K%d/%s/%s" % (dist, k, mode, s))
                    if r and r["reference"]:
                        ref, val = float(r["reference"]), float(r["fp8lab"])
                        check(abs(val - ref) <= 0.1 * ref,
                              "%s: fp8lab %g vs H100 %g: more than 10%% apart" % (r["name"], val, ref))
    c = t.get("deepseek-v3/K4096/fast/max_rel")
    check(c is not None and float(c["reference"]) == 0.02, "DeepSeek claim row")
    rc, out, err = run(["reproduce", "ibm-chunk", "--csv"])
    check(rc == 0, "ibm-chunk: rc %d %r" % (rc, err))
    t = csv_rows(out)
    check(all(r["reference"] == "" for r in t.values()), "ibm-chunk: no published numbers")
    naive = float(t["ibm169/CL1/n2^12/rel_err"]["fp8lab"])
    check(0.45 < naive < 0.55, "ibm169 naive n = 2^12: %r, want ~0.5 (stops at 1024)" % naive)
    for n in (12, 16):
        check(float(t["ibm169/CL64/n2^%d/rel_err" % n]["fp8lab"]) < 0.01,
              "ibm169 chunk 64 at n = 2^%d stays accurate" % n)


GROUPS = {"errors": group_errors, "exact": group_exact, "schema": group_schema,
          "reproduce": group_reproduce}

if __name__ == "__main__":
    if not EXE:
        print("FP8LAB_EXE is not set", file=sys.stderr)
        sys.exit(2)
    g = sys.argv[1] if len(sys.argv) > 1 else "all"
    for name in (GROUPS if g == "all" else [g]):
        GROUPS[name]()
    sys.exit(finish())
