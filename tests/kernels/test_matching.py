"""tfp_gumbel._kernels.matching: the assignment on the host, against brute
force, and through the TensorFlow namespace."""

import numpy as np
import pytest
import tensorflow as tf

from tests.test_gumbel_sinkhorn_estimators import brute_force_matching
from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel._kernels import matching


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 2, 4])
def test_numpy_matching_is_the_maximum_weight_permutation(dtype, n):
  scores = np.random.RandomState(n).randn(2, 3, n, n).astype(dtype)
  result = matching.matching_numpy(scores)
  assert result.shape == scores.shape and result.dtype == dtype
  np.testing.assert_array_equal(
      result, [[brute_force_matching(m) for m in batch] for batch in scores])


def test_numpy_matching_avoids_forbidden_assignments():
  scores = np.array([[0., 9., -np.inf], [-np.inf, 0., 9.], [9., -np.inf, 0.]])
  np.testing.assert_array_equal(matching.matching_numpy(scores),
                                [[0, 1, 0], [0, 0, 1], [1, 0, 0]])


def test_through_the_namespace_eagerly_and_in_tf_function():
  scores = tf.constant(np.random.RandomState(0).randn(5, 4, 4), tf.float32)
  expected = matching.matching_numpy(scores.numpy())
  np.testing.assert_array_equal(matching.matching(tf_xp, scores), expected)
  fn = tf.function(lambda s: matching.matching(tf_xp, s), input_signature=[
      tf.TensorSpec([None, 4, 4], tf.float32)])
  result = fn(scores)
  assert result.shape.as_list() == [5, 4, 4]
  np.testing.assert_array_equal(result, expected)
