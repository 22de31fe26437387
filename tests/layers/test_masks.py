"""Masks in the Keras layers: `class_mask` (impossible classes, units forced
off) and Keras's own timestep `mask` (propagated; no KL from masked steps).

Statistical tests use fixed seeds (deterministic); the chi-square threshold
is set so that a correct layer fails with probability < 1e-3 over seeds.
"""

import keras
import numpy as np
import pytest
from scipy import special
from scipy import stats
import tensorflow as tf

import tfp_gumbel as tfg

LAYERS = {"softmax": tfg.layers.GumbelSoftmax,
          "sigmoid": tfg.layers.GumbelSigmoid}
SOFTMAX_VARIANTS = [(False, "st"), (True, "st"), (True, "gumbel_rao"),
                    (True, "reinmax")]
# Per-row different class masks over K = 5; True = possible.
CLASS_MASK = np.array([[False, True, True, True, True],
                       [True, False, False, True, True],
                       [False, False, False, True, True],
                       [True, True, True, True, False]])
LOGITS = np.array([[-1., 0.5, 2., 0., -3.]], np.float32)   # every row


def _masked_call(layer, logits, class_mask, training, jit=True):
  """Outputs and d sum(w * y) / d logits, XLA-compiled by default."""
  logits = tf.constant(logits)
  if not layer.built:
    layer.build(logits.shape)
  weights = tf.constant(np.random.RandomState(0).randn(logits.shape[-1]),
                        tf.float32)

  def fn(logits):
    with tf.GradientTape() as tape:
      tape.watch(logits)
      y = layer(logits, training=training, class_mask=class_mask)
      loss = tf.reduce_sum(weights * tf.cast(y, tf.float32) ** 2)
    grad = tape.gradient(loss, logits)
    return y, tf.zeros_like(logits) if grad is None else grad

  y, grad = (tf.function(fn, jit_compile=True) if jit else fn)(logits)
  return y.numpy(), grad.numpy()


@pytest.mark.parametrize("hard,estimator", SOFTMAX_VARIANTS)
def test_masked_classes_are_never_picked_in_training(hard, estimator):
  n = 2500
  mask = np.repeat(CLASS_MASK, n, axis=0)
  logits = np.broadcast_to(LOGITS, mask.shape)
  layer = tfg.layers.GumbelSoftmax(0.5, hard=hard, estimator=estimator,
                                   seed=4)
  y, grad = _masked_call(layer, logits, mask, training=True)
  # Exactly 0 at masked classes, soft or hard, and a gradient of exactly 0.
  np.testing.assert_array_equal(y[~mask], 0.)
  assert np.isfinite(y).all() and np.isfinite(grad).all()
  np.testing.assert_array_equal(grad[~mask], 0.)
  np.testing.assert_allclose(y.sum(-1), 1., rtol=1e-5)
  # argmax ~ Categorical over the possible classes of each row's mask:
  # 4 chi-square tests at level 2.5e-4 (smallest expected count 2500 * 0.0055
  # = 14 >= 5).
  for row, draws in zip(CLASS_MASK, np.split(y, 4)):
    counts = np.bincount(np.argmax(draws, -1), minlength=5)
    expected = n * special.softmax(LOGITS[0][row].astype(np.float64))
    assert stats.chisquare(counts[row], expected).pvalue > 2.5e-4


