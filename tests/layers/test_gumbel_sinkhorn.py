"""Keras 3 layer GumbelSinkhorn: outputs in training and inference, dtypes and
mixed precision, seeds, temperature gradient, annealing, save/load and what
compiles under XLA."""

import itertools
import warnings

import keras
import numpy as np
import pytest
from scipy import optimize
import tensorflow as tf

import tfp_gumbel as tfg
from tfp_gumbel import distributions as tfgd

POLICIES = {"float32": tf.float32, "float64": tf.float64,
            "mixed_float16": tf.float16}


def _logits(shape, scale=1., seed=0):
  return (scale * np.random.RandomState(seed).normal(size=shape)).astype(
      np.float32)


def _scipy_matching(logits):
  flat = np.asarray(logits, np.float64).reshape((-1,) + logits.shape[-2:])
  out = np.zeros_like(flat)
  for b, m in enumerate(flat):
    rows, cols = optimize.linear_sum_assignment(m, maximize=True)
    out[b, rows, cols] = 1.
  return out.reshape(logits.shape)


def _sorting_model(n, **layer_kwargs):
  x = keras.Input([n])
  h = keras.layers.Reshape([n, 1])(x)
  h = keras.layers.Dense(16, activation="relu")(h)
  logits = keras.layers.Dense(n)(h)
  layer = tfg.layers.GumbelSinkhorn(**layer_kwargs)
  return keras.Model(x, layer(logits)), layer


@pytest.mark.parametrize("hard,policy,shape", list(itertools.product(
    [False, True], POLICIES, [(8, 4, 4), (2, 3, 5, 5)])))
def test_shape_dtype_and_support(hard, policy, shape):
  layer = tfg.layers.GumbelSinkhorn(0.5, hard=hard, dtype=policy, seed=1)
  logits = _logits(shape)
  y = layer(logits, training=True).numpy().astype(np.float64)
  assert layer(logits, training=True).dtype == POLICIES[policy]
  assert y.shape == shape and np.isfinite(y).all() and (y >= 0).all()
  # Columns normalized last: sum to 1 to float16 rounding at worst.
  np.testing.assert_allclose(y.sum(-2), 1., atol=2e-3)
  if hard:
    assert set(np.unique(y)) <= {0., 1.}
    np.testing.assert_array_equal(y.sum(-1), 1.)
  inferred = layer(logits, training=False).numpy().astype(np.float64)
  np.testing.assert_array_equal(inferred, _scipy_matching(logits))


def test_inference_modes():
  logits = _logits((6, 4, 4))
  probs = tfg.layers.GumbelSinkhorn(inference="probs", num_iters=50)(logits)
  np.testing.assert_allclose(
      probs, tf.exp(tfgd.gumbel_sinkhorn.log_sinkhorn(
          tf.constant(logits), 50)), rtol=1e-6)
  np.testing.assert_allclose(np.sum(probs, -1), 1., atol=1e-4)
  layer = tfg.layers.GumbelSinkhorn(inference="sample", seed=3)
  a, b = layer(logits), layer(logits)
  assert not np.allclose(a, b)   # fresh noise at every call
  mode = tfg.layers.GumbelSinkhorn()(logits)
  np.testing.assert_array_equal(mode, _scipy_matching(logits))
  # By default the probs are the converged Sinkhorn matrix: rows within 1e-5.
  probs = tfg.layers.GumbelSinkhorn(inference="probs")(logits)
  np.testing.assert_allclose(np.sum(probs, -1), 1., atol=1e-5)
  np.testing.assert_allclose(np.sum(probs, -2), 1., atol=1e-5)


