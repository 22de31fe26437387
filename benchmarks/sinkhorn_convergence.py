"""GumbelSinkhorn's Sinkhorn: how close to doubly stochastic, and at what cost.

Run by hand: `python benchmarks/sinkhorn_convergence.py [--quick]`. Writes
benchmarks/results/sinkhorn_convergence.md with

1. accuracy by temperature: max |row sum - 1| and |column sum - 1| over 400
   draws of `N = 5` logits (3 x standard normal), for 20 fixed rounds (the
   default before the solver) and for the default solver (to tolerance), with
   the Newton steps the batch took;
2. the Newton steps by size, temperature and dtype (the worst case behind
   `sinkhorn.MAX_ITERS`): the most any draw took, whether every draw
   converged, and the largest row error, for Newton's equations solved by
   Cholesky and by conjugate gradients (under XLA); `--steps` prints only
   this table;
3. cost at `N = 5, 50, 200` (t = 0.1): the time of a sample and its
   gradient (tf.function and XLA, `harness.time_interleaved`) and the peak
   memory beyond the baseline of one such step, measured in a fresh process
   as `benchmarks/memory.py` does (the resident-set high-water mark).
"""

import argparse
import json
import os
import subprocess
import sys
import time

import tensorflow as tf

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
from benchmarks import memory  # pylint: disable=g-import-not-at-top,wrong-import-position
import tfp_gumbel as tfg  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._kernels import noise  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._backend import tensorflow as tf_xp  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._kernels import sinkhorn  # pylint: disable=g-import-not-at-top,wrong-import-position

TEMPERATURES = [10., 1., 0.3, 0.1, 0.03, 0.01, 1e-3]
COST_SIZES = [(64, 5), (16, 50), (4, 200)]   # (batch, N)
STEP_SIZES = [(400, 5), (40, 50), (32, 200)]   # (draws, N)
MODES = {"fixed 20 rounds": dict(num_iters=20), "to tolerance": {}}


def perturbed(batch, n, t, dtype, seed=(1, 2)):
  logits = 3. * tf.random.stateless_normal([n, n], seed=(n, 7), dtype=dtype)
  return (logits + noise.gumbel(tf_xp, [batch, n, n], seed, dtype)) / t


def accuracy_rows(draws):
  rows = ["| dtype | t | 20 rounds: rows | to tolerance: rows | columns | "
          "Newton steps |", "|---|---:|---:|---:|---:|---:|"]
  for dtype in (tf.float32, tf.float64):
    for t in TEMPERATURES:
      x = perturbed(draws, 5, t, dtype)
      fixed = tf.exp(sinkhorn.log_sinkhorn(
          tf_xp, x, sinkhorn.SinkhornOptions(num_iters=20)))
      result = sinkhorn.solve(tf_xp, x)
      p, steps = tf.exp(result.log_p), result.steps
      err = lambda m, axis: float(tf.reduce_max(tf.abs(
          tf.reduce_sum(m, axis) - 1)))
      rows.append(f"| {dtype.name} | {t:g} | {err(fixed, -1):.2g} | "
                  f"{err(p, -1):.2g} | {err(p, -2):.2g} | {int(steps)} |")
  return rows


