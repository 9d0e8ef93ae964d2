"""Reference values of reproduce qualcomm-sqnr for Student-t data (nu = 8,
clipped to +-100, as Kuzmin et al.'s compute_quant_error.py draws it): the
expected squared error of a single quantized value and of one product x*y,
-10 log10 of each, by SciPy quadrature over the cells of each quantization
grid.  The grids are the authors' (all 256 codes finite, bias 2^(e-1);
INT8 -128..127 with a binary32 step), at the ranges their line search
returns (the student-t/*/range rows, which their numpy-ported script
reproduces).  Needs scipy (pip install scipy); not part of the test suite."""
import math
import numpy as np
from scipy import stats, integrate
ranges = {5: 42.84216309, 4: 23.83582115, 3: 15.89054775, 2: 9.970540047, 0: 8.256853104}
dist = stats.t(8.0)
def gen_fp(ebits):
    mb = 7 - ebits; bias = 2 ** (ebits - 1); vals = []
    for S in (-1.0, 1.0):
        for e in range(2 ** ebits):
            for f in range(2 ** mb):
                sub = 1 if e == 0 else 0
                vals.append(S * 2.0 ** (e - bias + sub) * (f / 2 ** mb + 1 - sub))
    return np.unique(np.array(vals))
for eb, T in ranges.items():
    T = float(np.float32(T))
    if eb == 0:
        d = np.float32(np.float32(T) / np.float32(127.0))
        grid = (d * np.arange(-128, 128, dtype=np.float32)).astype(np.float64)
    else:
        g = gen_fp(eb); grid = g / (np.max(np.abs(g)) / T)
    lo, hi = -100.0, 100.0
    edges = [lo] + [0.5 * (grid[i] + grid[i + 1]) for i in range(len(grid) - 1)] + [hi]
    r2 = 0.0; xr = 0.0
    for i in range(len(grid)):
        a, b = max(edges[i], lo), min(edges[i + 1], hi)
        if a >= b: continue
        q = grid[i]
        r2 += integrate.quad(lambda x: (x - q) ** 2 * dist.pdf(x), a, b, epsabs=1e-16, epsrel=1e-12, limit=200)[0]
        xr += integrate.quad(lambda x: x * (q - x) * dist.pdf(x), a, b, epsabs=1e-16, epsrel=1e-12, limit=200)[0]
    m2 = integrate.quad(lambda x: x * x * dist.pdf(x), lo, hi, limit=400)[0]
    dot = 2 * r2 * m2 + 2 * xr * xr + r2 * r2 + 4 * r2 * xr
    name = {5: "e5m2", 4: "e4m3", 3: "e3m4", 2: "e2m5", 0: "int8"}[eb]
    print("student-t/%s/single %.10g   dot %.10g" % (name, -10 * math.log10(r2), -10 * math.log10(dot)))
