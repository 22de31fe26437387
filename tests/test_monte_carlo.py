"""tfg.monte_carlo: entropy and relaxed-KL estimates (the exact categorical
KL is tested in tests/test_kl.py).

The estimates are checked against one-dimensional quadrature of the
independent numpy densities in tests/reference.py (K = 2 and the binary
relaxation, where the integral is one-dimensional), for unbiasedness at a
small sample size, and against exact identities (data processing, invariance
to a shared temperature). Seeds are fixed, so every test is deterministic; the
tolerances are what a correct estimator passes with probability > 0.9999.
"""

import numpy as np
import pytest
from scipy import integrate
from scipy import special
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg
from tests import reference

tfd = tfp.distributions

# |z| above which we call an estimate wrong: two-sided p = 6e-5 for a normal
# estimate, so the ~30 z-tests below together fail by chance with p < 0.002.
Z_MAX = 4.


def _binary_log_density(z, logit, temperature):
  """Log-density of x1 = expit(z) under the K = 2 Concrete (= binary Concrete),
  with respect to dx1. Both coordinates come from z: 1 - x1 would round to 0."""
  x = np.stack([special.expit(z), special.expit(-z)], axis=-1)
  return reference.concrete_log_density(
      x, [special.expit(logit), special.expit(-logit)], temperature)


def _expect_over_p(f, logit, temperature):
  """E_p[f(X1)] for the binary Concrete p, by quadrature in the log-odds z.

  z = log(x1 / x2) is Logistic(logit / t, 1 / t), so the integrand is smooth
  and its mass lies within 50 / t of logit / t. `f` is a function of z.
  """
  loc, scale = logit / temperature, 1. / temperature

  def integrand(z):
    # dx1 / dz = x1 x2.
    log_pz = (_binary_log_density(z, logit, temperature)
              + special.log_expit(z) + special.log_expit(-z))
    return np.exp(log_pz) * f(z)

  value, _ = integrate.quad(integrand, loc - 50 * scale, loc + 50 * scale,
                            points=[loc], limit=200, epsabs=1e-10)
  return value


def entropy_reference(logit, temperature):
  return _expect_over_p(
      lambda z: -_binary_log_density(z, logit, temperature),
      logit, temperature)


def kl_reference(logit_p, t_p, logit_q, t_q):
  return _expect_over_p(
      lambda z: (_binary_log_density(z, logit_p, t_p)
                 - _binary_log_density(z, logit_q, t_q)),
      logit_p, t_p)


def binary(cls, temperature, logit):
  """A float64 K = 2 relaxation whose first coordinate (or whose value, for
  the binary class) is the binary Concrete with log-odds `logit`."""
  temperature = tf.constant(temperature, tf.float64)
  if cls is tfg.GumbelSigmoid:
    return cls(temperature, logits=tf.constant(logit, tf.float64))
  return cls(temperature, logits=tf.constant([logit, 0.], tf.float64))


def replicates(estimate, num_replicates=400, seed=11):
  """`num_replicates` independent values of `estimate(seed)`, in one graph.

  Their mean is an unbiased estimate of the estimator's expectation, with
  standard error std / sqrt(num_replicates), whatever the estimator's own
  sample size: this tests unbiasedness, not only consistency.
  """
  seeds = tf.random.experimental.stateless_split([seed, 0], num_replicates)
  values = tf.function(
      lambda: tf.map_fn(estimate, seeds, fn_output_signature=tf.float64))(
      ).numpy()
  return values.mean(0), values.std(0, ddof=1) / np.sqrt(num_replicates)


def assert_z(estimate, se, expected):
  z = (estimate - expected) / se
  assert np.all(np.abs(z) < Z_MAX), (estimate, se, expected, z)


BINARY_CLASSES = [tfg.GumbelSoftmax, tfg.GumbelSigmoid]
parametrize_binary = pytest.mark.parametrize(
    "cls", BINARY_CLASSES, ids=lambda c: c.__name__)


