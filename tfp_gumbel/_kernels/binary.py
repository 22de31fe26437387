"""The binary relaxation: Gumbel-Sigmoid (binary Concrete) samples, their
density and distribution functions (Maddison et al. 2017; Jang et al. 2017).

Written once for the distribution (`tfg.GumbelSigmoid`, `LogitGumbelSigmoid`),
the straight-through estimator and REBAR. A relaxed sample is
`sigmoid((logits + l) / t)`, `l` standard Logistic, whose log-odds
`y = (logits + l) / t` are `Logistic(logits / t, 1 / t)`. Log-odds of -inf and
+inf (probability 0 and 1) are degenerate: the sample is the atom itself
(0 or 1, log-odds -inf or +inf) with a gradient of exactly 0, and the
density with respect to Lebesgue measure is a Dirac delta (TFP's
convention): +inf at the atom, -inf elsewhere. Every function takes the
array namespace `xp` first (`tfp_gumbel._backend`).
"""

import numpy as np

from tfp_gumbel._kernels import masking

__all__ = [
    "degenerate_or_none",
    "hard_and_relaxed",
    "relaxed",
    "distribution_function",
    "log_prob",
    "log_sigmoid_pair",
    "relaxed_log_odds",
]


def degenerate_or_none(xp, logits):
  """Mask of the entries with log-odds -inf or +inf, or None where there is
  known to be none (`xp.static_value`): callers then skip their masking."""
  value = xp.static_value(logits)
  if value is not None and not np.isinf(value).any():
    return None
  return xp.isinf(logits)


def _tempered(xp, perturbed, temperature, degenerate):
  """`perturbed / t`, read as 0 at a `degenerate` entry (None: none is), so
  that no `+-inf / t` reaches a value or the gradient for t (`inf * 0`)."""
  if degenerate is not None:
    perturbed = xp.where(degenerate, xp.constant(0., perturbed.dtype),
                         perturbed)
  return masking.divide_by_temperature(xp, perturbed, temperature)


def relaxed_log_odds(xp, perturbed, temperature, degenerate=None):
  """`(logits + l) / t` from the perturbed log-odds `logits + l`.

  At a `degenerate` entry (None: there is none) the perturbed log-odds are
  infinite and are returned as they are: the sample is the atom (the
  sigmoid of the result is the certain 0 or 1, with a gradient of 0).
  """
  tempered = _tempered(xp, perturbed, temperature, degenerate)
  if degenerate is None:
    return tempered
  return xp.where(degenerate, perturbed, tempered)


def hard_and_relaxed(xp, perturbed, temperature, finite=False):
  """The binary sample `perturbed > 0` as 0/1 and its relaxation
  `sigmoid(perturbed / t)`, for the straight-through estimators.

  The hard value thresholds the perturbed log-odds, not the sigmoid at 1/2,
  which rounds to 1/2 near 0. Infinite perturbed log-odds (probabilities 0
  and 1) are certain: their relaxation is the hard value itself, with a
  gradient of 0 (the sigmoid of `relaxed_log_odds`, without a gradient path
  through the atom); `finite` says there is none, as in `relaxed`.
  """
  hard = xp.cast(xp.greater(perturbed, xp.constant(0., perturbed.dtype)),
                 perturbed.dtype)
  return hard, relaxed(xp, perturbed, temperature, finite)


def relaxed(xp, perturbed, temperature, finite=False):
  """`sigmoid(perturbed / t)`; an infinite `perturbed` (unless `finite`
  says there is none) gives its atom, 0 or 1, with a gradient of 0 (the
  sigmoid of `relaxed_log_odds`: sigmoid(+-inf) is the atom exactly)."""
  return xp.sigmoid(relaxed_log_odds(
      xp, perturbed, temperature, None if finite else xp.isinf(perturbed)))


def log_sigmoid_pair(xp, x):
  """`log sigmoid(x) + log sigmoid(-x)`, i.e. `-softplus(x) - softplus(-x)`.

  Written as `x - 2 softplus(x)` (softplus(x) - softplus(-x) = x): one
  softplus instead of two. Nothing overflows, and nothing cancels beyond a
  few ulps of the result: for large positive x the result is ~ -x and
  2 softplus(x) ~ 2x, for large negative x softplus(x) ~ exp(x) is
  negligible. Its gradient, `1 - 2 sigmoid(x)`, is finite everywhere.
  """
  return x - 2. * xp.softplus(x)


def _centered(xp, temperature, logits, y):
  """u = t y - logits, the standard Logistic variable behind `y`, and the
  mask of the degenerate batch members, None if there is known to be none
  and `y` is known to be finite (then no masking ops).

  Otherwise u is computed without `t * inf - inf` or `inf * 0` in its value
  or gradient: it is +-inf where `y` is, and whatever finite value at a
  degenerate member (the callers replace it there).
  """
  dtype = logits.dtype
  degenerate = degenerate_or_none(xp, logits)
  y_value = xp.static_value(y)
  if (degenerate is None and y_value is not None
      and np.isfinite(y_value).all()):
    return temperature * y - logits, None
  if degenerate is None:
    degenerate = xp.zeros_like(logits, "bool")
  zero = xp.constant(0., dtype)
  finite = xp.isfinite(y)
  u = (temperature * xp.where(finite, y, zero)
       - xp.where(degenerate, zero, logits))
  return xp.where(finite, u, y), degenerate


def _at_atom(xp, value, y, logits, degenerate, relation, if_true, if_false):
  """`value`, except at a degenerate batch member (its mass at the atom
  `logits`, -inf or +inf): `if_true` where `relation(y, atom)`, `if_false`
  elsewhere."""
  if degenerate is None:
    return value
  return xp.where(
      degenerate,
      xp.where(relation(y, logits), xp.constant(if_true, value.dtype),
               xp.constant(if_false, value.dtype)),
      value)


def log_prob(xp, temperature, logits, y):
  """The log-density of the log-odds `y`: `log t + log_sigmoid_pair(t y -
  logits)`; a Dirac delta at a degenerate member (+inf at its atom, -inf
  elsewhere)."""
  u, degenerate = _centered(xp, temperature, logits, y)
  value = xp.log(temperature) + log_sigmoid_pair(xp, u)
  if degenerate is not None:
    # No density at y = +-inf (the pair is inf - inf = NaN at u = +inf).
    value = xp.where(xp.isinf(u), xp.constant(-np.inf, u.dtype), value)
  return _at_atom(xp, value, y, logits, degenerate, xp.equal, np.inf,
                  -np.inf)


def distribution_function(xp, kind, temperature, logits, y):
  """`cdf`, `log_cdf`, `survival_function` or `log_survival_function`
  (`kind`) of the log-odds at `y`: the Logistic's function of u = t y -
  logits, and at a degenerate member the step at its atom."""
  fn, relation, if_true, if_false = {
      "cdf": (xp.sigmoid, xp.greater_equal, 1., 0.),
      "log_cdf": (xp.log_sigmoid, xp.greater_equal, 0., -np.inf),
      "survival_function": (lambda u: xp.sigmoid(-u), xp.less, 1., 0.),
      "log_survival_function": (lambda u: xp.log_sigmoid(-u), xp.less, 0.,
                                -np.inf),
  }[kind]
  u, degenerate = _centered(xp, temperature, logits, y)
  return _at_atom(xp, fn(u), y, logits, degenerate, relation, if_true,
                  if_false)
