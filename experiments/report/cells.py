"""The code cells of the notebooks `fp8lab report` writes.

Each notebook reads its results file with h5py and plots with matplotlib
(Agg): the cells below are its whole code, so a notebook runs anywhere h5py,
numpy and matplotlib are installed, without fp8lab.  HELPERS is also
exec'd by render.py, which reads the files with the same functions.

Plots are chosen by the file's root attribute `runner`
(docs/results-format.md): accum (error vs vector length per chunk size, per
format and rounding), sqnr (SQNR per format and distribution),
hopper-accum (error vs K with and without promotion, beside the H100's
statistics when the file holds them), reproduce ID (fp8lab vs the published
value).  Every file, whatever its runner, gets its provenance and every
table with its columns' units and descriptions.
"""

HELPERS = r'''
import math
import h5py
import numpy as np


def attr_str(v):
    """An HDF5 attribute as text (bytes decoded, arrays comma-joined)."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray):
        return ",".join(attr_str(x) for x in v.tolist())
    if isinstance(v, (np.integer,)):
        return str(int(v))
    if isinstance(v, (np.floating,)):
        return repr(float(v))
    return str(v)


def read_table(f, name):
    """Table /tables/<name> as {column: numpy array} (strings as str), in
    the order of its 'columns' attribute, with units and descriptions."""
    g = f["tables"][name]
    cols = [c for c in attr_str(g.attrs.get("columns", "")).split(",") if c]
    if not cols:
        cols = list(g.keys())
    data, units, desc = {}, {}, {}
    for c in cols:
        d = g[c]
        a = d[()]
        if a.dtype.kind == "S":
            a = np.array([x.decode("utf-8", "replace") for x in a], dtype=object)
        elif a.dtype.kind == "O":
            a = np.array([attr_str(x) for x in a], dtype=object)
        data[c] = a
        units[c] = attr_str(d.attrs.get("units", ""))
        desc[c] = attr_str(d.attrs.get("description", ""))
    return {"name": name, "columns": cols, "data": data, "units": units,
            "desc": desc, "description": attr_str(g.attrs.get("description", "")),
            "nrows": len(data[cols[0]]) if cols else 0}


def uniq(a):
    """Distinct values in order of first appearance."""
    seen, out = set(), []
    for x in a.tolist() if isinstance(a, np.ndarray) else a:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def fmt_num(v):
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "Inf" if v > 0 else "-Inf"
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return "%.4g" % v
    if isinstance(v, (int, np.integer)):
        v = int(v)
        if v >= 1024 and v & (v - 1) == 0:
            return "2^%d" % (v.bit_length() - 1)
        return str(v)
    return str(v)


def text_table(t, cols=None, rows=None, max_rows=40):
    """A table as aligned text (first max_rows rows)."""
    cols = cols or t["columns"]
    idx = list(range(t["nrows"])) if rows is None else list(rows)
    more = len(idx) - max_rows
    idx = idx[:max_rows]
    cells = [[fmt_num(t["data"][c][i]) for c in cols] for i in idx]
    w = [max([len(c)] + [len(r[j]) for r in cells]) for j, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w[j]) for j, c in enumerate(cols))]
    lines += ["  ".join(r[j].ljust(w[j]) for j in range(len(cols))) for r in cells]
    if more > 0:
        lines.append("... %d more rows" % more)
    return "\n".join(lines)


def find_col(t, *names, contains=()):
    """The first column named one of names (case-insensitive), else the first
    whose name contains one of `contains`; None if none."""
    low = {c.lower(): c for c in t["columns"]}
    for n in names:
        if n.lower() in low:
            return low[n.lower()]
    for c in t["columns"]:
        if any(s in c.lower() for s in contains):
            return c
    return None


def is_num(t, c):
    return t["data"][c].dtype.kind in "iuf"


def pow2_label(v):
    v = int(v)
    return "2^%d" % (v.bit_length() - 1) if v >= 1024 and v & (v - 1) == 0 else str(v)
'''

