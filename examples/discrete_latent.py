"""A sigmoid belief network on scikit-learn's digits, trained with every
estimator: final -ELBO and the gradient's log-variance in one table.

The model (the one-layer SBN of Tucker et al. 2017, scaled to 8 x 8 digits):
32 binary latents b with a learned Bernoulli prior, a linear Bernoulli
decoder p(x | b) over the 64 binarized pixels, and a linear encoder
q(b | x) = Bernoulli(logits(x)). The objective is
-ELBO(x) = E_q[f(b)], f(b) = log q(b | x) - log p(x, b); q's logits enter f
only through a stop_gradient, since E_q[grad log q] = 0: the estimator's
gradient with respect to the logits carries the encoder's whole gradient,
and the prior and decoder get that of f(b) (`tfp_gumbel.unbiased`).

Data: the 1,797 digits of `sklearn.datasets.load_digits` (pixel > 8 of 16 is
1), 1,500 for training and 297 for test. Every estimator trains the same
initial model with Adam (3e-3), batch 50. At the end, the test -ELBO is the
mean over 20 draws of b per digit (discrete b: the bound of the model the
estimators train), and the gradient variance is that of the estimator's
gradient with respect to the encoder's logits over 200 draws on a fixed
batch of 50 training digits, summed over the 32 latents, averaged over the
digits (log10).

    python examples/discrete_latent.py [--quick | --full]
"""

import numpy as np

import _common

example = _common.Example(__doc__.split("\n")[0])

# pylint: disable=g-import-not-at-top,wrong-import-position
from sklearn import datasets
import tensorflow as tf

import tfp_gumbel as tfg

tf.keras.utils.set_random_seed(example.seed)  # the networks' initial weights

est = tfg.estimators
LATENTS, BATCH = 32, 50
STEPS = example.pick(quick=40, default=3000, full=15000)

digits = (datasets.load_digits().data > 8).astype(np.float32)
order = np.random.RandomState(example.seed).permutation(len(digits))
train, test = digits[order[:1500]], digits[order[1500:]]


def bernoulli_log_prob(x, logits):
  """log Bernoulli(x; logits) summed over the last axis; x may be relaxed."""
  return tf.reduce_sum(x * logits - tf.math.softplus(logits), axis=-1)


class Model(tf.Module):
  """Prior logits, decoder and encoder of the SBN."""

  def __init__(self):
    init = np.random.RandomState(1)
    self.prior = tf.Variable(tf.zeros([LATENTS]))
    self.decoder_w = tf.Variable(0.1 * init.randn(LATENTS, 64).astype("f"))
    self.decoder_b = tf.Variable(np.log(train.mean(0) + 1e-3)
                                 - np.log(1. - train.mean(0) + 1e-3))
    self.encoder_w = tf.Variable(0.1 * init.randn(64, LATENTS).astype("f"))
    self.encoder_b = tf.Variable(tf.zeros([LATENTS]))

  def encode(self, x):
    return x @ self.encoder_w + self.encoder_b

  def objective(self, x, logits):
    """f(b) = log q(b | x) - log p(x, b), with q's logits held fixed."""
    fixed = tf.stop_gradient(logits)

    def f(b):
      decoded = b @ self.decoder_w + tf.cast(self.decoder_b, b.dtype)
      return (bernoulli_log_prob(b, fixed) - bernoulli_log_prob(b, self.prior)
              - bernoulli_log_prob(x, decoded))
    return f


def relaxation_parameters():
  return tf.Variable(np.log(0.5), dtype=tf.float32), tf.Variable(1.)


def gumbel_rao(f, logits, seed):
  pair = tf.stack([tf.zeros_like(logits), logits], axis=-1)
  return f(est.gumbel_rao(pair, 0.5, 10, seed=seed)[..., 1])


