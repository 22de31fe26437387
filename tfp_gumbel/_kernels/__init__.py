"""The math of the package, each formula once, against an array namespace.

TRANSITION: the modules below replace `_legacy` one topic at a time; until
`_legacy` is empty this package forwards its names.
"""

from tfp_gumbel._kernels import _legacy


def __getattr__(name):
  return getattr(_legacy, name)
