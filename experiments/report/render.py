#!/usr/bin/env python3
"""fp8lab report: render results files (docs/results-format.md) into
executed Jupyter notebooks, PNG plots and a README.md with the key tables.

usage: render.py [--out-dir DIR] [RESULTS...]

Run by `fp8lab report` (experiments/cmd_report.c) with the venv's python.
Reads the HDF5 files alone.  Writes DIR atomically: everything is rendered
into a temporary directory beside DIR, which then replaces DIR.  Errors are
one line on stderr, "fp8lab report: ...", exit 2 for bad input (missing or
foreign files, missing Python packages) and 1 for failures of the
environment (I/O, a notebook that fails to execute).
"""
import argparse
import glob
import math
import os
import shutil
import signal
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cells  # noqa: E402

PROG = "fp8lab report"
NEEDED = ["numpy", "h5py", "matplotlib", "nbformat", "nbclient", "ipykernel"]
SCHEMA = "fp8lab-results/"

HELP = """usage: fp8lab report [--out-dir DIR] [RESULTS...]

Render results files (the HDF5 files of fp8lab's runners, see
docs/results-format.md) from the files alone: one executed Jupyter notebook
per file (DIR/<name>.ipynb, its outputs and PNG plots embedded so it reads
without running; the cells read the file with h5py and plot with matplotlib),
the plots as DIR/<name>-<plot>.png, and DIR/README.md indexing them with the
key tables in Markdown and each run's provenance (command line, commit,
seed, times). Plots by runner: accum (error vs vector length per chunk size,
format and rounding), sqnr (SQNR per format and distribution), hopper-accum
(error vs K with and without promotion, beside the H100), reproduce (fp8lab
vs published); every file gets its tables with units and descriptions.

DIR is replaced as a whole: rendering goes to a temporary directory beside
it, renamed over it when complete, so a failed run leaves DIR as it was.
Needs the Python packages of requirements.txt in .venv/ (./scripts/setup).

  --out-dir DIR  output directory (default notebooks-out)
  RESULTS        results files (default results/*.h5)
  -h, --help     this text

example: fp8lab accum --out results/accum.h5 && fp8lab report
"""


def die(msg, code=2):
    sys.stderr.write("%s: %s\n" % (PROG, msg))
    sys.exit(code)


class Failure(Exception):
    """An error of the environment: exit 1."""


def check_packages():
    import importlib
    missing = []
    for p in NEEDED:
        try:
            importlib.import_module(p)
        except Exception:  # ImportError, or a broken install
            missing.append(p)
    if missing:
        die("missing Python packages %s (for %s); run ./scripts/setup"
            % (", ".join(missing), sys.executable))


def parse_args(argv):
    if any(a in ("-h", "--help") for a in argv):
        sys.stdout.write(HELP)
        sys.exit(0)

    class P(argparse.ArgumentParser):
        def error(self, message):
            die(message + " (see 'fp8lab report --help')")

    p = P(prog=PROG, add_help=False)
    p.add_argument("--out-dir", default="notebooks-out")
    p.add_argument("results", nargs="*")
    a = p.parse_args(argv)
    if not a.out_dir:
        die("--out-dir: empty directory name")
    return a


# ---- reading the results files ----------------------------------------------

H = {}  # the notebooks' helpers (cells.HELPERS), exec'd once the packages are there


def load(path):
    """Check one results file and read what the README needs."""
    import h5py
    if not os.path.exists(path):
        die("%s: no such file" % path)
    if os.path.isdir(path):
        die("%s: is a directory, not a results file" % path)
    if not os.access(path, os.R_OK):
        die("%s: cannot read it (permission denied)" % path)
    if not h5py.is_hdf5(path):
        die("%s: not an HDF5 file (not an fp8lab results file)" % path)
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        die("%s: cannot open it as HDF5: %s" % (path, e))
    with f:
        schema = H["attr_str"](f.attrs.get("schema", ""))
        if not schema.startswith(SCHEMA):
            die("%s: not an fp8lab results file (root attribute 'schema' is %r, "
                "want '%s1')" % (path, schema, SCHEMA))
        if "tables" not in f:
            die("%s: no /tables group (not a complete results file)" % path)
        info = {k: H["attr_str"](f.attrs.get(k, "")) for k in
                ("runner", "command_line", "git_commit", "fp8lab_version",
                 "seed", "threads", "start_time", "end_time", "schema")}
        info["path"] = path
        info["params"] = {k: H["attr_str"](v) for k, v in
                          (f["parameters"].attrs.items() if "parameters" in f else [])
                          if k != "description"}
        try:
            info["tables"] = {n: H["read_table"](f, n) for n in f["tables"]}
        except (KeyError, OSError, IndexError) as e:
            die("%s: malformed table: %s" % (path, e))
    return info


