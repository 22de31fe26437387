"""On JAX, a seeded `fit` of each layer under
`keras.distribution.DataParallel` over two host devices trains, with the
one-device run's losses to float rounding.

tests/layers/data_parallel_script.py runs in two fresh processes (the number
of host devices is fixed when JAX starts): on one device, and with
`XLA_FLAGS=--xla_force_host_platform_device_count=2` under DataParallel.

Why the losses agree: Keras on JAX draws the layers' noise in the compiled
step from one key (the SeedGenerator's state, replicated) for the global
batch, and JAX's threefry is partitionable (the default), so each device
draws exactly its rows of the one-device noise. The matching of the hard
Sinkhorn is scipy's, exact (`host_call`). What is left is the order of the
float sums: each device sums the loss and the gradients over its 8 rows and
an all-reduce adds the two, where one device sums 16 rows. Measured: equal or
1 float32 ulp apart (relative 1.1e-7 at most), where the layers' noise
drawn with another seed moves them by 1.8e-3 to 0.17 relative: `RTOL`
(about 80 ulps) lies far between.
"""

import os
import re
import subprocess

import numpy as np
import pytest

from tests.layers import subprocess_util

keras = pytest.importorskip("keras")

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="keras.distribution.DataParallel of this test runs on JAX")

RTOL = 1e-5
TIMEOUT_S = 240  # both processes together; a run takes ~15 s on 2 cores
_DEVICE_COUNT = re.compile(r"--xla_force_host_platform_device_count=\S*")


def _start(mode):
  # This environment's XLA_FLAGS, less any host device count, plus ours.
  flags = _DEVICE_COUNT.sub("", os.environ.get("XLA_FLAGS", "")).split()
  if mode == "two":
    flags.append("--xla_force_host_platform_device_count=2")
  command, env = subprocess_util._command(  # pylint: disable=protected-access
      "tests.layers.data_parallel_script", [mode],
      dict(KERAS_BACKEND="jax", XLA_FLAGS=" ".join(flags)))
  return subprocess.Popen(command, cwd=subprocess_util.ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


def _results():
  """The script's JSON on one device and on two, run side by side; both
  processes are killed if they are not done within `TIMEOUT_S`."""
  processes = {mode: _start(mode) for mode in ("one", "two")}
  try:
    outputs = {}
    for mode, process in processes.items():
      try:
        stdout, stderr = process.communicate(timeout=TIMEOUT_S)
      except subprocess.TimeoutExpired:
        pytest.fail(f"{mode}: not done within {TIMEOUT_S} s")
      assert process.returncode == 0, f"{mode}:\n{stderr[-4000:]}"
      outputs[mode] = subprocess_util._parse(stdout)  # pylint: disable=protected-access
    return outputs
  finally:
    for process in processes.values():
      if process.poll() is None:
        process.kill()
      process.communicate()


def test_data_parallel_fit_trains_with_the_one_device_losses():
  results = _results()
  one, two = results["one"], results["two"]
  assert (one["backend"], one["devices"]) == ("jax", 1)
  assert (two["backend"], two["devices"]) == ("jax", 2)
  assert set(one["layers"]) == set(two["layers"]) == {
      "softmax", "sigmoid", "top_k", "plackett_luce", "sinkhorn"}
  first = last = 0.
  for name, layer in two["layers"].items():
    losses = np.array(layer["losses"])
    assert np.all(np.isfinite(losses)), name
    # Trained: the temperature has a gradient, and it moved.
    assert abs(layer["temperature"] - 1.) > 1e-3, name
    np.testing.assert_allclose(losses, one["layers"][name]["losses"],
                               rtol=RTOL, err_msg=name)
    np.testing.assert_allclose(layer["temperature"],
                               one["layers"][name]["temperature"],
                               rtol=RTOL, err_msg=name)
    first, last = first + losses[0], last + losses[-1]
  assert last < first  # the loss fell over the layers