def test_training_sample_is_the_functional_sample():
  # The layer draws tfg.ops.gumbel_sinkhorn's sample (tests/test_ops.py
  # holds it to the distribution's on the same noise) from its seed stream,
  # at temperature exp(log_temperature).
  layer = tfg.layers.GumbelSinkhorn(0.7, num_iters=9, seed=5)
  logits = _logits((3, 4, 4))
  expected = tfg.ops.gumbel_sinkhorn(logits, tf.exp(tf.math.log(0.7)),
                                     seed=keras.random.SeedGenerator(5),
                                     num_iters=9)
  np.testing.assert_allclose(layer(logits, training=True), expected,
                             rtol=1e-5, atol=1e-6)


def test_seeds_reproducible_and_fresh_at_every_call():
  logits = _logits((2, 4, 4))
  a, b = (tfg.layers.GumbelSinkhorn(seed=7) for _ in range(2))
  first = a(logits, training=True)
  np.testing.assert_array_equal(first, b(logits, training=True))
  assert not np.allclose(first, a(logits, training=True))


@pytest.mark.parametrize("hard", [False, True])
def test_temperature_gets_a_finite_difference_gradient(hard):
  logits = tf.constant(_logits((2, 4, 4)))
  weights = tf.constant(_logits((4, 4), seed=1))

  def loss_at(log_t, layer):
    layer.log_temperature.assign(log_t)
    return tf.reduce_sum(layer(logits, training=True) * weights)

  layer = tfg.layers.GumbelSinkhorn(0.8, hard=hard, seed=2,
                                    trainable_temperature=True)
  layer.build(logits.shape)
  state = layer.seed_generator.state.numpy()
  with tf.GradientTape() as tape:
    loss = loss_at(np.log(0.8), layer)
  grad = tape.gradient(loss, layer.log_temperature.value)
  # Relaxed-path loss at log t +- h, with the same noise (seed state reset).
  soft = tfg.layers.GumbelSinkhorn(0.8, hard=False, seed=2)
  soft.build(logits.shape)
  h, values = 1e-3, []
  for log_t in (np.log(0.8) + h, np.log(0.8) - h):
    soft.seed_generator.state.assign(state)
    values.append(float(loss_at(log_t, soft)))
  np.testing.assert_allclose(float(grad), (values[0] - values[1]) / (2 * h),
                             rtol=2e-2, atol=1e-4)


@pytest.mark.parametrize("hard,policy", [(False, "float32"), (True, "float32"),
                                         (False, "mixed_float16"),
                                         (True, "mixed_float16")])
def test_finite_at_extreme_temperature_and_logits(hard, policy):
  # logits / t = 1e6 would overflow float16: computed in float32 inside.
  layer = tfg.layers.GumbelSinkhorn(1e-3, hard=hard, dtype=policy,
                                    trainable_temperature=True, seed=12)
  logits = tf.Variable(1e3 * _logits((8, 5, 5), seed=4))
  with tf.GradientTape() as tape:
    y = layer(logits, training=True)
    loss = tf.reduce_sum(tf.cast(y, tf.float32) * _logits((5, 5), seed=5))
  grads = tape.gradient(loss, [logits, layer.log_temperature.value])
  assert y.dtype == POLICIES[policy]
  for value in [y, loss] + grads:
    assert np.all(np.isfinite(value))


def test_learns_to_sort_and_annealing_drives_it():
  n = 4
  model, layer = _sorting_model(n, temperature=1.0, seed=0)
  x = np.random.RandomState(0).uniform(size=(512, n)).astype(np.float32)
  out = keras.layers.Lambda(lambda p: tf.einsum("bij,bi->bj", p[0], p[1]))(
      [model.output, model.input])
  trainer = keras.Model(model.input, out)
  trainer.compile(keras.optimizers.Adam(0.01), "mse")
  anneal = tfg.layers.TemperatureAnnealing(
      initial_temperature=1.0, rate=2e-2, min_temperature=0.3, update_every=16)
  history = trainer.fit(x, np.sort(x, -1), epochs=8, batch_size=32, verbose=0,
                        callbacks=[anneal])
  assert history.history["temperature"][-1] == 0.3
  np.testing.assert_allclose(layer.temperature, 0.3, rtol=1e-6)
  test = np.random.RandomState(1).uniform(size=(200, n)).astype(np.float32)
  p = model.predict(test, verbose=0)        # hard matchings at inference
  sorted_hat = np.einsum("bij,bi->bj", p, test)
  # Chance: 1/24 of the sequences right. Measured after 8 epochs: 100%.
  assert np.mean(np.all(sorted_hat == np.sort(test, -1), -1)) > 0.5