@pytest.mark.parametrize("jit", [False, True])
def test_masked_classes_at_inference(jit):
  logits = np.tile([[3., 0.5, 2., 0., -3.]], [4, 1]).astype(np.float32)
  for inference in ("mode", "probs", "sample"):
    layer = tfg.layers.GumbelSoftmax(0.5, inference=inference, seed=5)
    y, grad = _masked_call(layer, logits, CLASS_MASK, training=False, jit=jit)
    np.testing.assert_array_equal(y[~CLASS_MASK], 0.)
    assert np.isfinite(grad).all()
    np.testing.assert_array_equal(grad[~CLASS_MASK], 0.)
    if inference == "mode":   # the most likely *possible* class
      expected = np.where(CLASS_MASK, logits, -np.inf).argmax(-1)
      np.testing.assert_array_equal(y, np.eye(5)[expected])
    if inference == "probs":
      expected = special.softmax(np.where(CLASS_MASK, logits, -np.inf), -1)
      np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_class_mask_broadcasts_and_is_a_where_not_arithmetic():
  layer = tfg.layers.GumbelSoftmax(0.5, inference="probs")
  logits = np.array([[1e30, 0., 1.], [0., 0., 0.]], np.float32)
  # A [3] mask for a [2, 3] batch; masking a huge logit leaves no trace
  # (arithmetic masks like logits - 1e9 * (1 - m) would not).
  y = layer(logits, class_mask=[False, True, True]).numpy()
  np.testing.assert_allclose(y, special.softmax(
      [[-np.inf, 0., 1.], [-np.inf, 0., 0.]], -1), rtol=1e-6)
  with pytest.raises((ValueError, tf.errors.InvalidArgumentError)):
    layer(logits, class_mask=np.ones([4, 3], bool))   # may not enlarge


@pytest.mark.parametrize("hard", [False, True])
def test_sigmoid_class_mask_forces_units_off(hard):
  mask = np.tile([True, False, True, False], [500, 1])
  logits = np.tile([[0., 5., 5., 1e3]], [500, 1]).astype(np.float32)
  layer = tfg.layers.GumbelSigmoid(0.5, hard=hard, seed=6)
  y, grad = _masked_call(layer, logits, mask, training=True)
  np.testing.assert_array_equal(y[~mask], 0.)
  assert np.isfinite(grad).all()
  np.testing.assert_array_equal(grad[~mask], 0.)
  assert 0.4 < y[:, 0].mean() < 0.6 and y[:, 2].mean() > 0.9
  for inference in ("mode", "probs"):
    y = tfg.layers.GumbelSigmoid(inference=inference)(
        logits, class_mask=mask).numpy()
    np.testing.assert_array_equal(y[~mask], 0.)


def _reference_kl(kind, logits, prior, class_mask=None, mask=None):
  """numpy: KL to the prior restricted to the possible outcomes, summed over
  the unmasked latents, averaged over the batch."""
  logits = np.asarray(logits, np.float64)
  prior = np.broadcast_to(np.asarray(prior, np.float64), logits.shape)
  possible = (np.ones(logits.shape, bool) if class_mask is None else
              np.broadcast_to(class_mask, logits.shape))
  if kind == "softmax":
    log_q = special.log_softmax(np.where(possible, logits, -np.inf), -1)
    log_p = special.log_softmax(np.where(possible, prior, -np.inf), -1)
    with np.errstate(invalid="ignore"):
      kl = np.where(possible, np.exp(log_q) * (log_q - log_p), 0.).sum(-1)
  else:
    kl = 0.
    for sign in (1., -1.):
      kl = kl + special.expit(sign * logits) * (
          special.log_expit(sign * logits) - special.log_expit(sign * prior))
    kl = np.where(possible, kl, 0.)   # a unit forced off is no latent
  if mask is not None:
    kl = kl * np.reshape(mask, mask.shape + (1,) * (kl.ndim - mask.ndim))
  return kl.sum() / logits.shape[0]


@pytest.mark.parametrize("kind,prior", [
    ("softmax", None), ("softmax", [1., 0., -1., 0.5, 2.]),
    ("sigmoid", None), ("sigmoid", -1.5)])
