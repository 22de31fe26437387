"""The subset kernels (`tfp_gumbel._kernels.subsets`): each eager path of
log(1 - a) against the graph and an exact recursion, the unrolled and the
while-loop recursion, masked keys, the exact k-hot, and that the module
imports no array library."""

import numpy as np
import pytest
from scipy import special
import tensorflow as tf

from tests import kernels
from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel._kernels import subsets


def relaxed_top_k(keys, k, temperature):
  return subsets.relaxed_top_k(tf_xp, keys, k, temperature)


def test_imports_no_array_library():
  assert kernels.imported_array_libraries(
      "tfp_gumbel._kernels.subsets") == "[]"


def test_each_log1m_branch_is_exact_and_eager_matches_the_graph_bit_for_bit():
  """The top-k kernel's log(1 - a) has three eager paths (no coordinate above
  2/3; the others' mass summed; its logsumexp where that mass underflows
  float32) and one graph expression selecting among them: each row alone,
  eagerly, must give the graph's bits, and all match an exact float64
  recursion (log(1 - a) as the logsumexp of the other log-softmax values)."""
  keys = np.array([[0.1, 0., 0.05, -0.1],     # a <= 2/3 everywhere
                   [3., 0., 0.5, -1.],        # top 0.88, others' mass normal
                   [100., 0., 1., -1.]],      # others' mass ~1e-43 < 1e-31
                  np.float32)
  t = tf.constant(1.)

  def exact(row, k):
    alpha, khot = row.astype(np.float64), 0.
    for _ in range(k):
      log_a = alpha - special.logsumexp(alpha)
      khot = khot + np.exp(log_a)
      alpha = alpha + np.array([special.logsumexp(np.delete(log_a, i))
                                for i in range(len(row))])
    return khot

  # Row by row in both (a batch of other rows may round a reduction
  # differently): the graph computes every branch and selects.
  graph = tf.function(lambda x: relaxed_top_k(x, 3, t))
  for row in keys:
    eager = relaxed_top_k(tf.constant(row[None]), 3, t).numpy()[0]
    np.testing.assert_array_equal(
        eager, graph(tf.constant(row[None])).numpy()[0])
    np.testing.assert_allclose(eager, exact(row, 3), rtol=0, atol=2e-6)
  x = tf.constant(keys)
  with tf.GradientTape() as tape:
    tape.watch([x, t])
    loss = tf.reduce_sum(relaxed_top_k(x, 3, t) * [1., 2., 3., 4.])
  for g in tape.gradient(loss, [x, t]):
    assert np.all(np.isfinite(g.numpy()))


@pytest.mark.parametrize("k", [3, 9])
def test_static_and_dynamic_k_agree(k):
  # A static k <= 8 is unrolled, a larger or dynamic one is a while loop:
  # the same steps, the same numbers.
  keys = tf.constant(np.random.RandomState(k).normal(size=[2, 12]) * 2.,
                     tf.float64)
  t = tf.constant([[0.3], [2.]], tf.float64)
  static = relaxed_top_k(keys, k, t)
  dynamic = tf.function(lambda k: relaxed_top_k(keys, k, t))(tf.constant(k))
  np.testing.assert_allclose(static, dynamic, rtol=1e-12, atol=1e-15)
  np.testing.assert_allclose(np.sum(static, -1), k, rtol=1e-12)


@pytest.mark.parametrize("k", [2, 9])
def test_masked_keys_are_zero_with_zero_gradient(k):
  keys = np.random.RandomState(0).normal(size=[3, 12]).astype(np.float32)
  keys[:, [0, 5]] = -np.inf
  keys = tf.constant(keys)
  t = tf.Variable([[0.5]] * 3)
  with tf.GradientTape() as tape:
    tape.watch(keys)
    x = relaxed_top_k(keys, k, t)
    loss = tf.reduce_sum(x * tf.range(12.))
  grad_keys, grad_t = tape.gradient(loss, [keys, t])
  np.testing.assert_array_equal(x.numpy()[:, [0, 5]], 0.)
  np.testing.assert_array_equal(grad_keys.numpy()[:, [0, 5]], 0.)
  assert np.isfinite(grad_keys.numpy()).all()
  assert np.isfinite(grad_t.numpy()).all()
  np.testing.assert_allclose(np.sum(x, -1), k, rtol=1e-5)


def test_top_k_mask_is_the_k_hot_of_the_largest():
  x = tf.constant([[3., 1., 2., -1.], [0., -np.inf, 5., 4.]])
  np.testing.assert_array_equal(subsets.top_k_mask(tf_xp, x, 2),
                                [[1., 0., 1., 0.], [0., 0., 1., 1.]])


@pytest.mark.parametrize("k, num_classes", [(0, 4), (5, 4), (-1, None)])
def test_check_k_rejects_a_static_k_out_of_range(k, num_classes):
  with pytest.raises(ValueError, match="`k` must be between 1"):
    subsets.check_k(k, num_classes)


@pytest.mark.parametrize("k, num_classes", [(1, 4), (4, 4), (100, None),
                                            (tf.constant(7), 4), (2.5, 4)])
def test_check_k_accepts_k_in_range_and_leaves_tensors_to_their_user(
    k, num_classes):
  subsets.check_k(k, num_classes)
