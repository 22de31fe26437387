"""Keras 3 layer that turns log-scores into relaxed (or exact) permutations."""

import keras

from tfp_gumbel import ops
from tfp_gumbel._backend import keras_ops as xp
from tfp_gumbel._kernels import sorting
from tfp_gumbel.layers import _base

__all__ = ["RelaxedPlackettLuce"]


@keras.saving.register_keras_serializable(package="tfp_gumbel")
class RelaxedPlackettLuce(_base.RelaxationLayer):
  r"""Ranks `N` items by their log-scores: a relaxed Plackett-Luce permutation.

  The layer receives real log-scores `[..., N]` (a network's output; the
  Plackett-Luce scores are their `exp`) and outputs `[..., N, N]` matrices
  whose row `i` stands for the item of rank `i` (rank 0 first). In training
  the output is a sample of `tfg.RelaxedPlackettLuce(temperature,
  exp(log_scores))`: a row-stochastic NeuralSort matrix whose row-wise argmax
  is a Plackett-Luce permutation; with `hard=True` it is that permutation as
  an exact 0/1 matrix with the relaxation's gradient
  (`tfg.estimators.plackett_luce_st`).

  At inference the output is, by default (`inference="mode"`), the permutation
  matrix that sorts the log-scores in decreasing order, the most likely
  ranking; `inference="probs"` gives the noise-free NeuralSort matrix of the
  log-scores at the current temperature, and `inference="sample"` keeps
  sampling.

  Args:
    temperature: positive float, the initial temperature.
    hard: if True, training outputs are exact permutation matrices with the
      straight-through gradient of the relaxation.
    estimator: `"st"`, the only estimator for permutations.
    trainable_temperature: if True, the temperature is learned by the
      optimizer (through the weight `log_temperature`).
    inference: `"mode"`, `"probs"` or `"sample"`: the output when not
      training (see above).
    seed: int for a reproducible noise stream, or None. Either way every
      call draws new noise.
    **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`, ...).

  Raises:
    ValueError: a non-positive temperature, an unknown `inference` or
      `estimator`, a non-int `seed`.

  #### Mathematical details

  ```none
  training:   P[i, j] = softmax_j(((N - 1 - 2 i) s_j - sum_k |s_j - s_k|) / t),
              s = log_scores + g,  g_j ~ Gumbel(0, 1) i.i.d.
  hard=True:  P = one_hot(argsort(s, descending)), the gradient of the above
  inference:  one_hot(argsort(log_scores, descending))
  ```

  #### Examples

  ```python
  import keras, tfp_gumbel as tfg
  ranker = tfg.layers.RelaxedPlackettLuce(temperature=0.5)
  log_scores = keras.ops.convert_to_tensor([[0.1, 2.0, -1.0, 0.5]])
  soft = ranker(log_scores, training=True)    # [1, 4, 4], rows sum to 1
  ranker(log_scores)                          # rows: items 1, 3, 0, 2
  ```

  #### References

  [1] Aditya Grover, Eric Wang, Aaron Zweig, Stefano Ermon. Stochastic
      Optimization of Sorting Networks via Continuous Relaxations. ICLR 2019.
  """

  _ESTIMATORS = ("st",)

  def _soft_sample(self, log_scores, temperature):
    return ops.relaxed_sort(log_scores, temperature, seed=self.seed_generator)

  def _hard_sample(self, log_scores, temperature):
    return ops.relaxed_sort(log_scores, temperature, seed=self.seed_generator,
                            hard=True)

  def _mode(self, log_scores):
    return sorting.sort_matrix(xp, log_scores)

  def _probs(self, log_scores):
    return sorting.neural_sort(
        xp, log_scores, keras.ops.cast(self.temperature, log_scores.dtype))

  def compute_output_shape(self, input_shape):
    return tuple(input_shape) + (input_shape[-1],)