def test_kl_term_with_class_mask_uses_the_restricted_prior(kind, prior):
  logits = np.random.RandomState(1).normal(scale=2., size=(4, 5))
  logits = logits.astype(np.float32)
  layer = LAYERS[kind](0.5, kl_weight=0.3, prior_logits=prior)
  prior = 0. if prior is None else prior
  layer(logits, training=True, class_mask=CLASS_MASK)
  (loss,) = layer.losses
  expected = 0.3 * _reference_kl(kind, logits, prior, class_mask=CLASS_MASK)
  np.testing.assert_allclose(loss, expected, rtol=1e-5)
  # Logits already at -inf mean the same as a class mask.
  layer(np.where(CLASS_MASK, logits, -np.inf), training=True)
  np.testing.assert_allclose(layer.losses[0], expected, rtol=1e-5)


@pytest.mark.parametrize("kind", LAYERS)
def test_kl_term_over_unmasked_timesteps(kind):
  rng = np.random.RandomState(2)
  logits = rng.normal(scale=2., size=(3, 6, 5)).astype(np.float32)
  mask = np.arange(6)[None, :] < np.array([[6], [4], [1]])   # lengths 6, 4, 1
  # Padded steps may have every class masked (NaN logits there stay unread).
  class_mask = np.broadcast_to(mask[..., None], logits.shape)
  logits[~mask] = np.nan
  layer = LAYERS[kind](0.5, kl_weight=1.0)
  cls_mask = None if kind == "sigmoid" else class_mask
  with tf.GradientTape() as tape:
    x = tf.constant(logits)
    tape.watch(x)
    layer(x, training=True, class_mask=cls_mask, mask=mask)
    (loss,) = layer.losses
  grad = tape.gradient(loss, x).numpy()
  clean = np.where(mask[..., None], logits, 0.)
  np.testing.assert_allclose(loss, _reference_kl(kind, clean, 0., mask=mask),
                             rtol=1e-5)
  assert np.isfinite(grad).all()
  np.testing.assert_array_equal(grad[~mask], 0.)
  # An all-True mask is no mask.
  layer(clean, training=True, mask=np.ones([3, 6], bool))
  np.testing.assert_allclose(layer.losses[0],
                             _reference_kl(kind, clean, 0.), rtol=1e-5)


def _embedding_model(following, inference="probs"):
  tokens = keras.Input([None], dtype="int32")
  h = keras.layers.Embedding(10, 8, mask_zero=True)(tokens)
  logits = keras.layers.Dense(4)(h)
  codes = tfg.layers.GumbelSoftmax(0.5, kl_weight=1.0, inference=inference,
                                   seed=7)(logits)
  return keras.Model(tokens, following(codes)), keras.Model(tokens, codes)


def test_timestep_mask_is_propagated_to_the_next_layer():
  tokens = np.array([[3, 4, 5, 0, 0], [1, 2, 0, 0, 0]], np.int32)
  model, codes_model = _embedding_model(keras.layers.GlobalAveragePooling1D())
  codes = codes_model(tokens).numpy()
  # GlobalAveragePooling1D averages over the unmasked steps only: the mask
  # reached it through the Gumbel layer.
  expected = np.stack([codes[0, :3].mean(0), codes[1, :2].mean(0)])
  np.testing.assert_allclose(model(tokens), expected, rtol=1e-5)
  layer = codes_model.layers[-1]
  mask = tokens != 0
  np.testing.assert_array_equal(layer.compute_mask(None, mask), mask)
  # An LSTM after it skips the padding: the same last state as the
  # unpadded sequence.
  lstm_model, _ = _embedding_model(keras.layers.LSTM(3))
  np.testing.assert_allclose(lstm_model(tokens[:1]),
                             lstm_model(tokens[:1, :3]), rtol=1e-5)
  # The KL term (training) counts the real steps only.
  model(tokens, training=True)
  full_model_kl = model.losses[0].numpy()
  model(tokens[:, :3], training=True)   # one pad fewer: the same KL
  # The same terms summed in another order (float32 reductions over 5 vs 3
  # steps): the KL (~1e-3, from an unseeded initialization) is a sum of
  # p log(p / q) terms of size up to ~0.3 that cancel, so it differs by a few
  # float32 roundings of those terms, an absolute ~1e-7 (measured 6e-8 twice).
  np.testing.assert_allclose(model.losses[0], full_model_kl, rtol=1e-5,
                             atol=1e-6)


