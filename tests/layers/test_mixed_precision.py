"""The layers in models under Keras's mixed-precision policies.

Under "mixed_float16" and "mixed_bfloat16" the layer receives float16 /
bfloat16 logits, computes in float32 (65504 / t overflows float16 at small t,
and bfloat16 keeps 8 significant bits), and returns its output in the compute
dtype. A model with the layer must train: finite losses and gradients and
weights that move, with class masks and the KL term included.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfp_gumbel as tfg

LAYERS = {"softmax": tfg.layers.GumbelSoftmax,
          "sigmoid": tfg.layers.GumbelSigmoid}
COMPUTE_DTYPES = {"mixed_float16": tf.float16, "mixed_bfloat16": tf.bfloat16}


@pytest.fixture(params=list(COMPUTE_DTYPES))
def policy(request):
  keras.mixed_precision.set_global_policy(request.param)
  try:
    yield request.param
  finally:
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("kind,hard,estimator", [
    ("softmax", False, "st"), ("softmax", True, "gumbel_rao"),
    ("softmax", True, "reinmax"), ("sigmoid", True, "st")])
def test_a_model_with_the_layer_trains(policy, kind, hard, estimator):
  x_in = keras.Input([6])
  allowed = keras.Input([5], dtype="bool")
  logits = keras.layers.Dense(5)(x_in)
  # (ReinMax's gradient ignores t: a trainable temperature is refused.)
  layer = LAYERS[kind](0.5, hard=hard, estimator=estimator, kl_weight=0.1,
                       trainable_temperature=estimator != "reinmax", seed=9)
  codes = layer(logits, class_mask=allowed)
  # The last layer in float32, as Keras advises for a mixed-precision output.
  model = keras.Model([x_in, allowed],
                      keras.layers.Dense(2, dtype="float32")(codes))
  assert layer.compute_dtype == COMPUTE_DTYPES[policy].name
  rng = np.random.RandomState(4)
  x = rng.normal(size=(64, 6)).astype(np.float32)
  mask = rng.uniform(size=(64, 5)) < 0.7
  mask[:, 0] = True   # at least one possible class per row
  y = x[:, :2]
  # (XLA-compiled fit with a class mask: test_masks.py; not repeated here.)
  model.compile("adam", "mse", jit_compile=False)
  before = [w.numpy().copy() for w in model.trainable_weights]
  history = model.fit([x, mask], y, batch_size=16, epochs=2, verbose=0)
  assert np.isfinite(history.history["loss"]).all()
  # Every weight learns (a non-finite gradient would make the loss scale
  # optimizer skip every step and leave them unchanged), the temperature too.
  moved = {w.path: not np.array_equal(b, w.numpy())
           for b, w in zip(before, model.trainable_weights)}
  assert all(moved.values()), moved
  assert (layer.log_temperature.path in moved) == (estimator != "reinmax")
  with tf.GradientTape() as tape:
    out = model([x, mask], training=True)
    loss = tf.reduce_mean((out - y) ** 2) + tf.add_n(model.losses)
  grads = tape.gradient(loss, model.trainable_weights)
  for g in grads:
    assert g is None or np.isfinite(g.numpy()).all()
  assert np.isfinite(loss.numpy())
  # The layer's own output is in the compute dtype, and masked classes
  # (units) are exactly 0 there.
  for training in (True, False):
    z = layer(tf.constant(x[:, :5]), training=training, class_mask=mask)
    assert z.dtype == COMPUTE_DTYPES[policy]
    z = tf.cast(z, tf.float32).numpy()
    assert np.isfinite(z).all()
    np.testing.assert_array_equal(z[~mask], 0.)
