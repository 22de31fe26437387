"""What the Gumbel-Softmax and Gumbel-Sigmoid layers share beyond `_base`.

`GumbelLayer` is the base of `GumbelSoftmax` (layers/gumbel_softmax.py) and
`GumbelSigmoid` (layers/gumbel_sigmoid.py), the two layers whose parameters
are logits of one categorical or Bernoulli law: it adds to
`_base.RelaxationLayer` the optional exact KL term to a prior (`kl_weight`,
`prior_logits`: the ELBO's term of a discrete VAE, computed by
`tfg.categorical_kl`) and the relaxed sample of the family's distribution.
The other layers' parameters (a subset size, a matrix, scores) have no such
KL, so they subclass `_base.RelaxationLayer` directly.
"""

import math

import numpy as np
import tensorflow as tf

from tfp_gumbel import kl
from tfp_gumbel.layers import _base

__all__ = ["GumbelLayer"]


class GumbelLayer(_base.RelaxationLayer):
  """Base of `GumbelSoftmax` and `GumbelSigmoid`; see the module doc.

  Subclasses set `_DISTRIBUTION`, the tfp_gumbel family of their relaxed
  samples (its `logits` are the layer's input).
  """

  _DISTRIBUTION = None

  def __init__(self,
               temperature=1.0,
               hard=False,
               estimator="st",
               trainable_temperature=False,
               inference="mode",
               kl_weight=0.0,
               prior_logits=None,
               seed=None,
               **kwargs):
    super().__init__(temperature=temperature, hard=hard, estimator=estimator,
                     trainable_temperature=trainable_temperature,
                     inference=inference, seed=seed, **kwargs)
    if not (isinstance(kl_weight, (int, float)) and math.isfinite(kl_weight)
            and kl_weight >= 0):
      raise ValueError(
          f"`kl_weight` must be a non-negative finite number, got {kl_weight!r}.")
    self.kl_weight = float(kl_weight)
    self.prior_logits = (None if prior_logits is None
                         else np.asarray(prior_logits, np.float64).tolist())

  def _soft_sample(self, logits, temperature, seed):
    return self._DISTRIBUTION(temperature, logits=logits).sample(seed=seed)

  def _add_losses(self, logits, mask):
    if self.kl_weight > 0:
      self.add_loss(self.kl_weight * self._kl_loss(logits, mask))

  def _kl_loss(self, logits, mask=None):
    """KL(q(.|logits) || prior), summed over the latent variables and averaged
    over the batch (the first axis), the ELBO's term for a VAE.

    Infinite logits (masked classes, units forced off) restrict the prior to
    the outcomes still possible, renormalised: the prior gets the same
    infinite logit, so the KL is the one of the possible outcomes alone.
    A timestep masked out by `mask` contributes exactly 0: its logits and the
    prior's are both replaced by 0 (two equal laws), which also keeps a
    padded step whose classes are all masked from giving a NaN KL or
    gradient. The sum over latents is not rescaled: an all-True mask gives
    the unmasked value, and a padded sequence the KL of its real steps.
    """
    prior_logits = (tf.zeros_like(logits) if self.prior_logits is None else
                    tf.broadcast_to(tf.constant(self.prior_logits, logits.dtype),
                                    tf.shape(logits)))
    prior_logits = tf.where(tf.math.is_inf(logits), logits, prior_logits)
    if mask is not None:
      mask = tf.cast(mask, tf.bool)
      mask = tf.reshape(mask, tf.concat(
          [tf.shape(mask), tf.ones([logits.shape.rank - mask.shape.rank],
                                   tf.int32)], axis=0))
      zero = tf.zeros([], logits.dtype)
      logits = tf.where(mask, logits, zero)
      prior_logits = tf.where(mask, prior_logits, zero)
    # The exact KL of the discrete variables: it ignores the temperature.
    one = tf.ones([], logits.dtype)
    divergence = kl.categorical_kl(
        self._DISTRIBUTION(one, logits=logits),
        self._DISTRIBUTION(one, logits=prior_logits))
    if divergence.shape.rank == 0:
      return divergence
    return (tf.reduce_sum(divergence)
            / tf.cast(tf.shape(logits)[0], divergence.dtype))

  def get_config(self):
    config = super().get_config()
    config.update(kl_weight=self.kl_weight, prior_logits=self.prior_logits)
    return config
