"""Kuzmin et al.'s compute_quant_error.py (Qualcomm-AI-research/FP8-quantization
@ede19a9) ported to numpy for uniform and Gaussian data: their samples
(np.random.seed(10)), their quantizers (quantize_to_fp8_ste_MM with float32
bias; SymmetricUniformQuantizer -128..127 with float32 step), their
LineSearchEstimator loss, their closed-form integrals (utils/distributions.py,
utils/grid.py) and dot-product formula.  The line search evaluates the
candidates within +-W of a given centre and every STRIDE-th one (the full
1000 x 5M would take an hour here); it reports whether the centre is the
least of those.
usage: python data/published/qualcomm_sqnr_port.py DIST EBITS CENTRE   (EBITS 0 = INT8)"""
import math
import sys
from itertools import product

import numpy as np

DIST, EB, CENTRE = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
W, STRIDE = 8, 50
N = 5000000

np.random.seed(10)
if DIST == "uniform":
    x = np.random.uniform(-1.0, 1.0, N)
    lo, hi = -1.0, 1.0
elif DIST == "student-t":
    x = np.clip(np.random.standard_t(8.0, size=N), -100.0, 100.0)
    lo, hi = -100.0, 100.0
else:
    x = np.clip(np.random.normal(loc=0.0, scale=1.0, size=N), -10.0, 10.0)
    lo, hi = -10.0, 10.0


def q_fp(x, maxval, mbits):
    maxval = np.float32(maxval)
    M = np.float32(mbits)
    E = np.float32(8 - 1) - M
    bias = np.float32(2) ** E - np.log2(maxval) + np.log2(np.float32(2) - np.float32(2) ** (-M)) - np.float32(1)
    bias = np.float64(np.float32(bias))
    xc = np.minimum(np.maximum(x, -np.float64(maxval)), np.float64(maxval))
    with np.errstate(divide="ignore"):
        ls = np.maximum(np.floor(np.log2(np.abs(xc)) + bias), 1.0)
    scales = 2.0 ** (ls - np.float64(M) - bias)
    return np.round(xc / scales) * scales


def q_int(x, t):
    xmin, xmax = np.float32(-t), np.float32(t)
    am = max(abs(xmin), xmax)
    delta = np.float32(am / np.float32(127.0))
    xi = np.clip(np.round(x / np.float64(delta)), -128, 127)
    return np.float64(delta) * xi


def quant(x, t):
    return q_int(x, t) if EB == 0 else q_fp(x, t, 7 - EB)


step = (max(abs(float(x.min())), float(x.max())) + 0.5) * 10.0 / 1000
cands = sorted(set(list(range(max(1, CENTRE - W), min(1000, CENTRE + W) + 1)) +
                   list(range(STRIDE, 1001, STRIDE))))
loss = {c: float(np.sum((x - quant(x, step * c)) ** 2)) for c in cands}
best = min(cands, key=lambda c: (loss[c], c))
T = float(np.float32(step * best))
if DIST == "student-t":  # closed forms need scipy's hyp2f1: the range only
    print("%s/e%d centre %d best %d (%s) range %.10g" % (DIST, EB, CENTRE, best,
          "centre is least" if best == CENTRE else "DIFFERENT", T))
    sys.exit(0)


def gen_fp(ebits):
    mb = 7 - ebits
    bias = 2 ** (ebits - 1)
    vals = []
    for S in (-1.0, 1.0):
        for e in range(2 ** ebits):
            for f in range(2 ** mb):
                sub = 1 if e - bias == -bias else 0
                vals.append(S * 2.0 ** (e - bias + sub) * (f / 2 ** mb + 1 - sub))
    return np.sort(np.array(vals))


if EB == 0:
    delta = np.float32(np.float32(T) / np.float32(127.0))
    grid = (delta * np.arange(-128, 128, dtype=np.float32)).astype(np.float64)
else:
    g = gen_fp(EB)
    grid = g / (np.max(np.abs(g)) / T)

rh, rhp = math.sqrt(0.5), math.sqrt(0.5 * math.pi)
const = 1 / math.sqrt(2 * math.pi)


def p_sqr_r(a, b, u):
    if DIST == "uniform":
        return (-(a ** 3 / 3.0) + b ** 3 / 3.0 + a ** 2 * u - b ** 2 * u - a * u ** 2 + b * u ** 2) * 0.5
    t1 = -(math.exp(-0.5 * a * a) * (-a + 2.0 * u) + (-rhp - rhp * u * u) * math.erf(-rh * a))
    t2 = (math.exp(-0.5 * b * b) * (-b + 2.0 * u) + (-rhp - rhp * u * u) * math.erf(-rh * b))
    return (t1 + t2) * const


def x_p_signed_r(a, b, x0):
    if DIST == "uniform":  # their UniformDistr formula (no factor x)
        return (0.5 * a ** 2 - 0.5 * b ** 2 + (b - a) * x0) * 0.5
    res = (x0 * (math.exp(a * (-0.5 * a)) - math.exp(b * (-0.5 * b)))
           + (math.exp(-0.5 * a * a) * (-a) + (-rhp) * math.erf(-rh * a))
           - (math.exp(-0.5 * b * b) * (-b) + (-rhp) * math.erf(-rh * b)))
    return res * const


def integrate(f, mass_term):
    res = 0.0
    if lo < grid[0]:
        res += f(lo, grid[0], grid[0])
    for i in range(len(grid) - 1):
        mid = 0.5 * (grid[i] + grid[i + 1])
        a1, b1 = max(grid[i], lo), min(mid, hi)
        a2, b2 = max(mid, lo), min(grid[i + 1], hi)
        if a1 < b1:
            res += f(a1, b1, grid[i])
        if a2 < b2:
            res += f(a2, b2, grid[i + 1])
    if hi > grid[-1]:
        res += f(grid[-1], hi, grid[-1])
    if DIST == "gauss":
        pm = 0.5 * math.erfc(10 / math.sqrt(2))
        qlo = grid[np.argmin(np.abs(lo - grid))]
        qhi = grid[np.argmin(np.abs(hi - grid))]
        res += mass_term(qlo, qhi, pm)
    return res


r2 = integrate(p_sqr_r, lambda ql, qh, pm: (ql - lo) ** 2 * pm + (qh - hi) ** 2 * pm)
xr = integrate(x_p_signed_r, lambda ql, qh, pm: lo * (ql - lo) * pm + hi * (qh - hi) * pm)
if DIST == "uniform":
    m2 = p_sqr_r(-1.0, 1.0, 0.0)
else:
    pm = 0.5 * math.erfc(10 / math.sqrt(2))
    m2 = 2 * pm * 100 + p_sqr_r(-10.0, 10.0, 0.0)
dot = 2 * r2 * m2 + 2 * xr * xr + r2 * r2 + 4 * r2 * xr
name = {5: "e5m2", 4: "e4m3", 3: "e3m4", 2: "e2m5", 0: "int8"}[EB]
print("%s/%s centre %d best %d (%s) range %.10g single %.10g dot %.10g" % (
    DIST, name, CENTRE, best, "centre is least" if best == CENTRE else "DIFFERENT",
    T, -10 * math.log10(r2), -10 * math.log10(dot)))
