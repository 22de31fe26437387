"""The math of the package, each formula once, against an array namespace.

TRANSITION: the modules below replace `_legacy` one topic at a time; until
`_legacy` is empty this package forwards its names. `_legacy` (TensorFlow)
is imported on first use, so that the kernel modules import without it.
"""

import importlib
import sys


def __getattr__(name):
  legacy = (sys.modules.get(__name__ + "._legacy")
            or importlib.import_module(__name__ + "._legacy"))
  return getattr(legacy, name)
