"""Overhead of the tfp_gumbel Keras layers in a compiled train step, per backend.

Run by hand: `python benchmarks/layer_overhead.py [--quick]` (about 10
minutes on 2 cores; `--quick`, the core table alone with shorter timings,
about 3), with `--python-tensorflow`, `--python-jax` and `--python-torch`
naming the interpreter of an environment with that backend (each defaults
to this one; a backend whose process fails is left out), e.g.

    python benchmarks/layer_overhead.py --python-tensorflow venv/bin/python \
        --python-jax venv_jax/bin/python --python-torch venv_torch/bin/python

Writes benchmarks/results/layer_overhead.md. Each backend runs in its own
process (Keras picks one backend per process; `KERAS_BACKEND` is set for
it), which prints its timings as JSON for this one to collect. Each process
runs every op on one thread (`--threads 1`, the default; 0 keeps the
backends' thread pools): on a machine shared with other jobs a pool of
threads waits on a preempted one, which made single PyTorch steps 10x slower
at random.

The model is the categorical VAE's shape, small enough that the Gumbel layer
is a visible share of a step:

    Input[64] -> Dense(L * K) -> Reshape[L, K] -> <layer, t = 0.5>
              -> Flatten -> Dense(64),     MSE loss, Adam,

at two sizes: batch 128, L = 30, K = 10 (the latent of
examples/categorical_vae) and batch 256, L = 32, K = 64. It is compiled with
`model.compile(..., jit_compile="auto")`, Keras's default: tf.function on a
TensorFlow without GPU (XLA with one), `jax.jit` on JAX, eager on PyTorch;
TensorFlow runs a second time with `jit_compile=True` (XLA; `--no_tf_xla`
skips it). A timing is `train_on_batch` on one batch (backend tensors, made
once) called back to back for at least `min_time` seconds, in ms per step;
the figure is the median over `repeats` timings, after warm-up calls
(tracing, compiling).

The core comparison is each of our layers against a hand-written Keras layer
of the same math in plain `keras.ops` (what a user would write first):

    u ~ keras.random.uniform([tiny, 1), seed=SeedGenerator),
    GumbelSoftmax: y = softmax((x - log(-log u)) / t),
                   hard: one_hot(argmax(x - log(-log u))) + y - stop_gradient(y)
    GumbelSigmoid: y = sigmoid((x + log u - log1p(-u)) / t),
                   hard: [x + log u - log1p(-u) > 0] + y - stop_gradient(y)

with t a Python float (ours holds t in a weight, as annealing and learning
it need, and handles -inf logits and masks). The two of a pair are timed
next to each other, alternating which goes first (ABAB...), and the pairs
in a rotating order, so that load from other processes hits both alike; the
ratio is the median over repeats of the paired ratio ours / hand-written
(the issue's target: <= 1.1). "layer only" subtracts the floor (the same
model with `keras.layers.Identity` instead of a Gumbel layer) from both, a
noisier ratio of small differences. A control pair, two instances of the
hand-written soft Gumbel-Softmax timed the same way, shows the machine's
noise: its ratio would be 1 on a quiet machine, and the worst table gives
its largest deviation either way.

RelaxedTopK (k = 5), RelaxedPlackettLuce and GumbelSinkhorn (solved to its
default tolerance) have no hand-written equivalent of the same math; a
second table (not with `--quick` or `--core_only`) gives their step time
relative to the hand-written Gumbel-Softmax layer of the same kind (soft or
hard), timed in one rotation with them after the core table: "cost relative
to a Gumbel-Softmax". They take the same L * K logits: RelaxedTopK as
[L, K]; RelaxedPlackettLuce as [L * K / N, N] scores and GumbelSinkhorn as
[L * K / N^2, N, N] logits with N = min(K, 16) (RelaxedPlackettLuce's output
is N times larger, and so is the decoder's input). Hard GumbelSinkhorn runs
its matching on the host, which keeps XLA off the whole step on TensorFlow.
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

HERE = os.path.dirname(os.path.abspath(__file__))
RESULT = os.path.join(HERE, "results", "layer_overhead.md")
BACKENDS = ("tensorflow", "jax", "torch")
FEATURES = 64
TEMPERATURE = 0.5
TOP_K = 5
TARGET = 1.1
# Rounds of the layers without a twin (a rough figure; some take seconds).
OTHER_REPEATS = 5
# (batch, L, K)
SIZES = ((128, 30, 10), (256, 32, 64))

# The pairs (hand-written reference, ours) of the core table.
PAIRS = (
    ("GumbelSoftmax", "soft", "hand GumbelSoftmax soft", "GumbelSoftmax soft"),
    ("GumbelSoftmax", "hard (ST)", "hand GumbelSoftmax hard",
     "GumbelSoftmax hard"),
    ("GumbelSigmoid", "soft", "hand GumbelSigmoid soft", "GumbelSigmoid soft"),
    ("GumbelSigmoid", "hard (ST)", "hand GumbelSigmoid hard",
     "GumbelSigmoid hard"),
)
# A control pair timed the same way: two instances of the same hand-written
# layer, whose ratio would be 1 but for the noise of this machine (the
# spread a real difference has to exceed).
CONTROL = ("control", "soft", "hand GumbelSoftmax soft (A)",
           "hand GumbelSoftmax soft (B)")
# The layers without a hand-written twin: (name, reference).
OTHERS = (
    ("RelaxedTopK soft", "hand GumbelSoftmax soft"),
    ("RelaxedTopK hard", "hand GumbelSoftmax hard"),
    ("RelaxedPlackettLuce soft", "hand GumbelSoftmax soft"),
    ("RelaxedPlackettLuce hard", "hand GumbelSoftmax hard"),
    ("GumbelSinkhorn soft", "hand GumbelSoftmax soft"),
    ("GumbelSinkhorn hard", "hand GumbelSoftmax hard"),
)
FLOOR = "floor (Identity)"


# ---------------------------------------------------------------------------
# The child: one backend, in its own process.


def _layers():
  """The hand-written layers, defined once Keras is imported (in the child)."""
  import keras  # pylint: disable=g-import-not-at-top

  tiny = float(np.finfo(np.float32).tiny)

  class HandLayer(keras.layers.Layer):
    """A temperature, `hard`, and a uniform draw per call from its stream."""

    def __init__(self, temperature, hard=False, seed=None, **kwargs):
      super().__init__(**kwargs)
      self.temperature = temperature
      self.hard = hard
      self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
      u = keras.random.uniform(keras.ops.shape(x), minval=tiny, maxval=1.,
                               seed=self.seed_generator)
      return self.relax(x, u)

  class HandGumbelSoftmax(HandLayer):
    """softmax((x + g) / t), g = -log(-log u); hard: straight-through."""

    def relax(self, x, u):
      z = x - keras.ops.log(-keras.ops.log(u))
      y = keras.ops.softmax(z / self.temperature, axis=-1)
      if not self.hard:
        return y
      one_hot = keras.ops.one_hot(keras.ops.argmax(z, axis=-1), x.shape[-1],
                                  dtype=y.dtype)
      return one_hot + y - keras.ops.stop_gradient(y)

  class HandGumbelSigmoid(HandLayer):
    """sigmoid((x + l) / t), l = log u - log(1 - u); hard: straight-through."""

    def relax(self, x, u):
      z = x + keras.ops.log(u) - keras.ops.log1p(-u)
      y = keras.ops.sigmoid(z / self.temperature)
      if not self.hard:
        return y
      bits = keras.ops.cast(keras.ops.greater(z, 0.), y.dtype)
      return bits + y - keras.ops.stop_gradient(y)

  return HandGumbelSoftmax, HandGumbelSigmoid


def variants(latents, classes):
  """{name: (make layer, event shape fed to it)}."""
  import keras  # pylint: disable=g-import-not-at-top
  import tfp_gumbel as tfg  # pylint: disable=g-import-not-at-top
  hand_softmax, hand_sigmoid = _layers()
  t, lk = TEMPERATURE, latents * classes
  n = min(classes, 16)
  grid = [latents, classes]
  out = {
      FLOOR: (keras.layers.Identity, grid),
      "hand GumbelSoftmax soft": (lambda: hand_softmax(t, seed=0), grid),
      CONTROL[2]: (lambda: hand_softmax(t, seed=0), grid),
      CONTROL[3]: (lambda: hand_softmax(t, seed=0), grid),
      "GumbelSoftmax soft": (
          lambda: tfg.layers.GumbelSoftmax(t, seed=0), grid),
      "hand GumbelSoftmax hard": (
          lambda: hand_softmax(t, hard=True, seed=0), grid),
      "GumbelSoftmax hard": (
          lambda: tfg.layers.GumbelSoftmax(t, hard=True, seed=0), grid),
      "hand GumbelSigmoid soft": (lambda: hand_sigmoid(t, seed=0), grid),
      "GumbelSigmoid soft": (
          lambda: tfg.layers.GumbelSigmoid(t, seed=0), grid),
      "hand GumbelSigmoid hard": (
          lambda: hand_sigmoid(t, hard=True, seed=0), grid),
      "GumbelSigmoid hard": (
          lambda: tfg.layers.GumbelSigmoid(t, hard=True, seed=0), grid),
      "RelaxedTopK soft": (
          lambda: tfg.layers.RelaxedTopK(TOP_K, t, seed=0), grid),
      "RelaxedTopK hard": (
          lambda: tfg.layers.RelaxedTopK(TOP_K, t, hard=True, seed=0), grid),
      "RelaxedPlackettLuce soft": (
          lambda: tfg.layers.RelaxedPlackettLuce(t, seed=0), [lk // n, n]),
      "RelaxedPlackettLuce hard": (
          lambda: tfg.layers.RelaxedPlackettLuce(t, hard=True, seed=0),
          [lk // n, n]),
      "GumbelSinkhorn soft": (
          lambda: tfg.layers.GumbelSinkhorn(t, seed=0), [lk // n**2, n, n]),
      "GumbelSinkhorn hard": (
          lambda: tfg.layers.GumbelSinkhorn(t, hard=True, seed=0),
          [lk // n**2, n, n]),
  }
  return out


def build(layer, event_shape, latents, classes, jit_compile="auto"):
  import keras  # pylint: disable=g-import-not-at-top
  model = keras.Sequential([
      keras.Input([FEATURES]),
      keras.layers.Dense(latents * classes),
      keras.layers.Reshape(event_shape),
      layer,
      keras.layers.Flatten(),
      keras.layers.Dense(FEATURES)])
  model.compile(keras.optimizers.Adam(1e-3), "mse", jit_compile=jit_compile)
  return model


def blocks_for(names):
  """The timing blocks: each pair (hand, ours) together, the rest alone."""
  blocks, paired = [], set()
  for _, _, hand, ours in PAIRS + (CONTROL,):
    if hand in names and ours in names:
      blocks.append([hand, ours])
      paired |= {hand, ours}
  blocks += [[name] for name in names if name not in paired]
  return blocks


def _timings(models, calls, blocks, repeats, x, y):
  """{name: [ms per step, one per repeat]}: the blocks in a rotating order,
  the two of a pair next to each other, alternating which goes first."""
  samples = {name: [] for block in blocks for name in block}
  for r in range(repeats):
    shift = r % len(blocks)
    for block in blocks[shift:] + blocks[:shift]:
      for name in (block if r % 2 == 0 else block[::-1]):
        model, n = models[name], calls[name]
        start = time.perf_counter()
        for _ in range(n):
          model.train_on_batch(x, y)
        samples[name].append(1e3 * (time.perf_counter() - start) / n)
  return samples


def time_size(batch, latents, classes, args, log):
  """({name: [ms per step, one per repeat]}, {name: jit_compile}).

  The floor and the pairs are timed together for `args.repeats` rounds; the
  layers without a twin (unless `args.core_only`) after them, with the
  hand-written Gumbel-Softmax layers again, for `OTHER_REPEATS` rounds, each
  timing at least one step (some take seconds).
  """
  import keras  # pylint: disable=g-import-not-at-top
  rng = np.random.RandomState(0)
  x = keras.ops.convert_to_tensor(
      rng.normal(size=[batch, FEATURES]).astype(np.float32))
  y = keras.ops.convert_to_tensor(
      rng.normal(size=[batch, FEATURES]).astype(np.float32))
  table = variants(latents, classes)
  core = [FLOOR] + [n for pair in PAIRS + (CONTROL,) for n in pair[2:]]
  others = [] if args.core_only else [name for name, _ in OTHERS]
  jit = True if args.jit_compile == "true" else "auto"
  models, calls, compiled = {}, {}, {}
  for name in core + others:
    make, event_shape = table[name]
    start = time.perf_counter()
    model = build(make(), event_shape, latents, classes, jit)
    for _ in range(3):  # trace / compile, then settle
      model.train_on_batch(x, y)
    compiled[name] = bool(model.jit_compile)
    start_one = time.perf_counter()
    model.train_on_batch(x, y)
    one = time.perf_counter() - start_one
    min_calls = 2 if name in core else 1
    calls[name] = max(min_calls, int(np.ceil(args.min_time / max(one, 1e-6))))
    models[name] = model
    log(f"  built {name}: {time.perf_counter() - start:.1f} s, "
        f"{1e3 * one:.2f} ms/step, {calls[name]} steps per timing, "
        f"jit_compile={model.jit_compile}")
  samples = _timings(models, calls, blocks_for(core), args.repeats, x, y)
  if others:
    refs = sorted({ref for _, ref in OTHERS})
    again = _timings(models, calls, [[n] for n in refs + others],
                     min(args.repeats, OTHER_REPEATS), x, y)
    samples.update({n: again[n] for n in others})
    samples.update({f"{n} (again)": again[n] for n in refs})
  return samples, compiled


def versions():
  import keras  # pylint: disable=g-import-not-at-top
  backend = keras.backend.backend()
  lib = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend]
  return {"python": platform.python_version(), "keras": keras.__version__,
          lib: __import__(lib).__version__, "numpy": np.__version__}


def limit_threads(backend, threads):
  """One thread per op where `threads` is 1 (see the module doc); the
  environment (OMP_NUM_THREADS, XLA_FLAGS) is set by the parent."""
  if not threads:
    return
  if backend == "torch":
    import torch  # pylint: disable=g-import-not-at-top
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(threads)
  elif backend == "tensorflow":
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def run_backend(args):
  import keras  # pylint: disable=g-import-not-at-top
  backend = keras.backend.backend()
  limit_threads(backend, args.threads)
  if backend == "tensorflow":
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    tf.get_logger().setLevel("ERROR")
  rows = []
  log = lambda msg: print(msg, file=sys.stderr, flush=True)
  for batch, latents, classes in SIZES:
    log(f"{backend} (jit_compile={args.jit_compile}): batch {batch}, "
        f"L {latents}, K {classes}")
    start = time.perf_counter()
    samples, compiled = time_size(batch, latents, classes, args, log)
    log(f"  timed in {time.perf_counter() - start:.0f} s")
    rows.append(dict(batch=batch, latents=latents, classes=classes,
                     samples=samples, compiled=compiled))
  return dict(backend=backend, jit_compile=args.jit_compile,
              versions=versions(), rows=rows)


# ---------------------------------------------------------------------------
# The parent: runs each backend, writes the report.


def paired_ratio(a, b):
  """Median over repeats of a[i] / b[i] (timed next to each other)."""
  return statistics.median(x / y for x, y in zip(a, b))


def layer_only(samples, name, ref):
  floor = statistics.median(samples[FLOOR])
  own = statistics.median(samples[name]) - floor
  ref_own = statistics.median(samples[ref]) - floor
  return own / ref_own if ref_own > 0 else float("nan")


def cpu_name():
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or "unknown CPU"


def compile_label(backend, compiled):
  if backend == "torch":
    return "torch.compile" if compiled else "eager"
  if backend == "jax":
    return "jax.jit" if compiled else "jax, no jit"
  return "XLA" if compiled else "tf.function"


def run_label(result):
  """The backend and how its core layers were compiled, e.g. "tensorflow,
  XLA"."""
  compiled = result["rows"][0]["compiled"]["GumbelSoftmax soft"]
  return f"{result['backend']}, {compile_label(result['backend'], compiled)}"


