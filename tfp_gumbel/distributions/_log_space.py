"""What the log-space relaxations share: their `(temperature, logits | probs)`.

`ExpRelaxedGumbelSoftmax` (categorical) and `LogitGumbelSigmoid` (binary) are
the two distributions that hold the parameters and write a density; the
simplex and unit-interval distributions are them pushed through a bijector.
Both take the same arguments, keep Variables as references, validate them the
same way and expose them the same way; they differ only in how `probs` and
`logits` map to each other (softmax vs sigmoid) and in the event rank of the
parameters (`_PARAMETER_EVENT_NDIMS`: 1 vs 0).
"""

import tensorflow as tf
import tensorflow_probability as tfp

from tfp_gumbel import _params

tfd = tfp.distributions

__all__ = ["LogSpaceRelaxation"]


class LogSpaceRelaxation(tfd.AutoCompositeTensorDistribution):
  """Base of the log-space relaxations; subclasses pass their own `parameters`.

  Subclasses define `_PARAMETER_EVENT_NDIMS` and
  `_logits_parameter_no_checks` / `_probs_parameter_no_checks`.
  """

  _PARAMETER_EVENT_NDIMS = None

  def __init__(self, temperature, logits, probs, validate_args,
               allow_nan_stats, parameters, name):
    _params.check_exactly_one(logits, probs)
    with tf.name_scope(name) as name:
      dtype = _params.float_dtype(
          temperature=temperature, logits=logits, probs=probs)
      self._temperature = _params.as_parameter(
          temperature, dtype, "temperature")
      self._logits = _params.as_parameter(logits, dtype, "logits")
      self._probs = _params.as_parameter(probs, dtype, "probs")
      super().__init__(
          dtype=dtype,
          reparameterization_type=tfd.FULLY_REPARAMETERIZED,
          validate_args=validate_args,
          allow_nan_stats=allow_nan_stats,
          parameters=parameters,
          name=name)

  @property
  def temperature(self):
    """The temperature, as given (a Tensor, Variable or DeferredTensor)."""
    return self._temperature

  @property
  def logits(self):
    """The `logits` argument, or None if `probs` was given."""
    return self._logits

  @property
  def probs(self):
    """The `probs` argument, or None if `logits` was given."""
    return self._probs

  def logits_parameter(self, name=None):
    """Logits (log-odds if binary), computed from `probs` if that was given."""
    with self._name_and_control_scope(name or "logits_parameter"):
      return self._logits_parameter_no_checks()

  def probs_parameter(self, name=None):
    """Probabilities, computed from `logits` if that is what was given."""
    with self._name_and_control_scope(name or "probs_parameter"):
      return self._probs_parameter_no_checks()

  def _compute_parameters(self):
    """`(temperature, logits)` as Tensors of `_params.compute_dtype`."""
    dtype = _params.compute_dtype(self.dtype)
    return (tf.cast(tf.convert_to_tensor(self._temperature), dtype),
            tf.cast(self._logits_parameter_no_checks(), dtype))

  def _sample_n(self, n, seed=None, computed=False, **kwargs):
    """Samples, rounded to the distribution's dtype unless `computed`.

    `computed=True` is for the push-forward classes, which transform the
    sample in the compute dtype and round once.
    """
    y = self._sample_computed(n, seed, **kwargs)
    return y if computed else self._rounded(y)

  def _log_prob(self, y):
    return self._rounded(self._log_prob_computed(y))

  def _rounded(self, value):
    """`value`, computed in the compute dtype, rounded to the dtype."""
    return tf.cast(value, self.dtype)

  def _parameter_control_dependencies(self, is_init):
    return _params.parameter_assertions(
        self._temperature, self._logits, self._probs, is_init=is_init,
        validate_args=self.validate_args,
        event_ndims=self._PARAMETER_EVENT_NDIMS)
