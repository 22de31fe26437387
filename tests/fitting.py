"""Maximum-likelihood fitting shared by the distribution tests and benchmarks."""

import numpy as np
import tensorflow as tf

SEED_000_PROBS = [0.1, 0.2, 0.5, 0.2]


def _fit(dist_fn, data, steps, learning_rate=0.05):
  """Maximum likelihood of (temperature, probs) by Adam on -mean log_prob."""
  k = data.shape[-1]
  raw_t = tf.Variable(0.)            # temperature = exp(raw_t), starts at 1
  logits = tf.Variable(tf.zeros([k]))
  optimizer = tf.keras.optimizers.Adam(learning_rate)

  @tf.function
  def step():
    with tf.GradientTape() as tape:
      loss = -tf.reduce_mean(dist_fn(tf.exp(raw_t), logits).log_prob(data))
    optimizer.apply_gradients(
        zip(tape.gradient(loss, [raw_t, logits]), [raw_t, logits]))
    return loss

  for _ in range(steps):
    step()
  return float(tf.exp(raw_t)), tf.nn.softmax(logits).numpy()


def mle_recovery(dist_cls, temperature, data, probs=SEED_000_PROBS,
                 steps=1500):
  """Relative errors of the fitted temperature and (worst) class probability."""
  t_hat, probs_hat = _fit(
      lambda t, logits: dist_cls(t, logits=logits), data, steps)
  return (abs(t_hat / temperature - 1.),
          np.max(np.abs(probs_hat / np.array(probs) - 1.)))


