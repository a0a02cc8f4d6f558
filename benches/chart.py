#!/usr/bin/env python3
"""Draws docs/benchmarks.png from the last `cargo bench --bench einsum` run: forward+backward
medians of einsum! and einsum() per workload (f32), next to the torch and jax figures of
benches/PEERS.md (2-thread table, measured on another machine, copied below by hand) and, when a
file of `benches/peers.py` output is given, the JAX figures measured beside ours.

Usage: python3 benches/chart.py [out.png] [peers-output.md]
(needs matplotlib; reads $CARGO_TARGET_DIR/criterion)
"""
import json
import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

root = Path(os.environ.get("CARGO_TARGET_DIR", "target")) / "criterion"
out = sys.argv[1] if len(sys.argv) > 1 else "docs/benchmarks.png"
# PEERS.md, 2 threads, fwd+bwd µs
peers = {
    "torch": {"W1": 59.0, "W2": 76.0, "W3": 4613, "W4": 413, "W5": 559, "W6a": 77.6, "W6b": 115, "W7": 227, "W8": 274},
    "jax": {"W1": 11.5, "W2": 35.0, "W3": 3045, "W4": 412, "W5": 362, "W6a": 131, "W6b": 89.1, "W7": 42.0, "W8": 56.0},
}
ours = {}
for est in root.glob("*/*/new/estimates.json"):
    meta = json.loads((est.parent / "benchmark.json").read_text())
    group, fid = meta["group_id"], meta["function_id"]
    if not group.endswith("_f32") or not fid.endswith("/fwdbwd"):
        continue
    ours.setdefault(fid.split("/")[0], {})[group[:-4]] = json.loads(est.read_text())["median"]["point_estimate"] / 1000
ws = ["W1", "W2", "W3", "W4", "W5", "W6a", "W6b", "W7", "W8"]
series = [("einsum!", ours.get("macro", {})), ("einsum()", ours.get("runtime", {})),
          ("torch (PEERS.md)", peers["torch"]), ("jax (PEERS.md)", peers["jax"])]
if len(sys.argv) > 2:
    # peers.py's table: a header naming the frameworks, then rows | W1 | 13.1 / 21.7 | ...
    # (only table lines: the output also has lines such as "torch: not installed, skipped")
    lines = [line for line in Path(sys.argv[2]).read_text().splitlines() if line.strip().startswith("|")]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    for fw in ("torch", "jax"):
        col = next((i for i, c in enumerate(rows[0]) if c.startswith(fw)), None) if rows else None
        if col is None:
            continue
        here = {r[0]: float(r[col].split("/")[1].replace(",", "")) for r in rows if r[0] in ws and "/" in r[col]}
        series.append((f"{fw} (peers.py, this run)", here))
fig, ax = plt.subplots(figsize=(12, 5))
width = 0.8 / len(series)
for i, (name, d) in enumerate(series):
    xs = [k + (i - (len(series) - 1) / 2) * width for k in range(len(ws))]
    ax.bar(xs, [d.get(w, 0) for w in ws], width, label=name)
ax.set_yscale("log")
ax.set_xticks(range(len(ws)))
ax.set_xticklabels(ws)
ax.set_ylabel("forward+backward, µs (median, log scale)")
ax.set_title("f32 forward+backward per call, 2 cores (PEERS.md: another machine and day)")
ax.legend()
ax.grid(axis="y", which="both", alpha=0.3)
fig.tight_layout()
fig.savefig(out, dpi=110)
print(out)
