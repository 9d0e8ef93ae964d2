#!/bin/sh
# tests/trace/validate_cli.sh: `fp8lab validate` from the outside: exit
# status (0 all match, 1 mismatches, 2 bad input), the one-line messages on
# stderr, and never an HDF5 error stack.  Needs FP8LAB_EXE and
# FP8LAB_DATA_DIR (set by meson test).
set -u
exe=${FP8LAB_EXE:?FP8LAB_EXE not set}
data=${FP8LAB_DATA_DIR:?FP8LAB_DATA_DIR not set}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fp8lab-validate-cli-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
n=0

# check NAME WANT_RC WANT_STREAM(out|err) WANT_TEXT ARGS...
check() {
  name=$1 want_rc=$2 stream=$3 text=$4
  shift 4
  n=$((n + 1))
  "$exe" validate "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  ok=1
  [ "$rc" -eq "$want_rc" ] || ok=0
  if [ -n "$text" ]; then
    grep -qF -- "$text" "$tmp/$stream" || ok=0
  fi
  if grep -q "HDF5-DIAG" "$tmp/out" "$tmp/err"; then ok=0; fi
  # errors are one line on stderr; a clean run writes nothing there
  if [ "$want_rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then ok=0; fi
  if [ "$want_rc" -ne 2 ] && [ -s "$tmp/err" ]; then ok=0; fi
  if [ "$ok" -eq 1 ]; then
    echo "ok $n - $name"
  else
    echo "not ok $n - $name (exit $rc, wanted $want_rc and '$text' on std$stream)"
    sed 's/^/#   out: /' "$tmp/out" | head -20
    sed 's/^/#   err: /' "$tmp/err" | head -20
    failures=$((failures + 1))
  fi
}

printf 'not HDF5\n' >"$tmp/text.h5"
: >"$tmp/empty.h5"
head -c 100000 "$data/wgmma_dev.h5" >"$tmp/truncated.h5"

check "help" 0 out "usage: fp8lab validate" --help
check "help lists the models" 0 out "hopper-wgmma-f16" --help
check "no file" 2 err "fp8lab validate: expected one TRACE.h5"
check "two files" 2 err "expected one TRACE.h5 (got 2" a.h5 b.h5
check "missing file" 2 err \
  "fp8lab validate: $tmp/nosuch.h5: cannot open: No such file or directory" \
  "$tmp/nosuch.h5"
check "not HDF5" 2 err "$tmp/text.h5: not an HDF5 file (no HDF5 signature" \
  "$tmp/text.h5"
check "empty file" 2 err "$tmp/empty.h5: empty file (0 bytes)" "$tmp/empty.h5"
check "directory" 2 err "$tmp: is a directory" "$tmp"
check "truncated HDF5" 2 err "$tmp/truncated.h5: cannot read as HDF5: truncated file" \
  "$tmp/truncated.h5"
check "unknown model" 2 err \
  "fp8lab validate: --model: unknown model 'nosuch' (auto, hopper-wgmma" \
  --model nosuch "$data/wgmma_dev.h5"
check "unknown group" 2 err \
  "$data/wgmma_chain_dev.h5: no group 'e4m3_e4m3/K100' (the file has 8: e4m3_e4m3/K64" \
  --group e4m3_e4m3/K100 "$data/wgmma_chain_dev.h5"
check "unknown output" 2 err "no output named 'D_nosuch' in the selected groups" \
  --output D_nosuch "$data/wgmma_dev.h5"
check "bad threads" 2 err "--threads: 'x' is not an integer" \
  --threads x "$data/wgmma_dev.h5"
check "bad option" 2 err "fp8lab validate: unknown option '--nosuch' (see --help)" \
  --nosuch "$data/wgmma_dev.h5"
check "option without value" 2 err "fp8lab validate: --model needs a value" \
  "$data/wgmma_dev.h5" --model
check "f16 output, f32 model" 2 err \
  "e4m3_e4m3/D holds f16 values, but model hopper-wgmma accumulates in f32" \
  --model hopper-wgmma "$data/wgmma_f16acc_dev.h5"
check "blockwise scales, promoting model" 2 err \
  "K128/D_blockwise_f32: model cublaslt: block-wise scales need a PROMOTE_FMA model" \
  --model cublaslt --group K128 --output D_blockwise_f32 "$data/scaled_gemm_dev.h5"
check "one group" 0 out \
  "total: 16384 checked, 16384 bit-exact, 0 mismatched (1 output in 1 group" \
  --group e4m3_e4m3/K128 "$data/wgmma_chain_dev.h5"
check "group and its subgroups" 0 out "(4 outputs in 4 groups" \
  --group /e4m3_e4m3/ "$data/wgmma_chain_dev.h5"
check "auto picks cublaslt-fast for D_fast" 0 out \
  "e4m3_e5m2/gauss/K512 D_fast [cublaslt-fast]: 1024 checked, 1024 bit-exact" \
  --group e4m3_e5m2/gauss/K512 "$data/scaled_mm_dev.h5"
check "wrong model: mismatches, exit 1" 1 out "first mismatch: e4m3_e4m3/gauss/K512 case 0" \
  --model cublaslt-fast --output D --group e4m3_e4m3/gauss/K512 "$data/scaled_mm_dev.h5"
check "wrong model: histogram" 1 out "  mismatches by ULP distance (f32):" \
  --model cublaslt-fast --output D --group e4m3_e4m3/gauss/K512 "$data/scaled_mm_dev.h5"
check "threads do not change the result" 0 out \
  "total: 884736 checked, 884736 bit-exact, 0 mismatched" \
  --threads 3 "$data/wgmma_dev.h5"

# `fp8lab help validate` is the same text as --help
"$exe" help validate >"$tmp/help" 2>&1
rc=$?
n=$((n + 1))
if [ "$rc" -eq 0 ] && grep -q "usage: fp8lab validate" "$tmp/help"; then
  echo "ok $n - fp8lab help validate"
else
  echo "not ok $n - fp8lab help validate"
  failures=$((failures + 1))
fi

echo "1..$n"
[ "$failures" -eq 0 ]
