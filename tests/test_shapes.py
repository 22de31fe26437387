"""High batch ranks: what TF's CPU kernels limit, our callables do not.

Where TF runs its oneDNN CPU kernels (`TF_ENABLE_ONEDNN_OPTS=1`, its default
on some CPUs), Softmax takes at most 5 dimensions, and a sample adds axes to
a batch of any rank. The option is read when TensorFlow is imported, so the
calls run in a fresh process with it set.
"""

import os
import subprocess
import sys

# Each call failed with "Input dims must be <= 5 and >=1 [Op:Softmax]" under
# oneDNN before `tf_xp.softmax` (TFP's RelaxedOneHotCategorical did not).
CALLS = {
    "GumbelSoftmax, rank-5 logits, sample()":
        "tfg.GumbelSoftmax(0.5, logits=tf.zeros([2, 1, 3, 1, 3])).sample()",
    "RelaxedPlackettLuce, scores [2, 1, 3, 3], sample()":
        "tfg.RelaxedPlackettLuce(0.5, tf.ones([2, 1, 3, 3])).sample()",
    "gumbel_softmax_st, rank 6":
        "tfg.estimators.gumbel_softmax_st(tf.zeros([2, 1, 2, 1, 2, 3]), 0.5)",
    "reinmax, rank 6":
        "tfg.estimators.reinmax(tf.zeros([2, 1, 2, 1, 2, 3]), 0.5)",
    "gumbel_rao, rank 5":
        "tfg.estimators.gumbel_rao(tf.zeros([2, 1, 2, 1, 3]), 0.5, 4)",
    "plackett_luce_st, rank 5":
        "tfg.estimators.plackett_luce_st(tf.zeros([2, 1, 2, 1, 3]), 0.5)",
    "layers.GumbelSoftmax, rank 5, soft":
        "tfg.layers.GumbelSoftmax(0.5)(tf.zeros([2, 1, 2, 1, 3]), training=True)",
    "layers.GumbelSoftmax, rank 6, probs":
        "tfg.layers.GumbelSoftmax(0.5, inference='probs')("
        "tf.zeros([2, 1, 2, 1, 2, 3]))",
    "layers.RelaxedPlackettLuce, rank 4, soft":
        "tfg.layers.RelaxedPlackettLuce(0.5)(tf.zeros([2, 1, 2, 3]), "
        "training=True)",
}


def test_softmax_users_at_high_rank_under_onednn():
  script = ["import numpy as np, tensorflow as tf, tfp_gumbel as tfg",
            "failed = []"]
  for name, call in CALLS.items():
    script += [
        "try:",
        f"  y = np.asarray({call})",
        "  assert np.all(np.isfinite(y)), 'not finite'",
        "except Exception as error:",
        f"  failed.append(({name!r}, str(error).splitlines()[0]))",
    ]
  script += ["print(len(failed), 'failed', failed)"]
  result = subprocess.run(
      [sys.executable, "-c", "\n".join(script)], capture_output=True,
      text=True, timeout=300, check=False,
      # The calls are TensorFlow's: Keras's backend too, whatever the
      # machine's ~/.keras/keras.json says.
      env=dict(os.environ, TF_ENABLE_ONEDNN_OPTS="1", TF_CPP_MIN_LOG_LEVEL="2",
               KERAS_BACKEND="tensorflow"))
  assert result.returncode == 0, result.stderr[-3000:]
  assert result.stdout.strip().splitlines()[-1] == "0 failed []", result.stdout


# The sweep: every public callable of the package, `estimators` and `layers`,
# at batch ranks 0-6 (and, for the families, sample shapes of rank 0-2),
# eagerly, in tf.function with every batch dimension unknown, and under XLA;
# outputs and the gradient of their sum with respect to the parameters must
# be finite.
import numpy as np  # pylint: disable=wrong-import-position
import pytest  # pylint: disable=wrong-import-position
import tensorflow as tf  # pylint: disable=wrong-import-position

import tfp_gumbel as tfg  # pylint: disable=wrong-import-position
from tfp_gumbel._backend import tensorflow as tf_xp  # pylint: disable=wrong-import-position

K = 3
BATCH = [2, 1, 2, 1, 2, 1]  # broadcast-hostile: no two neighbours collapse


def _loss(b):
  return tf.reduce_sum((b - 0.3) ** 2, axis=-1)


