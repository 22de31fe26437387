"""Keras 3 layers GumbelSoftmax and GumbelSigmoid: what their shared base
(tfp_gumbel/layers/_gumbel.py, on `_base.RelaxationLayer`) gives both, each
test run on both layers: shapes and dtypes, training vs inference, seeds,
temperature gradient and learning, the exact KL term, save/load, float32 /
mixed-precision numerics and bad arguments.

Each layer's own law is tested in test_gumbel_softmax.py and
test_gumbel_sigmoid.py.
"""

import itertools

import keras
import numpy as np
import pytest
from scipy import special
import tensorflow as tf

import tfp_gumbel as tfg
from tests.layers import gumbel_util

LAYERS = {"softmax": tfg.layers.GumbelSoftmax,
          "sigmoid": tfg.layers.GumbelSigmoid}
# Layer dtype policy -> output dtype.
POLICIES = {"float32": tf.float32, "float64": tf.float64,
            "mixed_float16": tf.float16, "mixed_bfloat16": tf.bfloat16}


@pytest.mark.parametrize("kind,hard,policy,shape", list(itertools.product(
    LAYERS, [False, True], POLICIES, [(8, 5), (2, 3, 5)])))
def test_shape_dtype_and_support(kind, hard, policy, shape):
  layer = LAYERS[kind](0.5, hard=hard, dtype=policy, seed=1)
  logits = gumbel_util.logits(shape)
  for training in (True, False):
    y = layer(logits, training=training)
    assert y.shape == shape
    assert y.dtype == POLICIES[policy]
    if hard or not training:
      gumbel_util.assert_vertex(y, kind)
    else:
      gumbel_util.assert_relaxed(y, kind)
  assert layer.log_temperature.dtype == ("float64" if policy == "float64"
                                         else "float32")
  assert layer.compute_output_shape(shape) == shape


@pytest.mark.parametrize("kind", LAYERS)
def test_inference_modes(kind):
  logits = gumbel_util.logits((6, 5), scale=3.)
  make = lambda inference: LAYERS[kind](0.5, inference=inference, seed=2)
  if kind == "softmax":
    mode = np.eye(5)[np.argmax(logits, -1)]
    probs = special.softmax(logits.astype(np.float64), -1)
  else:
    mode, probs = (logits > 0).astype(np.float64), special.expit(logits)
  # training=None (a direct call, model.predict) means inference.
  np.testing.assert_array_equal(make("mode")(logits), mode)
  model = keras.Sequential([keras.Input([5]), make("mode")])
  np.testing.assert_array_equal(model.predict(logits, verbose=0), mode)
  np.testing.assert_allclose(make("probs")(logits, training=False), probs,
                             rtol=1e-6)
  sampler = make("sample")
  first, second = sampler(logits), sampler(logits)
  gumbel_util.assert_relaxed(first, kind)
  assert not np.array_equal(first, second)


@pytest.mark.parametrize("kind", LAYERS)
def test_seeds_reproducible_and_fresh_at_every_call(kind):
  logits = gumbel_util.logits((4, 5))
  draws = lambda layer: [layer(logits, training=True).numpy() for _ in range(2)]
  a, b, c = (draws(LAYERS[kind](seed=s)) for s in (7, 7, 8))
  unseeded = [draws(LAYERS[kind]())[0] for _ in range(2)]
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a[0], a[1])
  assert not np.array_equal(a[0], c[0])
  assert not np.array_equal(*unseeded)
  # The same in a compiled function: the seed state advances inside it.
  compiled = [LAYERS[kind](seed=7) for _ in range(2)]
  first = [gumbel_util.draw(compiled[0], logits).numpy() for _ in range(2)]
  np.testing.assert_array_equal(first[0], gumbel_util.draw(compiled[1], logits))
  assert not np.array_equal(first[0], first[1])


