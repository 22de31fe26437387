"""Tests of the kernels (`tfp_gumbel._kernels`), one file per module."""

import os
import subprocess
import sys

import tfp_gumbel

# Array libraries a kernel module must not import itself.
ARRAY_LIBRARIES = ("tensorflow", "tensorflow_probability", "keras", "jax",
                   "torch")


def imported_array_libraries(module):
  """The array libraries in `sys.modules` after importing `module` alone, in
  a fresh interpreter (this checkout's `tfp_gumbel` first on the path)."""
  script = (f"import sys, {module}\n"
            f"print(sorted(m for m in sys.modules "
            f"if m.split('.')[0] in {ARRAY_LIBRARIES!r}))")
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(
      [os.path.dirname(os.path.dirname(tfp_gumbel.__file__))]
      + [p for p in [os.environ.get("PYTHONPATH")] if p]))
  result = subprocess.run([sys.executable, "-c", script], env=env,
                          capture_output=True, text=True, timeout=120,
                          check=True)
  return result.stdout.strip()
