"""The Gumbel-Sinkhorn distribution over doubly-stochastic (relaxed permutation) matrices."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_gumbel._kernels import masking
from tfp_gumbel._kernels import noise
from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel._kernels import categorical
from tfp_gumbel._kernels import sinkhorn
from tfp_gumbel.distributions import _base

tfb = tfp.bijectors
tfd = tfp.distributions

__all__ = ["GumbelSinkhorn", "log_sinkhorn"]


def log_sinkhorn(x, num_iters=None, tolerance=None,
                 max_iters=sinkhorn.MAX_ITERS):
  """Sinkhorn normalization of `exp(x)` in log space: a doubly-stochastic log-matrix.

  `tfg.estimators.solve_sinkhorn(x, ...).log_p` (which documents the
  solver and its arguments), kept here where users have imported it: the
  path of `GumbelSinkhorn`, which warns eagerly (`SinkhornWarning`) where a
  solve stopped at `max_iters` before its tolerance.

  Args:
    x: float Tensor `[..., N, N]`.
    num_iters: `None`, or a positive Python int: a fixed number of rounds.
    tolerance: `None` (the dtype's default) or a float in (0, 1).
    max_iters: positive Python int, the cap on Newton steps.

  Returns:
    Tensor of the shape and dtype of `x`.

  Raises:
    ValueError: `num_iters`, `tolerance` or `max_iters` out of range.
  """
  x = tf.convert_to_tensor(x, dtype_hint=tf.float32, name="x")
  return sinkhorn.log_sinkhorn(
      tf_xp, x, sinkhorn.SinkhornOptions(num_iters, tolerance, max_iters))


class GumbelSinkhorn(_base.Relaxation):
  r"""Gumbel-Sinkhorn distribution: relaxed permutation matrices.

  A sample is a doubly-stochastic `N x N` matrix (non-negative, rows and
  columns summing to 1), the continuous relaxation of a random permutation
  matrix of Mena et al. (2018): the Sinkhorn normalization of the
  Gumbel-perturbed, temperature-scaled `logits`. Entry `(i, j)` is the
  relaxed indicator that item `i` goes to position `j`.

  As `temperature -> 0` a sample tends to the permutation matrix of the
  maximum-weight matching of `logits + G` (`tfg.estimators.matching`); as
  `temperature -> inf` it tends to the uniform matrix with entries `1 / N`.
  Unlike the Gumbel-max trick, the law of that matching has no closed form
  for general `logits` (it is not `softmax`-like), and the distribution has
  no tractable density: `log_prob`, `mean`, `mode` and `entropy` raise
  `NotImplementedError`.

  #### Mathematical details

  With `G` an `N x N` matrix of i.i.d. standard Gumbel variables, `t` the
  temperature and `S` the Sinkhorn operator (the unique doubly-stochastic
  scaling `diag(u) A diag(v)` of a positive matrix `A`, Sinkhorn 1964):

  ```none
  sample = S(exp((logits + G) / t))
  ```

  By default the scaling is solved to a tolerance (`log_sinkhorn` in this
  module: Newton's method on the dual with epsilon scaling, and an implicit
  gradient): every sample is doubly stochastic, columns to
  rounding, rows within `tolerance` (1e-5 in float32, 1e-10 in float64) or
  the float's resolution of `(logits + G) / t` where that is coarser (about
  `4 * eps * max |(logits + G) / t|`). Measured on `N = 5` logits `3 x`
  standard normal, 400 draws per cell (benchmarks/sinkhorn_convergence.py),
  max |row sum - 1| with 20 fixed rounds and to tolerance, and the Newton
  steps the batch took:

  ```none
  float32       t = 10    t = 1     t = 0.3   t = 0.1   t = 0.01  t = 1e-3
  20 rounds     1.8e-7    0.029     0.12      1.0       2.0       2.0
  to tolerance  9.9e-6    9.9e-6    2.5e-5    8.2e-5    5.1e-4    2.6e-3
  Newton steps  4         7         13        14        17        18
  float64, to tolerance: at most 1e-10 at every t, in 5 to 22 steps.
  ```

  The solver costs a few times the 20 fixed rounds per sample and its
  gradient, and its backward pass keeps one `N x N` matrix per sample
  instead of every round's; under XLA on CPU it is slower than in
  `tf.function`, where fixed rounds are faster (timings and memory:
  benchmarks/results/sinkhorn_convergence.md). A solve stopped by
  `max_iters` before its tolerance warns eagerly (`SinkhornWarning`); see
  `tfg.estimators.solve_sinkhorn` for the solver with its report.

  `num_iters=L` gives instead exactly `L` rounds of row-then-column
  normalization, as in Mena et al. (2018), differentiated through the loop:
  columns sum to 1, rows only within `L` rounds' convergence error, which
  at small `t` falls like `2 / L` (nearly tied matchings).

  The hard assignment: every Sinkhorn step adds a constant to a row or a
  column of `log p`, which changes the score of every permutation by the
  same amount, so `matching(log(sample))` is exactly the matching of
  `logits + G` at every temperature (as long as no entry of the sample
  underflowed to 0).

  #### Examples

  ```python
  import tfp_gumbel as tfg
  logits = tf.random.stateless_normal([5, 5], seed=(1, 2))
  d = tfg.GumbelSinkhorn(temperature=0.5, logits=logits)
  p = d.sample(100, seed=(1, 2))     # [100, 5, 5], doubly stochastic to 1e-5
  hard = tfg.estimators.matching(tf.math.log(p))  # matchings of logits + G
  ```

  #### References

  [1] Gonzalo Mena, David Belanger, Scott Linderman, Jasper Snoek. Learning
      Latent Permutations with Gumbel-Sinkhorn Networks. ICLR 2018.
  [2] Richard Sinkhorn. A Relationship Between Arbitrary Positive Matrices
      and Doubly Stochastic Matrices. Ann. Math. Statist. 1964.
  """

  _EVENT_NDIMS = 2
  _PARAMETERS = ("logits",)
  _FAMILY = "the Gumbel-Sinkhorn distribution"
  _NOT_IMPLEMENTED = {
      "log_prob": "has no tractable density (Mena et al. 2018); use it "
                  "through `sample`.",
      "mode": "has no closed-form mode (tfg.estimators.matching(logits) is "
              "the hard assignment the samples concentrate on as t -> 0).",
      "entropy": "has no tractable density.",
  }

  def __init__(self,
               temperature,
               logits,
               num_iters=None,
               validate_args=False,
               allow_nan_stats=True,
               name="GumbelSinkhorn",
               *,
               tolerance=None,
               max_iters=sinkhorn.MAX_ITERS):
    """Builds the distribution.

    Args:
      temperature: positive float Tensor (or Variable, or DeferredTensor) whose
        shape broadcasts with `logits[..., 0, 0]`.
      logits: float Tensor `[..., N, N]`; entry `(i, j)` scores item `i` at
        position `j`. `-inf` forbids that assignment.
      num_iters: `None` (default: Sinkhorn solved to `tolerance`) or a
        positive Python int, a fixed number of rounds (one row and one
        column normalization each), as in Mena et al.
      validate_args: check parameter values.
      allow_nan_stats: TFP's convention for undefined statistics.
      name: name scope of the ops.
      tolerance: `None` (1e-5 in float32, 1e-10 in float64) or a float in
        (0, 1): the largest |row sum - 1| of a sample.
      max_iters: positive Python int, the cap on Newton steps (the most
        measured was 54: benchmarks/results/sinkhorn_convergence.md).

    Raises:
      ValueError: `logits` missing, of rank below 2 or not square;
        `num_iters` or `max_iters` not a positive integer, `tolerance` not
        in (0, 1).
      TypeError: integer or mismatched dtypes.
    """
    parameters = dict(locals())
    if logits is None:
      raise ValueError("`logits` must be given (a `[..., N, N]` Tensor).")
    self._options = sinkhorn.SinkhornOptions(num_iters, tolerance, max_iters)
    super().__init__(temperature, dict(logits=logits), validate_args,
                     allow_nan_stats, parameters, name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return cls._event_parameter_properties(dtype)

  @property
  def logits(self):
    """The `[..., N, N]` logits, as given."""
    return self._logits

  @property
  def num_iters(self):
    """The fixed number of Sinkhorn rounds, or None (solved to `tolerance`)."""
    return self._options.num_iters

  @property
  def tolerance(self):
    """The row-sum tolerance given, or None (the dtype's default)."""
    return self._options.tolerance

  @property
  def max_iters(self):
    """The cap on Newton steps when solving to `tolerance`."""
    return self._options.max_iters

  def _sample_computed(self, n, seed):
    logits = self._computed(tf.convert_to_tensor(self._logits))
    temperature = self._computed_batch_temperature()
    if tf_xp.exceeds_kernel_rank(logits, extra=1):
      # [n, batch, N, N] beyond TF's CPU kernels' rank: one batch axis.
      return self._sample_on_one_batch_axis(
          lambda logits, t: self._sample_flat(n, seed, logits, t), n,
          [logits, temperature], [2, 0])
    return self._sample_flat(n, seed, logits, temperature)

  def _sample_flat(self, n, seed, logits, temperature):
    temperature = self._event_aligned(temperature)
    gumbel = noise.gumbel(tf_xp, tf_xp.sample_shape(n, logits, temperature), seed, logits.dtype)
    # A forbidden assignment (-inf) is scored -inf after the division, so
    # the temperature's gradient is not -inf * 0 = NaN there.
    scores = categorical.tempered(tf_xp, logits + gumbel, temperature,
                                  masking.possible_or_none(tf_xp, logits))
    return tf.exp(sinkhorn.log_sinkhorn(tf_xp, scores, self._options))

  def _static_shape_checks(self, param, name):
    if param.shape.rank is None:
      return
    if param.shape.rank < 2:
      raise ValueError(
          f"`logits` must have rank at least 2 (its last two axes index "
          f"items and positions), got shape {param.shape}.")
    n, m = param.shape[-2], param.shape[-1]
    if n is not None and m is not None and n != m:
      raise ValueError(
          f"`logits` must be square in its last two axes, got shape "
          f"{param.shape}.")

  def _parameter_value_assertions(self, value, name):
    # -inf is allowed (a forbidden assignment); NaN and +inf are not.
    return [
        tf.debugging.assert_equal(
            tf.shape(value)[-1], tf.shape(value)[-2],
            message="`logits` must be square in its last two axes."),
        tf.debugging.assert_equal(
            tf.reduce_any(tf.math.is_nan(value) | (value == np.inf)), False,
            message="`logits` must not contain NaN or +inf."),
    ]
