"""Posterior recovery of (temperature, class probabilities) by tfp.vi and tfp.mcmc.

Run by hand: `python benchmarks/posterior_recovery.py [--quick]`. The model is
the one of tests/test_probabilistic_models.py (t ~ LogNormal(0, 1),
pi ~ Dirichlet(1), y_i ~ tfg.GumbelSoftmax(t, pi)) pinned to 2,000 draws at
t = 0.3, K = 5. Prints, and writes to benchmarks/results/posterior_recovery.md,
the VI and NUTS posterior means and sds next to the truth, the NUTS 95%
intervals, R-hat and effective sample sizes, and the run times.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks import harness  # pylint: disable=g-import-not-at-top
from tests import test_probabilistic_models as models  # pylint: disable=g-import-not-at-top

NAMES = ["t"] + [f"pi_{k + 1}" for k in range(len(models.TRUE_PROBS))]


def timed(fn):
  """(result, wall seconds, process CPU seconds) of fn()."""
  wall, cpu = time.perf_counter(), time.process_time()
  result = fn()
  return result, time.perf_counter() - wall, time.process_time() - cpu


def run(num_points, vi_steps, num_chains, num_burnin, num_results):
  pinned = models.recovery_model(models.recovery_data(num_points))
  (surrogate, losses), vi_wall, vi_cpu = timed(
      lambda: models.fit_vi(pinned, vi_steps, jit_compile=True))
  draws = surrogate.sample(20_000, seed=(5, 6))
  vi = np.concatenate([draws.t.numpy()[:, None], draws.pi.numpy()], axis=1)
  (t, pi, accepted), mc_wall, mc_cpu = timed(
      lambda: models.run_nuts(pinned, num_chains, num_burnin, num_results,
                              jit_compile=True))
  flat = np.concatenate([t.numpy()[..., None], pi.numpy()], -1)
  return dict(
      vi_mean=vi.mean(0), vi_sd=vi.std(0), vi_loss=float(losses[-50:].numpy().mean()),
      vi_wall=vi_wall, vi_cpu=vi_cpu,
      mc=models.summarize(t, pi),
      mc_lo=np.quantile(flat, 0.025, axis=(0, 1)),
      mc_hi=np.quantile(flat, 0.975, axis=(0, 1)),
      accept=float(np.mean(accepted)), mc_wall=mc_wall, mc_cpu=mc_cpu)


def report(r, config):
  truth, mc = models.TRUTH, r["mc"]
  lines = [
      "# Posterior recovery: tfp.vi and tfp.mcmc on tfg.GumbelSoftmax data",
      "",
      f"Data: {config['num_points']} draws of GumbelSoftmax(t = "
      f"{models.TRUE_TEMPERATURE}, pi = {models.TRUE_PROBS}); prior "
      "t ~ LogNormal(0, 1), pi ~ Dirichlet(1).",
      f"VI: affine (full-rank) surrogate through the model's default "
      f"event-space bijector, {config['vi_steps']} Adam steps, 8 draws per "
      f"step, XLA. NUTS: {config['num_chains']} chains x "
      f"({config['num_burnin']} burn-in + {config['num_results']} draws), "
      "TransformedTransitionKernel on the default event-space bijector, dual "
      "averaging step size, XLA.",
      f"Machine: {harness.machine_description()} (shared with other jobs: "
      "wall times are inflated; CPU time is summed over threads).",
      "",
      "| param | truth | VI mean | VI sd | VI rel. err | NUTS mean | NUTS sd "
      "| NUTS 95% interval | covers | R-hat | ESS |",
      "|---|---|---|---|---|---|---|---|---|---|---|",
  ]
  for i, name in enumerate(NAMES):
    covers = r["mc_lo"][i] <= truth[i] <= r["mc_hi"][i]
    lines.append(
        f"| {name} | {truth[i]:.3f} | {r['vi_mean'][i]:.4f} | "
        f"{r['vi_sd'][i]:.4f} | {r['vi_mean'][i] / truth[i] - 1:+.1%} | "
        f"{mc['mean'][i]:.4f} | {mc['sd'][i]:.4f} | "
        f"[{r['mc_lo'][i]:.4f}, {r['mc_hi'][i]:.4f}] | "
        f"{'yes' if covers else 'no'} | {mc['rhat'][i]:.4f} | "
        f"{mc['ess'][i]:.0f} |")
  lines += [
      "",
      f"VI: final loss (mean of the last 50 steps) {r['vi_loss']:.2f}; "
      f"{r['vi_wall']:.1f} s wall, {r['vi_cpu']:.1f} s CPU (with compilation).",
      f"NUTS: acceptance {r['accept']:.3f}; {r['mc_wall']:.1f} s wall, "
      f"{r['mc_cpu']:.1f} s CPU (with compilation); min ESS "
      f"{mc['ess'].min():.0f} of {config['num_chains'] * config['num_results']}"
      f" draws, max R-hat {mc['rhat'].max():.4f}.",
  ]
  return "\n".join(lines) + "\n"


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--quick", action="store_true",
                      help="the reduced run of the default test suite")
  parser.add_argument("--out", default=os.path.join(
      os.path.dirname(__file__), "results", "posterior_recovery.md"))
  args = parser.parse_args(argv)
  config = dict(num_points=2000, vi_steps=1000, num_chains=4,
                num_burnin=1000, num_results=1000)
  if args.quick:
    config.update(vi_steps=150, num_burnin=100, num_results=100)
  text = report(run(**config), config)
  print(text)
  if not args.quick:
    harness.write_report(text, args.out)


if __name__ == "__main__":
  main()
