"""tfp_gumbel.unbiased (exported by tfg.estimators): unbiasedness against the
exact gradient of E[f(b)] by enumeration, variance falling when REBAR's
temperature and eta or RELAX's control variate are tuned, f's own variables,
shapes, seeds, XLA, dtypes, impossible classes and bad arguments.

The unbiasedness statistic. Each test tiles one row of logits N = 20,000
times, so one call gives N independent draws of the estimator g (every row
has its own noise). For each coordinate k, z_k = (mean(g_k) - exact_k) /
(std(g_k) / sqrt(N)) is approximately standard normal for an unbiased
estimator (the central limit theorem: g is bounded, N is large). The
threshold |z| < 4.5 has P(|Z| > 4.5) = 6.8e-6 per coordinate; the file checks
fewer than 100 coordinates, so a correct implementation fails with
probability below 1e-3 over seeds (Bonferroni), while a bias of 4.5 standard
errors (1e-2 to 3e-2 here) is caught: the straight-through estimator, biased,
is rejected with max |z| = 16.5 at t = 0.5
(test_the_statistic_rejects_a_biased_estimator).
Seeds are fixed, so the run is deterministic.
"""

import itertools

import numpy as np
import pytest
import tensorflow as tf

import tfp_gumbel as tfg

est = tfg.estimators
N = 20000
Z_BOUND = 4.5
TARGET = np.array([0.1, 0.25, -0.3, 0.45])
MIX = np.array([1., -2., 0.5, 1.5])


def f(b):
  """Non-linear in b, defined on the relaxed points too; rows independent."""
  b = tf.convert_to_tensor(b)
  return (tf.reduce_sum((b - TARGET[:b.shape[-1]].astype(b.dtype.as_numpy_dtype)) ** 2, -1)
          + tf.tanh(tf.reduce_sum(b * MIX[:b.shape[-1]].astype(b.dtype.as_numpy_dtype), -1)))


def exact_gradient(logits, binary):
  """d E[f(b)] / d logits, enumerating every outcome (float64)."""
  logits = tf.constant(logits, tf.float64)
  k = logits.shape[-1]
  with tf.GradientTape() as tape:
    tape.watch(logits)
    if binary:
      p = tf.sigmoid(logits)
      outcomes = tf.constant(list(itertools.product([0., 1.], repeat=k)),
                             tf.float64)
      weights = tf.reduce_prod(p ** outcomes * (1. - p) ** (1. - outcomes), -1)
      expectation = tf.reduce_sum(weights * f(outcomes))
    else:
      possible = tf.math.is_finite(logits)
      p = tf.math.softmax(logits)
      expectation = tf.reduce_sum(
          tf.where(possible, p * f(tf.eye(k, dtype=tf.float64)), 0.))
  return tape.gradient(expectation, logits).numpy()


def draws(estimator, row, seed=(1, 2), dtype=tf.float32, n=N):
  """N draws of the estimator for the logits `row` (rows of a batch)."""
  logits = tf.constant(np.tile(row, (n, 1)), dtype)
  with tf.GradientTape() as tape:
    tape.watch(logits)
    value = estimator(logits, seed)
  return value.numpy(), tape.gradient(value, logits).numpy()


def z_scores(gradients, exact):
  mean = gradients.mean(0)
  standard_error = gradients.std(0) / np.sqrt(len(gradients))
  varying = standard_error > 0
  z = np.zeros_like(mean)
  z[varying] = (mean - exact)[varying] / standard_error[varying]
  # A coordinate that never varies must be exact (the impossible class: 0).
  np.testing.assert_allclose(mean[~varying], exact[~varying], atol=1e-6)
  return z


def masked(z):
  """A control variate reading the perturbed logits, -inf masked."""
  z = tf.where(tf.math.is_inf(z), tf.zeros([], z.dtype), z)
  return 0.3 * tf.tanh(tf.reduce_sum(z * [0.5, -1., 0.2, 0.7], -1)) + 0.6


CATEGORICAL_ROW = np.array([0.3, -0.5, 1.2, -np.inf])  # class 3 impossible
CATEGORICAL = {
    "score": lambda l, s: est.score_function(f, l, seed=s),
    "score_baseline": lambda l, s: est.score_function(
        f, l, num_samples=2, baseline=0.8, seed=s),
    "score_leave_one_out": lambda l, s: est.score_function(
        f, l, num_samples=3, baseline="leave_one_out", seed=s),
    "rebar": lambda l, s: est.rebar(f, l, 0.5, 0.7, seed=s),
    "relax": lambda l, s: est.relax(f, l, masked, seed=s),
}

