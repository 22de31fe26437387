"""Keras 3 layer RelaxedPlackettLuce: shapes and dtypes (mixed precision
included), inference outputs, the law of the hard training output, save/load,
annealing, a learned temperature and a compiled fit."""

import itertools

import keras
import numpy as np
import pytest
from scipy import stats
import tensorflow as tf

import tfp_gumbel as tfg
from tfp_gumbel import distributions as tfgd

POLICIES = {"float32": tf.float32, "float64": tf.float64,
            "mixed_float16": tf.float16, "mixed_bfloat16": tf.bfloat16}


def _log_scores(shape, seed=0):
  return np.random.RandomState(seed).normal(size=shape).astype(np.float32)


def _assert_permutation_matrix(p):
  p = np.asarray(p, np.float64)
  assert np.all((p == 0.) | (p == 1.))
  np.testing.assert_array_equal(p.sum(-1), 1.)
  np.testing.assert_array_equal(p.sum(-2), 1.)


@pytest.mark.parametrize("hard,policy", list(itertools.product(
    [False, True], POLICIES)))
def test_shape_dtype_and_support(hard, policy):
  layer = tfg.layers.RelaxedPlackettLuce(0.5, hard=hard, dtype=policy, seed=1)
  x = _log_scores((3, 2, 5))
  for training in (True, False):
    y = layer(x, training=training)
    assert y.shape == (3, 2, 5, 5) and y.dtype == POLICIES[policy]
    if hard or not training:
      _assert_permutation_matrix(y)
    else:
      y = np.asarray(tf.cast(y, tf.float64))
      assert np.all(y >= 0.) and np.all(np.isfinite(y))
      # Rows sum to 1 up to the rounding of the output dtype (bfloat16: 2^-8).
      np.testing.assert_allclose(y.sum(-1), 1., atol=2e-2)
  assert layer.compute_output_shape((3, 2, 5)) == (3, 2, 5, 5)


def test_inference_outputs():
  x = _log_scores((6, 4))
  mode = tfg.layers.RelaxedPlackettLuce(0.5)(x)
  np.testing.assert_array_equal(
      np.argmax(mode, -1), np.argsort(-x, axis=-1, kind="stable"))
  probs = tfg.layers.RelaxedPlackettLuce(0.5, inference="probs")(x)
  np.testing.assert_allclose(
      probs, tfgd.relaxed_plackett_luce.neural_sort(x, 0.5),
      rtol=1e-6)
  sample = tfg.layers.RelaxedPlackettLuce(0.5, inference="sample", seed=3)
  assert not np.array_equal(sample(x), sample(x))


@pytest.mark.parametrize("hard", [False, True])
def test_training_permutations_are_plackett_luce(hard):
  # 3 items, 6 orders; the first-ranked item is chosen w.p. softmax(x).
  x = np.log(np.array([1., 2., 5.], np.float32))
  layer = tfg.layers.RelaxedPlackettLuce(0.3, hard=hard, seed=5)
  y = layer(np.tile(x, [20000, 1]), training=True)
  first = np.argmax(np.asarray(y)[:, 0, :], -1)
  counts = np.bincount(first, minlength=3)
  p = stats.chisquare(counts, 20000 * np.array([1., 2., 5.]) / 8.).pvalue
  assert p > 1e-3


def test_save_load_round_trip_and_annealing(tmp_path):
  layer = tfg.layers.RelaxedPlackettLuce(
      2., hard=True, trainable_temperature=False, seed=11, inference="sample")
  model = keras.Sequential([keras.Input([4]), keras.layers.Dense(4), layer,
                            keras.layers.Flatten(), keras.layers.Dense(1)])
  model.compile("adam", "mse", jit_compile=True)
  x = _log_scores((8, 4))
  anneal = tfg.layers.TemperatureAnnealing(initial_temperature=2., rate=0.1,
                                           update_every=1,
                                           min_temperature=0.1)
  history = model.fit(x, x[:, :1], batch_size=2, epochs=2, verbose=0,
                      callbacks=[anneal])
  assert np.all(np.isfinite(history.history["loss"]))
  # 8 steps of exp(-0.1 step) from 2: the last step set t = 2 exp(-0.7).
  np.testing.assert_allclose(layer.temperature, 2. * np.exp(-0.7), rtol=1e-6)
  model.save(tmp_path / "m.keras")
  loaded = keras.models.load_model(tmp_path / "m.keras")
  assert loaded.layers[1].get_config() == layer.get_config()
  for training in (True, False):
    np.testing.assert_array_equal(loaded(x, training=training),
                                  model(x, training=training))


def test_learned_temperature_gets_a_gradient():
  layer = tfg.layers.RelaxedPlackettLuce(1., trainable_temperature=True,
                                         seed=2)
  x = tf.constant(_log_scores((16, 5)))
  with tf.GradientTape() as tape:
    y = layer(x, training=True)
    loss = tf.reduce_sum(y * tf.reshape(tf.range(25.), [5, 5]))
  (grad,) = tape.gradient(loss, layer.trainable_weights)
  assert np.isfinite(grad) and grad != 0.


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_fit(policy):
  keras.mixed_precision.set_global_policy(policy)
  try:
    model = keras.Sequential([
        keras.Input([5]), keras.layers.Dense(5),
        tfg.layers.RelaxedPlackettLuce(0.5, seed=1),
        keras.layers.Flatten(), keras.layers.Dense(1, dtype="float32")])
    model.compile("adam", "mse")
    history = model.fit(_log_scores((32, 5)), np.ones([32, 1]), epochs=2,
                        verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
  finally:
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("kwargs,match", [
    (dict(temperature=0.), "temperature"),
    (dict(estimator="gumbel_rao"), "estimator"),
    (dict(inference="argmax"), "inference"),
])
def test_bad_arguments_raise(kwargs, match):
  with pytest.raises(ValueError, match=match):
    tfg.layers.RelaxedPlackettLuce(**kwargs)
