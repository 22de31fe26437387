"""Speed of tfg.RelaxedPlackettLuce against the same computation in raw TF ops.

Run by hand: `python benchmarks/relaxed_plackett_luce.py [--quick]`. For each
(op, mode, size) it times, interleaved (benchmarks/harness.py):

- ours: `tfg.RelaxedPlackettLuce(t, scores).sample(seed=...)`, and for "grad"
  the sample's gradient with respect to the scores and the temperature;
- raw: Gumbel noise from `tf.random.stateless_uniform` and NeuralSort written
  inline (`softmax(((N - 1 - 2i) s - sum_k |s - s_k|) / t)`), the floor of
  what any implementation of the relaxation costs;
- tfp: `tfd.PlackettLuce(scores).sample` (the hard permutation, no relaxation,
  no gradient), for scale.

and writes benchmarks/results/relaxed_plackett_luce.md.
"""

import argparse
import os
import sys
import time

import tensorflow as tf
import tensorflow_probability as tfp

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks import harness  # pylint: disable=wrong-import-position
import tfp_gumbel as tfg  # pylint: disable=wrong-import-position

tfd = tfp.distributions
HEADER = ("| op | mode | batch x N | ours ms | raw ms | TFP hard ms "
          "| ours/raw |\n|---|---|---|---:|---:|---:|---:|")


def raw_sample(scores, t, seed):
  u = tf.random.stateless_uniform(tf.shape(scores), seed, minval=1e-38,
                                  maxval=1., alg="philox")
  s = tf.math.log(scores) - tf.math.log(-tf.math.log(u))
  n = scores.shape[-1]
  s = s - tf.reduce_mean(s, -1, keepdims=True)
  b = tf.reduce_sum(tf.abs(s[..., :, None] - s[..., None, :]), -1)
  w = (n - 1.) - 2. * tf.range(n, dtype=s.dtype)
  return tf.math.softmax((w[:, None] * s[..., None, :] - b[..., None, :]) / t)


def ours_sample(scores, t, seed):
  return tfg.RelaxedPlackettLuce(t, scores=scores).sample(seed=seed)


def tfp_sample(scores, t, seed):
  del t
  return tfd.PlackettLuce(scores).sample(seed=seed)


def with_grad(sample):
  def fn(scores, t, seed):
    with tf.GradientTape() as tape:
      tape.watch([scores, t])
      loss = tf.reduce_sum(sample(scores, t, seed) ** 2)
    return tape.gradient(loss, [scores, t])
  return fn


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--quick", action="store_true")
  args = parser.parse_args(argv)
  sizes = [(1, 10), (1000, 10), (100, 100)] if not args.quick else [(10, 5)]
  repeats, min_time = (7, 0.2) if not args.quick else (2, 0.01)
  start = time.time()
  rows = []
  for op in ("sample", "grad"):
    for mode in harness.MODES:
      for batch, n in sizes:
        scores = tf.random.stateless_uniform([batch, n], (0, 1), 0.1, 10.)
        t = tf.constant(0.5)
        seed = tf.constant([1, 2])
        impls = {"ours": ours_sample, "raw": raw_sample}
        if op == "sample":
          impls["tfp"] = tfp_sample
        else:
          impls = {k: with_grad(v) for k, v in impls.items()}
        fns = {k: harness.compile_fn(v, mode) for k, v in impls.items()}
        ms, _ = harness.time_interleaved(fns, (scores, t, seed), repeats,
                                         min_time)
        row = (f"| {op} | {mode} | {batch} x {n} | {ms['ours']:.3f} "
               f"| {ms['raw']:.3f} | "
               + (f"{ms['tfp']:.3f}" if "tfp" in ms else "-")
               + f" | {ms['ours'] / ms['raw']:.2f} |")
        print(row, flush=True)
        rows.append(row)
  text = "\n".join([
      "# RelaxedPlackettLuce speed", "",
      harness.machine_description(), "",
      f"`python benchmarks/relaxed_plackett_luce.py` ({time.time() - start:.0f} s;"
      f" median of {repeats} interleaved repeats of >= {min_time} s)", "",
      HEADER] + rows) + "\n"
  if not args.quick:
    harness.write_report(
        text, os.path.join(os.path.dirname(__file__), "results",
                           "relaxed_plackett_luce.md"))


if __name__ == "__main__":
  main()
