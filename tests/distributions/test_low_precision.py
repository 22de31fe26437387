"""float16 and bfloat16: results in the input dtype, math in float32.

Accuracy is measured against float64 evaluated at the same points (the
narrow samples, exactly representable in float64) with the same (narrow)
parameters. The math runs in float32 and the result is rounded once, so the
error is half an ulp of the narrow type at the result (eps / 2 relative:
float16 eps = 2^-10, bfloat16 eps = 2^-7) plus the float32 error of a sum of
~K terms, ~K * 2^-24 times the size of the terms; the tolerance is one ulp
of the narrow type plus 1e-4 of the terms' size (generous for K <= 5).
"""

import numpy as np
import pytest
import tensorflow as tf

import tfp_gumbel as tfg
from tfp_gumbel._backend import tensorflow as tf_xp

NARROW = [tf.float16, tf.bfloat16]
parametrize_dtypes = pytest.mark.parametrize(
    "dtype", NARROW, ids=lambda d: d.name)
CLASSES = [tfg.GumbelSoftmax, tfg.ExpRelaxedGumbelSoftmax, tfg.GumbelSigmoid]
parametrize_classes = pytest.mark.parametrize(
    "cls", CLASSES, ids=lambda c: c.__name__)

LOGITS = {tfg.GumbelSigmoid: [[-2., 0.5, 3.]],
          tfg.GumbelSoftmax: [[-1., 0., 1.5, -np.inf], [2., 0., 0.5, 1.]],
          tfg.ExpRelaxedGumbelSoftmax: [[-1., 0., 1.5, -np.inf],
                                        [2., 0., 0.5, 1.]]}
TEMPERATURES = [0.3, 1., 3.]


def _eps(dtype):
  return float(tf_xp.finfo(dtype).eps)


def _representable(cls, x, dtype):
  """Rows whose points no clamp moves (the narrow and float64 classes clamp
  at different places, so only there are they evaluated at the same point)."""
  if cls is tfg.ExpRelaxedGumbelSoftmax:
    return np.ones(x.shape[:-1], bool)
  tiny = float(tf_xp.finfo(dtype).tiny)
  if cls is tfg.GumbelSoftmax:
    return np.all((x >= tiny) | (x == 0.), axis=-1) & np.all(
        (x >= tiny) | np.isinf(np.asarray(LOGITS[cls])), axis=-1)
  return (x >= tiny) & (x <= 1. - float(tf_xp.finfo(dtype).epsneg))


def _narrow_and_wide(cls, dtype, t):
  logits = tf.cast(tf.constant(LOGITS[cls], tf.float32), dtype)
  narrow = cls(tf.cast(t, dtype), logits=logits)
  wide = cls(tf.cast(tf.cast(t, dtype), tf.float64),
             logits=tf.cast(logits, tf.float64))
  return narrow, wide, logits


@parametrize_classes
@parametrize_dtypes
def test_construction_and_dtypes(cls, dtype):
  narrow, _, logits = _narrow_and_wide(cls, dtype, 0.5)
  assert narrow.dtype == dtype
  x = narrow.sample(10, seed=(1, 2))
  assert x.dtype == dtype and narrow.log_prob(x).dtype == dtype
  x2, lp2 = narrow.experimental_sample_and_log_prob(10, seed=(1, 2))
  assert x2.dtype == dtype and lp2.dtype == dtype
  with tf.GradientTape() as tape:
    tape.watch(logits)
    lp = cls(tf.cast(0.5, dtype), logits=logits).log_prob(x)
  assert tape.gradient(lp, logits).dtype == dtype


