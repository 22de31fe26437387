"""Our programs start without TensorFlow's start-up lines; the library leaves
the process alone.

The demo and the examples call `tfp_gumbel_cli.quiet_tensorflow()` before they
import TensorFlow. Without it, this machine's TF 2.21 prints 6-11 start-up lines
to stderr (absl's pre-initialization notice, the CUDA probe, the CPU-instruction
notice, XLA's banner); with `TF_CPP_MIN_LOG_LEVEL=2` alone, still 5. Each run is
a subprocess with the caller's TF_CPP_MIN_LOG_LEVEL removed, as a user's shell
would have it.
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

import tfp_gumbel_cli

ROOT = pathlib.Path(__file__).resolve().parents[1]

# What the issue names, plus the lines this TF version was seen to print.
STARTUP = re.compile(
    r"oneDNN|cuda|cuInit|TF-TRT|absl|This TensorFlow binary is optimized"
    r"|XLA service|StreamExecutor", re.IGNORECASE)


def run(args, **kwargs):
  env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
  env["MPLBACKEND"] = "Agg"
  # This checkout's tfp_gumbel_cli and examples, and whichever tfp_gumbel the
  # tests run against (this checkout, or the installed wheel in CI).
  env["PYTHONPATH"] = os.pathsep.join(
      [os.path.dirname(tfp_gumbel_cli.__file__), str(ROOT)])
  return subprocess.run(args, capture_output=True, text=True, timeout=600,
                        env=env, check=False, **kwargs)


def startup_lines(stderr):
  return [line for line in stderr.splitlines() if STARTUP.search(line)]


def test_unfiltered_start_is_noisy():
  # The reference point: the same import and first compiled function print
  # start-up lines without the quiet start, so the tests below can fail.
  result = run([sys.executable, "-c",
                "import tensorflow as tf\n"
                "tf.function(lambda x: x + 1., jit_compile=True)(tf.constant(0.))"])
  assert result.returncode == 0, result.stderr[-2000:]
  assert startup_lines(result.stderr), result.stderr


def test_demo_is_quiet(tmp_path):
  demo = shutil.which("tfp-gumbel-demo")
  # The console script where the package is installed; otherwise the function
  # it calls (the source tree, where no script is installed).
  command = ([demo] if demo else
             [sys.executable, "-c", "import tfp_gumbel_cli; tfp_gumbel_cli.demo()"])
  result = run(command + ["--quick", "--out", str(tmp_path)])
  assert result.returncode == 0, result.stderr[-2000:]
  assert "Done in" in result.stdout
  assert not startup_lines(result.stderr), result.stderr


def test_python_m_is_quiet():
  result = run([sys.executable, "-m", "tfp_gumbel_cli", "--help"],
               cwd=ROOT.parent)
  assert result.returncode == 0, result.stderr[-2000:]
  assert "--quick" in result.stdout
  assert not startup_lines(result.stderr), result.stderr


def test_example_is_quiet(tmp_path):
  result = run([sys.executable, str(ROOT / "examples" / "compare_samples.py"),
                "--quick", "--out", str(tmp_path)])
  assert result.returncode == 0, result.stderr[-2000:]
  assert "Summary" in result.stdout
  assert not startup_lines(result.stderr), result.stderr


def test_genuine_messages_still_show():
  # Held back during start-up and then shown (a line that is not TF's), and
  # printed after start-up: both reach the user, in order; TF's line does not.
  script = (
      "import os, sys, warnings\n"
      "import tfp_gumbel_cli\n"
      "with tfp_gumbel_cli.held_back_stderr():\n"
      "  os.write(2, b'I0000 cpu_feature_guard.cc:227] This TensorFlow binary "
      "is optimized to use available CPU instructions\\n')\n"
      "  print('held-back genuine line', file=sys.stderr)\n"
      "tfp_gumbel_cli.quiet_tensorflow()\n"
      "import tensorflow as tf\n"
      "warnings.warn('genuine warning after start-up')\n"
      "tf.get_logger().warning('genuine TF Python warning')\n")
  result = run([sys.executable, "-c", script])
  assert result.returncode == 0, result.stderr[-2000:]
  lines = result.stderr.splitlines()
  assert any("held-back genuine line" in line for line in lines), lines
  assert any("genuine warning after start-up" in line for line in lines), lines
  assert any("genuine TF Python warning" in line for line in lines), lines
  assert not startup_lines(result.stderr), lines
  assert result.stderr.index("held-back") < result.stderr.index("after start-up")


def test_importing_the_library_changes_neither_environment_nor_stderr():
  # TensorFlow sets variables of its own when imported (TF2_BEHAVIOR, ...):
  # compare against the environment after TF, TFP and Keras are imported.
  script = (
      "import os, sys\n"
      "fd2 = os.fstat(2)\n"
      "import keras, tensorflow, tensorflow_probability\n"
      "env = dict(os.environ)\n"
      "import tfp_gumbel, tfp_gumbel.layers.tfp_layers\n"
      "assert dict(os.environ) == env, set(os.environ.items()) ^ set(env.items())\n"
      "assert 'TF_CPP_MIN_LOG_LEVEL' not in os.environ\n"
      "after = os.fstat(2)\n"
      "assert (after.st_dev, after.st_ino) == (fd2.st_dev, fd2.st_ino)\n"
      "assert 'tfp_gumbel_cli' not in sys.modules\n"
      "print('ok')\n")
  result = run([sys.executable, "-c", script])
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.strip() == "ok"
  # TF's own start-up lines: the library does not hide them.
  assert startup_lines(result.stderr)


@pytest.mark.parametrize("level", ["0", "3"])
def test_the_users_log_level_wins(level):
  script = ("import os, tfp_gumbel_cli\n"
            "tfp_gumbel_cli.quiet_tensorflow()\n"
            "print(os.environ['TF_CPP_MIN_LOG_LEVEL'])\n")
  env_level = dict(TF_CPP_MIN_LOG_LEVEL=level)
  result = subprocess.run(
      [sys.executable, "-c", script], capture_output=True, text=True,
      timeout=300, check=False,
      env=dict(os.environ, **env_level,
               PYTHONPATH=os.path.dirname(tfp_gumbel_cli.__file__)))
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.strip() == level
