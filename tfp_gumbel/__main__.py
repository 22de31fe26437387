"""A one-minute tour of tfp_gumbel: `tfp-gumbel-demo [--out DIR] [--quick]`
(also `python -m tfp_gumbel_cli`, or `python -m tfp_gumbel`).

1. Samples `GumbelSoftmax(t, probs=[0.1, 0.2, 0.5, 0.2])` at several
   temperatures and tests that the argmax of the soft samples is distributed as
   the categorical (Pearson chi-square, the p-value is printed).
2. Evaluates log-probs at t = 0.01, where float32 draws have coordinates that
   underflowed to 0, next to TFP's `RelaxedOneHotCategorical`, and counts the
   finite values of each.
3. Fits the temperature and the class probabilities to simulated data by
   maximum likelihood (Adam on the exact log-density) and prints a table of the
   true and fitted values.
4. Writes one PNG (`tfp_gumbel_demo.png` in `--out`).

It needs the tensorflow and plotting extras (`pip install -e
".[tensorflow,plot]"`); without TensorFlow it stops at import with the
package's ImportError (what was found, the install line), without matplotlib
before any computation, with a message and exit status 1.
"""

import argparse
import os
import sys
import time

import numpy as np

from tfp_gumbel import _requirements

_requirements.require_tensorflow("The tfp_gumbel demo")

import tensorflow as tf  # pylint: disable=wrong-import-position
import tensorflow_probability as tfp  # pylint: disable=wrong-import-position

import tfp_gumbel as tfg

tfb = tfp.bijectors
tfd = tfp.distributions

PROBS = [0.1, 0.2, 0.5, 0.2]
TEMPERATURES = [0.1, 0.5, 1.0, 5.0]
LOW_TEMPERATURE = 0.01
# The distribution the maximum-likelihood fit has to recover.
TRUE_TEMPERATURE = 0.4
TRUE_PROBS = [0.6, 0.3, 0.1]


def parse_args(argv=None):
  parser = argparse.ArgumentParser(
      prog="tfp-gumbel-demo",
      description=(
          "A one-minute tour of tfp_gumbel: samples GumbelSoftmax at several "
          "temperatures (chi-square test of the argmax against the "
          "categorical), evaluates log-probs next to TFP's "
          "RelaxedOneHotCategorical, fits the temperature and the class "
          "probabilities to data by maximum likelihood, prints a table and "
          "writes one PNG."))
  parser.add_argument(
      "--out", default=".",
      help="directory for tfp_gumbel_demo.png (created if needed; default: .)")
  parser.add_argument(
      "--quick", action="store_true",
      help="fewer samples and fitting steps (a few seconds; used by the tests)")
  parser.add_argument(
      "--seed", type=int, default=1, help="stateless seed (default: 1)")
  return parser.parse_args(argv)


def chi_square_p_value(counts, probs):
  """Pearson's goodness-of-fit p-value of `counts` against `probs`."""
  counts = np.asarray(counts, np.float64)
  expected = counts.sum() * np.asarray(probs, np.float64)
  statistic = np.sum((counts - expected) ** 2 / expected)
  return float(tfd.Chi2(
      np.float64(len(counts) - 1)).survival_function(statistic))