def _family(make, event):
  def call(x):
    d = make(x)
    outputs = []
    for sample_shape in ((), (2,), (2, 1)):
      s = d.sample(sample_shape, seed=(1, 2))
      outputs.append(s)
      try:
        outputs.append(d.log_prob(s))
      except NotImplementedError:
        pass
    return outputs
  return call, event, None


def _layer(make, event):
  # The layer is built outside any traced function (Keras creates its
  # weights once); `call` runs it in training and at inference.
  def build():
    layer = make()
    def call(x):
      return [layer(x, training=True), layer(x, training=False)]
    return call
  return None, event, build


def _cases():
  est = tfg.estimators
  gs = lambda t: (lambda x: tfg.GumbelSoftmax(t, logits=x))
  return {
      "ExpRelaxedGumbelSoftmax": _family(
          lambda x: tfg.ExpRelaxedGumbelSoftmax(0.5, logits=x), [K]),
      "GumbelSoftmax": _family(gs(0.5), [K]),
      "GumbelSigmoid": _family(lambda x: tfg.GumbelSigmoid(0.5, logits=x), [K]),
      "RelaxedTopK": _family(lambda x: tfg.RelaxedTopK(0.5, 2, logits=x), [K]),
      "GumbelSinkhorn": _family(lambda x: tfg.GumbelSinkhorn(0.5, x), [K, K]),
      "RelaxedPlackettLuce": _family(
          lambda x: tfg.RelaxedPlackettLuce(0.5, tf.exp(x)), [K]),
      "categorical_kl": (lambda x: tfg.categorical_kl(gs(0.5)(x),
                                                      gs(1.)(0.5 * x)),
                         [K], None),
      "monte_carlo_entropy": (lambda x: tfg.monte_carlo_entropy(
          gs(0.5)(x), 4, seed=(3, 4)), [K], None),
      "monte_carlo_relaxed_kl": (lambda x: tfg.monte_carlo_relaxed_kl(
          gs(0.5)(x), gs(1.)(0.5 * x), 4, seed=(3, 4)), [K], None),
      "estimators.conditional_gumbel": (lambda x: est.conditional_gumbel(
          x, tf.one_hot(tf.argmax(x, axis=-1), K), 4, seed=(5, 6)),
                                        [K], None),
      "estimators.disarm": (lambda x: est.disarm(_loss, x, seed=(5, 6)),
                            [K], None),
      "estimators.get": (lambda x: est.get("reinmax")(x, 0.5, seed=(5, 6)),
                         [K], None),
      "estimators.gumbel_rao": (lambda x: est.gumbel_rao(x, 0.5, 4, seed=(5, 6)),
                                [K], None),
      "estimators.gumbel_sigmoid_st": (lambda x: est.gumbel_sigmoid_st(
          x, 0.5, seed=(5, 6)), [K], None),
      "estimators.gumbel_sinkhorn_st": (lambda x: est.gumbel_sinkhorn_st(
          x, 0.5, seed=(5, 6)), [K, K], None),
      "estimators.gumbel_softmax_st": (lambda x: est.gumbel_softmax_st(
          x, 0.5, seed=(5, 6)), [K], None),
      "estimators.matching": (est.matching, [K, K], None),
      "estimators.plackett_luce_st": (lambda x: est.plackett_luce_st(
          x, 0.5, seed=(5, 6)), [K], None),
      "estimators.rebar": (lambda x: est.rebar(_loss, x, 0.5, seed=(5, 6)),
                           [K], None),
      "estimators.reinmax": (lambda x: est.reinmax(x, 0.5, seed=(5, 6)),
                             [K], None),
      "estimators.relax": (lambda x: est.relax(
          _loss, x, lambda z: _loss(tf.sigmoid(z)), seed=(5, 6), binary=True),
                           [K], None),
      "estimators.SinkhornOptions": (lambda x: est.solve_sinkhorn(
          x, options=est.SinkhornOptions(num_iters=3)).log_p, [K, K], None),
      "estimators.SinkhornResult": (est.solve_sinkhorn, [K, K], None),
      "estimators.solve_sinkhorn": (lambda x: est.solve_sinkhorn(x).log_p,
                                    [K, K], None),
      "estimators.score_function": (lambda x: est.score_function(
          _loss, x, 2, "leave_one_out", seed=(5, 6)), [K], None),
      # A soft sample written without TF's Softmax op (the sweep also runs
      # with oneDNN's, which takes at most 5 dimensions).
      "estimators.straight_through": (lambda x: est.straight_through(
          tf.exp(x - tf.reduce_logsumexp(x, axis=-1, keepdims=True))),
                                      [K], None),
      "estimators.top_k_st": (lambda x: est.top_k_st(x, 2, 0.5, seed=(5, 6)),
                              [K], None),
      "ops.gumbel_softmax": (lambda x: tfg.ops.gumbel_softmax(
          x, 0.5, seed=5, hard=True), [K], None),
      "ops.gumbel_sigmoid": (lambda x: tfg.ops.gumbel_sigmoid(
          x, 0.5, seed=5, hard=True), [K], None),
      "ops.relaxed_top_k": (lambda x: tfg.ops.relaxed_top_k(
          x, 2, 0.5, seed=5, hard=True), [K], None),
      "ops.neural_sort": (lambda x: tfg.ops.neural_sort(x, 0.5), [K], None),
      "ops.relaxed_sort": (lambda x: tfg.ops.relaxed_sort(
          x, 0.5, seed=5, hard=True), [K], None),
      "ops.sinkhorn": (tfg.ops.sinkhorn, [K, K], None),
      "ops.gumbel_sinkhorn": (lambda x: tfg.ops.gumbel_sinkhorn(
          x, 0.5, seed=5), [K, K], None),
      "ops.matching": (tfg.ops.matching, [K, K], None),
      "layers.GumbelSoftmax": _layer(
          lambda: tfg.layers.GumbelSoftmax(0.5, hard=True, kl_weight=1.,
                                           seed=7), [K]),
      "layers.GumbelSigmoid": _layer(
          lambda: tfg.layers.GumbelSigmoid(0.5, seed=7), [K]),
      "layers.RelaxedTopK": _layer(
          lambda: tfg.layers.RelaxedTopK(2, 0.5, seed=7), [K]),
      "layers.GumbelSinkhorn": _layer(
          lambda: tfg.layers.GumbelSinkhorn(0.5, inference="probs", seed=7),
          [K, K]),
      "layers.RelaxedPlackettLuce": _layer(
          lambda: tfg.layers.RelaxedPlackettLuce(0.5, seed=7), [K]),
      "layers.TemperatureAnnealing": _layer(
          lambda: AnnealedGumbelSoftmax(), [K]),
  }