def test_jit_compile_soft_path_compiles_and_matching_path_falls_back():
  n = 4
  x = np.random.RandomState(0).uniform(size=(64, n)).astype(np.float32)
  y = np.zeros((64, n, n), np.float32)
  # Soft training, soft inference: compiled with XLA.
  model, layer = _sorting_model(n, inference="probs", seed=0)
  assert layer.supports_jit
  model.compile("adam", "mse", jit_compile=True)
  assert model.jit_compile
  model.fit(x, y, epochs=1, batch_size=16, verbose=0)
  assert np.isfinite(model.predict(x, verbose=0)).all()
  # The relaxed sample under an explicit XLA function, too.
  fn = tf.function(lambda l: layer(l, training=True), jit_compile=True)
  assert np.isfinite(fn(tf.constant(_logits((2, n, n)))).numpy()).all()
  # Matching at inference (default) or hard=True: Keras is told the layer
  # does not support XLA and compiles without it, with a warning.
  for kwargs in (dict(), dict(hard=True, inference="probs")):
    model, layer = _sorting_model(n, seed=0, **kwargs)
    assert not layer.supports_jit
    with warnings.catch_warnings(record=True) as caught:
      warnings.simplefilter("always")
      model.compile("adam", "mse", jit_compile=True)
    assert not model.jit_compile
    assert any("jit_compile" in str(w.message) for w in caught)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(model.predict(x, verbose=0)).all()


@pytest.mark.parametrize("hard", [False, True])
def test_save_load_round_trip(hard, tmp_path):
  # Fixed rounds with hard=False, the converged solver with its options
  # with hard=True: both round-trip.
  options = (dict(tolerance=1e-4, max_iters=30) if hard
             else dict(num_iters=7))
  model, layer = _sorting_model(4, temperature=0.5, hard=hard,
                                trainable_temperature=True, seed=11,
                                **options)
  model.compile("adam", "mse")
  x = np.random.RandomState(0).uniform(size=(8, 4)).astype(np.float32)
  model.fit(x, np.zeros((8, 4, 4), np.float32), batch_size=2, verbose=0)
  model.save(tmp_path / "m.keras")
  loaded = keras.models.load_model(tmp_path / "m.keras")
  loaded_layer = loaded.layers[-1]
  assert loaded_layer.get_config() == layer.get_config()
  for name in ("num_iters", "tolerance", "max_iters"):
    assert getattr(loaded_layer, name) == options.get(
        name, getattr(tfg.layers.GumbelSinkhorn(), name))
  np.testing.assert_array_equal(loaded_layer.temperature, layer.temperature)
  for training in (True, True, False):
    np.testing.assert_array_equal(loaded(x, training=training),
                                  model(x, training=training))


@pytest.mark.parametrize("kwargs,match", [
    ({"temperature": 0.}, "`temperature`"),
    ({"num_iters": 0}, "`num_iters`"),
    ({"num_iters": 2.}, "`num_iters`"),
    ({"tolerance": -1e-3}, "`tolerance`"),
    ({"max_iters": 0}, "`max_iters`"),
    ({"inference": "argmax"}, "`inference`"),
    ({"estimator": "gumbel_rao"}, "`estimator`"),
    ({"seed": (1, 2)}, "`seed`"),
])
def test_bad_arguments_raise(kwargs, match):
  with pytest.raises(ValueError, match=match):
    tfg.layers.GumbelSinkhorn(**kwargs)
