"""ExpRelaxedGumbelSoftmax: log-space density, exactness and recovery."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg
from tests import fitting
from tests import reference

tfd = tfp.distributions


@pytest.mark.parametrize("k,temperature", [(2, 0.3), (5, 1.0), (5, 1e-3),
                                           (30, 4.0)])
def test_log_prob_matches_reference_and_tfp(k, temperature):
  probs = np.random.RandomState(k).dirichlet(np.ones(k))
  d = tfg.ExpRelaxedGumbelSoftmax(tf.constant(temperature, tf.float64),
                                  probs=probs)
  y = d.sample(300, seed=(k, 1)).numpy()
  ours = d.log_prob(y).numpy()
  np.testing.assert_allclose(
      ours, reference.exp_concrete_log_density(y, probs, temperature),
      rtol=1e-9)
  tfps = tfd.ExpRelaxedOneHotCategorical(
      tf.constant(temperature, tf.float64), probs=probs).log_prob(y)
  np.testing.assert_allclose(ours, tfps, rtol=1e-5)


def test_log_prob_is_the_concrete_density_plus_log_jacobian():
  # p_X(x) = p_Y(log x) / prod_k x_k: the relation GumbelSoftmax relies on.
  probs = [0.2, 0.5, 0.3]
  x = np.random.RandomState(0).dirichlet(np.ones(3), size=50)
  d = tfg.ExpRelaxedGumbelSoftmax(tf.constant(0.4, tf.float64), probs=probs)
  np.testing.assert_allclose(
      d.log_prob(np.log(x)) - np.log(x).sum(-1),
      reference.concrete_log_density(x, probs, 0.4), rtol=1e-10)


@pytest.mark.parametrize("temperature", [1e-3, 0.1, 2.0])
def test_log_prob_is_invariant_to_a_shift_of_y(temperature):
  # Rounding of logsumexp(y) must not move the density (see the docstring).
  d = tfg.ExpRelaxedGumbelSoftmax(tf.constant(temperature, tf.float64),
                                  logits=[1., -2., 0.5])
  y = d.sample(20, seed=(1, 1))
  np.testing.assert_allclose(d.log_prob(y), d.log_prob(y + 1e-3), rtol=1e-9)


def test_sample_and_log_prob_equals_log_prob_of_the_draw():
  d = tfg.ExpRelaxedGumbelSoftmax([0.001, 0.5], logits=[[1e3, -1e3, 0., 3.]])
  y, lp = d.experimental_sample_and_log_prob(500, seed=(2, 3))
  np.testing.assert_array_equal(y, d.sample(500, seed=(2, 3)))
  np.testing.assert_allclose(lp, d.log_prob(y), rtol=1e-6)
  assert np.isfinite(y.numpy()).all() and np.isfinite(lp.numpy()).all()


@pytest.mark.parametrize("temperature", [0.01, 0.1, 1.0])
def test_maximum_likelihood_recovers_temperature_and_probs(temperature):
  d = tfg.ExpRelaxedGumbelSoftmax(temperature, probs=fitting.SEED_000_PROBS)
  data = tf.constant(d.sample(10_000, seed=(1, 2)).numpy())
  t_err, probs_err = fitting.mle_recovery(tfg.ExpRelaxedGumbelSoftmax, temperature,
                                     data)
  assert t_err < 0.05 and probs_err < 0.05, (t_err, probs_err)


def test_default_event_space_bijector_maps_onto_the_log_simplex():
  d = tfg.ExpRelaxedGumbelSoftmax(0.5, logits=[0., 1., 2.])
  bijector = d.experimental_default_event_space_bijector()
  z = tf.random.stateless_normal([100, 2], seed=(1, 2), stddev=3.)
  y = bijector(z)
  np.testing.assert_allclose(tf.reduce_logsumexp(y, -1), 0., atol=1e-6)
  assert np.isfinite((d.log_prob(y)
                      + bijector.forward_log_det_jacobian(z, 1)).numpy()).all()
