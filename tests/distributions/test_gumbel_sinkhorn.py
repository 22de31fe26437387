"""GumbelSinkhorn: Sinkhorn limits, the law of its matching, TFP behaviour.

The distribution has no density, so what is testable is tested: the sample
against an independent NumPy Sinkhorn of the same perturbed logits, its row and
column sums (the tolerances stated in the docstring), its limits in the
temperature, the law of its hard assignment (exact for N = 2, against a
NumPy/scipy simulation for N = 3), equivariance under permutations, gradients,
and the TFP plumbing.
"""

import itertools

import numpy as np
import pytest
from scipy import integrate
from scipy import optimize
from scipy import special
from scipy import stats
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg
from tfp_gumbel._kernels import noise
from tfp_gumbel._backend import tensorflow as tf_xp

tfb = tfp.bijectors
tfd = tfp.distributions


def numpy_sinkhorn(x, num_iters):
  """Log-space Sinkhorn (Mena et al. 2018, eq. 1-2), float64 NumPy."""
  x = np.asarray(x, np.float64)
  for _ in range(num_iters):
    x = x - special.logsumexp(x, axis=-1, keepdims=True)
    x = x - special.logsumexp(x, axis=-2, keepdims=True)
  return np.exp(x)


def numpy_matching(x):
  """The assignment (column of each row) maximizing sum x[i, perm[i]]."""
  x = np.asarray(x, np.float64)
  flat = x.reshape((-1,) + x.shape[-2:])
  cols = [optimize.linear_sum_assignment(m, maximize=True)[1] for m in flat]
  return np.array(cols).reshape(x.shape[:-1])


def logits5(dtype=tf.float32):
  return tf.cast(tf.random.stateless_normal([5, 5], seed=(0, 1),
                                            dtype=tf.float64), dtype)


def perm_index(assignments):
  """Index of each assignment (tuple of N columns) among the N! orders."""
  n = assignments.shape[-1]
  table = {p: i for i, p in enumerate(itertools.permutations(range(n)))}
  return np.array([table[tuple(a)] for a in assignments.reshape(-1, n)])


# -- the sample -------------------------------------------------------------

@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
@pytest.mark.parametrize("temperature", [0.1, 1.0, 10.0])
def test_fixed_rounds_sample_is_sinkhorn_of_perturbed_logits(dtype,
                                                              temperature):
  # With num_iters=L the draw is exactly exp(S^L((logits + G) / t)) for the
  # package's noise G at this seed: checked against an independent float64
  # NumPy Sinkhorn.
  logits = logits5(dtype)
  d = tfg.GumbelSinkhorn(tf.constant(temperature, dtype), logits,
                         num_iters=20)
  p = d.sample(50, seed=(3, 4)).numpy()
  g = noise.gumbel(tf_xp, [50, 5, 5], (3, 4), dtype).numpy()
  expected = numpy_sinkhorn((logits.numpy() + g) / temperature, 20)
  tol = 1e-12 if dtype == tf.float64 else 1e-5
  np.testing.assert_allclose(p, expected, atol=tol)


@pytest.mark.parametrize("temperature", [0.1, 1.0, 10.0])
def test_sample_is_the_doubly_stochastic_scaling_of_perturbed_logits(
    temperature):
  # Sinkhorn (1964): exactly one doubly-stochastic matrix has the form
  # diag(u) exp(x) diag(v). So the default (converged) draw is checked by
  # both properties, in float64, for the package's noise at this seed:
  # rows and columns sum to 1 within the tolerance 1e-10, and log p - x is
  # f_i + g_j (its double-centred residual is 0 to rounding of x).
  logits = logits5(tf.float64)
  p = tfg.GumbelSinkhorn(tf.constant(temperature, tf.float64), logits).sample(
      50, seed=(3, 4)).numpy()
  g = noise.gumbel(tf_xp, [50, 5, 5], (3, 4), tf.float64).numpy()
  x = (logits.numpy() + g) / temperature
  assert np.abs(p.sum(-1) - 1).max() <= 1e-10
  assert np.abs(p.sum(-2) - 1).max() <= 1e-12
  r = np.log(p) - x
  residual = (r - r.mean(-1, keepdims=True) - r.mean(-2, keepdims=True)
              + r.mean((-2, -1), keepdims=True))
  assert np.abs(residual).max() < 1e-13 * np.abs(x).max() + 1e-13
  # And at t = 1 and 10 plain Sinkhorn converges too (5,000 rounds).
  if temperature >= 1:
    np.testing.assert_allclose(p, numpy_sinkhorn(x, 5000), atol=1e-10)


