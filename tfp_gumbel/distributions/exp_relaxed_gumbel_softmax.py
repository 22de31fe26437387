"""The ExpRelaxed Gumbel-Softmax (ExpConcrete) distribution over log-simplex vectors."""

import math

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_gumbel import _kernels
from tfp_gumbel import _noise
from tfp_gumbel import _params
from tfp_gumbel.distributions import _log_space

tfb = tfp.bijectors

__all__ = ["ExpRelaxedGumbelSoftmax", "categorical_parameter_properties"]


def categorical_parameter_properties(dtype):
  """`_parameter_properties` of every K-class relaxation in the package."""
  eps = np.finfo(tf.as_dtype(dtype or tf.float32).as_numpy_dtype).eps
  return dict(
      # Temperature has no event dims: it broadcasts against logits[..., 0].
      temperature=tfp.util.ParameterProperties(
          shape_fn=lambda sample_shape: sample_shape[:-1],
          default_constraining_bijector_fn=lambda: tfb.Softplus(low=eps)),
      logits=tfp.util.ParameterProperties(event_ndims=1),
      probs=tfp.util.ParameterProperties(
          event_ndims=1,
          default_constraining_bijector_fn=tfb.SoftmaxCentered,
          is_preferred=False))


class ExpRelaxedGumbelSoftmax(_log_space.LogSpaceRelaxation):
  r"""Log-space Gumbel-Softmax (ExpConcrete) distribution.

  A sample `y` is the logarithm of a Gumbel-Softmax (Concrete) sample: a vector
  with `logsumexp(y) = 0`. Working in log space keeps the density finite where
  the simplex coordinates themselves underflow; use this class for likelihoods
  and KL terms and `tf.exp` the samples when you need points on the simplex.

  As `temperature -> 0`, `exp(y)` becomes one-hot with `argmax` distributed as
  `Categorical(logits)`, and `y` has coordinates near `-inf`; as
  `temperature -> inf`, `y -> -log(K)` in every coordinate. The argmax of a
  sample is `Categorical(logits)`-distributed at *every* temperature.

  #### Mathematical details

  With `g_k` i.i.d. standard Gumbel, `t` the temperature and
  `log pi = log_softmax(logits)`:

  ```none
  y = log_softmax((logits + g) / t)
  log p(y) = lgamma(K) + (K - 1) log t
             + sum_k (log pi_k - t y_k) - K logsumexp_k (log pi_k - t y_k)
  ```

  The density is the one of Maddison et al. (2017, appendix), which is with
  respect to the measure `exp(-y_K) dy_1 ... dy_{K-1}` on the log-simplex;
  pushed through `exp` with the full K-coordinate Jacobian it gives the
  Concrete density on the simplex (`tfg.GumbelSoftmax`). It is invariant to a
  shift of `y`, so rounding of `logsumexp(y)` does not move it, and it is
  evaluated as `sum(log_softmax(logits - t y))`, which never overflows.

  #### Impossible classes

  A class with `logits = -inf` (`probs = 0`) is impossible: it is no part of
  the event. Samples are exactly -inf there (0 for `tfg.GumbelSoftmax`), so
  their argmax never picks it, and `log_prob` is the density of the same
  family over the K' possible classes (K' may differ between batch members),
  at the possible coordinates: replace K by K' in the formula above and sum
  over the possible k only. A point with mass on an impossible class
  (`y_k > -inf` there) is outside the support: `log_prob = -inf`, never NaN.
  Gradients with respect to the impossible logits are exactly 0. With one
  possible class (K' = 1) the law is a point mass at that vertex, and
  `log_prob` there is 0 (the density with respect to counting measure on
  that 0-dimensional face). With none, `validate_args=True` raises; without
  it, samples and `log_prob` are NaN for that batch member (TFP's
  `allow_nan_stats` convention). This is the way to mask actions or tokens.

  A very negative but finite logit (say -1e9) is a *possible* class, only a
  very unlikely one: it stays in the event, samples are tiny but positive
  there, and `log_prob` carries the huge logit gap (about -1e9 for the own
  samples of `logits=[-1e9, 0, 1, 2]`). Use -inf to forbid a class.

  #### Examples

  ```python
  import tfp_gumbel as tfg
  d = tfg.ExpRelaxedGumbelSoftmax(temperature=0.1, probs=[0.1, 0.2, 0.5, 0.2])
  y, lp = d.experimental_sample_and_log_prob(1000, seed=(1, 2))
  x = tf.exp(y)                      # points on the simplex
  tf.argmax(y, axis=-1)              # exactly Categorical([.1, .2, .5, .2])
  masked = tfg.ExpRelaxedGumbelSoftmax(0.5, logits=[-np.inf, 0., 1.])
  masked.log_prob(masked.sample(3, seed=(1, 2)))   # finite: a 2-class law
  ```

  #### References

  [1] Chris J. Maddison, Andriy Mnih, Yee Whye Teh. The Concrete Distribution:
      A Continuous Relaxation of Discrete Random Variables. ICLR 2017.
  [2] Eric Jang, Shixiang Gu, Ben Poole. Categorical Reparameterization with
      Gumbel-Softmax. ICLR 2017.
  """

  _PARAMETER_EVENT_NDIMS = 1

  def __init__(self,
               temperature,
               logits=None,
               probs=None,
               validate_args=False,
               allow_nan_stats=True,
               name="ExpRelaxedGumbelSoftmax"):
    """Builds the distribution.

    Args:
      temperature: positive float Tensor (or Variable, or DeferredTensor) whose
        shape broadcasts with `logits[..., 0]`.
      logits: float Tensor `[..., K]` of unnormalized log-probabilities; -inf
        marks an impossible class (see "Impossible classes"). Python numbers
        are converted to the dtype (as in TFP).
      probs: float Tensor `[..., K]` of probabilities (on the simplex); 0
        marks an impossible class. Exactly one of `logits` and `probs`.
      validate_args: check parameter values (and sample values in `log_prob`).
      allow_nan_stats: TFP's convention for undefined statistics.
      name: name scope of the ops.

    Raises:
      ValueError: both or neither of `logits`/`probs`; a scalar `logits`, or
        one with no class.
      TypeError: an integer Tensor as a parameter (Python integers are
        converted, as in TFP), or parameters of different dtypes.
      InvalidArgumentError: under `validate_args`, a bad parameter value or
        `log_prob` argument; the message contains TFP's text for the same
        check.
    """
    parameters = dict(locals())
    super().__init__(temperature, logits, probs, validate_args,
                     allow_nan_stats, parameters, name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return categorical_parameter_properties(dtype)

  def _logits_parameter_no_checks(self):
    if self._logits is None:
      # A zero probability is an impossible class, logit -inf.
      return _params.safe_log(tf.convert_to_tensor(self._probs))
    return tf.convert_to_tensor(self._logits)

  def _probs_parameter_no_checks(self):
    if self._logits is None:
      return tf.convert_to_tensor(self._probs)
    return tf.math.softmax(self._logits)

  def _num_classes(self):
    return (self._logits if self._logits is not None else self._probs).shape[-1]

  def _event_shape(self):
    return tf.TensorShape([self._num_classes()])

  def _event_shape_tensor(self):
    param = self._logits if self._logits is not None else self._probs
    return tf.shape(param)[-1:]

  def _sample_computed(self, n, seed=None, on_simplex=False):
    # `on_simplex=True` is for tfg.GumbelSoftmax: the exp of the sample, as
    # softmax(z) in one op instead of exp(log_softmax(z)) in two (half the
    # time at 100 x 10^5 in eager mode and tf.function: 12 vs 28 ms).
    temperature, logits = self._compute_parameters()
    temperature = tf.expand_dims(temperature, -1)
    dtype = logits.dtype
    possible = _params.possible_or_none(logits)
    gumbel = _noise.gumbel(
        _params.sample_shape(n, logits, temperature), seed, dtype)
    # The impossible classes are scored 0, then -inf after the division:
    # (-inf + g) / t is the right score but its gradient with respect to t
    # is -inf * 0 = NaN.
    return _kernels.tempered_softmax(logits + gumbel, temperature, possible,
                                     log=not on_simplex)

  def _log_prob_computed(self, y):
    temperature, logits = self._compute_parameters()
    y = tf.cast(y, logits.dtype)
    possible = _params.possible_or_none(logits)
    if possible is not None:
      return self._masked_log_prob(y, temperature, logits, possible)
    y = self._unround(y)
    # A log-coordinate of -inf on a possible class (a sample of a distribution
    # that forbids it) is off the support: -inf, read at 0 so that no
    # `0 * inf` or `inf - inf` reaches the value or the gradient.
    off_support = tf.math.equal(y, tf.constant(-np.inf, y.dtype))
    y = tf.where(off_support, tf.zeros([], y.dtype), y)
    # K as a Python number when static: eagerly, slicing a shape tensor (and
    # `t[..., None]`) cost more than the rest of a small log_prob.
    num_classes = logits.shape[-1]
    if num_classes is None:
      num_classes = tf.cast(tf.shape(logits)[-1], logits.dtype)
      log_normalizer = tf.math.lgamma(num_classes)
    else:
      log_normalizer = math.lgamma(num_classes)
    # sum_k z_k - K logsumexp(z) = sum_k log_softmax(z)_k: one stable op, and
    # independent of the normalization of `logits` and of a shift of `y`.
    z = logits - tf.expand_dims(temperature, -1) * y
    log_prob = (log_normalizer
                + (num_classes - 1.) * tf.math.log(temperature)
                + tf.reduce_sum(tf.math.log_softmax(z), axis=-1))
    return tf.where(tf.reduce_any(off_support, axis=-1),
                    tf.constant(-np.inf, log_prob.dtype), log_prob)

  def _unround(self, y):
    """Log-coordinates that overflowed to -inf when rounded to float16 or
    bfloat16 (below -65504 in float16: routine at t = 0.01 and |logits| ~
    1e3), read at the lowest finite value of the type, as GumbelSoftmax
    reads an underflowed coordinate at the smallest normal float: what lay
    beyond was lost in the rounding. (float32 and float64 samples never
    reach -inf for finite parameters; no op there.)"""
    if _params.compute_dtype(self.dtype) == self.dtype:
      return y
    return tf.maximum(y, tf.constant(float(_params.finfo(self.dtype).min),
                                     y.dtype))

  def _masked_log_prob(self, y, temperature, logits, possible):
    """The density of the K'-class family at the possible coordinates of `y`.

    K' (the number of possible classes) may differ between batch members. A
    point with mass on an impossible class (`y_k > -inf` there) is outside
    the support: -inf. For K' = 1 the law is a point mass and the value is
    0 (see the class docstring). Impossible coordinates are replaced by 0
    before any arithmetic, so neither `-inf - t * (-inf)` nor `0 * inf`
    reaches the value or the gradient.
    """
    dtype = logits.dtype
    zero = tf.zeros([], dtype)
    neg_inf = tf.constant(-np.inf, dtype)
    num_possible = tf.reduce_sum(tf.cast(possible, dtype), axis=-1)
    y_possible = self._unround(y)
    # On the face of the possible classes: finite on them, -inf elsewhere.
    finite = possible & tf.math.greater(y_possible, neg_inf)
    on_face = tf.reduce_all(
        tf.where(possible, finite, tf.math.equal(y, neg_inf)), axis=-1)
    z = (tf.where(possible, logits, zero)
         - tf.expand_dims(temperature, -1) * tf.where(finite, y_possible, zero)
         + _params.impossible_bias(possible, dtype))
    log_prob = (tf.math.lgamma(num_possible)
                + (num_possible - 1.) * tf.math.log(temperature)
                + tf.reduce_sum(
                    tf.where(possible, tf.math.log_softmax(z), zero), axis=-1))
    log_prob = tf.where(on_face, log_prob, neg_inf)
    # No possible class: no distribution (TFP's allow_nan_stats: NaN).
    return tf.where(num_possible > 0., log_prob,
                    tf.constant(np.nan, dtype))

  def _mean(self, **kwargs):
    raise NotImplementedError(
        "mean is not implemented: the ExpRelaxed Gumbel-Softmax has no "
        "closed-form mean (estimate it from samples).")

  def _mode(self, **kwargs):
    raise NotImplementedError(
        "mode is not implemented: the ExpRelaxed Gumbel-Softmax has no "
        "closed-form mode.")

  def _entropy(self, **kwargs):
    raise NotImplementedError(
        "entropy is not implemented: the ExpRelaxed Gumbel-Softmax has no "
        "closed-form entropy (estimate it from samples).")

  def _default_event_space_bijector(self):
    # R^(K-1) -> open simplex -> log-simplex.
    return tfb.Chain([tfb.Log(validate_args=self.validate_args),
                      tfb.SoftmaxCentered(validate_args=self.validate_args)],
                     validate_args=self.validate_args)

  def _sample_control_dependencies(self, y):
    """Under `validate_args`: `y` must lie on the log-simplex, with K classes."""
    if not self.validate_args:
      return []
    y = tf.convert_to_tensor(y)
    return _params.event_size_assertions(
        y, self._num_classes(), self._event_shape_tensor()[0]) + [
        tf.debugging.assert_non_positive(
            y, message=_params.TFP_SAMPLE_RANGE + " (`x` must lie on the "
                       "log-simplex: found a positive coordinate.)"),
        tf.debugging.assert_less_equal(
            tf.abs(tf.reduce_logsumexp(y, axis=-1)),
            tf.constant(_params.simplex_tolerance(
                y.dtype, y.shape[-1] or 2**20), y.dtype),
            message=_params.TFP_SAMPLE_SUM + " (`x` must lie on the "
                    "log-simplex: logsumexp(x, axis=-1) must be 0 for "
                    "ExpRelaxedGumbelSoftmax.)")]
