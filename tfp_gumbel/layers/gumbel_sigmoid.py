"""Keras 3 layer that turns logits into binary Gumbel-Sigmoid samples.

Thin like `GumbelSoftmax`, its categorical counterpart: the temperature
weight, the seed stream and the inference modes are
`_base.RelaxationLayer`'s, the optional exact KL term is
`_gumbel.GumbelLayer`'s, and the samples come from `tfg.ops.gumbel_sigmoid`
(the formulas of `tfg.GumbelSigmoid` and `tfg.estimators.gumbel_sigmoid_st`,
on any Keras 3 backend).
"""

import keras

from tfp_gumbel import ops
from tfp_gumbel.layers import _gumbel

__all__ = ["GumbelSigmoid"]


@keras.saving.register_keras_serializable(package="tfp_gumbel")
class GumbelSigmoid(_gumbel.GumbelLayer):
  r"""Draws a Gumbel-Sigmoid (binary Concrete) sample from each logit.

  The binary counterpart of `tfg.layers.GumbelSoftmax`: each input logit is
  an independent Bernoulli variable. In training the output is the relaxed
  sample in (0, 1) (or, with `hard=True`, the exact 0/1 sample with a
  straight-through gradient); it approaches 0/1 as `t -> 0` and 1/2 as
  `t -> inf`. At inference, `"mode"` gives `1[logits > 0]`, `"probs"` gives
  `sigmoid(logits)`, `"sample"` keeps sampling.

  The arguments are those of `tfg.layers.GumbelSoftmax`, except that
  `estimator` is `"st"` only and `prior_logits` is one float (the prior logit
  of every variable; 0, i.e. p = 1/2, if None).

  Masks: `class_mask` (boolean, broadcastable to `logits`) forces the units
  where it is False off: their logit becomes -inf, every output there is
  exactly 0 (soft, hard, "mode", "probs"), their gradient 0, and they add
  nothing to the KL term (a unit that cannot be on is no latent variable;
  the prior restricted to "off" is the same point mass). Keras's timestep
  `mask` (shape of `logits` without the last axis) is propagated, and masked
  timesteps contribute nothing to the KL term, as in `GumbelSoftmax`.

  #### Mathematical details

  ```none
  training:   y = sigmoid((logits + l) / t),  l ~ Logistic(0, 1) i.i.d.
  hard=True:  y = 1[logits + l > 0], straight-through gradient of the above
  KL term:    kl_weight * mean_batch sum_latents
                KL(Bernoulli(logits) || Bernoulli(prior_logits))
  ```

  #### Examples

  ```python
  import keras, tfp_gumbel as tfg
  gates = tfg.layers.GumbelSigmoid(temperature=0.5, hard=True)
  y = gates(keras.ops.zeros((4, 16)), training=True)  # 0/1 entries, p = 1/2
  # The first 8 gates of every row forced off:
  y = gates(keras.ops.zeros((4, 16)), training=True,
            class_mask=keras.ops.arange(16) >= 8)
  ```

  #### References

  [1] Chris J. Maddison, Andriy Mnih, Yee Whye Teh. The Concrete Distribution:
      A Continuous Relaxation of Discrete Random Variables. ICLR 2017.
  [2] Eric Jang, Shixiang Gu, Ben Poole. Categorical Reparameterization with
      Gumbel-Softmax. ICLR 2017.
  """

  _ESTIMATORS = ("st",)
  _EVENT_NDIMS = 0

  def _soft_sample(self, logits, temperature):
    return ops._gumbel_sigmoid(  # pylint: disable=protected-access
        logits, temperature, seed=self.seed_generator,
        finite=not self.trainable_temperature)

  def _finite_sample(self, logits, temperature):
    return ops._gumbel_sigmoid_sample(  # pylint: disable=protected-access
        logits, temperature, self.seed_generator, self.hard, finite=True)

  def _hard_sample(self, logits, temperature):
    return ops._gumbel_sigmoid(  # pylint: disable=protected-access
        logits, temperature, seed=self.seed_generator, hard=True,
        finite=not self.trainable_temperature)

  def _mode(self, logits):
    return keras.ops.cast(keras.ops.greater(logits, 0.), logits.dtype)

  def _probs(self, logits):
    return keras.ops.sigmoid(logits)
