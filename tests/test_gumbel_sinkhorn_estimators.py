"""tfg.estimators.matching and gumbel_sinkhorn_st."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

import tfp_gumbel as tfg
from tfp_gumbel._kernels import noise
from tfp_gumbel._backend import tensorflow as tf_xp


def brute_force_matching(scores):
  """The permutation matrix maximizing sum_i scores[i, perm[i]], by
  enumerating all N! permutations (independent of scipy)."""
  n = scores.shape[-1]
  best = max(itertools.permutations(range(n)),
             key=lambda perm: sum(scores[i, perm[i]] for i in range(n)))
  return np.eye(n)[list(best)]


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_matching_is_the_maximum_weight_permutation(n):
  scores = np.random.RandomState(n).randn(4, 3, n, n).astype(np.float32)
  result = tfg.estimators.matching(scores).numpy()
  assert result.shape == scores.shape and result.dtype == np.float32
  assert set(np.unique(result)) <= {0., 1.}
  expected = np.array([[brute_force_matching(m) for m in batch]
                       for batch in scores])
  np.testing.assert_array_equal(result, expected)


def test_matching_in_tf_function_float64_and_unknown_shapes():
  scores = np.random.RandomState(0).randn(6, 4, 4)
  fn = tf.function(tfg.estimators.matching, input_signature=[
      tf.TensorSpec([None, None, None], tf.float64)])
  result = fn(tf.constant(scores))
  assert result.dtype == tf.float64
  np.testing.assert_array_equal(result, [brute_force_matching(m)
                                         for m in scores])


def test_matching_avoids_forbidden_assignments():
  scores = np.array([[10., -np.inf], [-np.inf, -5.]], np.float32)
  np.testing.assert_array_equal(tfg.estimators.matching(scores), np.eye(2))


def test_matching_does_not_compile_under_xla():
  # Documented: the scipy call cannot be compiled by XLA.
  fn = tf.function(tfg.estimators.matching, jit_compile=True)
  with pytest.raises((tf.errors.InvalidArgumentError,
                      tf.errors.UnimplementedError), match="PyFunc"):
    fn(tf.zeros([3, 3]))


@pytest.mark.parametrize("shape", [[3], [2, 3]])
def test_matching_rejects_non_square_or_vector_scores(shape):
  with pytest.raises(ValueError, match="`scores` must"):
    tfg.estimators.matching(tf.zeros(shape))


def test_gumbel_sinkhorn_st_forward_is_matching_backward_is_relaxed():
  logits = tf.Variable(np.random.RandomState(0).randn(2, 4, 4), dtype=tf.float32)
  temperature = tf.Variable([0.5, 2.])
  weights = tf.constant(np.random.RandomState(1).randn(4, 4), tf.float32)
  with tf.GradientTape(persistent=True) as tape:
    hard = tfg.estimators.gumbel_sinkhorn_st(logits, temperature, seed=(3, 4))
    soft = tfg.GumbelSinkhorn(temperature, logits).sample(seed=(3, 4))
    hard_loss = tf.reduce_sum(hard * weights)
    soft_loss = tf.reduce_sum(soft * weights)
  # Forward: the matching of the same perturbed logits the relaxed sample
  # uses (same seed, same noise), exactly 0/1.
  g = noise.gumbel(tf_xp, [2, 4, 4], (3, 4)).numpy()
  expected = np.array([brute_force_matching(m) for m in logits.numpy() + g])
  np.testing.assert_array_equal(hard, expected)
  # Backward: exactly the relaxed sample's gradient, for logits and t.
  for h, s in zip(tape.gradient(hard_loss, [logits, temperature]),
                  tape.gradient(soft_loss, [logits, temperature])):
    np.testing.assert_allclose(h, s, rtol=1e-6, atol=1e-7)
    assert np.abs(h.numpy()).max() > 0


def test_gumbel_sinkhorn_st_in_tf_function_and_float64():
  fn = tf.function(lambda l, t: tfg.estimators.gumbel_sinkhorn_st(
      l, t, seed=(1, 2), num_iters=5))
  logits = tf.zeros([3, 3], tf.float64)
  out = fn(logits, tf.constant(0.3, tf.float64))
  assert out.dtype == tf.float64
  np.testing.assert_array_equal(tf.reduce_sum(out, -1), 1.)
  np.testing.assert_array_equal(tf.reduce_sum(out, -2), 1.)
  np.testing.assert_array_equal(out, tfg.estimators.gumbel_sinkhorn_st(
      logits, tf.constant(0.3, tf.float64), seed=(1, 2), num_iters=5))


def test_gumbel_sinkhorn_st_bad_arguments():
  with pytest.raises(ValueError, match="`num_iters` must be"):
    tfg.estimators.gumbel_sinkhorn_st(tf.zeros([3, 3]), 1., num_iters=-1)
  with pytest.raises(ValueError, match="`tolerance` must be"):
    tfg.estimators.gumbel_sinkhorn_st(tf.zeros([3, 3]), 1., tolerance=2.)
  with pytest.raises(ValueError, match="`logits` must have"):
    tfg.estimators.gumbel_sinkhorn_st(tf.zeros([3]), 1.)
