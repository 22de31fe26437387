"""Keras 3 `model.fit` under MultiWorkerMirroredStrategy, for a model without
any tfp_gumbel layer (one process per worker, TF_CONFIG from the environment;
run by test_multi_worker.py). Prints whether `fit` ran, or its error."""

import json

import keras
import numpy as np
import tensorflow as tf

strategy = tf.distribute.MultiWorkerMirroredStrategy()
x = np.random.default_rng(0).normal(size=[256, 8]).astype(np.float32)
y = x.sum(-1, keepdims=True)
with strategy.scope():
  model = keras.Sequential([keras.Input([8]), keras.layers.Dense(1)])
  model.compile(keras.optimizers.SGD(0.1), "mse")
try:
  history = model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(32),
                      epochs=2, verbose=0)
  result = {"error": None, "loss": history.history["loss"]}
except ValueError as error:  # what Keras 3.15 raises; anything else fails
  message = str(error)
  result = {"error": message[:40] + " ... " + message[-120:]}
print(json.dumps(dict(result, keras=keras.__version__)))
