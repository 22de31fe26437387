"""Parameter plumbing shared by every distribution in the package.

One place decides a distribution's dtype, keeps Variables as references, turns
`probs` into `logits`, and words the error messages, so that every class says
the same thing about the same mistake.
"""

import functools

import ml_dtypes
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel._kernels import masking

# TFP's texts for a point off the support under `validate_args` (its
# ExpRelaxedOneHotCategorical checks them, on log x for RelaxedOneHotCategorical,
# typo included); our messages contain them.
TFP_SAMPLE_RANGE = ("Samples must be less than or equal to `0` for "
                    "`ExpRelaxedOneHotCategorical` or `1` for "
                    "`RelaxedOneHotCategorical`.")
TFP_SAMPLE_SUM = ("Final dimension of samples must sum to `0` for .`"
                  "ExpRelaxedOneHotCategorical` or `1` for "
                  "`RelaxedOneHotCategorical`.")

__all__ = [
    "as_parameter",
    "check_exactly_one",
    "check_static_temperature",
    "compute_dtype",
    "divide_by_temperature",
    "event_size_assertions",
    "exceeds_kernel_rank",
    "finfo",
    "flatten_batch",
    "float_dtype",
    "impossible_bias",
    "is_ref",
    "log_odds",
    "masked_log_softmax",
    "possible",
    "possible_or_none",
    "safe_log",
    "logits_assertions",
    "probs_assertions",
    "sample_shape",
    "simplex_bijector",
    "simplex_tolerance",
    "softmax",
    "temperature_assertions",
    "tiny",
]


def is_ref(value):
  """True for Variables and tf.Modules that act as tensors (DeferredTensor,
  TransformedVariable): they are read at every use, not once at construction."""
  return isinstance(value, (tf.Variable, tf.Module)) and hasattr(value, "dtype")


def float_dtype(default=tf.float32, **params):
  """The common floating dtype of the named parameters, `default` if none has one.

  Python numbers and lists carry no dtype and follow the others (TFP converts
  them the same way: `logits=[1, 2]` is float32). A Tensor of integers, or
  parameters of different floating dtypes, raise a `TypeError` that names the
  parameter and contains TFP's own text for the same mistake.
  """
  dtype, first = None, None
  for name, value in params.items():
    if value is None or not hasattr(value, "dtype"):
      continue
    value_dtype = tf.as_dtype(value.dtype).base_dtype
    if not value_dtype.is_floating:
      raise TypeError(
          f"Argument `{name}` must having floating type. (`{name}` must have "
          f"a floating-point dtype, got {value_dtype.name}.)")
    if dtype is None:
      dtype, first = value_dtype, name
    elif value_dtype != dtype:
      raise TypeError(
          f"Found incompatible dtypes, {dtype.name} and {value_dtype.name}: "
          f"`{name}` has dtype {value_dtype.name} but `{first}` has dtype "
          f"{dtype.name}; give all parameters the same dtype.")
  return dtype or tf.as_dtype(default)


def as_parameter(value, dtype, name):
  """A Tensor of `dtype`, or `value` itself if it is a Variable-like reference.

  References are kept so that `trainable_variables` finds them and every use
  reads their current value (TFP's convention for Variables).
  """
  if value is None or is_ref(value):
    return value
  return tf.convert_to_tensor(value, dtype_hint=dtype, name=name)


def check_exactly_one(logits, probs):
  if (logits is None) == (probs is None):
    got = "both" if logits is not None else "neither"
    raise ValueError(
        "Must pass `probs` or `logits`, but not both. (Exactly one of "
        f"`logits` or `probs` must be given, got {got}.)")


def sample_shape(n, *params):
  """`[n] + broadcast shape of params`: a Python list when all are static.

  A list costs nothing in eager mode, where the concat of shape tensors it
  replaces is ~0.1 ms of a ~1 ms sampling call.
  """
  static = functools.reduce(tf.broadcast_static_shape,
                            [p.shape for p in params])
  n_static = tf.get_static_value(n)
  if static.is_fully_defined() and n_static is not None:
    return [int(n_static)] + static.as_list()
  dynamic = functools.reduce(tf.broadcast_dynamic_shape,
                             [tf.shape(p) for p in params])
  return tf.concat([[n], dynamic], axis=0)


divide_by_temperature = functools.partial(masking.divide_by_temperature, tf_xp)


def finfo(dtype):
  """`np.finfo` of a TensorFlow floating dtype, bfloat16 included.

  numpy's own `finfo` rejects bfloat16 ("data type bfloat16 not inexact");
  `ml_dtypes` (a TensorFlow dependency, which defines the type) knows it and
  every numpy type as well.
  """
  return ml_dtypes.finfo(tf.as_dtype(dtype).as_numpy_dtype)


