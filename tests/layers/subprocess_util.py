"""Runs a script of tests/layers in fresh Python processes.

Some configurations must be chosen before TensorFlow or Keras initializes:
logical CPU devices (for MirroredStrategy), tf-keras instead of Keras 3
(TF_USE_LEGACY_KERAS=1), a cluster of workers (TF_CONFIG). The script prints
one JSON object on its last stdout line; the test asserts on it, so failures
read as ordinary pytest failures.
"""

import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _command(module, args, env):
  """argv and environment of `python -m module *args` from the repository."""
  full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  full_env.update(env)
  # This checkout, whatever tfp_gumbel the interpreter has installed.
  full_env["PYTHONPATH"] = os.pathsep.join(
      [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
  return [sys.executable, "-m", module, *args], full_env


def _parse(stdout):
  return json.loads(stdout.strip().splitlines()[-1])


def run_script(module, args=(), **env):
  """`python -m module *args` from the repository root; the parsed JSON."""
  command, full_env = _command(module, args, env)
  result = subprocess.run(
      command, cwd=ROOT, env=full_env, capture_output=True, text=True,
      timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-4000:]
  return _parse(result.stdout)


def free_ports(count):
  """`count` ports the OS reports free on 127.0.0.1 (bound to port 0)."""
  sockets = [socket.socket() for _ in range(count)]
  try:
    for s in sockets:
      s.bind(("127.0.0.1", 0))
    return [s.getsockname()[1] for s in sockets]
  finally:
    for s in sockets:
      s.close()


def run_cluster(module, args=(), workers=2, timeout=240, **env):
  """Runs `python -m module *args` as the `workers` workers of one cluster.

  Each worker gets a TF_CONFIG with the cluster on 127.0.0.1 (loopback only)
  and its own index; returns the workers' parsed JSON, by index. The test
  fails as soon as a worker fails (its peers would wait on it in a
  collective) or when the cluster is not done within `timeout` seconds, and
  every worker is killed on the way out whatever happened, so a stalled
  worker can neither hang the test nor outlive it.
  """
  cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(workers)]}
  deadline = time.monotonic() + timeout
  with tempfile.TemporaryDirectory() as logs:
    # Files, not pipes: an unread pipe fills up and blocks a chatty worker.
    outputs = [(open(f"{logs}/{i}.out", "w+"), open(f"{logs}/{i}.err", "w+"))
               for i in range(workers)]
    processes = []
    try:
      for index, (stdout, stderr) in enumerate(outputs):
        tf_config = json.dumps({"cluster": cluster,
                                "task": {"type": "worker", "index": index}})
        command, full_env = _command(module, args,
                                     dict(env, TF_CONFIG=tf_config))
        processes.append(subprocess.Popen(
            command, cwd=ROOT, env=full_env, stdout=stdout, stderr=stderr,
            text=True))
      while any(p.poll() is None for p in processes):
        for index, process in enumerate(processes):
          if process.poll():  # exited, not with 0
            pytest.fail(f"worker {index} failed:\n"
                        f"{_read(outputs[index][1])[-4000:]}")
        if time.monotonic() > deadline:
          pytest.fail(f"the workers did not finish within {timeout} s")
        time.sleep(0.2)
      for index, process in enumerate(processes):
        assert process.returncode == 0, (
            f"worker {index}:\n{_read(outputs[index][1])[-4000:]}")
      return [_parse(_read(stdout)) for stdout, _ in outputs]
    finally:
      for process in processes:
        if process.poll() is None:
          process.kill()
        process.wait()
      for files in outputs:
        for file in files:
          file.close()


def _read(file):
  file.seek(0)
  return file.read()