# ---- notebooks ----------------------------------------------------------------

def build_notebook(info, rel, stem):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    runner = info["runner"] or "?"
    md = ["# %s: `%s`" % (runner, os.path.basename(info["path"])),
          "",
          "Rendered by `fp8lab report` from `%s` alone; the cells read it "
          "with h5py and plot with matplotlib (Agg). Provenance:" % rel,
          "",
          "- command line: `%s`" % info["command_line"],
          "- fp8lab %s, commit `%s`" % (info["fp8lab_version"], info["git_commit"]),
          "- seed %s, threads %s; %s to %s" % (info["seed"], info["threads"],
                                               info["start_time"], info["end_time"])]
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells.append(new_markdown_cell("\n".join(md)))
    nb.cells.append(new_code_cell(cells.HELPERS.strip() + "\n" +
                                  cells.SETUP.format(path=rel, stem=stem).rstrip()))
    nb.cells.append(new_markdown_cell("## Provenance and parameters"))
    nb.cells.append(new_code_cell(cells.PROVENANCE.strip()))
    for title, src in cells.plot_cells(runner, list(info["tables"])):
        nb.cells.append(new_markdown_cell("## " + title))
        nb.cells.append(new_code_cell(src.strip()))
    for name, t in info["tables"].items():
        nb.cells.append(new_markdown_cell("## Table `%s`\n\n%s" % (name, t["description"])))
        nb.cells.append(new_code_cell(cells.TABLE.format(name=name).strip()))
    nb.cells.append(new_code_cell("f.close()"))
    nbformat.validate(nb)
    return nb


def execute(nb, cwd, path):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    try:
        with open(os.devnull, "w") as null:  # the kernel's chatter on stderr
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": cwd}}).execute(stderr=null)
    except CellExecutionError as e:
        last = [l for l in str(e).splitlines() if l.strip()]
        raise Failure("%s: a notebook cell failed: %s" % (path, last[-1] if last else e))
    except Exception as e:  # the kernel would not start, died, timed out
        # nbclient answers SIGINT / SIGTERM by shutting the kernel down:
        # the execution then fails here, and the caller cleans up.
        raise Failure("%s: cannot execute the notebook (kernel stopped, or "
                      "interrupted): %s%s" % (path, type(e).__name__,
                                              (": " + str(e).splitlines()[0]) if str(e).strip() else ""))


# ---- README.md ---------------------------------------------------------------