def compute_dtype(dtype):
  """The dtype the math is done in: float32 for float16 and bfloat16.

  Their 11 and 8 significant bits cannot hold the math: a float16 uniform
  has 10 random bits, so noise drawn from it takes at most 1024 values with
  lopsided tails (log u reaches log(tiny) = -9.7, log(1 - u) stops at
  log(2^-10) = -6.9), and a log-density is a sum of terms that cancel
  (float16 log_prob was 3-12x further from float64 than one rounding).
  Results are rounded to the narrow type once, at the end.
  """
  dtype = tf.as_dtype(dtype)
  return tf.float32 if dtype in (tf.float16, tf.bfloat16) else dtype


def tiny(dtype):
  """Smallest positive normal number of `dtype` (float32: 1.18e-38)."""
  return finfo(dtype).tiny


possible = functools.partial(masking.possible, tf_xp)


possible_or_none = functools.partial(masking.possible_or_none, tf_xp)


impossible_bias = functools.partial(masking.impossible_bias, tf_xp)


safe_log = functools.partial(masking.safe_log, tf_xp)


log_odds = functools.partial(masking.log_odds, tf_xp)


softmax = tf_xp.softmax
ONEDNN_SOFTMAX_MAX_RANK = tf_xp.ONEDNN_SOFTMAX_MAX_RANK


MAX_KERNEL_RANK = tf_xp.MAX_KERNEL_RANK


def exceeds_kernel_rank(x, extra=0):
  """Whether `x`'s rank plus `extra` axes may exceed `MAX_KERNEL_RANK`
  (True where the rank is unknown)."""
  return x.shape.rank is None or x.shape.rank + extra > MAX_KERNEL_RANK


def flatten_batch(tensors, event_ndims):
  """The tensors with their batch shapes broadcast and flattened to one axis.

  `tensors[i]` has `event_ndims[i]` event axes last; the axes before are its
  batch axes, which broadcast against the others'. Returns the flat tensors
  (`[b, *event_i]`) and the broadcast batch shape (a 1-D int32 Tensor), to
  put a result's batch axis back with `tf.reshape`. Broadcasting and
  flattening move no number, so what is computed on the flat tensors is what
  the same ops give on the originals; callers flatten where the rank of
  what they build would exceed `MAX_KERNEL_RANK`.
  """
  shapes = [tf.shape(t) for t in tensors]
  batch_shapes = [shape[:tf.size(shape) - ndims]
                  for shape, ndims in zip(shapes, event_ndims)]
  batch_shape = functools.reduce(tf.broadcast_dynamic_shape, batch_shapes)
  flat = []
  static_batch = functools.reduce(
      tf.broadcast_static_shape,
      [t.shape[:t.shape.rank - ndims] if t.shape.rank is not None
       else tf.TensorShape(None) for t, ndims in zip(tensors, event_ndims)])
  for t, shape, ndims in zip(tensors, shapes, event_ndims):
    event_shape = shape[tf.size(shape) - ndims:]
    if not (static_batch.is_fully_defined() and t.shape.rank is not None
            and t.shape[:t.shape.rank - ndims] == static_batch):
      t = tf.broadcast_to(t, tf.concat([batch_shape, event_shape], 0))
    flat.append(tf.reshape(t, tf.concat([[-1], event_shape], 0)))
  return flat, batch_shape


masked_log_softmax = functools.partial(masking.masked_log_softmax, tf_xp)


class _AppendZero(tfp.bijectors.Pad):
  """`tfb.Pad()` with its default arguments (append one 0 to the last axis),
  constructed without `Pad.__init__`.

  TFP 0.25's `Pad.__init__` calls `np.reshape(axis, newshape=[-1])`, and numpy
  2.4 removed the `newshape` keyword, so on numpy >= 2.4 no `Pad` (hence no
  `SoftmaxCentered`) can be built. This sets the four attributes that
  `Pad.__init__` sets, to the values it sets for the default arguments
  (paddings [[0, 1]], axis [-1], mode 'CONSTANT', constant 0; event rank 1);
  the math (forward, inverse, event shapes, zero log-det-Jacobian) is Pad's.
  """

  def __init__(self, validate_args=False, name="pad"):
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      self._paddings = tf.constant([[0, 1]], dtype=tf.int32, name="paddings")
      self._axis = tf.constant([-1], dtype=tf.int32, name="axis")
      self._mode = "CONSTANT"
      self._constant_values = tf.constant(0., name="constant_values")
      tfp.bijectors.AutoCompositeTensorBijector.__init__(
          self, forward_min_event_ndims=1, inverse_min_event_ndims=1,
          is_constant_jacobian=True, validate_args=validate_args,
          parameters=parameters, name=name)

  @classmethod
  def _parameter_properties(cls, dtype):
    return dict()


class _SoftmaxCentered(tfp.bijectors.SoftmaxCentered):
  """`tfb.SoftmaxCentered`, y = softmax([x, 0]), whose inner `Pad` is
  `_AppendZero`: the same class, forward, inverse and log-det-Jacobian (TFP's
  code, unchanged), buildable on every numpy that TensorFlow accepts."""

  def __init__(self, validate_args=False, name="softmax_centered"):
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      self._pad = _AppendZero(validate_args=validate_args)
      tfp.bijectors.AutoCompositeTensorBijector.__init__(
          self, forward_min_event_ndims=1, validate_args=validate_args,
          parameters=parameters, name=name)


