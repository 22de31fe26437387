"""What is timed: each family of relaxations, three ways.

For every family there are three implementations of the same four operations:

- `ours`: the `tfp_gumbel` distribution, built inside the timed call (a
  training step builds it from the current logits and temperature);
- `tfp`: TFP 0.25's own distribution, used the same way;
- `raw`: the minimal TensorFlow ops that compute the same numbers, with no
  distribution object at all (the floor a distribution can hope to reach).

The operations, all on a batch of `N` logits vectors of `K` classes (shape
`[N, K]`) and a scalar temperature, one draw per batch member:

- `sample`: construct + `sample(seed=...)`;
- `log_prob`: construct + `log_prob(x)` on given points `x`;
- `sample_and_log_prob`: construct + `experimental_sample_and_log_prob`;
- `grad`: gradient of `sum(sample**2)` w.r.t. logits and temperature.
"""

import collections

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg

tfd = tfp.distributions

OPS = ("sample", "log_prob", "sample_and_log_prob", "grad")
IMPLS = ("ours", "tfp", "raw")

Family = collections.namedtuple(
    "Family", ["name", "ours", "tfp", "raw_sample", "raw_log_prob",
               "raw_sample_and_log_prob"])


def _uniform(shape, seed, dtype, alg):
  # The same open-interval uniform as TFP and tfp_gumbel._backend.tensorflow.uniform_open: the smallest
  # normal float as lower bound, so no log(0) below.
  return tf.random.stateless_uniform(
      shape, seed=seed, minval=np.finfo(dtype.as_numpy_dtype).tiny,
      maxval=1., dtype=dtype, alg=alg)


def raw_alg(mode):
  """The fastest generator a user would name for each mode (the floor).

  TF's default, "auto_select", is Philox through one C++ op outside XLA; an
  explicit "philox" adds about ten small eager ops that scramble the seed in
  Python (~3 ms per call eagerly). Under XLA it is the other way round:
  "auto_select" lowers to a generator ~60x slower on CPU than "philox".
  """
  return "philox" if mode == "xla" else "auto_select"


def _gumbel_scores(logits, t, seed, alg):
  u = _uniform(tf.shape(logits), seed, logits.dtype, alg)
  return (logits - tf.math.log(-tf.math.log(u))) / t


def _concrete_log_prob(logits, t, log_x):
  # Maddison et al.'s ExpConcrete density written as one log_softmax:
  # sum_k (z_k) - K logsumexp(z) with z = logits - t y.
  k = tf.cast(tf.shape(logits)[-1], logits.dtype)
  z = logits - t * log_x
  return (tf.math.lgamma(k) + (k - 1.) * tf.math.log(t)
          + tf.reduce_sum(tf.math.log_softmax(z), axis=-1))


# -- Gumbel-Softmax on the simplex -------------------------------------------

def _softmax_sample(logits, t, seed, alg="auto_select"):
  return tf.math.softmax(_gumbel_scores(logits, t, seed, alg))


def _softmax_log_prob(logits, t, x):
  log_x = tf.math.log(x)
  # Exp bijector: minus the sum of log x.
  return _concrete_log_prob(logits, t, log_x) - tf.reduce_sum(log_x, axis=-1)


def _softmax_sample_and_log_prob(logits, t, seed, alg="auto_select"):
  y = tf.math.log_softmax(_gumbel_scores(logits, t, seed, alg))
  return tf.exp(y), _concrete_log_prob(logits, t, y) - tf.reduce_sum(y, -1)


# -- ExpRelaxed Gumbel-Softmax on the log-simplex ----------------------------

def _exp_sample(logits, t, seed, alg="auto_select"):
  return tf.math.log_softmax(_gumbel_scores(logits, t, seed, alg))


def _exp_sample_and_log_prob(logits, t, seed, alg="auto_select"):
  y = _exp_sample(logits, t, seed, alg)
  return y, _concrete_log_prob(logits, t, y)


# -- Gumbel-Sigmoid (binary Concrete) ----------------------------------------

def _logistic_scores(logits, t, seed, alg):
  u = _uniform(tf.shape(logits), seed, logits.dtype, alg)
  return (logits + tf.math.log(u) - tf.math.log1p(-u)) / t


def _sigmoid_sample(logits, t, seed, alg="auto_select"):
  return tf.math.sigmoid(_logistic_scores(logits, t, seed, alg))


def _logistic_log_prob(logits, t, z):
  # Logistic(logits / t, 1 / t) density of the logit z, with a = logits - t z.
  a = logits - t * z
  return tf.math.log(t) + a - 2. * tf.math.softplus(a)


