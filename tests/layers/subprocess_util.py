"""Runs a script of tests/layers in a fresh Python process.

Some configurations must be chosen before TensorFlow or Keras initializes:
logical CPU devices (for MirroredStrategy) and tf-keras instead of Keras 3
(TF_USE_LEGACY_KERAS=1). The script prints one JSON object on its last stdout
line; the test asserts on it, so failures read as ordinary pytest failures.
"""

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def run_script(module, **env):
  """`python -m module` from the repository root; returns the parsed JSON."""
  full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **env)
  # This checkout, whatever tfp_gumbel the interpreter has installed.
  full_env["PYTHONPATH"] = os.pathsep.join(
      [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
  result = subprocess.run(
      [sys.executable, "-m", module], cwd=ROOT, env=full_env,
      capture_output=True, text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-4000:]
  return json.loads(result.stdout.strip().splitlines()[-1])
