"""GumbelSoftmax under MirroredStrategy on 2 logical CPUs (run by
test_gumbel_softmax.py in its own process: devices are fixed at TF start)."""

import json

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # pylint: disable=g-import-not-at-top,wrong-import-position

import tfp_gumbel as tfg  # pylint: disable=g-import-not-at-top,wrong-import-position


def local(variable):
  """Per-replica values of a Keras variable (its `.value` is the
  MirroredVariable)."""
  return [v.numpy().tolist()
          for v in strategy.experimental_local_results(variable.value)]


strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
  layer = tfg.layers.GumbelSoftmax(1.0, trainable_temperature=True, seed=7)
  model = keras.Sequential([keras.Input([3]), layer])
  model.compile(keras.optimizers.Adam(0.1), "mse")

# The same inputs on both replicas: the outputs must still differ.
call = tf.function(lambda x: layer(x, training=True))
outputs = strategy.run(call, args=(tf.zeros([4, 3]),))
first, second = (o.numpy() for o in strategy.experimental_local_results(outputs))

# Uniform targets: the temperature must grow (see test_gumbel.py).
x = np.tile(np.float32([2., 0., 0.]), [64, 1])
history = model.fit(x, np.full_like(x, 1 / 3), batch_size=16, epochs=2,
                    verbose=0)
print(json.dumps({
    "replicas": strategy.num_replicas_in_sync,
    "max_abs_difference": float(np.abs(first - second).max()),
    "on_simplex": bool(np.allclose(first.sum(-1), 1.)
                       and np.allclose(second.sum(-1), 1.)),
    "log_temperature": local(layer.log_temperature),
    "seed_state": local(layer.seed_generator.state),
    "loss": history.history["loss"],
}))
