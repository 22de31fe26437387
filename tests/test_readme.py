"""README.md's Python blocks run as written, and CI runs its test command."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_python_blocks_run():
  blocks = re.findall(r"```python\n(.*?)```", README, re.S)
  assert blocks
  for block in blocks:
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)  # pylint: disable=exec-used
    if "d" in namespace and hasattr(namespace["d"], "trainable_variables"):
      assert len(namespace["d"].trainable_variables) == 2


def test_ci_runs_the_readme_test_command():
  command = 'pip install -e ".[tensorflow,test]" && pytest -n 2'
  assert f"\n{command}\n" in README
  ci = (ROOT / ".ci" / "run").read_text()
  assert "grep -m1 -E '^pip install -e \"\\.\\[tensorflow,test\\]\"' README.md" in ci
