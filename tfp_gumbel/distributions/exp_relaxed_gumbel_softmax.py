"""The ExpRelaxed Gumbel-Softmax (ExpConcrete) distribution over log-simplex vectors."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfp_gumbel.distributions import _assertions
from tfp_gumbel._kernels import masking
from tfp_gumbel.distributions import _base
from tfp_gumbel.distributions import _simplex_bijector
from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel._kernels import categorical

tfb = tfp.bijectors

__all__ = ["ExpRelaxedGumbelSoftmax"]


class ExpRelaxedGumbelSoftmax(_base.LogitsOrProbs):
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

  _EVENT_NDIMS = 1
  _FAMILY = "the ExpRelaxed Gumbel-Softmax"
  _NOT_IMPLEMENTED = {"mode": "has no closed-form mode."}

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
    super().__init__(temperature, dict(logits=logits, probs=probs),
                     validate_args, allow_nan_stats, parameters, name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return cls._event_parameter_properties(dtype)

  def _sample_computed(self, n, seed):
    return categorical.gumbel_softmax_sample(
        tf_xp, self._computed_logits(), self._computed_temperature(), n, seed,
        log=True)

  def _log_prob_computed(self, y):
    # Log-coordinates that overflowed to -inf when rounded to float16 or
    # bfloat16 (below -65504 in float16: routine at t = 0.01 and |logits| ~
    # 1e3) are read at the lowest finite value of the type, as GumbelSoftmax
    # reads an underflowed coordinate at the smallest normal float: what lay
    # beyond was lost in the rounding. float32 and float64 samples never
    # reach -inf for finite parameters.
    floor = None
    if self._compute_dtype != self.dtype:
      floor = float(tf_xp.finfo(self.dtype).min)
    logits = self._computed_logits()
    return categorical.log_simplex_log_prob(
        tf_xp, y, logits, self._computed_batch_temperature(),
        masking.possible_or_none(tf_xp, logits), floor=floor)

  def _default_event_space_bijector(self):
    # R^(K-1) -> open simplex -> log-simplex.
    simplex = _simplex_bijector.simplex_bijector(self.validate_args)
    return tfb.Chain([tfb.Log(validate_args=self.validate_args), simplex],
                     validate_args=self.validate_args)

  def _sample_control_dependencies(self, y):
    """Under `validate_args`: `y` must lie on the log-simplex, with K classes."""
    if not self.validate_args:
      return []
    y = tf.convert_to_tensor(y)
    return _assertions.event_size_assertions(
        y, self._num_classes(), self._event_shape_tensor()[0]) + [
        tf.debugging.assert_non_positive(
            y, message=_assertions.TFP_SAMPLE_RANGE + " (`x` must lie on the "
                       "log-simplex: found a positive coordinate.)"),
        tf.debugging.assert_less_equal(
            tf.abs(tf.reduce_logsumexp(y, axis=-1)),
            tf.constant(_assertions.simplex_tolerance(
                y.dtype, y.shape[-1] or 2**20), y.dtype),
            message=_assertions.TFP_SAMPLE_SUM + " (`x` must lie on the "
                    "log-simplex: logsumexp(x, axis=-1) must be 0 for "
                    "ExpRelaxedGumbelSoftmax.)")]
