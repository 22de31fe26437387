"""What the Gumbel-Softmax and Gumbel-Sigmoid layers share beyond `_base`.

`GumbelLayer` is the base of `GumbelSoftmax` (layers/gumbel_softmax.py) and
`GumbelSigmoid` (layers/gumbel_sigmoid.py), the two layers whose parameters
are logits of one categorical or Bernoulli law: it adds to
`_base.RelaxationLayer` the optional exact KL term to a prior (`kl_weight`,
`prior_logits`: the ELBO's term of a discrete VAE, the KL of
`tfg.categorical_kl`, computed on every backend by the kernel
`categorical.kl_divergence`).
The other layers' parameters (a subset size, a matrix, scores) have no such
KL, so they subclass `_base.RelaxationLayer` directly.
"""

import math

import keras
import numpy as np

from tfp_gumbel._backend import keras_ops as xp
from tfp_gumbel._kernels import categorical
from tfp_gumbel.layers import _base

__all__ = ["GumbelLayer"]


class GumbelLayer(_base.RelaxationLayer):
  """Base of `GumbelSoftmax` and `GumbelSigmoid`; see the module doc.

  Subclasses set `_EVENT_NDIMS` (1 for a categorical law, 0 for independent
  Bernoulli units): the KL is the categorical one over the last axis, or
  over the pair (off, on) of each unit.
  """

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

  def _has_finite_sample(self):
    # The KL term reads the masked logits; Gumbel-Rao and ReinMax mask.
    return self.kl_weight == 0 and (not self.hard or self.estimator == "st")

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
    prior_logits = (keras.ops.zeros_like(logits) if self.prior_logits is None
                    else keras.ops.broadcast_to(
                        xp.constant(np.asarray(self.prior_logits),
                                    logits.dtype), keras.ops.shape(logits)))
    infinite = keras.ops.isinf(logits)
    prior_logits = keras.ops.where(infinite, logits, prior_logits)
    if mask is not None:
      mask = keras.ops.cast(mask, "bool")
      for _ in range(len(logits.shape) - len(mask.shape)):
        mask = keras.ops.expand_dims(mask, -1)
      zero = xp.constant(0., logits.dtype)
      logits = keras.ops.where(mask, logits, zero)
      prior_logits = keras.ops.where(mask, prior_logits, zero)
    if not self._EVENT_NDIMS:
      # A unit is the two-class law (off, on), log-probabilities
      # (log_sigmoid(-l), log_sigmoid(l)): at l = +-inf (certain) the KL and
      # its gradient stay finite.
      logits, prior_logits = (
          keras.ops.stack([keras.ops.log_sigmoid(-x), keras.ops.log_sigmoid(x)],
                          axis=-1) for x in (logits, prior_logits))
    # The exact KL of the discrete variables: it ignores the temperature.
    divergence = categorical.kl_divergence(xp, logits, prior_logits)
    if len(divergence.shape) == 0:
      return divergence
    return (keras.ops.sum(divergence)
            / keras.ops.cast(keras.ops.shape(logits)[0], divergence.dtype))

  def get_config(self):
    config = super().get_config()
    config.update(kl_weight=self.kl_weight, prior_logits=self.prior_logits)
    return config
