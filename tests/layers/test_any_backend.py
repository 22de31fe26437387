"""The layers on whichever backend Keras runs (`KERAS_BACKEND`): TensorFlow,
JAX or PyTorch, the same tests, with numpy and `keras.ops` only.

CI runs this file on each backend (.ci/run's jax and torch phases, and the
suite on TensorFlow). It checks the layer contract (outputs in their support
in every mode and with every estimator, config and weights, masks, mixed
precision, numerics at t = 1e-3 and |logits| = 1e3), the laws of the hard
samples (chi-square against the discrete law), the exact KL term against a
numpy reference, seeds (reproducible, fresh at every call and at every
compiled step), a short `fit` with the backend's default compilation, and
save / load: a round trip, the models 0.2.0 saved on TensorFlow, and a model
saved on another backend (tests/layers/fixtures). In a fresh process under
JAX or PyTorch, none of it imports TensorFlow.
"""

import itertools
import math
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from scipy import special
from scipy import stats

from tests import any_backend

keras = pytest.importorskip("keras")

from tfp_gumbel import _requirements  # pylint: disable=g-import-not-at-top,wrong-import-position
import tfp_gumbel.layers as tfgl  # pylint: disable=g-import-not-at-top,wrong-import-position

BACKEND = any_backend.BACKEND
_np = any_backend.to_numpy
FIXTURES = pathlib.Path(__file__).parent / "fixtures"
P_MIN = 1e-3  # chi-square tests: fixed seeds, so a failure is a real change

# name: (constructor, input shape, event rank of the input)
LAYERS = {
    "softmax": (tfgl.GumbelSoftmax, (3, 5), 1),
    "sigmoid": (tfgl.GumbelSigmoid, (3, 5), 0),
    "top_k": (lambda *a, **kw: tfgl.RelaxedTopK(2, *a, **kw), (3, 5), 1),
    "plackett_luce": (tfgl.RelaxedPlackettLuce, (3, 5), 1),
    "sinkhorn": (tfgl.GumbelSinkhorn, (3, 4, 4), 2),
}
NAMES = list(LAYERS)


def _logits(shape, seed=0, scale=1.):
  return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(
      "float32")


def _assert_support(name, y, hard, atol=1e-5):
  """`y` lies where the layer's outputs live: one-hot / 0-1 / k-hot /
  permutation matrices when `hard`, their relaxations otherwise."""
  y = np.asarray(y, np.float64)
  assert np.all(np.isfinite(y)) and np.all(y >= 0) and np.all(y <= 1 + atol)
  if hard:
    np.testing.assert_array_equal(y * (1 - y), 0.)
  if name == "softmax":
    np.testing.assert_allclose(y.sum(-1), 1., atol=atol)
  elif name == "top_k":
    np.testing.assert_allclose(y.sum(-1), 2., atol=2 * atol)
  elif name == "plackett_luce":
    np.testing.assert_allclose(y.sum(-1), 1., atol=atol)
    if hard:
      np.testing.assert_array_equal(y.sum(-2), 1.)
  elif name == "sinkhorn":
    np.testing.assert_allclose(y.sum(-1), 1., atol=1e-4)
    np.testing.assert_allclose(y.sum(-2), 1., atol=1e-4)


# The contract: outputs, estimators, modes.


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_training_outputs_are_in_the_support(name, hard):
  make, shape, _ = LAYERS[name]
  layer = make(0.5, hard=hard, seed=1)
  y = layer(_logits(shape), training=True)
  assert keras.backend.standardize_dtype(y.dtype) == "float32"
  _assert_support(name, _np(y), hard)


@pytest.mark.parametrize("inference", ["mode", "probs", "sample"])
@pytest.mark.parametrize("name", NAMES)
def test_inference_modes(name, inference):
  make, shape, _ = LAYERS[name]
  x = _logits(shape)
  y = _np(make(0.5, inference=inference, seed=1)(x))
  _assert_support(name, y, hard=inference == "mode")
  if name == "softmax" and inference != "sample":
    expected = (np.eye(shape[-1])[x.argmax(-1)] if inference == "mode"
                else special.softmax(x, -1))
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-7)
  if name == "sigmoid" and inference == "probs":
    np.testing.assert_allclose(y, special.expit(x), rtol=1e-6)


