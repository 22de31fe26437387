"""GumbelSoftmax: sampling law, density, gradients and float32 numerics."""

import numpy as np
import pytest
from scipy import integrate
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg
from tests import fitting
from tests import reference

tfd = tfp.distributions

SEED_000_PROBS = fitting.SEED_000_PROBS


@tf.function(jit_compile=True)
def _sample(temperature, probs, n, seed):
  return tfg.GumbelSoftmax(temperature, probs=probs).sample(n, seed=seed)


@pytest.mark.parametrize("probs,temperature", [
    (SEED_000_PROBS, 0.1),
    (SEED_000_PROBS, 1.0),
    (SEED_000_PROBS, 5.0),
    ([0.7, 0.3], 0.5),
    (np.random.RandomState(0).dirichlet(np.ones(10)), 0.5),
    (np.random.RandomState(1).dirichlet(0.3 * np.ones(25)), 2.0),
])
def test_argmax_is_categorical(probs, temperature):
  # Gumbel-max: argmax of a sample is exactly Categorical(probs) at every
  # temperature. With 100,000 draws the test detects a 0.5 percentage-point
  # shift of a 0.5 probability (z = 3.2); with a fixed seed the p-value is a
  # fixed number, and p > 0.001 would fail for a correct sampler 1 time in
  # 1000 seeds.
  x = _sample(tf.constant(temperature, tf.float32),
              tf.constant(probs, tf.float32), 100_000, tf.constant([7, 11]))
  assert reference.argmax_chisquare_pvalue(x.numpy(), probs) > 1e-3


def test_argmax_chisquare_has_power():
  # The same test must reject a sampler whose law is off by 2 points.
  x = _sample(tf.constant(0.5), tf.constant([0.12, 0.18, 0.5, 0.2]), 100_000,
              tf.constant([7, 11]))
  assert reference.argmax_chisquare_pvalue(x.numpy(), SEED_000_PROBS) < 1e-6


def test_samples_equal_tfps_for_the_same_seed():
  # Same noise convention as TFP: the same seed gives TFP's draws, up to the
  # rounding of multiplying by 1 / t where TFP divides by t (one ulp of
  # z = (logits + g) / t, i.e. a relative error of |z| eps < 1e-5 here).
  args = dict(temperature=tf.constant([0.3, 2.]), logits=[[1., 2., 3.]])
  ours = tfg.GumbelSoftmax(**args).sample(5, seed=(3, 4))
  tfps = tfd.RelaxedOneHotCategorical(**args).sample(5, seed=(3, 4))
  np.testing.assert_allclose(ours, tfps, rtol=1e-5, atol=0)


def _simplex_points(k, n, seed):
  rng = np.random.RandomState(seed)
  return rng.dirichlet(0.7 * np.ones(k), size=n)


@pytest.mark.parametrize("k,temperature", [(2, 0.3), (4, 1.0), (7, 0.05),
                                           (4, 3.0)])
def test_log_prob_matches_reference_and_tfp(k, temperature):
  probs = np.random.RandomState(k).dirichlet(np.ones(k))
  x = _simplex_points(k, 200, seed=k)
  d = tfg.GumbelSoftmax(tf.constant(temperature, tf.float64), probs=probs)
  ours = d.log_prob(x).numpy()
  np.testing.assert_allclose(
      ours, reference.concrete_log_density(x, probs, temperature), rtol=1e-10)
  tfps = tfd.RelaxedOneHotCategorical(
      tf.constant(temperature, tf.float64), probs=probs).log_prob(x).numpy()
  finite = np.isfinite(tfps)
  assert finite.mean() > 0.9
  np.testing.assert_allclose(ours[finite], tfps[finite], rtol=1e-5)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_density_integrates_to_one(temperature):
  # K = 3: integrate p(x) over the simplex in the unconstrained coordinates of
  # SoftmaxCentered, x = softmax([z1, z2, 0]), whose Jacobian on (x1, x2) is
  # x1 x2 x3. The integrand decays like exp(-t |z|), so a box of half-width
  # 60 / t leaves < 1e-20 outside, and the trapezoid rule on a smooth,
  # decaying integrand with 1201 nodes per axis is accurate far below the
  # 1e-4 tolerance (halving the grid changes the result by < 1e-6).
  d = tfg.GumbelSoftmax(tf.constant(temperature, tf.float64),
                        probs=[0.2, 0.3, 0.5])
  half_width = 60. / min(temperature, 1.)
  z = np.linspace(-half_width, half_width, 1201)
  z1, z2 = np.meshgrid(z, z, indexing="ij")
  logits = np.stack([z1, z2, np.zeros_like(z1)], axis=-1)
  log_x = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
  x = np.exp(log_x)
  log_integrand = d.log_prob(x).numpy() + log_x.sum(-1)
  integrand = np.exp(log_integrand)
  total = integrate.trapezoid(integrate.trapezoid(integrand, z, axis=1), z)
  assert abs(total - 1.) < 1e-4


