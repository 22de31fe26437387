"""tfg.estimators.plackett_luce_st: exact permutation matrices with the law of
tfd.PlackettLuce (same noise, same draw) and the NeuralSort sample's gradient;
finite at the extremes, under tf.function and XLA."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg

tfd = tfp.distributions


def test_forward_is_the_plackett_luce_permutation_for_the_same_noise():
  logits = tf.math.log([[1., 4., 2., 0.5], [3., 3., 1., 2.]])
  p = tfg.estimators.plackett_luce_st(logits, 0.5, seed=(1, 2))
  p = np.asarray(p)
  assert np.all((p == 0.) | (p == 1.))
  np.testing.assert_array_equal(p.sum(-1), 1.)
  np.testing.assert_array_equal(p.sum(-2), 1.)
  hard = tfd.PlackettLuce(tf.exp(logits)).sample(seed=(1, 2))
  np.testing.assert_array_equal(np.argmax(p, -1), hard)


def test_gradient_is_the_relaxed_samples():
  logits = tf.Variable([0.2, -1., 1.5, 0.3])
  t = tf.Variable(0.6)
  weights = tf.constant(np.random.RandomState(0).normal(size=[4, 4]),
                        tf.float32)
  with tf.GradientTape() as tape:
    hard = tfg.estimators.plackett_luce_st(logits, t, seed=(3, 4))
    loss_hard = tf.reduce_sum(hard * weights)
  g_hard = tape.gradient(loss_hard, [logits, t])
  with tf.GradientTape() as tape:
    soft = tfg.RelaxedPlackettLuce(t, scores=tf.exp(logits)).sample(
        seed=(3, 4))
    loss_soft = tf.reduce_sum(soft * weights)
  g_soft = tape.gradient(loss_soft, [logits, t])
  for a, b in zip(g_hard, g_soft):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("jit", [False, True])
def test_compiled_batch_temperature_and_extremes(jit):
  logits = tf.Variable(np.array([[1e3, -1e3, 0., 5.], [0., 0., 0., 0.]],
                                np.float32))
  t = tf.constant([1e-3, 1e3])

  @tf.function(jit_compile=jit)
  def run():
    with tf.GradientTape() as tape:
      p = tfg.estimators.plackett_luce_st(logits, t, seed=(5, 6))
      loss = tf.reduce_sum(p * tf.reshape(tf.range(16.), [4, 4]))
    return p, tape.gradient(loss, logits)

  p, grad = run()
  assert p.shape == [2, 4, 4]
  np.testing.assert_array_equal(np.argmax(p[0], -1), [0, 3, 2, 1])
  assert np.all(np.isfinite(grad))