@pytest.mark.parametrize("kind", LAYERS)
def test_temperature_gradient_matches_finite_difference(kind):
  # float64; the noise is held fixed by restoring the seed state before
  # every evaluation. Central differences with h = 1e-6 have error
  # O(h^2 f''') ~ 1e-12 plus rounding ~ 1e-16 / h = 1e-10.
  layer = LAYERS[kind](0.7, trainable_temperature=True, dtype="float64",
                       seed=9)
  logits = gumbel_util.logits((6, 4)).astype(np.float64)
  weights = np.random.RandomState(1).normal(size=(6, 4))
  layer.build(logits.shape)
  state = layer.seed_generator.state.numpy()
  assert [w.path for w in layer.trainable_weights] == [
      layer.log_temperature.path]

  def loss():
    layer.seed_generator.state.assign(state)
    return tf.reduce_sum(weights * layer(logits, training=True))

  with tf.GradientTape() as tape:
    value = loss()
  grad = tape.gradient(value, layer.log_temperature.value).numpy()
  h, log_t = 1e-6, float(layer.log_temperature.numpy())
  layer.log_temperature.assign(log_t + h)
  up = float(loss())
  layer.log_temperature.assign(log_t - h)
  down = float(loss())
  assert abs(grad) > 1e-3  # not trivially zero
  np.testing.assert_allclose(grad, (up - down) / (2 * h), rtol=1e-6)


@pytest.mark.parametrize("kind,logit,target,direction", [
    ("softmax", [6., 0., 0.], [1., 0., 0.], -1),      # vertex: sharpen
    ("softmax", [2., 0., 0.], [1 / 3] * 3, +1),       # center: flatten
    ("sigmoid", [6., 6., 6.], [1., 1., 1.], -1),
    ("sigmoid", [2., 2., 2.], [.5, .5, .5], +1),
])
def test_learned_temperature_moves_towards_the_target(kind, logit, target,
                                                      direction):
  # Fixed logits and an MSE target: near-one-hot targets are fitted better by
  # sharper samples (t down), the centre by flatter ones (t up). The layer's
  # only weight is the temperature; fit runs jit-compiled.
  layer = LAYERS[kind](1.0, trainable_temperature=True, seed=10)
  model = keras.Sequential([keras.Input([3]), layer])
  # Adam: steps of ~lr in log t whatever the size of the (small) gradient.
  model.compile(keras.optimizers.Adam(0.1), "mse", jit_compile=True)
  x, y = np.tile(np.float32(logit), [64, 1]), np.tile(np.float32(target), [64, 1])
  model.fit(x, y, batch_size=16, epochs=3, verbose=0)
  log_t = float(layer.log_temperature.numpy())
  assert np.sign(log_t) == direction and abs(log_t) > 0.1


def _reference_kl(kind, logits, prior):
  """Exact KL to the prior in numpy, summed over latents, mean over batch."""
  logits = np.asarray(logits, np.float64)
  if kind == "softmax":
    log_q = special.log_softmax(logits, -1)
    log_p = special.log_softmax(np.broadcast_to(prior, logits.shape), -1)
    kl = np.sum(np.exp(log_q) * (log_q - log_p), -1)
  else:
    kl = 0.
    for sign in (1., -1.):
      kl = kl + special.expit(sign * logits) * (
          special.log_expit(sign * logits) - special.log_expit(sign * prior))
  return kl.sum() / logits.shape[0]


@pytest.mark.parametrize("kind,prior", [
    ("softmax", None), ("softmax", [1., 0., -1., 0.5]),
    ("sigmoid", None), ("sigmoid", -1.5)])
def test_kl_term_is_exact(kind, prior):
  logits = gumbel_util.logits((5, 3, 4), scale=2.)
  layer = LAYERS[kind](0.5, kl_weight=0.3, prior_logits=prior)
  for training in (True, False):
    layer(logits, training=training)
    (loss,) = layer.losses
    expected = 0.3 * _reference_kl(kind, logits, 0. if prior is None else prior)
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
  assert LAYERS[kind]()(logits) is not None and not LAYERS[kind]().losses


@pytest.mark.parametrize("kind,kl_weight", [("softmax", 0.3), ("softmax", 2.),
                                            ("sigmoid", 0.3)])
def test_kl_term_enters_the_compiled_fit_loss(kind, kl_weight):
  # The add_loss term reaches Keras's compiled loss with its weight:
  # evaluate's loss = MSE of the (deterministic) probs + weight * exact KL.
  layer = LAYERS[kind](0.5, kl_weight=kl_weight, inference="probs")
  model = keras.Sequential([keras.Input([4]), layer])
  model.compile("sgd", "mse", jit_compile=True)
  x = gumbel_util.logits((8, 4), scale=2.)
  probs = (special.softmax(x.astype(np.float64), -1) if kind == "softmax"
           else special.expit(x.astype(np.float64)))
  loss = model.evaluate(x, np.zeros_like(x), batch_size=8, verbose=0)
  expected = np.mean(probs**2) + kl_weight * _reference_kl(kind, x, 0.)
  np.testing.assert_allclose(loss, expected, rtol=1e-5)


