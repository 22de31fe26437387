"""The math of the package, each formula once, against an array namespace.

TRANSITION: the modules below replace `_legacy` one topic at a time; until
`_legacy` is empty this package forwards its names. `_legacy` (TensorFlow)
is imported on the first such name, not with the package, so that importing
a module written against `xp` imports no TensorFlow.
"""

import importlib
import importlib.util


def __getattr__(name):
  # A submodule not imported yet (`from tfp_gumbel._kernels import masking`
  # asks here first): the import system imports it once this fails.
  if name.startswith("__") or importlib.util.find_spec(
      f"{__name__}.{name}") is not None:
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
  value = getattr(importlib.import_module(f"{__name__}._legacy"), name)
  # Kept here: a name is looked up once, not at each (eager) call.
  globals()[name] = value
  return value
