#!/usr/bin/env python3
"""Tests of the experiment runners and `fp8lab reproduce` (suite 'cli').

usage: test_experiments.py GROUP
       GROUP: help | errors | reproduce | accum | schema | interrupt | all

The command is $FP8LAB_EXE, the data directory $FP8LAB_DATA_DIR (meson's
test_env).  Numbers checked exactly, each worked out by hand:
  - a naive sum of n >= 1024 ones in IBM 1-6-9 (10-bit significand) stops
    at 1024 (1024 + 1 is a tie, RNE keeps the even 1024); in f16 (11 bits)
    at 2048; chunked by 64 it is exact (64 k is exact for k <= 1024);
  - harmonic series, RNE: f16 stops at 7.0859375 = 7 + 11/128 from term 513
    on, bf16 at 5.0625 from term 65 on (Higham 2018, data/published/);
  - format tables: E4M3 448, 2^-6, 2^-9; E5M2 57344, 2^-14, 2^-16; MX E2M1
    6, 1, 0.5; E2M3 7.5, 1, 0.125; E3M2 28, 0.25, 0.0625; E8M0 2^127, 2^-127.
Groups needing h5py (accum, schema) exit 77 (skip) when it is missing.
"""
import csv
import io
import math
import os
import signal
import subprocess
import sys
import tempfile
import time

from harness import check, run, one_line_error, finish, EXE, SKIP, failures  # noqa: F401


def h5py_or_skip():
    try:
        import h5py  # noqa: F401
        return h5py
    except ImportError:
        print("SKIP: h5py is not importable by %s" % sys.executable)
        sys.exit(SKIP)


def read_table(h5py, path, name):
    """A results table as {column: list}, strings decoded."""
    with h5py.File(path, "r") as f:
        t = f["tables"][name]
        cols = t.attrs["columns"].split(",")
        out = {}
        for c in cols:
            v = t[c][()]
            out[c] = [x.decode() if isinstance(x, bytes) else x.item() for x in v]
        return out


def rows(table):
    cols = list(table)
    n = len(table[cols[0]])
    return [{c: table[c][i] for c in cols} for i in range(n)]


# ---- help -----------------------------------------------------------------------

def test_help():
    for args in (["accum", "--help"], ["reproduce", "--help"], ["help", "accum"]):
        rc, out, err = run(args)
        check(rc == 0, "%s: exit %d" % (args, rc))
        check(out.startswith("usage: fp8lab"), "%s: usage line missing" % args)
        check(err == "", "%s: stderr %r" % (args, err))
    rc, out, _ = run(["--help"])
    check("accum" in out and "reproduce" in out, "fp8lab --help lists accum, reproduce")
    rc, out, _ = run(["reproduce", "--list"])
    check(rc == 0, "reproduce --list: exit %d" % rc)
    ids = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    # Every ID the issue names is listed; the ones still to be written are
    # marked so on the same line, and running them says so (tested below).
    for i in ("stagnation", "nvidia-fp8-formats", "ocp-mx-formats",
              "qualcomm-sqnr", "ibm-chunk", "deepseek-accum"):
        check(i in ids, "--list: %s listed" % i)
    for i in ("stagnation", "nvidia-fp8-formats", "ocp-mx-formats"):
        check("not yet implemented" not in ids.get(i, ""), "--list: %s implemented" % i)
    check("2209.05433" in ids.get("nvidia-fp8-formats", ""), "--list cites 2209.05433")


# ---- errors ---------------------------------------------------------------------