@pytest.mark.parametrize("estimator", ["st", "gumbel_rao", "reinmax"])
def test_softmax_estimators_are_one_hot_with_finite_gradients(estimator):
  layer = tfgl.GumbelSoftmax(1.5, hard=True, estimator=estimator, seed=2)
  weights = _logits((3, 5), seed=1)
  y, grad = any_backend.value_and_grad(
      lambda x: layer(x, training=True), _logits((3, 5)), weights)
  _assert_support("softmax", y, hard=True)
  assert np.all(np.isfinite(grad)) and np.any(grad != 0)


@pytest.mark.parametrize("name", NAMES)
def test_straight_through_gradient_is_the_relaxed_samples(name):
  # Two layers of the same seed draw the same noise: the hard one's gradient
  # is the soft one's (straight-through), to rounding.
  make, shape, _ = LAYERS[name]
  x, weights = _logits(shape), _logits(shape[:-1] + (
      shape[-1],) * (2 if name == "plackett_luce" else 1), seed=1)
  soft, soft_grad = any_backend.value_and_grad(
      lambda v: make(0.5, seed=3)(v, training=True), x, weights)
  hard, hard_grad = any_backend.value_and_grad(
      lambda v: make(0.5, hard=True, seed=3)(v, training=True), x, weights)
  _assert_support(name, hard, hard=True)
  np.testing.assert_allclose(hard_grad, soft_grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("trainable", [False, True])
@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("name", ["softmax", "sigmoid"])
@pytest.mark.parametrize("graph", [False, True] if BACKEND == "tensorflow"
                         else [False])
def test_finite_fast_path_gives_the_masked_paths_numbers(
    name, hard, trainable, graph):
  # Finite logits skip the masking ops (`_finite_sample`, chosen at run
  # time); the masked path on the same seed gives the same values and
  # gradients, eagerly and (TensorFlow) in a graph, where `tf.cond` decides.
  # pylint: disable=protected-access
  make, shape, _ = LAYERS[name]
  x, weights = _logits(shape), _logits(shape, seed=1)

  def run(fast):
    layer = make(0.5, hard=hard, seed=4, trainable_temperature=trainable)
    layer.build(shape)
    assert layer._has_finite_sample()
    call = ((lambda v: layer(v, training=True)) if fast
            else (lambda v: layer._masked_call(v, True, None, None)))
    if not graph:
      return any_backend.value_and_grad(call, x, weights)
    import tensorflow as tf  # pylint: disable=g-import-not-at-top

    @tf.function(jit_compile=False)
    def value_and_grad(v):
      with tf.GradientTape() as tape:
        tape.watch(v)
        y = call(v)
        loss = tf.reduce_sum(y * weights)
      return y, tape.gradient(loss, v)

    return [t.numpy() for t in value_and_grad(tf.constant(x))]

  for fast, masked in zip(run(True), run(False)):
    np.testing.assert_array_equal(fast, masked)


def test_reinmax_with_a_trainable_temperature_is_refused():
  # ReinMax's gradient does not depend on t, so such a temperature would
  # never train: said when the layer is made, naming the arguments.
  with pytest.raises(ValueError, match="trainable_temperature.*reinmax"):
    tfgl.GumbelSoftmax(hard=True, estimator="reinmax",
                       trainable_temperature=True)
  tfgl.GumbelSoftmax(hard=False, estimator="reinmax",
                     trainable_temperature=True)  # soft: t has a gradient


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip_and_weights(name):
  make, shape, _ = LAYERS[name]
  layer = make(0.7, hard=True, trainable_temperature=True,
               inference="probs", seed=4)
  layer.build(shape)
  clone = type(layer).from_config(layer.get_config())
  assert clone.get_config() == layer.get_config()
  assert [w.path.split("/")[-1] for w in layer.trainable_weights] == [
      "log_temperature"]
  assert len(layer.weights) == 1
  assert isinstance(layer.seed_generator, keras.random.SeedGenerator)
  np.testing.assert_allclose(_np(layer.temperature), 0.7, rtol=1e-6)


# The laws of the hard samples.


def _counts(values, n):
  return np.bincount(values, minlength=n)


def test_softmax_hard_argmax_is_categorical():
  logits = np.array([1., 0., -1., 0.5, -2.], "float32")
  y = _np(tfgl.GumbelSoftmax(0.5, hard=True, seed=5)(
      np.tile(logits, (6000, 1)), training=True))
  expected = 6000 * special.softmax(logits.astype(np.float64))
  assert stats.chisquare(_counts(y.argmax(-1), 5), expected).pvalue > P_MIN


def test_sigmoid_hard_is_bernoulli():
  logits = np.array([-1.5, 0., 2.], "float32")
  y = _np(tfgl.GumbelSigmoid(0.3, hard=True, seed=6)(
      np.tile(logits, (4000, 1)), training=True))
  for j, logit in enumerate(logits):
    ones = y[:, j].sum()
    p = special.expit(logit)
    assert stats.binomtest(int(ones), 4000, p).pvalue > P_MIN


def test_top_k_hard_subsets_are_gumbel_top_k():
  logits = np.array([1., 0., -0.5, 0.3], "float32")
  y = _np(tfgl.RelaxedTopK(2, 0.5, hard=True, seed=7)(
      np.tile(logits, (6000, 1)), training=True))
  subsets = list(itertools.combinations(range(4), 2))
  p = special.softmax(logits.astype(np.float64))
  # P({a, b}) = P(a then b) + P(b then a), drawn without replacement.
  law = [p[a] * p[b] / (1 - p[a]) + p[b] * p[a] / (1 - p[b])
         for a, b in subsets]
  index = {s: i for i, s in enumerate(subsets)}
  observed = _counts([index[tuple(np.flatnonzero(row))] for row in y],
                     len(subsets))
  assert stats.chisquare(observed, 6000 * np.array(law)).pvalue > P_MIN


def test_plackett_luce_first_rank_is_categorical():
  log_scores = np.array([0.5, -0.5, 1., 0.], "float32")
  y = _np(tfgl.RelaxedPlackettLuce(0.5, hard=True, seed=8)(
      np.tile(log_scores, (6000, 1)), training=True))
  expected = 6000 * special.softmax(log_scores.astype(np.float64))
  assert stats.chisquare(_counts(y[:, 0].argmax(-1), 4),
                         expected).pvalue > P_MIN


def test_sinkhorn_mode_is_the_matching():
  from scipy import optimize  # pylint: disable=g-import-not-at-top
  x = _logits((5, 4, 4))
  y = _np(tfgl.GumbelSinkhorn()(x))
  for matrix, perm in zip(x, y):
    rows, cols = optimize.linear_sum_assignment(-matrix)
    np.testing.assert_array_equal(np.flatnonzero(perm), rows * 4 + cols)


# Masks.


def _class_mask(name, shape):
  mask = np.ones(shape, bool)
  if name == "sinkhorn":
    mask[..., 0, 1] = False
  else:
    mask[..., 1] = False
  return mask


@pytest.mark.parametrize("mode", ["soft", "hard", "mode", "probs"])
@pytest.mark.parametrize("name", NAMES)
def test_masked_classes_are_absent_with_zero_gradient(name, mode):
  make, shape, _ = LAYERS[name]
  kwargs = dict(hard=mode == "hard", seed=9)
  if mode in ("mode", "probs"):
    kwargs["inference"] = mode
  layer = make(0.5, **kwargs)
  mask = _class_mask(name, shape)
  training = mode in ("soft", "hard")
  y, grad = any_backend.value_and_grad(
      lambda v: layer(v, training=training, class_mask=mask),
      _logits(shape, scale=3.))
  assert np.all(np.isfinite(y)) and np.all(np.isfinite(grad))
  if name == "plackett_luce":   # item 1 (score 0) is ranked last, surely
    np.testing.assert_array_equal(y[..., :-1, 1], 0.)
    np.testing.assert_array_equal(y[..., -1, 1], 1.)
  else:
    np.testing.assert_array_equal(y[~mask], 0.)
  np.testing.assert_array_equal(grad[~mask], 0.)


@pytest.mark.parametrize("name", ["softmax", "top_k", "plackett_luce",
                                  "sinkhorn"])
def test_event_with_nothing_possible_is_zero_with_zero_gradient(name):
  make, shape, _ = LAYERS[name]
  x = _logits(shape)
  x[0] = -np.inf
  for hard in (False, True):
    y, grad = any_backend.value_and_grad(
        lambda v, hard=hard: make(0.5, hard=hard, seed=1)(v, training=True), x)
    np.testing.assert_array_equal(y[0], 0.)
    np.testing.assert_array_equal(grad[0], 0.)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(grad))


