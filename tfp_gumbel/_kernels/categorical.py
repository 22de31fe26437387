"""The K-class relaxation: Gumbel-Softmax samples, their hard counterparts
and the ExpConcrete density (Jang et al. 2017; Maddison et al. 2017).

Every function takes the array namespace `xp` first (`tfp_gumbel._backend`)
and Tensors of one floating dtype, the classes on the last axis. An
impossible class (logit -inf) is exactly 0 in a sample (-inf in log space),
never the argmax, with exactly zero gradient (`masking`).
"""

import math

import numpy as np

from tfp_gumbel._kernels import masking
from tfp_gumbel._kernels import noise

__all__ = [
    "conditional_gumbel",
    "gumbel_softmax_sample",
    "kl_divergence",
    "log_simplex_log_prob",
    "one_hot_argmax",
    "tempered",
    "tempered_softmax",
]


def tempered(xp, x, temperature, possible=None):
  """`x / t` where `possible`, exactly -inf elsewhere, with a zero gradient
  there for `x` and `t`.

  `x` is typically `logits + g` with `g` Gumbel noise. Where `possible` is
  False `x` is not read (it may be -inf or NaN there, as `-inf - (-inf)`
  is): it is replaced by 0 before the division and the scaled score by -inf
  after it (without the inner `where`, d/dt would be `-inf * 0 = NaN`).
  `possible=None` means every entry is possible: no masking ops.
  """
  if possible is None:
    return masking.divide_by_temperature(xp, x, temperature)
  x = xp.where(possible, x, xp.constant(0., x.dtype))
  return (masking.divide_by_temperature(xp, x, temperature)
          + masking.impossible_bias(xp, possible, x.dtype))


def tempered_softmax(xp, x, temperature, possible=None, log=False):
  """`softmax(x / t)` (or its log) over the `possible` classes, exactly 0
  (-inf) elsewhere, with a zero gradient there (`tempered`)."""
  return xp.softmax(tempered(xp, x, temperature, possible), log=log)


def gumbel_softmax_sample(xp, logits, temperature, n, seed, log=False):
  """`n` draws of `softmax((logits + g) / t)` (or their log), g Gumbel.

  `temperature` broadcasts against `logits` (the class axis included).
  """
  u = xp.uniform_open(xp.sample_shape(n, logits, temperature), seed,
                      logits.dtype)
  # logits + g with g = -log(-log u) (`noise.gumbel`), written as one
  # subtraction: the same numbers (negation is exact), one op fewer.
  perturbed = logits - xp.log(-xp.log(u))
  return tempered_softmax(xp, perturbed, temperature,
                          masking.possible_or_none(xp, logits), log=log)


def one_hot_argmax(xp, x):
  """`one_hot(argmax(x))` in the dtype of `x` (ties: the first maximum)."""
  return xp.one_hot(xp.argmax(x, axis=-1), xp.last_dim(x), dtype=x.dtype)


def conditional_gumbel(xp, logits, sample, num_samples, seed):
  """Perturbed logits `logits + g`, g i.i.d. Gumbel, given their argmax.

  The maximum is `M = logsumexp(logits) + Gumbel` (the law of the max of
  Gumbels, independent of the argmax), and every other coordinate is a
  Gumbel with location `logits_k` truncated below `M` (the top-down
  construction of Maddison et al. 2014, as Paulus et al. 2021 use it):

  ```none
  z_D = logsumexp(logits) + g_D
  z_k = -logaddexp(-(logits_k + g_k), -z_D),   k != D
  ```

  computed in log space, finite for any finite logits; an impossible class
  gets exactly -inf. `sample` is the one-hot argmax (any dtype that casts to
  bool); the result is `[num_samples, ..., K]`.
  """
  # One batch axis: the logsumexp of pairs below stacks an axis on
  # [num_samples, ..., K], which may exceed the backend's kernel rank. The
  # noise is drawn for the flat shape: the same numbers, in row-major order.
  (logits, sample), batch_shape = xp.flatten_batch([logits, sample], [1, 1])
  g = noise.gumbel(xp, xp.concat_shapes([num_samples], xp.shape(logits)),
                   seed, logits.dtype)
  is_top = xp.cast(sample, "bool")
  top = (xp.logsumexp(logits, axis=-1, keepdims=True)
         + xp.sum(xp.where(is_top, g, xp.constant(0., g.dtype)), axis=-1,
                  keepdims=True))
  # An impossible class stays at -inf; its logit is replaced by 0 inside the
  # logsumexp, whose gradient at an infinite argument is NaN.
  possible = masking.possible(xp, logits)
  finite_logits = xp.where(possible, logits, xp.constant(0., logits.dtype))
  below = -xp.logsumexp(
      xp.stack([-(finite_logits + g), -xp.broadcast_to(top, xp.shape(g))],
               axis=-1),
      axis=-1)
  below = xp.where(possible, below, xp.constant(-np.inf, logits.dtype))
  z = xp.where(is_top, top, below)
  return xp.reshape(z, xp.concat_shapes([num_samples], batch_shape,
                                         xp.shape(logits)[-1:]))


