#!/usr/bin/env python3
"""Tests of `fp8lab scaling` and `fp8lab merge` (suite 'cli').

usage: test_scaling_merge.py GROUP
       GROUP: scaling | scaling-errors | merge | merge-refuse | all

The command is $FP8LAB_EXE (meson's test_env).  Numbers checked exactly:
  - dist `grid` (values of the element format, +-max at row 0 and at every
    32nd column, the rest of magnitude <= max/4): every recipe's scale is
    exactly 1, so every value is recovered: SQNR = +Inf, no overflow, no
    underflow, for every recipe, scale kind, history and format;
  - the same data under one constant scale 2^1: exactly the +-max entries
    overflow: cols + (rows - 1) * ceil(cols / 32) per tensor;
  - merge: the shards of an `fp8lab accum` (and `fp8lab scaling`) sweep
    merge into tables identical to the unsharded run's, parameters too.
Every group needs h5py and exits 77 (skip) without it.
"""
import math
import os
import subprocess
import sys
import tempfile

from harness import check, run, one_line_error, finish, EXE, SKIP, failures  # noqa: F401


def ok(args, what):
    rc, out, err = run(args)
    check(rc == 0, "%s: exit %d (stderr %r)" % (what, rc, err))
    return out


def h5py_or_skip():
    try:
        import h5py  # noqa: F401
        return h5py
    except ImportError:
        print("SKIP: h5py is not importable by %s" % sys.executable)
        sys.exit(SKIP)


def read_tables(h5py, path):
    """{table: {column: list}}, strings decoded; and {table: {column: (units,
    description, dtype)}}."""
    data, meta = {}, {}
    with h5py.File(path, "r") as f:
        for name, t in f["tables"].items():
            cols = t.attrs["columns"].split(",")
            check(t.attrs["nrows"] == len(t[cols[0]]), "%s: %s nrows" % (path, name))
            data[name], meta[name] = {}, {}
            for c in cols:
                v = t[c][()]
                data[name][c] = [x.decode() if isinstance(x, bytes) else x.item() for x in v]
                meta[name][c] = (t[c].attrs["units"], t[c].attrs["description"], str(v.dtype))
    return data, meta


def read_params(h5py, path):
    with h5py.File(path, "r") as f:
        out = {}
        for k, v in f["parameters"].attrs.items():
            out[k] = v.tolist() if hasattr(v, "tolist") else v
        return out, dict(f.attrs)


def rows(table):
    cols = list(table)
    return [{c: table[c][i] for c in cols} for i in range(len(table[cols[0]]))]


# ---- scaling ------------------------------------------------------------------

GRID = ["--dists", "grid", "--formats", "e4m3fn,e5m2,e3m4", "--rows", "130",
        "--cols", "140", "--steps", "3", "--drift", "0", "--spike-every", "0",
        "--history", "1,2", "--bias-min", "0", "--bias-max", "1",
        "--magnitudes", "0", "--threads", "2"]