@parametrize_binary
@pytest.mark.parametrize("temperature,logit", [(0.1, 1.), (0.5, -0.7),
                                               (2., 0.3)])
def test_entropy_is_unbiased(cls, temperature, logit):
  d = binary(cls, temperature, logit)
  # 400 estimates of 25 draws each: a biased (e.g. plug-in or self-normalized)
  # estimator would show its bias at this small n.
  mean, se = replicates(lambda s: tfg.monte_carlo_entropy(d, 25, seed=s))
  expected = entropy_reference(logit, temperature)
  assert_z(mean, se, expected)
  # And a single large estimate is consistent with it (same per-draw std).
  per_draw_std = se * np.sqrt(400 * 25)
  assert_z(tfg.monte_carlo_entropy(d, 10_000, seed=(1, 2)).numpy(),
           per_draw_std / np.sqrt(10_000), expected)


def test_entropy_in_log_odds_space_matches_tfp_logistic():
  # LogitGumbelSigmoid is Logistic(logits / t, 1 / t), whose entropy TFP knows.
  t, logits = tf.constant([0.1, 1., 5.], tf.float64), tf.constant(
      [2., -1., 0.], tf.float64)
  d = tfg.GumbelSigmoid(t, logits=logits).distribution
  mean, se = replicates(lambda s: tfg.monte_carlo_entropy(d, 50, seed=s))
  assert_z(mean, se, tfd.Logistic(logits / t, 1. / t).entropy().numpy())


def test_entropy_gradient_matches_finite_differences_of_the_reference():
  """The reparameterized gradient of the estimate is unbiased for dH/dt."""
  temperature, logit, h = 0.5, 0.4, 1e-4
  expected = (entropy_reference(logit, temperature + h)
              - entropy_reference(logit, temperature - h)) / (2 * h)

  def grad_estimate(seed):
    t = tf.constant(temperature, tf.float64)
    with tf.GradientTape() as tape:
      tape.watch(t)
      value = tfg.monte_carlo_entropy(
          tfg.GumbelSoftmax(t, logits=tf.constant([logit, 0.], tf.float64)),
          50, seed=seed)
    return tape.gradient(value, t)

  assert_z(*replicates(grad_estimate), expected)


@parametrize_binary
@pytest.mark.parametrize("t_p,t_q", [(0.5, 0.5), (0.3, 1.), (1., 0.2)])
def test_relaxed_kl_is_unbiased(cls, t_p, t_q):
  logit_p, logit_q = 1.2, -0.5
  p, q = binary(cls, t_p, logit_p), binary(cls, t_q, logit_q)
  mean, se = replicates(lambda s: tfg.monte_carlo_relaxed_kl(p, q, 25, seed=s))
  assert_z(mean, se, kl_reference(logit_p, t_p, logit_q, t_q))


def test_relaxed_kl_bounds_categorical_kl_and_ignores_a_shared_temperature():
  rng = np.random.RandomState(0)
  logits_p, logits_q = rng.randn(2, 3, 4) * 2.   # a batch of 3, K = 4
  estimates = []
  for t in [1e-3, 0.1, 1., 10.]:
    p = tfg.GumbelSoftmax(tf.constant(t, tf.float64), logits=logits_p)
    q = tfg.GumbelSoftmax(tf.constant(t, tf.float64), logits=logits_q)
    estimates.append(tfg.monte_carlo_relaxed_kl(p, q, 4000, seed=(5, 6)))
  exact = tfg.categorical_kl(p, q).numpy()
  # Per draw, log p(y) - log q(y) depends on the noise only through
  # t * y = logits + g - const: the same seed gives the same value at any
  # shared temperature, up to float64 rounding of y at t = 1e-3.
  for est in estimates[1:]:
    np.testing.assert_allclose(est, estimates[0], rtol=1e-7)
  # Data processing: the argmax is a function of the sample. The relaxed KL
  # here is several times the categorical one, so MC error cannot close the gap.
  assert np.all(estimates[0] > exact), (estimates[0], exact)