def log_simplex_log_prob(xp, y, logits, temperature, possible=None,
                         floor=None):
  """Log-density of the ExpRelaxed Gumbel-Softmax at the log-simplex point `y`.

  ```none
  log p(y) = lgamma(K) + (K - 1) log t + sum_k log_softmax(logits - t y)_k
  ```

  (`sum_k z_k - K logsumexp(z) = sum_k log_softmax(z)_k`: one stable op,
  independent of the normalization of `logits` and of a shift of `y`).
  With impossible classes (`possible` False there; None when every class is
  possible), it is the density of the K'-class family at the possible
  coordinates, K' counted per batch member: a point with mass on an
  impossible class (`y_k > -inf` there) is off the support, and for K' = 1
  (a point mass) the value is 0. `floor` (or None) is the value at which a
  -inf coordinate of a *possible* class is read (a float16 sample that
  overflowed in the rounding).

  Returns the batch-shaped log-density: -inf off the support, never NaN
  except for a batch member with no possible class (TFP's
  `allow_nan_stats`). Coordinates at -inf are replaced by 0 before any
  arithmetic, so neither `-inf - t * (-inf)` nor `0 * inf` reaches the
  value or the gradient.
  """
  dtype = logits.dtype
  zero = xp.constant(0., dtype)
  neg_inf = xp.constant(-np.inf, dtype)
  y_given = y
  if floor is not None:
    y = xp.maximum(y, xp.constant(floor, dtype))
  if possible is None:
    # A log-coordinate of -inf (a sample of a distribution that forbids the
    # class) is off the support.
    at_neg_inf = xp.equal(y, neg_inf)
    off_face = xp.any(at_neg_inf, axis=-1)
    y = xp.where(at_neg_inf, zero, y)
    num_classes = xp.last_dim(logits)
    if isinstance(num_classes, int):
      # K as a Python number where static: no ops for the constant.
      log_normalizer = math.lgamma(num_classes)
      num_classes = float(num_classes)
    else:
      num_classes = xp.cast(num_classes, dtype)
      log_normalizer = xp.lgamma(num_classes)
    z = logits - xp.expand_dims(temperature, -1) * y
    log_softmax = xp.softmax(z, log=True)
  else:
    # On the face of the possible classes: finite on them, -inf elsewhere
    # (`y` unfloored there: a floor reads only the possible classes).
    finite = xp.logical_and(possible, xp.greater(y, neg_inf))
    off_face = xp.logical_not(xp.all(
        xp.where(possible, finite, xp.equal(y_given, neg_inf)), axis=-1))
    num_classes = xp.sum(xp.cast(possible, dtype), axis=-1)
    log_normalizer = xp.lgamma(num_classes)
    z = (xp.where(possible, logits, zero)
         - xp.expand_dims(temperature, -1) * xp.where(finite, y, zero)
         + masking.impossible_bias(xp, possible, dtype))
    log_softmax = xp.where(possible, xp.softmax(z, log=True), zero)
  log_prob = (log_normalizer
              + (num_classes - 1.) * xp.log(temperature)
              + xp.sum(log_softmax, axis=-1))
  log_prob = xp.where(off_face, neg_inf, log_prob)
  if possible is None:
    return log_prob
  # No possible class: no distribution (TFP's allow_nan_stats: NaN).
  return xp.where(num_classes > 0., log_prob, xp.constant(np.nan, dtype))


def kl_divergence(xp, logits_p, logits_q):
  """`KL(Categorical(logits_p) || Categorical(logits_q))` over the last axis.

  `sum_k p_k (log p_k - log q_k)`, as TFP's `kl_divergence` of two
  `Categorical`s defines it (`tfg.categorical_kl` computes it with TFP; the
  layers, on every backend, with this): a class impossible under `p`
  contributes exactly 0 with exactly zero gradient (`0 log 0 = 0`), and the
  KL is `+inf` where `q` makes impossible a class that `p` does not.
  """
  possible_p = masking.possible(xp, logits_p)
  log_p = masking.masked_log_softmax(xp, logits_p, possible_p)
  log_q = masking.masked_log_softmax(xp, logits_q,
                                     masking.possible(xp, logits_q))
  zero = xp.constant(0., logits_p.dtype)
  # The difference is read only where p is possible; elsewhere both logs
  # may be -inf (-inf - -inf = NaN), so they are replaced first.
  log_ratio = xp.where(possible_p, log_p, zero) - xp.where(possible_p, log_q,
                                                           zero)
  return xp.sum(xp.where(possible_p, xp.exp(log_p) * log_ratio, zero),
                axis=-1)
