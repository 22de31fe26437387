"""Helpers for tests that run on whichever backend Keras runs
(`KERAS_BACKEND`): numpy out, and a gradient taken by the backend's own
differentiation. Importing this imports Keras and nothing of TensorFlow's
unless TensorFlow is the backend."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

BACKEND = keras.backend.backend()


def to_numpy(x):
  return keras.ops.convert_to_numpy(x)


def value_and_grad(f, x, weights=None):
  """`f(x)` and the gradient of `sum(weights * f(x))` in `x` (numpy in and
  out), with the active backend's own differentiation. An output that does
  not depend on `x` (a piecewise constant one) has the gradient 0."""
  x = np.asarray(x)
  if BACKEND == "tensorflow":
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    x = tf.constant(x)
    with tf.GradientTape() as tape:
      tape.watch(x)
      y = f(x)
      w = np.ones(y.shape) if weights is None else weights
      loss = tf.reduce_sum(y * tf.cast(w, y.dtype))
    grad = tape.gradient(loss, x)
    return y.numpy(), (np.zeros(x.shape, x.dtype.as_numpy_dtype)
                       if grad is None else grad.numpy())
  if BACKEND == "jax":
    import jax  # pylint: disable=g-import-not-at-top

    def loss(x):
      y = f(x)
      w = np.ones(y.shape) if weights is None else weights
      return (y * w.astype(y.dtype)).sum(), y

    (_, y), g = jax.value_and_grad(loss, has_aux=True)(jax.numpy.asarray(x))
    return np.asarray(y), np.asarray(g)
  if BACKEND == "torch":
    import torch  # pylint: disable=g-import-not-at-top
    x = torch.tensor(x, requires_grad=True)
    y = f(x)
    w = np.ones(tuple(y.shape)) if weights is None else weights
    loss = (y * torch.tensor(w, dtype=y.dtype, device=y.device)).sum()
    if not loss.requires_grad:
      return y.detach().cpu().numpy(), np.zeros(x.shape, x.detach().numpy().dtype)
    loss.backward()
    grad = x.grad
    return y.detach().cpu().numpy(), (
        np.zeros(tuple(x.shape), x.detach().numpy().dtype) if grad is None
        else grad.cpu().numpy())
  pytest.skip(f"no gradients on the {BACKEND} backend")