@pytest.mark.parametrize("make", [
    lambda t, l: tfg.GumbelSoftmax(t, logits=l),
    lambda t, l: tfg.ExpRelaxedGumbelSoftmax(t, logits=l),
    lambda t, l: tfg.GumbelSigmoid(t, logits=l[..., 0]),
], ids=["GumbelSoftmax", "ExpRelaxed", "GumbelSigmoid"])
def test_estimates_are_finite_with_finite_gradients_at_extremes(make):
  """float32, t down to 1e-3 and |logits| up to 1e3, under XLA."""
  t = tf.Variable([1e-3, 1e-3, 1., 1e-3])
  logits = tf.Variable([[1e3, -1e3, 0.], [0., 0., 0.], [-1e3, 1e3, 5.],
                        [-1e3, 0., 1e3]])

  @tf.function(jit_compile=True)
  def values_and_grads():
    with tf.GradientTape() as tape:
      p, q = make(t, logits), make(t[::-1], logits[::-1])
      values = [tfg.monte_carlo_entropy(p, 64, seed=(1, 2)),
                tfg.monte_carlo_relaxed_kl(p, q, 64, seed=(3, 4))]
      total = tf.add_n([tf.reduce_sum(v) for v in values])
    return values, tape.gradient(total, [t, logits])

  values, grads = values_and_grads()
  for v in values:
    assert v.shape == [4] and np.isfinite(v.numpy()).all()
  for g in grads:
    assert np.isfinite(g.numpy()).all()


def test_relaxed_kl_of_distributions_of_different_classes_raises():
  with pytest.raises(TypeError, match="`p` and `q`.*GumbelSoftmax.*Exp"):
    tfg.monte_carlo_relaxed_kl(
        tfg.GumbelSoftmax(0.5, logits=[0., 1.]),
        tfg.ExpRelaxedGumbelSoftmax(0.5, logits=[0., 1.]), 10)


# -- impossible classes (logits -inf) ------------------------------------------

NEG_INF = -np.inf
MASKED = [[NEG_INF, 0.5, -1., 1.], [0., NEG_INF, NEG_INF, 2.]]   # per row
RESTRICTED = [[0.5, -1., 1.], [0., 2.]]
CATEGORICAL_CLASSES = [tfg.GumbelSoftmax, tfg.ExpRelaxedGumbelSoftmax]


def _estimate_and_se(estimate_fn, per_draw_fn, n, seed):
  """A helper's estimate, and its standard error from the same draws."""
  return (estimate_fn(n, seed).numpy(),
          np.std(per_draw_fn(n, seed).numpy(), axis=0) / np.sqrt(n))


@pytest.mark.parametrize("cls", CATEGORICAL_CLASSES)
def test_entropy_with_impossible_classes_is_the_restricted_entropy(cls):
  # The density on the face of the possible classes is the K'-class one, so
  # the entropies agree: z-test of two independent estimates.
  n, t = 20_000, 0.7
  masked = cls(t, logits=MASKED)
  h, se = _estimate_and_se(
      lambda n, s: tfg.monte_carlo_entropy(masked, n, seed=s),
      lambda n, s: masked.experimental_sample_and_log_prob(n, seed=s)[1],
      n, (1, 2))
  for row, logits in enumerate(RESTRICTED):
    alone = cls(t, logits=logits)
    h_alone, se_alone = _estimate_and_se(
        lambda n, s: tfg.monte_carlo_entropy(alone, n, seed=s),
        lambda n, s: alone.experimental_sample_and_log_prob(n, seed=s)[1],
        n, (3, 4))
    assert np.isfinite(h[row])
    assert abs(h[row] - h_alone) / np.hypot(se[row], se_alone) < Z_MAX


