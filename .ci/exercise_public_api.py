"""Imports and exercises every public name of tfp_gumbel once.

.ci/run runs it in a fresh virtual environment holding only the built wheel
and what its install_requires bring (no extras), so a dependency that a public
path needs but setup.cfg does not declare fails here as it would for a user.
tests/test_public_api_script.py runs it in the test environment too, so that
it keeps up with the public names. Exits non-zero on any failure, or when a
public name is not exercised.
"""

import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

import tfp_gumbel as tfg  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel import kl  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel import monte_carlo  # pylint: disable=g-import-not-at-top,wrong-import-position

done = set()


def check(name, *values):
  for value in tf.nest.flatten(values):
    value = np.asarray(value)
    if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
      raise AssertionError(f"{name}: not finite: {value}")
  done.add(name)


logits = tf.constant([[0.5, -1., 2.], [0., 0., 0.]])
scores = tf.constant([[[1., 0., -1.], [0., 2., 0.], [0.5, 0., 1.]]])

# The families: sample, and log_prob where the family defines it.
families = {
    "GumbelSoftmax": tfg.GumbelSoftmax(0.5, logits=logits),
    "ExpRelaxedGumbelSoftmax": tfg.ExpRelaxedGumbelSoftmax(0.5, logits=logits),
    "GumbelSigmoid": tfg.GumbelSigmoid(0.5, logits=logits),
    "RelaxedTopK": tfg.RelaxedTopK(0.5, 2, logits=logits),
    "GumbelSinkhorn": tfg.GumbelSinkhorn(0.5, scores),
    "RelaxedPlackettLuce": tfg.RelaxedPlackettLuce(0.5, logits),
}
for name, distribution in families.items():
  x = distribution.sample(3, seed=(1, 2))
  try:
    log_prob = distribution.log_prob(x)
  except NotImplementedError:
    log_prob = ()
  check(name, x, log_prob)

# The exact KL at the top level, in tfp_gumbel.kl and in tfp_gumbel.monte_carlo
# (its 0.2.0 path); the Monte Carlo helpers at the top level and in
# tfp_gumbel.monte_carlo.
p, q = families["GumbelSoftmax"], tfg.GumbelSoftmax(1., logits=tf.zeros([2, 3]))
for module in (tfg, kl, monte_carlo):
  check("categorical_kl", module.categorical_kl(p, q))
for module in (tfg, monte_carlo):
  check("monte_carlo_entropy",
        module.monte_carlo_entropy(p, sample_size=16, seed=(3, 4)))
  check("monte_carlo_relaxed_kl",
        module.monte_carlo_relaxed_kl(p, q, sample_size=16, seed=(3, 4)))

# Every estimator, each once (matching needs scipy).
def _warned(category, fn):
  """`fn()`'s result, failing unless it warned with `category`."""
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    result = fn()
  assert any(issubclass(w.category, category) for w in caught), caught
  return result


est = tfg.estimators
calls = {
    "conditional_gumbel": lambda: est.conditional_gumbel(
        logits, tf.one_hot([2, 0], 3), 4, seed=(5, 6)),
    "get": lambda: est.get("st"),
    "gumbel_rao": lambda: est.gumbel_rao(logits, 0.5, 4, seed=(5, 6)),
    "gumbel_sigmoid_st": lambda: est.gumbel_sigmoid_st(logits, 0.5, seed=(5, 6)),
    "gumbel_sinkhorn_st": lambda: est.gumbel_sinkhorn_st(
        scores, 0.5, seed=(5, 6)),
    "gumbel_softmax_st": lambda: est.gumbel_softmax_st(logits, 0.5, seed=(5, 6)),
    "matching": lambda: est.matching(scores),
    "SinkhornOptions": lambda: est.solve_sinkhorn(
        scores, options=est.SinkhornOptions(num_iters=3)),
    "SinkhornResult": lambda: est.solve_sinkhorn(scores),
    # The warning, raised where a sample stopped at max_iters = 1 (t = 0.1,
    # 8 x 8: one Newton step is far from the tolerance).
    "SinkhornWarning": lambda: _warned(est.SinkhornWarning, lambda: (
        tfg.GumbelSinkhorn(0.1, 3. * tf.random.stateless_normal(
            [4, 8, 8], seed=(1, 7)), max_iters=1).sample(seed=(5, 6)))),
    "solve_sinkhorn": lambda: est.solve_sinkhorn(scores).log_p,
    "plackett_luce_st": lambda: est.plackett_luce_st(logits, 0.5, seed=(5, 6)),
    "reinmax": lambda: est.reinmax(logits, 0.5, seed=(5, 6)),
    "straight_through": lambda: est.straight_through(tf.nn.softmax(logits)),
    "top_k_st": lambda: est.top_k_st(logits, 2, 0.5, seed=(5, 6)),
}


