"""The simplex bijector (`_simplex_bijector.SoftmaxCentered`): TFP's
SoftmaxCentered map, inverse and log-det-Jacobian, checked against a float64
reference, a numerical Jacobian, TFP's own class where numpy lets it be built,
and through the families that use it."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg
from tfp_gumbel.distributions import _simplex_bijector

tfb = tfp.bijectors
tfd = tfp.distributions

FAMILIES = [tfg.GumbelSoftmax, tfg.ExpRelaxedGumbelSoftmax]


def _reference(z):
  """y = softmax([z, 0]) and SoftmaxCentered's forward log-det-Jacobian,
  0.5 log(K) + sum(log y), in float64."""
  z = np.asarray(z, np.float64)
  padded = np.concatenate([z, np.zeros_like(z[..., :1])], axis=-1)
  log_y = padded - np.logaddexp.reduce(padded, axis=-1, keepdims=True)
  return np.exp(log_y), 0.5 * np.log(padded.shape[-1]) + log_y.sum(-1)


def _held(x):
  """`x` as a fresh Tensor, so that no bijector's cache maps it back."""
  return tf.constant(x.numpy())


def _tfp_softmax_centered():
  """TFP's own bijector, or a skip where numpy >= 2.4 rejects the `newshape`
  keyword its `Pad` passes to `np.reshape`."""
  try:
    return tfb.SoftmaxCentered()
  except TypeError as error:
    if "newshape" not in str(error):
      raise
    pytest.skip(f"tfb.SoftmaxCentered() cannot be built with numpy "
                f"{np.__version__}: {error}")


def test_name_and_example():
  bijector = _simplex_bijector.simplex_bijector()
  assert bijector.name == "softmax_centered"
  y = bijector.forward(tf.math.log([2., 3., 4.]))
  np.testing.assert_allclose(y, [0.2, 0.3, 0.4, 0.1], rtol=1e-6)
  np.testing.assert_allclose(bijector.inverse(y), np.log([2., 3., 4.]),
                             rtol=1e-6)


