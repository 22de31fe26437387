"""Time per training step of every estimator, relative to straight-through.

Run by hand: `python benchmarks/unbiased_estimators.py`. One step is the
value and the gradient with respect to the logits and to f's variables, on
a sigmoid-belief-network-like objective (examples/discrete_latent.py's
shape): a batch of 100, 32 binary latents (or one categorical over 32
classes), f(b) = a linear Bernoulli decoder's -log p(x | b) over 64 pixels.
REBAR and RELAX steps include their variance tuning (the second tape and
the gradient of E[g^2] with respect to the temperature and eta, or the
control-variate network), since a user's training step does. Each cell is
timed eagerly, in a `tf.function` and XLA-compiled, interleaved with
straight-through (`benchmarks/harness.py`); the ratio is time / time of
straight-through in the same mode. Writes
benchmarks/results/unbiased_estimators.md.
"""

import argparse
import os
import sys
import time

import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
import tfp_gumbel as tfg  # pylint: disable=g-import-not-at-top

est = tfg.estimators
BATCH, LATENTS, PIXELS = 100, 32, 64

rng = np.random.RandomState(0)
x = tf.constant((rng.rand(BATCH, PIXELS) > 0.5).astype(np.float32))
decoder = tf.Variable(0.1 * rng.randn(LATENTS, PIXELS).astype(np.float32))
log_temperature, eta = tf.Variable(np.log(0.5), dtype=tf.float32), tf.Variable(1.)
network = tf.keras.Sequential([tf.keras.Input([LATENTS]),
                               tf.keras.layers.Dense(64, activation="tanh"),
                               tf.keras.layers.Dense(1)])


def f(b):
  logits = b @ decoder
  return tf.reduce_sum(tf.math.softplus(logits) - x * logits, axis=-1)


def control_variate(z):
  z = tf.where(tf.math.is_inf(z), 0., z)
  return eta * f(tf.sigmoid(z / tf.exp(log_temperature))) + network(z)[..., 0]


def pair(logits):
  return tf.stack([tf.zeros_like(logits), logits], axis=-1)


BINARY = {
    "straight-through": (lambda l, s: f(est.gumbel_sigmoid_st(l, 0.5, seed=s)),
                         []),
    "Gumbel-Rao (10)": (lambda l, s: f(est.gumbel_rao(
        pair(l), 0.5, 10, seed=s)[..., 1]), []),
    "score function": (lambda l, s: est.score_function(
        f, l, seed=s, binary=True), []),
    "score, leave-one-out (2)": (lambda l, s: est.score_function(
        f, l, 2, "leave_one_out", seed=s, binary=True), []),
    "REBAR + tuning": (lambda l, s: est.rebar(
        f, l, tf.exp(log_temperature), eta, seed=s, binary=True),
                       [log_temperature, eta]),
    "RELAX + tuning": (lambda l, s: est.relax(
        f, l, control_variate, seed=s, binary=True),
                       [log_temperature, eta, *network.trainable_variables]),
    "DisARM": (lambda l, s: est.disarm(f, l, seed=s), []),
}

CATEGORICAL = {
    "straight-through": (lambda l, s: f(est.gumbel_softmax_st(l, 0.5, seed=s)),
                         []),
    "Gumbel-Rao (10)": (lambda l, s: f(est.gumbel_rao(l, 0.5, 10, seed=s)), []),
    "score function": (lambda l, s: est.score_function(f, l, seed=s), []),
    "REBAR + tuning": (lambda l, s: est.rebar(
        f, l, tf.exp(log_temperature), eta, seed=s), [log_temperature, eta]),
}


def make_step(estimator, tuned):
  def step(logits, seed):
    with tf.GradientTape() as outer:
      with tf.GradientTape(persistent=True) as inner:
        inner.watch(logits)
        value = tf.reduce_sum(estimator(logits, seed))
      gradients = inner.gradient(value, [logits, decoder])
      square = tf.reduce_sum(gradients[0] ** 2)
    if tuned:
      gradients += outer.gradient(square, tuned)
    return gradients
  return step


def run(repeats, min_time, log=print):
  rows = []
  for variables, estimators in [("32 binary", BINARY),
                                ("1 categorical, K = 32", CATEGORICAL)]:
    logits = tf.constant(rng.randn(BATCH, LATENTS).astype(np.float32))
    seed = tf.constant([1, 2])
    for mode in harness.MODES:
      fns = {name: harness.compile_fn(make_step(*spec), mode)
             for name, spec in estimators.items()}
      ms, _ = harness.time_interleaved(fns, (logits, seed), repeats, min_time)
      for name in estimators:
        rows.append((variables, name, mode, ms[name],
                     ms[name] / ms["straight-through"]))
        log("| %s | %s | %s | %.3f | %.2f |" % rows[-1])
  return rows


def markdown(rows, command, elapsed):
  modes = list(harness.MODES)
  lines = [
      "Time of one training step relative to straight-through, "
      f"batch {BATCH}, float32 (value + gradients; REBAR/RELAX with their "
      "variance tuning).", "",
      f"Command: `{command}` ({elapsed:.0f} s), {harness.now()}. Machine: "
      f"{harness.machine_description()}", "",
      "| variables | estimator | " + " | ".join(
          f"{m} (x ST)" for m in modes) + " | " + " | ".join(
              f"{m} ms" for m in modes) + " |",
      "|---|---|" + "---|" * (2 * len(modes))]
  table = {}
  for variables, name, mode, ms, ratio in rows:
    table.setdefault((variables, name), {})[mode] = (ms, ratio)
  for (variables, name), cells in table.items():
    lines.append(f"| {variables} | {name} | " + " | ".join(
        f"{cells[m][1]:.2f}" for m in modes) + " | " + " | ".join(
            f"{cells[m][0]:.3f}" for m in modes) + " |")
  lines += ["", "Medians of interleaved rounds on a shared machine: ratios "
            "within one mode are comparable, absolute times less so."]
  return "\n".join(lines) + "\n"


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--min-time", type=float, default=0.2)
  parser.add_argument("--out", default=os.path.join(
      os.path.dirname(__file__), "results", "unbiased_estimators.md"))
  args = parser.parse_args()
  start = time.time()
  rows = run(args.repeats, args.min_time)
  text = markdown(rows, "python benchmarks/unbiased_estimators.py",
                  time.time() - start)
  print(text)
  harness.write_report(text, args.out)


if __name__ == "__main__":
  main()
