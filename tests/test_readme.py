"""README.md's Python blocks run as written, and CI runs its test command."""

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
# A block that picks its Keras backend (`os.environ["KERAS_BACKEND"] = ...`)
# must start in a fresh process: Keras reads the variable once, at import,
# and setting it here would leak into every later subprocess of this run.
_BACKEND = re.compile(r"""os\.environ\["KERAS_BACKEND"\] = "(\w+)\"""")


def _backend(block):
  match = _BACKEND.search(block)
  return match.group(1) if match else None


def test_python_blocks_run():
  pytest.importorskip("tensorflow")
  blocks = [block for block in BLOCKS if _backend(block) is None]
  assert blocks
  for block in blocks:
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)  # pylint: disable=exec-used
    if "d" in namespace and hasattr(namespace["d"], "trainable_variables"):
      assert len(namespace["d"].trainable_variables) == 2


@pytest.mark.parametrize("block", [b for b in BLOCKS if _backend(b)],
                         ids=_backend)
def test_blocks_for_a_backend_run_in_a_fresh_process(block):
  backend = _backend(block)
  if importlib.util.find_spec(backend) is None:
    pytest.skip(f"{backend} is not installed here (CI's {backend} phase "
                f"runs this block)")
  env = {k: v for k, v in os.environ.items()
         if k not in ("KERAS_BACKEND", "XLA_FLAGS")}
  result = subprocess.run([sys.executable, "-c", block], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300,
                          check=False)
  assert result.returncode == 0, result.stderr[-3000:]


def test_ci_runs_the_readme_test_command():
  command = 'pip install -e ".[tensorflow,test]" && pytest -n 2'
  assert f"\n{command}\n" in README
  ci = (ROOT / ".ci" / "run").read_text()
  assert "grep -m1 -E '^pip install -e \"\\.\\[tensorflow,test\\]\"' README.md" in ci
