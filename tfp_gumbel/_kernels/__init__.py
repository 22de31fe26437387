"""The math of the package, each formula once, against an array namespace.

TRANSITION: the modules below replace `_legacy` one topic at a time; until
`_legacy` is empty this package forwards its names (the moved categorical
kernels bound to TensorFlow's namespace).
"""

import functools
import importlib

from tfp_gumbel._kernels import _legacy


def __getattr__(name):
  categorical = importlib.import_module("tfp_gumbel._kernels.categorical")
  if name in categorical.__all__:
    tf_xp = importlib.import_module("tfp_gumbel._backend.tensorflow")
    return functools.partial(getattr(categorical, name), tf_xp)
  return getattr(_legacy, name)
