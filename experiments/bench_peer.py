#!/usr/bin/env python3
"""The peer side of `fp8lab bench convert`: numpy + ml_dtypes on the same data.

    bench_peer.py --n N --repeat R ROW...

ROW is encode:FORMAT (f32 -> FORMAT, ml_dtypes' cast: round to nearest even,
overflow to Inf or NaN, NaN sign kept) or decode:FORMAT:BITS (codes of a
BITS-wide FORMAT -> f32), with FORMAT an fp8lab format name.  The inputs are the ones fp8lab generates
(experiments/cmd_bench.c, bench_inputs): bit patterns from a 64-bit mix of the
element index, so both sides time the same values without a file between them.

Prints one line per row:

    row ROW SECONDS CHECKSUM     best of R, and sum(code[i] * (i % 65521 + 1))
                                 mod 2^64 over the output's integer codes
    row ROW none                 ml_dtypes has no such type

and first a line `peer numpy=V ml_dtypes=V`.  Exits 3 with `missing: why`
when numpy or ml_dtypes cannot be imported.
"""
import argparse
import sys
import time

try:
    import numpy as np
    import ml_dtypes
except ImportError as e:  # the caller reports this and goes on without a peer
    print(f"missing: {e}")
    sys.exit(3)

# fp8lab name -> numpy dtype (ml_dtypes' names are fp8lab's aliases)
DTYPES = {
    "e5m2": "float8_e5m2",
    "e4m3fn": "float8_e4m3fn",
    "e4m3": "float8_e4m3",
    "e3m4": "float8_e3m4",
    "e4m3fnuz": "float8_e4m3fnuz",
    "e5m2fnuz": "float8_e5m2fnuz",
    "e4m3b11fnuz": "float8_e4m3b11fnuz",
    "e3m2": "float6_e3m2fn",
    "e2m3": "float6_e2m3fn",
    "e2m1": "float4_e2m1fn",
    "e8m0": "float8_e8m0fnu",
    "bf16": "bfloat16",
}

MIX1 = np.uint64(0x9E3779B97F4A7C15)
MIX2 = np.uint64(0xBF58476D1CE4E5B9)
CHUNK = 1 << 22


def mix(i):
    """The 32-bit mix of element indices i (uint64 array), as bench_mix()."""
    h = i * MIX1
    h ^= h >> np.uint64(29)
    h *= MIX2
    return (h >> np.uint64(32)).astype(np.uint32)


def f32_inputs(n):
    """Sign, exponent field 112..135 (2^-15 .. 2^9), random fraction."""
    out = np.empty(n, dtype=np.uint32)
    for lo in range(0, n, CHUNK):
        h = mix(np.arange(lo, min(n, lo + CHUNK), dtype=np.uint64))
        exp = np.uint32(112) + ((h >> np.uint32(23)) & np.uint32(0xFF)) % np.uint32(24)
        out[lo:lo + len(h)] = (h & np.uint32(0x807FFFFF)) | (exp << np.uint32(23))
    return out.view(np.float32)


def code_inputs(n, width, bits):
    """Codes of a `bits`-wide format stored in `width` bytes: every code
    equally often, as bench_codes()."""
    out = np.empty(n, dtype=np.uint8 if width == 1 else np.uint16)
    mask = np.uint32((1 << bits) - 1)
    for lo in range(0, n, CHUNK):
        h = mix(np.arange(lo, min(n, lo + CHUNK), dtype=np.uint64))
        out[lo:lo + len(h)] = (h & mask).astype(out.dtype)
    return out


def checksum(codes):
    """sum(code[i] * (i % 65521 + 1)) mod 2^64 over unsigned integer codes."""
    total = np.uint64(0)
    for lo in range(0, len(codes), CHUNK):
        c = codes[lo:lo + CHUNK].astype(np.uint64)
        w = np.arange(lo, lo + len(c), dtype=np.uint64) % np.uint64(65521) + np.uint64(1)
        total += np.sum(c * w, dtype=np.uint64)
    return int(total)


def best_time(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("rows", nargs="*")
    a = ap.parse_args()
    print(f"peer numpy={np.__version__} ml_dtypes={ml_dtypes.__version__}", flush=True)
    x = None
    for row in a.rows:
        op, _, rest = row.partition(":")
        fmt, _, bits = rest.partition(":")
        name = DTYPES.get(fmt)
        if name is None or not hasattr(ml_dtypes, name) or op not in ("encode", "decode"):
            print(f"row {row} none", flush=True)
            continue
        dt = np.dtype(getattr(ml_dtypes, name))
        if op == "encode":
            if x is None:
                x = f32_inputs(a.n)
            out = np.empty(a.n, dtype=dt)  # the cast into a preallocated array
            secs = best_time(lambda: np.copyto(out, x, casting="unsafe"), a.repeat)
            codes = out.view(np.uint8 if dt.itemsize == 1 else np.uint16)
        else:
            src = code_inputs(a.n, dt.itemsize, int(bits or 8 * dt.itemsize)).view(dt)
            out = np.empty(a.n, dtype=np.float32)
            secs = best_time(lambda: np.copyto(out, src, casting="unsafe"), a.repeat)
            codes = out.view(np.uint32)
        print(f"row {row} {secs:.9f} {checksum(codes)}", flush=True)


if __name__ == "__main__":
    main()