BINARY_ROW = np.array([0.3, -0.5, 2.0, np.inf, -np.inf])  # two deterministic
BINARY = {
    "score": lambda l, s: est.score_function(f5, l, seed=s, binary=True),
    "score_leave_one_out": lambda l, s: est.score_function(
        f5, l, num_samples=2, baseline="leave_one_out", seed=s, binary=True),
    "rebar": lambda l, s: est.rebar(f5, l, 0.5, 1., seed=s, binary=True),
    "relax": lambda l, s: est.relax(
        f5, l, lambda z: f5(tf.sigmoid(z)), seed=s, binary=True),
    "disarm": lambda l, s: est.disarm(f5, l, seed=s),
}


def f5(b):
  """`f` of the first three variables (the others are deterministic)."""
  return f(b[..., :3]) + b[..., 3] - 2. * b[..., 4]


def exact_binary_gradient():
  gradient = np.zeros(5)
  gradient[:3] = exact_gradient(BINARY_ROW[:3], binary=True)
  return gradient


@pytest.mark.parametrize("name", sorted(CATEGORICAL))
def test_categorical_gradient_is_unbiased(name):
  _, gradients = draws(CATEGORICAL[name], CATEGORICAL_ROW)
  z = z_scores(gradients, exact_gradient(CATEGORICAL_ROW, binary=False))
  assert np.all(np.abs(z) < Z_BOUND), z
  # The impossible class: exactly 0 in every draw, not merely on average.
  assert np.all(gradients[:, 3] == 0.)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradient_is_unbiased(name):
  values, gradients = draws(BINARY[name], BINARY_ROW)
  z = z_scores(gradients, exact_binary_gradient())
  assert np.all(np.abs(z) < Z_BOUND), z
  assert np.all(gradients[:, 3:] == 0.)  # infinite log-odds
  assert np.all(np.isfinite(values))


def test_the_statistic_rejects_a_biased_estimator():
  """Straight-through Gumbel-Softmax's bias is caught by the same test."""
  def straight_through(logits, seed):
    return f(est.gumbel_softmax_st(logits, 0.5, seed=seed))
  _, gradients = draws(straight_through, CATEGORICAL_ROW)
  z = z_scores(gradients, exact_gradient(CATEGORICAL_ROW, binary=False))
  assert np.max(np.abs(z)) > 3 * Z_BOUND, z  # measured: 16.5


def test_value_is_f_of_the_sample_and_its_mean():
  logits = tf.constant(np.tile(CATEGORICAL_ROW, (N, 1)), tf.float32)
  single = est.score_function(f, logits, seed=(3, 4)).numpy()
  exact = (tf.nn.softmax(CATEGORICAL_ROW[:3]).numpy()
           * f(np.eye(4)[:3]).numpy()).sum()
  # The values are f at Categorical(logits) draws: their mean is E[f(b)]
  # within 4.5 standard errors.
  assert abs(single.mean() - exact) < Z_BOUND * single.std() / np.sqrt(N)
  outcomes = f(np.eye(4, dtype=np.float32)[:3]).numpy()
  assert np.all(np.min(np.abs(single[:, None] - outcomes), -1) < 1e-5)
  four = est.score_function(f, logits[:10], num_samples=4, seed=(3, 4))
  assert four.shape == [10]


# -- variance, tuned ------------------------------------------------------------

def mean_square(estimator, logits, seed):
  with tf.GradientTape() as tape:
    tape.watch(logits)
    value = estimator(logits, seed)
  return tf.reduce_mean(tf.reduce_sum(tape.gradient(value, logits) ** 2, -1))


def tune(estimator, variables, steps=150, batch=256, learning_rate=0.05):
  """Minimises E[g**2] over `variables`, fresh noise at every step."""
  optimizer = tf.keras.optimizers.Adam(learning_rate)
  logits = tf.constant(np.tile(CATEGORICAL_ROW, (batch, 1)), tf.float32)

  @tf.function
  def step(seed):
    with tf.GradientTape() as outer:
      loss = mean_square(estimator, logits, seed)
    optimizer.apply_gradients(zip(outer.gradient(loss, variables), variables))

  for i in range(steps):
    step(tf.constant([7, i]))


def variance(estimator):
  _, gradients = draws(estimator, CATEGORICAL_ROW, seed=(11, 12))
  return gradients.var(0).sum()


def test_rebar_variance_falls_when_temperature_and_eta_are_tuned():
  log_temperature, eta = tf.Variable(0.), tf.Variable(1.)
  def rebar(l, s):
    return est.rebar(f, l, tf.exp(log_temperature), eta, seed=s)
  before = variance(rebar)
  tune(rebar, [log_temperature, eta])
  after = variance(rebar)
  # Measured: 0.526 (t = 1, eta = 1) -> 0.278 (t = 6.1, eta = 2.5).
  assert after < 0.6 * before, (before, after)
  # ... and far below the score function's without baseline (REBAR at
  # eta = 0), measured 1.59.
  assert after < 0.25 * variance(CATEGORICAL["score"])


