"""`.ci/exercise_public_api.py` (CI's wheel-only phase) passes here too, so it
keeps up with the public names: it fails when one is not exercised."""

import os
import pathlib
import subprocess
import sys

SCRIPT = (pathlib.Path(__file__).resolve().parents[1] / ".ci"
          / "exercise_public_api.py")


def test_every_public_name_is_exercised():
  result = subprocess.run(
      [sys.executable, str(SCRIPT)], capture_output=True, text=True,
      timeout=600, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"), check=False)
  assert result.returncode == 0, result.stdout + result.stderr
  assert "exercised" in result.stdout
