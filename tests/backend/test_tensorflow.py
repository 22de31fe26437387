"""TensorFlow's array namespace (`tfp_gumbel._backend.tensorflow`): its noise
(the eager fast path draws the graph path's numbers; XLA's fusion boundary),
its shapes and its softmax at any rank."""

import numpy as np
import pytest
import tensorflow as tf

import tfp_gumbel as tfg
from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel._kernels import masking
from tfp_gumbel._kernels import noise


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
@pytest.mark.parametrize("shape", [[], [3], [1000, 7]])
# Stateless seeds only: an int seed is stateful (TFP draws a fresh seed from
# it at every call), in eager mode and in graphs alike.
@pytest.mark.parametrize("seed", [(1, 2), (-5, 2**31 - 1)])
def test_eager_draws_are_bit_identical_to_tf_function_and_xla(
    dtype, shape, seed):
  eager = tf_xp.uniform_open(shape, seed, dtype).numpy()
  # Inside a tf.function the public `stateless_uniform(alg="philox")` runs.
  graph = tf.function(lambda: tf_xp.uniform_open(shape, seed, dtype))()
  xla = tf.function(lambda: tf_xp.uniform_open(shape, seed, dtype),
                    jit_compile=True)()
  np.testing.assert_array_equal(eager, graph.numpy())
  np.testing.assert_array_equal(eager, xla.numpy())
  tiny = np.finfo(dtype.as_numpy_dtype).tiny
  assert eager.dtype == dtype.as_numpy_dtype
  assert np.all(eager >= tiny) and np.all(eager < 1.)


def test_noise_is_finite_and_seeds_differ():
  a = noise.gumbel(tf_xp, [10000], (0, 0))
  b = noise.gumbel(tf_xp, [10000], (0, 1))
  assert np.isfinite(a).all() and np.isfinite(noise.logistic(tf_xp, [10000], 3)).all()
  assert not np.array_equal(a, b)


def _entry_computation(hlo):
  return hlo[hlo.index("ENTRY"):]


def test_run_time_seed_draws_into_its_own_buffer_under_xla():
  # XLA would otherwise fuse the Philox code into the consumer and recompute a
  # 4-number block per output element (4x the generator work, more when the
  # consumer reads u twice); the numbers must stay those of tf.function.
  size = tf_xp._MIN_MATERIALIZED_SIZE  # pylint: disable=protected-access

  def logistic(seed):
    return noise.logistic(tf_xp, [size], seed)

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
  xla = tf.function(lambda: noise.logistic(tf_xp, [size], (3, 4)), jit_compile=True)
  assert "conditional(" not in _entry_computation(
      xla.experimental_get_compiler_ir()(stage="optimized_hlo"))
  np.testing.assert_array_equal(xla().numpy(),
                                noise.logistic(tf_xp, [size], (3, 4)).numpy())


def test_small_draws_need_no_fusion_boundary():
  size = tf_xp._MIN_MATERIALIZED_SIZE - 1  # pylint: disable=protected-access
  xla = tf.function(lambda s: noise.logistic(tf_xp, [size], s), jit_compile=True)
  assert "conditional(" not in _entry_computation(
      xla.experimental_get_compiler_ir(tf.constant([3, 4]))(
          stage="optimized_hlo"))


def test_sample_shape_is_a_python_list_when_static():
  shape = tf_xp.sample_shape(tf.constant(3), tf.zeros([4, 1, 5]),
                               tf.zeros([2, 1]))
  assert shape == [3, 4, 2, 5]


def test_sample_shape_is_dynamic_when_a_shape_is_unknown():
  @tf.function(input_signature=[tf.TensorSpec(None, tf.int32),
                                tf.TensorSpec([None, None], tf.float32),
                                tf.TensorSpec([None, 1], tf.float32)])
  def shape(n, logits, temperature):
    return tf_xp.sample_shape(n, logits, temperature)

  np.testing.assert_array_equal(
      shape(3, tf.zeros([1, 5]), tf.zeros([2, 1])), [3, 2, 5])


@pytest.mark.parametrize("cls", [tfg.GumbelSoftmax, tfg.ExpRelaxedGumbelSoftmax,
                                 tfg.GumbelSigmoid])
def test_samples_with_unknown_shapes_match_eager(cls):
  logits = tf.constant([[0., 1., -1.], [2., 0., 0.]])
  # One temperature per batch member: shape [2] against logits[..., 0] for
  # the categorical classes, [2, 1] against the [2, 3] logits for the binary.
  temperature = tf.constant([0.5, 2.])
  if cls is tfg.GumbelSigmoid:
    temperature = temperature[:, tf.newaxis]

  @tf.function(input_signature=[
      tf.TensorSpec([None, None], tf.float32),
      tf.TensorSpec([None] * temperature.shape.rank, tf.float32)])
  def draw(logits, temperature):
    return cls(temperature, logits=logits).sample(4, seed=(2, 7))

  expected = cls(temperature, logits=logits).sample(4, seed=(2, 7))
  np.testing.assert_array_equal(draw(logits, temperature), expected)


def test_divide_by_temperature_is_the_quotient_to_one_rounding():
  x = tf.constant(np.random.RandomState(0).normal(size=1000) * 50, tf.float32)
  t = tf.constant(0.3)
  eps = np.finfo(np.float32).eps
  np.testing.assert_allclose(masking.divide_by_temperature(tf_xp, x, t), x / t,
                             rtol=2 * eps, atol=0)


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("shape", [[7], [3, 7], [2, 3, 7], [2, 1, 3, 1, 7],
                                   [2, 1, 2, 1, 2, 7], [2, 1, 2, 1, 2, 1, 2, 7]])
def test_softmax_at_any_rank_is_the_op_bit_for_bit(shape, log):
  # Above rank 5 the rows are normalized as a 2-D matrix (oneDNN's limit);
  # the numbers must be those of the op on x itself, here and unknown-rank.
  x = 30. * tf.random.stateless_normal(shape, seed=(1, 2))
  x = tf.tensor_scatter_nd_update(tf.reshape(x, [-1]), [[0]], [-np.inf])
  x = tf.reshape(x, shape)
  op = tf.math.log_softmax if log else tf.math.softmax
  expected = op(tf.reshape(x, [-1, shape[-1]])).numpy().reshape(shape)
  np.testing.assert_array_equal(tf_xp.softmax(x, log=log).numpy(), expected)
  unknown_rank = tf.function(lambda x: tf_xp.softmax(x, log=log),
                             input_signature=[tf.TensorSpec(None)])
  np.testing.assert_array_equal(unknown_rank(x).numpy(), expected)
