"""Keras 3 layers that turn logits into Gumbel-Softmax / Gumbel-Sigmoid samples.

The layers are thin (see DESIGN.md): they own the temperature weight and the
seed stream, and call `tfg.GumbelSoftmax` / `tfg.GumbelSigmoid` for relaxed
samples, `tfg.estimators` for hard ones, and `tfg.categorical_kl` for the
optional exact KL term. No sampling formula is written here.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from tfp_gumbel import distributions as tfgd
from tfp_gumbel import estimators
from tfp_gumbel import monte_carlo

__all__ = ["GumbelSigmoid", "GumbelSoftmax", "stateless_seed"]

_INFERENCE_MODES = ("mode", "probs", "sample")
_INT32_MAX = np.iinfo(np.int32).max


def stateless_seed(seed_generator):
  """The next shape-[2] int32 seed of a Keras `SeedGenerator`, for TF/TFP.

  Keras 3 keeps the generator state as int64 (TF only places int64 Variables
  on every device) while TF's stateless kernels, under XLA, take int32 seeds:
  the state is wrapped into [0, 2^31 - 3] as Keras's own TF backend does.
  Under `tf.distribute` every replica reads the same (mirrored) state, so the
  replica id is folded in: replicas draw independent noise, and one replica's
  stream is still reproducible.
  """
  seed = tf.convert_to_tensor(seed_generator.next())
  seed = tf.cast(tf.math.floormod(seed, _INT32_MAX - 1), tf.int32)
  context = tf.distribute.get_replica_context()
  if context is not None and context.num_replicas_in_sync > 1:
    seed = tf.random.experimental.stateless_fold_in(
        seed, context.replica_id_in_sync_group)
  return seed


def _check_positive(value, name):
  if not (isinstance(value, (int, float, np.floating, np.integer))
          and math.isfinite(value) and value > 0):
    raise ValueError(f"`{name}` must be a positive finite number, got {value!r}.")
  return float(value)


class _GumbelLayer(keras.layers.Layer):
  """What the categorical and the binary layer share: the temperature weight,
  the seed stream, the inference modes, the KL term and the config."""

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
    super().__init__(**kwargs)
    self.initial_temperature = _check_positive(temperature, "temperature")
    if inference not in _INFERENCE_MODES:
      raise ValueError(f"`inference` must be one of {_INFERENCE_MODES}, got "
                       f"{inference!r}.")
    if estimator not in self._ESTIMATORS:
      raise ValueError(f"`estimator` must be one of {self._ESTIMATORS} for "
                       f"{type(self).__name__}, got {estimator!r}.")
    if not (isinstance(kl_weight, (int, float)) and math.isfinite(kl_weight)
            and kl_weight >= 0):
      raise ValueError(
          f"`kl_weight` must be a non-negative finite number, got {kl_weight!r}.")
    if seed is not None and not isinstance(seed, int):
      raise ValueError(f"`seed` must be an int or None, got {seed!r}.")
    self.hard = bool(hard)
    self.estimator = estimator
    self.trainable_temperature = bool(trainable_temperature)
    self.inference = inference
    self.kl_weight = float(kl_weight)
    self.prior_logits = (None if prior_logits is None
                         else np.asarray(prior_logits, np.float64).tolist())
    self.seed = seed
    self.seed_generator = keras.random.SeedGenerator(seed)
    self.log_temperature = None

  def build(self, input_shape):
    # The weight is log(t): exp keeps every optimizer step positive, and a
    # step in log t is a relative change of t, which suits a scale parameter.
    self.log_temperature = self.add_weight(
        name="log_temperature",
        shape=(),
        initializer=keras.initializers.Constant(
            math.log(self.initial_temperature)),
        trainable=self.trainable_temperature)

  @property
  def temperature(self):
    """The current temperature, `exp(log_temperature)` (float32 Tensor)."""
    return tf.exp(tf.convert_to_tensor(self.log_temperature))

  def set_temperature(self, value):
    """Assigns a new positive temperature (used by `TemperatureAnnealing`)."""
    value = _check_positive(value, "temperature")
    self.log_temperature.assign(math.log(value))

  def _work_dtype(self):
    # float16/bfloat16 cannot hold logits / t at small t (65504 / 1e-3
    # overflows), so relaxed samples are drawn in float32 and cast back.
    dtype = tf.as_dtype(self.compute_dtype)
    return tf.float64 if dtype == tf.float64 else tf.float32

  def call(self, inputs, training=None):
    dtype = self._work_dtype()
    logits = tf.cast(inputs, dtype)
    if self.kl_weight > 0:
      self.add_loss(self.kl_weight * self._kl_loss(logits))
    if training or self.inference == "sample":
      temperature = tf.cast(self.temperature, dtype)
      seed = stateless_seed(self.seed_generator)
      if self.hard:
        outputs = self._hard_sample(logits, temperature, seed)
      else:
        outputs = self._DISTRIBUTION(temperature, logits=logits).sample(
            seed=seed)
    elif self.inference == "mode":
      outputs = self._mode(logits)
    else:
      outputs = self._probs(logits)
    return tf.cast(outputs, self.compute_dtype)

  def _kl_loss(self, logits):
    """KL(q(.|logits) || prior), summed over the latent variables and averaged
    over the batch (the first axis), the ELBO's term for a VAE."""
    prior_logits = (tf.zeros_like(logits) if self.prior_logits is None else
                    tf.broadcast_to(tf.constant(self.prior_logits, logits.dtype),
                                    tf.shape(logits)))
    # The exact KL of the discrete variables: it ignores the temperature.
    one = tf.ones([], logits.dtype)
    kl = monte_carlo.categorical_kl(self._DISTRIBUTION(one, logits=logits),
                                    self._DISTRIBUTION(one, logits=prior_logits))
    if kl.shape.rank == 0:
      return kl
    return tf.reduce_sum(kl) / tf.cast(tf.shape(logits)[0], kl.dtype)

  def save_own_variables(self, store):
    # Keras saves weights but not seed-generator states; saving the stream
    # too makes a loaded model continue it, with the original's outputs.
    store["log_temperature"] = self.log_temperature
    store["seed_state"] = self.seed_generator.state

  def load_own_variables(self, store):
    self.log_temperature.assign(store["log_temperature"])
    self.seed_generator.state.assign(store["seed_state"])

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self):
    config = super().get_config()
    config.update(
        temperature=self.initial_temperature,
        hard=self.hard,
        estimator=self.estimator,
        trainable_temperature=self.trainable_temperature,
        inference=self.inference,
        kl_weight=self.kl_weight,
        prior_logits=self.prior_logits,
        seed=self.seed)
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

  #### Examples

  ```python
  import keras, tfp_gumbel as tfg
  model = keras.Sequential([
      keras.Input([784]),
      keras.layers.Dense(30 * 10), keras.layers.Reshape([30, 10]),
      tfg.layers.GumbelSoftmax(temperature=1.0, kl_weight=1.0),
      keras.layers.Flatten(), keras.layers.Dense(784, "sigmoid")])
  model.compile("adam", "binary_crossentropy")   # + the KL term: an ELBO
  model.fit(x, x, callbacks=[tfg.layers.TemperatureAnnealing(rate=1e-4)])
  model.predict(x)      # the latent codes are one-hot (argmax) at inference
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
    return tf.math.softmax(logits)


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
  ```

  #### References

  [1] Chris J. Maddison, Andriy Mnih, Yee Whye Teh. The Concrete Distribution:
      A Continuous Relaxation of Discrete Random Variables. ICLR 2017.
  [2] Eric Jang, Shixiang Gu, Ben Poole. Categorical Reparameterization with
      Gumbel-Softmax. ICLR 2017.
  """

  _DISTRIBUTION = tfgd.GumbelSigmoid
  _ESTIMATORS = ("st",)

  def _hard_sample(self, logits, temperature, seed):
    return estimators.gumbel_sigmoid_st(logits, temperature, seed=seed)

  def _mode(self, logits):
    return tf.cast(logits > 0, logits.dtype)

  def _probs(self, logits):
    return tf.math.sigmoid(logits)