@pytest.mark.parametrize("num_classes", [2, 5, 10])
@pytest.mark.parametrize("bound", [6., 8.])
def test_float32_against_the_float64_reference(num_classes, bound):
  # The round trip's bound is SoftmaxCentered's own at |z| < 8 for K = 10;
  # the log-det-Jacobian is the formula to float32 rounding of a sum of K
  # logs (|ldj| up to ~K * bound).
  z = np.random.default_rng(0).uniform(
      -bound, bound, size=(4000, num_classes - 1)).astype(np.float32)
  bijector = _simplex_bijector.simplex_bijector()
  y = _held(bijector.forward(z))
  y_ref, ldj_ref = _reference(z)
  np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=0)
  np.testing.assert_allclose(bijector.inverse(y), z, rtol=0, atol=5e-6)
  np.testing.assert_allclose(bijector.forward_log_det_jacobian(z, 1),
                             ldj_ref, rtol=2e-6, atol=2e-6)
  np.testing.assert_allclose(bijector.inverse_log_det_jacobian(y, 1),
                             -ldj_ref, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("num_classes", [2, 3, 6])
def test_log_det_jacobian_is_the_volume_factor_in_float64(num_classes):
  # The forward map embeds R^(K-1) in R^K, so its log-det-Jacobian is
  # log sqrt(det(J^T J)) of the K x (K-1) Jacobian, here by autodiff.
  z = tf.constant(np.random.default_rng(1).normal(
      scale=2., size=(20, num_classes - 1)))
  bijector = _simplex_bijector.simplex_bijector()
  with tf.GradientTape() as tape:
    tape.watch(z)
    y = bijector.forward(z)
  jacobian = tape.batch_jacobian(y, z).numpy()
  y = _held(y)
  gram = np.einsum("bki,bkj->bij", jacobian, jacobian)
  sign, logdet = np.linalg.slogdet(gram)
  assert np.all(sign > 0)
  fldj = bijector.forward_log_det_jacobian(z, 1)
  assert fldj.dtype == tf.float64 and y.dtype == tf.float64
  np.testing.assert_allclose(fldj, 0.5 * logdet, rtol=1e-10, atol=1e-10)
  np.testing.assert_allclose(bijector.inverse_log_det_jacobian(y, 1),
                             -0.5 * logdet, rtol=1e-10, atol=1e-10)
  np.testing.assert_allclose(bijector.inverse(y), z, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_equals_tfp_softmax_centered(dtype):
  # Bit for bit, where TFP's own constructor works (numpy < 2.4, the
  # oldest-dependencies phase of CI).
  tfp_bijector = _tfp_softmax_centered()
  bijector = _simplex_bijector.simplex_bijector()
  z = tf.constant(np.random.default_rng(2).normal(scale=3., size=(2, 50, 4)),
                  dtype)
  y = _held(bijector.forward(z))
  np.testing.assert_array_equal(y, tfp_bijector.forward(z))
  np.testing.assert_array_equal(bijector.inverse(y), tfp_bijector.inverse(y))
  np.testing.assert_array_equal(bijector.forward_log_det_jacobian(z, 1),
                                tfp_bijector.forward_log_det_jacobian(z, 1))
  np.testing.assert_array_equal(bijector.inverse_log_det_jacobian(y, 1),
                                tfp_bijector.inverse_log_det_jacobian(y, 1))
  np.testing.assert_array_equal(bijector.forward_log_det_jacobian(z, 2),
                                tfp_bijector.forward_log_det_jacobian(z, 2))
  assert bijector.forward_event_shape([2, 4]) == (
      tfp_bijector.forward_event_shape([2, 4]))


@pytest.mark.parametrize("shape", [[3], [2, 3], [4, 1, 2, 3],
                                   [2, 1, 2, 1, 2, 1, 3]])
def test_batch_shapes(shape):
  # Rank 7 passes oneDNN's 5-dimension limit of the softmax kernel.
  bijector = _simplex_bijector.simplex_bijector()
  z = tf.random.stateless_normal(shape, seed=(1, 2))
  y = bijector.forward(z)
  assert y.shape == shape[:-1] + [shape[-1] + 1]
  y_ref, ldj_ref = _reference(z.numpy())
  np.testing.assert_allclose(y, y_ref, rtol=1e-5)
  np.testing.assert_allclose(bijector.inverse(_held(y)), z, atol=1e-5)
  fldj = bijector.forward_log_det_jacobian(z, 1)
  assert fldj.shape == shape[:-1]
  np.testing.assert_allclose(fldj, ldj_ref, rtol=1e-5, atol=1e-5)
  # A higher event rank sums over the extra axes.
  assert bijector.forward_log_det_jacobian(z, len(shape)).shape == []


def test_event_shapes():
  bijector = _simplex_bijector.simplex_bijector()
  assert bijector.forward_event_shape([2, 3]) == [2, 4]
  assert bijector.inverse_event_shape([2, 4]) == [2, 3]
  assert bijector.forward_event_shape(tf.TensorShape([2, None])).as_list() == (
      [2, None])
  assert bijector.forward_event_shape(tf.TensorShape(None)).rank is None
  np.testing.assert_array_equal(bijector.forward_event_shape_tensor([2, 3]),
                                [2, 4])
  np.testing.assert_array_equal(bijector.inverse_event_shape_tensor([2, 4]),
                                [2, 3])

  @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32)])
  def unknown(z):
    y = bijector.forward(z)
    assert y.shape.as_list() == [None, None]
    return tf.shape(y), bijector.forward_event_shape_tensor(tf.shape(z))

  shape, event_shape = unknown(tf.zeros([5, 2]))
  np.testing.assert_array_equal(shape, [5, 3])
  np.testing.assert_array_equal(event_shape, [5, 3])