def test_relax_variance_falls_when_the_control_variate_is_trained():
  tf.keras.utils.set_random_seed(0)  # the network's initial weights
  network = tf.keras.Sequential([tf.keras.Input([4]),
                                 tf.keras.layers.Dense(16, activation="tanh"),
                                 tf.keras.layers.Dense(1)])
  def relax(l, s):
    return est.relax(f, l, lambda z: network(
        tf.where(tf.math.is_inf(z), 0., z))[..., 0], seed=s)
  before = variance(relax)
  tune(relax, network.trainable_variables)
  after = variance(relax)
  # Measured: 0.855 -> 0.215 after 150 steps.
  assert after < 0.5 * before, (before, after)


def test_the_estimator_parameters_get_no_gradient_from_the_value():
  temperature, eta = tf.Variable(0.5), tf.Variable(1.)
  logits = tf.constant([[0., 1., 2.]])
  with tf.GradientTape() as tape:
    value = est.rebar(f, logits, temperature, eta, seed=(1, 2))
  assert all(g is None or g.numpy() == 0.
             for g in tape.gradient(value, [temperature, eta]))


# -- f's variables --------------------------------------------------------------

@pytest.mark.parametrize("name", ["score", "rebar", "relax", "disarm"])
def test_f_variables_get_the_gradient_of_f_at_the_sample(name):
  weights = tf.Variable([0.5, -1., 2., 0.3])
  calls = []

  def decoder(b):
    calls.append(b)
    return tf.reduce_sum(tf.sin(b * weights) + b * weights ** 2, -1)

  logits = tf.constant([[0.3, -0.5, 1.2, 0.], [1., 0., -1., 2.]])
  binary = name == "disarm"
  call = {"score": lambda: est.score_function(decoder, logits, seed=(5, 6)),
          "rebar": lambda: est.rebar(decoder, logits, 0.5, seed=(5, 6)),
          "relax": lambda: est.relax(decoder, logits, masked, seed=(5, 6)),
          "disarm": lambda: est.disarm(decoder, logits, seed=(5, 6))}[name]
  with tf.GradientTape() as tape:
    value = tf.reduce_sum(call())
  got = tape.gradient(value, weights)
  samples = [b for b in calls
             if np.all(np.isin(b.numpy(), [0., 1.]))
             and (binary or np.all(b.numpy().sum(-1) == 1.))]
  with tf.GradientTape() as tape:
    expected = tf.add_n([tf.reduce_sum(decoder(b)) for b in samples])
    if binary:
      expected /= 2.  # DisARM's value is the mean over b and b~
  np.testing.assert_allclose(got, tape.gradient(expected, weights), rtol=1e-6)


# -- shapes, seeds, compilation, dtypes ---------------------------------------

ALL = {**{f"categorical_{k}": v for k, v in CATEGORICAL.items()},
       **{f"binary_{k}": v for k, v in BINARY.items()}}


def row_for(name):
  return BINARY_ROW if name.startswith("binary") else CATEGORICAL_ROW


@pytest.mark.parametrize("name", sorted(ALL))
def test_same_seed_same_draw_and_xla_agrees(name):
  logits = tf.constant(np.tile(row_for(name), (6, 1)), tf.float32)

  def run(seed):
    with tf.GradientTape() as tape:
      tape.watch(logits)
      value = ALL[name](logits, seed)
    return value, tape.gradient(value, logits)

  eager = [v.numpy() for v in run((1, 2))]
  again = [v.numpy() for v in run((1, 2))]
  other = [v.numpy() for v in run((1, 3))]
  # A run-time seed in a tf.function draws eager's numbers. Under XLA only a
  # constant seed does (`tfp_gumbel._backend.tensorflow.uniform_open`), and the estimators that split
  # their seed (REBAR, RELAX) split it at run time: XLA is checked for
  # reproducibility here and for unbiasedness below.
  function = [v.numpy() for v in tf.function(run)(tf.constant([1, 2]))]
  xla = tf.function(run, jit_compile=True)
  compiled = [v.numpy() for v in xla(tf.constant([1, 2]))]
  for a, b in zip(eager, again):
    np.testing.assert_array_equal(a, b)
  assert not np.array_equal(eager[1], other[1])
  for a, b in zip(eager, function):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  for a, b in zip(compiled, xla(tf.constant([1, 2]))):
    np.testing.assert_array_equal(a, b.numpy())
  assert all(np.all(np.isfinite(a)) for a in compiled)


