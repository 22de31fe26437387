"""The `validate_args` checks of the families and their texts.

Where TFP makes the same check, our message contains TFP's text, so code
written against TFP's messages keeps working; the rest names the argument
and the problem.
"""

import numpy as np
import tensorflow as tf

from tfp_gumbel import _dtypes
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
    "TFP_SAMPLE_RANGE",
    "TFP_SAMPLE_SUM",
    "check_exactly_one",
    "event_size_assertions",
    "logits_assertions",
    "probs_assertions",
    "simplex_tolerance",
    "temperature_assertions",
]


def check_exactly_one(logits, probs):
  if (logits is None) == (probs is None):
    got = "both" if logits is not None else "neither"
    raise ValueError(
        "Must pass `probs` or `logits`, but not both. (Exactly one of "
        f"`logits` or `probs` must be given, got {got}.)")


def simplex_tolerance(dtype, num_classes):
  """Tolerance on |sum(x) - 1| (or |logsumexp(y)|) for a point on the simplex.

  Each exp and each addition rounds by at most eps / 2 relative, and a
  pairwise sum of K terms accumulates at most ~log2(K) such roundings, so a
  correctly rounded point is within eps * (1 + log2 K); we allow 10 times that.
  """
  eps = tf_xp.finfo(dtype).eps
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
            tf.reduce_all(tf.reduce_any(masking.possible(tf_xp, logits),
                                        axis=-1)), True,
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


def temperature_assertions(temperature, *, is_init):
  """`validate_args` checks of a temperature: positive and finite.

  At construction for a constant, at every use for a Variable (TFP's
  `is_init` convention); call only under `validate_args`.
  """
  if is_init == _dtypes.is_ref(temperature):
    return []
  t = tf.convert_to_tensor(temperature)
  return [
      tf.debugging.assert_positive(
          t, message="Argument `temperature` must be positive."),
      tf.debugging.assert_equal(
          tf.reduce_all(tf.math.is_finite(t)), True,
          message="`temperature` must be finite."),
  ]
