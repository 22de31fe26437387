"""What every tfp_gumbel Keras layer shares: temperature, seeds, modes, config.

A relaxation layer turns parameters (logits, scores) into a relaxed sample in
training, a hard sample with an estimator's gradient when `hard=True`, and a
deterministic output at inference. This module holds everything about that
which does not depend on the family: the `log_temperature` weight (which
`TemperatureAnnealing` drives), the seed stream (saved with the model), the
inference modes, and the config. A family's layer subclasses
`RelaxationLayer` and supplies the math through four hooks, each a call into
`tfg.ops` or a kernel with the `keras.ops` namespace, so that every layer
runs on each Keras 3 backend (TensorFlow, JAX, PyTorch) with the same code:

    _soft_sample(params, temperature)   relaxed sample (training)
    _hard_sample(params, temperature)   hard sample, estimator gradient
    _mode(params)                             deterministic hard choice
    _probs(params)                            deterministic soft output

and may add losses in `_add_losses(params, mask)`. The samplers draw their
noise from the layer's `seed_generator` (a `keras.random.SeedGenerator`):
a fresh draw at every call, also inside a compiled step (on JAX Keras
threads the generator's state through the step), and under `tf.distribute`
an independent draw on each replica (`tfp_gumbel._backend.keras_ops`).

Two masks, both handled here for every family:

* `class_mask` (a `call` argument, boolean, broadcastable to the parameters,
  False = impossible): the parameters are set to -inf there with a `where`
  (never arithmetic) before any hook sees them, so a masked class is absent
  from every output (soft, hard, "mode", "probs") and gets a gradient of 0.
  For a binary family a masked unit is forced off (logit -inf, output 0).
* Keras's own `mask` (e.g. from `Embedding(mask_zero=True)`; the shape of the
  parameters without the class axis): the layer propagates it
  (`supports_masking`) and hands it to `_add_losses`, where masked timesteps
  contribute nothing.

An event with nothing possible (every class of a row masked or -inf: a
padded reinforcement-learning state whose actions are all illegal) has no
sample. The layer outputs zeros for it, with a zero gradient, in every mode
and with every estimator, as a masked timestep adds nothing: its parameters
are replaced by 0 before any hook sees them (no NaN enters the graph, so none
reaches a gradient through `0 * NaN`), the output there is set to 0, and it
is masked out of `_add_losses` like a masked timestep. (The distributions
keep TFP's convention instead: such parameters are an error under
`validate_args`.)

ARCHITECTURE.md ("Adding a layer") lists what a new layer implements.
"""

import math

import keras
import numpy as np

from tfp_gumbel import _checks
from tfp_gumbel._backend import keras_ops as xp

__all__ = ["RelaxationLayer"]

_INFERENCE_MODES = ("mode", "probs", "sample")


def _trailing_axes(x, n):
  """`x` with `n` axes of size 1 appended (to broadcast over an event)."""
  for _ in range(n):
    x = keras.ops.expand_dims(x, -1)
  return x