def test_errors():
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "x.h5")
        base = ["accum", "--out", out, "--lengths", "16", "--trials", "1"]
        cases = [
            (["--formats", "e9m3"], ["--formats", "e9m3"]),
            (["--formats", "e8m0"], ["--formats", "e8m0"]),
            (["--formats", "f16,"], ["--formats", "empty"]),
            (["--round", "nearest"], ["--round", "nearest"]),
            (["--round", "rne", "--sr-bits", "8"], ["--sr-bits"]),
            (["--sr-bits", "33"], ["--sr-bits", "33"]),
            (["--chunks", "0"], ["--chunks", "0"]),
            (["--lengths", "2^21"], ["--lengths", "2^21"]),
            (["--lengths", "ten"], ["--lengths", "ten"]),
            (["--dists", "cauchy"], ["--dists", "cauchy"]),
            (["--ops", "gemm"], ["--ops", "gemm"]),
            (["--input", "e8m0"], ["--input", "e8m0"]),
            (["--input", "x9"], ["--input", "x9"]),
            (["--trials", "0"], ["--trials", "0"]),
            (["--seed", "-1"], ["--seed"]),
            (["--threads", "x"], ["--threads", "x"]),
            (["--shard", "4/4"], ["--shard", "4"]),
            (["--shard", "1"], ["--shard", "I/N"]),
            (["--bogus"], ["--bogus"]),
            (["extra"], ["extra"]),
        ]
        for extra, words in cases:
            rc, _, err = run(base + extra)
            one_line_error(rc, err, words, "accum %s" % " ".join(extra))
            check(os.listdir(d) == [], "accum %s: left %r" % (extra, os.listdir(d)))
        # An unwritable place is an environment failure: exit 1.
        rc, _, err = run(["accum", "--out", os.path.join(d, "no", "x.h5"),
                          "--lengths", "16", "--trials", "1"])
        one_line_error(rc, err, ["cannot create"], "accum into a missing directory", code=1)
    # An ID listed as not yet implemented exits 2 and says so.
    _, listing, _ = run(["reproduce", "--list"])
    for line in listing.splitlines():
        if "not yet implemented" in line:
            rid = line.split()[0]
            rc, _, err = run(["reproduce", rid])
            one_line_error(rc, err, [rid, "not yet implemented"], "reproduce " + rid)
    for args, words in [
        (["reproduce"], ["ID"]),
        (["reproduce", "nope"], ["nope", "--list"]),
        (["reproduce", "--list", "stagnation"], ["--list"]),
        (["reproduce", "stagnation", "--out"], ["--out"]),
    ]:
        rc, _, err = run(args)
        one_line_error(rc, err, words, " ".join(args))
    # A malformed reference file names file, line and field.
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "published"))
        with open(os.path.join(d, "published", "stagnation.csv"), "w") as f:
            f.write("name,value,source,location\nf16/harmonic/sum,seven,Higham,blog\n")
        p = subprocess.run([EXE, "reproduce", "stagnation"], capture_output=True,
                           env=dict(os.environ, FP8LAB_DATA_DIR=d))
        one_line_error(p.returncode, p.stderr.decode(), ["stagnation.csv:2", "value", "seven"],
                       "reproduce with a bad value")
        with open(os.path.join(d, "published", "stagnation.csv"), "w") as f:
            f.write("name,value,source,location\nf16/harmonic/nope,1,Higham,blog\n")
        p = subprocess.run([EXE, "reproduce", "stagnation"], capture_output=True,
                           env=dict(os.environ, FP8LAB_DATA_DIR=d))
        one_line_error(p.returncode, p.stderr.decode(), ["stagnation.csv:2", "f16/harmonic/nope"],
                       "reproduce with an unknown row")


# ---- reproduce ------------------------------------------------------------------

def reproduce_csv(id_):
    rc, out, err = run(["reproduce", id_, "--csv"])
    check(rc == 0, "reproduce %s: exit %d: %s" % (id_, rc, err))
    lines = out.splitlines()
    check(lines and lines[0] == "name,reference,fp8lab,difference",
          "reproduce %s: CSV header %r" % (id_, lines[:1]))
    return {r["name"]: r for r in csv.DictReader(io.StringIO(out))}


