"""Gumbel and Logistic noise from uniform draws.

The uniforms come from the namespace (`xp.uniform_open`: stateless, on
`[tiny, 1)`), so a seed means the same thing in every family, estimator and
layer of one backend. Both transforms are finite for every such draw.
"""

__all__ = ["gumbel", "logistic"]


def gumbel(xp, shape, seed, dtype="float32"):
  """Standard Gumbel(0, 1) noise, `-log(-log u)`; always finite.

  With u in [tiny, 1): -log(u) lies in [eps / 2, -log(tiny)], both finite
  and positive, so the outer log never sees 0.
  """
  return -xp.log(-xp.log(xp.uniform_open(shape, seed, dtype)))


def logistic(xp, shape, seed, dtype="float32"):
  """Standard Logistic(0, 1) noise, `log(u) - log(1 - u)`; always finite."""
  u = xp.uniform_open(shape, seed, dtype)
  return xp.log(u) - xp.log1p(-u)
