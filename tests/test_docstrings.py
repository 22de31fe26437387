"""Every ```python block of every public docstring runs, one test per block.

The public names are those of the `__all__` lists, walked recursively from
`tfp_gumbel` (modules, classes and their own public methods and properties),
plus the tf-keras module `tfp_gumbel.layers.tfp_layers`, which is public but
imported on demand. Each block runs in a fresh namespace with `tf`, `tfp`,
`tfd`, `tfb`, `np`, `keras` and `tfg` predefined, as the API reference promises.
tf-keras blocks run in a subprocess with `TF_USE_LEGACY_KERAS=1` (where `keras`
is tf-keras), since tf-keras and Keras 3 cannot share a process.
"""

import importlib
import inspect
import os
import re
import subprocess
import sys

import pytest

import tfp_gumbel

LEGACY_MODULES = ("tfp_gumbel.layers.tfp_layers",)
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)

PRELUDE = """\
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tfp_gumbel as tfg
tfd = tfp.distributions
tfb = tfp.bijectors
"""


def public_objects():
  """(qualified name, object, is a class member) for every public object."""
  found, seen = [], set()

  def visit(name, obj, member=False):
    if id(obj) in seen:
      return
    seen.add(id(obj))
    found.append((name, obj, member))
    if inspect.ismodule(obj):
      for child in getattr(obj, "__all__", []):
        visit(f"{name}.{child}", getattr(obj, child))
    elif inspect.isclass(obj):
      for member, value in vars(obj).items():
        if member.startswith("_") and member not in ("__init__", "__call__"):
          continue
        if isinstance(value, property):
          value = value.fget
        elif isinstance(value, (staticmethod, classmethod)):
          value = value.__func__
        if callable(value):
          visit(f"{name}.{member}", value, member=True)

  visit("tfp_gumbel", tfp_gumbel)
  for module in LEGACY_MODULES:
    visit(module, importlib.import_module(module))
  return found


def blocks():
  cases = []
  for name, obj, _ in public_objects():
    for i, code in enumerate(BLOCK.findall(inspect.getdoc(obj) or "")):
      module = getattr(obj, "__name__", "") if inspect.ismodule(obj) else (
          getattr(obj, "__module__", "") or "")
      legacy = module in LEGACY_MODULES or name.startswith(LEGACY_MODULES)
      cases.append(pytest.param(code, legacy, id=f"{name}[{i}]"))
  return cases


BLOCKS = blocks()


def test_blocks_were_found():
  # The count the closing note reports; a broken walk finds far fewer.
  assert len(BLOCKS) >= 15, len(BLOCKS)


def test_every_public_class_and_function_has_an_example():
  missing = [name for name, obj, member in public_objects()
             if not member and (inspect.isclass(obj) or inspect.isfunction(obj))
             and not BLOCK.search(inspect.getdoc(obj) or "")]
  assert not missing, missing


@pytest.mark.parametrize("code, legacy", BLOCKS)
def test_docstring_example_runs(code, legacy):
  if legacy:
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1",
               TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join(
                   [os.path.dirname(os.path.dirname(tfp_gumbel.__file__))]
                   + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    script = PRELUDE + "import tf_keras as keras\n" + code
    result = subprocess.run([sys.executable, "-c", script], env=env,
                            capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return
  namespace = {}
  exec(PRELUDE + "import keras\n", namespace)  # pylint: disable=exec-used
  exec(compile(code, "<docstring>", "exec"), namespace)  # pylint: disable=exec-used