def test_reproduce():
    t = reproduce_csv("stagnation")
    exact = {
        "f16/harmonic/sum": 7.0859375, "f16/harmonic/k": 513,
        "bf16/harmonic/sum": 5.0625, "bf16/harmonic/k": 65,
        "ibm169/ones/naive": 1024, "ibm169/ones/chunk64": 4096,
    }
    for name, v in exact.items():
        r = t.get(name)
        check(r is not None, "stagnation: row %s" % name)
        if r:
            check(float(r["fp8lab"]) == v, "stagnation %s: fp8lab %s, want %r" % (name, r["fp8lab"], v))
            check(float(r["reference"]) == v, "stagnation %s: reference %s" % (name, r["reference"]))
            check(float(r["difference"]) == 0, "stagnation %s: difference %s" % (name, r["difference"]))
    # SR contrast: no published number, and no stagnation: within a few
    # percent of the exact sums (H_65536 = 11.6675..., 4096 ones).
    for name, ref in (("f16/harmonic/sr/sum", 11.66757818), ("bf16/harmonic/sr/sum", 11.66757818),
                      ("ibm169/ones/sr/naive", 4096)):
        r = t.get(name)
        check(r is not None and r["reference"] == "" and r["difference"] == "",
              "stagnation %s: empty reference and difference" % name)
        if r:
            check(abs(float(r["fp8lab"]) / ref - 1) < 0.15, "stagnation %s: %s far from %r" % (name, r["fp8lab"], ref))
    h = float(t["exact/harmonic/sum"]["fp8lab"])
    check(abs(h - (math.log(65536) + 0.5772156649015329 + 1 / (2 * 65536))) < 1e-9,
          "exact harmonic sum %r" % h)

    t = reproduce_csv("nvidia-fp8-formats")
    want = {"e4m3/max_normal": 448, "e4m3/min_normal": 2**-6, "e4m3/min_subnormal": 2**-9,
            "e4m3/max_subnormal": 0.875 * 2**-6, "e5m2/max_normal": 57344,
            "e5m2/min_normal": 2**-14, "e5m2/min_subnormal": 2**-16,
            "e5m2/max_subnormal": 0.75 * 2**-14, "e4m3/exponent_bias": 7, "e5m2/exponent_bias": 15}
    for name, v in want.items():
        r = t.get(name)
        check(r and float(r["fp8lab"]) == v and float(r["reference"]) == v,
              "nvidia-fp8-formats %s: %r, want %r" % (name, r, v))
    t = reproduce_csv("ocp-mx-formats")
    want = {"e2m1/max_normal": 6, "e2m1/min_normal": 1, "e2m1/min_subnormal": 0.5,
            "e2m3/max_normal": 7.5, "e2m3/min_normal": 1, "e2m3/min_subnormal": 0.125,
            "e3m2/max_normal": 28, "e3m2/min_normal": 0.25, "e3m2/min_subnormal": 0.0625,
            "e8m0/max": 2.0**127, "e8m0/min": 2.0**-127}
    for name, v in want.items():
        r = t.get(name)
        check(r and float(r["fp8lab"]) == v and float(r["reference"]) == v,
              "ocp-mx-formats %s: %r, want %r" % (name, r, v))
    # Plain table: a header and one line per row.
    rc, out, _ = run(["reproduce", "stagnation"])
    check(rc == 0 and out.split()[:4] == ["name", "reference", "fp8lab", "difference"],
          "reproduce stagnation: table header")
    # Every published file names a source on every row.
    d = os.path.join(os.environ.get("FP8LAB_DATA_DIR", "data"), "published")
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".csv"):
            with open(os.path.join(d, fn)) as f:
                for r in csv.DictReader(f):
                    check(r["source"].strip() and r["location"].strip(), "%s: %s has a source" % (fn, r["name"]))


# ---- accum ----------------------------------------------------------------------

def accum(d, name, extra):
    out = os.path.join(d, name)
    rc, so, err = run(["accum", "--out", out] + extra)
    check(rc == 0, "accum %s: exit %d: %s" % (extra, rc, err))
    return out