@pytest.mark.parametrize("jit_compile", [False, True])
def test_tf_function_and_xla_match_eager(jit_compile):
  bijector = _simplex_bijector.simplex_bijector()
  z = tf.random.stateless_normal([6, 4], seed=(3, 4), dtype=tf.float64)
  y = _held(bijector.forward(z))

  def run(b, z, y):
    return (b.forward(z), b.inverse(y), b.forward_log_det_jacobian(z, 1),
            b.inverse_log_det_jacobian(y, 1))

  compiled = tf.function(run, jit_compile=jit_compile)
  for got, expected in zip(compiled(bijector, z, y), run(bijector, z, y)):
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_validate_args_checks_the_simplex_with_tfp_texts():
  bijector = _simplex_bijector.simplex_bijector(validate_args=True)
  bijector.inverse(tf.constant([0.2, 0.3, 0.5]))
  for y, text in [([0.2, 0.3, 0.4], "must sum to `1`"),
                  ([1.5, -0.5, 0.], "less than or equal to `1`"),
                  ([0.5, 0.6, -0.1], "must be non-negative")]:
    with pytest.raises(tf.errors.InvalidArgumentError, match=text):
      bijector.inverse(tf.constant(y))


def test_inverse_of_boundary_draws_is_not_nan():
  # GumbelSoftmax draws at t = 0.5 reach the boundary in float32: a coordinate
  # rounds to 1 when the others sum below half an ulp of 1. How many of a
  # seed's draws do depends on the CPU's exp, so rows on the boundary are
  # added as such draws are: one coordinate exactly 1, the others tiny or 0.
  # The inverse stays finite (IteratedSigmoidCentered gives NaN there).
  draws = tfg.GumbelSoftmax(0.5, logits=tf.zeros(5)).sample(100_000,
                                                           seed=(1, 2))
  boundary = tf.constant([[1., 1e-9, 2e-10, 3e-12, 1e-20],
                          [1e-8, 1., 1e-9, 1e-10, 1e-25],
                          [1e-30, 1e-20, 1e-12, 1e-8, 1.]])
  y = tf.concat([draws, boundary], axis=0)
  assert np.sum(y.numpy() == 1.) >= 3
  bijector = _simplex_bijector.simplex_bijector()
  assert np.all(np.isfinite(bijector.inverse(y)))
  assert np.all(np.isfinite(bijector.inverse_log_det_jacobian(y, 1)))
  assert not np.all(np.isfinite(
      tfb.IteratedSigmoidCentered().inverse(boundary)))


@pytest.mark.parametrize("cls", FAMILIES)
def test_families_event_space_bijector_pushes_a_density_forward(cls):
  # A Normal on R^(K-1) pushed through the default event-space bijector:
  # TransformedDistribution's density is the base's minus the fldj.
  d = cls(0.5, logits=tf.constant([0., 1., 2.], tf.float64))
  bijector = d.experimental_default_event_space_bijector()
  base = tfd.MultivariateNormalDiag(tf.zeros([2], tf.float64))
  pushed = tfd.TransformedDistribution(base, bijector)
  assert pushed.event_shape == [3]
  y = pushed.sample(10, seed=(5, 6))
  z = bijector.inverse(y)
  np.testing.assert_allclose(
      pushed.log_prob(y),
      base.log_prob(z) - bijector.forward_log_det_jacobian(z, 1), rtol=1e-10)
  assert np.isfinite(d.log_prob(y).numpy()).all()


@pytest.mark.parametrize("cls", FAMILIES)
def test_probs_constraint_trains_a_transformed_variable(cls):
  properties = cls.parameter_properties()["probs"]
  bijector = properties.default_constraining_bijector_fn()
  assert isinstance(bijector, _simplex_bijector.SoftmaxCentered)
  probs = tfp.util.TransformedVariable([0.2, 0.3, 0.5], bijector)
  assert probs.trainable_variables[0].shape == [2]
  d = cls(0.7, probs=probs)
  x = d.sample(5, seed=(1, 2))
  with tf.GradientTape() as tape:
    loss = -tf.reduce_sum(d.log_prob(x))
  (grad,) = tape.gradient(loss, d.trainable_variables)
  assert grad.shape == [2] and np.isfinite(grad.numpy()).all()
  np.testing.assert_allclose(tf.convert_to_tensor(probs), [0.2, 0.3, 0.5],
                             rtol=1e-6)
