"""TemperatureAnnealing: the temperatures it sets during fit, its logs, and
bad input."""

import math

import keras
import numpy as np
import pytest

import tfp_gumbel as tfg


class _Recorder(keras.callbacks.Callback):
  """Per step: (optimizer step, layer temperature, logs["temperature"])."""

  def __init__(self, layer):
    super().__init__()
    self.layer, self.rows = layer, []

  def on_train_batch_begin(self, batch, logs=None):
    self._step = int(self.model.optimizer.iterations)
    self._temperature = float(self.layer.temperature)

  def on_train_batch_end(self, batch, logs=None):
    self.rows.append((self._step, self._temperature, logs["temperature"]))


def _fit(callbacks, layer, steps, epochs=1):
  # The Gumbel layer sits in a nested model: the callback must find it there.
  model = keras.Sequential([
      keras.Input([3]), keras.layers.Dense(3),
      keras.Sequential([keras.Input([3]), layer])])
  model.compile("sgd", "mse")
  x = np.ones([steps, 3], np.float32)
  return model.fit(x, x, batch_size=1, epochs=epochs, verbose=0,
                   callbacks=callbacks)


@pytest.mark.parametrize("schedule,expected", [
    # Jang et al.: max(t_min, t0 exp(-r * step)), held for `update_every`.
    (dict(initial_temperature=2., rate=0.1, min_temperature=0.5,
          update_every=3),
     lambda s: max(0.5, 2. * math.exp(-0.1 * 3 * (s // 3)))),
    (dict(schedule=lambda s: 1. / (1. + s), update_every=2),
     lambda s: 1. / (1. + 2 * (s // 2))),
])
def test_temperatures_set_during_fit(schedule, expected):
  layer = tfg.layers.GumbelSoftmax(5.)
  anneal = tfg.layers.TemperatureAnnealing(**schedule)
  recorder = _Recorder(layer)
  history = _fit([anneal, recorder], layer, steps=8, epochs=2)
  # A second fit continues from the optimizer's step count.
  history.model.fit(np.ones([4, 3]), np.ones([4, 3]), batch_size=1,
                    verbose=0, callbacks=[anneal, recorder])
  steps, temperatures, logged = map(np.array, zip(*recorder.rows))
  np.testing.assert_array_equal(steps, np.arange(20))
  want = [expected(s) for s in steps]
  # float32 exp(log t): relative error ~ a few float32 ulps.
  np.testing.assert_allclose(temperatures, want, rtol=1e-6)
  np.testing.assert_allclose(logged, want, rtol=1e-12)
  np.testing.assert_allclose(history.history["temperature"],
                             [expected(7), expected(15)], rtol=1e-12)


def test_learned_temperature_is_not_annealed():
  layer = tfg.layers.GumbelSoftmax(trainable_temperature=True)
  with pytest.raises(ValueError, match="trainable_temperature"):
    _fit([tfg.layers.TemperatureAnnealing()], layer, steps=2)


def test_model_without_gumbel_layer():
  model = keras.Sequential([keras.Input([3]), keras.layers.Dense(3)])
  model.compile("sgd", "mse")
  with pytest.raises(ValueError, match="no tfg.layers layer"):
    model.fit(np.ones([2, 3]), np.ones([2, 3]), verbose=0,
              callbacks=[tfg.layers.TemperatureAnnealing()])


@pytest.mark.parametrize("kwargs,match", [
    (dict(initial_temperature=0.), "`initial_temperature`"),
    (dict(min_temperature=-1.), "`min_temperature`"),
    (dict(rate=-1e-4), "`rate`"),
    (dict(update_every=0), "`update_every`"),
    (dict(update_every=2.5), "`update_every`"),
    (dict(schedule=0.5), "`schedule`"),
])
def test_bad_arguments_raise(kwargs, match):
  with pytest.raises(ValueError, match=match):
    tfg.layers.TemperatureAnnealing(**kwargs)