# ---- the cells ---------------------------------------------------------------

SETUP = r'''
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from IPython.display import Image, display

RESULTS = {path!r}   # relative to this notebook
STEM = {stem!r}      # PNG plots are written as STEM-<name>.png next to it
f = h5py.File(RESULTS, "r")


def save_show(fig, name):
    """Write the figure next to the notebook and embed that PNG."""
    png = "%s-%s.png" % (STEM, name)
    fig.savefig(png, dpi=100, bbox_inches="tight")
    plt.close(fig)
    display(Image(filename=png))
    return png
'''

PROVENANCE = r'''
print("runner        ", attr_str(f.attrs.get("runner", "")))
for k in ("command_line", "fp8lab_version", "git_commit", "seed", "threads",
          "start_time", "end_time", "schema"):
    print("%-14s %s" % (k, attr_str(f.attrs.get(k, ""))))
print("\nparameters:")
for k, v in f["parameters"].attrs.items() if "parameters" in f else []:
    if k != "description":
        print("  %-22s %s" % (k, attr_str(v)))
'''

TABLE = r'''
t = read_table(f, {name!r})
print("table %s: %d rows. %s\n" % (t["name"], t["nrows"], t["description"]))
for c in t["columns"]:
    print("  %-18s [%s] %s" % (c, t["units"][c], t["desc"][c]))
print()
print(text_table(t, max_rows=25))
'''

ACCUM = r'''
# Error vs vector length, one line per chunk size (1 = no chunking), one
# panel per accumulator format (rows) and rounding (columns), one figure per
# op and distribution.  Exact sums (error 0) are drawn on the bottom line,
# overflows (Inf) on the top one; x marks configurations that stagnated.
t = read_table(f, "accum")
d = t["data"]
err = d["mean_rel_err"].astype(float)
pos = err[np.isfinite(err) & (err > 0)]
lo = 10.0 ** (math.floor(math.log10(pos.min())) - 1) if len(pos) else 1e-12
hi = 10.0 ** (math.ceil(math.log10(pos.max())) + 1) if len(pos) else 1.0
rlabel = np.array(["%s/%db" % (r, b) if b else r
                   for r, b in zip(d["round"], d["sr_bits"])], dtype=object)
for op in uniq(d["op"]):
    for dist in uniq(d["dist"][d["op"] == op]):
        sel = (d["op"] == op) & (d["dist"] == dist)
        fmts, rounds = uniq(d["format"][sel]), uniq(rlabel[sel])
        fig, axes = plt.subplots(len(fmts), len(rounds), squeeze=False,
                                 sharex=True, sharey=True,
                                 figsize=(4.0 * len(rounds) + 1, 2.8 * len(fmts) + 0.8))
        for i, fm in enumerate(fmts):
            for j, r in enumerate(rounds):
                ax = axes[i][j]
                s2 = sel & (d["format"] == fm) & (rlabel == r)
                for ch in sorted(uniq(d["chunk"][s2])):
                    s3 = np.where(s2 & (d["chunk"] == ch))[0]
                    s3 = s3[np.argsort(d["length"][s3])]
                    x = d["length"][s3]
                    y = np.where(err[s3] == 0, lo, np.where(np.isfinite(err[s3]), err[s3], hi))
                    line, = ax.plot(x, y, "o-", ms=3, label="no chunking" if ch == 1 else "chunk %d" % ch)
                    st = d["stagnated"][s3] != 0
                    if st.any():
                        ax.plot(x[st], y[st], "x", ms=8, color=line.get_color())
                ax.set_xscale("log", base=2)
                ax.set_yscale("log")
                ax.set_ylim(lo / 2, hi * 2)
                ax.axhline(lo, color="0.7", lw=0.6, ls=":")
                ax.axhline(hi, color="0.7", lw=0.6, ls=":")
                ax.grid(True, which="major", alpha=0.3)
                ax.set_title("%s, %s" % (fm, r), fontsize=9)
                if i == len(fmts) - 1:
                    ax.set_xlabel("vector length n")
                if j == 0:
                    ax.set_ylabel("mean relative error")
        axes[0][-1].legend(fontsize=7, loc="upper left")
        fig.suptitle("accum: %s of %s data, mean |s - S| / |S| over trials "
                     "(dotted: exact at the bottom, Inf at the top; x: stagnated)" % (op, dist), fontsize=10)
        fig.tight_layout()
        save_show(fig, "%s-%s" % (op, dist))
'''

