"""Keras 3 layers that turn logits into Gumbel-Softmax / Gumbel-Sigmoid samples.

The layers are thin (ARCHITECTURE.md, "Adding a layer"): the temperature weight, the seed stream
and the inference modes are `_base.RelaxationLayer`'s, and these layers call
`tfg.GumbelSoftmax` / `tfg.GumbelSigmoid` for relaxed samples,
`tfg.estimators` for hard ones, and `tfg.categorical_kl` for the optional
exact KL term. No sampling formula is written here.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from tfp_gumbel import distributions as tfgd
from tfp_gumbel import estimators
from tfp_gumbel import monte_carlo
from tfp_gumbel import _params
from tfp_gumbel.layers import _base
from tfp_gumbel.layers._base import stateless_seed

__all__ = ["GumbelSigmoid", "GumbelSoftmax", "stateless_seed"]


class _GumbelLayer(_base.RelaxationLayer):
  """What the categorical and the binary layer share beyond the base: the
  exact KL term to a prior, and the relaxed sample of `_DISTRIBUTION`."""

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
    kl = monte_carlo.categorical_kl(self._DISTRIBUTION(one, logits=logits),
                                    self._DISTRIBUTION(one, logits=prior_logits))
    if kl.shape.rank == 0:
      return kl
    return tf.reduce_sum(kl) / tf.cast(tf.shape(logits)[0], kl.dtype)

  def get_config(self):
    config = super().get_config()
    config.update(kl_weight=self.kl_weight, prior_logits=self.prior_logits)
    return config


@keras.saving.register_keras_serializable(package="tfp_gumbel")
class GumbelSoftmax(_GumbelLayer):
  r"""Draws a Gumbel-Softmax (Concrete) sample from the logits it receives.

  In training (`model.fit`, or `training=True`) the output is a relaxed
  one-hot sample on the simplex; with `hard=True` it is an exact one-hot
  sample whose gradient comes from the chosen estimator. As the temperature
  goes to 0 the relaxed samples approach one-hot vectors (high gradient
  variance); as it grows they approach the uniform vector `1 / K`.

  At inference (`training=False` or unset, e.g. `model.predict`) the output is
  deterministic by default: `inference="mode"` gives `one_hot(argmax(logits))`,
  the most likely category, which is what a network trained towards hard
  codes (low temperature or `hard=True`) should see downstream.
  `inference="probs"` gives `softmax(logits)` (the expected one-hot), and
  `inference="sample"` keeps sampling as in training.

  Args:
    temperature: positive float, the initial temperature.
    hard: if True, training outputs are exact one-hot samples with the
      gradient of `estimator`.
    estimator: `"st"` (straight-through), `"gumbel_rao"` or `"reinmax"`;
      see `tfg.estimators`. Used only with `hard=True`.
    trainable_temperature: if True, the temperature is learned by the
      optimizer (through the weight `log_temperature`).
    inference: `"mode"`, `"probs"` or `"sample"`: the output when not
      training (see above).
    kl_weight: non-negative float; if positive, `kl_weight` times the exact
      KL to the prior is added to the model's losses.
    prior_logits: `K` floats, the prior of the KL term; uniform if None.
    seed: int for a reproducible noise stream, or None. Either way every
      call draws new noise.
    **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`, ...).

  Raises:
    ValueError: a non-positive temperature, an unknown `inference` or
      `estimator`, a negative `kl_weight`, a non-int `seed`.

  #### Mathematical details

  ```none
  training:       y = softmax((logits + g) / t),  g_k ~ Gumbel(0, 1) i.i.d.
  hard=True:      y = one_hot(argmax(logits + g)), gradient of `estimator`
  t = exp(log_temperature)   (a weight, trainable if trainable_temperature)
  KL term:        kl_weight * mean_batch sum_latents
                    KL(Categorical(logits) || Categorical(prior_logits))
  ```

  The KL term, added with `add_loss`, is the exact categorical KL (the ELBO's
  term of a categorical VAE, Jang et al. 2017); the prior is uniform unless
  `prior_logits` is given.

  #### Masks

  `layer(logits, class_mask=m)` forbids classes: `m` is boolean,
  broadcastable to `logits`, False = impossible. The logits are set to -inf
  there (with a `where`), so a masked class is never picked by a hard sample
  (every estimator) or by `inference="mode"`, is exactly 0 in soft samples
  and in `inference="probs"`, and gets a gradient of 0. In the KL term the
  prior is restricted to the possible classes and renormalised (what
  `Categorical(prior_logits)` conditioned on the allowed classes gives), so
  the mask itself costs no KL. Logits that are already -inf are treated the
  same way. Each row needs at least one possible class.

  Keras's timestep `mask` (shape of `logits` without the class axis, e.g.
  from `Embedding(mask_zero=True)`) is propagated to the next layer, and
  masked timesteps contribute exactly 0 to the KL term; the sum over the
  other latents is not rescaled (an all-True mask gives the unmasked value).

  #### Examples

  ```python
  import keras, numpy as np, tfp_gumbel as tfg
  model = keras.Sequential([
      keras.Input([784]),
      keras.layers.Dense(30 * 10), keras.layers.Reshape([30, 10]),
      tfg.layers.GumbelSoftmax(temperature=1.0, kl_weight=1.0),
      keras.layers.Flatten(), keras.layers.Dense(784, "sigmoid")])
  model.compile("adam", "binary_crossentropy")   # + the KL term: an ELBO
  x = np.random.RandomState(0).uniform(size=[64, 784]).astype("float32")
  model.fit(x, x, verbose=0,
            callbacks=[tfg.layers.TemperatureAnnealing(rate=1e-4)])
  model.predict(x, verbose=0)   # the latent codes are one-hot at inference

  # Forbidden actions: class_mask False = impossible.
  layer = tfg.layers.GumbelSoftmax(0.5, hard=True)
  actions = layer(tf.zeros([2, 4]), training=True,
                  class_mask=[[True, True, False, True],
                              [False, True, True, False]])
  ```

  #### References

  [1] Eric Jang, Shixiang Gu, Ben Poole. Categorical Reparameterization with
      Gumbel-Softmax. ICLR 2017.
  [2] Chris J. Maddison, Andriy Mnih, Yee Whye Teh. The Concrete Distribution:
      A Continuous Relaxation of Discrete Random Variables. ICLR 2017.
  """

  _DISTRIBUTION = tfgd.GumbelSoftmax
  _ESTIMATORS = ("st", "gumbel_rao", "reinmax")

  def _hard_sample(self, logits, temperature, seed):
    return estimators.get(self.estimator)(logits, temperature, seed=seed)

  def _mode(self, logits):
    return tf.one_hot(tf.argmax(logits, axis=-1), tf.shape(logits)[-1],
                      dtype=logits.dtype)

  def _probs(self, logits):
    return _params.softmax(logits)


@keras.saving.register_keras_serializable(package="tfp_gumbel")
class GumbelSigmoid(_GumbelLayer):
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
  y = gates(tf.zeros([4, 16]), training=True)   # 0/1 entries, p = 1/2
  # The first 8 gates of every row forced off:
  y = gates(tf.zeros([4, 16]), training=True,
            class_mask=tf.range(16) >= 8)
  ```

  #### References

  [1] Chris J. Maddison, Andriy Mnih, Yee Whye Teh. The Concrete Distribution:
      A Continuous Relaxation of Discrete Random Variables. ICLR 2017.
  [2] Eric Jang, Shixiang Gu, Ben Poole. Categorical Reparameterization with
      Gumbel-Softmax. ICLR 2017.
  """

  _DISTRIBUTION = tfgd.GumbelSigmoid
  _ESTIMATORS = ("st",)
  _EVENT_NDIMS = 0

  def _hard_sample(self, logits, temperature, seed):
    return estimators.gumbel_sigmoid_st(logits, temperature, seed=seed)

  def _mode(self, logits):
    return tf.cast(logits > 0, logits.dtype)

  def _probs(self, logits):
    return tf.math.sigmoid(logits)