def main(argv=None):
  args = parse_args(argv)
  plt = _requirements.require_matplotlib()
  os.makedirs(args.out, exist_ok=True)
  start = time.time()

  num_samples = 2000 if args.quick else 20000
  fit_data = 1000 if args.quick else 5000
  fit_steps = 200 if args.quick else 500

  # 1. Sampling and the argmax test.
  print(f"1. Sampling GumbelSoftmax(t, probs={PROBS}), {num_samples} draws each")
  print(f"   {'t':>5}  {'argmax frequencies':<28} {'chi2 p':>7}  "
        f"{'mean max coordinate':>19}")
  samples = {}
  for i, t in enumerate(TEMPERATURES):
    d = tfg.GumbelSoftmax(t, probs=PROBS)
    x = d.sample(num_samples, seed=(args.seed, i)).numpy()
    samples[t] = x
    counts = np.bincount(np.argmax(x, axis=-1), minlength=len(PROBS))
    freqs = " ".join(f"{c / num_samples:.3f}" for c in counts)
    print(f"   {t:>5}  {freqs:<28} {chi_square_p_value(counts, PROBS):>7.3f}  "
          f"{x.max(axis=-1).mean():>19.3f}")
  print("   (argmax ~ Categorical(probs) at every t; samples become one-hot as "
        "t -> 0)")

  # 2. Log-probs, ours and TFP's, on our own low-temperature samples.
  # At t = 0.01 most float32 draws have coordinates that underflowed to 0.
  print(f"2. log_prob of 5 draws at t = {LOW_TEMPERATURE} (float32): ours vs "
        "tfd.RelaxedOneHotCategorical")
  d = tfg.GumbelSoftmax(LOW_TEMPERATURE, probs=PROBS)
  ref = tfd.RelaxedOneHotCategorical(LOW_TEMPERATURE, probs=PROBS)
  x, lp_exact = d.experimental_sample_and_log_prob(5, seed=(args.seed, 99))
  # As a NumPy array, x is evaluated afresh: a Tensor would let TFP reuse the
  # cached log-space sample from which it was drawn.
  x = x.numpy()
  lp_ours, lp_tfp = d.log_prob(x).numpy(), ref.log_prob(x).numpy()
  for a, b, c in zip(lp_exact.numpy(), lp_ours, lp_tfp):
    print(f"   sample_and_log_prob {a:10.3f}   log_prob {b:10.3f}   "
          f"TFP {c:10.3f}")
  print(f"   finite: ours {np.isfinite(lp_ours).sum()}/5, "
        f"TFP {np.isfinite(lp_tfp).sum()}/5")
  print("   (log_prob differs from sample_and_log_prob where float32 rounded "
        "a coordinate to 0: it is read at the smallest normal float, 1.2e-38)")

  # 3. Maximum likelihood for the temperature and the probabilities.
  print(f"3. Fitting t and probs by maximum likelihood to {fit_data} draws of "
        f"GumbelSoftmax({TRUE_TEMPERATURE}, probs={TRUE_PROBS}), "
        f"{fit_steps} Adam steps")
  data = tfg.GumbelSoftmax(TRUE_TEMPERATURE, probs=TRUE_PROBS).sample(
      fit_data, seed=(args.seed, 7))
  # Softplus keeps the temperature positive; logits are unconstrained.
  temperature = tfp.util.TransformedVariable(1., tfb.Softplus())
  logits = tf.Variable(tf.zeros([len(TRUE_PROBS)]))
  model = tfg.GumbelSoftmax(temperature, logits=logits)
  optimizer = tf.keras.optimizers.Adam(0.05)

  @tf.function
  def step():
    with tf.GradientTape() as tape:
      loss = -tf.reduce_mean(model.log_prob(data))
    variables = model.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss

  history = []
  for i in range(fit_steps):
    history.append(float(step()))
    if (i + 1) % (fit_steps // 5) == 0:
      print(f"   step {i + 1:5d}  mean NLL {history[-1]:9.4f}  "
            f"t {float(tf.convert_to_tensor(temperature)):.4f}")
  fitted_t = float(tf.convert_to_tensor(temperature))
  fitted_p = tf.math.softmax(logits).numpy()
  print(f"   {'parameter':<10} {'true':>7} {'fitted':>7}")
  print(f"   {'t':<10} {TRUE_TEMPERATURE:>7.3f} {fitted_t:>7.3f}")
  for k, p in enumerate(TRUE_PROBS):
    print(f"   {f'probs[{k}]':<10} {p:>7.3f} {fitted_p[k]:>7.3f}")
  print(f"   max |error|: t {abs(fitted_t - TRUE_TEMPERATURE):.4f}, probs "
        f"{np.max(np.abs(fitted_p - TRUE_PROBS)):.4f}")

  # 4. One figure.
  fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
  for t in TEMPERATURES:
    axes[0].hist(samples[t][:, 2], bins=50, range=(0, 1), histtype="step",
                 density=True, label=f"t = {t}")
  axes[0].set(title=f"coordinate x[2] (pi = {PROBS[2]})", xlabel="x[2]",
              ylabel="density", yscale="log")
  axes[0].legend()
  width = 0.8 / (len(TEMPERATURES) + 1)
  classes = np.arange(len(PROBS))
  axes[1].bar(classes, PROBS, width, label="probs", color="k")
  for i, t in enumerate(TEMPERATURES):
    freqs = np.bincount(np.argmax(samples[t], -1), minlength=len(PROBS))
    axes[1].bar(classes + (i + 1) * width, freqs / num_samples, width,
                label=f"argmax, t = {t}")
  axes[1].set_xticks(classes + width * len(TEMPERATURES) / 2, classes)
  axes[1].set(title="argmax of soft samples vs probs", xlabel="class",
              ylabel="frequency")
  axes[1].legend(fontsize=8)
  axes[2].plot(history)
  axes[2].set(title=f"maximum likelihood: t {fitted_t:.3f} "
                    f"(true {TRUE_TEMPERATURE})",
              xlabel="Adam step", ylabel="mean negative log-likelihood")
  fig.tight_layout()
  path = os.path.join(args.out, "tfp_gumbel_demo.png")
  fig.savefig(path, dpi=80)
  print(f"4. Figure written to {path}")
  print(f"Done in {time.time() - start:.1f} s.")


if __name__ == "__main__":
  # TensorFlow was imported with the package, before this file ran: its
  # start-up lines are out. `python -m tfp_gumbel_cli` starts quietly.
  main()