class AnnealedGumbelSoftmax(tfg.layers.GumbelSoftmax):
  """A GumbelSoftmax layer whose temperature a TemperatureAnnealing moves
  before each call (the callback's own work is shape-free; this sweeps the
  layer it drives)."""

  def __init__(self):
    super().__init__(0.5, seed=7)
    self.annealing = tfg.layers.TemperatureAnnealing(layers=[self],
                                                     update_every=1)

  def call(self, inputs, training=None, **kwargs):
    if tf.executing_eagerly():
      self.annealing.on_train_batch_end(0)
    return super().call(inputs, training=training, **kwargs)


CASES = _cases()
# The matching solves the assignment with scipy on the host
# (tf.numpy_function), which XLA cannot compile: it is documented as
# unavailable under jit_compile=True.
NOT_UNDER_XLA = {"estimators.matching", "estimators.gumbel_sinkhorn_st",
                 "ops.matching"}
# tfg.ops takes the shapes of Keras's backends: known when traced (a
# tf.function of unknown dimensions is TF-only), so it is traced on the
# shapes of its inputs.
STATIC_SHAPES = {name for name in CASES if name.startswith("ops.")}
# CI sweeps every rank eagerly and the extremes compiled; `-m slow` all.
FAST = {"eager": range(7), "function": (0, 6), "xla": (6,)}


def test_every_public_name_is_swept():
  # A warning class has no shapes: it is raised, not called on Tensors.
  names = ({n for n in tfg.__all__ if n not in ("estimators", "layers", "ops")}
           | {"estimators." + n for n in tfg.estimators.__all__
              if not (isinstance(getattr(tfg.estimators, n), type)
                      and issubclass(getattr(tfg.estimators, n), Warning))}
           | {"layers." + n for n in tfg.layers.__all__}
           | {"ops." + n for n in tfg.ops.__all__})
  assert names == set(CASES)


def _sweep_params():
  for name in CASES:
    for mode in ("eager", "function", "xla"):
      if mode == "xla" and name in NOT_UNDER_XLA:
        continue
      for rank in range(7):
        marks = () if rank in FAST[mode] else (pytest.mark.slow,)
        yield pytest.param(name, mode, rank, marks=marks,
                           id=f"{name}-{mode}-rank{rank}")


def _finite(value):
  value = np.asarray(value)
  return value.dtype.kind != "f" or bool(np.all(np.isfinite(value)))


