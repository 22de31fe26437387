"""Shape and temperature helpers of `_params`, static and dynamic."""

import numpy as np
import pytest
import tensorflow as tf

import tfp_gumbel as tfg
from tfp_gumbel import _params


def test_sample_shape_is_a_python_list_when_static():
  shape = _params.sample_shape(tf.constant(3), tf.zeros([4, 1, 5]),
                               tf.zeros([2, 1]))
  assert shape == [3, 4, 2, 5]


def test_sample_shape_is_dynamic_when_a_shape_is_unknown():
  @tf.function(input_signature=[tf.TensorSpec(None, tf.int32),
                                tf.TensorSpec([None, None], tf.float32),
                                tf.TensorSpec([None, 1], tf.float32)])
  def shape(n, logits, temperature):
    return _params.sample_shape(n, logits, temperature)

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
  np.testing.assert_allclose(_params.divide_by_temperature(x, t), x / t,
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
  np.testing.assert_array_equal(_params.softmax(x, log=log).numpy(), expected)
  unknown_rank = tf.function(lambda x: _params.softmax(x, log=log),
                             input_signature=[tf.TensorSpec(None)])
  np.testing.assert_array_equal(unknown_rank(x).numpy(), expected)
