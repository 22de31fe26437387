"""Keras 3 layer RelaxedTopK: outputs per mode, law of the hard subsets,
temperature, annealing, jit-compiled fit, save/load, mixed precision, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfp_gumbel as tfg
from tests.distributions import test_relaxed_top_k as distribution_tests

POLICIES = {"float32": tf.float32, "float64": tf.float64,
            "mixed_float16": tf.float16}


def _logits(shape, scale=1., seed=0):
  return (scale * np.random.RandomState(seed).normal(size=shape)).astype(
      np.float32)


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("hard", [False, True])
def test_shape_dtype_and_sum(policy, hard):
  layer = tfg.layers.RelaxedTopK(3, temperature=0.5, hard=hard, dtype=policy,
                                 seed=1)
  x = _logits((4, 2, 7))
  y = layer(x, training=True)
  assert y.shape == (4, 2, 7) and y.dtype == POLICIES[policy]
  tol = 1e-2 if policy == "mixed_float16" else 1e-5
  np.testing.assert_allclose(tf.reduce_sum(tf.cast(y, tf.float64), -1), 3.,
                             atol=tol)
  if hard:
    assert set(np.unique(tf.cast(y, tf.float32).numpy())) == {0., 1.}


def test_inference_modes():
  x = np.array([[0.5, 3., -1., 2., 1.]], np.float32)
  mode = tfg.layers.RelaxedTopK(2, temperature=0.1)(x)
  np.testing.assert_array_equal(mode, [[0., 1., 0., 1., 0.]])
  predicted = keras.Sequential([keras.Input([5]), tfg.layers.RelaxedTopK(2)]
                               ).predict(x, verbose=0)
  np.testing.assert_array_equal(predicted, mode)
  probs = tfg.layers.RelaxedTopK(2, temperature=0.1, inference="probs")(x)
  # Noise-free relaxation: close to the top-2 mask at t = 0.1 (key gap 1).
  np.testing.assert_allclose(probs, mode, atol=1e-3)
  layer = tfg.layers.RelaxedTopK(2, inference="sample", seed=3)
  assert not np.allclose(layer(x), layer(x))


def test_hard_subset_law_is_plackett_luce_top_k():
  # The layer's hard samples are Gumbel-top-2 sets: chi-square of the 10
  # subsets against the enumeration of tfd.PlackettLuce(probs), 20000 draws,
  # fixed seed (a correct layer fails p > 1e-3 with probability 1e-3;
  # measured p = 0.46).
  n = 20_000
  logits = np.log(np.tile(distribution_tests.PROBS, [n, 1])).astype(np.float32)
  layer = tfg.layers.RelaxedTopK(2, temperature=1.0, hard=True, seed=5)
  y = layer(logits, training=True).numpy()
  expected = distribution_tests.subset_probs_by_enumeration(
      distribution_tests.PROBS, 2)
  p_value = distribution_tests.chisquare_of_subsets(y, 2, expected)
  assert p_value > 1e-3, p_value


def test_learned_temperature_and_jit_compiled_fit():
  # Targets are the exact top-2 mask of fixed logits: sharper samples fit
  # them better, so a trainable temperature goes down under jit-compiled fit.
  layer = tfg.layers.RelaxedTopK(2, temperature=1.0,
                                 trainable_temperature=True, seed=10)
  model = keras.Sequential([keras.Input([5]), layer])
  model.compile(keras.optimizers.Adam(0.1), "mse", jit_compile=True)
  x = np.tile(np.float32([[4., 0., 4., 0., 0.]]), [64, 1])
  y = np.tile(np.float32([[1., 0., 1., 0., 0.]]), [64, 1])
  model.fit(x, y, batch_size=16, epochs=3, verbose=0)
  assert float(layer.log_temperature.numpy()) < -0.1


def test_annealing_drives_the_layer():
  layer = tfg.layers.RelaxedTopK(2, temperature=1.0, seed=2)
  model = keras.Sequential([keras.Input([6]), keras.layers.Dense(6), layer])
  model.compile("adam", "mse", jit_compile=True)
  x = _logits((32, 6))
  anneal = tfg.layers.TemperatureAnnealing(
      initial_temperature=1.0, rate=0.1, min_temperature=0.3, update_every=1)
  history = model.fit(x, x, batch_size=4, epochs=2, verbose=0,
                      callbacks=[anneal])
  # 16 steps: max(0.3, exp(-0.1 * 15)) = 0.3 at the last update.
  np.testing.assert_allclose(layer.temperature, 0.3, rtol=1e-5)
  assert history.history["temperature"][-1] == pytest.approx(0.3)


@pytest.mark.parametrize("hard", [False, True])
def test_save_load_round_trip(hard, tmp_path):
  layer = tfg.layers.RelaxedTopK(3, temperature=0.5, hard=hard,
                                 trainable_temperature=True, seed=11)
  model = keras.Sequential([keras.Input([6]), keras.layers.Dense(6), layer])
  model.compile("adam", "mse")
  x = _logits((8, 6))
  model.fit(x, x, batch_size=2, verbose=0)
  model.save(tmp_path / "m.keras")
  loaded = keras.models.load_model(tmp_path / "m.keras")
  assert loaded.layers[-1].get_config() == layer.get_config()
  assert loaded.layers[-1].k == 3
  np.testing.assert_array_equal(loaded.layers[-1].temperature,
                                layer.temperature)
  for training in (True, True, False):
    np.testing.assert_array_equal(loaded(x, training=training),
                                  model(x, training=training))


@pytest.mark.parametrize("hard,policy", [(False, "float32"),
                                         (True, "float32"),
                                         (False, "mixed_float16"),
                                         (True, "mixed_float16")])
def test_finite_at_extreme_temperature_and_logits(hard, policy):
  # logits / t = 1e6 overflows float16: mixed precision computes in float32.
  layer = tfg.layers.RelaxedTopK(3, temperature=1e-3, hard=hard, dtype=policy,
                                 trainable_temperature=True, seed=12)
  rng = np.random.RandomState(3)
  logits = tf.Variable(1e3 * rng.choice([-1., 1.], size=(16, 8))
                       * rng.uniform(0.5, 1., size=(16, 8)), dtype=tf.float32)
  with tf.GradientTape() as tape:
    y = layer(logits, training=True)
    loss = tf.reduce_sum(tf.cast(y, tf.float32) * rng.normal(size=(16, 8)))
  grads = tape.gradient(loss, [logits, layer.log_temperature.value])
  assert y.dtype == POLICIES[policy]
  for value in [y, loss] + grads:
    assert np.all(np.isfinite(value))


def test_mixed_precision_model_fits():
  layer = tfg.layers.RelaxedTopK(2, temperature=0.5, dtype="mixed_float16")
  model = keras.Sequential([keras.Input([5]), keras.layers.Dense(
      5, dtype="mixed_float16"), layer])
  model.compile("adam", "mse", jit_compile=True)
  x = _logits((16, 5))
  history = model.fit(x, x, batch_size=8, epochs=2, verbose=0)
  assert np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize("kwargs,match", [
    ({"k": 0}, "`k`"), ({"k": 2.5}, "`k`"), ({"k": True}, "`k`"),
    ({"k": 2, "temperature": 0.}, "`temperature`"),
    ({"k": 2, "estimator": "gumbel_rao"}, "`estimator`"),
    ({"k": 2, "inference": "argmax"}, "`inference`"),
])
def test_bad_arguments_raise(kwargs, match):
  with pytest.raises(ValueError, match=match):
    tfg.layers.RelaxedTopK(**kwargs)


def test_k_larger_than_the_classes_raises_at_build():
  with pytest.raises(ValueError, match="`k`"):
    tfg.layers.RelaxedTopK(6)(np.zeros([2, 5], np.float32))
