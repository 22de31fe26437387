"""Impossible classes in arithmetic: the double-`where` idioms.

A class of probability 0 (logit -inf, a Plackett-Luce score 0, a Sinkhorn
entry -inf) is absent: exactly 0 (or -inf in log space) in every result, with
exactly zero gradient. The idiom is the double `where`: a masked value is
replaced by a finite one *before* any arithmetic and the result is replaced
after it, so neither `-inf - (-inf)` nor `0 * inf` (the derivative of `log`
at 0 times a zero upstream gradient) reaches a value or a gradient. Every
function takes the array namespace `xp` first (`tfp_gumbel._backend`).
"""

import numpy as np

__all__ = [
    "divide_by_temperature",
    "impossible_bias",
    "log_odds",
    "masked_log_softmax",
    "possible",
    "possible_or_none",
    "safe_log",
]


def possible(xp, logits):
  """Boolean mask of the classes with nonzero probability: `logits != -inf`.

  NaN counts as possible, so that it propagates into the results (TFP's
  `allow_nan_stats`) instead of silently removing a class.
  """
  return xp.not_equal(logits, xp.constant(-np.inf, logits.dtype))


def possible_or_none(xp, logits):
  """`possible(logits)`, or None when every class is known to be possible
  (`xp.static_value`): the callers then skip their masking ops, which
  eagerly would cost more than the rest of a small sample."""
  value = xp.static_value(logits)
  if value is not None and not np.isneginf(value).any():
    return None
  return possible(xp, logits)


def impossible_bias(xp, mask, dtype):
  """0 where `mask` (a possible class), -inf elsewhere: added to scores that
  are finite everywhere, it makes `softmax` exactly 0 and `log_softmax` -inf
  at the impossible classes, with a gradient of exactly 0 there."""
  return xp.where(mask, xp.constant(0., dtype), xp.constant(-np.inf, dtype))


def divide_by_temperature(xp, x, temperature):
  """`x / temperature`, written as a product with the reciprocal.

  XLA on CPU turns a division by a compile-time constant into a product but
  keeps a division by a run-time value (a temperature held in a Variable),
  which is about twice as slow per element: the reciprocal of the (small)
  temperature tensor is computed once and the N x K op becomes a product.
  The result differs from the division by at most one rounding.
  """
  return xp.multiply(x, xp.reciprocal(temperature))


def safe_log(xp, probs):
  """`log(probs)`, -inf where probs is 0 with a gradient of 0 there, not
  `0 * inf = NaN`."""
  value = xp.static_value(probs)
  if value is not None and (value > 0).all():
    return xp.log(probs)  # known positive: no masking ops
  positive = xp.greater(probs, xp.constant(0., probs.dtype))
  return xp.where(positive,
                  xp.log(xp.where(positive, probs, xp.ones_like(probs))),
                  xp.constant(-np.inf, probs.dtype))


def log_odds(xp, probs):
  """`log(probs) - log1p(-probs)`: probs 0 and 1 are log-odds -inf and +inf,
  with a zero (not NaN) gradient there."""
  below_one = xp.less(probs, xp.constant(1., probs.dtype))
  log1m_probs = xp.where(
      below_one,
      xp.log1p(-xp.where(below_one, probs, xp.zeros_like(probs))),
      xp.constant(-np.inf, probs.dtype))
  return safe_log(xp, probs) - log1m_probs


def masked_log_softmax(xp, z, mask):
  """`log_softmax(z)` over the last axis's entries where `mask` is True,
  -inf elsewhere; the values of `z` at masked-out entries are never read
  (they may be inf or NaN) and get a gradient of exactly 0. A row with no
  True entry is all -inf."""
  neg_inf = xp.constant(-np.inf, z.dtype)
  z = xp.where(mask, z, xp.constant(0., z.dtype))
  log_normalizer = xp.logsumexp(xp.where(mask, z, neg_inf), axis=-1,
                                keepdims=True)
  return xp.where(mask, z - log_normalizer, neg_inf)