def test_accum():
    h5py = h5py_or_skip()
    with tempfile.TemporaryDirectory() as d:
        small = ["--formats", "ibm169,f16", "--round", "rne", "--chunks", "1,64",
                 "--lengths", "1024,2048,2^12", "--dists", "ones", "--ops", "sum,dot", "--trials", "2"]
        t = rows(read_table(h5py, accum(d, "a.h5", small), "accum"))
        check(len(t) == 2 * 2 * 2 * 3, "accum: %d rows, want 24" % len(t))
        for r in t:
            n, ch, f = r["length"], r["chunk"], r["format"]
            stop = {"ibm169": 1024, "f16": 2048}[f]
            want = 0.0 if ch == 64 or n <= stop else (n - stop) / n
            check(r["mean_rel_err"] == want and r["max_rel_err"] == want,
                  "accum ones %s/%s chunk %d n %d: error %r, want %r" % (r["op"], f, ch, n, r["mean_rel_err"], want))
            check(r["stagnated"] == (1 if want >= 0.5 else 0),
                  "accum ones %s chunk %d n %d: stagnated %r" % (f, ch, n, r["stagnated"]))
        # Results do not depend on threads, shards or list order.
        mixed = ["--formats", "bf16,ibm169", "--round", "rne,sr", "--chunks", "1,32",
                 "--lengths", "2^8,2^11", "--dists", "uniform,gaussian", "--ops", "sum,dot",
                 "--trials", "3", "--seed", "7"]
        base = read_table(h5py, accum(d, "t1.h5", mixed + ["--threads", "1"]), "accum")
        t4 = read_table(h5py, accum(d, "t4.h5", mixed + ["--threads", "4"]), "accum")
        check(base == t4, "accum: --threads 1 and 4 differ")
        shards = {}
        for i in range(3):
            s = read_table(h5py, accum(d, "s%d.h5" % i, mixed + ["--shard", "%d/3" % i]), "accum")
            for r in rows(s):
                check(r["config"] % 3 == i, "shard %d/3 ran config %d" % (i, r["config"]))
                shards[r["config"]] = r
        check(sorted(shards) == base["config"], "accum: shards do not cover the sweep")
        check(all(shards[r["config"]] == r for r in rows(base)), "accum: shard rows differ from the full run")
        rev = mixed[:]
        rev[rev.index("bf16,ibm169")] = "ibm169,bf16"
        rev[rev.index("rne,sr")] = "sr,rne"
        key = lambda r: (r["op"], r["dist"], r["format"], r["round"], r["chunk"], r["length"])
        a = {key(r): (r["mean_rel_err"], r["max_rel_err"]) for r in rows(base)}
        b = {key(r): (r["mean_rel_err"], r["max_rel_err"])
             for r in rows(read_table(h5py, accum(d, "r.h5", rev), "accum"))}
        check(a == b, "accum: results depend on the order of --formats / --round")
        # SR does not stagnate where RNE does; chunking helps.
        e = {key(r): r["mean_rel_err"] for r in rows(base)}
        check(e[("sum", "uniform", "bf16", "sr", 1, 2048)] < e[("sum", "uniform", "bf16", "rne", 1, 2048)],
              "accum: SR beats RNE for long bf16 sums of uniform data")
        check(e[("sum", "uniform", "bf16", "rne", 32, 2048)] < e[("sum", "uniform", "bf16", "rne", 1, 2048)],
              "accum: chunking beats recursive summation")
        names = sorted(os.listdir(d))
        check(not any(".tmp." in n for n in names), "accum: temporary files left: %r" % names)


# ---- schema ---------------------------------------------------------------------

ROOT_ATTRS = {"schema": str, "runner": str, "fp8lab_version": str, "git_commit": str,
              "command_line": str, "seed": int, "threads": int, "start_time": str, "end_time": str}


def check_schema(h5py, path, runner, argv_words):
    import re
    with h5py.File(path, "r") as f:
        for k, ty in ROOT_ATTRS.items():
            check(k in f.attrs, "%s: root attribute %s missing" % (path, k))
            if k in f.attrs:
                v = f.attrs[k]
                check(isinstance(v.item() if hasattr(v, "item") else v, ty),
                      "%s: root attribute %s is %r, want %s" % (path, k, type(v), ty.__name__))
        check(f.attrs.get("schema") == "fp8lab-results/1", "%s: schema" % path)
        check(f.attrs.get("runner") == runner, "%s: runner %r" % (path, f.attrs.get("runner")))
        iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        for k in ("start_time", "end_time"):
            check(bool(iso.match(str(f.attrs.get(k, "")))), "%s: %s not ISO 8601 UTC" % (path, k))
        check(f.attrs["start_time"] <= f.attrs["end_time"], "%s: start after end" % path)
        cl = f.attrs.get("command_line", "")
        check(cl.startswith("fp8lab ") and all(w in cl for w in argv_words),
              "%s: command_line %r" % (path, cl))
        check("parameters" in f and isinstance(f["parameters"], h5py.Group), "%s: /parameters" % path)
        datasets = []
        f.visititems(lambda n, o: datasets.append((n, o)) if isinstance(o, h5py.Dataset) else None)
        check(datasets, "%s: no datasets" % path)
        for n, o in datasets:
            for a in ("units", "description"):
                check(a in o.attrs and str(o.attrs[a]).strip(), "%s: %s has no %s" % (path, n, a))
        for name, t in f["tables"].items():
            cols = t.attrs["columns"].split(",")
            check(sorted(cols) == sorted(t.keys()), "%s: table %s columns attribute" % (path, name))
            for c in cols:
                check(t[c].shape == (t.attrs["nrows"],), "%s: %s/%s shape" % (path, name, c))
        return dict(f["parameters"].attrs)