def markdown(results, command, seconds, args):
  ms = statistics.median
  threads = ("one thread per op (`--threads 1`: torch.set_num_threads, TF's "
             "intra/inter-op pools, XLA_FLAGS=--xla_cpu_multi_thread_eigen="
             "false, OMP_NUM_THREADS)" if args.threads == 1 else
             f"`--threads {args.threads}`" if args.threads else
             "the backends' default thread pools")
  lines = [
      "# Layer overhead in a compiled train step, per backend", "",
      f"Machine: {cpu_name()}, {os.cpu_count()} logical CPUs (shared with "
      f"other jobs), no GPU; {platform.system()} {platform.release()}; "
      "load average at the end "
      + " / ".join(f"{v:.2f}" for v in os.getloadavg()) + f"; {threads}.",
      "",
      "Versions: " + "; ".join(
          f"{run_label(r)}: " + ", ".join(f"{k} {v}" for k, v in
                                          r["versions"].items())
          for r in results) + ".", "",
      f"Command: `{command}` ({seconds / 60:.1f} min, "
      f"{datetime.date.today()}; {args.repeats} repeats of timings of at "
      f"least {args.min_time} s).", "",
      f"Model: Input[{FEATURES}] -> Dense(L x K) -> Reshape -> layer "
      f"(t = {TEMPERATURE}) -> Flatten -> Dense({FEATURES}), MSE, Adam, "
      "ms per `train_on_batch` step (median over repeats). `compiled`: "
      "`compile(jit_compile=\"auto\")`, Keras's default (tf.function on a "
      "CPU-only TensorFlow, jax.jit on JAX, eager on PyTorch), and the "
      "TensorFlow rows with `jit_compile=True` (XLA, \"auto\"'s choice on "
      "a GPU). Ratio: median over repeats of ours / hand-written, the two "
      "timed next to each other (ABAB); `layer only` subtracts the floor "
      "(Identity in the layer's place) from both medians first: the ratio "
      "of the layers' own costs, noisy where they are a small share of the "
      "step. Module docstring: benchmarks/layer_overhead.py.", "",
      f"## Ours / a hand-written keras.ops layer of the same math "
      f"(target <= {TARGET})", "",
      "| backend | compiled | batch, L, K | layer | mode | hand ms | ours ms "
      "| ratio | layer only | floor ms |",
      "|---|---|---|---|---|---:|---:|---:|---:|---:|"]
  worst = {}
  for result in results:
    backend = result["backend"]
    for row in result["rows"]:
      s = row["samples"]
      for layer, mode, hand, ours in PAIRS:
        ratio = paired_ratio(s[ours], s[hand])
        key = (run_label(result), layer, mode)
        worst[key] = max(worst.get(key, 0.), ratio)
        flag = " (!)" if ratio > TARGET else ""
        lines.append(
            f"| {backend} | {compile_label(backend, row['compiled'][ours])} "
            f"| {row['batch']}, {row['latents']}, {row['classes']} | {layer} "
            f"| {mode} | {ms(s[hand]):.3f} | {ms(s[ours]):.3f} "
            f"| {ratio:.3f}{flag} | {layer_only(s, ours, hand):.2f} "
            f"| {ms(s[FLOOR]):.3f} |")
  labels = [run_label(r) for r in results]
  over = {k: v for k, v in worst.items() if v > TARGET}
  # The control's spread: the largest deviation from 1 either way.
  control = {run_label(r): max(
      max(q, 1 / q) for q in (paired_ratio(row["samples"][CONTROL[3]],
                                           row["samples"][CONTROL[2]])
                              for row in r["rows"]))
             for r in results}
  lines += ["", "Worst ratio over the two sizes:", "",
            "| layer | mode | " + " | ".join(labels) + " |",
            "|---|---|" + "---:|" * len(labels)]
  for layer, mode, _, _ in PAIRS:
    lines.append(f"| {layer} | {mode} | " + " | ".join(
        f"{worst[label, layer, mode]:.3f}" for label in labels) + " |")
  lines.append("| control: hand-written / itself | soft, max(r, 1/r) | "
               + " | ".join(f"{control[label]:.3f}" for label in labels)
               + " |")
  lines += ["", (f"Over {TARGET}: " + "; ".join(
      f"{b}: {l} {m} ({v:.3f})" for (b, l, m), v in over.items()) + "."
                 if over else f"Every ratio is within {TARGET}.")]
  others = [(r, row) for r in results for row in r["rows"]
            if any(n in row["samples"] for n, _ in OTHERS)]
  if others:
    lines += [
        "", "## Layers without a hand-written twin: cost relative to a "
        "Gumbel-Softmax", "",
        "No hand-written layer does the same math as these, so their step "
        "time is given relative to the hand-written Gumbel-Softmax layer "
        "(soft, or hard ST for a hard row) on the same L x K logits, timed "
        f"in one rotation with them after the table above ({OTHER_REPEATS} "
        "repeats at most, at least one step per timing): what the "
        f"relaxation costs, not an overhead. RelaxedTopK: k = {TOP_K} of K; "
        "RelaxedPlackettLuce: [L K / N, N] scores (its output, and the "
        "decoder's input, N times larger); GumbelSinkhorn: [L K / N^2, N, "
        "N] logits solved to its default tolerance; N = min(K, 16). Hard "
        "GumbelSinkhorn matches on the host (tf.function, no XLA, on "
        "TensorFlow).", "",
        "| backend | compiled | batch, L, K | layer | ms | Gumbel-Softmax ms "
        "| relative |", "|---|---|---|---|---:|---:|---:|"]
    for result, row in others:
      s, backend = row["samples"], result["backend"]
      for name, ref in OTHERS:
        ref_ms = ms(s[f"{ref} (again)"])
        lines.append(
            f"| {backend} | {compile_label(backend, row['compiled'][name])}"
            f" | {row['batch']}, {row['latents']}, {row['classes']} "
            f"| {name} | {ms(s[name]):.3f} | {ref_ms:.3f} "
            f"| {ms(s[name]) / ref_ms:.2f} |")
  return "\n".join(lines) + "\n", over


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--quick", action="store_true",
                 help="shorter timings, 7 repeats, the core table only")
  p.add_argument("--repeats", type=int, default=None)
  p.add_argument("--min_time", type=float, default=None)
  p.add_argument("--core_only", action="store_true",
                 help="only the pairs with a hand-written twin")
  p.add_argument("--backends", default=",".join(BACKENDS))
  p.add_argument("--no_tf_xla", action="store_true",
                 help="skip the TensorFlow run with jit_compile=True")
  p.add_argument("--threads", type=int, default=1,
                 help="threads per op in each backend (0: their defaults)")
  for backend in BACKENDS:
    p.add_argument(f"--python-{backend}", default=sys.executable,
                   help=f"interpreter of an environment with {backend}")
  p.add_argument("--out", default=RESULT)
  p.add_argument("--backend", choices=BACKENDS,
                 help="run one backend and print JSON (used internally)")
  p.add_argument("--jit_compile", choices=["auto", "true"], default="auto",
                 help="with --backend: the models' jit_compile")
  args = p.parse_args(argv)
  if args.quick:
    args.core_only = True
  if args.repeats is None:
    args.repeats = 7 if args.quick else 11
  if args.min_time is None:
    args.min_time = 0.1 if args.quick else 0.3
  if args.backend:
    print(json.dumps(run_backend(args)))
    return
  start = time.time()
  runs = []
  for backend in args.backends.split(","):
    runs.append((backend, "auto", args.core_only))
    if backend == "tensorflow" and not args.no_tf_xla:
      runs.append((backend, "true", True))
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  if args.threads:
    env.update(OMP_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads))
    if args.threads == 1:
      env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") +
                          " --xla_cpu_multi_thread_eigen=false"
                          " intra_op_parallelism_threads=1").strip()
  results = []
  for backend, jit, core_only in runs:
    python = getattr(args, f"python_{backend}")
    cmd = [python, os.path.abspath(__file__), "--backend", backend,
           "--jit_compile", jit, "--repeats", str(args.repeats),
           "--min_time", str(args.min_time), "--threads", str(args.threads)]
    if core_only:
      cmd.append("--core_only")
    print(f"running {backend} (jit_compile={jit}) with {python}", flush=True)
    done = subprocess.run(cmd, env=dict(env, KERAS_BACKEND=backend),
                          stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode:
      print(f"{backend} failed (exit {done.returncode}) with {python}: left "
            "out", file=sys.stderr, flush=True)
      continue
    results.append(json.loads(done.stdout.strip().splitlines()[-1]))
  if not results:
    sys.exit("no backend ran")
  argv_shown = sys.argv[1:] if argv is None else list(argv)
  command = " ".join(["python benchmarks/layer_overhead.py"] + argv_shown)
  report, _ = markdown(results, command, time.time() - start, args)
  print(report)
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w") as f:
    f.write(report)


if __name__ == "__main__":
  main()
