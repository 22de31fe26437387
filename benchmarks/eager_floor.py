"""Eager construct + sample at N = 1, K = 10 against the floor of any tfd
distribution doing the same work op by op.

The floor is a no-op `tfd.Distribution` subclass (constructed, and its
`sample` called, so TFP's own bookkeeping is paid) plus the raw TF ops of the
sample, timed together: `softmax((logits + g) / t)`, g Gumbel from a
stateless uniform, for the Gumbel-Softmax families; Xie & Ermon's k
successive softmaxes for RelaxedTopK; NeuralSort of the perturbed log-scores
for RelaxedPlackettLuce (written inline, without the package's kernels). Each of our families is timed the same way (construct + `sample`),
next to TFP's own distribution where TFP has it, interleaved in one run
(`harness.time_interleaved`).

    python -m benchmarks.eager_floor [--repeats 15] [--min-time 0.2]
"""

import argparse

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg
from benchmarks import harness

tfd = tfp.distributions

N, K = 1, 10


class _NoOp(tfd.Distribution):
  """A distribution that holds its parameters and samples nothing: what every
  tfd distribution pays before its math."""

  def __init__(self, temperature, logits):
    parameters = dict(locals())
    self._temperature = tf.convert_to_tensor(temperature)
    self._logits = tf.convert_to_tensor(logits)
    super().__init__(dtype=tf.float32,
                     reparameterization_type=tfd.FULLY_REPARAMETERIZED,
                     validate_args=False, allow_nan_stats=True,
                     parameters=parameters, name="NoOp")

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return dict(temperature=tfp.util.ParameterProperties(
        shape_fn=lambda sample_shape: sample_shape[:-1]),
                logits=tfp.util.ParameterProperties(event_ndims=1))

  def _event_shape(self):
    return self._logits.shape[-1:]

  def _sample_n(self, n, seed=None):
    return tf.zeros([n] + self._logits.shape.as_list())


def _perturbed(logits, seed):
  u = tf.random.stateless_uniform(
      logits.shape, seed=seed, minval=np.finfo(np.float32).tiny, maxval=1.)
  return logits - tf.math.log(-tf.math.log(u))


def floor(t, logits, seed):
  _NoOp(t, logits).sample(seed=seed)
  return tf.math.softmax(_perturbed(logits, seed) / t)


def top_k_floor(t, logits, seed, k=2):
  """The no-op plus Xie & Ermon's k successive softmaxes, op by op."""
  _NoOp(t, logits).sample(seed=seed)
  alpha, khot = _perturbed(logits, seed), 0.
  for _ in range(k):
    p = tf.math.softmax(alpha / t)
    khot += p
    alpha += tf.math.log1p(-p)
  return khot


def neural_sort_floor(t, logits, seed):
  """The no-op plus NeuralSort of the perturbed log-scores, op by op."""
  _NoOp(t, logits).sample(seed=seed)
  s = _perturbed(logits, seed)
  n = s.shape[-1]
  pairwise = tf.reduce_sum(tf.abs(s[..., :, None] - s[..., None, :]), -1)
  weights = tf.cast(n - 1 - 2 * tf.range(n), s.dtype)[:, None]
  return tf.math.softmax((weights * s[..., None, :]
                          - pairwise[..., None, :]) / t)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--repeats", type=int, default=15)
  parser.add_argument("--min-time", type=float, default=0.2)
  args = parser.parse_args()
  logits = tf.random.stateless_normal([N, K], seed=(1, 2))
  t = tf.constant(0.5)
  seed = tf.constant([3, 4])
  fns = {
      "floor (no-op tfd + raw ops)": floor,
      "top-k floor (no-op tfd + raw top-k ops)": top_k_floor,
      "NeuralSort floor (no-op tfd + raw NeuralSort ops)": neural_sort_floor,
      "tfg.GumbelSoftmax": lambda t, l, s: tfg.GumbelSoftmax(
          t, logits=l).sample(seed=s),
      "tfg.ExpRelaxedGumbelSoftmax": lambda t, l, s: (
          tfg.ExpRelaxedGumbelSoftmax(t, logits=l).sample(seed=s)),
      "tfg.GumbelSigmoid": lambda t, l, s: tfg.GumbelSigmoid(
          t, logits=l).sample(seed=s),
      "tfg.RelaxedTopK (k=2)": lambda t, l, s: tfg.RelaxedTopK(
          t, 2, logits=l).sample(seed=s),
      "tfg.RelaxedPlackettLuce": lambda t, l, s: tfg.RelaxedPlackettLuce(
          t, scores=tf.exp(l)).sample(seed=s),
      "tfd.RelaxedOneHotCategorical": lambda t, l, s: (
          tfd.RelaxedOneHotCategorical(t, logits=l).sample(seed=s)),
      "tfd.RelaxedBernoulli": lambda t, l, s: tfd.RelaxedBernoulli(
          t, logits=l).sample(seed=s),
  }
  times, repeats = harness.time_interleaved(
      fns, (t, logits, seed), args.repeats, args.min_time)
  # Each family against the floor of its own sample's ops.
  floors = {"tfg.RelaxedTopK (k=2)": "top-k floor (no-op tfd + raw top-k ops)",
            "tfg.RelaxedPlackettLuce":
                "NeuralSort floor (no-op tfd + raw NeuralSort ops)"}
  print(f"Eager construct + sample, N = {N}, K = {K}, median of {repeats} "
        f"interleaved repeats")
  print("| implementation | ms | ratio to its floor |")
  print("|---|---|---|")
  for name, ms in times.items():
    base = times[floors.get(name, "floor (no-op tfd + raw ops)")]
    print(f"| {name} | {ms:.3f} | {ms / base:.2f} |")


if __name__ == "__main__":
  main()
