"""Cost of `tfg.RelaxedTopK` against the same computation in raw TF ops.

Run by hand: `python benchmarks/relaxed_top_k.py` (a few minutes). For each
size `N x K` and subset size `k`, three operations are timed in eager mode,
`tf.function` and XLA (`jit_compile=True`), interleaved with the raw
implementation (see benchmarks/harness.py), float32, temperature 0.5:

- `sample`: construct `tfg.RelaxedTopK(t, k, logits)` + `sample(seed=...)`;
- `grad`: gradient of `sum(sample**2)` w.r.t. logits and temperature;
- `st`: the same gradient through `tfg.estimators.top_k_st` (the raw side
  adds `top_k` + straight-through to its relaxed sample).

The raw implementation writes the same numerically stable recursion inline:
Gumbel noise from TF's stateless uniform (the fastest generator per mode,
`benchmarks.cases.raw_alg`), then k steps of `log_softmax`, with `log(1 - a)`
as `log1p(-a)` off the argmax and the logsumexp of the others on it, in a
Python loop (no mask handling, no `while_loop`). Writes
benchmarks/results/relaxed_top_k.md. The target is compiled (tf.function and
XLA) within 1.1x of raw.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from benchmarks import cases  # pylint: disable=g-import-not-at-top,wrong-import-position
from benchmarks import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
import tfp_gumbel as tfg  # pylint: disable=g-import-not-at-top,wrong-import-position

RESULT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                      "relaxed_top_k.md")
SIZES = ((1, 10, 3), (1000, 10, 3), (100, 1000, 5), (100, 784, 50))
OPS = ("sample", "grad", "st")
TARGET = 1.1


def raw_relaxed_top_k(logits, t, seed, k, alg):
  """Xie & Ermon's relaxed top-k, stable form, inline raw ops."""
  u = tf.random.stateless_uniform(
      tf.shape(logits), seed=seed, minval=np.finfo(np.float32).tiny,
      maxval=1., dtype=logits.dtype, alg=alg)
  perturbed = logits - tf.math.log(-tf.math.log(u))
  alpha, khot = perturbed, 0.
  for j in range(k):
    log_a = tf.math.log_softmax(alpha / t)
    khot += tf.exp(log_a)
    if j < k - 1:
      top = tf.one_hot(tf.argmax(log_a, -1), tf.shape(log_a)[-1],
                       on_value=True, off_value=False)
      rest = tf.reduce_logsumexp(tf.where(top, -np.inf, log_a), -1,
                                 keepdims=True)
      alpha += tf.where(top, rest, tf.math.log1p(-tf.exp(
          tf.where(top, -1., log_a))))
  return perturbed, khot


def operations(impl, k, mode):
  """{op: fn(logits, t, seed)} for "ours" or "raw"."""
  alg = cases.raw_alg(mode)
  if impl == "ours":
    sample = lambda l, t, s: tfg.RelaxedTopK(t, k, logits=l).sample(seed=s)
    st = lambda l, t, s: tfg.estimators.top_k_st(l, k, t, seed=s)
  else:
    sample = lambda l, t, s: raw_relaxed_top_k(l, t, s, k, alg)[1]

    def st(l, t, s):
      perturbed, soft = raw_relaxed_top_k(l, t, s, k, alg)
      idx = tf.math.top_k(perturbed, k).indices
      hard = tf.reduce_max(tf.one_hot(idx, tf.shape(l)[-1]), axis=-2)
      return hard + (soft - tf.stop_gradient(soft))

  # The gradient of sum(x**2) w.r.t. logits and t, as for the other families.
  return {"sample": sample, "grad": cases._with_grad(sample),  # pylint: disable=protected-access
          "st": cases._with_grad(st)}  # pylint: disable=protected-access


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__)
  p.add_argument("--repeats", type=int, default=5)
  p.add_argument("--min-time", type=float, default=0.05)
  p.add_argument("--budget", type=float, default=4.)
  p.add_argument("--modes", nargs="+", default=list(harness.MODES))
  p.add_argument("--out", default=RESULT)
  args = p.parse_args(argv)
  machine = harness.machine_description()
  rows = []
  header = ("| N x K | k | op | mode | ours ms | raw ms | ours/raw |\n"
            "|---|---:|---|---|---:|---:|---:|")
  print(header)
  for n, num_classes, k in SIZES:
    rng = np.random.RandomState(0)
    logits = tf.constant(rng.normal(size=(n, num_classes)), tf.float32)
    t = tf.constant(0.5)
    seed = tf.constant([0, 1], tf.int32)
    for mode in args.modes:
      ops = {impl: operations(impl, k, mode) for impl in ("ours", "raw")}
      for op in OPS:
        fns = {impl: harness.compile_fn(ops[impl][op], mode)
               for impl in ("ours", "raw")}
        ms, _ = harness.time_interleaved(fns, (logits, t, seed), args.repeats,
                                         args.min_time, args.budget)
        row = (f"| {n} x {num_classes} | {k} | {op} | {mode} | "
               f"{ms['ours']:.3f} | {ms['raw']:.3f} | "
               f"{ms['ours'] / ms['raw']:.2f} |")
        rows.append((mode, ms["ours"] / ms["raw"], row))
        print(row, flush=True)
  compiled = [r for r in rows if r[0] != "eager"]
  met = sum(ratio <= TARGET for _, ratio, _ in compiled)
  summary = (f"Compiled cells (tf.function, XLA) within {TARGET}x of raw: "
             f"{met} / {len(compiled)}; worst "
             f"{max(r for _, r, _ in compiled):.2f}; median "
             f"{np.median([r for _, r, _ in compiled]):.2f}. Eager median "
             f"{np.median([r for m, r, _ in rows if m == 'eager']):.2f}.")
  print("\n" + summary)
  text = f"""# RelaxedTopK vs raw TF ops ({harness.now()})

Machine: {machine}.

Command: `python benchmarks/relaxed_top_k.py` (see its docstring for what is
timed). Median over {args.repeats} interleaved repeats, each the mean of
back-to-back calls lasting >= {args.min_time * 1e3:.0f} ms; float32,
temperature 0.5. The machine was shared with other jobs: single cells can be
noisy by tens of percent.

{summary}

{header}
{chr(10).join(r for _, _, r in rows)}
"""
  harness.write_report(text, args.out)
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
