#!/usr/bin/python3
"""data_order_ref.py — writes tests/fixtures/data_ref.json, the reference for tests/test_data.c.

Run with Debian's python3 (NumPy 1.24): /usr/bin/python3 tests/ref/data_order_ref.py

1. Data order: OLMo's IterableDataset semantics (spec training-and-eval.md §3c/§3d) computed with NumPy's own
   Generator(PCG64(seed + epoch)).shuffle, for a small dataset, world sizes 1..4, drop_last on and off, two epochs;
   plus a padding case with N < W. Each case stores the global order and every rank's batches.
2. Instance filter (spec §3f): the repetition detector written with NumPy (rows of `period`, np.roll comparison,
   runs of equal rows extended into the neighbouring rows), on random and constructed instances.
"""
import json
import math
import os

import numpy as np


def global_order(n, seed, epoch, world, drop_last):
    idx = np.arange(n, dtype=np.uint32)
    np.random.Generator(np.random.PCG64(seed + epoch)).shuffle(idx)
    if drop_last and n % world != 0:
        per_rank = math.ceil((n - world) / world)
    else:
        per_rank = math.ceil(n / world)
    total = per_rank * world
    if drop_last:
        return idx[:total]
    parts = [idx]
    missing = total - n
    while missing > 0:
        take = idx[:min(missing, n)]
        parts.append(take)
        missing -= len(take)
    return np.concatenate(parts)


def rank_batches(order, world, rank, batch, drop_last):
    stream = order[rank::world]
    per = batch // world
    out = [stream[i:i + per].tolist() for i in range(0, len(stream), per)]
    if drop_last and out and len(out[-1]) < per:
        out.pop()
    return out


def repetition_times(arr, max_period, min_period):
    """Yields the repeat count of every periodic run found (count > 2), as OLMo's filter defines runs."""
    n = len(arr)
    max_period = min(max_period, n // 3)
    for p in range(min_period, max_period + 1):
        padded = np.concatenate([arr.astype(np.int64), np.full(p - n % p, -1, dtype=np.int64)])
        rows = padded.reshape(-1, p)
        same = rows == np.roll(rows, 1, axis=0)
        full_rows = np.flatnonzero(same.all(axis=1))
        if full_rows.size == 0:
            continue
        for run in np.split(full_rows, np.flatnonzero(np.diff(full_rows) != 1) + 1):
            first, last = int(run[0]), int(run[-1])
            before = same[first - 1]
            tail = 0
            while tail < p and before[p - 1 - tail]:
                tail += 1
            start_extra = tail if 0 < tail < p else 0
            after = same[last + 1]
            head = 0
            while head < p and after[head]:
                head += 1
            start = (first - 1) * p - start_extra
            end = (last + 1) * p + head
            times = (end - start) // p
            if times > 2:
                yield times


def keep(arr, min_period, max_period, max_count):
    return all(t < max_count for t in repetition_times(arr, max_period, min_period))


def main():
    out = {"order": [], "filter": []}
    n = 49
    for world in (1, 2, 3, 4):
        for drop_last in (0, 1):
            for epoch in (0, 1):
                order = global_order(n, 6198, epoch, world, drop_last)
                out["order"].append({
                    "n": n, "seed": 6198, "epoch": epoch, "world": world, "drop_last": drop_last, "batch": 12,
                    "global": order.tolist(),
                    "ranks": [rank_batches(order, world, r, 12, drop_last) for r in range(world)],
                })
    order = global_order(3, 7, 0, 8, 0)
    out["order"].append({"n": 3, "seed": 7, "epoch": 0, "world": 8, "drop_last": 0, "batch": 8,
                         "global": order.tolist(), "ranks": [rank_batches(order, 8, r, 8, 0) for r in range(8)]})

    rng = np.random.default_rng(1234)
    t = 256
    cases = []
    for _ in range(6):
        cases.append(rng.integers(0, 50000, t))                     # random text: kept
    for period, reps, offset in [(1, 40, 0), (1, 31, 5), (1, 32, 17), (3, 32, 0), (3, 31, 1), (3, 33, 2),
                                 (7, 32, 3), (13, 19, 0), (2, 100, 11), (5, 32, 200 - 160), (4, 8, 0),
                                 (13, 32, 0)]:
        arr = rng.integers(0, 50000, t)
        unit = rng.integers(0, 50000, period)
        span = np.tile(unit, reps)
        arr[offset:offset + len(span)] = span[:t - offset]
        cases.append(arr)
    arr = np.zeros(t, dtype=np.int64)                               # all one token
    cases.append(arr)
    for arr in cases:
        out["filter"].append({
            "tokens": arr.tolist(),
            "keep_1_13_32": keep(arr, 1, 13, 32),
            "keep_1_13_10": keep(arr, 1, 13, 10),
            "keep_2_5_20": keep(arr, 2, 5, 20),
        })
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "fixtures", "data_ref.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