SQNR = r'''
# SQNR per format and distribution: one grouped bar chart per metric column
# (SQNR in dB, -10 log10 MSE, ...), one figure per combination of the other
# label columns (scaling, single/dot, ...); repeated rows are averaged.
for name in f["tables"]:
    t = read_table(f, name)
    d = t["data"]
    fc = find_col(t, "format", "fmt")
    dc = find_col(t, "dist", "distribution", "data")
    metrics = [c for c in t["columns"] if d[c].dtype.kind == "f" and t["units"][c] == "dB"]
    if not fc or not metrics:
        continue
    others = [c for c in t["columns"] if not is_num(t, c) and c not in (fc, dc)
              and len(uniq(d[c])) > 1]
    combos = uniq([tuple(d[c][i] for c in others) for i in range(t["nrows"])]) or [()]
    for combo in combos:
        sel = np.ones(t["nrows"], bool)
        for c, v in zip(others, combo):
            sel &= d[c] == v
        fmts = uniq(d[fc][sel])
        dists = uniq(d[dc][sel]) if dc else [""]
        ncol = min(2, len(metrics))
        nrow = (len(metrics) + ncol - 1) // ncol
        fig, axes = plt.subplots(nrow, ncol, squeeze=False, sharey=True,
                                 figsize=(5.5 * ncol + 0.5, 3.2 * nrow + 0.6))
        w = 0.8 / max(1, len(fmts))
        for ax in axes.flat[len(metrics):]:
            ax.set_visible(False)
        for k, m in enumerate(metrics):
            ax = axes.flat[k]
            for a, fm in enumerate(fmts):
                ys = []
                for dist in dists:
                    s2 = sel & (d[fc] == fm) & ((d[dc] == dist) if dc else True)
                    v = d[m][s2].astype(float)
                    v = v[np.isfinite(v)]
                    ys.append(v.mean() if len(v) else np.nan)
                ax.bar(np.arange(len(dists)) + (a - (len(fmts) - 1) / 2) * w, ys, w, label=fm)
            ax.set_xticks(np.arange(len(dists)))
            ax.set_xticklabels(dists)
            ax.set_ylabel("%s [%s]" % (m, t["units"][m]))
            ax.grid(True, axis="y", alpha=0.3)
        axes.flat[0].legend(fontsize=7, ncol=3, loc="lower left")
        what = ", ".join("%s=%s" % (c, v) for c, v in zip(others, combo))
        fig.suptitle("sqnr: %s per format and distribution%s" % (name, (" (" + what + ")") if what else ""), fontsize=10)
        fig.tight_layout()
        save_show(fig, "-".join([name] + [str(v) for v in combo]).replace("/", "_"))
'''

