"""The parameter base of every family: what all six would otherwise repeat.

A family is `Relaxation` plus its math. The base owns

- the parameters: the temperature and the family's event parameters
  (`logits` | `probs`, or `scores`), their common dtype (`_dtypes.float_dtype`),
  Variables kept as references (`_dtypes.as_parameter`), the exactly-one check;
- the dtype policy: `_sample_n` and `_log_prob` compute in
  `_dtypes.compute_dtype` (float32 for float16 and bfloat16) and round once;
- the parameter properties, keyed on the event rank of the parameters
  (`_EVENT_NDIMS`: 0 binary, 1 K classes or N items, 2 an N x N matrix):
  a family's `_parameter_properties` returns `_event_parameter_properties`;
- the event shape, read off the parameters' last `_EVENT_NDIMS` axes;
- the `validate_args` checks of the temperature, and of logits / probs;
- the `NotImplementedError` texts of what a family does not have.

A subclass implements (all private to the family, on its own `self`; nothing
here calls TFP's private methods, and no family calls another's):

| hook | what it returns |
|---|---|
| `_sample_computed(n, seed)` | `n` samples in the compute dtype |
| `_log_prob_computed(x)` | the log-density at `x` (given in the compute dtype), if the family has one |
| `_parameter_value_assertions(value, name)` | extra `validate_args` checks of a parameter's value |

and sets `_EVENT_NDIMS`, `_FAMILY` (the name used in messages) and, for a
statistic that has a reason to be missing other than "no closed form",
`_NOT_IMPLEMENTED[statistic]`. See ARCHITECTURE.md.
"""

import tensorflow as tf
import tensorflow_probability as tfp

from tfp_gumbel.distributions import _assertions
from tfp_gumbel import _dtypes
from tfp_gumbel._kernels import masking
from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel.distributions import _simplex_bijector

tfb = tfp.bijectors
tfd = tfp.distributions

__all__ = ["LogitsOrProbs", "Relaxation", "temperature_properties"]


def temperature_properties(dtype, event_ndims):
  """`ParameterProperties` of a temperature that broadcasts against the
  parameters with their last `event_ndims` axes dropped."""
  eps = tf_xp.finfo(dtype or tf.float32).eps
  constraint = lambda: tfb.Softplus(low=eps)  # pylint: disable=unnecessary-lambda-assignment
  if not event_ndims:
    return tfp.util.ParameterProperties(
        default_constraining_bijector_fn=constraint)
  return tfp.util.ParameterProperties(
      shape_fn=lambda sample_shape: sample_shape[:-event_ndims],
      default_constraining_bijector_fn=constraint)