@pytest.mark.parametrize("n", [5, 50])
@pytest.mark.parametrize("temperature", [1e3, 10., 1., 0.3, 0.1, 0.01, 1e-3])
def test_default_sample_is_doubly_stochastic_at_every_temperature(
    n, temperature):
  # float32: every draw's rows and columns are within the tolerance 1e-5,
  # or the float's resolution of x = (logits + G) / t where coarser
  # (4 eps (max x - min x + N), the floor the docstring states).
  count = 200 if n == 5 else 20
  logits = 3. * tf.random.stateless_normal([n, n], seed=(n, 7))
  p = tfg.GumbelSinkhorn(temperature, logits).sample(
      count, seed=(1, 2)).numpy()
  x = (logits.numpy() + noise.gumbel(tf_xp, [count, n, n], (1, 2)).numpy()
       ) / temperature
  spread = x.max((-2, -1)) - x.min((-2, -1))
  bound = np.maximum(1e-5, 4 * np.finfo(np.float32).eps * (spread + n))
  assert np.isfinite(p).all() and (p >= 0).all()
  assert (np.abs(p.sum(-1) - 1).max(-1) <= bound).all()
  assert (np.abs(p.sum(-2) - 1).max(-1) <= bound).all()


# With a fixed num_iters: max |row sum - 1| over 2,000 float32 draws on
# logits5(), as measured (bounds ~1.3x the measured value, and 1e-6 for
# rounding). Columns are normalized last: within float32 rounding always.
ROW_TOLERANCES = [
    (20, 10., 1e-6), (20, 1., 0.055), (20, 0.1, 1.0 + 1e-6),
    (100, 1., 0.0085), (100, 0.1, 0.04), (500, 1., 4e-5), (500, 0.1, 0.0055)]


@pytest.mark.parametrize("num_iters,temperature,row_tol", ROW_TOLERANCES)
def test_fixed_rounds_rows_and_columns_within_measured_tolerance(
    num_iters, temperature, row_tol):
  d = tfg.GumbelSinkhorn(temperature, logits5(), num_iters=num_iters)
  p = d.sample(2000, seed=(1, 2)).numpy()
  assert (p >= 0).all() and (p <= 1 + 1e-6).all()
  assert np.abs(p.sum(-2) - 1).max() < 1e-6
  assert np.abs(p.sum(-1) - 1).max() < row_tol
  if temperature == 1. and num_iters == 20:
    # The bound is set by rare near-ties: the median row error is rounding.
    assert np.median(np.abs(p.sum(-1) - 1).max(-1)) < 1e-6


def test_large_temperature_tends_to_uniform():
  for n in (3, 7):
    logits = tf.random.stateless_normal([n, n], seed=(n, 1), stddev=3.)
    p = tfg.GumbelSinkhorn(1e4, logits).sample(200, seed=(1, 2)).numpy()
    # (logits + G) / t is O(1e-3): the sample is within ~1e-3 of 1/N.
    assert np.abs(p - 1. / n).max() < 5e-3
    p_mid = tfg.GumbelSinkhorn(1., logits).sample(200, seed=(1, 2)).numpy()
    assert np.abs(p_mid - 1. / n).max() > 0.3


def test_small_temperature_limit_is_the_matching_of_perturbed_logits():
  # Same noise: the sample at t = 0.01 with enough rounds is the permutation
  # matrix of the maximum-weight matching of logits + G (Mena et al.,
  # Theorem 1). Measured: row argmax = matching in 1000/1000 samples with
  # 1000 rounds (49% with 20 rounds: the limit needs L -> inf too).
  logits = logits5()
  p = tfg.GumbelSinkhorn(0.01, logits, num_iters=1000).sample(
      1000, seed=(3, 4)).numpy()
  g = noise.gumbel(tf_xp, [1000, 5, 5], (3, 4), tf.float32).numpy()
  expected = numpy_matching(logits.numpy() + g)
  np.testing.assert_array_equal(p.argmax(-1), expected)
  # And through the package's own solver, as matrices.
  np.testing.assert_array_equal(
      tfg.estimators.matching(logits + g).numpy(), np.eye(5)[expected])


