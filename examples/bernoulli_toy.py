"""The toy problem of Grathwohl et al. 2018 (RELAX), section 6.1.

Minimise E[(b - 0.499)^2] over theta, b ~ Bernoulli(theta): the optimum is
theta = 0, but the two outcomes cost 0.249 and 0.251, so the true gradient
(theta (1 - theta) 0.002 with respect to the logit) is tiny next to the
noise of a single-sample estimator. Every estimator trains its own logit
from theta = 0.5 with Adam (learning rate 0.01), one draw per step; at each
step 100 further independent draws at the current theta give the variance
of the estimator, and (REBAR's temperature and eta, RELAX's control variate)
the variance the tuning minimises (`tfp_gumbel.unbiased`).

Estimators: the score function without and with a baseline (leave-one-out
over 2 draws), straight-through Gumbel-Sigmoid (t = 0.5) and Gumbel-Rao
(t = 0.5, 10 conditional draws, on the 2-class form [0, logit]): both
biased; REBAR, RELAX (REBAR's control variate plus a 1-16-1 tanh network)
and DisARM: unbiased.

    python examples/bernoulli_toy.py [--quick | --full]
"""

import numpy as np

import _common

example = _common.Example(__doc__.split("\n")[0])

# pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf

import tfp_gumbel as tfg

tf.keras.utils.set_random_seed(example.seed)  # the networks' initial weights

est = tfg.estimators
TARGET = 0.499
DRAWS = 100  # draws per step for the variance
STEPS = example.pick(quick=60, default=3000, full=10000)


def loss(b):
  return tf.reduce_sum((b - TARGET) ** 2, axis=-1)


def relaxation_parameters():
  return tf.Variable(np.log(0.5), dtype=tf.float32), tf.Variable(1.)


class Estimator:
  """One estimator: its logit, the gradient of a draw, its tuning."""

  def __init__(self, name, value, tuned=()):
    self.name, self.value, self.tuned = name, value, list(tuned)
    self.logit = tf.Variable(0.)
    self.optimizer = tf.keras.optimizers.Adam(0.01)
    self.tuning = tf.keras.optimizers.Adam(0.01) if self.tuned else None
    self.step = tf.function(self._step)

  def _step(self, seed):
    with tf.GradientTape() as outer:
      logits = tf.fill([DRAWS + 1, 1], self.logit)
      with tf.GradientTape() as inner:
        inner.watch(logits)
        values = self.value(logits, seed)
      gradients = inner.gradient(values, logits)[:, 0]
      # Estimator variance: the mean square around the mean of the draws.
      mean_square = tf.reduce_mean(gradients[1:] ** 2)
    if self.tuned:
      self.tuning.apply_gradients(
          zip(outer.gradient(mean_square, self.tuned), self.tuned))
    self.optimizer.apply_gradients([(gradients[0], self.logit)])
    variance = tf.math.reduce_variance(gradients[1:])
    return tf.sigmoid(self.logit), variance


def make_estimators():
  rebar_t, rebar_eta = relaxation_parameters()
  relax_t, relax_eta = relaxation_parameters()
  network = tf.keras.Sequential([tf.keras.Input([1]),
                                 tf.keras.layers.Dense(16, activation="tanh"),
                                 tf.keras.layers.Dense(1)])

  def relax_control_variate(z):
    relaxed = tf.sigmoid(z / tf.exp(relax_t))
    return relax_eta * loss(relaxed) + network(z)[..., 0]

  def gumbel_rao(logits, seed):
    pair = tf.stack([tf.zeros_like(logits), logits], axis=-1)
    return loss(est.gumbel_rao(pair, 0.5, 10, seed=seed)[..., 1])

  return [
      Estimator("score", lambda l, s: est.score_function(
          loss, l, seed=s, binary=True)),
      Estimator("score_loo", lambda l, s: est.score_function(
          loss, l, 2, "leave_one_out", seed=s, binary=True)),
      Estimator("straight_through", lambda l, s: loss(
          est.gumbel_sigmoid_st(l, 0.5, seed=s))),
      Estimator("gumbel_rao", gumbel_rao),
      Estimator("rebar", lambda l, s: est.rebar(
          loss, l, tf.exp(rebar_t), rebar_eta, seed=s, binary=True),
                tuned=[rebar_t, rebar_eta]),
      Estimator("relax", lambda l, s: est.relax(
          loss, l, relax_control_variate, seed=s, binary=True),
                tuned=[relax_t, relax_eta, *network.trainable_variables]),
      Estimator("disarm", lambda l, s: est.disarm(loss, l, seed=s)),
  ]


estimators = make_estimators()
thetas = {e.name: np.zeros(STEPS) for e in estimators}
variances = {e.name: np.zeros(STEPS) for e in estimators}
for k, estimator in enumerate(estimators):
  for i in range(STEPS):
    theta, variance = estimator.step(tf.constant([example.seed, k * STEPS + i]))
    thetas[estimator.name][i] = theta.numpy()
    variances[estimator.name][i] = variance.numpy()
  print(f"{estimator.name:>17}: theta {thetas[estimator.name][-1]:.4f}, "
        f"log10 mean variance {np.log10(variances[estimator.name].mean()):.2f}",
        flush=True)

plt = example.plt
fig, (ax_theta, ax_variance) = plt.subplots(1, 2, figsize=(11, 4))
for name in thetas:
  ax_theta.plot(thetas[name], label=name)
  # The variance over 100 draws is exactly 0 at steps where every DisARM
  # pair agrees; the mean over a window of steps is the variance to show.
  window = max(1, STEPS // 60)
  smooth = np.convolve(variances[name], np.ones(window) / window, "valid")
  ax_variance.plot(np.arange(len(smooth)) + window, np.log10(smooth),
                   label=name)
ax_theta.set(xlabel="step", ylabel="theta", title="theta (optimum 0)")
ax_variance.set(xlabel="step", ylabel="log10 variance of the gradient",
                title="variance of one draw (100 per step, windowed mean)")
ax_theta.legend(fontsize=8)
figure = example.save(fig, "bernoulli_toy.png")

half = STEPS // 2  # the variance reported: its mean over the second half
example.summary(
    steps=STEPS,
    **{f"theta_{n}": float(thetas[n][-1]) for n in thetas},
    **{f"log10_variance_{n}": float(np.log10(np.mean(variances[n][half:])))
       for n in variances},
    figures=figure)
