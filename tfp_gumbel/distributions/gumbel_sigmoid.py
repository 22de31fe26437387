"""The Gumbel-Sigmoid (binary Concrete) distribution on the unit interval."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel._kernels import binary
from tfp_gumbel._kernels import masking
from tfp_gumbel._kernels import noise
from tfp_gumbel.distributions import _base
from tfp_gumbel.distributions import _pushforward

tfb = tfp.bijectors

__all__ = ["GumbelSigmoid", "LogitGumbelSigmoid"]


def _logistic_sample(temperature, logits, n, seed):
  """`n` log-odds `(logits + l) / t`, l standard Logistic (the atom at
  log-odds +-inf)."""
  perturbed = logits + noise.logistic(
      tf_xp, tf_xp.sample_shape(n, logits, temperature), seed, logits.dtype)
  return binary.relaxed_log_odds(
      tf_xp, perturbed, temperature,
      binary.degenerate_or_none(tf_xp, logits))


class _DistributionFunctions:
  """cdf, log_cdf, survival_function, log_survival_function through the
  class's `_distribution_function(kind, x)`."""

  def _cdf(self, x):
    return self._distribution_function("cdf", x)

  def _log_cdf(self, x):
    return self._distribution_function("log_cdf", x)

  def _survival_function(self, x):
    return self._distribution_function("survival_function", x)

  def _log_survival_function(self, x):
    return self._distribution_function("log_survival_function", x)


class _Sigmoid(tfb.Sigmoid):
  """`tfb.Sigmoid` whose forward pass has a finite gradient everywhere.

  TFP's forward is `where(x < -9, exp(x), sigmoid(x))`: once `exp(x)`
  overflows (log-odds above 88, routine at small temperatures) the unselected
  branch makes the gradient `0 * inf = NaN`. TensorFlow's own `sigmoid` is
  accurate in the lower tail too (within 5e-7 relative down to the smallest
  normal float, measured eagerly and under XLA), and its gradient
  `y (1 - y)` is finite everywhere; it is also the fastest form (one exp;
  benchmarks/results/design_figures.md, "Sigmoid"). The log-det-Jacobian is
  `log_sigmoid_pair`; the inverse and its log-det-Jacobian are TFP's (see
  `GumbelSigmoid._inverse_and_ildj` for the form used in `log_prob`).
  """

  def _forward(self, x):
    return tf.math.sigmoid(x)

  def _forward_log_det_jacobian(self, x):
    return binary.log_sigmoid_pair(tf_xp, x)