TEMPERATURES = [2., 1., 0.5, 0.1, 0.05, 0.01, 0.001]


def _held_samples(temperature, n=10_000):
  """float32 samples held as a fresh tensor, so no bijector cache applies."""
  d = tfg.GumbelSoftmax(temperature, probs=SEED_000_PROBS)
  return tf.constant(d.sample(n, seed=(1, 2)).numpy())


@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_log_prob_of_held_float32_samples_is_finite(temperature):
  x = _held_samples(temperature)
  d = tfg.GumbelSoftmax(temperature, probs=SEED_000_PROBS)
  assert np.isfinite(d.log_prob(x).numpy()).all()


def test_log_prob_at_underflowed_coordinates_uses_smallest_normal():
  x = tf.constant([[1., 0., 0.]])
  d = tfg.GumbelSoftmax(0.01, logits=[0., 0., 0.])
  tiny = np.finfo(np.float32).tiny
  expected = reference.concrete_log_density([[1., tiny, tiny]], [1 / 3] * 3,
                                            0.01)
  np.testing.assert_allclose(d.log_prob(x), expected, rtol=1e-5)


@pytest.mark.parametrize("temperature", [1.0, 1e-3])
@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_gradients_are_finite_at_extremes(temperature, scale):
  logits = tf.Variable(scale * np.array([1., -1., 0.5, -0.3], np.float32))
  t = tf.Variable(temperature)
  x = tf.constant(tfg.GumbelSoftmax(temperature, logits=logits)
                  .sample(100, seed=(3, 3)).numpy())
  with tf.GradientTape(persistent=True) as tape:
    d = tfg.GumbelSoftmax(t, logits=logits)
    s = d.sample(100, seed=(4, 4))
    losses = [tf.reduce_sum(s * [1., 2., 3., 4.]),
              tf.reduce_sum(d.log_prob(x)),
              tf.reduce_sum(d.log_prob(s))]
  for loss in losses:
    assert np.isfinite(loss.numpy())
    for g in tape.gradient(loss, [logits, t]):
      assert np.isfinite(g.numpy()).all()


def test_sample_and_log_prob_is_exact_in_log_space():
  d = tfg.GumbelSoftmax(0.01, probs=SEED_000_PROBS)
  x, lp = d.experimental_sample_and_log_prob(1000, seed=(8, 9))
  y = d.distribution.sample(1000, seed=(8, 9))
  np.testing.assert_array_equal(x, tf.exp(y))
  expected = d.distribution.log_prob(y) - tf.reduce_sum(y, -1)
  np.testing.assert_allclose(lp, expected, rtol=1e-6)
  assert np.isfinite(lp.numpy()).all()


@pytest.mark.parametrize("temperature", [0.1, 0.5, 1.0, 2.0])
def test_maximum_likelihood_recovers_temperature_and_probs(temperature):
  data = _held_samples(temperature)
  t_err, probs_err = fitting.mle_recovery(tfg.GumbelSoftmax, temperature, data)
  assert t_err < 0.05 and probs_err < 0.05, (t_err, probs_err)
