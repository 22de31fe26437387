"""Direct categorical draws vs the argmax of Gumbel-Softmax draws (seed 000).

The notebook this reproduces draws N = 1000 samples of Categorical(a),
a = [0.1, 0.2, 0.5, 0.2], once directly and once "via reparameterization"
(softmax((log a + g) / t) with t = 0.1, then argmax), and overlays the two
histograms. With tfp_gumbel the second sampler is one line,

    tf.argmax(tfg.GumbelSoftmax(0.1, probs=a).sample(N, seed=...), axis=-1)

with no `eps` hyper-parameter: the noise never takes log(0). Printed: the
chi-square goodness-of-fit p-values of both samplers against `a`, the
gradient of a sample with respect to the logits (the reason to
reparameterize), and the soft samples' coordinates at t in {0.1, 0.5, 1, 5}.

    python examples/compare_samples.py [--quick | --full] [--out DIR]
"""

# First: it starts TensorFlow quietly (see _common.py).
from _common import Example  # pylint: disable=g-bad-import-order

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg
from tfp_gumbel.__main__ import chi_square_p_value

tfd = tfp.distributions

PROBS = [0.1, 0.2, 0.5, 0.2]
TEMPERATURE = 0.1            # the notebook's `temp`
TEMPERATURES = [0.1, 0.5, 1.0, 5.0]


def main(argv=None):
  ex = Example(__doc__.splitlines()[0], argv)
  n = ex.pick(quick=1000, default=1000, full=100_000)
  seed = tfp.random.sanitize_seed(ex.seed)
  seeds = tfp.random.split_seed(seed, n=2 + len(TEMPERATURES))

  direct = tfd.Categorical(probs=PROBS).sample(n, seed=seeds[0]).numpy()
  logits = tf.Variable(tf.math.log(PROBS))
  with tf.GradientTape() as tape:
    soft = tfg.GumbelSoftmax(TEMPERATURE, logits=logits).sample(
        n, seed=seeds[1])
    # Any smooth function of the soft samples has a gradient w.r.t. logits.
    objective = tf.reduce_mean(soft[:, 2])
  grad = tape.gradient(objective, logits).numpy()
  hard = tf.argmax(soft, axis=-1).numpy()

  k = len(PROBS)
  direct_counts = np.bincount(direct, minlength=k)
  hard_counts = np.bincount(hard, minlength=k)
  print(f"N = {n}, a = {PROBS}, t = {TEMPERATURE}")
  print(f"  {'class':>5} {'a':>5} {'direct':>8} {'via GS':>8}")
  for i in range(k):
    print(f"  {i:>5} {PROBS[i]:>5} {direct_counts[i] / n:>8.3f} "
          f"{hard_counts[i] / n:>8.3f}")
  print(f"d mean(x[2]) / d logits = {np.array2string(grad, precision=3)}")

  plt = ex.plt
  fig, ax = plt.subplots(figsize=(6, 4))
  # The notebook's figure: two overlaid 4-bin histograms.
  ax.hist(direct, bins=k, range=(-0.5, k - 0.5))
  ax.hist(hard, bins=k, range=(-0.5, k - 0.5), alpha=0.7)
  ax.set(xlabel="value", ylabel="number of samples", xticks=range(k))
  ax.legend(["direct", "via reparameterization"])
  hist_path = ex.save(fig, "compare_samples.png")

  print("Soft samples by temperature: mean of each coordinate, mean of the "
        "largest")
  fig, axes = plt.subplots(1, len(TEMPERATURES), figsize=(16, 3.6),
                           sharey=True)
  mean_max = []
  for ax, t, s in zip(axes, TEMPERATURES, seeds[2:]):
    x = tfg.GumbelSoftmax(t, probs=PROBS).sample(n, seed=s).numpy()
    mean_max.append(float(x.max(axis=-1).mean()))
    print(f"  t = {t:<4} E[x] = {np.array2string(x.mean(0), precision=3)} "
          f"E[max x] = {mean_max[-1]:.3f}", flush=True)
    for i in range(k):
      ax.hist(x[:, i], bins=40, range=(0, 1), histtype="step",
              label=f"x[{i}] (a = {PROBS[i]})")
    ax.set(title=f"t = {t}", xlabel="coordinate value", yscale="log")
  axes[0].set_ylabel("number of samples")
  axes[-1].legend(fontsize=8)
  coord_path = ex.save(fig, "compare_samples_temperatures.png")

  ex.summary(
      chi2_p_direct=chi_square_p_value(direct_counts, PROBS),
      chi2_p_gumbel_softmax=chi_square_p_value(hard_counts, PROBS),
      grad_finite=bool(np.all(np.isfinite(grad))),
      mean_max_t0_1=mean_max[0],
      mean_max_t5=mean_max[-1],
      figures=f"{hist_path} {coord_path}")


if __name__ == "__main__":
  main()