def _categorical_kl(logits, prior):
  p, q = special.softmax(logits, -1), special.softmax(prior, -1)
  return np.sum(p * (np.log(p) - np.log(q)), -1)


def test_kl_term_is_the_exact_categorical_kl_and_skips_masked_steps():
  logits = _logits((4, 3, 5))
  prior = np.array([0.1, 0.2, 0.3, 0.2, 0.2])
  layer = tfgl.GumbelSoftmax(0.5, kl_weight=2., prior_logits=np.log(prior))
  layer(logits, training=True)
  expected = _categorical_kl(logits, np.log(prior)).sum() / 4
  np.testing.assert_allclose(_np(layer.losses[0]), 2. * expected, rtol=1e-5)
  # Keras's timestep mask: the masked steps add nothing; it passes through.
  steps = np.array([[True, False, True]] * 4)
  layer = tfgl.GumbelSoftmax(0.5, kl_weight=1.)
  layer(logits, training=True, mask=steps)
  expected = (_categorical_kl(logits, np.zeros(5)) * steps).sum() / 4
  np.testing.assert_allclose(_np(layer.losses[0]), expected, rtol=1e-5)
  np.testing.assert_array_equal(_np(layer.compute_mask(logits, steps)), steps)


def test_binary_kl_term_is_the_bernoulli_kl_and_a_masked_unit_adds_nothing():
  logits = _logits((4, 6))
  layer = tfgl.GumbelSigmoid(0.5, kl_weight=1., prior_logits=0.5)
  mask = np.ones(6, bool)
  mask[2] = False
  layer(logits, training=True, class_mask=mask)
  p, q = special.expit(logits), special.expit(0.5)
  kl = p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))
  np.testing.assert_allclose(_np(layer.losses[0]), kl[:, mask].sum() / 4,
                             rtol=1e-5)