@parametrize_classes
@parametrize_dtypes
def test_samples_are_the_float32_samples_rounded_once(cls, dtype):
  narrow, _, logits = _narrow_and_wide(cls, dtype, 0.5)
  f32 = cls(0.5, logits=tf.cast(logits, tf.float32))
  a = narrow.sample(200, seed=(3, 4)).numpy().astype(np.float64)
  b = f32.sample(200, seed=(3, 4)).numpy().astype(np.float64)
  finite = np.isfinite(b)
  np.testing.assert_array_equal(np.isfinite(a), finite)
  # Half an ulp of the narrow type (relative), or its smallest subnormal.
  tol = 0.5 * _eps(dtype) * np.abs(b[finite]) + float(
      tf_xp.finfo(dtype).tiny) * _eps(dtype)
  assert (np.abs(a[finite] - b[finite]) <= tol).all()


def log_prob_errors(cls, dtype, t):
  """Max |log_prob_narrow - log_prob_float64| / allowed error, and the max
  absolute error, at the narrow class's own representable samples."""
  narrow, wide, _ = _narrow_and_wide(cls, dtype, t)
  x = narrow.sample(500, seed=(5, 6))
  keep = _representable(cls, x.numpy().astype(np.float64), dtype)
  lp = narrow.log_prob(x).numpy().astype(np.float64)[keep]
  ref = wide.log_prob(tf.cast(x, tf.float64)).numpy()[keep]
  scale = 1. + np.abs(ref)
  if cls is not tfg.GumbelSigmoid:
    # The terms: t |y| and |logits| summed over K classes.
    y = np.log(np.abs(x.numpy().astype(np.float64)) + 1e-300)
    if cls is tfg.ExpRelaxedGumbelSoftmax:
      y = x.numpy().astype(np.float64)
    y = np.where(np.isfinite(y), y, 0.)
    scale = scale + (1. + t) * np.sum(np.abs(y), axis=-1)[keep]
  allowed = _eps(dtype) * np.abs(ref) + 1e-4 * scale
  return np.max(np.abs(lp - ref) / allowed), np.max(np.abs(lp - ref))


@parametrize_classes
@parametrize_dtypes
@pytest.mark.parametrize("t", TEMPERATURES)
def test_log_prob_accuracy_against_float64(cls, dtype, t):
  ratio, _ = log_prob_errors(cls, dtype, t)
  assert ratio <= 1.


@parametrize_classes
@parametrize_dtypes
def test_gradient_accuracy_against_float64(cls, dtype):
  narrow, _, logits = _narrow_and_wide(cls, dtype, 1.)
  x = narrow.sample(100, seed=(7, 8))
  grads = []
  for d in (dtype, tf.float64):
    lg = tf.cast(logits, d)
    with tf.GradientTape() as tape:
      tape.watch(lg)
      lp = tf.reduce_mean(cls(tf.cast(1., d), logits=lg).log_prob(
          tf.cast(x, d)))
    grads.append(tape.gradient(lp, lg).numpy().astype(np.float64))
  # The gradient is one rounding of a float32 mean of ~100 terms of size
  # ~|g|: a narrow ulp of the largest entry, plus the float32 error.
  scale = np.max(np.abs(grads[1])) + 1.
  assert np.max(np.abs(grads[0] - grads[1])) <= (_eps(dtype) + 1e-4) * scale


@parametrize_dtypes
def test_noise_is_drawn_in_float32(dtype):
  # A float16 uniform has 10 random bits: Logistic noise drawn from it takes
  # at most 1024 values, and its tails are lopsided (log(u) reaches
  # log(tiny) = -9.7 but log1p(-u) stops at log(2^-10)): of 2 x 10^5 draws
  # 384 were above 6 and 607 below -6, where 495 each are expected. Drawn in
  # float32 and rounded, the noise takes thousands of values and both tails
  # agree within 5 standard deviations of their difference.
  y = tfg.GumbelSigmoid(tf.cast(1., dtype), logits=tf.cast(0., dtype)
                        ).distribution.sample(200000, seed=(9, 10))
  assert y.dtype == dtype
  y = y.numpy().astype(np.float64)
  assert len(np.unique(y)) > 2000
  above, below = np.sum(y > 6.), np.sum(y < -6.)
  assert abs(above - below) < 5. * np.sqrt(above + below)