def steps_rows(quick):
  """Per case, the solve by Cholesky steps (eagerly: TF's graph path) and
  by conjugate gradients (the matrix-free path of `jax.jit` and TF's XLA in
  float32; forced here in float64 too, under `tf.function(jit_compile=True)`,
  to show why float64 keeps Cholesky there)."""
  rows = ["| dtype | N | draws | t | most Newton steps | all converged | "
          "max row error | CG: most steps | CG: all converged | "
          "CG: max row error |", "|---|---:|---:|---:|---:|---|---:|---:|---|---:|"]
  # pylint: disable-next=protected-access
  solve_under_xla = tf.function(lambda x: sinkhorn._solve(
      tf_xp, x, sinkhorn.DEFAULT_TOLERANCE[x.dtype.name], sinkhorn.MAX_ITERS,
      matrix_free=True), jit_compile=True, autograph=False)
  for dtype in (tf.float32, tf.float64):
    for draws, n in STEP_SIZES:
      draws = max(draws // 4, 2) if quick else draws
      for t in TEMPERATURES:
        x = perturbed(draws, n, t, dtype)
        row = f"| {dtype.name} | {n} | {draws} | {t:g} |"
        for result in (sinkhorn.solve(tf_xp, x), solve_under_xla(x)):
          row += (f" {int(result.steps)} | "
                  f"{bool(tf.reduce_all(result.converged))} | "
                  f"{float(tf.reduce_max(result.error)):.2g} |")
        rows.append(row)
  return rows


def step_fn(options):
  def step(logits, t):
    with tf.GradientTape() as tape:
      tape.watch([logits, t])
      p = tfg.GumbelSinkhorn(t, logits, **options).sample(seed=(1, 2))
      loss = tf.reduce_sum(p * p)
    return tape.gradient(loss, [logits, t])
  return step


def cost_inputs(batch, n):
  logits = 3. * tf.random.stateless_normal([batch, n, n], seed=(n, 7))
  return logits, tf.constant(0.1)


def peak_memory(mode_name, batch, n):
  """Runs in the child: bytes beyond the baseline of one more step."""
  fn = tf.function(step_fn(MODES[mode_name]), autograph=False)
  return memory.peak_beyond_baseline(fn, *cost_inputs(batch, n))[0]


def peak_memory_in_subprocess(mode_name, batch, n):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0")
  out = subprocess.run(
      [sys.executable, os.path.abspath(__file__), "--memory", mode_name,
       str(batch), str(n)], env=env, capture_output=True, text=True,
      check=True)
  return json.loads(out.stdout.strip().splitlines()[-1])


def cost_rows(repeats, min_time):
  rows = ["| batch x N x N | solver | tf.function ms | XLA ms | "
          "peak memory MB (tf.function) |", "|---|---|---:|---:|---:|"]
  for batch, n in COST_SIZES:
    args = cost_inputs(batch, n)
    fns = {(name, mode): harness.compile_fn(step_fn(options), mode)
           for name, options in MODES.items()
           for mode in ("function", "xla")}
    ms, _ = harness.time_interleaved(fns, args, repeats, min_time)
    for name in MODES:
      mb = peak_memory_in_subprocess(name, batch, n) / 2**20
      rows.append(f"| {batch} x {n} x {n} | {name} | "
                  f"{ms[(name, 'function')]:.2f} | {ms[(name, 'xla')]:.2f} | "
                  f"{mb:.1f} |")
  return rows


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--quick", action="store_true")
  parser.add_argument("--steps", action="store_true",
                      help="only the Newton steps table, printed")
  parser.add_argument("--memory", nargs=3, help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.memory:
    name, batch, n = args.memory
    print(json.dumps(peak_memory(name, int(batch), int(n))))
    return
  start = time.time()
  if args.steps:
    print("\n".join(steps_rows(args.quick)))
    print(f"Run time {time.time() - start:.0f} s.")
    return
  draws, repeats, min_time = (100, 3, 0.05) if args.quick else (400, 7, 0.2)
  text = "\n".join([
      "# GumbelSinkhorn: Sinkhorn accuracy and cost", "",
      f"{harness.machine_description()}; {harness.now()}. Command: "
      f"`python benchmarks/sinkhorn_convergence.py"
      f"{' --quick' if args.quick else ''}`.", "",
      f"## Max |sum - 1| over {draws} draws, N = 5, logits 3 x N(0, 1)", "",
      *accuracy_rows(draws), "",
      "## Newton steps to the default tolerance, logits 3 x N(0, 1)", "",
      "The batch's steps are its slowest draw's (each matrix is solved "
      "alone); `sinkhorn.MAX_ITERS` (100) caps them.", "",
      *steps_rows(args.quick), "",
      "## A sample and its gradient, t = 0.1", "",
      *cost_rows(repeats, min_time), "",
      f"Run time {time.time() - start:.0f} s.", ""])
  path = os.path.join(os.path.dirname(__file__), "results",
                      "sinkhorn_convergence" + ("_quick" if args.quick else "")
                      + ".md")
  harness.write_report(text, path)
  print(text)


if __name__ == "__main__":
  main()
