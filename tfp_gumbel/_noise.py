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
from tfp_gumbel._kernels import noise

__all__ = ["gumbel", "logistic", "uniform_open"]


def uniform_open(shape, seed, dtype=tf.float32):
  return tf_xp.uniform_open(shape, seed, dtype)


def gumbel(shape, seed, dtype=tf.float32):
  return noise.gumbel(tf_xp, shape, seed, dtype)


def logistic(shape, seed, dtype=tf.float32):
  return noise.logistic(tf_xp, shape, seed, dtype)