class LogitGumbelSigmoid(_DistributionFunctions, _base.LogitsOrProbs):
  r"""Log-odds of a Gumbel-Sigmoid sample: `Logistic(logits / t, 1 / t)`.

  The base distribution of `tfg.GumbelSigmoid`, in the space where the density
  never underflows (the binary counterpart of `ExpRelaxedGumbelSoftmax`). It is
  `tfd.Logistic(logits / t, 1 / t)` written in terms of `(temperature, logits)`
  so that both stay references: `tfd.Logistic` would need `logits / t` computed
  once, at construction, which freezes Variables.

  As `temperature -> 0` the sample `y` goes to `+-inf` with `P(y > 0) =
  sigmoid(logits)` (at *every* temperature); as `temperature -> inf`,
  `y -> 0`.

  #### Mathematical details

  With `l` a standard Logistic variable, `t` the temperature and
  `u = t y - logits`:

  ```none
  y = (logits + l) / t
  log p(y) = log t - softplus(u) - softplus(-u)
  cdf(y) = sigmoid(u),    survival(y) = sigmoid(-u)
  ```

  `-softplus(u) - softplus(-u) = u - 2 softplus(u)` is the Logistic
  log-density `-u - 2 log(1 + exp(-u))` written so that nothing overflows and
  nothing cancels, whatever the sign and size of `u` (`log_sigmoid_pair`).

  #### Examples

  ```python
  d = LogitGumbelSigmoid(temperature=0.5, logits=[-1., 0., 3.])
  y, lp = d.experimental_sample_and_log_prob(10, seed=(1, 2))
  tf.sigmoid(y)                      # GumbelSigmoid samples
  ```

  #### References

  [1] Chris J. Maddison, Andriy Mnih, Yee Whye Teh. The Concrete Distribution:
      A Continuous Relaxation of Discrete Random Variables. ICLR 2017.
  """

  _EVENT_NDIMS = 0
  _FAMILY = "the log-odds Gumbel-Sigmoid"

  def __init__(self,
               temperature,
               logits=None,
               probs=None,
               validate_args=False,
               allow_nan_stats=True,
               name="LogitGumbelSigmoid"):
    """Builds the distribution; arguments as `tfg.GumbelSigmoid`."""
    parameters = dict(locals())
    super().__init__(temperature, dict(logits=logits, probs=probs),
                     validate_args, allow_nan_stats, parameters, name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return cls._event_parameter_properties(dtype)

  def _sample_computed(self, n, seed):
    return _logistic_sample(self._computed_temperature(),
                            self._computed_logits(), n, seed)

  def _log_prob_computed(self, y):
    return binary.log_prob(tf_xp, self._computed_temperature(),
                           self._computed_logits(), y)

  def _distribution_function(self, kind, y):
    return self._rounded(binary.distribution_function(
        tf_xp, kind, self._computed_temperature(), self._computed_logits(),
        self._computed(y)))

  def _default_event_space_bijector(self):
    return tfb.Identity(validate_args=self.validate_args)


class GumbelSigmoid(_DistributionFunctions, _pushforward.Pushforward):
  r"""Gumbel-Sigmoid (binary Concrete) distribution: a relaxed Bernoulli.

  Samples lie in the unit interval and approach 0 or 1 as `temperature -> 0`,
  with `P(x > 1/2) = sigmoid(logits)` at *every* temperature (thresholding a
  sample at 1/2 gives an exact `Bernoulli(logits)` draw); as
  `temperature -> inf` they approach 1/2. Sampling is reparameterized, so
  gradients reach `logits`/`probs` and `temperature` through `sample()` as well
  as through `log_prob()`.

  #### Mathematical details

  `GumbelSigmoid = sigmoid(LogitGumbelSigmoid)`: the Logistic(logits / t, 1 / t)
  log-odds pushed through `tfb.Sigmoid` (with a forward pass whose gradient
  stays finite past log-odds 88, where TFP's is NaN), so that, with `l`
  standard Logistic (the difference of two standard Gumbels) and
  `alpha = exp(logits)`,

  ```none
  x = sigmoid((logits + l) / t)
  p(x) = t alpha x^(-t-1) (1 - x)^(-t-1) / (alpha x^(-t) + (1 - x)^(-t))^2
  cdf(x) = sigmoid(t logit(x) - logits)
  ```

  which is Maddison et al.'s binary Concrete density. No density is written
  here: the log-prob is the base one (in log-odds space, where it never
  underflows) plus the bijector's inverse log-det-Jacobian
  `-log x - log(1 - x)`.

  #### Numerics

  A float32 sample is rounded to exactly 1 once its log-odds exceed ~16.6
  (1 - x is below half an ulp of 1) and to exactly 0 once they are below
  ~-87.3 (TensorFlow flushes subnormals to zero on CPU), which at small
  temperatures is most samples. `log_prob` evaluates a sample
  outside `[tiny, 1 - eps / 2]` (the smallest normal float and the largest float
  below 1) at that boundary instead of at `logit = +-inf`: what lay beyond it
  was lost when the sample was rounded, and the result stays finite, with
  finite gradients, where `tfd.RelaxedBernoulli` returns inf or NaN. For the
  log-prob of the exact draw, use `experimental_sample_and_log_prob`, which
  evaluates the density at the log-odds sample, or model
  `LogitGumbelSigmoid`. `cdf`, `log_cdf` and `survival_function` need no
  boundary: they are 0 / -inf / 1 at `x = 0`, as they should be.

  #### Examples

  ```python
  import tfp_gumbel as tfg
  t = tf.Variable(0.5)                       # learned temperature
  d = tfg.GumbelSigmoid(t, logits=[-2., 0., 2.])
  x = d.sample(100, seed=(1, 2))             # [100, 3], in [0, 1]
  loss = -tf.reduce_mean(d.log_prob(x))      # gradients reach t and logits
  tf.cast(x > 0.5, tf.float32)               # exactly Bernoulli(logits)
  ```

  #### References

  [1] Chris J. Maddison, Andriy Mnih, Yee Whye Teh. The Concrete Distribution:
      A Continuous Relaxation of Discrete Random Variables. ICLR 2017.
  [2] Eric Jang, Shixiang Gu, Ben Poole. Categorical Reparameterization with
      Gumbel-Softmax. ICLR 2017.
  """

  _EVENT_NDIMS = 0
  _FAMILY = "the Gumbel-Sigmoid"
  _BASE = LogitGumbelSigmoid
  _BIJECTOR = _Sigmoid

  def __init__(self,
               temperature,
               logits=None,
               probs=None,
               validate_args=False,
               allow_nan_stats=True,
               name="GumbelSigmoid"):
    """Builds the distribution.

    Args:
      temperature: positive float Tensor (or Variable, or DeferredTensor) whose
        shape broadcasts with `logits`.
      logits: float Tensor of log-odds, `log P(x > 1/2) - log P(x < 1/2)`;
        -inf and +inf are probs 0 and 1 (see "probs 0 and 1"). Python
        numbers are converted to the dtype (as in TFP).
      probs: float Tensor of `P(x > 1/2)`, in [0, 1]. Exactly one of `logits`
        and `probs`.
      validate_args: check parameter values (and sample values in `log_prob`).
      allow_nan_stats: TFP's convention for undefined statistics.
      name: name scope of the ops.

    Raises:
      ValueError: both or neither of `logits`/`probs` (TFP's
        `RelaxedBernoulli` does not check this; its categorical classes do,
        and our message contains their text).
      TypeError: an integer Tensor as a parameter (Python integers are
        converted, as in TFP), or parameters of different dtypes.
      InvalidArgumentError: under `validate_args`, a bad parameter value or
        `log_prob` argument; the message contains TFP's text for the same
        check.
    """
    parameters = dict(locals())
    super().__init__(temperature, dict(logits=logits, probs=probs),
                     validate_args, allow_nan_stats, parameters, name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return cls._event_parameter_properties(dtype)

  def _base_sample(self, n, seed):
    return _logistic_sample(self._computed_temperature(),
                            self._computed_logits(), n, seed)

  def _base_log_prob(self, y):
    return binary.log_prob(tf_xp, self._computed_temperature(),
                           self._computed_logits(), y)

  def _forward(self, y):
    return tf.math.sigmoid(y)

  def _inverse_and_ildj(self, x):
    # Samples rounded to 0 or 1 are read at the last representable point
    # before the boundary (see "Numerics" above); clipping also gives them a
    # zero, not NaN, gradient with respect to x.
    # (Two elementwise ops: tf.clip_by_value adds shape checks that cost more
    # than both in eager mode.)
    below_one = 1. - float(tf_xp.finfo(self.dtype).epsneg)
    clamped = tf.math.minimum(tf.math.maximum(x, tf_xp.finfo(self.dtype).tiny),
                              tf.constant(below_one, x.dtype))
    # logit(x) and -log(x) - log1p(-x) from the same two logs. TFP derives the
    # latter from the forward log-det-Jacobian at logit(x), two more softplus
    # calls for the same value (a sum of same-sign terms: nothing cancels).
    log_x, log1m_x = tf.math.log(clamped), tf.math.log1p(-clamped)
    y, ildj = log_x - log1m_x, -log_x - log1m_x
    degenerate = binary.degenerate_or_none(
        tf_xp, self._logits_parameter_no_checks())
    if degenerate is None:
      return y, ildj
    # probs 0 or 1: not clamped, the atom is x = 0 or 1 itself (y = -inf or
    # +inf), and the Jacobian is no part of a Dirac density.
    return (tf.where(degenerate, masking.log_odds(tf_xp, x), y),
            tf.where(degenerate, tf.zeros([], x.dtype), ildj))

  def _fldj(self, y):
    # log sigmoid(y) + log sigmoid(-y); 0 at an atom y = +-inf (see above).
    return tf.where(tf.math.is_inf(y), tf.zeros([], y.dtype),
                    binary.log_sigmoid_pair(tf_xp, y))

  # The distribution functions need no clamp (they are 0 / -inf / 1 at
  # x = 0, as they should be), but TFP's inverse of the sigmoid would give
  # them a NaN gradient at x = 0 or 1: `_logit` instead.
  def _distribution_function(self, kind, x):
    return self._rounded(binary.distribution_function(
        tf_xp, kind, self._computed_temperature(), self._computed_logits(),
        masking.log_odds(tf_xp, self._computed(x))))

  def _default_event_space_bijector(self):
    return _Sigmoid(validate_args=self.validate_args)

  def _sample_control_dependencies(self, x):
    """Under `validate_args`: `x` must lie in [0, 1]."""
    if not self.validate_args:
      return []
    x = tf.convert_to_tensor(x)
    return [
        tf.debugging.assert_non_negative(
            x, message="Sample must be non-negative. (`x` must lie in "
                       "[0, 1]: found a negative value.)"),
        tf.debugging.assert_less_equal(
            x, tf.ones([], x.dtype),
            message="Sample must be less than or equal to `1`. (`x` must "
                    "lie in [0, 1]: found a value above 1.)"),
    ]