def simplex_bijector(validate_args=False):
  """The default bijector from R^(K-1) onto the open simplex, shared by the
  K-class families (their event-space bijector, and the constraint of
  `probs` in `parameter_properties`).

  It is `tfb.SoftmaxCentered` (y = softmax([x, 0])), built so that it works on
  numpy >= 2.4, where TFP 0.25's own constructor fails (see `_AppendZero`).
  """
  return _SoftmaxCentered(validate_args=validate_args)


def simplex_tolerance(dtype, num_classes):
  """Tolerance on |sum(x) - 1| (or |logsumexp(y)|) for a point on the simplex.

  Each exp and each addition rounds by at most eps / 2 relative, and a
  pairwise sum of K terms accumulates at most ~log2(K) such roundings, so a
  correctly rounded point is within eps * (1 + log2 K); we allow 10 times that.
  """
  eps = finfo(dtype).eps
  return 10. * eps * (1. + np.log2(max(float(num_classes), 2.)))


def logits_assertions(logits, event_ndims):
  """-inf is an impossible class (binary: +-inf are probs 0 and 1); NaN is
  never allowed, nor +inf among K classes, nor a row with no possible class."""
  assertions = [tf.debugging.assert_equal(
      tf.reduce_any(tf.math.is_nan(logits)), False,
      message="`logits` must not be NaN.")]
  if event_ndims:
    assertions += [
        tf.debugging.assert_equal(
            tf.reduce_any(tf.math.equal(
                logits, tf.constant(np.inf, logits.dtype))), False,
            message="`logits` must be finite or -inf (an impossible class); "
                    "found +inf."),
        tf.debugging.assert_equal(
            tf.reduce_all(tf.reduce_any(possible(logits), axis=-1)), True,
            message="`logits` must leave at least one possible class: every "
                    "logit of a batch member is -inf."),
    ]
  return assertions


def probs_assertions(probs, event_ndims):
  """In [0, 1] (a 0 is an impossible class), and on the simplex if K-class.

  The messages contain TFP's: `RelaxedBernoulli`'s texts for the range checks
  (`RelaxedOneHotCategorical` makes the same checks without a text).
  """
  one = tf.ones([], probs.dtype)
  assertions = [
      tf.debugging.assert_non_negative(
          probs, message="Argument `probs` has components less than 0."),
      tf.debugging.assert_less_equal(
          probs, one,
          message="Argument `probs` has components greater than 1."),
  ]
  if event_ndims:
    num_classes = probs.shape[-1] if probs.shape.rank else None
    tol = simplex_tolerance(probs.dtype, num_classes or 2**20)
    # An all-zero row (no possible class) fails here too.
    assertions.append(tf.debugging.assert_less_equal(
        tf.abs(tf.reduce_sum(probs, axis=-1) - one),
        tf.constant(tol, probs.dtype),
        message="Argument `probs` must sum to 1. (`probs` must sum to 1 "
                "along the last axis.)"))
  return assertions


def event_size_assertions(x, num_classes, num_classes_tensor):
  """`x` must have K classes on its last axis: raise now if that is known
  statically, else return an assertion."""
  if x.shape.rank == 0:
    raise ValueError("`x` must have the classes on its last axis, got a scalar.")
  size = x.shape[-1] if x.shape.rank else None
  if size is not None and num_classes is not None:
    if size != num_classes:
      raise ValueError(f"`x` has {size} classes on its last axis but the "
                       f"distribution has {num_classes}.")
    return []
  return [tf.debugging.assert_equal(
      tf.shape(x)[-1], num_classes_tensor,
      message="`x` must have as many classes on its last axis as `logits`.")]


def check_static_temperature(temperature):
  """Raises ValueError where a temperature known when the graph is built (a
  Python number, an array, an eager Tensor) is not positive and finite; the
  function-style estimators have no `validate_args`, and t <= 0 would give
  NaN samples silently. A Tensor whose value is known only at run time passes.
  """
  value = tf.get_static_value(temperature)
  if value is None:
    return
  value = np.asarray(value)
  if value.dtype.kind not in "fiu":
    return
  if not np.all(np.isfinite(value)) or not np.all(value > 0):
    raise ValueError(f"Argument `temperature` must be positive. Got "
                     f"{value.tolist()!r} (it must be positive and finite).")


def temperature_assertions(temperature, *, is_init):
  """`validate_args` checks of a temperature: positive and finite.

  At construction for a constant, at every use for a Variable (TFP's
  `is_init` convention); call only under `validate_args`.
  """
  if is_init == is_ref(temperature):
    return []
  t = tf.convert_to_tensor(temperature)
  return [
      tf.debugging.assert_positive(
          t, message="Argument `temperature` must be positive."),
      tf.debugging.assert_equal(
          tf.reduce_all(tf.math.is_finite(t)), True,
          message="`temperature` must be finite."),
  ]
