"""Keras 3 layer that turns logits into Gumbel-Softmax samples.

The layer is thin (ARCHITECTURE.md, "Adding a layer"): the temperature
weight, the seed stream and the inference modes are `_base.RelaxationLayer`'s,
the optional exact KL term is `_gumbel.GumbelLayer`'s, and the samples
come from `tfg.ops.gumbel_softmax` (the formulas of `tfg.GumbelSoftmax` and
`tfg.estimators`, on any Keras 3 backend). No sampling formula is written
here.
"""

import keras

from tfp_gumbel import ops
from tfp_gumbel._backend import keras_ops as xp
from tfp_gumbel.layers import _gumbel
from tfp_gumbel.layers import gumbel_sigmoid

__all__ = ["GumbelSoftmax"]

# Models saved by 0.2.0, which defined GumbelSigmoid in this module, name it
# `tfp_gumbel.layers.gumbel_softmax.GumbelSigmoid`; Keras before 3.9 looks the
# class up there when `tfp_gumbel.layers` was not imported before loading, so
# the name stays here for compatibility (not in `__all__`).
GumbelSigmoid = gumbel_sigmoid.GumbelSigmoid


@keras.saving.register_keras_serializable(package="tfp_gumbel")
class GumbelSoftmax(_gumbel.GumbelLayer):
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
      `estimator`, a negative `kl_weight`, a non-int `seed`;
      `trainable_temperature=True` with `hard=True` and
      `estimator="reinmax"` (whose gradient ignores the temperature).

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
  actions = layer(keras.ops.zeros((2, 4)), training=True,
                  class_mask=[[True, True, False, True],
                              [False, True, True, False]])
  ```

  #### References

  [1] Eric Jang, Shixiang Gu, Ben Poole. Categorical Reparameterization with
      Gumbel-Softmax. ICLR 2017.
  [2] Chris J. Maddison, Andriy Mnih, Yee Whye Teh. The Concrete Distribution:
      A Continuous Relaxation of Discrete Random Variables. ICLR 2017.
  """

  _ESTIMATORS = ops.ESTIMATORS
  # ReinMax's gradient (Liu et al. 2023) uses softmax(logits), not t.
  _TEMPERATURE_FREE_ESTIMATORS = ("reinmax",)

  def _soft_sample(self, logits, temperature):
    # A fixed temperature has no gradient (`_sample_temperature`): -inf
    # logits then need no masking ops (`finite`).
    return ops._gumbel_softmax(  # pylint: disable=protected-access
        logits, temperature, seed=self.seed_generator,
        finite=not self.trainable_temperature)

  def _finite_sample(self, logits, temperature):
    return ops._gumbel_softmax_sample(  # pylint: disable=protected-access
        logits, temperature, self.seed_generator, self.hard, finite=True)

  def _hard_sample(self, logits, temperature):
    return ops._gumbel_softmax(  # pylint: disable=protected-access
        logits, temperature, seed=self.seed_generator, hard=True,
        estimator=self.estimator, finite=not self.trainable_temperature)

  def _mode(self, logits):
    return keras.ops.one_hot(keras.ops.argmax(logits, axis=-1),
                             keras.ops.shape(logits)[-1], dtype=logits.dtype)

  def _probs(self, logits):
    return xp.softmax(logits)
