"""tfg.GumbelSinkhorn against the same computation in raw TF ops.

Run by hand: `python benchmarks/gumbel_sinkhorn.py [--quick]`. Writes
benchmarks/results/gumbel_sinkhorn.md. For batches of `[B, N, N]` logits and a
scalar temperature 0.5, default `num_iters = 20`, times

- `sample`: construct `tfg.GumbelSinkhorn` + `sample(seed=...)`;
- `grad`: the gradient of `sum(sample**2)` w.r.t. logits and temperature
  (`cases._with_grad`, as for the other families);

eagerly, in `tf.function` and under XLA, against `raw`: the Gumbel noise and
the log-space Sinkhorn loop (a `tf.while_loop` of row and column logsumexps,
as a user would write it for XLA) inline, with no distribution object. The
timing (interleaved, median of repeats) is `benchmarks/harness.py`'s.
"""

import argparse
import os
import sys
import time

import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks import cases  # pylint: disable=g-import-not-at-top,wrong-import-position
from benchmarks import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
import tfp_gumbel as tfg  # pylint: disable=g-import-not-at-top,wrong-import-position

NUM_ITERS = 20
SIZES = [(1, 10), (100, 10), (32, 50), (8, 100)]
QUICK_SIZES = [(1, 10), (32, 50)]


def raw_sample(logits, t, seed, alg):
  u = tf.random.stateless_uniform(
      tf.shape(logits), seed=seed,
      minval=np.finfo(logits.dtype.as_numpy_dtype).tiny, maxval=1.,
      dtype=logits.dtype, alg=alg)
  x = (logits - tf.math.log(-tf.math.log(u))) / t

  def body(i, x):
    x = x - tf.reduce_logsumexp(x, axis=-1, keepdims=True)
    return i + 1, x - tf.reduce_logsumexp(x, axis=-2, keepdims=True)

  x = tf.while_loop(lambda i, x: i < NUM_ITERS, body, (0, x),
                    maximum_iterations=NUM_ITERS)[1]
  return tf.exp(x)


def ours_sample(logits, t, seed):
  return tfg.GumbelSinkhorn(t, logits, num_iters=NUM_ITERS).sample(seed=seed)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--quick", action="store_true")
  args = parser.parse_args()
  sizes = QUICK_SIZES if args.quick else SIZES
  repeats, min_time = (3, 0.05) if args.quick else (15, 0.2)
  start = time.time()
  rows = []
  for b, n in sizes:
    logits = tf.constant(np.random.RandomState(0).normal(size=(b, n, n)),
                         tf.float32)
    t = tf.constant(0.5)
    seed = tf.constant([0, 1], tf.int32)
    for mode in harness.MODES:
      alg = cases.raw_alg(mode)
      raw = lambda l, t, s, alg=alg: raw_sample(l, t, s, alg)
      for op, ours_fn, raw_fn in [("sample", ours_sample, raw),
                                  ("grad", cases._with_grad(ours_sample),
                                   cases._with_grad(raw))]:
        fns = {"ours": harness.compile_fn(ours_fn, mode),
               "raw": harness.compile_fn(raw_fn, mode)}
        ms, used = harness.time_interleaved(fns, (logits, t, seed), repeats,
                                            min_time, budget=40.)
        row = (f"| {op} | {mode} | {b} x {n} x {n} | {used} | "
               f"{ms['ours']:.3f} | {ms['raw']:.3f} | "
               f"{ms['ours'] / ms['raw']:.2f} |")
        rows.append((mode, ms["ours"] / ms["raw"]))
        print(row, flush=True)
        rows[-1] = rows[-1] + (row,)
  compiled = [r for r in rows if r[0] != "eager"]
  met = sum(ratio <= 1.1 for _, ratio, _ in compiled)
  report = "\n".join([
      "# GumbelSinkhorn vs raw TF ops",
      "",
      f"Machine: {harness.machine_description()}.",
      "",
      f"Command: `python benchmarks/gumbel_sinkhorn.py"
      f"{' --quick' if args.quick else ''}` "
      f"({(time.time() - start) / 60:.1f} min). `num_iters = {NUM_ITERS}`, "
      "temperature 0.5, one draw per batch member; median over repeats of "
      "back-to-back calls (harness.time_interleaved). The machine is shared: "
      "single cells can be noisy by tens of percent.",
      "",
      "| op | mode | B x N x N | reps | ours ms | raw ms | ours/raw |",
      "|---|---|---|---:|---:|---:|---:|",
      *[r[2] for r in rows],
      "",
      f"Target (tf.function and XLA within 1.1x of raw): {met} / "
      f"{len(compiled)} cells; worst compiled ratio "
      f"{max(r for _, r, _ in compiled):.2f}.",
      ""])
  print(report)
  if not args.quick:
    path = os.path.join(os.path.dirname(__file__), "results",
                        "gumbel_sinkhorn.md")
    with open(path, "w") as f:
      f.write(report)
    print(f"written: {path}")


if __name__ == "__main__":
  main()
