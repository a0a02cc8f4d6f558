#!/usr/bin/env python3
"""Prints the medians of the last `cargo bench --bench einsum` run as a table.

One row per workload and type (`W2_f32`), one column per `<implementation>/<pass>`: the library's
runtime/fwd, runtime/fwdbwd, runtime-array/fwd, macro/fwd and macro/fwdbwd, then the peers
ndarray/fwd, gemm/fwd, gemm/fwdbwd (the three products of a plain product's forward+backward),
ndarray-einsum/fwd and ndarray-einsum-path/fwd (the `ndarray-einsum`
crate, runtime-parsed and with its contraction path computed once), then any other column in the
order found. A cell is empty where an implementation does not run that workload.

Reads criterion's `<target>/criterion/<group>/<id>/new/{benchmark,estimates}.json`; the target
directory is $CARGO_TARGET_DIR or ./target. Usage: python3 benches/medians.py [filter]
"""
import json
import os
import sys
from pathlib import Path

root = Path(os.environ.get("CARGO_TARGET_DIR", "target")) / "criterion"
flt = sys.argv[1] if len(sys.argv) > 1 else ""
rows = {}
cols = []
for est in sorted(root.glob("*/*/new/estimates.json")):
    meta = json.loads((est.parent / "benchmark.json").read_text())
    group = meta["group_id"]
    impl, _, pas = meta["function_id"].partition("/")
    if flt not in f"{group}/{impl}/{pas}":
        continue
    med = json.loads(est.read_text())["median"]["point_estimate"] / 1000.0  # ns -> µs
    col = f"{impl}/{pas}"
    if col not in cols:
        cols.append(col)
    rows.setdefault(group, {})[col] = med


def fmt(x):
    return "" if x is None else (f"{x:,.0f}" if x >= 100 else f"{x:.3g}")


order = ["runtime/fwd", "runtime/fwdbwd", "runtime-array/fwd", "macro/fwd", "macro/fwdbwd", "ndarray/fwd", "gemm/fwd",
         "gemm/fwdbwd", "ndarray-einsum/fwd", "ndarray-einsum-path/fwd"]
cols = [c for c in order if c in cols] + [c for c in cols if c not in order]
print("| workload (µs, median) | " + " | ".join(cols) + " |")
print("|---|" + "---:|" * len(cols))
key = lambda g: (int("".join(ch for ch in g.split("_")[0][1:] if ch.isdigit())), g)
for g in sorted(rows, key=key):
    print(f"| {g} | " + " | ".join(fmt(rows[g].get(c)) for c in cols) + " |")
