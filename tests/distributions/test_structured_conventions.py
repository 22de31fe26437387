"""The package's conventions in the structured families (RelaxedTopK,
GumbelSinkhorn, RelaxedPlackettLuce): a probability-0 class / score-0 item is
absent, with exactly zero gradient; float16 / bfloat16 compute in float32 and
round once."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg

tfd = tfp.distributions


@pytest.mark.parametrize("t", [1e-3, 0.5, 10.])
def test_plackett_luce_zero_score_is_ranked_last_exactly(t):
  scores = tf.Variable([0., 1., 2., 3.])
  with tf.GradientTape() as tape:
    x = tfg.RelaxedPlackettLuce(t, scores=scores).sample(500, seed=(1, 2))
    loss = tf.reduce_sum(x * tf.range(16, dtype=tf.float32)[:4, None] ** 0.5)
  grad = tape.gradient(loss, scores).numpy()
  x = x.numpy()
  assert np.isfinite(x).all() and np.isfinite(grad).all()
  # Item 0 is exactly the last rank, and exactly absent from the others.
  np.testing.assert_array_equal(x[:, 3, 0], 1.)
  np.testing.assert_array_equal(x[:, :3, 0], 0.)
  np.testing.assert_array_equal(x[:, 3, 1:], 0.)
  assert grad[0] == 0.
  assert np.all(grad[1:] != 0.)
  # The other rows are rows of a stochastic matrix over the 3 possible items.
  np.testing.assert_allclose(x[:, :3].sum(-1), 1., rtol=1e-5)


def test_plackett_luce_padding_keeps_the_law_of_the_possible_items():
  """The first N' ranks of a padded draw are the N'-item draw's (same law):
  the argmax order matches tfd.PlackettLuce on the possible items."""
  padded = tfg.RelaxedPlackettLuce(0.2, scores=[1., 0., 4., 2.])
  order = tf.argmax(padded.sample(20000, seed=(3, 4)), -1).numpy()
  np.testing.assert_array_equal(order[:, 3], 1)
  first = np.bincount(order[:, 0], minlength=4) / len(order)
  np.testing.assert_allclose(first, [1 / 7, 0., 4 / 7, 2 / 7], atol=0.012)


def test_plackett_luce_several_absent_items_in_index_order():
  x = tfg.RelaxedPlackettLuce(0.5, scores=[[0., 2., 0., 1.],
                                            [1., 1., 1., 1.]]).sample(
                                                seed=(5, 6)).numpy()
  np.testing.assert_array_equal(x[0, 2], [1., 0., 0., 0.])
  np.testing.assert_array_equal(x[0, 3], [0., 0., 1., 0.])
  assert np.isfinite(x).all()
  np.testing.assert_allclose(x[1].sum(-1), 1., rtol=1e-5)


def test_neural_sort_ignores_absent_items_values():
  """An absent item's column is 0 in the relaxed rows whatever the others."""
  s = tf.constant([[-np.inf, 0.3, 2.0, -1.0]])
  p = tfg.distributions.relaxed_plackett_luce.neural_sort(s, 0.1).numpy()
  full = tfg.distributions.relaxed_plackett_luce.neural_sort(s[:, 1:],
                                                             0.1).numpy()
  np.testing.assert_allclose(p[0, :3, 1:], full[0], rtol=1e-6)


@pytest.mark.parametrize("t", [1e-3, 0.5, 10.])
def test_top_k_zero_probability_has_zero_gradient(t):
  probs = tf.Variable([0., .2, .3, .5])
  with tf.GradientTape() as tape:
    x = tfg.RelaxedTopK(t, 2, probs=probs).sample(200, seed=(1, 2))
    loss = tf.reduce_sum(x * [1., -2., 3., 0.5])
  grad = tape.gradient(loss, probs).numpy()
  assert np.isfinite(grad).all()
  assert grad[0] == 0.
  np.testing.assert_array_equal(x.numpy()[:, 0], 0.)
  np.testing.assert_allclose(x.numpy().sum(-1), 2., rtol=1e-5)


def test_sinkhorn_forbidden_assignment_has_zero_gradient():
  logits = tf.Variable([[-np.inf, 0., 1.], [0., 2., -1.], [1., 0., 0.]])
  with tf.GradientTape() as tape:
    x = tfg.GumbelSinkhorn(0.5, logits).sample(50, seed=(1, 2))
    loss = tf.reduce_sum(x * tf.reshape(tf.range(9.), [3, 3]))
  grad = tape.gradient(loss, logits).numpy()
  assert np.isfinite(grad).all() and grad[0, 0] == 0.
  np.testing.assert_array_equal(x.numpy()[:, 0, 0], 0.)


NARROW_CASES = [
    (lambda dtype: tfg.RelaxedTopK(tf.constant(0.25, dtype), 2, logits=tf.constant(
        [0., 1., -2., 0.5], dtype)), "RelaxedTopK"),
    (lambda dtype: tfg.GumbelSinkhorn(tf.constant(0.25, dtype), tf.constant(
        [[0., 1.], [2., -1.]], dtype)), "GumbelSinkhorn"),
    (lambda dtype: tfg.RelaxedPlackettLuce(tf.constant(0.25, dtype),
                                           scores=tf.constant([1., 2., 0.5],
                                                              dtype)),
     "RelaxedPlackettLuce"),
]


@pytest.mark.parametrize("make,name", NARROW_CASES, ids=[c[1] for c in NARROW_CASES])
@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16])
def test_narrow_dtypes_are_the_float32_sample_rounded_once(make, name, dtype):
  narrow = make(dtype).sample(100, seed=(7, 8))
  wide = make(tf.float32).sample(100, seed=(7, 8))
  assert narrow.dtype == dtype
  np.testing.assert_array_equal(narrow.numpy().astype(np.float32),
                                tf.cast(wide, dtype).numpy().astype(np.float32))