def test_schema():
    h5py = h5py_or_skip()
    with tempfile.TemporaryDirectory() as d:
        args = ["--formats", "e8m13", "--round", "sr", "--sr-bits", "13", "--chunks", "1,4",
                "--lengths", "16,2^6", "--dists", "gaussian", "--ops", "dot", "--trials", "2", "--seed", "11"]
        p = accum(d, "s.h5", args)
        params = check_schema(h5py, p, "accum", ["--sr-bits", "13", "--seed", "11", "2^6"])
        for k, v in {"formats": "e8m13", "round": "sr", "sr_bits": 13, "trials": 2,
                     "dists": "gaussian", "ops": "dot", "input": "f32"}.items():
            check(k in params and params[k] == v, "accum parameters: %s = %r" % (k, params.get(k)))
        check(list(params.get("lengths", [])) == [16, 64], "accum parameters: lengths")
        check(list(params.get("chunks", [])) == [1, 4], "accum parameters: chunks")
        with h5py.File(p) as f:
            check(int(f.attrs["seed"]) == 11, "accum: root seed")
        # pandas-style read through h5py (pandas itself need not be installed).
        out = os.path.join(d, "r.h5")
        rc, so, err = run(["reproduce", "ocp-mx-formats", "--out", out])
        check(rc == 0, "reproduce --out: exit %d %s" % (rc, err))
        check_schema(h5py, out, "reproduce ocp-mx-formats", ["ocp-mx-formats", "--out"])
        t = read_table(h5py, out, "reproduce")
        check(t["name"][0] == "e2m1/exponent_bias" and all(x == 0 for x in t["difference"]),
              "reproduce --out: table contents")
        check(all(s for s in t["source"]), "reproduce --out: sources")
        check(sorted(os.listdir(d)) == ["r.h5", "s.h5"], "schema: stray files %r" % os.listdir(d))


# ---- interrupt ------------------------------------------------------------------

def test_interrupt():
    long_run = ["accum", "--formats", "f16", "--round", "sr", "--chunks", "1,64",
                "--lengths", "2^20", "--dists", "gaussian", "--ops", "dot", "--trials", "200",
                "--threads", "2"]
    for sig in (signal.SIGINT, signal.SIGTERM):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "long.h5")
            p = subprocess.Popen([EXE] + long_run + ["--out", out], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            # Wait until the temporary file exists: the run is under way.
            deadline = time.time() + 20
            while time.time() < deadline and not any(".tmp." in n for n in os.listdir(d)):
                time.sleep(0.02)
            check(any(".tmp." in n for n in os.listdir(d)), "interrupt: no temporary file seen")
            time.sleep(0.3)
            p.send_signal(sig)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                check(False, "interrupt %s: did not stop" % sig.name)
            check(p.returncode == -sig, "interrupt %s: status %r, want %d" % (sig.name, p.returncode, -sig))
            check(os.listdir(d) == [], "interrupt %s: left %r" % (sig.name, os.listdir(d)))
    # A failure after the file is open (here: none; cli_die path) is covered by
    # the errors group; an existing result is never replaced by a partial one.
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "keep.h5")
        with open(out, "wb") as f:
            f.write(b"old")
        p = subprocess.Popen([EXE] + long_run + ["--out", out], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        p.wait(timeout=30)
        check(open(out, "rb").read() == b"old", "interrupt: the old result was replaced")
        check(os.listdir(d) == ["keep.h5"], "interrupt: left %r" % os.listdir(d))


GROUPS = {"help": test_help, "errors": test_errors, "reproduce": test_reproduce,
          "accum": test_accum, "schema": test_schema, "interrupt": test_interrupt}


def main():
    if not EXE:
        print("FP8LAB_EXE is not set", file=sys.stderr)
        return 2
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    for name in (GROUPS if which == "all" else [which]):
        GROUPS[name]()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
