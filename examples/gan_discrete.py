"""A GAN that learns a distribution over 5 numbers through Gumbel-Softmax (seed 003).

The blog post this reproduces streams numbers 0..4 drawn with probabilities
[0, 0, 0.1, 0.3, 0.6]. The generator is nothing but learnable logits (started
at ones) whose Gumbel-Softmax samples (t = 0.001) are scored by a
logistic-regression discriminator; per epoch: 100 batches of 10, each one
discriminator step then 10 generator steps, Adam with learning rate 7e-4.

The post says "we use a constant [temperature], but for harder problems we
should anneal it". This script measures that: it trains the constant
t = 0.001 of the post and an annealed t = max(0.001, exp(-r * epoch)) side
by side, each from several seeds, and reports the final L1 error
sum_k |p_k - p_true_k| of each. All runs train at once, as independent
replicas in one graph (Adam's update is elementwise, so the summed loss of
independent replicas gives each replica exactly its own update).

    python examples/gan_discrete.py [--quick | --full] [--out DIR]

Figures: the error heat map (number x epoch) of the post, for both schedules,
and the learned probabilities.
"""

# First: it starts TensorFlow quietly (see _common.py).
from _common import Example  # pylint: disable=g-bad-import-order

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg

tfd = tfp.distributions

TRUE_PROBS = np.array([0.0, 0.0, 0.1, 0.3, 0.6], np.float32)
BATCHES_IN_EPOCH = 100
BATCH_SIZE = 10
GENERATOR_TRAINING_FACTOR = 10
LEARNING_RATE = 7e-4
TEMPERATURE = 1e-3                           # the post's constant
SCHEDULES = ("constant", "annealed")


def annealed_temperature(epoch, epochs):
  """Jang et al.'s max(t_min, exp(-r * epoch)), reaching t_min at 3/4 of training."""
  rate = -np.log(TEMPERATURE) / (0.75 * epochs)
  return max(TEMPERATURE, float(np.exp(-rate * epoch)))


def learning_rate(epoch, epochs):
  """The post's rate for the first half, then linearly down to 5% of it.

  Added to the post's recipe: at a constant rate the generator keeps circling
  the optimum (L1 error ~0.07 after 200 epochs although its average over the
  last epochs is within 0.01); the decay lets it settle.
  """
  return LEARNING_RATE * max(0.05, min(1., 2. * (1. - epoch / epochs)))


