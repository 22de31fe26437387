"""What every example shares: its command line, matplotlib, and its summary.

Each example runs at three sizes: `--quick` (seconds, for the test suite), the
default (under 5 minutes on a 2-core CPU) and `--full` (the real run). Figures
go to `--out` (default `examples/output/`, ignored by git).

Every example imports this module first, before TensorFlow: on Keras's
TensorFlow backend (the default) importing it starts TensorFlow without its
start-up messages (`tfp_gumbel_cli.quiet_tensorflow`).
"""

import argparse
import os
import time

import tfp_gumbel_cli

# On Keras's TensorFlow backend (the default) TensorFlow starts quietly here;
# under KERAS_BACKEND=jax or torch the examples that run there
# (categorical_vae.py) import no TensorFlow.
if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
  tfp_gumbel_cli.quiet_tensorflow()

# pylint: disable=g-import-not-at-top,wrong-import-position
# The demo owns the one check for the plotting extra; the examples reuse it.
from tfp_gumbel._requirements import require_matplotlib

__all__ = ["Example"]

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "output")


class Example:
  """Parses `--quick | --full`, `--out`, `--seed`; saves figures; prints a summary.

  `size` is "quick", "default" or "full"; `pick(quick=..., default=..., full=...)`
  returns the value for it.
  """

  def __init__(self, description, argv=None):
    parser = argparse.ArgumentParser(description=description)
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true",
                       help="a few seconds: the size the test suite runs")
    sizes.add_argument("--full", action="store_true",
                       help="the real run (longer than the default)")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help=f"directory for the figures (default: {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=0,
                        help="stateless seed of the run (default: 0)")
    self.args = parser.parse_args(argv)
    self.size = ("quick" if self.args.quick else
                 "full" if self.args.full else "default")
    self.seed = self.args.seed
    self.plt = require_matplotlib()
    os.makedirs(self.args.out, exist_ok=True)
    self._start = time.time()
    print(f"[{self.size} size, seed {self.seed}]", flush=True)

  def pick(self, quick, default, full):
    return {"quick": quick, "default": default, "full": full}[self.size]

  def save(self, fig, name):
    path = os.path.join(self.args.out, name)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    self.plt.close(fig)
    print(f"figure: {path}", flush=True)
    return path

  def summary(self, **values):
    """Prints `name = value` lines, the form the tests read back."""
    print("Summary")
    for name, value in values.items():
      if isinstance(value, float):
        value = f"{value:.6g}"
      print(f"  {name} = {value}")
    print(f"  seconds = {time.time() - self._start:.1f}", flush=True)
