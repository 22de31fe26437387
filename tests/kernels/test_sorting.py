"""The NeuralSort kernel (`tfp_gumbel._kernels.sorting`): the paper's
formula, gradients against finite differences, absent items (ranked last
exactly, zero gradient, the possible items' block equal to NeuralSort of
those items alone), and that the module imports no array library."""

import numpy as np
import pytest
import tensorflow as tf

from tests import kernels
from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel._kernels import sorting


def neural_sort(s, temperature):
  s = tf.convert_to_tensor(s)
  return sorting.neural_sort(tf_xp, s,
                             tf.convert_to_tensor(temperature, s.dtype))


def neural_sort_reference(s, t):
  """Grover et al. (2019), eq. (5), 1-based rank i:
  P[i, :] = softmax(((n + 1 - 2 i) s - A_s 1) / t), A_s[j, k] = |s_j - s_k|."""
  s = np.asarray(s, np.float64)
  n = s.shape[-1]
  a_one = np.abs(s[:, None] - s[None, :]).sum(axis=1)
  i = np.arange(1, n + 1)[:, None]
  z = ((n + 1 - 2 * i) * s[None, :] - a_one[None, :]) / t
  z -= z.max(axis=1, keepdims=True)
  return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


def test_imports_no_array_library():
  assert kernels.imported_array_libraries(
      "tfp_gumbel._kernels.sorting") == "[]"


@pytest.mark.parametrize("t", [0.01, 0.3, 1., 5.])
def test_neural_sort_matches_the_papers_formula(t):
  rng = np.random.RandomState(0)
  for n in (1, 2, 5, 9):
    s = rng.normal(size=n) * 3.
    np.testing.assert_allclose(neural_sort(tf.constant(s), t),
                               neural_sort_reference(s, t),
                               rtol=1e-10, atol=1e-300)


def test_gradients_match_finite_differences():
  s = tf.constant([0.3, -1.2, 2.0, 0.7], tf.float64)
  weights = tf.constant(np.random.RandomState(0).normal(size=[4, 4]))

  def loss(s, t):
    return tf.reduce_sum(neural_sort(s, t) * weights)

  for t in (0.3, 1.5):
    analytic, numeric = tf.test.compute_gradient(
        lambda s, t: loss(s, t), [s, tf.constant(t, tf.float64)])
    for a, b in zip(analytic, numeric):
      # Central differences with TF's step 1e-3 err by ~step^2 |f'''| / 6,
      # with |f'''| ~ 1 / t^3 here: ~1e-6 at t = 0.3.
      np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-5),
                                         (np.float64, 1e-12)])
@pytest.mark.parametrize("absent", [[0], [2], [1, 4], [0, 1, 2, 3, 5]])
def test_absent_items_leave_the_possible_items_block_unchanged(
    dtype, rtol, absent):
  """With items absent (s = -inf), the first N' ranks over the N' possible
  items are NeuralSort of those items alone; the absent items take the last
  ranks exactly, in index order, and get zero gradient; their relaxed rows
  are 0 at the absent items."""
  rng = np.random.RandomState(len(absent))
  n, batch = 6, 3
  s = (rng.normal(size=[batch, n]) * 3.).astype(dtype)
  s[:, absent] = -np.inf
  kept = [j for j in range(n) if j not in absent]
  t = tf.constant([0.1, 1., 4.], dtype)
  x = tf.constant(s)
  weights = tf.constant(rng.normal(size=[batch, n, n]).astype(dtype))
  with tf.GradientTape() as tape:
    tape.watch([x, t])
    p = neural_sort(x, t)
    loss = tf.reduce_sum(p * weights)
  grad_s, grad_t = tape.gradient(loss, [x, t])
  p = p.numpy()
  m = len(kept)
  alone = neural_sort(tf.constant(s[:, kept]), t).numpy()
  np.testing.assert_allclose(p[:, :m][:, :, kept], alone, rtol=rtol,
                             atol=rtol * 1e-3)
  np.testing.assert_array_equal(p[:, :m][:, :, absent], 0.)
  np.testing.assert_array_equal(p[:, m:][:, :, kept], 0.)
  np.testing.assert_array_equal(p[:, m:][:, :, absent],
                                np.broadcast_to(np.eye(len(absent)),
                                                [batch] + [len(absent)] * 2))
  np.testing.assert_array_equal(grad_s.numpy()[:, absent], 0.)
  assert np.isfinite(grad_s.numpy()).all() and np.isfinite(grad_t.numpy()).all()


def test_all_items_absent_is_the_identity_order():
  p = neural_sort(tf.constant([[-np.inf] * 3]), 0.5).numpy()
  np.testing.assert_array_equal(p[0], np.eye(3))


@pytest.mark.parametrize("masked", [False, True])
def test_unknown_number_of_items_gives_the_static_numbers(masked):
  s = np.random.RandomState(3).normal(size=[2, 5]).astype(np.float32)
  if masked:
    s[0, 1] = -np.inf
  t = tf.constant(0.7)
  dynamic = tf.function(lambda s: neural_sort(s, t), input_signature=[
      tf.TensorSpec([None, None], tf.float32)])
  np.testing.assert_array_equal(dynamic(tf.constant(s)),
                                tf.function(lambda s: neural_sort(s, t))(
                                    tf.constant(s)))