@pytest.mark.parametrize("cls", CATEGORICAL_CLASSES)
def test_relaxed_kl_with_the_same_impossible_classes_is_the_restricted_kl(
    cls):
  n, t_p, t_q = 20_000, 0.7, 0.5
  q_masked = [[NEG_INF, 0., 0., 0.], [1., NEG_INF, NEG_INF, -1.]]
  q_restricted = [[0., 0., 0.], [1., -1.]]
  p, q = cls(t_p, logits=MASKED), cls(t_q, logits=q_masked)

  def per_draw(p, q, n, seed):
    x, log_p = p.experimental_sample_and_log_prob(n, seed=seed)
    return log_p - q.log_prob(x)

  kl, se = _estimate_and_se(
      lambda n, s: tfg.monte_carlo_relaxed_kl(p, q, n, seed=s),
      lambda n, s: per_draw(p, q, n, s), n, (5, 6))
  for row in range(2):
    p1, q1 = cls(t_p, logits=RESTRICTED[row]), cls(t_q, logits=q_restricted[row])
    kl1, se1 = _estimate_and_se(
        lambda n, s: tfg.monte_carlo_relaxed_kl(p1, q1, n, seed=s),
        lambda n, s: per_draw(p1, q1, n, s), n, (7, 8))
    assert np.isfinite(kl[row])
    assert abs(kl[row] - kl1) / np.hypot(se[row], se1) < Z_MAX


@pytest.mark.parametrize("cls", CATEGORICAL_CLASSES)
def test_relaxed_kl_is_inf_where_q_forbids_a_class_p_allows(cls):
  p = cls(0.5, logits=[0., 1., 2.])
  q = cls(0.5, logits=[0., NEG_INF, 2.])
  assert np.isposinf(tfg.monte_carlo_relaxed_kl(p, q, 100, seed=(1, 2)))


@pytest.mark.parametrize("cls", CATEGORICAL_CLASSES)
def test_relaxed_kl_is_inf_where_p_forbids_a_class_q_allows(cls):
  # p's samples are -inf (or 0) on class 1, off q's support: q's log-density
  # there is -inf, so KL(q || p) = +inf; and KL(p || q) is +inf as well
  # (p's samples lie on a face of q's simplex, a set of q-measure 0).
  p = cls(0.5, logits=[0., NEG_INF, 2.])
  q = cls(0.5, logits=[0., 1., 2.])
  assert np.isposinf(tfg.monte_carlo_relaxed_kl(p, q, 100, seed=(1, 2)))


@pytest.mark.parametrize("cls", CATEGORICAL_CLASSES)
def test_masked_estimates_have_finite_gradients_zero_at_masked_logits(cls):
  """Per-row masks, t from 1e-3 to 10 and |logits| up to 1e3, under XLA."""
  t = tf.Variable([1e-3, 1., 10., 1e-3])
  logits = tf.Variable([[NEG_INF, 1e3, -1e3, 0.], [0., NEG_INF, 1., NEG_INF],
                        [NEG_INF, NEG_INF, NEG_INF, 3.], [2., 0., 1., NEG_INF]])

  @tf.function(jit_compile=True)
  def values_and_grads():
    with tf.GradientTape() as tape:
      p, q = cls(t, logits=logits), cls(t[::-1], logits=logits)
      values = [tfg.monte_carlo_entropy(p, 64, seed=(1, 2)),
                tfg.monte_carlo_relaxed_kl(p, q, 64, seed=(3, 4)),
                tfg.categorical_kl(p, q)]
      total = tf.add_n([tf.reduce_sum(v) for v in values])
    return values, tape.gradient(total, [t, logits])

  values, (g_t, g_logits) = values_and_grads()
  for v in values + [g_t, g_logits]:
    assert np.isfinite(v.numpy()).all()
  assert values[0].shape == values[1].shape == values[2].shape == [4]
  # Row 2 has one possible class: a point mass, entropy and KL 0.
  np.testing.assert_allclose([v[2] for v in values], 0., atol=1e-5)
  g_logits = g_logits.numpy()
  np.testing.assert_array_equal(g_logits[np.isneginf(logits.numpy())], 0.)
