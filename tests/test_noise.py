"""The eager fast path of `_noise.uniform_open` draws the graph path's numbers."""

import numpy as np
import pytest
import tensorflow as tf

from tfp_gumbel import _noise
from tfp_gumbel._backend import tensorflow as tf_xp


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


def _entry_computation(hlo):
  return hlo[hlo.index("ENTRY"):]


def test_run_time_seed_draws_into_its_own_buffer_under_xla():
  # XLA would otherwise fuse the Philox code into the consumer and recompute a
  # 4-number block per output element (4x the generator work, more when the
  # consumer reads u twice); the numbers must stay those of tf.function.
  size = tf_xp._MIN_MATERIALIZED_SIZE  # pylint: disable=protected-access

  def logistic(seed):
    return _noise.logistic([size], seed)

  seed = tf.constant([3, 4])
  xla = tf.function(logistic, jit_compile=True)
  hlo = _entry_computation(
      xla.experimental_get_compiler_ir(seed)(stage="optimized_hlo"))
  # The uniforms reach the log fusion through a conditional (a buffer of the
  # entry computation) instead of being generated inside that fusion.
  assert "conditional(" in hlo
  np.testing.assert_array_equal(
      tf.function(logistic)(seed).numpy(),
      tf.function(lambda s: tf.math.log(u := tf.random.stateless_uniform(
          [size], s, minval=np.finfo(np.float32).tiny, alg="philox"))
                  - tf.math.log1p(-u))(seed).numpy())
  assert np.all(np.isfinite(xla(seed).numpy()))


def test_constant_seed_is_computed_before_compiling():
  # With a constant seed TensorFlow folds the draw before XLA sees it, so
  # jit_compile=True gives eager's numbers (see the test above); the fusion
  # boundary must not get in the way of that folding.
  size = tf_xp._MIN_MATERIALIZED_SIZE  # pylint: disable=protected-access
  xla = tf.function(lambda: _noise.logistic([size], (3, 4)), jit_compile=True)
  assert "conditional(" not in _entry_computation(
      xla.experimental_get_compiler_ir()(stage="optimized_hlo"))
  np.testing.assert_array_equal(xla().numpy(),
                                _noise.logistic([size], (3, 4)).numpy())


def test_small_draws_need_no_fusion_boundary():
  size = tf_xp._MIN_MATERIALIZED_SIZE - 1  # pylint: disable=protected-access
  xla = tf.function(lambda s: _noise.logistic([size], s), jit_compile=True)
  assert "conditional(" not in _entry_computation(
      xla.experimental_get_compiler_ir(tf.constant([3, 4]))(
          stage="optimized_hlo"))