HOPPER = r'''
# Error of FP8 GEMMs vs K under each model (cublaslt-fast: no promotion;
# cublaslt[:NC]: the FP22 partial promoted to f32 every NC of K), one panel
# per error statistic (rows) and input distribution (columns).  Dashed: the
# H100's cuBLASLt statistics (columns h100_<statistic>) where it measured
# them, in the colour of the model that stands for it.
for name in f["tables"]:
    t = read_table(f, name)
    d = t["data"]
    kc = find_col(t, "k", "K")
    if not kc or not is_num(t, kc):
        continue
    dc = find_col(t, "dist", "distribution")
    gc = find_col(t, "model", contains=("promot",))
    pc = find_col(t, "promote_k", contains=("promot",))
    metrics = [c for c in t["columns"] if d[c].dtype.kind == "f" and not c.startswith("h100")
               and any(s in c.lower() for s in ("err", "rel", "abs", "frob"))]
    if not metrics:
        continue
    dists = uniq(d[dc]) if dc else [""]
    fig, axes = plt.subplots(len(metrics), len(dists), squeeze=False, sharex=True,
                             figsize=(3.6 * len(dists) + 1, 2.6 * len(metrics) + 0.8))
    for j, dist in enumerate(dists):
        base = (d[dc] == dist) if dc else np.ones(t["nrows"], bool)
        for i, m in enumerate(metrics):
            ax = axes[i][j]
            for g in (uniq(d[gc][base]) if gc else [None]):
                idx = np.where(base & ((d[gc] == g) if gc else True))[0]
                idx = idx[np.argsort(d[kc][idx])]
                lab = str(g) if gc else m
                if pc and gc and d[pc].dtype.kind in "iu":
                    nc = int(d[pc][idx[0]])
                    lab += " (no promotion)" if nc <= 0 else " (promote every %d)" % nc
                y = d[m][idx].astype(float)
                ok = np.isfinite(y) & (y > 0)
                line, = ax.plot(d[kc][idx][ok], y[ok], "o-", ms=3, label=lab)
                hw = "h100_" + m
                if hw in d:
                    yh = d[hw][idx].astype(float)
                    okh = np.isfinite(yh) & (yh > 0)
                    if okh.any():
                        ax.plot(d[kc][idx][okh], yh[okh], "s--", ms=4, mfc="none",
                                color=line.get_color(), label="H100 beside " + str(g))
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.grid(True, alpha=0.3)
            ax.set_title("%s: %s" % (dist, m), fontsize=9)
            if i == len(metrics) - 1:
                ax.set_xlabel("K")
            if j == 0:
                ax.set_ylabel("%s [%s]" % (m, t["units"][m]), fontsize=8)
    axes[0][-1].legend(fontsize=6)
    fig.suptitle("hopper-accum: %s, error vs K with and without promotion "
                 "(dashed: H100 cuBLASLt)" % name, fontsize=10)
    fig.tight_layout()
    save_show(fig, name)
'''