class RelaxationLayer(keras.layers.Layer):
  """Base of the tfp_gumbel layers; see the module doc for the hooks.

  Subclasses set `_ESTIMATORS`, the names accepted for `estimator` (the first
  is the default a subclass should pass on), and `_TEMPERATURE_FREE_ESTIMATORS`,
  those whose hard-sample gradient does not depend on the temperature.
  """

  _ESTIMATORS = ()
  _TEMPERATURE_FREE_ESTIMATORS = ()
  # The rank of one event of the parameters: 1 for K classes or N items, 2 for
  # an N x N matrix, 0 for independent binary units (a masked unit is simply
  # off: it needs no special case).
  _EVENT_NDIMS = 1

  def __init__(self,
               temperature=1.0,
               hard=False,
               estimator="st",
               trainable_temperature=False,
               inference="mode",
               seed=None,
               **kwargs):
    super().__init__(**kwargs)
    self.initial_temperature = _checks.positive(temperature, "temperature")
    if inference not in _INFERENCE_MODES:
      raise ValueError(f"`inference` must be one of {_INFERENCE_MODES}, got "
                       f"{inference!r}.")
    if estimator not in self._ESTIMATORS:
      raise ValueError(f"`estimator` must be one of {self._ESTIMATORS} for "
                       f"{type(self).__name__}, got {estimator!r}.")
    if seed is not None and not isinstance(seed, int):
      raise ValueError(f"`seed` must be an int or None, got {seed!r}.")
    if (hard and trainable_temperature
        and estimator in self._TEMPERATURE_FREE_ESTIMATORS):
      # Keras would only warn at every step that the weight has no gradient.
      raise ValueError(
          f"`trainable_temperature=True` cannot train with `hard=True` and "
          f"`estimator={estimator!r}`: its gradient does not depend on the "
          f"temperature (use another estimator, or a fixed or annealed "
          f"temperature).")
    self.hard = bool(hard)
    self.estimator = estimator
    self.trainable_temperature = bool(trainable_temperature)
    self.inference = inference
    self.seed = seed
    self.seed_generator = keras.random.SeedGenerator(seed)
    self.log_temperature = None
    # Keras's timestep mask passes through unchanged (compute_mask returns it).
    self.supports_masking = True

  def build(self, input_shape):
    # The weight is log(t): exp keeps every optimizer step positive, and a
    # step in log t is a relative change of t, which suits a scale parameter.
    self.log_temperature = self.add_weight(
        name="log_temperature",
        shape=(),
        initializer=keras.initializers.Constant(
            math.log(self.initial_temperature)),
        trainable=self.trainable_temperature,
        # Read in float32 under a mixed precision policy: float16 would
        # round the temperature before the float32 math that needs it.
        autocast=False)

  @property
  def temperature(self):
    """The current temperature, `exp(log_temperature)` (float32 tensor)."""
    return keras.ops.exp(self.log_temperature)

  def set_temperature(self, value):
    """Assigns a new positive temperature (used by `TemperatureAnnealing`)."""
    value = _checks.positive(value, "temperature")
    self.log_temperature.assign(math.log(value))

  def _work_dtype(self):
    # float16/bfloat16 cannot hold logits / t at small t (65504 / 1e-3
    # overflows), so relaxed samples are drawn in float32 and cast back.
    return "float64" if self.compute_dtype == "float64" else "float32"

  def call(self, inputs, training=None, class_mask=None, mask=None):
    """The layer's output for the parameters `inputs`.

    Args:
      inputs: float Tensor of parameters (logits), classes on the last axis.
      training: True for samples; False or None for the `inference` output.
      class_mask: optional boolean Tensor broadcastable to `inputs`; False
        marks an impossible class (a unit forced off, for a binary layer).
      mask: Keras's timestep mask, the shape of `inputs` without the last
        axis; passed on unchanged, and no loss from the masked steps.

    Returns:
      A Tensor of the shape of `inputs`, in the layer's compute dtype.

    #### Example

    ```python
    layer = tfg.layers.GumbelSoftmax(0.5)
    layer(keras.ops.zeros((2, 3)), training=True, class_mask=[True, False, True])
    ```
    """
    dtype = self._work_dtype()
    params = xp.cast(inputs, dtype)
    if (class_mask is None and (training or self.inference == "sample")
        and self._has_finite_sample()):
      # Finite parameters (the usual case: a Dense layer's logits) need
      # none of the masking below, which op by op (PyTorch eagerly, a
      # TensorFlow graph without XLA) costs as much as the sample itself:
      # one reduction decides at run time (`xp.branch_on_finite`; None where
      # a compiler fuses the masking anyway).
      outputs = xp.branch_on_finite(
          params,
          lambda: xp.cast(
              self._finite_sample(params, xp.cast(self.temperature, dtype)),
              self.compute_dtype),
          lambda: self._masked_call(params, training, None, mask))
      if outputs is not None:
        return outputs
    return self._masked_call(params, training, class_mask, mask)

  def _masked_call(self, params, training, class_mask, mask):
    """`call` of the parameters in the work dtype, with the masks and
    impossible events handled."""
    dtype = self._work_dtype()
    neg_inf = xp.constant(-np.inf, dtype)
    zero = xp.constant(0., dtype)
    if class_mask is not None:
      # Broadcast *to* the parameters: a mask may not enlarge the output.
      class_mask = keras.ops.broadcast_to(
          keras.ops.cast(class_mask, "bool"), keras.ops.shape(params))
      params = keras.ops.where(class_mask, params, neg_inf)
    possible_events = None
    if self._EVENT_NDIMS:
      possible_events = keras.ops.any(
          keras.ops.greater(params, neg_inf),
          axis=tuple(range(-self._EVENT_NDIMS, 0)))
      params = keras.ops.where(
          _trailing_axes(possible_events, self._EVENT_NDIMS), params, zero)
      mask = (possible_events if mask is None else keras.ops.logical_and(
          keras.ops.cast(mask, "bool"), possible_events))
    self._add_losses(params, mask)
    if training or self.inference == "sample":
      temperature = self._sample_temperature(dtype)
      if self.hard:
        outputs = self._hard_sample(params, temperature)
      else:
        outputs = self._soft_sample(params, temperature)
    elif self.inference == "mode":
      outputs = self._mode(params)
    else:
      outputs = self._probs(params)
    if possible_events is not None:
      outputs = keras.ops.where(
          _trailing_axes(possible_events,
                         len(outputs.shape) - len(possible_events.shape)),
          outputs, keras.ops.zeros((), outputs.dtype))
    return xp.cast(outputs, self.compute_dtype)

  def _add_losses(self, params, mask):
    """Adds the layer's own losses (none by default); `mask` is Keras's
    timestep mask or None."""
    del params, mask

  def _sample_temperature(self, dtype):
    """The temperature in `dtype`, without a gradient unless it is
    trainable: then -inf parameters need no masking ops for the sake of its
    gradient (`0 * inf`), which a sampler may skip."""
    temperature = xp.cast(self.temperature, dtype)
    if self.trainable_temperature:
      return temperature
    return keras.ops.stop_gradient(temperature)

  def _has_finite_sample(self):
    """Whether `_finite_sample` gives the training sample (without losses
    from `_add_losses`) where every parameter is finite."""
    return False

  def _finite_sample(self, params, temperature):
    """The training sample (`hard` or not) of finite parameters, without
    masking ops."""
    raise NotImplementedError

  def _soft_sample(self, params, temperature):
    raise NotImplementedError

  def _hard_sample(self, params, temperature):
    raise NotImplementedError

  def _mode(self, params):
    raise NotImplementedError

  def _probs(self, params):
    raise NotImplementedError

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
        seed=self.seed)
    return config
