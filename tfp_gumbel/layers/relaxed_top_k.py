"""Keras 3 layer that turns logits into relaxed (or exact) k-hot subsets.

Thin, like every tfp_gumbel layer: the temperature weight, the seed stream and
the inference modes are `_base.RelaxationLayer`'s; the samples come from
`tfg.ops.relaxed_top_k` (the formulas of `tfg.RelaxedTopK` and
`tfg.estimators.top_k_st`, on any Keras 3 backend).
"""

import keras

from tfp_gumbel import _checks
from tfp_gumbel import ops
from tfp_gumbel._backend import keras_ops as xp
from tfp_gumbel._kernels import subsets
from tfp_gumbel.layers import _base

__all__ = ["RelaxedTopK"]


@keras.saving.register_keras_serializable(package="tfp_gumbel")
class RelaxedTopK(_base.RelaxationLayer):
  r"""Draws a relaxed k-hot subset of the classes from the logits it receives.

  In training (`model.fit`, or `training=True`) the output is a
  `tfg.RelaxedTopK(temperature, k, logits)` sample: a vector summing to `k`
  whose large coordinates mark a Gumbel-top-k subset (k classes drawn
  without replacement). With `hard=True` it is the exact k-hot vector of
  that subset with the relaxation's gradient (`tfg.estimators.top_k_st`).
  As the temperature goes to 0 the relaxed samples approach k-hot vectors;
  as it grows they approach `k / K` everywhere. Typical use: a mask that
  selects `k` of `K` features (L2X, concrete autoencoders).

  At inference (`training=False` or unset) the output is deterministic by
  default: `inference="mode"` gives the k-hot vector of the `k` largest
  logits (the k classes most likely to be in the subset).
  `inference="probs"` gives the noise-free relaxation
  `relaxed_top_k(logits, k, t)` at the current temperature, and
  `inference="sample"` keeps sampling as in training.

  Args:
    k: positive int, the subset size (at most the number of classes, the
      last axis of the input).
    temperature: positive float, the initial temperature.
    hard: if True, training outputs are exact k-hot samples with the
      straight-through relaxed top-k gradient.
    estimator: `"st"`, the only estimator (see `tfg.estimators.top_k_st`).
    trainable_temperature: if True, the temperature is learned by the
      optimizer (through the weight `log_temperature`).
    inference: `"mode"`, `"probs"` or `"sample"`: the output when not
      training (see above).
    seed: int for a reproducible noise stream, or None. Either way every
      call draws new noise.
    **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`, ...).

  Raises:
    ValueError: a `k` that is not a positive int (or exceeds the input's
      number of classes, at build), a non-positive temperature, an unknown
      `inference` or `estimator`, a non-int `seed`.

  #### Mathematical details

  ```none
  training:   y = sum_{j=1..k} softmax(alpha_j / t),  alpha_1 = logits + g,
              alpha_{j+1} = alpha_j + log(1 - softmax(alpha_j / t))
  hard=True:  y = k_hot(top_k(logits + g)), gradient of the above
  inference:  y = k_hot(top_k(logits))
  ```

  Computation is in float32 (float64 under a float64 policy) whatever the
  layer's dtype policy, so mixed precision keeps `logits / t` finite.

  #### Examples

  ```python
  import keras, tfp_gumbel as tfg
  inputs = keras.Input([10])
  logits = keras.layers.Dense(10)(keras.layers.Dense(32, "relu")(inputs))
  mask = tfg.layers.RelaxedTopK(k=3, temperature=0.5)(logits)
  outputs = keras.layers.Dense(1)(keras.layers.Multiply()([inputs, mask]))
  model = keras.Model(inputs, outputs)   # instance-wise feature selection
  model.compile("adam", "mse")
  model.predict(np.zeros([2, 10]), verbose=0)  # the mask is k-hot here
  ```

  #### References

  [1] Sang Michael Xie, Stefano Ermon. Reparameterizable Subset Sampling via
      Continuous Relaxations. IJCAI 2019.
  [2] Jianbo Chen, Le Song, Martin J. Wainwright, Michael I. Jordan. Learning
      to Explain: An Information-Theoretic Perspective on Model
      Interpretation. ICML 2018.
  """

  _ESTIMATORS = ("st",)

  def __init__(self,
               k,
               temperature=1.0,
               hard=False,
               estimator="st",
               trainable_temperature=False,
               inference="mode",
               seed=None,
               **kwargs):
    super().__init__(temperature=temperature, hard=hard, estimator=estimator,
                     trainable_temperature=trainable_temperature,
                     inference=inference, seed=seed, **kwargs)
    self.k = _checks.integer(k, "k")

  def build(self, input_shape):
    num_classes = input_shape[-1]
    if num_classes is not None and self.k > num_classes:
      raise ValueError(f"`k` = {self.k} exceeds the number of classes "
                       f"{num_classes} (the last axis of the input).")
    super().build(input_shape)

  def _soft_sample(self, logits, temperature):
    return ops.relaxed_top_k(logits, self.k, temperature,
                             seed=self.seed_generator)

  def _hard_sample(self, logits, temperature):
    return ops.relaxed_top_k(logits, self.k, temperature,
                             seed=self.seed_generator, hard=True)

  def _mode(self, logits):
    return subsets.top_k_mask(xp, logits, self.k)

  def _probs(self, logits):
    temperature = keras.ops.cast(self.temperature, logits.dtype)
    return subsets.relaxed_top_k(xp, logits, self.k,
                                 keras.ops.expand_dims(temperature, -1))

  def get_config(self):
    config = super().get_config()
    config.update(k=self.k)
    return config
