"""Eager construct + sample at N = 1, K = 10 against the floor of any tfd
distribution doing the same work op by op.

The floor is a no-op `tfd.Distribution` subclass (constructed, and its
`sample` called, so TFP's own bookkeeping is paid) plus the raw TF ops of the
sample, timed together: `softmax((logits + g) / t)`, g Gumbel from a
stateless uniform, for the Gumbel-Softmax families; Xie & Ermon's k
successive softmaxes for RelaxedTopK; NeuralSort of the perturbed log-scores
for RelaxedPlackettLuce (written inline, without the package's kernels;
slices written as `expand_dims`, which eagerly costs ~1/8 of a Python slice).
The structured families are also timed against a same-ops floor: the no-op
plus the package's own kernel on the perturbed logits, which separates what
the distribution adds from what the kernel's numerics cost (the top-k
kernel's log(1 - a) stays finite at small t, where the inline recursion's
log1p(-a) rounds to log(0)). Each of our families is timed the same way
(construct + `sample`), next to TFP's own distribution where TFP has it,
interleaved in one run (`harness.time_interleaved`).

    python -m benchmarks.eager_floor [--repeats 15] [--min-time 0.2]
"""

import argparse

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg
from benchmarks import harness
from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel._kernels import sorting
from tfp_gumbel._kernels import subsets

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
    # One op of the right shape for sample_shape = () (n = 1): `tf.zeros([n]
    # + shape)` with TFP's Tensor `n` packs a shape on the slow path and
    # made the floor ~0.27 ms (9%) dearer than a no-op.
    return tf.expand_dims(self._logits, 0)


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
  # expand_dims rather than `s[..., None, :]`: eagerly a Python slice costs
  # ~8x the op, and the floor should be the cheapest way to write the ops.
  row = tf.expand_dims(s, -2)
  pairwise = tf.reduce_sum(tf.abs(tf.expand_dims(s, -1) - row), -1)
  weights = tf.constant(np.arange(n - 1, -n, -2)[:, None], s.dtype)
  return tf.math.softmax((weights * row - tf.expand_dims(pairwise, -2)) / t)


def top_k_kernel_floor(t, logits, seed, k=2):
  """The no-op plus the package's own top-k kernel on the perturbed logits:
  the same ops as RelaxedTopK's sample (a log(1 - a) that stays finite at
  small t, where the recursion above rounds to log(0)), without the
  distribution around them."""
  _NoOp(t, logits).sample(seed=seed)
  return subsets.relaxed_top_k(tf_xp, _perturbed(logits, seed), k, t)


def neural_sort_kernel_floor(t, logits, seed):
  """The no-op plus the package's NeuralSort kernel, likewise."""
  _NoOp(t, logits).sample(seed=seed)
  return sorting.neural_sort(tf_xp, _perturbed(logits, seed), t)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--repeats", type=int, default=15)
  parser.add_argument("--min-time", type=float, default=0.2)
  args = parser.parse_args()
  logits = tf.random.stateless_normal([N, K], seed=(1, 2))
  t = tf.constant(0.5)
  cold = tf.constant(0.05)
  seed = tf.constant([3, 4])
  fns = {
      "floor (no-op tfd + raw ops)": floor,
      "top-k floor (no-op tfd + raw top-k ops)": top_k_floor,
      "NeuralSort floor (no-op tfd + raw NeuralSort ops)": neural_sort_floor,
      "top-k same-ops floor (no-op tfd + tfg's top-k kernel)":
          top_k_kernel_floor,
      "NeuralSort same-ops floor (no-op tfd + tfg's NeuralSort kernel)":
          neural_sort_kernel_floor,
      "tfg.GumbelSoftmax": lambda t, l, s: tfg.GumbelSoftmax(
          t, logits=l).sample(seed=s),
      "tfg.ExpRelaxedGumbelSoftmax": lambda t, l, s: (
          tfg.ExpRelaxedGumbelSoftmax(t, logits=l).sample(seed=s)),
      "tfg.GumbelSigmoid": lambda t, l, s: tfg.GumbelSigmoid(
          t, logits=l).sample(seed=s),
      "tfg.RelaxedTopK (k=2)": lambda t, l, s: tfg.RelaxedTopK(
          t, 2, logits=l).sample(seed=s),
      # The kernel's exact log(1 - a) path runs where a step's largest
      # coordinate exceeds 2/3 (eagerly it is skipped where no value needs
      # it): here at both temperatures (0.70 at t = 0.5), and at t = 0.05
      # in nearly every draw. The floors cost the same at any t.
      "tfg.RelaxedTopK (k=2, t = 0.05)": lambda t, l, s: tfg.RelaxedTopK(
          cold, 2, logits=l).sample(seed=s),
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
            "tfg.RelaxedTopK (k=2, t = 0.05)":
                "top-k floor (no-op tfd + raw top-k ops)",
            "tfg.RelaxedPlackettLuce":
                "NeuralSort floor (no-op tfd + raw NeuralSort ops)"}
  print(f"Eager construct + sample, N = {N}, K = {K}, median of {repeats} "
        f"interleaved repeats")
  same_ops = {"tfg.RelaxedTopK (k=2)":
                  "top-k same-ops floor (no-op tfd + tfg's top-k kernel)",
              "tfg.RelaxedTopK (k=2, t = 0.05)":
                  "top-k same-ops floor (no-op tfd + tfg's top-k kernel)",
              "tfg.RelaxedPlackettLuce":
                  "NeuralSort same-ops floor (no-op tfd + tfg's NeuralSort "
                  "kernel)"}
  print("| implementation | ms | ratio to its floor | ratio to its same-ops "
        "floor |")
  print("|---|---|---|---|")
  for name, ms in times.items():
    base = times[floors.get(name, "floor (no-op tfd + raw ops)")]
    same = f"{ms / times[same_ops[name]]:.2f}" if name in same_ops else ""
    print(f"| {name} | {ms:.3f} | {ms / base:.2f} | {same} |")


if __name__ == "__main__":
  main()