def make_estimators():
  """name -> (f, logits, seed -> batch-shaped value, tuned variables)."""
  rebar_t, rebar_eta = relaxation_parameters()
  relax_t, relax_eta = relaxation_parameters()
  network = tf.keras.Sequential([
      tf.keras.Input([LATENTS]), tf.keras.layers.Dense(64, activation="tanh"),
      tf.keras.layers.Dense(1)])

  def relax(f, logits, seed):
    def control_variate(z):
      relaxed = tf.sigmoid(z / tf.exp(relax_t))
      return relax_eta * f(relaxed) + network(z)[..., 0]
    return est.relax(f, logits, control_variate, seed=seed, binary=True)

  return {
      "score": (lambda f, l, s: est.score_function(f, l, seed=s, binary=True),
                []),
      "score_loo": (lambda f, l, s: est.score_function(
          f, l, 2, "leave_one_out", seed=s, binary=True), []),
      "straight_through": (lambda f, l, s: f(est.gumbel_sigmoid_st(
          l, 0.5, seed=s)), []),
      "gumbel_rao": (gumbel_rao, []),
      "rebar": (lambda f, l, s: est.rebar(f, l, tf.exp(rebar_t), rebar_eta,
                                          seed=s, binary=True),
                [rebar_t, rebar_eta]),
      "relax": (relax, [relax_t, relax_eta, *network.trainable_variables]),
      "disarm": (lambda f, l, s: est.disarm(f, l, seed=s), []),
  }


def train_one(name, estimator, tuned):
  model = Model()
  optimizer = tf.keras.optimizers.Adam(3e-3)
  tuning = tf.keras.optimizers.Adam(3e-3)
  variables = list(model.trainable_variables)

  @tf.function
  def step(x, seed):
    with tf.GradientTape() as outer:
      with tf.GradientTape(persistent=bool(tuned)) as inner:
        logits = model.encode(x)
        loss = tf.reduce_mean(estimator(model.objective(x, logits), logits,
                                        seed))
      gradients = inner.gradient(loss, variables)
      if tuned:
        variance = tf.reduce_sum(inner.gradient(loss, logits) ** 2)
    optimizer.apply_gradients(zip(gradients, variables))
    if tuned:
      tuning.apply_gradients(zip(outer.gradient(variance, tuned), tuned))
    return loss

  rng = np.random.RandomState(example.seed)
  for i in range(STEPS):
    batch = train[rng.randint(0, len(train), BATCH)]
    loss = step(tf.constant(batch), tf.constant([example.seed, i]))
    if (i + 1) % max(1, STEPS // 5) == 0:
      print(f"  {name} step {i + 1}: train -ELBO {loss.numpy():.2f}",
            flush=True)
  return model


def test_neg_elbo(model):
  x = tf.constant(np.repeat(test, 20, axis=0))
  logits = model.encode(x)
  b = tf.cast(tf.random.stateless_uniform(logits.shape, (9, 9))
              < tf.sigmoid(logits), tf.float32)
  return float(tf.reduce_mean(model.objective(x, logits)(b)))


def log10_variance(model, estimator):
  x = tf.constant(np.repeat(train[:BATCH], 200, axis=0))
  logits = model.encode(x)
  with tf.GradientTape() as tape:
    tape.watch(logits)
    value = estimator(model.objective(x, logits), logits, (8, 8))
  gradients = tf.reshape(tape.gradient(value, logits), [BATCH, 200, LATENTS])
  per_digit = tf.reduce_sum(tf.math.reduce_variance(gradients, axis=1), -1)
  return float(np.log10(tf.reduce_mean(per_digit)))


results = {}
for name, (estimator, tuned) in make_estimators().items():
  model = train_one(name, estimator, tuned)
  results[name] = (test_neg_elbo(model), log10_variance(model, estimator))
  print(f"{name:>17}: test -ELBO {results[name][0]:.2f} nats, "
        f"log10 gradient variance {results[name][1]:.2f}", flush=True)

print(f"\n| estimator | test -ELBO (nats) | log10 Var (logits) |\n|---|---|---|")
for name, (neg_elbo, variance) in results.items():
  print(f"| {name} | {neg_elbo:.2f} | {variance:.2f} |")

plt = example.plt
fig, ax = plt.subplots(figsize=(6, 4))
for name, (neg_elbo, variance) in results.items():
  ax.scatter(variance, neg_elbo)
  ax.annotate(name, (variance, neg_elbo), fontsize=8)
ax.set(xlabel="log10 variance of the logits' gradient",
       ylabel="test -ELBO (nats per digit)",
       title=f"SBN on sklearn digits, {STEPS} steps")
figure = example.save(fig, "discrete_latent.png")

example.summary(
    steps=STEPS,
    **{f"test_neg_elbo_{n}": r[0] for n, r in results.items()},
    **{f"log10_variance_{n}": r[1] for n, r in results.items()},
    figures=figure)
