"""The Gumbel-Softmax (Concrete) distribution on the probability simplex."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_gumbel.distributions import _assertions
from tfp_gumbel._kernels import masking
from tfp_gumbel.distributions import _pushforward
from tfp_gumbel.distributions import _simplex_bijector
from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel._kernels import categorical
from tfp_gumbel.distributions import exp_relaxed_gumbel_softmax as exp_relaxed

tfb = tfp.bijectors

__all__ = ["GumbelSoftmax"]


class GumbelSoftmax(_pushforward.Pushforward):
  r"""Gumbel-Softmax (Concrete) distribution: a relaxed one-hot categorical.

  Samples are points on the probability simplex that approach one-hot vectors
  as `temperature -> 0` (with `argmax` distributed as `Categorical(logits)` at
  every temperature) and approach the uniform vector `1 / K` as
  `temperature -> inf`. Sampling is reparameterized, so gradients reach
  `logits`/`probs` and `temperature` through `sample()` as well as through
  `log_prob()`.

  #### Mathematical details

  `GumbelSoftmax = exp(ExpRelaxedGumbelSoftmax)`: the log-space distribution
  pushed through `tfb.Exp`, so that

  ```none
  x = softmax((logits + g) / t),   g_k ~ Gumbel(0, 1) i.i.d.
  log p(x) = ExpRelaxed.log_prob(log x) - sum_k log x_k
           = lgamma(K) + (K - 1) log t + sum_k (log pi_k - (t + 1) log x_k)
             - K logsumexp_k (log pi_k - t log x_k)
  ```

  which is Maddison et al.'s Concrete density (w.r.t. Lebesgue measure on the
  first K - 1 coordinates). No density is written here: the log-prob is the
  ExpRelaxed one plus the bijector's inverse log-det-Jacobian.

  #### Numerics

  A float32 sample can hold coordinates that underflowed to exactly 0 (at
  t = 0.01 most samples do). `log_prob` evaluates such coordinates at the
  smallest normal float (1.2e-38 in float32, log = -87.3) instead of at
  log(0) = -inf: the information below that value was lost when the sample was
  rounded, and the result stays finite with finite gradients, where
  `tfd.RelaxedOneHotCategorical` returns inf or NaN. For the log-prob of the
  exact draw, use `experimental_sample_and_log_prob`, which evaluates the
  density at the log-space sample, or model `ExpRelaxedGumbelSoftmax`.

  #### Impossible classes

  `logits = -inf` (`probs = 0`) removes a class from the event: samples are
  exactly 0 there, argmax never picks it, and `log_prob` is the density of
  the Concrete law over the K' possible classes on their face of the simplex
  (the push-forward of the K'-class `ExpRelaxedGumbelSoftmax`; its
  Jacobian leaves out the impossible coordinates, which are not clamped).
  A point with mass on an impossible class has `log_prob = -inf`; K' = 1 is
  a point mass with `log_prob = 0` at its vertex. A finite logit of -1e9 is
  an unlikely but possible class; -inf forbids it. See
  `tfg.ExpRelaxedGumbelSoftmax` for the details.

  #### Examples

  ```python
  import tfp_gumbel as tfg
  t = tf.Variable(0.5)                       # learned temperature
  d = tfg.GumbelSoftmax(t, logits=[[0., 1., 2.], [2., 1., 0.]])
  x = d.sample(100, seed=(1, 2))             # [100, 2, 3], rows sum to 1
  loss = -tf.reduce_mean(d.log_prob(x))      # gradients reach t and logits
  d[1:]                                      # batch slicing, as in TFP
  masked = tfg.GumbelSoftmax(0.5, logits=[[-np.inf, 0., 1.], [0., 1., 2.]])
  x = masked.sample(4, seed=(1, 2))          # x[:, 0, 0] == 0 exactly
  masked.log_prob(x)                         # finite
  ```

  #### References

  [1] Eric Jang, Shixiang Gu, Ben Poole. Categorical Reparameterization with
      Gumbel-Softmax. ICLR 2017.
  [2] Chris J. Maddison, Andriy Mnih, Yee Whye Teh. The Concrete Distribution:
      A Continuous Relaxation of Discrete Random Variables. ICLR 2017.
  """

  _EVENT_NDIMS = 1
  _FAMILY = "the Gumbel-Softmax"
  _NOT_IMPLEMENTED = {"mode": "has no closed-form mode."}
  _BASE = exp_relaxed.ExpRelaxedGumbelSoftmax
  _BIJECTOR = tfb.Exp

  def __init__(self,
               temperature,
               logits=None,
               probs=None,
               validate_args=False,
               allow_nan_stats=True,
               name="GumbelSoftmax"):
    """Builds the distribution; arguments as `tfg.ExpRelaxedGumbelSoftmax`."""
    parameters = dict(locals())
    super().__init__(temperature, dict(logits=logits, probs=probs),
                     validate_args, allow_nan_stats, parameters, name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return cls._event_parameter_properties(dtype)

  def _base_sample(self, n, seed):
    return categorical.gumbel_softmax_sample(
        tf_xp, self._computed_logits(), self._computed_temperature(), n, seed,
        log=True)

  def _sample_computed(self, n, seed):
    # exp(log_softmax(z)) = softmax(z), computed as such: one op instead of
    # two over the N x K sample (benchmarks/results/design_figures.md,
    # "GumbelSoftmax").
    return categorical.gumbel_softmax_sample(
        tf_xp, self._computed_logits(), self._computed_temperature(), n, seed)

  def _base_log_prob(self, y):
    logits = self._computed_logits()
    return categorical.log_simplex_log_prob(
        tf_xp, y, logits, self._computed_batch_temperature(),
        masking.possible_or_none(tf_xp, logits))

  def _forward(self, y):
    return tf.exp(y)

  def _inverse_and_ildj(self, x):
    # Coordinates that underflowed to 0 are read as the smallest normal float
    # (see "Numerics" above); tf.maximum also gives them a zero, not NaN,
    # gradient with respect to x. An impossible class is not clamped: its
    # coordinate is exactly 0 on the support, log 0 = -inf, which the base
    # reads as "on the face", and anything else is off the support.
    possible = masking.possible_or_none(tf_xp, self._logits_parameter_no_checks())
    clamped = tf.maximum(x, tf.constant(tf_xp.finfo(self.dtype).tiny, x.dtype))
    if possible is None:
      # log(x), and minus its sum: TFP's Exp writes the latter as
      # (0 - 1) * log(x), an extra N x K pass, which XLA does not remove
      # (benchmarks/results/design_figures.md, "GumbelSoftmax").
      y = tf.math.log(clamped)
      return y, -tf.reduce_sum(y, axis=-1)
    # safe_log: at an impossible class x is usually exactly 0, where the
    # derivative of log is inf and would meet a zero upstream gradient.
    y = masking.safe_log(tf_xp, tf.where(possible, clamped, x))
    return y, -self._fldj(y)

  def _fldj(self, y):
    # Exp's log-det-Jacobian on the face of the possible classes: the sum of
    # y over the coordinates that are not -inf (-inf only at an impossible
    # class on the support).
    return tf.reduce_sum(
        tf.where(tf.math.equal(y, tf.constant(-np.inf, y.dtype)),
                 tf.zeros([], y.dtype), y), axis=-1)

  def _default_event_space_bijector(self):
    return _simplex_bijector.simplex_bijector(self.validate_args)

  def _sample_control_dependencies(self, x):
    """Under `validate_args`: `x` must lie on the simplex, with K classes."""
    if not self.validate_args:
      return []
    x = tf.convert_to_tensor(x)
    # TFP checks log(x) <= 0, which fails for a negative coordinate (NaN) and
    # one above 1: the same text for both.
    return _assertions.event_size_assertions(
        x, self._num_classes(), self._event_shape_tensor()[0]) + [
            tf.debugging.assert_non_negative(
                x, message=_assertions.TFP_SAMPLE_RANGE + " (`x` must lie on the "
                           "simplex: found a negative coordinate.)"),
            tf.debugging.assert_less_equal(
                x, tf.ones([], x.dtype),
                message=_assertions.TFP_SAMPLE_RANGE + " (`x` must lie on the "
                        "simplex: found a coordinate above 1.)"),
            tf.debugging.assert_less_equal(
                tf.abs(tf.reduce_sum(x, axis=-1) - 1.),
                tf.constant(_assertions.simplex_tolerance(
                    x.dtype, x.shape[-1] or 2**20), x.dtype),
                message=_assertions.TFP_SAMPLE_SUM + " (`x` must lie on the "
                        "simplex: its coordinates must sum to 1 along the "
                        "last axis.)")]