def test_scaling():
    h5py = h5py_or_skip()
    rows_, cols_ = 130, 140
    nmax = cols_ + (rows_ - 1) * math.ceil(cols_ / 32)
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "s.h5")
        text = ok(["scaling"] + GRID + ["--out", out], "scaling grid")
        check(text.startswith(out + ": "), "scaling: summary line %r" % text[:80])
        data, meta = read_tables(h5py, out)
        check(set(data) == {"scaling", "bias_sweep"}, "scaling: tables %r" % list(data))
        sc = rows(data["scaling"])
        # 3 formats x (tensor, row, col, tile, block: 2 scales; mx: 1;
        # delayed: 2 scales x 2 histories x 2 algorithms) = 3 x 19
        check(len(sc) == 3 * 19, "scaling: %d rows, want 57" % len(sc))
        check(sorted({r["recipe"] for r in sc}) ==
              sorted(["tensor", "delayed", "row", "col", "tile", "block", "mx"]),
              "scaling: recipes %r" % {r["recipe"] for r in sc})
        for r in sc:
            what = "scaling grid %s/%s/%s/h%d/%s" % (r["format"], r["recipe"], r["scale"],
                                                     r["history"], r["amax_algo"])
            check(r["sqnr_db"] == math.inf, "%s: SQNR %r, want inf" % (what, r["sqnr_db"]))
            check(r["min_step_sqnr_db"] == math.inf, "%s: worst step %r" % (what, r["min_step_sqnr_db"]))
            check(r["overflow"] == 0, "%s: overflow %d" % (what, r["overflow"]))
            check(r["underflow"] == 0, "%s: underflow %d" % (what, r["underflow"]))
            check(r["elements"] == 3 * rows_ * cols_, "%s: elements %d" % (what, r["elements"]))
        blocks = {(r["recipe"], r["block_rows"], r["block_cols"]) for r in sc}
        for b in (("tensor", 130, 140), ("row", 1, 140), ("col", 130, 1), ("tile", 1, 128),
                  ("block", 128, 128), ("mx", 1, 32), ("delayed", 130, 140)):
            check(b in blocks, "scaling: block shape %r missing from %r" % (b, blocks))
        check({r["scale"] for r in sc if r["recipe"] == "mx"} == {"e8m0"}, "mx scale e8m0")
        bs = rows(data["bias_sweep"])
        check(len(bs) == 3 * 3, "bias_sweep: %d rows, want 9" % len(bs))
        for r in bs:
            what = "bias_sweep grid %s/%s/%g" % (r["format"], r["mode"], r["bias"])
            check(r["underflow"] == 0, "%s: underflow %d" % (what, r["underflow"]))
            if r["mode"] == "amax" or r["bias"] == 0:
                check(r["mean_sqnr_db"] == math.inf, "%s: SQNR %r" % (what, r["mean_sqnr_db"]))
                check(r["overflow"] == 0, "%s: overflow %d" % (what, r["overflow"]))
                check(r["bias"] == 0, "%s: bias %r, want 0" % (what, r["bias"]))
            else:
                check(r["overflow"] == nmax, "%s: overflow %d, want %d" % (what, r["overflow"], nmax))
                check(math.isfinite(r["mean_sqnr_db"]), "%s: SQNR %r" % (what, r["mean_sqnr_db"]))
        cfg = sorted(data["scaling"]["config"] + data["bias_sweep"]["config"])
        check(cfg == list(range(len(cfg))), "scaling: config indices not 0..n-1")
        for t in meta:
            for c, (units, desc, _) in meta[t].items():
                check(units != "" and desc != "", "%s/%s: units or description empty" % (t, c))
        params, root = read_params(h5py, out)
        check(root["runner"] == "scaling", "scaling: runner %r" % root["runner"])
        for p in ("formats", "recipes", "scales", "history", "amax_algo", "dists", "nu",
                  "outlier_rate", "outlier_scale", "rows", "cols", "steps", "drift_log2",
                  "spike_every", "spike_factor", "margin", "bias_min", "bias_max",
                  "magnitudes", "shard_index", "shard_count", "configurations_total"):
            check(p in params, "scaling: parameter %s missing" % p)
        check(params["configurations_total"] == len(cfg), "configurations_total")

        # Heavy-tailed data: finite SQNR; the per-tensor amax scale never
        # overflows in the sweep; results do not depend on --threads.
        small = ["--formats", "e4m3fn", "--rows", "128", "--cols", "128", "--steps", "4",
                 "--bias-min", "-2", "--bias-max", "2"]
        a, b = os.path.join(d, "a.h5"), os.path.join(d, "b.h5")
        ok(["scaling"] + small + ["--threads", "1", "--out", a], "scaling small t1")
        ok(["scaling"] + small + ["--threads", "2", "--out", b], "scaling small t2")
        da, _ = read_tables(h5py, a)
        db, _ = read_tables(h5py, b)
        check(da == db, "scaling: tables depend on --threads")
        for r in rows(da["scaling"]):
            check(math.isfinite(r["sqnr_db"]) and r["sqnr_db"] > 0,
                  "scaling %s/%s: SQNR %r" % (r["dist"], r["recipe"], r["sqnr_db"]))
        for r in rows(da["bias_sweep"]):
            if r["mode"] == "amax":
                check(r["overflow"] == 0, "bias_sweep amax %s: overflow %d" % (r["dist"], r["overflow"]))