@pytest.mark.parametrize("kind,hard", [("softmax", False), ("softmax", True),
                                       ("sigmoid", True)])
def test_save_load_round_trip(kind, hard, tmp_path):
  layer = LAYERS[kind](0.5, hard=hard, trainable_temperature=True, seed=11,
                       kl_weight=0.1, inference="probs")
  model = keras.Sequential([keras.Input([5]), keras.layers.Dense(5), layer])
  model.compile("adam", "mse")
  x = gumbel_util.logits((8, 5))
  before = layer.seed_generator.state.numpy()
  # Moves the temperature and the seed state: one draw per step (4 steps).
  model.fit(x, x, batch_size=2, verbose=0)
  np.testing.assert_array_equal(layer.seed_generator.state,
                                before + [0, 4])
  model.save(tmp_path / "m.keras")
  loaded = keras.models.load_model(tmp_path / "m.keras")
  assert loaded.layers[-1].get_config() == layer.get_config()
  assert type(layer).from_config(layer.get_config()).get_config() == (
      layer.get_config())
  np.testing.assert_array_equal(loaded.layers[-1].temperature,
                                layer.temperature)
  for training in (True, True, False):
    np.testing.assert_array_equal(loaded(x, training=training),
                                  model(x, training=training))


@pytest.mark.parametrize("kind,hard,estimator,policy", [
    ("softmax", False, "st", "float32"),
    ("softmax", True, "st", "float32"),
    ("softmax", True, "gumbel_rao", "float32"),
    ("softmax", True, "reinmax", "float32"),
    ("softmax", False, "st", "mixed_float16"),
    ("softmax", True, "reinmax", "mixed_bfloat16"),
    ("sigmoid", False, "st", "mixed_bfloat16"),
    ("sigmoid", False, "st", "float32"),
    ("sigmoid", True, "st", "mixed_float16"),
])
def test_finite_at_extreme_temperature_and_logits(kind, hard, estimator,
                                                  policy):
  # t = 1e-3 and |logits| = 1e3: logits / t = 1e6 overflows float16 (65504),
  # so this also checks that mixed precision computes in float32.
  # ReinMax's surrogate does not depend on t (see tfg.estimators.reinmax):
  # a trainable temperature is refused there, so it is a fixed weight.
  reinmax = estimator == "reinmax" and hard
  layer = LAYERS[kind](1e-3, hard=hard, estimator=estimator, dtype=policy,
                       trainable_temperature=not reinmax, kl_weight=1.0,
                       seed=12)
  rng = np.random.RandomState(3)
  logits = tf.Variable(1e3 * rng.choice([-1., 1.], size=(16, 5))
                       * rng.uniform(0.5, 1., size=(16, 5)), dtype=tf.float32)
  with tf.GradientTape() as tape:
    y = layer(logits, training=True)
    loss = tf.reduce_sum(tf.cast(y, tf.float32) * rng.normal(size=(16, 5))
                         ) + tf.add_n(layer.losses)
  grads = tape.gradient(loss, [logits, layer.log_temperature.value])
  if reinmax:
    assert grads.pop() is None
  assert y.dtype == POLICIES[policy]
  for value in [y, loss] + grads:
    assert np.all(np.isfinite(value))


@pytest.mark.parametrize("kind,kwargs,match", [
    ("softmax", {"temperature": 0.}, "`temperature`"),
    ("softmax", {"temperature": float("inf")}, "`temperature`"),
    ("sigmoid", {"temperature": "1"}, "`temperature`"),
    ("softmax", {"inference": "argmax"}, "`inference`"),
    ("softmax", {"estimator": "rebar"}, "`estimator`"),
    ("sigmoid", {"estimator": "reinmax"}, "`estimator`"),
    ("softmax", {"kl_weight": -1.}, "`kl_weight`"),
    ("sigmoid", {"seed": (1, 2)}, "`seed`"),
])
def test_bad_arguments_raise(kind, kwargs, match):
  with pytest.raises(ValueError, match=match):
    LAYERS[kind](**kwargs)
