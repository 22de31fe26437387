"""GumbelSigmoid with probs exactly 0 or 1 (logits -inf or +inf): a point mass.

The law is an atom at x = 0 (probs 0) or x = 1 (probs 1). Where TFP's
RelaxedBernoulli gives a value (not NaN) we give the same one: its density is
the Dirac delta w.r.t. Lebesgue measure (+inf at the atom, -inf elsewhere),
its cdf and survival function the step functions; at the atom, where TFP's
log_survival_function is NaN, ours is -inf (the log of its survival 0).
"""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg

tfd = tfp.distributions

METHODS = ["log_prob", "prob", "cdf", "log_cdf", "survival_function",
           "log_survival_function"]
X = np.array([0., 1e-30, 0.25, 0.5, 1. - 6e-8, 1.], np.float32)


@pytest.mark.parametrize("probs", [0., 1.])
@pytest.mark.parametrize("t", [1e-3, 0.05, 1., 10.])
def test_samples_are_the_atom_and_nothing_is_nan(probs, t):
  d = tfg.GumbelSigmoid(t, probs=probs)
  x = d.sample(100, seed=(1, 2)).numpy()
  np.testing.assert_array_equal(x, np.full(100, probs, np.float32))
  for method in METHODS:
    assert not np.isnan(getattr(d, method)(X).numpy()).any(), method
  # The atom's density is a Dirac delta: +inf on own samples, never NaN.
  np.testing.assert_array_equal(d.log_prob(x), np.full(100, np.inf))
  _, lp = d.experimental_sample_and_log_prob(100, seed=(1, 2))
  np.testing.assert_array_equal(lp, np.full(100, np.inf))


@pytest.mark.parametrize("probs", [0., 1.])
@pytest.mark.parametrize("method", METHODS)
def test_values_agree_with_tfp_where_tfp_defines_them(probs, method):
  ours = getattr(tfg.GumbelSigmoid(0.05, probs=probs), method)(X).numpy()
  theirs = getattr(tfd.RelaxedBernoulli(0.05, probs=probs), method)(X).numpy()
  defined = ~np.isnan(theirs)
  np.testing.assert_array_equal(ours[defined], theirs[defined])
  # TFP's only NaN: log_survival_function at the atom, ours is -inf.
  np.testing.assert_array_equal(ours[~defined], -np.inf)


@pytest.mark.parametrize("probs", [0., 1.])
def test_step_functions(probs):
  d = tfg.GumbelSigmoid(0.5, probs=probs)
  at_atom = X == probs
  np.testing.assert_array_equal(d.cdf(X), np.where(X >= probs, 1., 0.))
  np.testing.assert_array_equal(d.survival_function(X),
                                np.where(X < probs, 1., 0.))
  np.testing.assert_array_equal(d.log_prob(X),
                                np.where(at_atom, np.inf, -np.inf))


def test_gradients_are_finite_next_to_degenerate_members():
  probs = tf.Variable([0., 0.3, 1.])
  logits = tf.Variable([-np.inf, 0.4, np.inf])
  t = tf.Variable(0.2)
  for key, param in (("probs", probs), ("logits", logits)):
    with tf.GradientTape() as tape:
      d = tfg.GumbelSigmoid(t, **{key: param})
      x = d.sample(50, seed=(3, 4))
      lp = d.log_prob(x)
      loss = tf.reduce_sum(x) + tf.reduce_sum(lp[:, 1]) + tf.reduce_sum(
          d.cdf(x)) + tf.reduce_sum(d.log_survival_function(x)[:, 1])
    g_param, g_t = tape.gradient(loss, [param, t])
    assert np.isfinite(g_param.numpy()).all() and np.isfinite(g_t.numpy())
    assert g_param.numpy()[0] == 0. and g_param.numpy()[2] == 0.


def test_logit_space_base_has_atoms_at_plus_minus_inf():
  d = tfg.GumbelSigmoid(0.5, logits=[-np.inf, np.inf]).distribution
  y = d.sample(3, seed=(1, 2)).numpy()
  np.testing.assert_array_equal(y, np.tile([-np.inf, np.inf], [3, 1]))
  np.testing.assert_array_equal(d.log_prob(y), np.full([3, 2], np.inf))
  np.testing.assert_array_equal(d.log_prob([0., 0.]), [-np.inf, -np.inf])


def test_degenerate_members_under_tf_function_and_xla():
  def run(logits):
    d = tfg.GumbelSigmoid(0.3, logits=logits)
    x, lp = d.experimental_sample_and_log_prob(4, seed=(1, 2))
    return x, lp, d.log_prob(x), d.cdf(x)

  logits = tf.constant([-np.inf, 0.5, np.inf])
  eager = run(logits)
  for compiled in (tf.function(run), tf.function(run, jit_compile=True)):
    for a, b in zip(eager, compiled(logits)):
      np.testing.assert_allclose(a, b, rtol=1e-5)


def test_validate_args_allows_probs_0_and_1():
  d = tfg.GumbelSigmoid(0.5, probs=[0., 1.], validate_args=True)
  x = d.sample(2, seed=(1, 2))
  assert not np.isnan(d.log_prob(x).numpy()).any()