@pytest.mark.parametrize("temperature,num_iters", [(1., 20), (0.1, 3),
                                                   (0.3, 100)])
def test_matching_of_log_sample_is_matching_of_perturbed_logits(
    temperature, num_iters):
  # Each Sinkhorn step adds row/column constants to log p: every permutation
  # gains the same amount, so the matching is unchanged at any t and L.
  logits = logits5(tf.float64)
  p = tfg.GumbelSinkhorn(tf.constant(temperature, tf.float64), logits,
                         num_iters=num_iters).sample(500, seed=(5, 6))
  g = noise.gumbel(tf_xp, [500, 5, 5], (5, 6), tf.float64).numpy()
  np.testing.assert_array_equal(numpy_matching(np.log(p.numpy())),
                                numpy_matching(logits.numpy() + g))


# -- the law of the hard assignment ----------------------------------------

def test_law_of_the_assignment_for_two_items_is_exact():
  # N = 2: the matching is the identity iff l11 + l22 + g11 + g22 >
  # l12 + l21 + g12 + g21, i.e. iff L1 + L2 > -a with L1 = g11 - g12,
  # L2 = g22 - g21 independent standard Logistic, a = l11 + l22 - l12 - l21:
  # P = integral of sigmoid(a + l) f_logistic(l) dl (numerical quadrature).
  logits = np.array([[0.3, -0.4], [1.1, 0.9]])
  a = logits[0, 0] + logits[1, 1] - logits[0, 1] - logits[1, 0]
  exact, _ = integrate.quad(
      lambda l: special.expit(a + l) * stats.logistic.pdf(l), -60, 60)
  n = 40_000
  p = tfg.GumbelSinkhorn(tf.constant(1., tf.float64), logits).sample(
      n, seed=(7, 8)).numpy()
  identity = np.log(p[:, 0, 0]) + np.log(p[:, 1, 1]) > (
      np.log(p[:, 0, 1]) + np.log(p[:, 1, 0]))
  result = stats.binomtest(int(identity.sum()), n, exact)
  # Fixed seed; a correct sampler fails p > 1e-3 with probability 1e-3. n =
  # 40,000 detects a shift of 0.01 in P (= 0.5826): z ~ 4.1. Measured: 0.5827
  # observed, p = 0.98.
  assert result.pvalue > 1e-3, (identity.mean(), exact, result.pvalue)


def _assignment_counts(assignments, n):
  counts = np.bincount(perm_index(assignments), minlength=6)
  assert counts.sum() == n
  return counts


def test_law_of_the_assignment_for_three_items_matches_numpy_simulation():
  # N = 3: no closed form. Two-sample chi-square of the 6 assignments
  # against an independent simulation (NumPy Gumbel noise, scipy matching).
  logits = np.array([[1.0, 0.2, -0.5], [0.0, 0.8, 0.3], [-0.7, 0.1, 1.2]])
  n = 20_000
  p = tfg.GumbelSinkhorn(tf.constant(0.5, tf.float64), logits).sample(
      n, seed=(9, 9)).numpy()
  ours = _assignment_counts(numpy_matching(np.log(p)), n)
  rng = np.random.default_rng(0)
  theirs = _assignment_counts(
      numpy_matching(logits + rng.gumbel(size=(n, 3, 3))), n)
  _, pvalue, _, _ = stats.chi2_contingency(np.stack([ours, theirs]))
  # Fixed seeds; p > 1e-3 fails a correct sampler with probability 1e-3.
  # Measured p = 0.03; the same test against the transposed logits (a wrong
  # orientation) gives p = 3e-8.
  assert pvalue > 1e-3, (ours, theirs, pvalue)