SCALING = r'''
# Scaling recipes: SQNR over all steps per recipe variant, one panel per
# distribution and format; then the bias sweep: mean SQNR of the tensors
# vs the constant scale 2^b, beside the per-tensor amax scale (dashed).
if "scaling" in f["tables"]:
    t = read_table(f, "scaling")
    d = t["data"]
    lab = np.array(["%s/%s" % (r, s) + ("/h%d/%s" % (h, a) if r == "delayed" else "")
                    for r, s, h, a in zip(d["recipe"], d["scale"], d["history"], d["amax_algo"])],
                   dtype=object)
    panels = uniq([(x, y) for x, y in zip(d["dist"], d["format"])])
    labs = uniq(lab)
    fig, axes = plt.subplots(1, len(panels), squeeze=False, sharey=True,
                             figsize=(3.2 * len(panels) + 1, 0.22 * len(labs) + 1.8))
    for j, (dist, fm) in enumerate(panels):
        ax = axes[0][j]
        ys = []
        for l in labs:
            s = (d["dist"] == dist) & (d["format"] == fm) & (lab == l)
            v = d["sqnr_db"][s].astype(float)
            ys.append(v[0] if len(v) else np.nan)
        ys = np.array(ys)
        shown = np.where(np.isfinite(ys), ys, np.nan)
        ax.barh(np.arange(len(labs)), shown, color="tab:blue")
        for k, v in enumerate(ys):
            if np.isinf(v):
                ax.text(0, k, " exact (+Inf)", va="center", fontsize=6)
        ax.set_yticks(np.arange(len(labs)))
        ax.set_yticklabels(labs, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("SQNR [dB]")
        ax.set_title("%s, %s" % (dist, fm), fontsize=9)
        ax.grid(True, axis="x", alpha=0.3)
    fig.suptitle("scaling: SQNR over all steps per recipe/scale(/history/amax)", fontsize=10)
    fig.tight_layout()
    save_show(fig, "scaling")
if "bias_sweep" in f["tables"]:
    t = read_table(f, "bias_sweep")
    d = t["data"]
    panels = uniq([(x, y) for x, y in zip(d["dist"], d["format"])])
    fig, axes = plt.subplots(1, len(panels), squeeze=False, sharey=True,
                             figsize=(3.4 * len(panels) + 1, 3.2))
    for j, (dist, fm) in enumerate(panels):
        ax = axes[0][j]
        s = (d["dist"] == dist) & (d["format"] == fm)
        c = np.where(s & (d["mode"] == "constant"))[0]
        c = c[np.argsort(d["bias"][c])]
        ax.plot(d["bias"][c], d["mean_sqnr_db"][c], "o-", ms=3, label="constant 2^b (mean)")
        ax.plot(d["bias"][c], d["min_sqnr_db"][c], ":", label="constant 2^b (worst)")
        a = np.where(s & (d["mode"] == "amax"))[0]
        for q in a:
            ax.axhline(d["mean_sqnr_db"][q], color="tab:red", ls="--", label="per-tensor amax (mean)")
        ax.set_xlabel("log2 of the scale, b")
        ax.set_title("%s, %s" % (dist, fm), fontsize=9)
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("SQNR [dB]")
    axes[0][-1].legend(fontsize=7)
    fig.suptitle("scaling: one constant scale for all tensors vs per-tensor amax "
                 "(Graphcore FP8-CSCALE vs FP8-AMAX)", fontsize=10)
    fig.tight_layout()
    save_show(fig, "bias-sweep")
'''

REPRODUCE = r'''
# fp8lab against the published value: relative difference per result that
# has a reference (0 = reproduced exactly).
t = read_table(f, "reproduce")
d = t["data"]
ref, got = d["reference"].astype(float), d["fp8lab"].astype(float)
ok = np.isfinite(ref) & np.isfinite(got)
names = [n for n, k in zip(d["name"], ok) if k]
if names:
    rel = np.where(ref[ok] != 0, (got[ok] - ref[ok]) / np.abs(np.where(ref[ok] == 0, 1, ref[ok])), got[ok] - ref[ok])
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(names) + 1.2))
    colors = ["tab:green" if v == 0 else "tab:orange" for v in rel]
    ax.barh(np.arange(len(names)), rel, color=colors)
    ax.scatter(rel, np.arange(len(names)), c=colors, s=18, zorder=3)
    ax.set_yticks(np.arange(len(names)))
    ax.set_yticklabels(names, fontsize=7)
    ax.invert_yaxis()
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel("(fp8lab - reference) / |reference|")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title("%s: fp8lab vs published (green: exact)" % attr_str(f.attrs["runner"]), fontsize=10)
    fig.tight_layout()
    save_show(fig, "reproduce")
else:
    print("no result here has a published reference")
'''


def plot_cells(runner, tables):
    """The plot cells for a runner (root attribute) and its table names."""
    if runner == "accum" and "accum" in tables:
        return [("Error vs vector length, per chunk size, format and rounding", ACCUM)]
    if runner == "sqnr":
        return [("SQNR per format and distribution", SQNR)]
    if runner == "hopper-accum":
        return [("Error vs K, with and without promotion, beside the H100", HOPPER)]
    if runner == "scaling":
        return [("Scaling recipes: SQNR, and constant vs amax scales", SCALING)]
    if runner.startswith("reproduce") and "reproduce" in tables:
        return [("fp8lab vs the published values", REPRODUCE)]
    return []
