"""Keras 3 layer that turns `[N, N]` logits into Gumbel-Sinkhorn permutations.

Thin like the other layers (see `_base.RelaxationLayer`): the samples come
from `tfg.ops.gumbel_sinkhorn` (the formulas of `tfg.GumbelSinkhorn` and
`tfg.estimators.gumbel_sinkhorn_st`), the inference outputs from
`tfg.ops.matching` and `tfg.ops.sinkhorn`, on any Keras 3 backend.
"""

import keras

from tfp_gumbel import ops
from tfp_gumbel._kernels import sinkhorn
from tfp_gumbel.layers import _base

__all__ = ["GumbelSinkhorn"]


@keras.saving.register_keras_serializable(package="tfp_gumbel")
class GumbelSinkhorn(_base.RelaxationLayer):
  r"""Draws a relaxed permutation matrix from the `[..., N, N]` logits it receives.

  Entry `(i, j)` of the logits scores item `i` at position `j` (Mena et al.
  2018's `log alpha`). In training the output is a Gumbel-Sinkhorn sample, a
  doubly-stochastic matrix (by default to `tolerance`; see
  `tfg.GumbelSinkhorn`); with `hard=True` it is
  the exact permutation matrix of the matching of the perturbed logits,
  with the relaxed sample's gradient. As the temperature goes to 0 samples
  approach permutation matrices; as it grows, the uniform matrix `1 / N`.

  At inference (`training=False` or unset) the output is, by default
  (`inference="mode"`), the permutation matrix of the maximum-weight
  matching of the logits, `tfg.ops.matching(logits)`;
  `inference="probs"` gives the noiseless Sinkhorn matrix
  `S(exp(logits))` (temperature 1) and `inference="sample"` keeps sampling.

  XLA on TensorFlow: the matching is solved by scipy through
  `tf.numpy_function`, which TF's XLA cannot compile (on JAX it is a
  `jax.pure_callback`, which `jax.jit` compiles). The relaxed path compiles. So the layer reports
  `supports_jit = False` when a compiled step would need the matching
  (`hard=True`, or `inference="mode"`, which `evaluate`/`predict` and
  validation run); Keras then warns and compiles the model without XLA even
  with `compile(jit_compile=True)`. With `hard=False` and `inference="probs"`
  or `"sample"`, `jit_compile=True` is honoured (apply
  `tfg.ops.matching` to the output outside the compiled model to get
  the permutation).

  Args:
    temperature: positive float, the initial temperature.
    num_iters: `None` (default: Sinkhorn solved to `tolerance`) or a
      positive int, fixed Sinkhorn rounds per sample (Mena et al.).
    hard: if True, training outputs are exact permutation matrices with the
      straight-through gradient of the relaxed sample.
    estimator: `"st"` (the only one).
    trainable_temperature: if True, the temperature is learned by the
      optimizer (through the weight `log_temperature`).
    inference: `"mode"`, `"probs"` or `"sample"`: the output when not
      training (see above).
    seed: int for a reproducible noise stream, or None.
    tolerance: `None` (the dtype's default) or a float in (0, 1): the
      largest |row sum - 1| of a sample.
    max_iters: positive int, the cap on Newton steps. Eagerly, a sample
      stopped by it before its tolerance warns (`SinkhornWarning`).
    **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`, ...).

  Raises:
    ValueError: a non-positive temperature, a non-positive or non-int
      `num_iters` or `max_iters`, a `tolerance` outside (0, 1), an unknown
      `inference` or `estimator`, a non-int `seed`.

  #### Mathematical details

  ```none
  training:    y = S(exp((logits + G) / t)),  G_ij ~ Gumbel(0, 1) i.i.d.
  hard=True:   y = matching(logits + G), gradient of the line above
  inference:   y = matching(logits)
  ```

  #### Examples

  ```python
  import keras, tfp_gumbel as tfg
  x = keras.Input([6])                                  # 6 numbers to sort
  h = keras.layers.Reshape([6, 1])(x)
  h = keras.layers.Dense(32, activation="relu")(h)
  logits = keras.layers.Dense(6)(h)                     # [batch, 6, 6]
  perm = tfg.layers.GumbelSinkhorn(temperature=1.0)(logits)
  model = keras.Model(x, perm)
  model(np.random.rand(4, 6), training=True)            # doubly stochastic
  model.predict(np.random.rand(4, 6), verbose=0)        # permutation matrices
  ```

  #### References

  [1] Gonzalo Mena, David Belanger, Scott Linderman, Jasper Snoek. Learning
      Latent Permutations with Gumbel-Sinkhorn Networks. ICLR 2018.
  """

  _ESTIMATORS = ("st",)

  _EVENT_NDIMS = 2

  def __init__(self,
               temperature=1.0,
               num_iters=None,
               hard=False,
               estimator="st",
               trainable_temperature=False,
               inference="mode",
               seed=None,
               tolerance=None,
               max_iters=sinkhorn.MAX_ITERS,
               **kwargs):
    super().__init__(temperature=temperature, hard=hard, estimator=estimator,
                     trainable_temperature=trainable_temperature,
                     inference=inference, seed=seed, **kwargs)
    options = sinkhorn.SinkhornOptions(num_iters, tolerance, max_iters)
    self.num_iters, self.tolerance, self.max_iters = (
        options.num_iters, options.tolerance, options.max_iters)

  @property
  def supports_jit(self):
    # Only the matching (scipy, outside the graph) stops TensorFlow's XLA;
    # see the doc. On JAX it is a `pure_callback`, which `jit` compiles.
    return (keras.backend.backend() != "tensorflow"
            or (not self.hard and self.inference != "mode"))

  @supports_jit.setter
  def supports_jit(self, value):
    # keras.layers.Layer.__init__ assigns the default (True); the property
    # above decides.
    del value

  def _soft_sample(self, logits, temperature):
    return ops.gumbel_sinkhorn(logits, temperature, seed=self.seed_generator,
                               **self._sinkhorn_options())

  def _hard_sample(self, logits, temperature):
    return ops.gumbel_sinkhorn(logits, temperature, seed=self.seed_generator,
                               hard=True, **self._sinkhorn_options())

  def _mode(self, logits):
    return ops.matching(logits)

  def _probs(self, logits):
    return keras.ops.exp(ops.sinkhorn(logits, **self._sinkhorn_options()))

  def _sinkhorn_options(self):
    return dict(num_iters=self.num_iters, tolerance=self.tolerance,
                max_iters=self.max_iters)

  def get_config(self):
    config = super().get_config()
    config.update(self._sinkhorn_options())
    return config
