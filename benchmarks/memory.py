"""Peak memory of one sampling call, measured in a fresh process.

TensorFlow's CPU allocator keeps no peak statistics
(`tf.config.experimental.get_memory_info("CPU:0")` reports zeros), so we read
the kernel's: the resident-set high-water mark `VmHWM` of the process, reset
through `/proc/self/clear_refs` (Linux) just before the call. The baseline is
the resident set after a warm-up call of the same function at the same size
(imports, kernels, traces and XLA executables loaded, logits allocated), so
the figure is what one more call costs: the output plus every temporary alive
at the same moment. Buffers of this size (>= 4 MB) are mmap-ed by the
allocator and returned on free, so the resident set tracks them, provided
oneDNN's caching CPU allocator is off (`TF_ENABLE_ONEDNN_OPTS=0`, set for the
child process).

Run one measurement: `python -m benchmarks.memory IMPL MODE [N K DTYPE FAMILY]`.
"""

import gc
import json
import os
import subprocess
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _status_kb(field):
  with open("/proc/self/status") as f:
    for line in f:
      if line.startswith(field + ":"):
        return int(line.split()[1])
  raise RuntimeError(f"{field} not in /proc/self/status")


def peak_beyond_baseline(fn, *args):
  """(bytes one more call of `fn(*args)` needs at its peak, the baseline's
  bytes, the output of the warm-up call): see the module docstring."""
  out = fn(*args)
  gc.collect()
  baseline = _status_kb("VmRSS")
  with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset VmHWM to the current resident set
  fn(*args)
  peak = _status_kb("VmHWM")
  return (peak - baseline) * 1024, baseline * 1024, out


def measure(impl, mode, n, k, dtype, family):
  """Runs in the child: returns a dict of byte counts."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from benchmarks import cases, harness  # pylint: disable=g-import-not-at-top

  fam = cases.families()[family]
  fn = harness.compile_fn(cases.operations(fam, impl, mode)["sample"], mode)
  logits, t, seed, x = cases.inputs(fam, n, k, dtype)
  del x
  peak, baseline, out = peak_beyond_baseline(fn, logits, t, seed)
  out_bytes = out.shape.num_elements() * out.dtype.size
  return dict(impl=impl, mode=mode, output_bytes=out_bytes,
              peak_extra_bytes=peak, baseline_bytes=baseline)


def measure_in_subprocess(impl, mode, n, k, dtype, family):
  # oneDNN's CPU allocator caches freed buffers, so the resident set would not
  # fall after the warm-up call; TF's plain allocator returns them.
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0")
  out = subprocess.run(
      [sys.executable, "-m", "benchmarks.memory", impl, mode, str(n), str(k),
       dtype, family],
      cwd=_ROOT, env=env, capture_output=True, text=True, check=True)
  return json.loads(out.stdout.strip().splitlines()[-1])


def memory_table(n=100, k=100_000, dtype="float32", family="softmax",
                 modes=("eager", "function", "xla"), impls=("ours", "tfp", "raw")):
  rows = ["| impl | mode | output MB | peak beyond baseline MB | x output |",
          "|---|---|---:|---:|---:|"]
  for mode in modes:
    for impl in impls:
      m = measure_in_subprocess(impl, mode, n, k, dtype, family)
      rows.append(
          f"| {impl} | {mode} | {m['output_bytes'] / 2**20:.1f} | "
          f"{m['peak_extra_bytes'] / 2**20:.1f} | "
          f"{m['peak_extra_bytes'] / m['output_bytes']:.2f} |")
  return "\n".join(rows)


if __name__ == "__main__":
  sys.path.insert(0, _ROOT)
  impl_, mode_ = sys.argv[1:3]
  n_, k_, dtype_, family_ = (sys.argv[3:7] if len(sys.argv) > 3
                             else ("100", "100000", "float32", "softmax"))
  print(json.dumps(measure(impl_, mode_, int(n_), int(k_), dtype_, family_)))
