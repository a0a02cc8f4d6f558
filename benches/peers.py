#!/usr/bin/env python3
"""PyTorch and JAX on the workloads W1-W9 of benches/einsum.rs and benches/train_step.rs.

Forward: the einsum alone; forward+backward: the einsum and the gradients of every operand for a
random upstream gradient (torch.autograd.grad; jax.vjp under jit, returning the forward's result
too so that it is computed). W9: one SGD step (lr 0.01) of an MLP 784-256-10 with ReLU and mean
softmax cross-entropy on a batch of 64, its layers written as einsums (torch: autograd and an
in-place update; JAX: one jitted function returning the new parameters). f32, median µs over
rounds after a warm-up. A framework that is not installed is skipped with a note.

    python3 benches/peers.py [--threads N] [--rounds R] [--filter W4]
"""
import argparse
import statistics
import sys
import time

WORKLOADS = [
    ("W1", "ij,jk->ik", [(8, 8), (8, 8)]),
    ("W2", "ij,jk->ik", [(64, 64), (64, 64)]),
    ("W3", "ij,jk->ik", [(512, 512), (512, 512)]),
    ("W4", "bhqd,bhkd->bhqk", [(8, 8, 64, 32), (8, 8, 64, 32)]),
    ("W5", "bi,oi->bo", [(64, 784), (256, 784)]),
    ("W6a", "ii->", [(1024, 1024)]),
    ("W6b", "ij->j", [(1024, 1024)]),
    ("W7", "ij,jk,kl->il", [(64, 64), (64, 64), (64, 64)]),
    ("W8", "bi,oij,bj->bo", [(32, 32), (16, 32, 32), (32, 32)]),
]


def median_us(f, rounds, min_time=0.05):
    """Median µs per call of f over `rounds` rounds, each long enough to time."""
    f()
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            f()
        if time.perf_counter() - t >= min_time / 10 or n >= 1 << 20:
            break
        n *= 2
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(n):
            f()
        samples.append((time.perf_counter() - t) / n * 1e6)
    return statistics.median(samples)


def bench_torch(args):
    try:
        import torch
    except ImportError:
        print("torch: not installed, skipped", file=sys.stderr)
        return None
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    out = {}
    for wid, pat, shapes in WORKLOADS:
        if args.filter not in wid:
            continue
        xs = [torch.rand(s, generator=g, dtype=torch.float32, requires_grad=True) for s in shapes]
        with torch.no_grad():
            up = torch.rand(torch.einsum(pat, *xs).shape, generator=g)

        def fwd():
            return torch.einsum(pat, *xs)

        def fwdbwd():
            return torch.autograd.grad(torch.einsum(pat, *xs), xs, up)

        out[wid] = (median_us(fwd, args.rounds), median_us(fwdbwd, args.rounds))
    if args.filter in "W9":
        w1 = (torch.rand(256, 784, generator=g) * 2 - 1) / 28.0
        w2 = (torch.rand(10, 256, generator=g) * 2 - 1) / 16.0
        params = [p.requires_grad_() for p in (w1, torch.zeros(256), w2, torch.zeros(10))]
        x = torch.rand(64, 784, generator=g)
        y = torch.randint(0, 10, (64,), generator=g)

        def step():
            a, b1, c, b2 = params
            h = torch.relu(torch.einsum("bi,oi->bo", x, a) + b1)
            loss = torch.nn.functional.cross_entropy(torch.einsum("bi,oi->bo", h, c) + b2, y)
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for p, d in zip(params, grads):
                    p.sub_(0.01 * d)

        out["W9"] = (None, median_us(step, args.rounds))
    return out


def bench_jax(args):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        print("jax: not installed, skipped", file=sys.stderr)
        return None
    key = jax.random.PRNGKey(0)
    out = {}
    for wid, pat, shapes in WORKLOADS:
        if args.filter not in wid:
            continue
        keys = jax.random.split(key, len(shapes) + 1)
        xs = [jax.random.uniform(k, s, dtype=jnp.float32) for k, s in zip(keys, shapes)]
        f = jax.jit(lambda *a, p=pat: jnp.einsum(p, *a))
        up = jax.random.uniform(keys[-1], f(*xs).shape, dtype=jnp.float32)
        # the forward's result is returned with the gradients: otherwise XLA drops the forward,
        # which the gradients of a product do not need, and times the backward alone
        def fwd_bwd(u, *a, p=pat):
            y, pullback = jax.vjp(lambda *b: jnp.einsum(p, *b), *a)
            return y, pullback(u)

        g = jax.jit(fwd_bwd)

        def fwd():
            f(*xs).block_until_ready()

        def fwdbwd():
            jax.block_until_ready(g(up, *xs))

        out[wid] = (median_us(fwd, args.rounds), median_us(fwdbwd, args.rounds))
    if args.filter in "W9":
        k = jax.random.split(key, 4)
        params = (
            jax.random.uniform(k[0], (256, 784), minval=-1 / 28, maxval=1 / 28),
            jnp.zeros(256),
            jax.random.uniform(k[1], (10, 256), minval=-1 / 16, maxval=1 / 16),
            jnp.zeros(10),
        )
        x = jax.random.uniform(k[2], (64, 784))
        y = jax.random.randint(k[3], (64,), 0, 10)

        def loss(p):
            a, b1, c, b2 = p
            h = jax.nn.relu(jnp.einsum("bi,oi->bo", x, a) + b1)
            logp = jax.nn.log_softmax(jnp.einsum("bi,oi->bo", h, c) + b2)
            return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

        @jax.jit
        def update(p):
            return tuple(q - 0.01 * d for q, d in zip(p, jax.grad(loss)(p)))

        state = [params]

        def step():
            state[0] = update(state[0])
            jax.block_until_ready(state[0])

        out["W9"] = (None, median_us(step, args.rounds))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--filter", default="")
    args = ap.parse_args()
    results = {"torch": bench_torch(args), "jax": bench_jax(args)}
    results = {k: v for k, v in results.items() if v}
    if not results:
        print("no peer framework installed (pip install torch jax); nothing measured")
        return
    names = list(results)
    heads = {"torch": f"torch ({args.threads} thread(s)) fwd / fwd+bwd", "jax": "jax (XLA's default threads) fwd / fwd+bwd"}
    print("| workload (µs, median, f32) | " + " | ".join(heads[n] for n in names) + " |")
    print("|---|" + "---:|" * len(names))

    def num(v):
        return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"

    def cell(c):
        if c is None:
            return ""
        return f"{num(c[1])} (step)" if c[0] is None else f"{num(c[0])} / {num(c[1])}"

    for wid in [w for w, _, _ in WORKLOADS] + ["W9"]:
        cells = [results[n].get(wid) for n in names]
        if all(c is None for c in cells):
            continue
        print(f"| {wid} | " + " | ".join(cell(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
