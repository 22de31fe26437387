"""The relaxed Plackett-Luce distribution: NeuralSort of Gumbel-perturbed log-scores."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_gumbel import _kernels
from tfp_gumbel import _noise
from tfp_gumbel import _params

tfb = tfp.bijectors
tfd = tfp.distributions

# The kernel lives in _kernels; this name is where users have imported it.
neural_sort = _kernels.neural_sort

__all__ = ["RelaxedPlackettLuce", "neural_sort"]


class RelaxedPlackettLuce(tfd.AutoCompositeTensorDistribution):
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

  #### Examples

  ```python
  import tfp_gumbel as tfg
  d = tfg.RelaxedPlackettLuce(temperature=0.1, scores=[1., 4., 2.])
  x = d.sample(5, seed=(1, 2))          # [5, 3, 3], rows sum to 1
  perms = tf.argmax(x, axis=-1)         # [5, 3] ~ tfd.PlackettLuce([1., 4., 2.])
  ```

  #### References

  [1] Aditya Grover, Eric Wang, Aaron Zweig, Stefano Ermon. Stochastic
      Optimization of Sorting Networks via Continuous Relaxations. ICLR 2019.
  """

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
      scores: positive float Tensor `[..., N]`: the Plackett-Luce scores of the
        `N` items, as in `tfd.PlackettLuce`.
      validate_args: check parameter values.
      allow_nan_stats: TFP's convention for undefined statistics.
      name: name scope of the ops.

    Raises:
      TypeError: integer or mismatched dtypes.
      ValueError: a scalar `scores`, or one with no items.
    """
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      dtype = _params.float_dtype(temperature=temperature, scores=scores)
      self._temperature = _params.as_parameter(
          temperature, dtype, "temperature")
      self._scores = _params.as_parameter(scores, dtype, "scores")
      super().__init__(
          dtype=dtype,
          reparameterization_type=tfd.FULLY_REPARAMETERIZED,
          validate_args=validate_args,
          allow_nan_stats=allow_nan_stats,
          parameters=parameters,
          name=name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    eps = np.finfo(tf.as_dtype(dtype or tf.float32).as_numpy_dtype).eps
    return dict(
        # Temperature has no event dims: it broadcasts against scores[..., 0].
        temperature=tfp.util.ParameterProperties(
            shape_fn=lambda sample_shape: sample_shape[:-2],
            default_constraining_bijector_fn=lambda: tfb.Softplus(low=eps)),
        scores=tfp.util.ParameterProperties(
            event_ndims=1,
            shape_fn=lambda sample_shape: sample_shape[:-1],
            default_constraining_bijector_fn=lambda: tfb.Softplus(low=eps)))

  @property
  def temperature(self):
    """The temperature, as given (a Tensor, Variable or DeferredTensor)."""
    return self._temperature

  @property
  def scores(self):
    """The positive scores of the items, as given."""
    return self._scores

  def _num_items(self):
    return self._scores.shape[-1] if self._scores.shape.rank else None

  def _event_shape(self):
    return tf.TensorShape([self._num_items(), self._num_items()])

  def _event_shape_tensor(self):
    n = tf.shape(self._scores)[-1]
    return tf.stack([n, n])

  def _sample_n(self, n, seed=None):
    temperature = tf.convert_to_tensor(self._temperature)
    log_scores = tf.math.log(tf.convert_to_tensor(self._scores))
    gumbel = _noise.gumbel(
        _params.sample_shape(n, log_scores, temperature[..., None]), seed,
        self.dtype)
    return _kernels.neural_sort(log_scores + gumbel, temperature)

  def _log_prob(self, x):
    raise NotImplementedError(
        "log_prob is not implemented: the relaxed Plackett-Luce (NeuralSort) "
        "matrix has no tractable density. Use tfd.PlackettLuce(scores)"
        ".log_prob for the permutation itself.")

  def _mean(self, **kwargs):
    raise NotImplementedError(
        "mean is not implemented: the relaxed Plackett-Luce distribution has "
        "no closed-form mean (estimate it from samples).")

  def _mode(self, **kwargs):
    raise NotImplementedError(
        "mode is not implemented: the relaxed Plackett-Luce distribution has "
        "no closed-form mode (the most likely *permutation* is "
        "tfd.PlackettLuce(scores).mode()).")

  def _default_event_space_bijector(self):
    return None

  def _parameter_control_dependencies(self, is_init):
    if is_init:
      if self._scores.shape.rank == 0:
        raise ValueError("Argument `scores` must have rank at least 1.")
      if self._num_items() is not None and self._num_items() < 1:
        raise ValueError("Argument `scores` must have final dimension >= 1.")
    if not self.validate_args:
      return []
    assertions = _params.temperature_assertions(self._temperature,
                                                is_init=is_init)
    if is_init != _params.is_ref(self._scores):
      scores = tf.convert_to_tensor(self._scores)
      assertions += [
          tf.debugging.assert_positive(
              scores, message="`scores` must be positive."),
          tf.debugging.assert_equal(
              tf.reduce_all(tf.math.is_finite(scores)), True,
              message="`scores` must be finite."),
      ]
    return assertions