def _functional_with_class_mask(kind, **kwargs):
  x = keras.Input([6])
  allowed = keras.Input([5], dtype="bool")
  logits = keras.layers.Dense(5)(x)
  y = LAYERS[kind](0.5, seed=8, **kwargs)(logits, class_mask=allowed)
  return keras.Model([x, allowed], keras.layers.Dense(2)(y))


@pytest.mark.parametrize("kind,hard,estimator", [
    ("softmax", False, "st"), ("softmax", True, "gumbel_rao"),
    ("softmax", True, "reinmax"), ("sigmoid", True, "st")])
def test_jit_compiled_fit_with_a_class_mask_input(kind, hard, estimator,
                                                  tmp_path):
  model = _functional_with_class_mask(kind, hard=hard, estimator=estimator,
                                      kl_weight=0.5, inference="probs")
  rng = np.random.RandomState(3)
  x = rng.normal(size=(64, 6)).astype(np.float32)
  allowed = np.tile(CLASS_MASK, [16, 1])
  y = rng.normal(size=(64, 2)).astype(np.float32)
  model.compile("adam", "mse", jit_compile=True)
  history = model.fit([x, allowed], y, batch_size=16, epochs=2, verbose=0)
  assert np.isfinite(history.history["loss"]).all()
  # The masked classes are still 0 in a compiled forward pass.
  inner = keras.Model(model.inputs, model.layers[-2].output)
  for training in (True, False):
    codes = inner([x, allowed], training=training).numpy()
    np.testing.assert_array_equal(codes[~allowed], 0.)
  # Save and load with the mask input.
  model.save(tmp_path / "m.keras")
  loaded = keras.models.load_model(tmp_path / "m.keras")
  np.testing.assert_allclose(loaded.predict([x, allowed], verbose=0),
                             model.predict([x, allowed], verbose=0),
                             rtol=1e-6)


@pytest.mark.parametrize("policy", ["float32", "mixed_float16",
                                    "mixed_bfloat16"])
@pytest.mark.parametrize("kind,hard,estimator", [
    ("softmax", False, "st"), ("softmax", True, "st"),
    ("softmax", True, "gumbel_rao"), ("sigmoid", False, "st"),
    ("sigmoid", True, "st")])
def test_temperature_gradient_is_finite_next_to_masked_classes(
    kind, hard, estimator, policy):
  # t = 1e-3 to 10 over the rows' masks: the learned temperature's gradient
  # must not pick up 0 * inf from the -inf logits.
  mask = np.tile(CLASS_MASK, [3, 1])
  logits = tf.constant(np.tile(LOGITS, [12, 1]) * 100.)
  layer = LAYERS[kind](1., hard=hard, estimator=estimator, dtype=policy,
                       trainable_temperature=True, kl_weight=1., seed=10)
  layer.build(logits.shape)

  @tf.function(jit_compile=True)
  def grads(logits):
    with tf.GradientTape() as tape:
      tape.watch(logits)
      y = layer(logits, training=True, class_mask=mask)
      loss = (tf.reduce_sum(tf.cast(y, tf.float32) ** 2 * [1., 2., 3., 4., 5.])
              + tf.add_n(layer.losses))
    return y, tape.gradient(loss, [logits, layer.log_temperature.value])

  for t in (1e-3, 1., 10.):   # one trace: the temperature is a weight
    layer.set_temperature(t)
    y, (g_logits, g_t) = grads(logits)
    y = tf.cast(y, tf.float32).numpy()
    np.testing.assert_array_equal(y[~mask], 0.)
    assert np.isfinite(g_t.numpy()) and np.isfinite(g_logits.numpy()).all()
    np.testing.assert_array_equal(g_logits.numpy()[~mask], 0.)