@pytest.mark.parametrize("name", ["categorical_rebar", "binary_disarm"])
def test_xla_gradient_is_unbiased(name):
  logits = tf.constant(np.tile(row_for(name), (N, 1)), tf.float32)

  @tf.function(jit_compile=True)
  def gradient(seed):
    with tf.GradientTape() as tape:
      tape.watch(logits)
      value = ALL[name](logits, seed)
    return tape.gradient(value, logits)

  binary = name.startswith("binary")
  exact = (exact_binary_gradient() if binary
           else exact_gradient(CATEGORICAL_ROW, binary=False))
  z = z_scores(gradient(tf.constant([1, 2])).numpy(), exact)
  assert np.all(np.abs(z) < Z_BOUND), z


@pytest.mark.parametrize("batch_shape", [[], [3], [2, 3]])
@pytest.mark.parametrize("name", ["score", "rebar", "relax"])
def test_the_value_has_the_batch_shape(batch_shape, name):
  logits = tf.zeros(batch_shape + [4])
  value = CATEGORICAL[name](logits, (1, 2))
  assert value.shape == batch_shape
  binary = est.disarm(f, tf.zeros(batch_shape + [4]), seed=(1, 2))
  assert binary.shape == batch_shape


@pytest.mark.parametrize("dtype", [tf.float64, tf.float16, tf.bfloat16])
def test_dtypes(dtype):
  logits = tf.constant(np.tile(CATEGORICAL_ROW, (8, 1)), dtype)
  for name in ["score", "rebar", "relax"]:
    with tf.GradientTape() as tape:
      tape.watch(logits)
      value = CATEGORICAL[name](logits, (1, 2))
    gradient = tape.gradient(value, logits)
    assert value.dtype == dtype and gradient.dtype == dtype
    assert np.all(np.isfinite(gradient.numpy().astype(np.float64)))


def test_float64_gradient_is_unbiased():
  _, gradients = draws(CATEGORICAL["rebar"], CATEGORICAL_ROW, dtype=tf.float64)
  z = z_scores(gradients, exact_gradient(CATEGORICAL_ROW, binary=False))
  assert np.all(np.abs(z) < Z_BOUND), z


@pytest.mark.parametrize("name", sorted(ALL))
def test_finite_at_extreme_logits_and_temperature(name):
  row = row_for(name) * 1e3
  logits = tf.constant(np.tile(row, (50, 1)), tf.float32)
  estimator = ALL[name]
  if name.endswith("rebar"):
    binary = name.startswith("binary")
    estimator = lambda l, s: est.rebar(f5 if binary else f, l, 1e-3, 1.,
                                       seed=s, binary=binary)
  with tf.GradientTape() as tape:
    tape.watch(logits)
    value = estimator(logits, (1, 2))
  assert np.all(np.isfinite(value.numpy()))
  assert np.all(np.isfinite(tape.gradient(value, logits).numpy()))


def test_rebar_temperature_gradient_is_finite_with_impossible_classes():
  log_temperature = tf.Variable(np.log(1e-3), dtype=tf.float32)
  logits = tf.constant(np.tile(CATEGORICAL_ROW * 1e3, (50, 1)), tf.float32)
  with tf.GradientTape() as outer:
    with tf.GradientTape() as inner:
      inner.watch(logits)
      value = est.rebar(f, logits, tf.exp(log_temperature), seed=(1, 2))
    square = tf.reduce_sum(inner.gradient(value, logits) ** 2)
  assert np.isfinite(outer.gradient(square, log_temperature).numpy())


# -- bad arguments ----------------------------------------------------------------

def test_bad_arguments_raise_naming_the_argument():
  logits = tf.zeros([2, 3])
  with pytest.raises(ValueError, match="num_samples.*>= 2.*leave_one_out"):
    est.score_function(f, logits, num_samples=1, baseline="leave_one_out")
  with pytest.raises(ValueError, match="num_samples"):
    est.score_function(f, logits, num_samples=0)
  with pytest.raises(ValueError, match="baseline"):
    est.score_function(f, logits, baseline="mean")
  with pytest.raises(ValueError, match="`logits`.*scalar"):
    est.rebar(f, 0., 0.5)
  with pytest.raises(ValueError, match="`f` must map"):
    est.disarm(lambda b: b, logits)
  with pytest.raises(TypeError, match="`logits` must have a floating"):
    est.score_function(f, tf.zeros([2, 3], tf.int32))
  with pytest.raises(TypeError, match="incompatible dtypes"):
    est.rebar(f, logits, tf.constant(0.5, tf.float64))