def loss(b):
  return tf.reduce_sum((b - 0.3) ** 2, axis=-1)


# The unbiased estimators return f(b); their gradient is the estimator.
for name, estimator in {
    "score_function": lambda l: est.score_function(
        loss, l, 2, "leave_one_out", seed=(5, 6)),
    "rebar": lambda l: est.rebar(loss, l, 0.5, seed=(5, 6)),
    "relax": lambda l: est.relax(loss, l, lambda z: loss(tf.sigmoid(z)),
                                 seed=(5, 6), binary=True),
    "disarm": lambda l: est.disarm(loss, l, seed=(5, 6)),
}.items():
  with tf.GradientTape() as tape:
    tape.watch(logits)
    value = estimator(logits)
  calls[name] = lambda value=value, gradient=tape.gradient(value, logits): (
      value, gradient)

for name in est.__all__:
  result = calls[name]()
  check("estimators." + name, () if callable(result) else result)

# Every layer, called once in training and once in inference mode.
layers = {
    "GumbelSoftmax": (tfg.layers.GumbelSoftmax(0.5, seed=7), logits),
    "GumbelSigmoid": (tfg.layers.GumbelSigmoid(0.5, seed=7), logits),
    "RelaxedTopK": (tfg.layers.RelaxedTopK(2, 0.5, seed=7), logits),
    "GumbelSinkhorn": (tfg.layers.GumbelSinkhorn(0.5, seed=7), scores),
    "RelaxedPlackettLuce": (tfg.layers.RelaxedPlackettLuce(0.5, seed=7), logits),
}
for name in tfg.layers.__all__:
  if name == "TemperatureAnnealing":
    continue
  layer, inputs = layers[name]
  check("layers." + name, layer(inputs, training=True),
        layer(inputs, training=False))
annealing = tfg.layers.TemperatureAnnealing(
    layers=[layers["GumbelSoftmax"][0]], update_every=1)
annealing.on_train_batch_end(0)
check("layers.TemperatureAnnealing")

# Every function of tfg.ops (Keras's backend here: TensorFlow), relaxed and
# hard, with the gradient.
ops_calls = {
    "gumbel_softmax": lambda x: tfg.ops.gumbel_softmax(
        x, 0.5, seed=7, hard=True, estimator="gumbel_rao"),
    "gumbel_sigmoid": lambda x: tfg.ops.gumbel_sigmoid(x, 0.5, seed=7),
    "relaxed_top_k": lambda x: tfg.ops.relaxed_top_k(x, 2, 0.5, seed=7),
    "neural_sort": lambda x: tfg.ops.neural_sort(x, 0.5),
    "relaxed_sort": lambda x: tfg.ops.relaxed_sort(x, 0.5, seed=7, hard=True),
    "sinkhorn": lambda x: tfg.ops.sinkhorn(x[0]),
    "gumbel_sinkhorn": lambda x: tfg.ops.gumbel_sinkhorn(x, 0.5, seed=7,
                                                         hard=True),
    "matching": lambda x: tfg.ops.matching(x),
}
for name in tfg.ops.__all__:
  inputs = scores if "sinkhorn" in name or name == "matching" else logits
  with tf.GradientTape() as tape:
    tape.watch(inputs)
    value = ops_calls[name](inputs)
  gradient = tape.gradient(value, inputs)
  check("ops." + name, value, () if gradient is None else gradient)

expected = ({n for n in tfg.__all__
             if n not in ("estimators", "layers", "ops")}
            | {"ops." + n for n in tfg.ops.__all__}
            | {"estimators." + n for n in est.__all__}
            | {"layers." + n for n in tfg.layers.__all__}
            | set(kl.__all__) | set(monte_carlo.__all__))
missing = expected - done
if missing:
  raise SystemExit(f"public names not exercised: {sorted(missing)}")
print(f"exercised {len(done)} public names: tfp_gumbel {tfg.__version__}, "
      f"TF {tf.__version__}, numpy {np.__version__}")
