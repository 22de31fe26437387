"""TensorFlow dtype rules of the families and the estimators.

One place decides the floating dtype of a call's parameters (TFP's rules
and texts), keeps Variables as references, and casts to the compute dtype:
float16 and bfloat16 are computed in float32 and rounded once at the end.
"""

import tensorflow as tf

__all__ = ["as_parameter", "compute_dtype", "computed", "float_dtype",
           "is_ref"]


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


def computed(value, dtype, name):
  """`value` as a Tensor of `dtype` (a float dtype that `float_dtype` chose
  for the call), cast to its compute dtype: the one preparation of a
  function-style argument (estimators, unbiased estimators)."""
  return tf.cast(tf.convert_to_tensor(value, dtype=dtype, name=name),
                 compute_dtype(dtype))