def test_permuting_rows_of_logits_permutes_the_law():
  # Law symmetry: the assignment of Pi logits is Pi applied to the one of
  # logits; compared as distributions (independent noise).
  logits = np.array([[1.0, 0.2, -0.5], [0.0, 0.8, 0.3], [-0.7, 0.1, 1.2]])
  rows = [2, 0, 1]
  n = 20_000
  a = tfg.GumbelSinkhorn(1., logits.astype(np.float32)).sample(
      n, seed=(1, 1)).numpy()
  b = tfg.GumbelSinkhorn(1., logits[rows].astype(np.float32)).sample(
      n, seed=(2, 2)).numpy()
  assign_a = numpy_matching(np.log(a))[:, rows]   # item rows[i] in row i
  assign_b = numpy_matching(np.log(b))
  _, pvalue, _, _ = stats.chi2_contingency(
      np.stack([_assignment_counts(assign_a, n),
                _assignment_counts(assign_b, n)]))
  # Measured p = 0.36.
  assert pvalue > 1e-3, pvalue


def test_forbidden_assignments_are_absent():
  # -inf logits: the entry is exactly 0 in every sample, gets gradient 0, and
  # the matching never uses it.
  logits = tf.Variable([[0., -np.inf, 1.], [0.5, 0., -np.inf], [0., 2., 0.]])
  with tf.GradientTape() as tape:
    p = tfg.GumbelSinkhorn(0.5, logits).sample(300, seed=(1, 2))
    loss = tf.reduce_sum(p * tf.constant([[1., 2., 3.]] * 3))
  grad = tape.gradient(loss, logits).numpy()
  assert (p.numpy()[:, 0, 1] == 0).all() and (p.numpy()[:, 1, 2] == 0).all()
  assert grad[0, 1] == 0 and grad[1, 2] == 0 and np.isfinite(grad).all()
  hard = tfg.estimators.matching(logits + noise.gumbel(tf_xp, [300, 3, 3], (1, 2)))
  assert (hard.numpy()[:, 0, 1] == 0).all() and (hard.numpy()[:, 1, 2] == 0).all()


# -- gradients and numerics --------------------------------------------------

@pytest.mark.parametrize("temperature,num_iters", [
    (0.7, None), (0.1, None), (0.03, None), (0.7, 20)])
def test_gradients_match_finite_differences(temperature, num_iters):
  # The converged sample's implicit gradient (one linear solve) and the
  # fixed-rounds gradient (through the loop), both against central finite
  # differences of the float64 sample.
  logits = tf.constant(np.random.RandomState(0).randn(4, 4), tf.float64)
  temperature = tf.constant(temperature, tf.float64)
  weights = tf.constant(np.random.RandomState(1).randn(4, 4), tf.float64)

  def through_sample(logits, temperature):
    return tf.reduce_sum(tfg.GumbelSinkhorn(
        temperature, logits, num_iters=num_iters).sample(
            3, seed=(5, 6)) * weights)

  theoretical, numerical = tf.test.compute_gradient(
      through_sample, [logits, temperature], delta=1e-6)
  for th, nu in zip(theoretical, numerical):
    np.testing.assert_allclose(th, nu, rtol=1e-6, atol=1e-8)


@tf.function(jit_compile=True)
def _xla_sample_and_gradients(temperature, logits):
  with tf.GradientTape() as tape:
    tape.watch([temperature, logits])
    p = tfg.GumbelSinkhorn(temperature, logits).sample(16, seed=(1, 2))
    loss = tf.reduce_sum(p * p)
  return p, tape.gradient(loss, [temperature, logits])


@pytest.mark.parametrize("temperature", [1e-3, 1e-1, 1e2])
@pytest.mark.parametrize("scale", [1., 1e3])
def test_float32_xla_outputs_and_gradients_are_finite(temperature, scale):
  logits = scale * tf.random.stateless_uniform([6, 6], (3, 3), -1., 1.)
  p, grads = _xla_sample_and_gradients(tf.constant(temperature), logits)
  for value in (p, *grads):
    assert np.isfinite(value.numpy()).all()
  # Columns within the tolerance, or the float32 resolution of x = (logits +
  # G) / t where coarser (logits span 2 scale, the noise 21.2): 0.95 at
  # scale 1e3, t = 1e-3, where x reaches 1e6 and its spacing is 0.06.
  resolution = 4 * np.finfo(np.float32).eps * (
      (2 * scale + 21.2) / temperature + 6)
  assert np.abs(p.numpy().sum(-2) - 1).max() <= max(1e-5, resolution)


