"""float32 robustness of tfg.GumbelSoftmax vs tfd.RelaxedOneHotCategorical.

Run by hand: `python benchmarks/numerics.py`. Prints (and writes to
benchmarks/results/numerics.md) the count of non-finite log-probs on the same
held float32 samples for each temperature, the count of non-finite gradients,
and the maximum-likelihood recovery of (temperature, probs) from 10,000 held
samples with both implementations.
"""

import argparse
import os
import sys
import time

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
import tfp_gumbel as tfg  # pylint: disable=g-import-not-at-top
from tests import fitting  # pylint: disable=g-import-not-at-top

tfd = tfp.distributions
PROBS = fitting.SEED_000_PROBS
TEMPERATURES = [2., 1., 0.5, 0.1, 0.05, 0.01, 0.001]


def held(temperature, n):
  d = tfg.GumbelSoftmax(temperature, probs=PROBS)
  return tf.constant(d.sample(n, seed=(1, 2)).numpy())


def nonfinite_log_probs(n):
  rows = []
  for t in TEMPERATURES:
    x = held(t, n)
    counts = []
    for cls in (tfg.GumbelSoftmax, tfd.RelaxedOneHotCategorical):
      counts.append(int(np.sum(~np.isfinite(cls(t, probs=PROBS).log_prob(x)))))
    rows.append((t, *counts))
  return rows


MASKED_LOGITS = [-np.inf, 0., 1., 2.]
MASKED_TEMPERATURES = [10., 1., 0.1, 0.001]


def masked_classes(n):
  """Non-finite (and NaN) log_prob of each class's own n samples with an
  impossible class, logits [-inf, 0, 1, 2]: tfg vs tfd, both families."""
  rows = []
  for t in MASKED_TEMPERATURES:
    for ours, theirs in ((tfg.GumbelSoftmax, tfd.RelaxedOneHotCategorical),
                         (tfg.ExpRelaxedGumbelSoftmax,
                          tfd.ExpRelaxedOneHotCategorical)):
      counts = []
      for cls in (ours, theirs):
        d = cls(t, logits=MASKED_LOGITS)
        lp = d.log_prob(d.sample(n, seed=(1, 2))).numpy()
        counts.append((int(np.sum(~np.isfinite(lp))), int(np.sum(np.isnan(lp)))))
      rows.append((t, ours.__name__, theirs.__name__, *counts))
  return rows


def nonfinite_gradients(n):
  """Non-finite entries of d(-mean log_prob)/d(logits, t) on held samples,
  and of d(sum(sample * w))/d(logits, t), at |logits| up to 1e3."""
  rows = []
  for t in (1., 0.1, 1e-3):
    for scale in (1., 1e3):
      logits0 = scale * np.array([1., -1., 0.5, -0.3], np.float32)
      x = tf.constant(tfg.GumbelSoftmax(t, logits=logits0)
                      .sample(n, seed=(1, 2)).numpy())
      counts = []
      for cls in (tfg.GumbelSoftmax, tfd.RelaxedOneHotCategorical):
        logits, temp = tf.Variable(logits0), tf.Variable(t)
        with tf.GradientTape(persistent=True) as tape:
          d = cls(temp, logits=logits)
          lp = -tf.reduce_mean(d.log_prob(x))
          s = tf.reduce_sum(d.sample(n, seed=(3, 4)) * [1., 2., 3., 4.])
        bad = sum(int(np.sum(~np.isfinite(g.numpy())))
                  for loss in (lp, s)
                  for g in tape.gradient(loss, [logits, temp]))
        counts.append(bad)
      rows.append((t, scale, *counts))
  return rows


def recovery(n, steps):
  rows = []
  for cls, ts, exp in ((tfg.GumbelSoftmax, (0.1, 0.5, 1., 2.), False),
                       (tfg.ExpRelaxedGumbelSoftmax, (0.01, 0.1, 1.), True),
                       (tfd.RelaxedOneHotCategorical, (0.1, 0.5), False)):
    for t in ts:
      data = held(t, n)
      if exp:
        data = tf.constant(tfg.ExpRelaxedGumbelSoftmax(t, probs=PROBS)
                           .sample(n, seed=(1, 2)).numpy())
      start = time.perf_counter()
      t_err, p_err = fitting.mle_recovery(cls, t, data, steps=steps)
      rows.append((cls.__name__, t, t_err, p_err, time.perf_counter() - start))
  return rows


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--n", type=int, default=10_000)
  parser.add_argument("--steps", type=int, default=1500)
  parser.add_argument("--out", default=os.path.join(
      os.path.dirname(__file__), "results", "numerics.md"))
  args = parser.parse_args()
  lines = [f"Non-finite log_prob on {args.n} held float32 samples, "
           f"probs={PROBS}", "",
           "| temperature | tfg.GumbelSoftmax | tfd.RelaxedOneHotCategorical |",
           "|---|---|---|"]
  lines += [f"| {t} | {a} | {b} |" for t, a, b in nonfinite_log_probs(args.n)]
  lines += ["", f"Impossible class: logits {MASKED_LOGITS}, non-finite (NaN) "
            f"log_prob of each class's own {args.n} samples", "",
            "| temperature | tfg class | tfg | tfd class | tfd |",
            "|---|---|---|---|---|"]
  lines += [f"| {t} | {a} | {ca[0]} ({ca[1]}) | {b} | {cb[0]} ({cb[1]}) |"
            for t, a, b, ca, cb in masked_classes(args.n)]
  lines += ["", "Non-finite gradient entries (log_prob and sample paths, "
            "w.r.t. logits and temperature)", "",
            "| temperature | logits scale | tfg | tfd |", "|---|---|---|---|"]
  lines += [f"| {t} | {s:g} | {a} | {b} |"
            for t, s, a, b in nonfinite_gradients(1000)]
  lines += ["", f"Maximum-likelihood recovery (Adam, {args.steps} steps, "
            f"{args.n} held samples): relative errors", "",
            "| distribution | true t | t error | worst probs error | seconds |",
            "|---|---|---|---|---|"]
  lines += [f"| {c} | {t} | {te:.4f} | {pe:.4f} | {s:.1f} |"
            for c, t, te, pe, s in recovery(args.n, args.steps)]
  text = "\n".join(lines) + "\n"
  print(text)
  harness.write_report(text, args.out)


if __name__ == "__main__":
  main()