@pytest.mark.parametrize("name,mode,rank", list(_sweep_params()))
def test_any_batch_rank(name, mode, rank):
  fn, event, build = CASES[name]
  if build is not None:
    fn = build()
  x = 2. * tf.random.stateless_normal(BATCH[:rank] + event, seed=(1, 2))

  def run(x):
    with tf.GradientTape() as tape:
      tape.watch(x)
      outputs = tf.nest.flatten(fn(x))
      total = tf.add_n([tf.reduce_sum(tf.cast(o, tf.float32))
                        for o in outputs])
    gradient = tape.gradient(total, x)
    return outputs, (tf.zeros_like(x) if gradient is None else gradient)

  if mode == "function" and name in STATIC_SHAPES:
    run = tf.function(run)
  elif mode == "function":
    run = tf.function(run, input_signature=[
        tf.TensorSpec([None] * (rank + len(event)), tf.float32)])
  elif mode == "xla":
    run = tf.function(run, jit_compile=True)
  outputs, gradient = run(x)
  for output in outputs:
    assert _finite(output), name
    if output.shape.rank:
      # The batch axes are those of the parameters (after any sample axes).
      assert tuple(output.shape).count(2) >= rank // 2
  assert _finite(gradient), name


# Working on one batch axis changes no number: the flat path (forced here by
# a kernel-rank limit of 0) gives the draws and densities of the direct one.
@pytest.mark.parametrize("make,event", [
    (lambda x: tfg.GumbelSinkhorn(0.5, x), [K, K]),
    (lambda x: tfg.RelaxedPlackettLuce(0.5, tf.exp(x)), [K]),
])
def test_one_batch_axis_gives_the_same_samples(make, event, monkeypatch):
  x = 2. * tf.random.stateless_normal([2, 3] + event, seed=(3, 4))
  direct = make(x).sample(4, seed=(5, 6)).numpy()
  monkeypatch.setattr(tf_xp, "MAX_KERNEL_RANK", 0)
  flat = make(x).sample(4, seed=(5, 6)).numpy()
  np.testing.assert_array_equal(flat, direct)


@pytest.mark.parametrize("cls", [tfg.GumbelSoftmax, tfg.ExpRelaxedGumbelSoftmax,
                                 tfg.GumbelSigmoid])
def test_several_sample_axes_give_each_points_log_prob(cls):
  d = cls(0.5, logits=tf.random.stateless_normal([2, 3], seed=(1, 2)))
  x = d.sample([2, 4], seed=(3, 4))
  log_prob = d.log_prob(x).numpy()
  for i in range(2):
    np.testing.assert_array_equal(log_prob[i], d.log_prob(x[i]).numpy())
  # The same draws with one sample axis (Philox fills a shape in order).
  _, lp = d.experimental_sample_and_log_prob([2, 4], seed=(3, 4))
  _, lp_one_axis = d.experimental_sample_and_log_prob(8, seed=(3, 4))
  np.testing.assert_array_equal(lp.numpy().reshape(lp_one_axis.shape),
                                lp_one_axis.numpy())


def test_conditional_gumbel_on_one_batch_axis_is_the_batched_draw():
  logits = tf.random.stateless_normal([2, 1, 3, K], seed=(1, 2))
  sample = tf.one_hot(tf.argmax(logits, axis=-1), K)
  z = tfg.estimators.conditional_gumbel(logits, sample, 5, seed=(3, 4))
  flat = tfg.estimators.conditional_gumbel(
      tf.reshape(logits, [-1, K]), tf.reshape(sample, [-1, K]), 5, seed=(3, 4))
  np.testing.assert_array_equal(z.numpy(), tf.reshape(flat, z.shape).numpy())


@pytest.mark.parametrize("dtype", [tf.bool, tf.int32, tf.float32])
def test_conditional_gumbel_takes_a_one_hot_of_any_dtype(dtype):
  logits = tf.random.stateless_normal([4, K], seed=(1, 2))
  one_hot = tf.one_hot(tf.argmax(logits, axis=-1), K)
  z = tfg.estimators.conditional_gumbel(logits, tf.cast(one_hot, dtype), 3,
                                        seed=(3, 4))
  expected = tfg.estimators.conditional_gumbel(logits, one_hot, 3, seed=(3, 4))
  np.testing.assert_array_equal(z.numpy(), expected.numpy())
  assert np.all(tf.argmax(z, axis=-1).numpy() == tf.argmax(logits, -1).numpy())