def main(argv=None):
  ex = Example(__doc__.splitlines()[0], argv)
  epochs = ex.pick(quick=30, default=200, full=400)
  num_seeds = ex.pick(quick=4, default=8, full=16)
  k = len(TRUE_PROBS)
  # Replica r uses schedule SCHEDULES[r // num_seeds].
  replicas = len(SCHEDULES) * num_seeds

  logits = tf.Variable(tf.ones([replicas, k]), name="generator_logits")
  disc_w = tf.Variable(tf.zeros([replicas, k]), name="discriminator_w")
  disc_b = tf.Variable(tf.zeros([replicas]), name="discriminator_b")
  temperature = tf.Variable(tf.fill([replicas], TEMPERATURE))
  g_opt = tf.keras.optimizers.Adam(LEARNING_RATE)
  d_opt = tf.keras.optimizers.Adam(LEARNING_RATE)
  data = tfd.OneHotCategorical(probs=TRUE_PROBS, dtype=tf.float32)

  def discriminator(x):                      # logistic regression, per replica
    return tf.reduce_sum(x * disc_w, axis=-1) + disc_b

  def bce(logit, label):
    return tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.fill(tf.shape(logit), label), logits=logit)

  def generated(seed):                       # [BATCH_SIZE, replicas, k]
    return tfg.GumbelSoftmax(temperature, logits=logits).sample(
        BATCH_SIZE, seed=seed)

  def d_step(seed):
    real_seed, fake_seed = tfp.random.split_seed(seed)
    real = data.sample([BATCH_SIZE, replicas], seed=real_seed)
    fake = generated(fake_seed)
    with tf.GradientTape() as tape:
      # Mean over the batch, sum over the independent replicas.
      loss = tf.reduce_sum(tf.reduce_mean(
          bce(discriminator(real), 1.) + bce(discriminator(fake), 0.), 0))
    grads = tape.gradient(loss, [disc_w, disc_b])
    d_opt.apply_gradients(zip(grads, [disc_w, disc_b]))

  def g_step(seed):
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(tf.reduce_mean(
          bce(discriminator(generated(seed)), 1.), 0))
    g_opt.apply_gradients([(tape.gradient(loss, logits), logits)])

  # Optimizer slots are created here: variables cannot be created in a loop.
  g_opt.build([logits])
  d_opt.build([disc_w, disc_b])

  @tf.function
  def train_epoch(seed):
    # tf.range loops stay loops in the graph (a Python loop would be unrolled
    # into 1100 copies of the steps).
    for batch in tf.range(BATCHES_IN_EPOCH):
      batch_seed = tf.random.experimental.stateless_fold_in(seed, batch)
      d_step(tf.random.experimental.stateless_fold_in(batch_seed, -1))
      for i in tf.range(GENERATOR_TRAINING_FACTOR):
        g_step(tf.random.experimental.stateless_fold_in(batch_seed, i))

  epoch_seeds = tfp.random.split_seed(
      tfp.random.sanitize_seed(ex.seed), n=epochs)
  history = []                               # [epochs, replicas, k]
  is_annealed = np.arange(replicas) >= num_seeds
  for epoch in range(epochs):
    t_anneal = annealed_temperature(epoch, epochs)
    temperature.assign(np.where(is_annealed, t_anneal, TEMPERATURE))
    g_opt.learning_rate = d_opt.learning_rate = learning_rate(epoch, epochs)
    train_epoch(epoch_seeds[epoch])
    history.append(tf.math.softmax(logits).numpy())
    l1 = np.abs(history[-1] - TRUE_PROBS).sum(-1)
    if epoch % max(1, epochs // 20) == 0 or epoch == epochs - 1:
      print(f"epoch {epoch + 1:4d}/{epochs}  annealed t {t_anneal:.4f}  "
            f"mean L1 error: constant {l1[~is_annealed].mean():.4f}  "
            f"annealed {l1[is_annealed].mean():.4f}", flush=True)
  history = np.stack(history)
  l1_curve = np.abs(history - TRUE_PROBS).sum(-1)         # [epochs, replicas]
  final_l1 = l1_curve[-1]
  # How fast: the L1 error averaged over all epochs (area under the curve).
  mean_l1 = l1_curve.mean(0)

  print(f"final L1 error per seed: constant "
        f"{np.array2string(final_l1[~is_annealed], precision=4)}, annealed "
        f"{np.array2string(final_l1[is_annealed], precision=4)}")
  for name, mask in (("constant", ~is_annealed), ("annealed", is_annealed)):
    print(f"  {name:<9} learned probs (seed 0): "
          f"{np.array2string(history[-1][mask][0], precision=3)}")
  print(f"  true                         {np.array2string(TRUE_PROBS, precision=3)}")

  for label, values in (("final", final_l1), ("over training", mean_l1)):
    const, anneal = values[~is_annealed], values[is_annealed]
    verdict = "helped" if anneal.mean() < const.mean() else "did not help"
    print(f"annealing {verdict} ({label} L1 error): constant "
          f"{const.mean():.4f} +- {const.std(ddof=1) / np.sqrt(num_seeds):.4f}"
          f", annealed {anneal.mean():.4f} +- "
          f"{anneal.std(ddof=1) / np.sqrt(num_seeds):.4f} (mean +- s.e. over "
          f"{num_seeds} seeds)")

  plt = ex.plt
  fig, axes = plt.subplots(2, 1, figsize=(10, 4.4), sharex=True)
  for ax, name, r in zip(axes, SCHEDULES, (0, num_seeds)):
    image = ax.imshow((history[:, r] - TRUE_PROBS).T, cmap="bwr",
                      aspect="auto", vmin=-1, vmax=1)
    ax.set(ylabel="number", title=f"{name} temperature: learned - true "
                                  f"probability (seed 0)")
    fig.colorbar(image, ax=ax, aspect=10, ticks=[-1, 0, 1])
  axes[-1].set_xlabel("epoch")
  heat_path = ex.save(fig, "gan_discrete_errors.png")

  fig, ax = plt.subplots(figsize=(6, 3.6))
  width = 0.27
  numbers = np.arange(k)
  ax.bar(numbers - width, TRUE_PROBS, width, label="true", color="k")
  for i, (name, mask) in enumerate((("constant", ~is_annealed),
                                    ("annealed", is_annealed))):
    ax.bar(numbers + i * width, history[-1][mask].mean(0), width,
           yerr=history[-1][mask].std(0), label=f"{name} t (mean over seeds)")
  ax.set(xlabel="number", ylabel="probability", xticks=numbers)
  ax.legend()
  probs_path = ex.save(fig, "gan_discrete_probs.png")

  ex.summary(
      l1_constant=float(final_l1[~is_annealed].mean()),
      l1_annealed=float(final_l1[is_annealed].mean()),
      l1_constant_worst=float(final_l1[~is_annealed].max()),
      l1_annealed_worst=float(final_l1[is_annealed].max()),
      l1_constant_sd=float(final_l1[~is_annealed].std(ddof=1)),
      l1_annealed_sd=float(final_l1[is_annealed].std(ddof=1)),
      l1_over_training_constant=float(mean_l1[~is_annealed].mean()),
      l1_over_training_annealed=float(mean_l1[is_annealed].mean()),
      l1_initial=float(np.abs(np.full(k, 1. / k) - TRUE_PROBS).sum()),
      figures=f"{heat_path} {probs_path}")


if __name__ == "__main__":
  main()