# Numerics and dtypes.


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_finite_at_low_temperature_and_large_logits(name, hard):
  make, shape, _ = LAYERS[name]
  x = _logits(shape, scale=1e3)
  y, grad = any_backend.value_and_grad(
      lambda v: make(1e-3, hard=hard, seed=1)(v, training=True), x)
  assert np.all(np.isfinite(y)) and np.all(np.isfinite(grad))
  if name == "sinkhorn" and not hard:
    # (logits + G) / t spans ~1e6 here: float32 resolves the dual
    # potentials only to ~0.1, so the solver's tolerance is floored at that
    # resolution (_kernels/sinkhorn.py) and the matrix is 0/1 but need not
    # be doubly stochastic. Finite, in [0, 1], rows summing to a count.
    assert np.all((y >= 0) & (y <= 1))
    np.testing.assert_allclose(y.sum(-1), np.round(y.sum(-1)), atol=1e-3)
    return
  _assert_support(name, y, hard, atol=1e-3)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("name", NAMES)
def test_mixed_precision_computes_in_float32(name, policy):
  make, shape, _ = LAYERS[name]
  layer = make(1e-3, seed=1, dtype=policy)
  y = layer(_logits(shape, scale=100.), training=True)
  assert keras.backend.standardize_dtype(y.dtype) == policy.split("_")[1]
  # 100 / 1e-3 overflows float16: finite only because the math is float32.
  _assert_support(name, _np(y).astype(np.float32), hard=False, atol=1e-2)
  assert keras.backend.standardize_dtype(layer.log_temperature.dtype) == (
      "float32")


# Seeds.


@pytest.mark.parametrize("name", NAMES)
def test_seeds_reproducible_and_fresh_at_every_call(name):
  make, shape, _ = LAYERS[name]
  x = _logits(shape)
  a, b = make(0.5, seed=11), make(0.5, seed=11)
  first = _np(a(x, training=True))
  np.testing.assert_array_equal(first, _np(b(x, training=True)))
  assert not np.array_equal(first, _np(a(x, training=True)))
  unseeded = make(0.5)
  assert not np.array_equal(_np(unseeded(x, training=True)),
                            _np(unseeded(x, training=True)))


# fit, with the backend's default compilation.


def _model(name, **kwargs):
  make, shape, _ = LAYERS[name]
  size = math.prod(shape[1:])
  inputs = keras.Input([size])
  logits = keras.layers.Reshape(shape[1:])(keras.layers.Dense(size)(inputs))
  relaxed = make(1.0, seed=12, **kwargs)
  h = keras.layers.Flatten()(relaxed(logits))
  return keras.Model(inputs, keras.layers.Dense(size)(h)), relaxed, size


