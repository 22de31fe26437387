"""tf-keras `model.fit` with `tfp_layers.GumbelSoftmax` under
MultiWorkerMirroredStrategy (one process per worker, TF_CONFIG from the
environment, TF_USE_LEGACY_KERAS=1; run by test_multi_worker.py).

The maximum-likelihood fit of tests/layers/legacy_keras_script.py, with the
global batch of 200 split across the workers by `fit` itself.
"""

import json

import numpy as np
import tensorflow as tf
import tf_keras

import tfp_gumbel as tfg
from tfp_gumbel.layers import tfp_layers

# One thread per op: the workers share two cores.
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)

PROBS = np.float32([0.1, 0.2, 0.5, 0.2])
TEMPERATURE = 0.5

strategy = tf.distribute.MultiWorkerMirroredStrategy()
y = tfg.GumbelSoftmax(TEMPERATURE, probs=PROBS).sample(2000, seed=(1, 2))
x = np.ones([2000, 1], np.float32)
with strategy.scope():
  model = tf_keras.Sequential([
      tf_keras.Input([1]),
      tf_keras.layers.Dense(tfp_layers.GumbelSoftmax.params_size(4),
                            use_bias=False, kernel_initializer="zeros"),
      tfp_layers.GumbelSoftmax(4, temperature=TEMPERATURE),
  ])
  model.compile(tf_keras.optimizers.Adam(0.1),
                loss=lambda y, d: -d.log_prob(y))
history = model.fit(x, y.numpy(), batch_size=200, epochs=20, verbose=0,
                    shuffle=False)
print(json.dumps({
    "legacy_keras": tf.keras.layers.Dense is tf_keras.layers.Dense,
    "replicas": strategy.num_replicas_in_sync,
    "first_loss": history.history["loss"][0],
    "last_loss": history.history["loss"][-1],
    "kernel": model.layers[0].kernel.numpy().tolist(),
    "fitted_probs": tf.nn.softmax(model.layers[0].kernel[0]).numpy().tolist(),
}))
