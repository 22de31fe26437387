"""The eager fast path of `_noise.uniform_open` draws the graph path's numbers."""

import numpy as np
import pytest
import tensorflow as tf

from tfp_gumbel import _noise


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
@pytest.mark.parametrize("shape", [[], [3], [1000, 7]])
# Stateless seeds only: an int seed is stateful (TFP draws a fresh seed from
# it at every call), in eager mode and in graphs alike.
@pytest.mark.parametrize("seed", [(1, 2), (-5, 2**31 - 1)])
def test_eager_draws_are_bit_identical_to_tf_function_and_xla(
    dtype, shape, seed):
  eager = _noise.uniform_open(shape, seed, dtype).numpy()
  # Inside a tf.function the public `stateless_uniform(alg="philox")` runs.
  graph = tf.function(lambda: _noise.uniform_open(shape, seed, dtype))()
  xla = tf.function(lambda: _noise.uniform_open(shape, seed, dtype),
                    jit_compile=True)()
  np.testing.assert_array_equal(eager, graph.numpy())
  np.testing.assert_array_equal(eager, xla.numpy())
  tiny = np.finfo(dtype.as_numpy_dtype).tiny
  assert eager.dtype == dtype.as_numpy_dtype
  assert np.all(eager >= tiny) and np.all(eager < 1.)


def test_noise_is_finite_and_seeds_differ():
  a = _noise.gumbel([10000], (0, 0))
  b = _noise.gumbel([10000], (0, 1))
  assert np.isfinite(a).all() and np.isfinite(_noise.logistic([10000], 3)).all()
  assert not np.array_equal(a, b)
