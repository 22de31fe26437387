"""The `keras.ops` array namespace of the kernels (see `tfp_gumbel._backend`).

`keras.ops` itself, on whichever backend Keras runs (TensorFlow, JAX,
PyTorch), plus the names the kernels use that `keras.ops` lacks. Nothing here
imports TensorFlow unless Keras's backend is TensorFlow. Nothing is skipped
for a value known in advance (`static_value` is always None): on a traced
backend nothing is known, and the skips are a TF-eager speed matter.
"""


import keras
import ml_dtypes
import numpy as np
from keras.ops import *  # pylint: disable=wildcard-import,unused-wildcard-import
from keras.ops import log_softmax as _log_softmax
from keras.ops import softmax as _softmax


def constant(value, dtype):
  return keras.ops.convert_to_tensor(value, dtype=dtype)


def finfo(dtype):
  return ml_dtypes.finfo(keras.backend.standardize_dtype(dtype))


def static_value(x):  # pylint: disable=unused-argument
  return None


def last_dim(x):
  return keras.ops.shape(x)[-1]


def softmax(x, log=False):
  return _log_softmax(x, axis=-1) if log else _softmax(x, axis=-1)


def concat_shapes(*shapes):
  return tuple(int(d) for shape in shapes for d in shape)


def sample_shape(n, *arrays):
  return (int(n),) + tuple(np.broadcast_shapes(
      *[tuple(keras.ops.shape(a)) for a in arrays]))


def flatten_batch(arrays, event_ndims):
  """The arrays broadcast to their common batch shape (the axes before their
  `event_ndims` last) and flattened to one batch axis, and that shape."""
  shapes = [tuple(keras.ops.shape(a)) for a in arrays]
  batch_shape = np.broadcast_shapes(
      *[shape[:len(shape) - ndims] for shape, ndims in zip(shapes, event_ndims)])
  flat = []
  for a, shape, ndims in zip(arrays, shapes, event_ndims):
    event_shape = shape[len(shape) - ndims:]
    a = keras.ops.broadcast_to(a, batch_shape + event_shape)
    flat.append(keras.ops.reshape(a, (-1,) + event_shape))
  return flat, batch_shape


def lgamma(x):
  """`log |Gamma(x)|`: each backend's own function (`keras.ops` has none)."""
  backend = keras.backend.backend()
  if backend == "jax":
    from jax.scipy import special  # pylint: disable=g-import-not-at-top
    return special.gammaln(x)
  if backend == "torch":
    import torch  # pylint: disable=g-import-not-at-top
    return torch.lgamma(x)
  if backend == "tensorflow":
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    return tf.math.lgamma(x)
  from scipy import special  # pylint: disable=g-import-not-at-top
  return special.gammaln(x)


def uniform_open(shape, seed, dtype):
  """Uniform noise on [tiny, 1) (see the TensorFlow namespace); `seed` is a
  `keras.random.SeedGenerator` or an int, as `keras.random` takes it."""
  return keras.random.uniform(shape, minval=float(finfo(dtype).tiny),
                              maxval=1., dtype=dtype, seed=seed)


def eager_compiled(f):
  """`f` itself: Keras compiles the step that calls it."""
  return f
