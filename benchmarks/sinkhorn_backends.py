"""Gumbel-Sinkhorn solved to tolerance: ours on JAX and TF against OTT-JAX.

Run by hand: `python benchmarks/sinkhorn_backends.py [--quick]
[--python-jax PY] [--python-tensorflow PY]`, where PY is the interpreter of
an environment with the package and JAX, Keras and `ott-jax` 0.6 (for JAX),
or TensorFlow and Keras (for TF); both default to this interpreter. Writes
benchmarks/results/sinkhorn_backends.md. Each backend runs in its own process
(Keras picks one backend per process) on the same problems, made with NumPy:

- `x = (3 z + g) / t`, `z ~ N(0, 1)` and `g ~ Gumbel(0, 1)` i.i.d., shape
  `[B, N, N]` at N = 5 / 50 / 200 (B = 64 / 16 / 4), t = 1 and 0.1;
- the timed call is value + gradient of `sum(P * w)` (a fixed `w ~ N(0, 1)`)
  with respect to `x`, compiled: `jax.jit` (ours through `tfg.ops.sinkhorn`
  on Keras's JAX backend, and OTT-JAX), `tf.function` and
  `tf.function(jit_compile=True)` (XLA, what Keras's `fit` uses on TF);
- OTT-JAX is its default `Sinkhorn` on `Geometry(cost_matrix=-(3 z + g),
  epsilon=t)` with uniform marginals (its `P` times N is doubly stochastic),
  differentiated through its loop (`implicit_diff=None`: its default implicit
  differentiation raises on these problems) with `max_iterations=2000`.

Each figure is the median over repeats of back-to-back calls lasting at least
`min_time` seconds each, after two warm-up calls (tracing and compiling). The
row and column errors are max |row sum - 1| and max |column sum - 1| of `P`
over the batch, in float32.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

SIZES = [(64, 5), (16, 50), (4, 200)]
TEMPERATURES = [1.0, 0.1]
HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "sinkhorn_backends.md")


def problem(batch, n, t):
  """The logits 3 z + g, the temperature, and the loss weights w."""
  rng = np.random.default_rng(n * 1000 + int(round(t * 10)))
  logits = 3 * rng.standard_normal([batch, n, n]) + rng.gumbel(
      size=[batch, n, n])
  w = rng.standard_normal([batch, n, n])
  return logits.astype(np.float32), np.float32(t), w.astype(np.float32)


def median_ms(fn, repeats, min_time):
  fn()
  fn()
  times = []
  for _ in range(repeats):
    calls, start = 0, time.perf_counter()
    while True:
      fn()
      calls += 1
      elapsed = time.perf_counter() - start
      if elapsed >= min_time:
        break
    times.append(1e3 * elapsed / calls)
  return statistics.median(times)


def errors(p):
  p = np.asarray(p, np.float64)
  return (float(np.abs(p.sum(-1) - 1).max()),
          float(np.abs(p.sum(-2) - 1).max()))


def sweep(steps, to_call, repeats, min_time):
  """A row per compiled step and problem: `steps` is [(name, step)], and
  `to_call(step, (logits, t, w))` a call returning numpy (P, gradient)."""
  rows = []
  for name, step in steps:
    for batch, n in SIZES:
      for t in TEMPERATURES:
        call = to_call(step, problem(batch, n, t))
        p, g = call()
        row, col = errors(p)
        rows.append(dict(impl=name, n=n, batch=batch, t=t,
                         ms=median_ms(call, repeats, min_time), row=row,
                         col=col, finite=bool(np.all(np.isfinite(g)))))
  return rows


def run_jax(repeats, min_time):
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import keras  # pylint: disable=g-import-not-at-top
  from ott.geometry import geometry  # pylint: disable=g-import-not-at-top
  from ott.problems.linear import linear_problem  # pylint: disable=g-import-not-at-top
  from ott.solvers.linear import sinkhorn  # pylint: disable=g-import-not-at-top
  import tfp_gumbel.ops  # pylint: disable=g-import-not-at-top
  assert keras.backend.backend() == "jax"

  def ours(logits, t, w):
    p = jnp.exp(tfp_gumbel.ops.sinkhorn(logits / t))
    return jnp.sum(p * w), p

  solver = sinkhorn.Sinkhorn(implicit_diff=None, max_iterations=2000)

  def ott_one(logits, t):
    n = logits.shape[-1]
    geom = geometry.Geometry(cost_matrix=-logits, epsilon=t)
    out = solver(linear_problem.LinearProblem(geom))
    return out.matrix * n

  def ott(logits, t, w):
    p = jax.vmap(ott_one, in_axes=(0, None))(logits, t)
    return jnp.sum(p * w), p

  def to_call(step, arrays):
    args = tuple(jnp.asarray(a) for a in arrays)

    def call():
      (_, p), g = step(*args)
      jax.block_until_ready((p, g))
      return p, g

    return call

  steps = [(name, jax.jit(jax.value_and_grad(fn, has_aux=True)))
           for name, fn in [("ours, jax.jit", ours), ("OTT-JAX, jax.jit", ott)]]
  return sweep(steps, to_call, repeats, min_time)


def run_tensorflow(repeats, min_time):
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tfp_gumbel.ops  # pylint: disable=g-import-not-at-top
  assert keras.backend.backend() == "tensorflow"

  def value_and_grad(logits, t, w):
    with tf.GradientTape() as tape:
      tape.watch(logits)
      p = tf.exp(tfp_gumbel.ops.sinkhorn(logits / t))
      loss = tf.reduce_sum(p * w)
    return p, tape.gradient(loss, logits)

  def to_call(step, arrays):
    args = [tf.constant(a) for a in arrays]

    def call():
      p, g = step(*args)
      return p.numpy(), g.numpy()

    return call

  steps = [(name, tf.function(value_and_grad, jit_compile=xla,
                              autograph=False))
           for name, xla in [("ours, tf.function", False),
                             ("ours, TF XLA", True)]]
  return sweep(steps, to_call, repeats, min_time)


def versions():
  out = {}
  for module in ("jax", "ott", "tensorflow", "keras"):
    try:
      out[module] = getattr(__import__(module), "__version__", "?")
    except ImportError:
      out[module] = "absent"
  return out


def write_report(rows, environments, seconds, quick):
  by_key = {(r["impl"], r["n"], r["t"]): r for r in rows}
  impls = ["ours, jax.jit", "ours, tf.function", "ours, TF XLA",
           "OTT-JAX, jax.jit"]
  lines = [
      "# Gumbel-Sinkhorn to tolerance: JAX, TF and OTT-JAX", "",
      f"Machine: {os.cpu_count()} logical CPUs, {platform.platform()}; "
      + "; ".join(
          f"{backend} process: Python {report['python']}, "
          + ", ".join(f"{k} {v}" for k, v in report["versions"].items()
                      if v != "absent")
          for backend, report in environments.items())
      + f"; load average {os.getloadavg()[0]:.2f}.", "",
      f"Command: `python benchmarks/sinkhorn_backends.py"
      f"{' --quick' if quick else ''}` ({seconds / 60:.1f} min, "
      f"{datetime.date.today()}). Value + gradient of sum(P * w), compiled; "
      "median ms per call; row / column error: max |sum - 1| over the batch "
      "(module docstring).", "",
      "| N | B | t | implementation | ms | row error | column error | "
      "grad finite | ms / ours tf.function |",
      "|---:|---:|---:|---|---:|---:|---:|---|---:|"]
  for batch, n in SIZES:
    for t in TEMPERATURES:
      base = by_key.get(("ours, tf.function", n, t))
      for impl in impls:
        r = by_key.get((impl, n, t))
        if r is None:
          continue
        ratio = f"{r['ms'] / base['ms']:.2f}" if base else "-"
        lines.append(
            f"| {n} | {batch} | {t:g} | {impl} | {r['ms']:.2f} | "
            f"{r['row']:.1e} | {r['col']:.1e} | {r['finite']} | {ratio} |")
  os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
  with open(RESULTS, "w") as f:
    f.write("\n".join(lines) + "\n")
  print("\n".join(lines))


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--quick", action="store_true")
  parser.add_argument("--backend", choices=["jax", "tensorflow"],
                      help="run one backend and print JSON (used internally)")
  parser.add_argument("--python-jax", default=sys.executable)
  parser.add_argument("--python-tensorflow", default=sys.executable)
  args = parser.parse_args()
  repeats, min_time = (3, 0.05) if args.quick else (7, 0.3)
  if args.backend:
    run = run_jax if args.backend == "jax" else run_tensorflow
    print(json.dumps(dict(rows=run(repeats, min_time), versions=versions(),
                          python=platform.python_version())))
    return
  start = time.time()
  rows, environments = [], {}
  for backend in ("jax", "tensorflow"):
    python = getattr(args, f"python_{backend}")
    command = [python, __file__, "--backend", backend]
    if args.quick:
      command.append("--quick")
    env = dict(os.environ, KERAS_BACKEND=backend,
               TF_CPP_MIN_LOG_LEVEL="2")
    out = subprocess.run(command, env=env, check=True, capture_output=True,
                         text=True).stdout
    report = json.loads(out.strip().splitlines()[-1])
    rows += report["rows"]
    environments[backend] = report
  write_report(rows, environments, time.time() - start, args.quick)


if __name__ == "__main__":
  main()
