"""GumbelSigmoid (binary Concrete): goodness of fit, reference densities,
Bernoulli exactness, finite differences, float32 numerics, TFP behaviour and
bad input.

Statistical tests use fixed seeds, so they are deterministic; their thresholds
are chosen so that a correct implementation would fail them with probability
below ~1% over the seeds one could have picked (stated at each test).
"""

import numpy as np
import pytest
from scipy import integrate
from scipy import special
from scipy import stats
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg
from tfp_gumbel.distributions.gumbel_sigmoid import LogitGumbelSigmoid

tfb = tfp.bijectors
tfd = tfp.distributions

TEMPERATURES = [0.1, 0.5, 1., 3.]
LOGITS = [-2., 0., 1.5]


def _grid(dtype=np.float32):
  """(temperature [4, 1], logits [3]): a [4, 3] batch covering the grid."""
  return (np.array(TEMPERATURES, dtype)[:, None], np.array(LOGITS, dtype))


def binary_concrete_log_density(x, logits, temperature):
  """Maddison et al. (2017), eq. (4), in float64, independent of TF:

  p(x) = t a x^(-t-1) (1-x)^(-t-1) / (a x^(-t) + (1-x)^(-t))^2, a = exp(logits).
  """
  x, logits, t = (np.asarray(v, np.float64) for v in (x, logits, temperature))
  log_x, log_1mx = np.log(x), np.log1p(-x)
  return (np.log(t) + logits - (t + 1.) * (log_x + log_1mx)
          - 2. * np.logaddexp(logits - t * log_x, -t * log_1mx))


# -- distribution of the samples ---------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_samples_match_the_analytic_cdf(dtype):
  t, logits = _grid(dtype)
  d = tfg.GumbelSigmoid(t, logits=logits)
  x = d.sample(2000, seed=(1, 2)).numpy().astype(np.float64)
  y = d.distribution.sample(2000, seed=(1, 2)).numpy().astype(np.float64)
  # Independent reference: logit(x) ~ scipy's Logistic(logits / t, 1 / t).
  # At t = 0.1 a sizeable fraction of x rounds to exactly 0 or 1, atoms that
  # the KS test cannot handle, so x is tested at t >= 0.5 (where the atoms
  # hold < 0.2% of the mass, well below the KS critical distance of ~4% for
  # n = 2000) and the log-odds y, which do not round, at every t.
  # 21 KS tests at level 5e-4 each: a correct sampler fails one of them with
  # probability below 1.1% (Bonferroni).
  for i, j in np.ndindex(4, 3):
    ref = stats.logistic(loc=logits[j] / t[i, 0], scale=1. / t[i, 0])
    assert stats.kstest(y[:, i, j], ref.cdf).pvalue > 5e-4
    if TEMPERATURES[i] >= 0.5:
      assert stats.kstest(
          x[:, i, j], lambda v: ref.cdf(special.logit(v))).pvalue > 5e-4


@pytest.mark.parametrize("temperature", [0.01, 0.3, 2.])
def test_thresholded_samples_are_exactly_bernoulli(temperature):
  logits = np.array([-3., -0.5, 0., 2.], np.float32)
  n = 4000
  x = tfg.GumbelSigmoid(temperature, logits=logits).sample(n, seed=(7, 3))
  counts = np.sum(x.numpy() > 0.5, axis=0)
  # P(x > 1/2) = sigmoid(logits) at every temperature. Exact binomial tests,
  # 4 per temperature at level 1e-3: false-alarm probability < 0.4%.
  for count, p in zip(counts, special.expit(logits.astype(np.float64))):
    assert stats.binomtest(int(count), n, p).pvalue > 1e-3


# -- densities ----------------------------------------------------------------

