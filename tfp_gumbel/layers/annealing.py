"""A Keras callback that anneals the temperature of the Gumbel layers."""

import math

import keras

from tfp_gumbel import _checks
from tfp_gumbel.layers import _base

__all__ = ["TemperatureAnnealing"]


def _gumbel_layers(layer):
  """`layer` and every layer nested in it that is a tfp_gumbel layer."""
  found = [layer] if isinstance(layer, _base.RelaxationLayer) else []
  for sublayer in getattr(layer, "layers", ()):
    found += [l for l in _gumbel_layers(sublayer) if l not in found]
  return found


class TemperatureAnnealing(keras.callbacks.Callback):
  r"""Anneals the temperature of `tfg.layers` layers during `model.fit`.

  By default the schedule of Jang et al. (2017): every `update_every`
  optimizer steps the temperature is set to

  ```none
  t(step) = max(min_temperature, initial_temperature * exp(-rate * step))
  ```

  (they used `rate` in {1e-5, 1e-4}, `update_every=500`, `min_temperature=0.5`).
  Any callable `schedule(step) -> temperature` can replace it; it too is
  evaluated only at multiples of `update_every`. The step is the optimizer's
  iteration count, so a second `fit` (or a restored model) continues the
  schedule where it stopped.

  The current temperature is written to `logs["temperature"]` at the end of
  every batch and epoch, so it shows on the progress bar, in `History` and in
  `keras.callbacks.TensorBoard` (list this callback before TensorBoard).

  #### Examples

  ```python
  x = np.random.RandomState(0).normal(size=[32, 8]).astype("float32")
  model = keras.Sequential([keras.Input([8]), keras.layers.Dense(4 * 3),
                            keras.layers.Reshape([4, 3]),
                            tfg.layers.GumbelSoftmax(temperature=1.0)])
  model.compile("adam", "mse")
  anneal = tfg.layers.TemperatureAnnealing(rate=1e-2, update_every=1)
  model.fit(x, np.zeros([32, 4, 3]), epochs=3, callbacks=[anneal], verbose=0)
  model.history.history["temperature"]             # one value per epoch, falling
  ```

  #### References

  [1] Eric Jang, Shixiang Gu, Ben Poole. Categorical Reparameterization with
      Gumbel-Softmax. ICLR 2017, section 4.
  """

  def __init__(self,
               initial_temperature=1.0,
               rate=1e-4,
               min_temperature=0.5,
               update_every=500,
               schedule=None,
               layers=None):
    """Builds the callback.

    Args:
      initial_temperature: positive float, `t` at step 0.
      rate: non-negative float, the exponential decay rate per step.
      min_temperature: positive float, the floor of the default schedule.
      update_every: positive int, steps between updates.
      schedule: optional callable `step -> temperature` replacing the default.
      layers: the layers to anneal; by default every `tfg.layers` layer of the
        model (nested models included).

    Raises:
      ValueError: non-positive temperatures or `update_every`, negative
        `rate`, a non-callable `schedule`.
    """
    super().__init__()
    for name, value in [("initial_temperature", initial_temperature),
                        ("min_temperature", min_temperature)]:
      _checks.positive(value, name)
    if not (math.isfinite(rate) and rate >= 0):
      raise ValueError(f"`rate` must be non-negative and finite, got {rate!r}.")
    _checks.integer(update_every, "update_every")
    if schedule is not None and not callable(schedule):
      raise ValueError(f"`schedule` must be callable, got {schedule!r}.")
    self.initial_temperature = float(initial_temperature)
    self.rate = float(rate)
    self.min_temperature = float(min_temperature)
    self.update_every = update_every
    self.schedule = schedule or self._jang_schedule
    self._layers = layers
    self._temperature = None

  def _jang_schedule(self, step):
    return max(self.min_temperature,
               self.initial_temperature * math.exp(-self.rate * step))

  def temperature_at(self, step):
    """The temperature the callback sets at optimizer step `step`."""
    return float(self.schedule(step - step % self.update_every))

  def on_train_begin(self, logs=None):
    if self._layers is None:
      self._layers = _gumbel_layers(self.model)
    if not self._layers:
      raise ValueError("TemperatureAnnealing found no tfg.layers layer in the "
                       "model; pass `layers=`.")
    learned = [l.name for l in self._layers if l.trainable_temperature]
    if learned:
      raise ValueError(
          f"TemperatureAnnealing would overwrite the learned temperature of "
          f"{learned}; use trainable_temperature=False to anneal it.")
    self._temperature = None

  def on_train_batch_begin(self, batch, logs=None):
    temperature = self.temperature_at(int(self.model.optimizer.iterations))
    if temperature != self._temperature:
      for layer in self._layers:
        layer.set_temperature(temperature)
      self._temperature = temperature

  def on_train_batch_end(self, batch, logs=None):
    if logs is not None:
      logs["temperature"] = self._temperature

  def on_epoch_end(self, epoch, logs=None):
    if logs is not None:
      logs["temperature"] = self._temperature