class Relaxation(tfd.AutoCompositeTensorDistribution):
  """Base of the families: parameters, dtype policy, checks (module doc).

  `__init__(temperature, params, ...)`: `params` maps each name of
  `_PARAMETERS` to its value or None; with both `logits` and `probs`,
  exactly one must be given. Each is stored as `self._<name>`.
  """

  _EVENT_NDIMS = 1
  _PARAMETERS = ("logits", "probs")
  _FAMILY = None
  _NOT_IMPLEMENTED = {}

  def __init__(self, temperature, params, validate_args, allow_nan_stats,
               parameters, name,
               reparameterization_type=tfd.FULLY_REPARAMETERIZED):
    if "logits" in params and "probs" in params:
      _assertions.check_exactly_one(params["logits"], params["probs"])
    elif any(value is None for value in params.values()):
      missing = next(key for key, value in params.items() if value is None)
      raise ValueError(f"`{missing}` must be given.")
    with tf.name_scope(name) as name:
      dtype = _dtypes.float_dtype(temperature=temperature, **params)
      self._temperature = _dtypes.as_parameter(
          temperature, dtype, "temperature")
      for key, value in params.items():
        setattr(self, "_" + key, _dtypes.as_parameter(value, dtype, key))
      super().__init__(
          dtype=dtype,
          reparameterization_type=reparameterization_type,
          validate_args=validate_args,
          allow_nan_stats=allow_nan_stats,
          parameters=parameters,
          name=name)

  @classmethod
  def _event_parameter_properties(cls, dtype):
    """The temperature's, and logits' / probs' by the event rank: what a
    family's `_parameter_properties` returns (TFP wants that method defined
    on the class itself), unless it has other parameters."""
    ndims = cls._EVENT_NDIMS
    properties = dict(
        temperature=temperature_properties(dtype, ndims),
        logits=tfp.util.ParameterProperties(event_ndims=ndims))
    if "probs" in cls._PARAMETERS:
      properties["probs"] = tfp.util.ParameterProperties(
          event_ndims=ndims,
          default_constraining_bijector_fn=(
              _simplex_bijector.simplex_bijector if ndims == 1
              else tfb.Sigmoid),
          is_preferred=False)
    return properties

  @property
  def temperature(self):
    """The temperature, as given (a Tensor, Variable or DeferredTensor)."""
    return self._temperature

  # Parameters, shapes and dtypes.

  def _event_parameter(self):
    """The first event parameter that was given (its shape is the event's)."""
    for key in self._PARAMETERS:
      value = getattr(self, "_" + key)
      if value is not None:
        return value
    raise AssertionError("no event parameter")  # __init__ checked.

  def _event_shape(self):
    shape = self._event_parameter().shape
    if shape.rank is None:
      return tf.TensorShape([None] * self._EVENT_NDIMS)
    return shape[shape.rank - self._EVENT_NDIMS:]

  def _event_shape_tensor(self):
    if not self._EVENT_NDIMS:
      return tf.constant([], dtype=tf.int32)
    return tf.shape(self._event_parameter())[-self._EVENT_NDIMS:]

  def _num_classes(self):
    """The size of the last event axis (K classes, N items): an int, or
    None if unknown statically."""
    shape = self._event_parameter().shape
    return shape[-1] if shape.rank else None

  @property
  def _compute_dtype(self):
    return _dtypes.compute_dtype(self.dtype)

  def _computed(self, value):
    """`value` in the compute dtype (float32 for float16 and bfloat16)."""
    return tf.cast(value, self._compute_dtype)

  def _rounded(self, value):
    """`value`, computed in the compute dtype, rounded once to the dtype."""
    return tf.cast(value, self.dtype)

  def _computed_batch_temperature(self):
    """The temperature in the compute dtype, as given (batch-shaped)."""
    return self._computed(tf.convert_to_tensor(self._temperature))

  def _computed_temperature(self):
    """The temperature in the compute dtype, with one axis per event axis so
    that it broadcasts against the event parameters."""
    return self._event_aligned(self._computed_batch_temperature())

  def _event_aligned(self, temperature):
    """A batch-shaped `temperature` with one axis per event axis appended."""
    if temperature.shape.rank == 0:
      return temperature  # Broadcasts as it is; eagerly, a reshape is an op.
    for _ in range(self._EVENT_NDIMS):
      # expand_dims, not the slice `[..., tf.newaxis]`: eagerly a slice is
      # several small ops (benchmarks/results/design_figures.md, "Slices").
      temperature = tf.expand_dims(temperature, -1)
    return temperature

  def _sample_on_one_batch_axis(self, sample_flat, n, params, event_ndims):
    """`sample_flat(*flat)` (`[n, b, ...]`) for `params` broadcast and
    flattened to one batch axis (`tf_xp.flatten_batch`), put back as
    `[n, *batch, ...]`: for a family whose sample would exceed TF's CPU
    kernels' rank. The noise of `[n, b, ...]` is that of `[n, *batch, ...]`
    (Philox fills a shape in order), so the numbers are the same."""
    flat, batch_shape = tf_xp.flatten_batch(params, event_ndims)
    x = sample_flat(*flat)
    return tf.reshape(x, tf.concat([[n], batch_shape, tf.shape(x)[2:]], 0))

  # Sampling and density: compute, then round once.

  def _sample_n(self, n, seed=None):
    return self._rounded(self._sample_computed(n, seed))

  def _sample_computed(self, n, seed):
    raise NotImplementedError

  def _log_prob(self, x):
    return self._rounded(
        self._on_one_sample_axis(self._log_prob_computed, self._computed(x)))

  def _on_one_sample_axis(self, fn, x):
    """`fn(x)` (batch-shaped, per point) with x's sample axes as one.

    A sample of sample shape [s1, s2, ...] is evaluated as [s1 * s2 * ...]:
    at batch rank 6 a rank-2 sample shape gives x rank 9, and TF's CPU
    SelectV2 / BroadcastTo take at most 8 dimensions (ArgMax 7). Points are
    evaluated one by one, so the numbers are the same; with one sample axis
    or none, x is passed as it is.
    """
    extra = self._sample_ndims(x)
    if extra is not None and extra <= 1:
      return fn(x)
    shape = tf.shape(x)
    kept = tf.size(self.batch_shape_tensor()) + self._EVENT_NDIMS
    sample_shape = shape[:tf.size(shape) - kept]
    value = fn(tf.reshape(x, tf.concat([[-1], shape[tf.size(shape) - kept:]],
                                       0)))
    return tf.reshape(value, tf.concat([sample_shape, tf.shape(value)[1:]], 0))

  def _sample_ndims(self, x):
    """How many leading axes of `x` are sample axes, or None if unknown."""
    batch_rank = self.batch_shape.rank
    if x.shape.rank is None or batch_rank is None:
      return None
    return max(x.shape.rank - batch_rank - self._EVENT_NDIMS, 0)

  def _log_prob_computed(self, x):
    raise self._not_implemented("log_prob")

  def _mean(self, **kwargs):
    raise self._not_implemented("mean")

  def _mode(self, **kwargs):
    raise self._not_implemented("mode")

  def _entropy(self, **kwargs):
    raise self._not_implemented("entropy")

  def _not_implemented(self, statistic):
    reason = self._NOT_IMPLEMENTED.get(
        statistic, f"has no closed-form {statistic} (estimate it from "
                   f"samples).")
    return NotImplementedError(
        f"{statistic} is not implemented: {self._FAMILY} {reason}")

  # Checks.

  def _parameter_control_dependencies(self, is_init):
    param_name = next(key for key in self._PARAMETERS
                      if getattr(self, "_" + key) is not None)
    param = getattr(self, "_" + param_name)
    if is_init:
      self._static_shape_checks(param, param_name)
    if not self.validate_args:
      return []
    assertions = _assertions.temperature_assertions(self._temperature,
                                                is_init=is_init)
    if is_init != _dtypes.is_ref(param):
      value = tf.convert_to_tensor(param)
      shape_assertions = self._run_time_shape_assertions(value, param_name,
                                                         is_init)
      # The value checks reduce over the event axes: they run after the
      # shape checks, so a scalar or an empty event fails with TFP's text,
      # not with a reduction's.
      with tf.control_dependencies(shape_assertions):
        assertions += shape_assertions + self._parameter_value_assertions(
            value, param_name)
    return assertions

  def _run_time_shape_assertions(self, value, name, is_init):
    """The checks of `_static_shape_checks` that the static shape could not
    make (an unknown rank or event size), and those of a Variable, whose
    shape may have changed since construction."""
    ndims = self._EVENT_NDIMS
    if not ndims:
      return []
    rank = value.shape.rank
    assertions = []
    if not is_init or rank is None:
      assertions.append(tf.debugging.assert_rank_at_least(
          value, ndims,
          message=f"Argument `{name}` must have rank at least {ndims}."))
    if not is_init or rank is None or value.shape[-1] is None:
      with tf.control_dependencies(assertions):
        assertions.append(tf.debugging.assert_greater_equal(
            tf.shape(value)[-1], 1,
            message=f"Argument `{name}` must have final dimension >= 1."))
    return assertions

  def _static_shape_checks(self, param, name):
    """Raises at construction for a parameter of too low a rank or an empty
    event axis (TFP's texts)."""
    ndims = self._EVENT_NDIMS
    rank = param.shape.rank
    if not ndims or rank is None:
      return
    if rank < ndims:
      if ndims == 1:
        raise ValueError(f"Argument `{name}` must have rank at least 1. (Its "
                         f"last axis indexes the classes; got a scalar.)")
      raise ValueError(
          f"`{name}` must have rank at least {ndims} (its last {ndims} axes "
          f"index the event), got shape {param.shape}.")
    size = param.shape[-1]
    if size is not None and size < 1:
      raise ValueError(f"Argument `{name}` must have final dimension >= 1. "
                       f"(`{name}` must have at least one class, got 0.)")

  def _parameter_value_assertions(self, value, name):
    """`validate_args` checks of logits / probs (the families with other
    parameters override this)."""
    if name == "logits":
      return _assertions.logits_assertions(value, self._EVENT_NDIMS)
    return _assertions.probs_assertions(value, self._EVENT_NDIMS)



class LogitsOrProbs(Relaxation):
  """A family parameterized by `logits` or `probs` (exactly one): softmax
  over the last axis for `_EVENT_NDIMS = 1`, sigmoid for 0 (log-odds)."""

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

  def _logits_parameter_no_checks(self):
    if self._logits is not None:
      return tf.convert_to_tensor(self._logits)
    probs = tf.convert_to_tensor(self._probs)
    if self._EVENT_NDIMS:
      # A zero probability is an impossible class, logit -inf.
      return masking.safe_log(tf_xp, probs)
    return masking.log_odds(tf_xp, probs)

  def _probs_parameter_no_checks(self):
    if self._logits is None:
      return tf.convert_to_tensor(self._probs)
    if self._EVENT_NDIMS:
      return tf_xp.softmax(self._logits)
    return tf.math.sigmoid(self._logits)

  def _computed_logits(self):
    """The logits in the compute dtype."""
    return self._computed(self._logits_parameter_no_checks())