def test_scaling_errors():
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "x.h5")
        for extra, words in (
                (["--recipes", "tensor,nope"], ["--recipes", "nope"]),
                (["--scales", "f16"], ["--scales", "f16"]),
                (["--amax-algo", "mean"], ["--amax-algo", "mean"]),
                (["--dists", "cauchy"], ["--dists", "cauchy"]),
                (["--formats", "e8m0"], ["--formats", "e8m0"]),
                (["--nu", "0"], ["--nu"]),
                (["--outlier-rate", "2"], ["--outlier-rate"]),
                (["--bias-min", "3", "--bias-max", "2"], ["--bias-min"]),
                (["--history", "0"], ["--history"]),
                (["--shard", "2/2"], ["--shard"]),
                (["--bogus"], ["--bogus"])):
            rc, _, err = run(["scaling", "--out", out] + extra)
            one_line_error(rc, err, words, "scaling %s" % " ".join(extra))
            check(os.listdir(d) == [], "scaling %s: left %r" % (extra, os.listdir(d)))
    rc, text, err = run(["scaling", "--help"])
    check(rc == 0 and text.startswith("usage: fp8lab scaling"), "scaling --help")
    rc, text, err = run(["merge", "--help"])
    check(rc == 0 and text.startswith("usage: fp8lab merge"), "merge --help")


# ---- merge --------------------------------------------------------------------

ACCUM = ["accum", "--formats", "ibm169,f16", "--round", "rne,sr", "--chunks", "1,16",
         "--lengths", "16,100,2^10", "--dists", "ones,uniform", "--ops", "sum,dot",
         "--trials", "2", "--threads", "2"]


def same_results(h5py, merged, full, what):
    dm, mm = read_tables(h5py, merged)
    df, mf = read_tables(h5py, full)
    check(dm == df, "%s: merged tables differ from the unsharded run's" % what)
    check(mm == mf, "%s: merged units/descriptions/types differ" % what)
    pm, rm = read_params(h5py, merged)
    pf, rf = read_params(h5py, full)
    check(pm == pf, "%s: merged parameters differ: %r vs %r" % (what, pm, pf))
    for k in ("schema", "runner", "fp8lab_version", "git_commit", "seed"):
        check(rm[k] == rf[k], "%s: root %s: %r vs %r" % (what, k, rm[k], rf[k]))
    return rm


def test_merge():
    h5py = h5py_or_skip()
    with tempfile.TemporaryDirectory() as d:
        p = lambda n: os.path.join(d, n)  # noqa: E731
        ok(ACCUM + ["--out", p("full.h5")], "accum unsharded")
        ok(ACCUM + ["--shard", "0/2", "--out", p("s0.h5")], "accum 0/2")
        ok(ACCUM + ["--shard", "1/2", "--out", p("s1.h5")], "accum 1/2")
        text = ok(["merge", p("m.h5"), p("s1.h5"), p("s0.h5")], "merge")
        check("2 shards" in text, "merge: summary %r" % text)
        rm = same_results(h5py, p("m.h5"), p("full.h5"), "merge accum")
        check(rm["command_line"].startswith("fp8lab merge "), "merge: command_line %r" % rm["command_line"])
        check(rm["merged_from"].splitlines() == [p("s0.h5"), p("s1.h5")],
              "merge: merged_from %r" % rm["merged_from"])
        lines = rm["merged_command_lines"].splitlines()
        check(len(lines) == 2 and "--shard 0/2" in lines[0] and "--shard 1/2" in lines[1],
              "merge: merged_command_lines %r" % lines)
        check(rm["merged_shards"] == "2", "merge: merged_shards %r" % rm["merged_shards"])
        check("end_time" in rm and "start_time" in rm, "merge: times")
        check(sorted(os.listdir(d)) == ["full.h5", "m.h5", "s0.h5", "s1.h5"],
              "merge: left %r" % os.listdir(d))

        # Generic over runners: scaling's two tables, three shards.
        sc = ["scaling", "--formats", "e4m3fn", "--rows", "128", "--cols", "128",
              "--steps", "3", "--history", "2", "--bias-min", "-1", "--bias-max", "1",
              "--threads", "2"]
        ok(sc + ["--out", p("sf.h5")], "scaling unsharded")
        for i in range(3):
            ok(sc + ["--shard", "%d/3" % i, "--out", p("ss%d.h5" % i)], "scaling %d/3" % i)
        ok(["merge", p("sm.h5"), p("ss2.h5"), p("ss0.h5"), p("ss1.h5")], "merge scaling")
        same_results(h5py, p("sm.h5"), p("sf.h5"), "merge scaling")


