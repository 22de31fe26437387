"""Shape and temperature helpers of `_params`, static and dynamic."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

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


def _softmax_centered_reference(z):
  """y = softmax([z, 0]) and SoftmaxCentered's forward log-det-Jacobian,
  log(K) / 2 + sum(log y), in float64."""
  z = np.asarray(z, np.float64)
  padded = np.concatenate([z, np.zeros_like(z[..., :1])], axis=-1)
  log_y = padded - np.logaddexp.reduce(padded, axis=-1, keepdims=True)
  return np.exp(log_y), 0.5 * np.log(padded.shape[-1]) + log_y.sum(-1)


@pytest.mark.parametrize("num_classes", [2, 5, 10])
@pytest.mark.parametrize("bound", [6., 8.])
def test_simplex_bijector_is_softmax_centered_in_float32(num_classes, bound):
  # The bound on the round trip is SoftmaxCentered's own (measured 2.4e-6 at
  # |z| < 8 for K = 10); the log-det-Jacobian is its formula to float32
  # rounding of a sum of K logs (|ldj| up to ~K * bound).
  z = np.random.default_rng(0).uniform(
      -bound, bound, size=(4000, num_classes - 1)).astype(np.float32)
  bijector = _params.simplex_bijector()
  y = bijector.forward(z)
  y_ref, ldj_ref = _softmax_centered_reference(z)
  np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=0)
  np.testing.assert_allclose(bijector.inverse(y), z, rtol=0, atol=5e-6)
  np.testing.assert_allclose(bijector.forward_log_det_jacobian(z, 1),
                             ldj_ref, rtol=2e-6, atol=2e-6)
  np.testing.assert_allclose(bijector.inverse_log_det_jacobian(y, 1),
                             -ldj_ref, rtol=2e-6, atol=2e-6)


def test_simplex_bijector_is_tfp_softmax_centered():
  # The same class and, wherever TFP's own constructor works (numpy < 2.4),
  # the same numbers bit for bit.
  import tensorflow_probability as tfp
  bijector = _params.simplex_bijector(validate_args=True)
  assert isinstance(bijector, tfp.bijectors.SoftmaxCentered)
  assert bijector.forward_event_shape([3]) == [4]
  assert bijector.inverse_event_shape([4]) == [3]
  z = tf.constant([[0.5, -7., 3.], [0., 0., 0.]])
  try:
    tfp_bijector = tfp.bijectors.SoftmaxCentered(validate_args=True)
  except TypeError as error:  # numpy >= 2.4: np.reshape(newshape=...)
    assert "newshape" in str(error)
    return
  y = bijector.forward(z)
  np.testing.assert_array_equal(y, tfp_bijector.forward(z))
  np.testing.assert_array_equal(bijector.inverse(y), tfp_bijector.inverse(y))
  np.testing.assert_array_equal(bijector.forward_log_det_jacobian(z, 1),
                                tfp_bijector.forward_log_det_jacobian(z, 1))


def test_simplex_bijector_is_a_composite_tensor():
  bijector = _params.simplex_bijector()

  @tf.function
  def forward(b, x):
    return b.forward(x)

  np.testing.assert_allclose(forward(bijector, tf.zeros([2])),
                             [1. / 3.] * 3, rtol=1e-6)


def test_simplex_bijector_inverse_of_boundary_draws_is_not_nan():
  # GumbelSoftmax draws at t = 0.5 reach the boundary in float32: a coordinate
  # rounds to 1 when the others sum below half an ulp of 1. How many of a
  # seed's draws do depends on the CPU's exp (30 of these 100,000 on one
  # machine, none on another), so rows on the boundary are added as such
  # draws are: one coordinate exactly 1, the others tiny or 0. The inverse
  # stays finite (IteratedSigmoidCentered gives NaN there).
  draws = tfg.GumbelSoftmax(0.5, logits=tf.zeros(5)).sample(100_000, seed=(1, 2))
  boundary = tf.constant([[1., 1e-9, 2e-10, 3e-12, 1e-20],
                          [1e-8, 1., 1e-9, 1e-10, 1e-25],
                          [1e-30, 1e-20, 1e-12, 1e-8, 1.]])
  y = tf.concat([draws, boundary], axis=0)
  assert np.sum(y.numpy() == 1.) >= 3
  bijector = _params.simplex_bijector()
  x = bijector.inverse(y)
  assert np.all(np.isfinite(x))
  assert np.all(np.isfinite(bijector.inverse_log_det_jacobian(y, 1)))
  assert not np.all(np.isfinite(
      tfp.bijectors.IteratedSigmoidCentered().inverse(boundary)))

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