@pytest.mark.parametrize("dtype,rtol", [(np.float32, 2e-5), (np.float64, 1e-12)])
def test_log_prob_matches_the_reference_density(dtype, rtol):
  t, logits = _grid(dtype)
  x = np.linspace(0.01, 0.99, 25, dtype=dtype)[:, None, None]
  d = tfg.GumbelSigmoid(t, logits=logits)
  expected = binary_concrete_log_density(x, logits, t)
  # Relative to the size of the terms (|log t| + (t + 1)|log x(1-x)|), which
  # the float32 result carries to ~eps each; not to their sum, which cancels.
  scale = 1. + np.abs(np.log(t)) + (t + 1.) * np.abs(np.log(x * (1. - x)))
  assert np.all(np.abs(d.log_prob(x).numpy() - expected) <= rtol * scale)
  np.testing.assert_allclose(d.prob(x), np.exp(expected), rtol=rtol * 10)


def test_log_prob_matches_tfp_relaxed_bernoulli_where_both_are_finite():
  t, logits = _grid()
  x = tfg.GumbelSigmoid(t, logits=logits).sample(50, seed=(3, 3))
  x = tf.clip_by_value(x, 1e-6, 1. - 1e-6)
  np.testing.assert_allclose(
      tfg.GumbelSigmoid(t, logits=logits).log_prob(x),
      tfd.RelaxedBernoulli(t, logits=logits).log_prob(x), rtol=1e-4, atol=1e-4)