def _sigmoid_log_prob(logits, t, x):
  log_x, log1m_x = tf.math.log(x), tf.math.log1p(-x)
  # Sigmoid bijector: minus log x - log(1 - x).
  return _logistic_log_prob(logits, t, log_x - log1m_x) - log_x - log1m_x


def _sigmoid_sample_and_log_prob(logits, t, seed, alg="auto_select"):
  z = _logistic_scores(logits, t, seed, alg)
  return tf.math.sigmoid(z), (_logistic_log_prob(logits, t, z)
                              - tf.math.log_sigmoid(z)
                              - tf.math.log_sigmoid(-z))


def _gumbel_sigmoid_class():
  cls = getattr(tfg, "GumbelSigmoid", None)
  if cls is None:
    try:  # Written by another developer; may not be exported yet.
      from tfp_gumbel.distributions import gumbel_sigmoid  # pylint: disable=g-import-not-at-top
      cls = gumbel_sigmoid.GumbelSigmoid
    except ImportError:
      return None
  return cls


def families():
  """The families available in this installation, by name."""
  result = {
      "softmax": Family("softmax", tfg.GumbelSoftmax,
                        tfd.RelaxedOneHotCategorical, _softmax_sample,
                        _softmax_log_prob, _softmax_sample_and_log_prob),
      "exp_relaxed": Family("exp_relaxed", tfg.ExpRelaxedGumbelSoftmax,
                            tfd.ExpRelaxedOneHotCategorical, _exp_sample,
                            _concrete_log_prob, _exp_sample_and_log_prob),
  }
  gumbel_sigmoid = _gumbel_sigmoid_class()
  if gumbel_sigmoid is not None:
    result["sigmoid"] = Family("sigmoid", gumbel_sigmoid, tfd.RelaxedBernoulli,
                               _sigmoid_sample, _sigmoid_log_prob,
                               _sigmoid_sample_and_log_prob)
  return result


DISPLAY = {
    "softmax": ("tfg.GumbelSoftmax", "tfd.RelaxedOneHotCategorical",
                "softmax((logits + g) / t)"),
    "exp_relaxed": ("tfg.ExpRelaxedGumbelSoftmax",
                    "tfd.ExpRelaxedOneHotCategorical",
                    "log_softmax((logits + g) / t)"),
    "sigmoid": ("tfg.GumbelSigmoid", "tfd.RelaxedBernoulli",
                "sigmoid((logits + l) / t)"),
}


def _distribution_ops(cls):
  """The four operations through a distribution class."""

  def sample(logits, t, seed):
    return cls(t, logits=logits).sample(seed=seed)

  def log_prob(logits, t, x):
    return cls(t, logits=logits).log_prob(x)

  def sample_and_log_prob(logits, t, seed):
    return cls(t, logits=logits).experimental_sample_and_log_prob(seed=seed)

  return sample, log_prob, sample_and_log_prob


def _with_grad(sample):
  def grad(logits, t, seed):
    with tf.GradientTape() as tape:
      tape.watch([logits, t])
      loss = tf.reduce_sum(tf.square(sample(logits, t, seed)))
    return tape.gradient(loss, [logits, t])
  return grad


def operations(family, impl, mode="eager"):
  """{op name: python function} for one implementation of one family.

  `sample`, `sample_and_log_prob` and `grad` take `(logits, t, seed)`;
  `log_prob` takes `(logits, t, x)`.
  """
  if impl == "raw":
    alg = raw_alg(mode)
    sample = lambda *args: family.raw_sample(*args, alg=alg)
    log_prob = family.raw_log_prob
    sample_and_log_prob = (
        lambda *args: family.raw_sample_and_log_prob(*args, alg=alg))
  else:
    sample, log_prob, sample_and_log_prob = _distribution_ops(
        family.ours if impl == "ours" else family.tfp)
  return dict(sample=sample, log_prob=log_prob,
              sample_and_log_prob=sample_and_log_prob,
              grad=_with_grad(sample))


def inputs(family, n, k, dtype, seed=0):
  """Logits `[N, K]`, temperature 0.5, a stateless seed, and points `x`.

  The points are one raw-op draw, shared by the three implementations.
  """
  dtype = tf.as_dtype(dtype)
  rng = np.random.RandomState(seed)
  logits = tf.constant(rng.normal(size=(n, k)), dtype)
  t = tf.constant(0.5, dtype)
  seed_tensor = tf.constant([seed, 1], tf.int32)
  x = family.raw_sample(logits, t, tf.constant([seed, 2], tf.int32))
  return logits, t, seed_tensor, x
