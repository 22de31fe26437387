"""tfg.estimators.top_k_st: exact k-hot forward, relaxed top-k gradient."""

import numpy as np
import pytest
import tensorflow as tf

import tfp_gumbel as tfg
from tfp_gumbel._kernels import noise
from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel._kernels import subsets
from tests.distributions import test_relaxed_top_k as distribution_tests


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_forward_is_exactly_k_hot(dtype):
  logits = tf.constant(np.random.RandomState(0).normal(size=[50, 12]) * 3.,
                       dtype)
  x = tfg.estimators.top_k_st(logits, 4, tf.constant(0.5, dtype), seed=(1, 2))
  assert x.dtype == dtype and x.shape == (50, 12)
  assert set(np.unique(x.numpy())) == {0., 1.}
  np.testing.assert_array_equal(np.sum(x, -1), 4.)


def test_forward_subset_law_is_plackett_luce_top_k():
  # The forward value is the Gumbel-top-k set at every temperature (t = 2
  # here, where the relaxation itself is far from k-hot): chi-square of the
  # 10 subsets of K = 5, k = 2 against the enumeration of
  # tfd.PlackettLuce(probs); 20000 draws, fixed seed, a correct sampler fails
  # p > 1e-3 with probability 1e-3 (measured p = 0.77).
  n, k = 20_000, 2
  logits = tf.math.log(tf.constant(np.tile(distribution_tests.PROBS, [n, 1]),
                                   tf.float32))
  x = tfg.estimators.top_k_st(logits, k, 2., seed=(5, 9)).numpy()
  expected = distribution_tests.subset_probs_by_enumeration(
      distribution_tests.PROBS, k)
  p_value = distribution_tests.chisquare_of_subsets(x, k, expected)
  assert p_value > 1e-3, p_value


def test_gradient_is_the_relaxed_samples_with_the_same_noise():
  logits = tf.constant([[0.3, -1., 2., 0.5, 1.2], [0., 0., 0., 0., 0.]],
                       tf.float64)
  t = tf.constant([0.7, 1.5], tf.float64)
  weights = tf.constant([1., -2., 3., 0.5, -1.], tf.float64)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch([logits, t])
    hard = tfg.estimators.top_k_st(logits, 2, t, seed=(4, 2))
    g = noise.gumbel(tf_xp, [2, 5], (4, 2), tf.float64)
    soft = subsets.relaxed_top_k(tf_xp, logits + g, 2, t[:, None])
    loss_hard = tf.reduce_sum(hard * weights)
    loss_soft = tf.reduce_sum(soft * weights)
  for a, b in zip(tape.gradient(loss_hard, [logits, t]),
                  tape.gradient(loss_soft, [logits, t])):
    np.testing.assert_allclose(a, b, rtol=1e-12)
  # And the forward set is the top 2 of the same perturbed logits.
  np.testing.assert_array_equal(
      np.sort(np.argsort(-hard.numpy(), -1)[:, :2], -1),
      np.sort(tf.math.top_k(logits + g, 2).indices.numpy(), -1))


def test_masked_classes_and_extreme_values():
  logits = tf.Variable([[1e3, -np.inf, -1e3, 0., 1e3 - 1e-3, -np.inf]] * 100)
  t = tf.Variable(1e-3)
  with tf.GradientTape() as tape:
    x = tfg.estimators.top_k_st(logits, 3, t, seed=(3, 3))
    loss = tf.reduce_sum(x * tf.range(6.))
  g_logits, g_t = tape.gradient(loss, [logits, t])
  assert np.all(x.numpy()[:, [1, 5]] == 0.)
  np.testing.assert_array_equal(np.sum(x, -1), 3.)
  assert np.isfinite(g_logits.numpy()).all() and np.isfinite(g_t.numpy())
  assert np.all(g_logits.numpy()[:, [1, 5]] == 0.)


def test_xla_and_tf_function_agree_with_eager():
  logits = tf.constant(np.random.RandomState(1).normal(size=[8, 10]),
                       tf.float32)

  def f(logits, t):
    with tf.GradientTape() as tape:
      tape.watch([logits, t])
      x = tfg.estimators.top_k_st(logits, 3, t, seed=(1, 2))
      loss = tf.reduce_sum(x * tf.range(10.))
    return x, tape.gradient(loss, [logits, t])

  t = tf.constant(0.5)
  x, (gl, gt) = f(logits, t)
  for mode in (tf.function(f), tf.function(f, jit_compile=True)):
    x2, (gl2, gt2) = mode(logits, t)
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_allclose(gl2, gl, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gt2, gt, rtol=1e-4, atol=1e-6)
