"""Helpers of the GumbelSoftmax / GumbelSigmoid layer tests (test_gumbel.py,
test_gumbel_softmax.py, test_gumbel_sigmoid.py)."""

import numpy as np
import tensorflow as tf

# Statistical tests use fixed seeds, so they are deterministic; a correct
# layer fails a test at threshold p < P_MIN with probability P_MIN over the
# seeds one could have picked.
P_MIN = 1e-3


def logits(shape, scale=1., seed=0):
  """float32 normal logits of `shape`, `scale` times standard, from `seed`."""
  return (scale * np.random.RandomState(seed).normal(size=shape)).astype(
      np.float32)


def assert_vertex(y, kind):
  """Exactly one-hot (categorical) or exactly 0/1 (binary)."""
  y = np.asarray(y, np.float64)
  assert np.all((y == 0.) | (y == 1.))
  if kind == "softmax":
    np.testing.assert_array_equal(y.sum(-1), 1.)


def assert_relaxed(y, kind):
  """In the support: the simplex (sum 1 to float16 rounding) or [0, 1]."""
  y = np.asarray(y, np.float64)
  assert np.all(np.isfinite(y)) and np.all(y >= 0.) and np.all(y <= 1.)
  if kind == "softmax":
    np.testing.assert_allclose(y.sum(-1), 1., atol=1e-2)


@tf.function(jit_compile=True)
def _compiled_call(layer, logits):
  return layer(logits, training=True)


def draw(layer, logits):
  """A training-mode call, XLA-compiled (one trace per layer, built first:
  a traced function may create Variables only in its first trace)."""
  if not layer.built:
    layer.build(logits.shape)
  return _compiled_call(layer, logits)
