"""The direct push-forward computes what tfd.TransformedDistribution computes."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg

tfd = tfp.distributions

CASES = [
    (tfg.GumbelSoftmax, tf.constant([[0.3], [2.]]), [[0., 1., -2., 5.]]),
    (tfg.GumbelSigmoid, tf.constant([[0.3], [2.]]), [[0., 1., -2., 5.]]),
]


@pytest.mark.parametrize("cls, temperature, logits", CASES)
@pytest.mark.parametrize("compiled", [False, True])
def test_matches_transformed_distribution(cls, temperature, logits, compiled):
  d = cls(temperature, logits=logits)
  # TFP's generic path on the same base and bijector.
  generic = tfd.TransformedDistribution(d.distribution, d.bijector)

  def run(d, generic):
    x = d.sample(3, seed=(5, 6))
    x_generic = generic.sample(3, seed=(5, 6))
    y, lp = d.experimental_sample_and_log_prob(3, seed=(5, 6))
    y_generic, lp_generic = generic.experimental_sample_and_log_prob(
        3, seed=(5, 6))
    # Points inside the support, where no clamping happens.
    points = tf.clip_by_value(x, 1e-3, 0.999)
    return ((x, x_generic), (y, y_generic), (lp, lp_generic),
            (d.log_prob(points), generic.log_prob(points)))

  if compiled:
    run = tf.function(run)
  for ours, theirs in run(d, generic):
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls, temperature, logits", CASES)
def test_validate_args_path_agrees(cls, temperature, logits):
  fast = cls(temperature, logits=logits)
  checked = cls(temperature, logits=logits, validate_args=True)
  x, lp = fast.experimental_sample_and_log_prob(4, seed=(1, 9))
  x_checked, lp_checked = checked.experimental_sample_and_log_prob(
      4, seed=(1, 9))
  np.testing.assert_allclose(x, x_checked, rtol=1e-6)
  np.testing.assert_allclose(lp, lp_checked, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(fast.log_prob(x), checked.log_prob(x),
                             rtol=1e-5, atol=1e-5)
  # Same draws; GumbelSoftmax's fast path computes softmax(z) where the
  # checked one computes exp(log_softmax(z)), whose rounding of log x is
  # magnified |log x| times (~20 eps at x ~ 1e-9): allow 1e-5 relative.
  np.testing.assert_allclose(fast.sample(2, seed=(3, 3)),
                             checked.sample(2, seed=(3, 3)), rtol=1e-5)
