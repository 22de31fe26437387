"""A log-space relaxation pushed through an elementwise bijector.

`GumbelSoftmax` is `ExpRelaxedGumbelSoftmax` pushed through `exp`, and
`GumbelSigmoid` is `LogitGumbelSigmoid` pushed through the sigmoid. They are
not `tfd.TransformedDistribution`s: that class samples through TFP's private
call chain (`_call_sample_n`), and its generic machinery costs more than the
math in eager mode (each public bijector call pays caching, name scopes and
event-shape bookkeeping: benchmarks/results/design_figures.md, "Push-forward").
Instead each holds the same parameters as its
base (on `_base.LogitsOrProbs`) and computes, with the bijector's own
elementwise math,

    sample:           x = f(y),  y a sample of the base
    log_prob(x):      base_log_prob(y) + sum ildj(x'),  y = f^-1(x'), x' = clamp(x)
    sample_and_lp:    x = f(y),  base_log_prob(y) - sum fldj(y)

which is what `TransformedDistribution(base, bijector)` computes for a
bijector of minimum event rank 0 (tests/distributions/test_pushforward.py
compares the two), except that

- `log_prob` first clamps its point into the representable interior of the
  support, where float rounding put a sample on the boundary (not where the
  parameters put all the mass on the boundary: an impossible class of
  GumbelSoftmax, probs 0 or 1 of GumbelSigmoid);
- the sums leave out the coordinates that the parameters fix, which are no
  part of the density (TFP's would add their infinite log-det-Jacobian).

`distribution` and `bijector` are the base and the bijector as TFP objects,
for code that wants them (`TransformedDistribution(d.distribution,
d.bijector)` is the same law).
"""

import functools

import tensorflow as tf

from tfp_gumbel.distributions import _base

__all__ = ["Pushforward"]


@functools.lru_cache(maxsize=None)
def _shared_bijector(bijector_class):
  """One instance per parameterless bijector class: `tfb.Exp` and the sigmoid
  hold no parameters and no state beyond TFP's weakly keyed cache."""
  return bijector_class()


class Pushforward(_base.LogitsOrProbs):
  """`_BASE(...)` pushed through the elementwise `_BIJECTOR()`; module doc.

  A subclass sets `_BASE` (the base family's class) and `_BIJECTOR` (a
  parameterless bijector class) and defines, all in the compute dtype:
  `_base_sample(n, seed)`, the base's sample; `_base_log_prob(y)`, its
  log-density; `_forward(y)`; `_inverse_and_ildj(x)`, the inverse at the
  clamped `x` and its log-det-Jacobian summed over the event; `_fldj(y)`,
  the summed forward log-det-Jacobian.
  """

  _BASE = None
  _BIJECTOR = None

  @property
  def distribution(self):
    """The base distribution (log space), with the same parameters."""
    return self._BASE(self._temperature, logits=self._logits,
                      probs=self._probs, validate_args=self.validate_args,
                      allow_nan_stats=self.allow_nan_stats)

  @property
  def bijector(self):
    """The bijector from the base's space onto this one's."""
    return _shared_bijector(self._BIJECTOR)

  def _sample_n(self, n, seed=None, base_space=False):
    # `base_space=True` (through the public `sample`, for
    # `_sample_and_log_prob`) returns the base sample, unrounded.
    if base_space:
      return self._base_sample(n, seed)
    return self._rounded(self._sample_computed(n, seed))

  def _sample_computed(self, n, seed):
    return self._forward(self._base_sample(n, seed))

  def _log_prob_computed(self, x):
    y, ildj = self._inverse_and_ildj(x)
    return self._base_log_prob(y) + ildj

  def _sample_and_log_prob(self, sample_shape, seed):
    y = self.sample(sample_shape, seed=seed, base_space=True)
    # Both from the same y in the compute dtype, each rounded once.
    return (self._rounded(self._forward(y)),
            self._rounded(self._on_one_sample_axis(
                lambda y: self._base_log_prob(y) - self._fldj(y), y)))

  def _prob(self, x):
    return tf.exp(self._log_prob(x))

  def _base_sample(self, n, seed):
    raise NotImplementedError

  def _base_log_prob(self, y):
    raise NotImplementedError

  def _forward(self, y):
    raise NotImplementedError

  def _inverse_and_ildj(self, x):
    raise NotImplementedError

  def _fldj(self, y):
    raise NotImplementedError
