"""GumbelSoftmax trained in a custom loop under tf.distribute (run by
test_multi_worker.py, one process per worker).

    python -m tests.layers.multi_worker_script worker   # TF_CONFIG from env
    python -m tests.layers.multi_worker_script single   # one process

`worker` is one of the workers of a `MultiWorkerMirroredStrategy` (one CPU
replica each, TF_CONFIG names the cluster and this worker's index); `single`
runs the same loop in one process under `MirroredStrategy` over 2 logical
CPUs. Both split the same global batch into the same per-replica halves and
replica r has the same global id (`replica_id_in_sync_group`) in both, so the
layer draws the same noise and the two runs must agree up to the all-reduce.

The model: logits = Dense(x), a relaxed one-hot sample of them, and the
squared distance of the sample to the one-hot label of a fixed synthetic
classification set (labels from a random linear teacher, so they are
learnable). The script prints one JSON line with this process's replicas.
"""

import json
import sys

import numpy as np
import tensorflow as tf

MODE = sys.argv[1]
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 60
if MODE == "single":
  cpu = tf.config.list_physical_devices("CPU")[0]
  tf.config.set_logical_device_configuration(
      cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
# Two cores are shared by all workers: one thread each keeps them from
# oversubscribing the machine (and the kernels' reduction order fixed).
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)

import keras  # pylint: disable=g-import-not-at-top,wrong-import-position

import tfp_gumbel as tfg  # pylint: disable=g-import-not-at-top,wrong-import-position

FEATURES, CLASSES, EXAMPLES = 8, 4, 256
GLOBAL_BATCH, REPLICAS = 32, 2
PER_REPLICA = GLOBAL_BATCH // REPLICAS

if MODE == "worker":
  strategy = tf.distribute.MultiWorkerMirroredStrategy(
      communication_options=tf.distribute.experimental.CommunicationOptions(
          implementation=tf.distribute.experimental.CommunicationImplementation
          .RING))
else:
  strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
assert strategy.num_replicas_in_sync == REPLICAS

# The same data set in every process (numpy's generator, not TF's).
rng = np.random.default_rng(0)
x_all = rng.normal(size=[EXAMPLES, FEATURES]).astype(np.float32)
teacher = rng.normal(size=[FEATURES, CLASSES]).astype(np.float32)
y_all = np.eye(CLASSES, dtype=np.float32)[np.argmax(x_all @ teacher, -1)]

with strategy.scope():
  keras.utils.set_random_seed(1)  # the same initial Dense weights everywhere
  layer = tfg.layers.GumbelSoftmax(0.5, seed=7)
  model = keras.Sequential([keras.Input([FEATURES]),
                            keras.layers.Dense(CLASSES), layer])
  optimizer = keras.optimizers.Adam(0.1)
  # Built here, in cross-replica context: its slots are mirrored variables,
  # which cannot be created inside `strategy.run`.
  optimizer.build(model.trainable_variables)


def replica_batch(step):
  """Replica r's half of global batch `step` (rows [r * 16, r * 16 + 16))."""
  def value_fn(context):
    start = (step * GLOBAL_BATCH) % EXAMPLES + (
        context.replica_id_in_sync_group * PER_REPLICA)
    return (x_all[start:start + PER_REPLICA], y_all[start:start + PER_REPLICA])
  return strategy.experimental_distribute_values_from_function(value_fn)


@tf.function
def train_step(batch):
  def step_fn(x, y):
    with tf.GradientTape() as tape:
      sample = model(x, training=True)
      per_example = tf.reduce_sum(tf.square(sample - y), -1)
      # Scaled by the GLOBAL batch: the summed replica gradients are then the
      # gradient of the global batch's mean loss.
      loss = tf.nn.compute_average_loss(per_example,
                                        global_batch_size=GLOBAL_BATCH)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss
  losses = strategy.run(step_fn, args=batch)
  return strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)


@tf.function
def probe():
  # The same input on every replica: the outputs differ only by the noise.
  return strategy.run(lambda: layer(tf.zeros([4, CLASSES]), training=True))


def accuracy():
  # Inference outputs the mode (a hard one-hot): the fraction of the whole
  # data set the model classifies like the teacher.
  hard = model(x_all, training=False)
  return float(np.mean(np.argmax(hard, -1) == np.argmax(y_all, -1)))


def local(values):
  """This process's per-replica values, as lists."""
  return [v.numpy().tolist()
          for v in strategy.experimental_local_results(values)]


first_accuracy = accuracy()
state = layer.seed_generator.state.numpy()
first_probe = local(probe())
# Rewinding the seed state must give the same draws: the stream is a
# function of (seed state, replica id) only.
layer.seed_generator.state.assign(state)
rewound_probe = local(probe())
losses = [float(train_step(replica_batch(step))) for step in range(STEPS)]
last_probe = local(probe())
last_accuracy = accuracy()

print(json.dumps({
    "mode": MODE,
    "replicas": strategy.num_replicas_in_sync,
    "replica_ids": local(strategy.run(
        lambda: tf.distribute.get_replica_context().replica_id_in_sync_group)),
    "first_probe": first_probe,
    "rewound_probe": rewound_probe,
    "last_probe": last_probe,
    "losses": losses,
    "accuracy": [first_accuracy, last_accuracy],
    "weights": [local(v.value) for v in model.trainable_variables],
    "seed_state": local(layer.seed_generator.state.value),
}))