# -- TFP behaviour -----------------------------------------------------------

@pytest.mark.parametrize("t_shape,logits_shape,batch_shape", [
    ((), (4, 4), ()), ((3,), (4, 4), (3,)), ((), (2, 3, 3), (2,)),
    ((2, 1), (3, 5, 5), (2, 3))])
@pytest.mark.parametrize("sample_shape", [(), (2,), (2, 3)])
def test_shapes(t_shape, logits_shape, batch_shape, sample_shape):
  d = tfg.GumbelSinkhorn(tf.fill(t_shape, 0.5), tf.zeros(logits_shape))
  n = logits_shape[-1]
  assert d.batch_shape == batch_shape and d.event_shape == [n, n]
  assert list(d.batch_shape_tensor()) == list(batch_shape)
  assert list(d.event_shape_tensor()) == [n, n]
  assert d.sample(sample_shape, seed=(1, 2)).shape == (
      sample_shape + batch_shape + (n, n))


def test_batch_slicing_and_copy():
  t = tf.constant([0.5, 1., 2.])
  logits = tf.constant(np.random.RandomState(1).randn(3, 4, 4), tf.float32)
  d = tfg.GumbelSinkhorn(t, logits, num_iters=7)
  assert d[1:].batch_shape == [2] and d[1:].num_iters == 7
  np.testing.assert_allclose(d[1:].temperature, t[1:])
  np.testing.assert_allclose(d[1:].logits, logits[1:])
  assert d.copy(temperature=tf.ones([3])).batch_shape == [3]
  assert d.copy(num_iters=3).num_iters == 3
  assert d.copy(validate_args=True).validate_args


def test_parameter_properties():
  props = tfg.GumbelSinkhorn.parameter_properties()
  assert set(props) == {"temperature", "logits"}
  assert props["temperature"].default_constraining_bijector_fn()(-30.) > 0
  assert props["logits"].event_ndims == 2


@pytest.mark.parametrize("make_temperature", [
    lambda: tf.Variable(0.7),
    lambda: tfp.util.TransformedVariable(0.7, tfb.Softplus()),
], ids=["Variable", "TransformedVariable"])
def test_variables_are_tracked_and_get_gradients(make_temperature):
  t = make_temperature()
  logits = tf.Variable(tf.random.stateless_normal([3, 3], (1, 1)))
  d = tfg.GumbelSinkhorn(t, logits)
  assert len(d.trainable_variables) == 2
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(d.sample(seed=(1, 2)) * tf.reshape(tf.range(9.), [3, 3]))
  grads = tape.gradient(loss, d.trainable_variables)
  assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
  before = d.sample(seed=(1, 2))
  t.assign(3.)   # read at every use, not frozen at construction
  assert not np.allclose(d.sample(seed=(1, 2)), before)


def test_tf_function_and_xla_match_eager():
  d = tfg.GumbelSinkhorn(tf.constant([0.3, 1.]), logits5()[None])

  def run(d):
    return d.sample(7, seed=(4, 2))

  eager = run(d)
  np.testing.assert_allclose(eager, tf.function(run)(d), rtol=1e-5, atol=1e-6)
  # Under XLA Newton's equations are solved by conjugate gradients, not
  # Cholesky (tfp_gumbel/_kernels/sinkhorn.py): both solutions are within
  # the tolerance (1e-5 on the row sums) of the one exact solution.
  np.testing.assert_allclose(eager, tf.function(run, jit_compile=True)(d),
                             rtol=1e-5, atol=1e-5)


def test_float64_and_seeds():
  d = tfg.GumbelSinkhorn(tf.constant(0.5, tf.float64), np.zeros([3, 3]))
  assert d.dtype == d.sample(seed=(1, 1)).dtype == tf.float64
  np.testing.assert_array_equal(d.sample(5, seed=(1, 2)),
                                d.sample(5, seed=(1, 2)))
  assert not np.array_equal(d.sample(5, seed=(1, 2)), d.sample(5, seed=(1, 3)))
  tf.random.set_seed(3)
  first = d.sample(5, seed=7)
  tf.random.set_seed(3)
  np.testing.assert_array_equal(first, d.sample(5, seed=7))


