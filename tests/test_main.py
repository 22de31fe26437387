"""Tests of the demo (tfp_gumbel/__main__.py; `python -m tfp_gumbel` runs it)."""

import os
import re
import subprocess
import sys

import pytest

from tfp_gumbel import __main__ as demo


def test_help_from_the_command_line():
  # The real entry point, once: `python -m tfp_gumbel` (README's
  # `tfp-gumbel-demo` runs the same main, tests/test_quiet_start.py).
  result = subprocess.run(
      [sys.executable, "-m", "tfp_gumbel", "--help"],
      capture_output=True, text=True, timeout=120, check=False)
  assert result.returncode == 0, result.stderr
  assert "--out" in result.stdout and "--quick" in result.stdout


def test_missing_matplotlib_exits_with_a_message(monkeypatch, tmp_path, capsys):
  # A None entry in sys.modules makes `import matplotlib` raise ImportError.
  monkeypatch.setitem(sys.modules, "matplotlib", None)
  with pytest.raises(SystemExit) as exit_info:
    demo.main(["--quick", "--out", str(tmp_path)])
  assert exit_info.value.code not in (0, None)
  assert 'pip install -e ".[tensorflow,plot]"' in str(exit_info.value.code)
  assert not os.listdir(tmp_path)
  assert "Sampling" not in capsys.readouterr().out


def test_quick_tour_prints_correct_numbers(tmp_path, capsys):
  demo.main(["--quick", "--out", str(tmp_path)])
  out = capsys.readouterr().out

  # Section 1: one row per temperature, "t  f0 f1 f2 f3  p  mean-max".
  rows = re.findall(r"^\s+([\d.]+)\s+((?:[\d.]+ ){3}[\d.]+)\s+([\d.]+)\s+"
                    r"([\d.]+)$", out, re.MULTILINE)
  assert [float(r[0]) for r in rows] == demo.TEMPERATURES
  # Fixed seeds, so this is deterministic; for a correct sampler each p-value
  # is uniform, so a seed has a 0.4% chance per row of failing this bound,
  # while a wrong argmax law (e.g. probs off by 0.03 with 2000 draws) gives
  # p < 1e-3.
  assert all(float(r[2]) > 1e-3 for r in rows), rows
  # Samples approach one-hot as t -> 0 and uniform (1/4) as t grows.
  mean_max = [float(r[3]) for r in rows]
  assert mean_max == sorted(mean_max, reverse=True)
  assert mean_max[0] > 0.9 and mean_max[-1] < 0.4

  # Section 2: our log-probs stay finite at t = 0.01.
  assert re.search(r"finite: ours 5/5", out)

  # Section 3: the maximum-likelihood fit recovers t and probs. With 1000
  # draws the binomial standard error of probs[0] = 0.6 is 0.015; 0.05 is
  # above 3 standard errors. The temperature is far better determined (each
  # draw carries K - 1 continuous coordinates); 10% of it excludes a fit
  # that did not move from its start at t = 1.
  t_fit = float(re.search(r"^\s+t\s+[\d.]+\s+([\d.]+)$", out, re.M).group(1))
  assert abs(t_fit - demo.TRUE_TEMPERATURE) < 0.1 * demo.TRUE_TEMPERATURE
  probs_fit = [float(v) for v in re.findall(
      r"^\s+probs\[\d\]\s+[\d.]+\s+([\d.]+)$", out, re.M)]
  assert max(abs(a - b) for a, b in zip(probs_fit, demo.TRUE_PROBS)) < 0.05

  path = tmp_path / "tfp_gumbel_demo.png"
  assert path.stat().st_size > 10_000
