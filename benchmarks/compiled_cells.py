"""Compiled cells (tf.function and XLA) of the package, this tree against another.

Each cell is one public call, with its gradient where the call is meant to be
trained through, at a size where the math (not the call overhead) dominates.
Against another checkout (`--against DIR`, e.g. a `git worktree` of the
previous release), both trees run in alternating subprocesses, round after
round, so a burst of load hits both alike; the table gives each cell's median
over rounds and the ratio this tree / the other.

    python -m benchmarks.compiled_cells                   # this tree, JSON
    python -m benchmarks.compiled_cells --against ../before --rounds 5 \
        --out benchmarks/results/compiled_cells.md
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def _cells():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tfp_gumbel as tfg  # pylint: disable=g-import-not-at-top

  l10 = tf.random.stateless_normal([1000, 10], seed=(1, 2))
  l100 = tf.random.stateless_normal([100, 100], seed=(1, 2))
  s10 = tf.random.stateless_normal([16, 10, 10], seed=(1, 2))
  seed = tf.constant([1, 2])

  def grad(f, x):
    with tf.GradientTape() as tape:
      tape.watch(x)
      y = f(x)
      loss = tf.reduce_sum(y * y)
    return tape.gradient(loss, x)

  def sample_and_log_prob(d, n=()):
    return d.log_prob(d.sample(n, seed=seed))

  return {
      "GumbelSoftmax sample+log_prob 1000x10": (
          lambda x: sample_and_log_prob(tfg.GumbelSoftmax(0.5, logits=x)),
          l10),
      "GumbelSoftmax grad 1000x10": (lambda x: grad(
          lambda z: tfg.GumbelSoftmax(0.5, logits=z).sample(seed=seed), x),
                                     l10),
      "ExpRelaxed sample(4)+log_prob 100x100": (
          lambda x: sample_and_log_prob(
              tfg.ExpRelaxedGumbelSoftmax(0.5, logits=x), 4), l100),
      "GumbelSigmoid sample+log_prob 1000x10": (
          lambda x: sample_and_log_prob(tfg.GumbelSigmoid(0.5, logits=x)),
          l10),
      "GumbelSigmoid grad 1000x10": (lambda x: grad(
          lambda z: tfg.GumbelSigmoid(0.5, logits=z).sample(seed=seed), x),
                                     l10),
      "RelaxedTopK grad 1000x10 k3": (lambda x: grad(
          lambda z: tfg.RelaxedTopK(0.5, 3, logits=z).sample(seed=seed), x),
                                      l10),
      "RelaxedPlackettLuce grad 100x10": (lambda x: grad(
          lambda z: tfg.RelaxedPlackettLuce(0.5, tf.exp(z)).sample(seed=seed),
          x), l10[:100]),
      "GumbelSinkhorn grad 16x10x10": (lambda x: grad(
          lambda z: tfg.GumbelSinkhorn(0.5, z).sample(seed=seed), x), s10),
      "gumbel_softmax_st grad 1000x10": (lambda x: grad(
          lambda z: tfg.estimators.gumbel_softmax_st(z, 0.5, seed=seed), x),
                                         l10),
      "gumbel_sigmoid_st grad 1000x10": (lambda x: grad(
          lambda z: tfg.estimators.gumbel_sigmoid_st(z, 0.5, seed=seed), x),
                                         l10),
      "gumbel_rao grad 1000x10": (lambda x: grad(
          lambda z: tfg.estimators.gumbel_rao(z, 0.5, 10, seed=seed), x),
                                  l10),
      "reinmax grad 1000x10": (lambda x: grad(
          lambda z: tfg.estimators.reinmax(z, 0.5, seed=seed), x), l10),
  }


def time_cells(modes=("function", "xla"), repeats=11, min_time=0.1):
  """{cell [mode]: median ms per call} for this process's tfp_gumbel."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  out = {}
  for name, (fn, x) in _cells().items():
    for mode in modes:
      compiled = tf.function(fn, jit_compile=(mode == "xla"), autograph=False)
      compiled(x)
      start = time.perf_counter()
      compiled(x)
      calls = max(1, int(min_time / max(time.perf_counter() - start, 1e-6)))
      samples = []
      for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
          result = compiled(x)
        tf.nest.map_structure(lambda v: v.numpy(), result)
        samples.append((time.perf_counter() - start) / calls * 1e3)
      out[f"{name} [{mode}]"] = statistics.median(samples)
  return out


def _run_tree(tree):
  env = dict(os.environ, PYTHONPATH=tree, TF_CPP_MIN_LOG_LEVEL="3")
  out = subprocess.run(
      [sys.executable, os.path.abspath(__file__), "--json"], env=env,
      capture_output=True, text=True, check=True, cwd=tree).stdout
  return json.loads(out.strip().splitlines()[-1])


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--json", action="store_true",
                      help="time this process's tfp_gumbel, print JSON")
  parser.add_argument("--against", help="another checkout to compare with")
  parser.add_argument("--rounds", type=int, default=5)
  parser.add_argument("--out", help="write the Markdown table here too")
  args = parser.parse_args()
  if args.json or not args.against:
    print(json.dumps(time_cells()))
    return
  here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  runs = {"this": [], "other": []}
  for r in range(args.rounds):
    order = ["this", "other"] if r % 2 == 0 else ["other", "this"]
    for which in order:
      runs[which].append(_run_tree(here if which == "this" else args.against))
      print(f"round {r + 1}/{args.rounds}: {which} done", file=sys.stderr)
  lines = [f"Compiled cells, median ms over {args.rounds} alternating rounds "
           f"(each a median of 11 timings): this tree ({here}) against "
           f"{args.against}.", "",
           "| cell | other ms | this ms | this / other |", "|---|---|---|---|"]
  ratios = []
  for cell in runs["this"][0]:
    this = statistics.median(run[cell] for run in runs["this"])
    other = statistics.median(run[cell] for run in runs["other"])
    ratios.append(this / other)
    lines.append(f"| {cell} | {other:.3f} | {this:.3f} | {this / other:.2f} |")
  lines += ["", f"Ratios: median {statistics.median(ratios):.2f}, "
                f"max {max(ratios):.2f} over {len(ratios)} cells."]
  print("\n".join(lines))
  if args.out:
    with open(args.out, "w", encoding="utf-8") as f:
      f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
  main()
