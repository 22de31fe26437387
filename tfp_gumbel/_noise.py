"""The one place where randomness enters tfp_gumbel.

Every sampler in the package (distributions, estimators, Keras layers) draws its
noise here, from TensorFlow's stateless generators through TFP's seed
conventions, so a seed means the same thing everywhere: `seed=(1, 2)` (or a
shape-[2] int Tensor) is stateless and reproducible, a Python int or `None` is
turned into a stateless seed by `tfp.random.sanitize_seed` exactly as TFP's own
distributions do.
"""

import tensorflow as tf

from tfp_gumbel._backend import tensorflow as tf_xp

__all__ = ["gumbel", "logistic", "uniform_open"]


def uniform_open(shape, seed, dtype=tf.float32):
  return tf_xp.uniform_open(shape, seed, dtype)


def gumbel(shape, seed, dtype=tf.float32):
  """Standard Gumbel(0, 1) noise, -log(-log u); always finite.

  With u in [tiny, 1): -log(u) lies in [eps / 2, -log(tiny)], both finite and
  positive, so the outer log never sees 0.
  """
  return -tf.math.log(-tf.math.log(uniform_open(shape, seed, dtype)))


def logistic(shape, seed, dtype=tf.float32):
  """Standard Logistic(0, 1) noise, log(u) - log(1 - u); always finite."""
  u = uniform_open(shape, seed, dtype)
  return tf.math.log(u) - tf.math.log1p(-u)