def test_density_integrates_to_one():
  # Trapezoid rule on the log-odds scale, where the density is smooth and
  # decays exponentially: an error of 1e-6 is far below the grid's resolution.
  t, logits = _grid(np.float64)
  y = np.linspace(-400., 400., 200001)[:, None, None]
  base = tfg.GumbelSigmoid(t, logits=logits).distribution
  mass = integrate.trapezoid(np.exp(base.log_prob(y)), y[:, 0, 0], axis=0)
  np.testing.assert_allclose(mass, 1., atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cdf_and_survival_match_scipy(dtype):
  t, logits = _grid(dtype)
  x = np.array([0., 1e-30, 0.2, 0.5, 0.9, 1. - 1e-6, 1.], dtype)[:, None, None]
  d = tfg.GumbelSigmoid(t, logits=logits)
  with np.errstate(divide="ignore"):
    y = special.logit(x.astype(np.float64))
  ref = stats.logistic(loc=logits / t, scale=1. / t)
  tol = dict(rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-12)
  np.testing.assert_allclose(d.cdf(x), ref.cdf(y), **tol)
  np.testing.assert_allclose(d.survival_function(x), ref.sf(y), **tol)
  with np.errstate(divide="ignore"):
    np.testing.assert_allclose(d.log_cdf(x), ref.logcdf(y), **tol)
    np.testing.assert_allclose(d.log_survival_function(x), ref.logsf(y),
                               **tol)


def test_sample_and_log_prob_is_exact_in_log_odds():
  # The same seed draws the same log-odds y in the base distribution; the
  # joint call must return sigmoid(y) and the density at y, even where
  # sigmoid(y) rounds to 0 or 1 (t = 1e-3, |logits| = 1e3).
  t = np.array([1e-3, 0.1, 1.], np.float32)[:, None]
  logits = np.array([-1e3, -5., 0., 5., 1e3], np.float32)
  d = tfg.GumbelSigmoid(t, logits=logits)
  x, lp = d.experimental_sample_and_log_prob(20, seed=(9, 9))
  y, base_lp = d.distribution.experimental_sample_and_log_prob(20, seed=(9, 9))
  # atol: TF flushes float32 subnormals (< 1.2e-38) to zero.
  np.testing.assert_allclose(x, special.expit(y.numpy().astype(np.float64)),
                             rtol=1e-6, atol=np.finfo(np.float32).tiny)
  y64 = y.numpy().astype(np.float64)
  # log|dx/dy| = log sigmoid(y) + log sigmoid(-y) = -softplus(-y) - softplus(y)
  expected = base_lp.numpy() + np.logaddexp(0., y64) + np.logaddexp(0., -y64)
  # Relative to the terms, which reach 1e6 here, not to their sum.
  scale = 1. + np.abs(base_lp.numpy()) + 2. * np.abs(y64)
  assert np.all(np.abs(lp.numpy() - expected) <= 1e-6 * scale)
  np.testing.assert_allclose(  # and the base density is scipy's Logistic
      base_lp, stats.logistic.logpdf(y64, logits / t, 1. / t.astype(np.float64)),
      rtol=1e-5, atol=1e-3)


# -- numerics -----------------------------------------------------------------

@tf.function(jit_compile=True)
def _held_sample_log_probs_and_gradients(temperature, logits, seed):
  with tf.GradientTape(persistent=True) as tape:
    tape.watch([temperature, logits])
    d = tfg.GumbelSigmoid(temperature, logits=logits)
    x, joint_lp = d.experimental_sample_and_log_prob(64, seed=seed)
    held = tf.concat([tf.stop_gradient(x), tf.broadcast_to(
        tf.constant([0., 1e-45, 1e-38, 0.5, 1. - 2.**-24, 1.])[:, None, None],
        [6] + x.shape[1:])], axis=0)
    lp = d.log_prob(held)
    # log_cdf is -inf at x = 0 (and log_survival at 1), exactly: there its
    # gradient is undefined, so it is checked on the interior points. The
    # smallest one is the smallest normal float32: a subnormal such as 1e-38
    # is flushed to 0 by TF 2.18's XLA:CPU.
    interior = tf.constant([np.finfo(np.float32).tiny, 0.5,
                            1. - 2.**-24])[:, None, None]
    losses = [tf.reduce_sum(lp), tf.reduce_sum(joint_lp), tf.reduce_sum(x * x),
              tf.reduce_sum(d.log_cdf(interior)
                            + d.log_survival_function(interior))]
  grads = [g for loss in losses for g in tape.gradient(
      loss, [temperature, logits])]
  return [x, held, lp, joint_lp] + grads


def test_float32_log_probs_and_gradients_are_finite_at_the_extremes():
  t = tf.constant([1e-3, 1e-2, 0.1, 1., 100.])[:, None]
  logits = tf.constant([-1e3, -30., -1., 0., 1., 30., 1e3])
  x, held, *rest = _held_sample_log_probs_and_gradients(
      t, logits, tf.constant([4, 2]))
  # The held samples include exact 0s and 1s (65% to 99.6% of them at
  # t <= 0.1 on this grid).
  assert np.any(x.numpy() == 0.) and np.any(x.numpy() == 1.)
  for value in rest:
    assert np.isfinite(value.numpy()).all()
  # And TFP's RelaxedBernoulli on the same held samples, for the record: it is
  # not finite there (the reason for the boundary handling).
  rb = tfd.RelaxedBernoulli(t, logits=logits).log_prob(held)
  assert not np.isfinite(rb.numpy()).all()


@pytest.mark.parametrize("jit_compile", [False, True])
def test_sigmoid_bijector_is_accurate_in_float32_with_finite_gradients(
    jit_compile):
  # The forward is tf.sigmoid and the log-det-Jacobian x - 2 softplus(x); both
  # must match float64 to within 1e-6 relative (~8 ulps; measured: 4.9e-7 and
  # 3.4e-7) wherever the value is a normal float, also under XLA, where
  # elementwise functions are lowered differently.
  bijector = tfg.GumbelSigmoid(0.5, logits=0.).bijector

  def forward_and_fldj(x):
    with tf.GradientTape(persistent=True) as tape:
      tape.watch(x)
      y = bijector.forward(x)
      fldj = bijector.forward_log_det_jacobian(x, event_ndims=0)
    return y, fldj, tape.gradient(y, x), tape.gradient(fldj, x)

  x = np.linspace(-1e3, 1e3, 200_001).astype(np.float32)
  y, fldj, dy, dfldj = tf.function(forward_and_fldj, jit_compile=jit_compile)(
      tf.constant(x))
  x64 = x.astype(np.float64)
  y_ref = special.expit(x64)
  normal = y_ref > np.finfo(np.float32).tiny
  np.testing.assert_allclose(y.numpy()[normal], y_ref[normal], rtol=1e-6)
  fldj_ref = -np.logaddexp(0., x64) - np.logaddexp(0., -x64)
  np.testing.assert_allclose(fldj.numpy(), fldj_ref, rtol=1e-6)
  # d fldj / dx = 1 - 2 sigmoid(x): finite, and within float32 rounding.
  np.testing.assert_allclose(dfldj.numpy(), 1. - 2. * y_ref, atol=1e-6)
  assert np.isfinite(dy.numpy()).all()


def test_gradients_match_finite_differences():
  logits = tf.constant([0.3, -1.2, 0.8], tf.float64)
  temperature = tf.constant([[0.7], [2.]], tf.float64)
  x = tf.constant(np.random.RandomState(0).uniform(0.05, 0.95, [4, 2, 3]))

  def through_sample(temperature, logits):
    return tf.reduce_sum(tfg.GumbelSigmoid(temperature, logits=logits).sample(
        4, seed=(5, 6)) ** 2)

  def through_log_prob(temperature, logits):
    return tf.reduce_sum(
        tfg.GumbelSigmoid(temperature, logits=logits).log_prob(x))

  def through_cdf(temperature, logits):
    return tf.reduce_sum(tfg.GumbelSigmoid(temperature, logits=logits).cdf(x))

  for fn in (through_sample, through_log_prob, through_cdf):
    theoretical, numerical = tf.test.compute_gradient(
        fn, [temperature, logits], delta=1e-6)
    for th, nu in zip(theoretical, numerical):
      np.testing.assert_allclose(th, nu, rtol=1e-6, atol=1e-8)


# -- TFP behaviour ------------------------------------------------------------

@pytest.mark.parametrize("t_shape,logits_shape,batch_shape", [
    ((), (), ()),
    ((), (4,), (4,)),
    ((3, 1), (4,), (3, 4)),
    ((2, 1, 1), (3, 1), (2, 3, 1)),
])
@pytest.mark.parametrize("sample_shape", [(), (2, 3)])
def test_shapes(t_shape, logits_shape, batch_shape, sample_shape):
  rng = np.random.RandomState(0)
  d = tfg.GumbelSigmoid(
      np.float32(rng.uniform(0.1, 2., t_shape)),
      logits=np.float32(rng.randn(*logits_shape)))
  assert d.batch_shape == batch_shape and d.event_shape == ()
  assert tuple(d.batch_shape_tensor().numpy()) == batch_shape
  x = d.sample(sample_shape, seed=(1, 2))
  assert x.shape == sample_shape + batch_shape
  assert d.log_prob(x).shape == sample_shape + batch_shape


def test_slicing_probs_and_parameter_properties():
  d = tfg.GumbelSigmoid(tf.constant([[0.5], [2.]]), probs=[0.2, 0.5, 0.9])
  x = d.sample(4, seed=(1, 2))
  np.testing.assert_allclose(d[1:, ::2].log_prob(x[:, 1:, ::2]),
                             d.log_prob(x)[:, 1:, ::2], rtol=1e-6)
  same = tfg.GumbelSigmoid(tf.constant([[0.5], [2.]]),
                           logits=np.float32(special.logit([0.2, 0.5, 0.9])))
  np.testing.assert_allclose(d.log_prob(x), same.log_prob(x), rtol=1e-5)
  np.testing.assert_allclose(d.logits_parameter(), same.logits, rtol=1e-5)
  np.testing.assert_allclose(same.probs_parameter(), d.probs, rtol=1e-6)
  props = tfg.GumbelSigmoid.parameter_properties()
  assert props["temperature"].default_constraining_bijector_fn()(-30.) > 0
  probs = props["probs"].default_constraining_bijector_fn()([-30., 30.])
  assert np.all((probs.numpy() >= 0) & (probs.numpy() <= 1))
  assert isinstance(d.experimental_default_event_space_bijector(), tfb.Sigmoid)


@pytest.mark.parametrize("make_temperature", [
    lambda: tf.Variable(0.7),
    lambda: tfp.util.TransformedVariable(0.7, tfb.Softplus()),
], ids=["Variable", "TransformedVariable"])
def test_variables_are_tracked_and_get_gradients(make_temperature):
  t = make_temperature()
  logits = tf.Variable([0.1, 0.5, -0.3])
  d = tfg.GumbelSigmoid(t, logits=logits)
  assert len(d.trainable_variables) == 2
  x = tf.constant([0.2, 0.5, 0.9])
  with tf.GradientTape(persistent=True) as tape:
    sample_loss = tf.reduce_sum(d.sample(seed=(1, 2)) * [1., 2., 3.])
    lp_loss = -tf.reduce_sum(d.log_prob(x))
  for loss in (sample_loss, lp_loss):
    grads = tape.gradient(loss, d.trainable_variables)
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
  before = d.log_prob(x)     # references are read at every use
  t.assign(2.)
  assert not np.allclose(d.log_prob(x), before)


def test_tf_function_xla_composite_tensor_seeds_and_float64():
  d = tfg.GumbelSigmoid(tf.constant([0.3, 1.], tf.float64),
                        logits=tf.constant([[0.], [2.]], tf.float64))

  def run(d):
    x = d.sample(7, seed=(4, 2))
    return x, d.log_prob(x)

  eager = run(d)
  assert eager[0].dtype == eager[1].dtype == tf.float64
  for compiled in (tf.function(run), tf.function(run, jit_compile=True)):
    for a, b in zip(eager, compiled(d)):   # `d` crosses as a CompositeTensor
      np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-14)  # XLA fuses differently: a few ulps
  flat = tf.nest.flatten(d, expand_composites=True)
  rebuilt = tf.nest.pack_sequence_as(d, flat, expand_composites=True)
  assert type(rebuilt) is tfg.GumbelSigmoid
  assert type(rebuilt.distribution) is LogitGumbelSigmoid
  assert not np.array_equal(d.sample(5, seed=(1, 2)), d.sample(5, seed=(1, 3)))


