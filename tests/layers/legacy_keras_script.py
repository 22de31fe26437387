"""tfp_layers.GumbelSoftmax in a tf-keras model (run by test_tfp_layers.py
with TF_USE_LEGACY_KERAS=1 in its own process)."""

import json

import numpy as np
import tensorflow as tf
import tf_keras

import tfp_gumbel as tfg
from tfp_gumbel.layers import tfp_layers

PROBS = np.float32([0.1, 0.2, 0.5, 0.2])
TEMPERATURE = 0.5

# Relaxed targets from a known GumbelSoftmax; maximum likelihood through
# loss = -d.log_prob(y) must recover its class probabilities.
y = tfg.GumbelSoftmax(TEMPERATURE, probs=PROBS).sample(2000, seed=(1, 2))
x = np.ones([2000, 1], np.float32)
model = tf_keras.Sequential([
    tf_keras.Input([1]),
    tf_keras.layers.Dense(tfp_layers.GumbelSoftmax.params_size(4),
                          use_bias=False, kernel_initializer="zeros"),
    tfp_layers.GumbelSoftmax(4, temperature=TEMPERATURE),
])
model.compile(tf_keras.optimizers.Adam(0.1), loss=lambda y, d: -d.log_prob(y))
history = model.fit(x, y.numpy(), batch_size=200, epochs=20, verbose=0)
output = model(x[:3])
distribution = output.tensor_distribution
print(json.dumps({
    "legacy_keras": tf.keras.layers.Dense is tf_keras.layers.Dense,
    "distribution": type(distribution).__name__,
    "is_gumbel_softmax": isinstance(distribution, tfg.GumbelSoftmax),
    "batch_shape": distribution.batch_shape.as_list(),
    "event_shape": distribution.event_shape.as_list(),
    "tensor_sums": tf.reduce_sum(tf.convert_to_tensor(output), -1).numpy().tolist(),
    "first_loss": history.history["loss"][0],
    "last_loss": history.history["loss"][-1],
    "fitted_probs": tf.nn.softmax(model.layers[0].kernel[0]).numpy().tolist(),
}))