def test_is_a_composite_tensor_and_composes_with_tfp():
  d = tfg.GumbelSinkhorn(tf.constant([0.5, 2.]), tf.zeros([2, 3, 3]),
                         num_iters=5)
  flat = tf.nest.flatten(d, expand_composites=True)
  rebuilt = tf.nest.pack_sequence_as(d, flat, expand_composites=True)
  assert type(rebuilt) is tfg.GumbelSinkhorn and rebuilt.num_iters == 5
  np.testing.assert_array_equal(rebuilt.sample(seed=(1, 2)),
                                d.sample(seed=(1, 2)))
  assert tfd.Sample(d, 4).sample(seed=(1, 2)).shape == [2, 4, 3, 3]
  jd = tfd.JointDistributionSequential([
      tfd.LogNormal(0., 0.3),
      lambda t: tfg.GumbelSinkhorn(t, tf.zeros([3, 3])),
  ])
  assert jd.sample(6, seed=(1, 2))[1].shape == [6, 3, 3]


@pytest.mark.parametrize("method", ["log_prob", "prob"])
def test_log_prob_says_there_is_no_tractable_density(method):
  d = tfg.GumbelSinkhorn(0.5, tf.zeros([3, 3]))
  with pytest.raises(NotImplementedError, match="no tractable density"):
    getattr(d, method)(d.sample(seed=(1, 2)))


@pytest.mark.parametrize("statistic", ["mean", "mode", "entropy"])
def test_statistics_without_closed_form_raise(statistic):
  with pytest.raises(NotImplementedError):
    getattr(tfg.GumbelSinkhorn(0.5, tf.zeros([3, 3])), statistic)()


# -- bad input ---------------------------------------------------------------

@pytest.mark.parametrize("kwargs,match", [
    (dict(temperature=0.), "`temperature` must be positive"),
    (dict(temperature=-1.), "`temperature` must be positive"),
    (dict(temperature=np.inf), "`temperature` must be finite"),
    (dict(logits=[[1., np.nan], [0., 0.]]), "`logits` must not contain NaN"),
    (dict(logits=[[1., np.inf], [0., 0.]]), "`logits` must not contain NaN"),
])
def test_bad_parameter_values_raise(kwargs, match):
  kwargs = dict(dict(temperature=1., logits=[[1., 0.], [0., 1.]]), **kwargs)
  with pytest.raises(tf.errors.InvalidArgumentError, match=match):
    tfg.GumbelSinkhorn(validate_args=True, **kwargs)


def test_bad_variable_value_raises_at_use():
  t = tf.Variable(1.)
  d = tfg.GumbelSinkhorn(t, tf.zeros([2, 2]), validate_args=True)
  t.assign(-1.)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="`temperature` must be positive"):
    d.sample(seed=(1, 2))


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(logits=None), ValueError, "`logits` must be given"),
    (dict(logits=[1., 2.]), ValueError, "`logits` must have rank at least 2"),
    (dict(logits=tf.zeros([2, 3])), ValueError, "`logits` must be square"),
    (dict(num_iters=0), ValueError, "`num_iters` must be a positive integer"),
    (dict(num_iters=2.5), ValueError, "`num_iters` must be a positive integer"),
    (dict(tolerance=0.), ValueError, "`tolerance` must be a float in"),
    (dict(tolerance=1.5), ValueError, "`tolerance` must be a float in"),
    (dict(max_iters=0), ValueError, "`max_iters` must be a positive integer"),
    (dict(logits=np.zeros([2, 2], np.int32)), TypeError,
     "`logits` must have a floating-point dtype"),
    (dict(temperature=tf.constant(1., tf.float64)), TypeError,
     "`logits` has dtype"),
])
def test_bad_parameter_types_and_shapes_raise(kwargs, error, match):
  kwargs = dict(dict(temperature=1., logits=tf.zeros([2, 2])), **kwargs)
  for validate_args in (False, True):   # static checks: always
    with pytest.raises(error, match=match):
      tfg.GumbelSinkhorn(validate_args=validate_args, **kwargs)