# -- bad input ----------------------------------------------------------------

@pytest.mark.parametrize("kwargs,match", [
    (dict(temperature=0., logits=1.), "`temperature` must be positive"),
    (dict(temperature=-1., logits=1.), "`temperature` must be positive"),
    (dict(temperature=np.inf, logits=1.), "`temperature` must be finite"),
    (dict(temperature=1., logits=[1., np.nan]), "`logits` must not be NaN"),
    (dict(temperature=1., probs=[-0.1, 0.5]),
     "`probs` has components less than 0"),
    (dict(temperature=1., probs=[0.5, 1.1]),
     "`probs` has components greater than 1"),
])
def test_bad_parameter_values_raise(kwargs, match):
  with pytest.raises(tf.errors.InvalidArgumentError, match=match):
    tfg.GumbelSigmoid(validate_args=True, **kwargs)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(logits=1., probs=0.5), ValueError, "Exactly one of `logits`"),
    (dict(), ValueError, "Exactly one of `logits`"),
    (dict(logits=tf.constant(1, tf.int32)), TypeError, "`logits` must have a"),
    (dict(logits=tf.constant(1., tf.float64)), TypeError, "`logits` has dtype"),
])
def test_bad_arguments_raise_at_construction(kwargs, error, match):
  with pytest.raises(error, match=match):
    tfg.GumbelSigmoid(tf.constant(1.), **kwargs)


def test_validate_args_checks_samples_and_variables_at_use():
  t = tf.Variable(1.)
  d = tfg.GumbelSigmoid(t, logits=0., validate_args=True)
  for x, match in [(-0.1, "found a negative value"), (1.5, "above 1")]:
    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
      d.log_prob(x)
  t.assign(-1.)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="`temperature` must be positive"):
    d.sample(seed=(1, 2))