def md_cell(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def md_table(header, rows):
    out = ["| " + " | ".join(md_cell(h) for h in header) + " |",
           "| " + " | ".join("---" for _ in header) + " |"]
    out += ["| " + " | ".join(md_cell(c) for c in r) + " |" for r in rows]
    return out


def md_full(t, max_rows=40):
    """A whole table, or None when it is longer than max_rows."""
    if t["nrows"] > max_rows or not t["columns"]:
        return None
    def fmt(v):  # full precision: these are the numbers to compare
        if isinstance(v, float) and math.isfinite(v) and v != int(v):
            return "%.10g" % v
        return H["fmt_num"](v)
    hdr = ["%s [%s]" % (c, t["units"][c]) if t["units"][c] not in ("", "1") else c
           for c in t["columns"]]
    return md_table(hdr, [[fmt(t["data"][c][i]) for c in t["columns"]]
                          for i in range(t["nrows"])])


def pivot(t, rows, col, val, sel=None, mark=None, fmt=None):
    """Markdown pivot: one row per distinct `rows` tuple, one column per
    distinct value of `col`, cells val (mean over repeats); `mark` a u8
    column whose rows get a dagger."""
    import numpy as np
    d = t["data"]
    n = t["nrows"]
    sel = np.ones(n, bool) if sel is None else sel
    fmt = fmt or (lambda v: "%.3g" % v)
    keys = H["uniq"]([tuple(d[r][i] for r in rows) for i in np.where(sel)[0]])
    rank = [{v: k for k, v in enumerate(H["uniq"](d[r][sel]))} for r in rows]
    keys.sort(key=lambda k: [rank[j][v] for j, v in enumerate(k)])
    cvals = H["uniq"](d[col][sel])
    if d[col].dtype.kind in "iuf":
        cvals = sorted(cvals)
    out = []
    for k in keys:
        s = sel.copy()
        for r, v in zip(rows, k):
            s &= d[r] == v
        cellv = []
        for cv in cvals:
            s2 = s & (d[col] == cv)
            v = d[val][s2].astype(float)
            if not len(v):
                cellv.append("")
                continue
            m = float(np.nanmean(v)) if np.isfinite(v).any() else float(v[0])
            txt = H["fmt_num"](m) if not np.isfinite(m) or m == 0 else fmt(m)
            if mark and d[mark][s2].any():
                txt += " †"
            cellv.append(txt)
        out.append([H["fmt_num"](x) for x in k] + cellv)
    return [str(r) for r in rows] + ["%s=%s" % (col, H["pow2_label"](v) if not isinstance(v, str) else v)
                                     for v in cvals], out


def key_tables(info):
    """Markdown lines: the key tables of one results file."""
    import numpy as np
    runner, tabs = info["runner"], info["tables"]
    lines = []
    if runner == "accum" and "accum" in tabs:
        t = tabs["accum"]
        d = t["data"]
        if t["nrows"]:
            nmax = int(d["length"].max())
            sel = d["length"] == nmax
            rl = np.array(["%s/%db" % (r, b) if b else r
                           for r, b in zip(d["round"], d["sr_bits"])], dtype=object)
            t2 = dict(t, data=dict(d, round=rl))
            hdr, rows = pivot(t2, ["op", "dist", "format", "round"], "chunk",
                              "mean_rel_err", sel=sel, mark="stagnated")
            lines += ["Mean relative error |s − S| / |S| at the longest length, "
                      "n = %s (%s trials), per chunk length (chunk=1: no chunking); "
                      "† = some trial stagnated:" % (H["pow2_label"](nmax),
                                                     H["fmt_num"](d["trials"][0])), ""]
            lines += md_table(hdr, rows) + [""]
        return lines
    if runner == "sqnr":
        for name, t in tabs.items():
            d = t["data"]
            fc = H["find_col"](t, "format", "fmt")
            dc = H["find_col"](t, "dist", "distribution", "data")
            ms = [c for c in t["columns"] if d[c].dtype.kind == "f" and t["units"][c] == "dB"]
            if not (fc and dc and ms):
                continue
            others = [c for c in t["columns"] if d[c].dtype.kind not in "iuf"
                      and c not in (fc, dc) and len(H["uniq"](d[c])) > 1]
            for m in ms:
                hdr, rows = pivot(t, others + [fc], dc, m, fmt=lambda v: "%.2f" % v)
                lines += ["`%s` (%s) [%s] per format and distribution:" %
                          (m, t["desc"][m], t["units"][m]), ""]
                lines += md_table(hdr, rows) + [""]
        if lines:
            return lines
    if runner == "hopper-accum":
        for name, t in tabs.items():
            d = t["data"]
            kc = H["find_col"](t, "k", "K")
            if not kc or d[kc].dtype.kind not in "iu":
                continue
            pc = H["find_col"](t, "promotion", "promote", "promoted", "n_c", "nc",
                               contains=("promot",))
            others = [c for c in t["columns"] if d[c].dtype.kind not in "iuf"
                      and len(H["uniq"](d[c])) > 1]
            ms = [c for c in t["columns"] if d[c].dtype.kind == "f" and c != pc
                  and any(s in c.lower() for s in ("err", "rel"))][:2]
            rows_k = others + ([pc] if pc and pc not in others else [])
            for m in ms:
                hdr, rows = pivot(t, rows_k, kc, m)
                lines += ["`%s` / `%s` (%s) vs K:" % (name, m, t["desc"][m]), ""]
                lines += md_table(hdr, rows) + [""]
        if lines:
            return lines
    if runner == "scaling" and "scaling" in tabs:
        t = tabs["scaling"]
        d = t["data"]
        if t["nrows"]:
            lab = np.array(["%s/%s" % (r, s) + ("/h%d/%s" % (h, a) if r == "delayed" else "")
                            for r, s, h, a in zip(d["recipe"], d["scale"], d["history"],
                                                  d["amax_algo"])], dtype=object)
            df = np.array(["%s/%s" % (x, y) for x, y in zip(d["dist"], d["format"])], dtype=object)
            t2 = dict(t, data=dict(d, recipe=lab, **{"dist/format": df}))
            hdr, rows = pivot(t2, ["recipe"], "dist/format", "sqnr_db", fmt=lambda v: "%.2f" % v)
            hdr[0] = "recipe/scale(/history/amax)"
            lines += ["SQNR over all steps [dB] per scaling recipe (Inf: every value "
                      "recovered); overflow and underflow counts in the notebook:", ""]
            lines += md_table(hdr, rows) + [""]
        if "bias_sweep" in tabs and tabs["bias_sweep"]["nrows"]:
            t = tabs["bias_sweep"]
            d = t["data"]
            rows = []
            for dist, fm in H["uniq"]([(x, y) for x, y in zip(d["dist"], d["format"])]):
                s = (d["dist"] == dist) & (d["format"] == fm)
                a = np.where(s & (d["mode"] == "amax"))[0]
                c = np.where(s & (d["mode"] == "constant"))[0]
                row = [dist, fm]
                row += ["%.2f" % d["mean_sqnr_db"][a[0]] if len(a) else ""]
                if len(c):
                    best = c[np.nanargmax(d["mean_sqnr_db"][c].astype(float))]
                    row += ["%.2f" % d["mean_sqnr_db"][best], H["fmt_num"](d["bias"][best])]
                else:
                    row += ["", ""]
                rows.append(row)
            lines += ["Bias sweep (Graphcore FP8-AMAX vs FP8-CSCALE): mean SQNR [dB] "
                      "with per-tensor amax scales vs the best constant scale 2^b:", ""]
            lines += md_table(["dist", "format", "amax", "best constant", "its b"], rows) + [""]
        if lines:
            return lines
    if runner.startswith("reproduce") and "reproduce" in tabs:
        t = tabs["reproduce"]
        d = t["data"]
        ref = d["reference"].astype(float)
        idx = [i for i in range(t["nrows"]) if np.isfinite(ref[i])]
        cols = ["name", "reference", "fp8lab", "difference"]
        if t["nrows"] <= 12:
            idx, cols = list(range(t["nrows"])), cols + ["source"]
        lines += ["%s: %d result%s, %d with a published value%s:" % (
            t["description"], t["nrows"], "" if t["nrows"] == 1 else "s",
            int(np.isfinite(ref).sum()),
            "" if len(idx) <= 60 else " (the first 60 here, all in the notebook)"), ""]
        sub = dict(t, nrows=min(len(idx), 60),
                   data={c: d[c][idx[:60]] for c in cols}, columns=cols)
        lines += (md_full(sub, max_rows=60) or []) + [""]
        return lines
    for name, t in tabs.items():  # every runner: the short tables in full
        full = md_full(t)
        if full:
            lines += ["Table `%s`: %s" % (name, t["description"]), ""] + full + [""]
        else:
            lines += ["Table `%s`: %d rows (%s); see the notebook." %
                      (name, t["nrows"], ", ".join(t["columns"])), ""]
    return lines


def readme(entries, out_dir):
    L = ["# fp8lab results", "",
         "Rendered by `fp8lab report` from %d results file%s "
         "(docs/results-format.md); each notebook is executed, its plots "
         "embedded, and reads the HDF5 file alone. Regenerate with "
         "`fp8lab report --out-dir %s %s`." %
         (len(entries), "" if len(entries) == 1 else "s", out_dir,
          " ".join(e["rel_cwd"] for e in entries)), ""]
    L += md_table(["notebook", "runner", "results file", "rows", "commit", "finished"],
                  [["[%s](%s)" % (e["nb"], e["nb"]), e["runner"], "`%s`" % e["rel_cwd"],
                    sum(t["nrows"] for t in e["tables"].values()),
                    "`%s`" % e["git_commit"][:12] + ("-dirty" if e["git_commit"].endswith("-dirty") else ""),
                    e["end_time"]] for e in entries])
    L.append("")
    for e in entries:
        L += ["## %s: `%s`" % (e["runner"], e["rel_cwd"]), "",
              "Notebook [%s](%s)." % (e["nb"], e["nb"]), "",
              "- command line: `%s`" % e["command_line"],
              "- fp8lab %s, commit `%s`" % (e["fp8lab_version"], e["git_commit"]),
              "- seed %s, threads %s; %s to %s" % (e["seed"], e["threads"],
                                                   e["start_time"], e["end_time"]),
              ""]
        try:
            L += key_tables(e)
        except Exception as x:  # a runner's schema moved on: say so, go on
            L += ["(key tables not rendered: %s: %s; see the notebook)" %
                  (type(x).__name__, x), ""]
        for png in e["pngs"]:
            L += ["![%s](%s)" % (png, png), ""]
    return "\n".join(L).rstrip() + "\n"


# ---- main ---------------------------------------------------------------------

def main(argv):
    a = parse_args(argv)
    check_packages()
    exec(cells.HELPERS, H)
    paths = a.results
    if not paths:
        paths = sorted(glob.glob(os.path.join("results", "*.h5")))
        if not paths:
            die("no results files: results/*.h5 matches nothing (run a runner "
                "such as 'fp8lab accum' first, or name the files)")
    infos = [load(p) for p in paths]

    out = os.path.abspath(a.out_dir)
    parent = os.path.dirname(out)
    if os.path.exists(out) and not os.path.isdir(out):
        die("--out-dir %s: exists and is not a directory" % a.out_dir)
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix="." + os.path.basename(out) + ".tmp.", dir=parent)
    except OSError as e:
        die("--out-dir %s: cannot create a directory beside it: %s" % (a.out_dir, e.strerror), 1)

    def on_signal(sig, frame):
        INTERRUPTED.append(sig)
        raise KeyboardInterrupt
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    import json
    import nbformat
    os.environ["MPLBACKEND"] = "Agg"
    # The kernel is this python (the venv's), whatever kernelspecs the user
    # has: a private kernelspec first on JUPYTER_PATH; connection files and
    # IPython's profile in the same private directory, not in $HOME.
    private = tempfile.mkdtemp(prefix="fp8lab-report-")
    spec = os.path.join(private, "kernels", "python3")
    os.makedirs(spec)
    with open(os.path.join(spec, "kernel.json"), "w") as fp:
        json.dump({"argv": [sys.executable, "-m", "ipykernel_launcher", "-f",
                            "{connection_file}"],
                   "display_name": "Python 3", "language": "python"}, fp)
    os.environ["JUPYTER_PATH"] = private
    os.environ["JUPYTER_RUNTIME_DIR"] = os.path.join(private, "runtime")
    os.environ["IPYTHONDIR"] = os.path.join(private, "ipython")
    ok = False
    try:
        stems = set()
        for info in infos:
            stem = os.path.splitext(os.path.basename(info["path"]))[0] or "results"
            base, n = stem, 2
            while stem in stems:
                stem, n = "%s-%d" % (base, n), n + 1
            stems.add(stem)
            rel = os.path.relpath(os.path.abspath(info["path"]), out)
            nb = build_notebook(info, rel, stem)
            # executed in tmp, a sibling of out: the relative path holds for both
            before = set(os.listdir(tmp))
            execute(nb, tmp, info["path"])
            info["pngs"] = sorted(p for p in set(os.listdir(tmp)) - before
                                  if p.endswith(".png"))
            info["nb"] = stem + ".ipynb"
            info["rel_cwd"] = os.path.relpath(info["path"])
            nbformat.write(nb, os.path.join(tmp, info["nb"]))
        with open(os.path.join(tmp, "README.md"), "w", encoding="utf-8") as fp:
            fp.write(readme(infos, os.path.relpath(out)))
        os.chmod(tmp, 0o755)
        # Replace: out -> old, tmp -> out, remove old (two renames in one
        # directory; a reader sees the old or the new directory, whole).
        old = None
        if os.path.exists(out):
            old = tempfile.mkdtemp(prefix="." + os.path.basename(out) + ".old.", dir=parent)
            os.rename(out, os.path.join(old, "d"))
        try:
            os.rename(tmp, out)
        except OSError:
            if old:
                os.rename(os.path.join(old, "d"), out)
                os.rmdir(old)
            raise
        ok = True
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except Failure as e:
        if INTERRUPTED:
            raise KeyboardInterrupt
        die(str(e), 1)
    except OSError as e:
        die("%s: %s" % (e.filename or a.out_dir, e.strerror or e), 1)
    finally:
        shutil.rmtree(private, ignore_errors=True)
        if not ok:
            shutil.rmtree(tmp, ignore_errors=True)
    nfig = sum(len(i["pngs"]) for i in infos)
    print("%s: %d notebook%s, %d plot%s, README.md" %
          (os.path.relpath(out), len(infos), "" if len(infos) == 1 else "s",
           nfig, "" if nfig == 1 else "s"))
    return 0


INTERRUPTED = []

if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sig = INTERRUPTED[0] if INTERRUPTED else signal.SIGINT
        die("interrupted (signal %d): the output directory is left as it was" % sig,
            128 + sig)