# A row with nothing possible (every class masked): the layer outputs zeros
# with a zero gradient, in every mode, with every estimator; the other rows
# are unaffected. Each case: layer, parameters, class mask (row 0 all False).
_SCORES = np.arange(18, dtype=np.float32).reshape([2, 3, 3]) / 7.
_ROW_MASK = np.array([[False, False, False], [True, False, True]])
_MATRIX_MASK = np.stack([np.zeros([3, 3], bool), np.ones([3, 3], bool)])


def _all_masked_cases():
  logits = np.array([[0.5, 1., -1.], [0., 2., 1.]], np.float32)
  for inference in ("mode", "probs", "sample"):
    for hard, estimator in SOFTMAX_VARIANTS:
      yield (f"GumbelSoftmax-{hard}-{estimator}-{inference}",
             lambda h=hard, e=estimator, i=inference: tfg.layers.GumbelSoftmax(
                 0.5, hard=h, estimator=e, inference=i, kl_weight=1., seed=1),
             logits, _ROW_MASK)
    for hard in (False, True):
      yield (f"RelaxedTopK-{hard}-{inference}",
             lambda h=hard, i=inference: tfg.layers.RelaxedTopK(
                 2, 0.5, hard=h, inference=i, seed=1), logits, _ROW_MASK)
      yield (f"RelaxedPlackettLuce-{hard}-{inference}",
             lambda h=hard, i=inference: tfg.layers.RelaxedPlackettLuce(
                 0.5, hard=h, inference=i, seed=1), logits, _ROW_MASK)
      yield (f"GumbelSinkhorn-{hard}-{inference}",
             lambda h=hard, i=inference: tfg.layers.GumbelSinkhorn(
                 0.5, hard=h, inference=i, seed=1), _SCORES, _MATRIX_MASK)


@pytest.mark.parametrize("name,make,params,class_mask",
                         list(_all_masked_cases()),
                         ids=[c[0] for c in _all_masked_cases()])
@pytest.mark.parametrize("training", [True, False])
def test_an_event_with_nothing_possible_outputs_zeros(name, make, params,
                                                      class_mask, training):
  del name
  layer = make()
  x = tf.constant(params)
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = layer(x, training=training, class_mask=class_mask)
    loss = tf.reduce_sum(y * tf.random.stateless_normal(tf.shape(y), (1, 1)))
    loss += sum(layer.losses)
  gradient = tape.gradient(loss, x)
  # A hard choice at inference has no gradient path at all (None).
  gradient = np.zeros_like(params) if gradient is None else gradient.numpy()
  y = y.numpy()
  assert np.all(y[0] == 0.)
  assert np.all(gradient[0] == 0.)
  assert np.all(np.isfinite(y)) and np.all(np.isfinite(gradient))
  # The row with possible classes is a sample of them: nothing on a masked
  # class, and (one-hot, k-hot, permutation) mass where it should be.
  assert np.any(y[1] != 0.)
  if params.ndim == 2:
    assert np.all(y[1][..., ~class_mask[1]] == 0.) or y.ndim == 3
  for loss_term in layer.losses:
    assert np.isfinite(loss_term.numpy())


def test_an_event_with_nothing_possible_adds_no_kl():
  layer = tfg.layers.GumbelSoftmax(0.5, kl_weight=1.)
  logits = np.array([[0.5, 1., -1.], [0., 2., 1.]], np.float32)
  layer(logits, training=True, class_mask=_ROW_MASK)
  with_empty_row = float(layer.losses[0])
  # The KL of the second row alone, averaged over the batch of 2 as before.
  alone = tfg.layers.GumbelSoftmax(0.5, kl_weight=1.)
  alone(logits[1:], training=True, class_mask=_ROW_MASK[1:])
  np.testing.assert_allclose(with_empty_row, float(alone.losses[0]) / 2.,
                             rtol=1e-6)
