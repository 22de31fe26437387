"""The relaxed Plackett-Luce distribution: NeuralSort of Gumbel-perturbed log-scores."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfp_gumbel._kernels import masking
from tfp_gumbel._kernels import noise
from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel._kernels import sorting
from tfp_gumbel.distributions import _base

tfb = tfp.bijectors
tfd = tfp.distributions

__all__ = ["RelaxedPlackettLuce", "neural_sort"]


# The kernel lives in _kernels.sorting; this name is where users have
# imported it (TensorFlow's, without the namespace argument).
def neural_sort(s, temperature):
  r"""NeuralSort: the unimodal row-stochastic relaxation of `sort(s)`.

  Row `i` (0-based) is a softmax over the items that peaks at the item of
  rank `i` in decreasing order (Grover et al. 2019); items with `s = -inf`
  are ranked last, exactly, with a zero gradient
  (`tfp_gumbel._kernels.sorting.neural_sort` has the math).

  Args:
    s: float Tensor `[..., N]` of real scores.
    temperature: positive float Tensor broadcasting with `s[..., 0]`.

  Returns:
    Tensor `[..., N, N]`: rows are the ranks (0 = largest), columns the items.

  #### Examples

  ```python
  from tfp_gumbel.distributions.relaxed_plackett_luce import neural_sort
  p = neural_sort(tf.constant([0.3, 2.0, -1.0]), temperature=0.1)
  tf.argmax(p, axis=-1)          # [1, 0, 2]: the items in decreasing order
  ```
  """
  s = tf.convert_to_tensor(s)
  temperature = tf.convert_to_tensor(temperature, dtype_hint=s.dtype)
  return sorting.neural_sort(tf_xp, s, temperature)


class RelaxedPlackettLuce(_base.Relaxation):
  r"""Relaxed Plackett-Luce permutations (stochastic NeuralSort).

  A Plackett-Luce permutation of `N` items with positive `scores` ranks them
  by their Gumbel-perturbed log-scores `log(scores) + g` (the Gumbel-max trick,
  as in `tfd.PlackettLuce`). This distribution replaces the hard sort of those
  perturbed log-scores with NeuralSort (Grover et al. 2019): a sample is an
  `[N, N]` row-stochastic, unimodal matrix whose row `i` is a softmax over the
  items that peaks at the item of rank `i` (rank 0 = the first item chosen).

  The row-wise argmax of a sample is exactly the permutation `tfd.PlackettLuce
  (scores)` would draw from the same noise, so it has that law at *every*
  temperature; as `temperature -> 0` the sample itself tends to that
  permutation matrix, and the relaxation is differentiable in `scores` and
  `temperature` (fully reparameterized).

  #### Mathematical details

  With `g_j` i.i.d. standard Gumbel, `t` the temperature and
  `s = log(scores) + g`:

  ```none
  sample[i, j] = softmax_j(((N - 1 - 2 i) s_j - sum_k |s_j - s_k|) / t)
  argmax_j sample[i, :] = the item of rank i     (~ PlackettLuce(scores))
  ```

  There is no tractable density of the relaxed matrix: `log_prob` raises
  `NotImplementedError`. Use `tfd.PlackettLuce(scores).log_prob` for the
  permutation, and `tfg.estimators.plackett_luce_st` for exactly 0/1
  permutation matrices with this relaxation's gradient.

  #### Absent items

  An item with `scores = 0` is absent: Plackett-Luce never draws it before
  a possible item, so it takes the last ranks in every sample, exactly (its
  column is exactly 0 in the first N' rows, N' the number of positive
  scores, and the last rows are exact 0/1, the absent items in the order of
  their index), with a zero gradient; the first N' rows are the relaxation
  of the N' possible items. This is the way to pad or mask items.

  #### Examples

  ```python
  import tfp_gumbel as tfg
  d = tfg.RelaxedPlackettLuce(temperature=0.1, scores=[1., 4., 2.])
  x = d.sample(5, seed=(1, 2))          # [5, 3, 3], rows sum to 1
  perms = tf.argmax(x, axis=-1)         # [5, 3] ~ tfd.PlackettLuce([1., 4., 2.])
  padded = tfg.RelaxedPlackettLuce(0.5, scores=[0., 1., 2., 3.])
  padded.sample(2, seed=(1, 2))[:, 3]   # item 0 ranked last: [1, 0, 0, 0]
  ```

  #### References

  [1] Aditya Grover, Eric Wang, Aaron Zweig, Stefano Ermon. Stochastic
      Optimization of Sorting Networks via Continuous Relaxations. ICLR 2019.
  """

  _EVENT_NDIMS = 1
  _PARAMETERS = ("scores",)
  _FAMILY = "the relaxed Plackett-Luce distribution"
  _NOT_IMPLEMENTED = {
      "log_prob": "(NeuralSort matrix) has no tractable density. Use "
                  "tfd.PlackettLuce(scores).log_prob for the permutation "
                  "itself.",
      "mode": "has no closed-form mode (the most likely *permutation* is "
              "tfd.PlackettLuce(scores).mode()).",
  }

  def __init__(self,
               temperature,
               scores,
               validate_args=False,
               allow_nan_stats=True,
               name="RelaxedPlackettLuce"):
    """Builds the distribution.

    Args:
      temperature: positive float Tensor (or Variable, or DeferredTensor) whose
        shape broadcasts with `scores[..., 0]`.
      scores: non-negative float Tensor `[..., N]`: the Plackett-Luce scores
        of the `N` items, as in `tfd.PlackettLuce`; 0 marks an absent item
        (see "Absent items").
      validate_args: check parameter values.
      allow_nan_stats: TFP's convention for undefined statistics.
      name: name scope of the ops.

    Raises:
      TypeError: integer or mismatched dtypes.
      ValueError: a scalar `scores`, or one with no items.
    """
    parameters = dict(locals())
    super().__init__(temperature, dict(scores=scores), validate_args,
                     allow_nan_stats, parameters, name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    eps = tf_xp.finfo(dtype or tf.float32).eps
    return dict(
        # A sample is [..., N, N]: the temperature drops both event axes.
        temperature=_base.temperature_properties(dtype, event_ndims=2),
        scores=tfp.util.ParameterProperties(
            event_ndims=1,
            default_constraining_bijector_fn=lambda: tfb.Softplus(low=eps)))

  @property
  def scores(self):
    """The scores of the items, as given (0: an absent item, ranked last)."""
    return self._scores

  def _event_shape(self):
    n = self._num_classes()
    return tf.TensorShape([n, n])

  def _event_shape_tensor(self):
    n = tf.shape(self._scores)[-1]
    return tf.stack([n, n])

  def _sample_computed(self, n, seed):
    # A zero score is an absent item: log-score -inf, with a zero gradient
    # (safe_log), which neural_sort ranks last.
    log_scores = masking.safe_log(tf_xp, self._computed(
        tf.convert_to_tensor(self._scores)))
    temperature = self._computed_batch_temperature()
    if tf_xp.exceeds_kernel_rank(log_scores, extra=2):
      # [n, batch, N, N] beyond TF's CPU kernels' rank: one batch axis.
      return self._sample_on_one_batch_axis(
          lambda log_scores, t: self._sample_flat(n, seed, log_scores, t), n,
          [log_scores, temperature], [1, 0])
    return self._sample_flat(n, seed, log_scores, temperature)

  def _sample_flat(self, n, seed, log_scores, temperature):
    gumbel = noise.gumbel(tf_xp, tf_xp.sample_shape(n, log_scores, self._event_aligned(temperature)),
        seed, log_scores.dtype)
    return sorting.neural_sort(tf_xp, log_scores + gumbel, temperature)

  def _default_event_space_bijector(self):
    return None

  def _static_shape_checks(self, param, name):
    if param.shape.rank == 0:
      raise ValueError("Argument `scores` must have rank at least 1.")
    num_items = self._num_classes()
    if num_items is not None and num_items < 1:
      raise ValueError("Argument `scores` must have final dimension >= 1.")

  def _parameter_value_assertions(self, value, name):
    return [
        tf.debugging.assert_non_negative(
            value, message="`scores` must be non-negative (0: an absent "
                           "item)."),
        tf.debugging.assert_equal(
            tf.reduce_all(tf.math.is_finite(value)), True,
            message="`scores` must be finite."),
        tf.debugging.assert_equal(
            tf.reduce_all(tf.reduce_any(value > 0., axis=-1)), True,
            message="`scores` must leave at least one item with a positive "
                    "score."),
    ]