def test_merge_refuse():
    h5py_or_skip()
    with tempfile.TemporaryDirectory() as d:
        p = lambda n: os.path.join(d, n)  # noqa: E731
        ok(ACCUM + ["--shard", "0/2", "--out", p("s0.h5")], "accum 0/2")
        ok(ACCUM + ["--shard", "1/2", "--out", p("s1.h5")], "accum 1/2")
        ok(ACCUM + ["--shard", "1/2", "--trials", "3", "--out", p("t1.h5")], "accum trials 3")
        ok(ACCUM + ["--shard", "1/3", "--out", p("n1.h5")], "accum 1/3")
        ok(["scaling", "--formats", "e4m3fn", "--rows", "32", "--cols", "32", "--steps", "1",
            "--recipes", "tensor", "--bias-min", "0", "--bias-max", "0", "--shard", "1/2",
            "--out", p("x1.h5")], "scaling 1/2")
        with open(p("junk.h5"), "w") as f:
            f.write("not hdf5")
        import h5py
        import shutil
        for name, attr in (("g1.h5", "git_commit"), ("v1.h5", "fp8lab_version")):
            shutil.copy(p("s1.h5"), p(name))
            with h5py.File(p(name), "r+") as f:
                del f.attrs[attr]
                f.attrs[attr] = "other-" + attr
        before = sorted(os.listdir(d))
        for ins, words, what in (
                (["s0.h5", "t1.h5"], ["t1.h5", "trials", "3", "2"], "different parameters"),
                (["s0.h5", "x1.h5"], ["x1.h5", "runner", "scaling", "accum"], "different runner"),
                (["s0.h5", "s0.h5"], ["s0.h5", "shard_index", "0/2"], "duplicate shard"),
                (["s1.h5", "s1.h5"], ["s1.h5", "shard_index", "1/2"], "duplicate shard 1"),
                (["s0.h5"], ["shard_index", "1/2", "missing"], "missing shard"),
                (["s0.h5", "n1.h5"], ["n1.h5", "shard_count"], "different shard counts"),
                (["s0.h5", "g1.h5"], ["g1.h5", "git_commit", "other-git_commit"],
                 "different git commits"),
                (["s0.h5", "v1.h5"], ["v1.h5", "fp8lab_version"], "different versions"),
                (["s0.h5", "junk.h5"], ["junk.h5"], "not a results file")):
            rc, _, err = run(["merge", p("m.h5")] + [p(x) for x in ins])
            one_line_error(rc, err, words, "merge refuses %s" % what)
            check(sorted(os.listdir(d)) == before, "merge %s: left %r" % (what, os.listdir(d)))
        rc, _, err = run(["merge", p("m.h5"), p("s0.h5"), p("nope.h5")])
        one_line_error(rc, err, ["nope.h5"], "merge of a missing file", code=1)
        rc, _, err = run(["merge", p("m.h5")])
        one_line_error(rc, err, ["IN"], "merge without inputs")
        check(sorted(os.listdir(d)) == before, "merge errors: left %r" % os.listdir(d))


GROUPS = {"scaling": test_scaling, "scaling-errors": test_scaling_errors,
          "merge": test_merge, "merge-refuse": test_merge_refuse}


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
