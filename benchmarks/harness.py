"""Timing, machine description and the Markdown / PNG reports.

Timing is interleaved: within one cell (family, op, mode, dtype, size) the
three implementations are warmed up (traced and compiled), then timed in turn,
repeat after repeat, in a rotating order, so that a burst of load from another
process on a shared machine hits all three alike. Each timing is the mean over
enough back-to-back calls to last `min_time` seconds; the reported figure is
the median over repeats.
"""

import collections
import datetime
import os
import platform
import statistics
import time

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from benchmarks import cases

MODES = ("eager", "function", "xla")

Result = collections.namedtuple(
    "Result", ["family", "op", "mode", "dtype", "n", "k", "ms", "repeats"])


def compile_fn(fn, mode):
  if mode == "eager":
    return fn
  return tf.function(fn, jit_compile=(mode == "xla"), autograph=False)


def time_interleaved(fns, args, repeats, min_time, budget=None):
  """Median ms per call of each function in `fns` ({name: fn}), interleaved.

  Returns ({name: median ms}, repeats used). With `budget` (seconds), a cell
  whose slowest function would need more than that for `repeats` timings is
  timed fewer times (at least once).
  """
  names = list(fns)
  single = {}
  for name in names:
    fns[name](*args)  # trace / compile
    start = time.perf_counter()
    fns[name](*args)  # one warm call, to size the timings
    single[name] = time.perf_counter() - start
  calls = {name: max(1, int(np.ceil(min_time / max(single[name], 1e-7))))
           for name in names}
  if budget is not None:
    slowest = max(single[name] * calls[name] for name in names)
    repeats = int(min(repeats, max(1, budget // max(slowest, 1e-9))))
  samples = {name: [] for name in names}
  for r in range(repeats):
    order = names[r % len(names):] + names[:r % len(names)]
    for name in order:
      fn, n = fns[name], calls[name]
      start = time.perf_counter()
      for _ in range(n):
        fn(*args)
      samples[name].append((time.perf_counter() - start) / n * 1e3)
  return {name: statistics.median(v) for name, v in samples.items()}, repeats


def run_grid(families, ops, modes, dtypes, sizes, repeats, min_time,
             budget=None, log=print):
  """Times every cell of the grid; returns a list of `Result`."""
  available = cases.families()
  results = []
  for family_name in families:
    family = available[family_name]
    impl_ops = {(impl, mode): cases.operations(family, impl, mode)
                for impl in cases.IMPLS for mode in modes}
    for dtype in dtypes:
      for n, k in sizes:
        logits, t, seed, x = cases.inputs(family, n, k, dtype)
        for op in ops:
          args = (logits, t, x if op == "log_prob" else seed)
          for mode in modes:
            fns = {impl: compile_fn(impl_ops[impl, mode][op], mode)
                   for impl in cases.IMPLS}
            ms, used = time_interleaved(fns, args, repeats, min_time, budget)
            result = Result(family_name, op, mode, dtype, n, k, ms, used)
            results.append(result)
            log(format_row(result))
  return results


def machine_description():
  cpu = platform.processor() or "unknown CPU"
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          cpu = line.split(":", 1)[1].strip()
          break
  except OSError:
    pass
  try:
    with open("/proc/meminfo") as f:
      mem_gb = int(f.readline().split()[1]) / 2**20
    mem = f"{mem_gb:.0f} GB RAM"
  except (OSError, ValueError, IndexError):
    mem = "RAM unknown"
  load = (" load average %.2f / %.2f / %.2f" % os.getloadavg()
          if hasattr(os, "getloadavg") else "")
  return (f"{cpu}, {os.cpu_count()} logical CPUs, {mem}, no GPU; "
          f"{platform.system()} {platform.release()}; Python "
          f"{platform.python_version()}, TensorFlow {tf.__version__}, "
          f"TFP {tfp.__version__}, NumPy {np.__version__};{load}")


def _size(n, k):
  def fmt(v):
    return f"10^{int(np.log10(v))}" if v >= 100 and 10**round(
        np.log10(v)) == v else str(v)
  return f"{fmt(n)} x {fmt(k)}"


def _ratio(a, b):
  return f"{a / b:.2f}"


def format_row(r):
  ms = r.ms
  return (f"| {r.family} | {r.op} | {r.mode} | {r.dtype} | {_size(r.n, r.k)} "
          f"| {r.repeats} | {ms['ours']:.3f} | {ms['tfp']:.3f} | {ms['raw']:.3f} "
          f"| {_ratio(ms['ours'], ms['tfp'])} | {_ratio(ms['ours'], ms['raw'])} |")


TABLE_HEADER = (
    "| family | op | mode | dtype | N x K | reps | ours ms | TFP ms | raw ms "
    "| ours/TFP | ours/raw |\n"
    "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|")

# The targets, as (description, predicate on a Result).
TARGETS = (
    ("eager sample <= 3x raw",
     lambda r: r.mode == "eager" and r.op == "sample",
     lambda r: r.ms["ours"] <= 3 * r.ms["raw"]),
    ("tf.function and XLA <= 1.1x raw",
     lambda r: r.mode != "eager",
     lambda r: r.ms["ours"] <= 1.1 * r.ms["raw"]),
    ("eager log_prob <= 1.3x raw",
     lambda r: r.mode == "eager" and r.op == "log_prob",
     lambda r: r.ms["ours"] <= 1.3 * r.ms["raw"]),
    ("ours never slower than TFP",
     lambda r: True,
     lambda r: r.ms["ours"] <= r.ms["tfp"]),
)


def target_summary(results):
  lines = ["| target | cells met | worst cell (ours/raw, ours/TFP) |",
           "|---|---:|---|"]
  for text, applies, met in TARGETS:
    cells = [r for r in results if applies(r)]
    if not cells:
      continue
    ok = sum(bool(met(r)) for r in cells)
    key = ((lambda r: r.ms["ours"] / r.ms["tfp"]) if "TFP" in text
           else (lambda r: r.ms["ours"] / r.ms["raw"]))
    worst = max(cells, key=key)
    lines.append(
        f"| {text} | {ok} / {len(cells)} | {worst.family} {worst.op} "
        f"{worst.mode} {worst.dtype} {_size(worst.n, worst.k)}: "
        f"{_ratio(worst.ms['ours'], worst.ms['raw'])}, "
        f"{_ratio(worst.ms['ours'], worst.ms['tfp'])} |")
  return "\n".join(lines)


def markdown(results, title, machine, command, repeats, min_time, elapsed,
             extra=""):
  families = sorted({r.family for r in results}, key=list(cases.DISPLAY).index)
  legend = "\n".join(
      f"- `{f}`: ours = `{cases.DISPLAY[f][0]}`, TFP = `{cases.DISPLAY[f][1]}`,"
      f" raw = `{cases.DISPLAY[f][2]}` (+ closed-form log-density)"
      for f in families)
  return f"""# {title}

Machine: {machine}.

Command: `{command}` ({elapsed / 60:.1f} min). Median over {repeats} repeats
(fewer where a cell's slowest implementation would exceed the per-cell time
budget: column `reps`), each the mean of back-to-back calls lasting
>= {min_time * 1e3:.0f} ms; the three implementations of a cell are timed
interleaved in one process. The
machine was shared with other developers' jobs while this ran, so single
cells can be noisy by tens of percent; ratios within a cell are more reliable
than absolute times.

Logits have shape `[N, K]` (a batch of N distributions, one draw each),
temperature is a scalar 0.5; every implementation is constructed inside the
timed call. The raw ops draw their uniforms with TF's default generator
(`alg="auto_select"`, one C++ op) eagerly and in `tf.function`, and with
`alg="philox"` under XLA, where "auto_select" lowers to a generator about 60x
slower on this CPU: the floor is the fastest choice for each mode. `grad` is the gradient of `sum(sample**2)` w.r.t. logits and
temperature; `log_prob` is on one shared set of points.

{legend}

## Targets (issue 7)

{target_summary(results)}

## All cells

{TABLE_HEADER}
{chr(10).join(format_row(r) for r in results)}
{extra}"""


def bar_chart(results, path, title):
  """One panel per (op, mode): time / raw time of ours and TFP, float32."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  dtypes = sorted({r.dtype for r in results})
  dtype = "float32" if "float32" in dtypes else dtypes[0]
  results = [r for r in results if r.dtype == dtype]
  ops = [o for o in cases.OPS if any(r.op == o for r in results)]
  modes = [m for m in MODES if any(r.mode == m for r in results)]
  families = [f for f in cases.DISPLAY if any(r.family == f for r in results)]
  sizes = sorted({(r.n, r.k) for r in results}, key=lambda s: (s[0] * s[1], s))
  fig, axes = plt.subplots(len(ops), len(modes), squeeze=False,
                           figsize=(4.5 * len(modes), 2.6 * len(ops)),
                           sharey=True)
  width = 0.8 / (2 * len(families))
  colors = plt.get_cmap("tab20").colors
  for i, op in enumerate(ops):
    for j, mode in enumerate(modes):
      ax = axes[i][j]
      cells = {(r.family, r.n, r.k): r for r in results
               if r.op == op and r.mode == mode}
      for f, family in enumerate(families):
        for s, impl in enumerate(("ours", "tfp")):
          offset = (2 * f + s) * width - 0.4 + width / 2
          ys = [cells[(family, n, k)].ms[impl] / cells[(family, n, k)].ms["raw"]
                if (family, n, k) in cells else np.nan for n, k in sizes]
          ax.bar(np.arange(len(sizes)) + offset, ys, width,
                 color=colors[(2 * f + s) % len(colors)],
                 label=f"{cases.DISPLAY[family][s]}")
      ax.axhline(1., color="k", lw=0.8)
      ax.set_yscale("log")
      ax.set_xticks(np.arange(len(sizes)))
      ax.set_xticklabels([_size(n, k) for n, k in sizes], fontsize=7)
      ax.set_title(f"{op}, {mode}", fontsize=9)
      if j == 0:
        ax.set_ylabel("time / raw ops")
  handles, labels = axes[0][0].get_legend_handles_labels()
  fig.legend(handles, labels, loc="lower center", ncol=len(labels),
             fontsize=7)
  fig.suptitle(f"{title} ({dtype}; lower is better, 1 = raw TF ops)",
               fontsize=10)
  fig.tight_layout(rect=(0, 0.04, 1, 0.97))
  fig.savefig(path, dpi=110)
  plt.close(fig)


def write_report(text, path):
  """Writes a benchmark's Markdown report, creating its folder."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(path, "w") as f:
    f.write(text)


def now():
  return datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
