"""A seeded `fit` of each layer on JAX, on one device or under
`keras.distribution.DataParallel` over two host devices.

Run as a script (tests/layers/test_data_parallel.py does, in fresh
processes): for "two", `XLA_FLAGS=--xla_force_host_platform_device_count=2`
must be set before JAX starts, and `KERAS_BACKEND=jax`. Prints one JSON line:
the backend, the devices the step ran on, and per layer the loss of each
epoch and the learned temperature.

  python -m tests.layers.data_parallel_script one|two
"""

import json
import sys

import keras
import numpy as np

from tests.layers import test_any_backend as layers_test

# 2 epochs of 2 steps: 4 optimizer steps, each on a global batch of 16 (8
# rows a device on two). Compiling the 5 train steps is most of the time.
SAMPLES, BATCH, EPOCHS = 32, 16, 2


def main(mode):
  devices = keras.distribution.list_devices()
  if mode == "two":
    if len(devices) < 2:
      raise SystemExit("two: set XLA_FLAGS=--xla_force_host_platform_"
                       "device_count=2 before JAX starts")
    devices = devices[:2]
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=devices))
  else:
    devices = devices[:1]
  results = {}
  for name in layers_test.NAMES:
    keras.utils.set_random_seed(1)
    # Hard samples where there are (the hard Sinkhorn runs the matching,
    # a host callback, in the compiled step); GumbelSigmoid soft.
    model, layer, size = layers_test._model(  # pylint: disable=protected-access
        name, hard=name != "sigmoid", trainable_temperature=True)
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    x = layers_test._logits((SAMPLES, size), seed=2)  # pylint: disable=protected-access
    history = model.fit(x, x, batch_size=BATCH, epochs=EPOCHS, verbose=0,
                        shuffle=False)
    results[name] = dict(
        losses=[float(v) for v in history.history["loss"]],
        temperature=float(np.asarray(
            keras.ops.convert_to_numpy(layer.temperature))))
  print(json.dumps(dict(backend=keras.backend.backend(),
                        devices=len(devices), layers=results)))


if __name__ == "__main__":
  main(sys.argv[1])