@pytest.mark.parametrize("name", NAMES)
def test_fit_trains_and_draws_fresh_noise_at_every_compiled_step(name):
  model, layer, size = _model(
      name, trainable_temperature=True, inference="sample")
  model.compile("adam", "mse")   # jit_compile="auto": jax.jit on JAX
  x = _logits((64, size), seed=2)
  history = model.fit(x, x, batch_size=16, epochs=2, verbose=0)
  assert all(np.isfinite(history.history["loss"]))
  # 8 steps, one seed drawn in each (two for none of these layers).
  state = _np(layer.seed_generator.state)
  assert state[1] >= 8
  assert not math.isclose(float(_np(layer.temperature)), 1.0)
  # Compiled predict with inference="sample": the same rows in two batches
  # get different noise, because the generator's state advances between the
  # steps of the compiled function (the JAX tracing trap avoided).
  rows = np.tile(x[:1], (32, 1))
  out = model.predict(rows, batch_size=16, verbose=0)
  assert not np.allclose(out[:16], out[16:])


def test_annealing_sets_the_temperature_during_fit():
  model, layer, size = _model("softmax")
  model.compile("adam", "mse")
  x = _logits((32, size), seed=2)
  model.fit(x, x, batch_size=16, epochs=1, verbose=0, callbacks=[
      tfgl.TemperatureAnnealing(rate=0.1, min_temperature=0.5,
                                update_every=1)])
  # Two steps: the second set t = exp(-0.1 * 1) before it ran.
  np.testing.assert_allclose(_np(layer.temperature), math.exp(-0.1),
                             rtol=1e-5)


# Save / load.


@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip(name, tmp_path):
  model, _, size = _model(name, hard=True, inference="mode")
  x = _logits((8, size), seed=3)
  path = str(tmp_path / "model.keras")
  model.save(path)
  loaded = keras.saving.load_model(path)
  np.testing.assert_allclose(loaded.predict(x, verbose=0),
                             model.predict(x, verbose=0), rtol=1e-6)
  # The seed stream is saved: the loaded model continues it.
  np.testing.assert_array_equal(_np(loaded(x, training=True)),
                                _np(model(x, training=True)))


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("saved_on_*/*.keras")),
                         ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_models_saved_on_each_backend_load_with_their_outputs(path):
  # fixtures/saved_on_<backend>/: a model per layer that this release saved
  # on that backend (fixtures/make_backend_fixtures.py), with its inputs
  # and inference outputs; every backend loads every one. (0.2.0's models,
  # saved on TensorFlow, are tests/layers/test_saved_models.py's.)
  with np.load(path.with_suffix(".npz")) as stored:
    x, expected, saved_by = stored["x"], stored["y"], str(stored["keras_version"])
  release = _requirements._release  # pylint: disable=protected-access
  if release(keras.__version__) < release(saved_by):
    pytest.skip(f"saved by Keras {saved_by}: Keras {keras.__version__} does "
                f"not read a newer Keras's configs (Keras's own limit)")
  model = keras.saving.load_model(str(path))
  # Sinkhorn is solved to a tolerance (1e-5 on the row sums) by Cholesky
  # steps on TensorFlow and PyTorch and by conjugate gradients under JAX's
  # XLA: two solutions within it of the exact one agree to it, not to ulps.
  atol = 1e-5 if path.stem == "sinkhorn" else 1e-6
  np.testing.assert_allclose(_np(model(x, training=False)), expected,
                             rtol=1e-5, atol=atol)


# No TensorFlow on the other backends.


@pytest.mark.skipif(BACKEND == "tensorflow",
                    reason="TensorFlow is the backend here")
def test_layers_import_no_tensorflow():
  code = (
      "import sys, numpy as np, keras\n"
      "import tfp_gumbel as tfg\n"
      "from tests.layers import test_any_backend as t\n"
      "for name in t.NAMES:\n"
      "  for hard in (False, True):\n"
      "    model, _, size = t._model(name, hard=hard)\n"
      "    model.compile('adam', 'mse')\n"
      "    x = np.zeros((4, size), 'float32')\n"
      "    model.fit(x, x, verbose=0)\n"
      "    model.predict(x, verbose=0)\n"
      "tfg.ops.gumbel_softmax(np.zeros((2, 3), 'float32'), 0.5)\n"
      "print(sorted(n for n in ('tensorflow', 'tensorflow_probability') "
      "if n in sys.modules))\n")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, timeout=600, check=False,
                       cwd=str(pathlib.Path(__file__).parents[2]),
                       env=dict(os.environ, KERAS_BACKEND=BACKEND))
  assert out.returncode == 0, out.stderr[-3000:]
  assert out.stdout.strip().splitlines()[-1] == "[]"
