"""Times tfp_gumbel against TFP 0.25 and raw TensorFlow ops; writes the report.

    python benchmarks/run_all.py                       # the full grid (~10 min)
    python benchmarks/run_all.py --sizes 1x10 --modes eager --repeats 3
    python benchmarks/run_all.py --out benchmarks/results/after

Prints one Markdown row per cell as it goes, then writes `<out>.md` (the
table, the issue's targets, the machine, peak memory of sampling) and
`<out>.png` (bar chart of time / raw-op time). Extra benchmark modules
written next to this one (estimators, keras_layer, posterior_recovery) are
run afterwards with `--extras`, if present.
"""

import argparse
import importlib
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import cases  # pylint: disable=g-import-not-at-top,wrong-import-position
from benchmarks import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
from benchmarks import memory  # pylint: disable=g-import-not-at-top,wrong-import-position

SIZES = ("1x10", "10000x10", "1000x1000", "100x100000")
EXTRAS = ("estimators", "keras_layer", "posterior_recovery")


def _size(text):
  n, k = text.lower().split("x")
  return int(float(n)), int(float(k))


def parse_args(argv=None):
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--families", nargs="+", default=None,
                 help="softmax exp_relaxed sigmoid (default: all available)")
  p.add_argument("--ops", nargs="+", default=list(cases.OPS),
                 choices=cases.OPS)
  p.add_argument("--modes", nargs="+", default=list(harness.MODES),
                 choices=harness.MODES)
  p.add_argument("--dtypes", nargs="+", default=["float32", "float64"],
                 choices=["float32", "float64"])
  p.add_argument("--sizes", nargs="+", default=list(SIZES),
                 help="NxK, e.g. 1x10 100x1e5")
  p.add_argument("--repeats", type=int, default=5,
                 help="timed repeats per cell; the median is reported")
  p.add_argument("--min-time", type=float, default=0.02,
                 help="seconds of back-to-back calls per timing")
  p.add_argument("--budget", type=float, default=4.,
                 help="seconds per implementation and cell: slow cells get "
                 "fewer repeats (at least one)")
  p.add_argument("--memory", action=argparse.BooleanOptionalAction,
                 default=True, help="measure peak memory of sampling at "
                 "N=100, K=1e5 (one subprocess per implementation and mode)")
  p.add_argument("--extras", action="store_true",
                 help="also run the other benchmarks/*.py modules present")
  p.add_argument("--out", default=None,
                 help="write <out>.md and <out>.png (e.g. "
                 "benchmarks/results/before)")
  p.add_argument("--title", default="tfp_gumbel benchmarks")
  return p.parse_args(argv)


def main(argv=None):
  args = parse_args(argv)
  available = cases.families()
  families = args.families or list(available)
  missing = [f for f in families if f not in available]
  if missing:
    sys.exit(f"families not available in this installation: {missing}")
  sizes = [_size(s) for s in args.sizes]
  machine = harness.machine_description()
  print(f"Machine: {machine}\n")
  print(harness.TABLE_HEADER)
  start = time.time()
  results = harness.run_grid(families, args.ops, args.modes, args.dtypes,
                             sizes, args.repeats, args.min_time,
                             args.budget)
  extra = ""
  if args.memory:
    table = memory.memory_table(modes=args.modes)
    extra = f"""
## Peak memory of sampling, softmax family, N = 100, K = 10^5, float32

Resident-set high-water mark of one `sample` call beyond the process's
resident set after a warm-up call of the same size (see
`benchmarks/memory.py`; oneDNN is off in these subprocesses because its
caching allocator hides frees from the kernel). Includes the output itself.

{table}
"""
    print(extra)
  elapsed = time.time() - start
  print("\n" + harness.target_summary(results))
  if args.extras:
    for name in EXTRAS:
      try:
        module = importlib.import_module(f"benchmarks.{name}")
      except ImportError:
        continue
      if hasattr(module, "main"):
        print(f"\n# benchmarks/{name}.py")
        module.main([])
  if args.out:
    command = "python benchmarks/run_all.py " + " ".join(
        (argv if argv is not None else sys.argv[1:]))
    text = harness.markdown(
        results, args.title + f" ({harness.now()})", machine, command.strip(),
        args.repeats, args.min_time, elapsed, extra)
    harness.write_report(text, args.out + ".md")
    harness.bar_chart(results, args.out + ".png", args.title)
    print(f"\nwrote {args.out}.md and {args.out}.png")
  return results


if __name__ == "__main__":
  main()
