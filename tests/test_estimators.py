"""tfg.estimators: exact hard forward values, their laws, finite gradients,
the expectations the estimators promise, and the conditional Gumbel sampler.

Statistical tests use fixed seeds (deterministic); each threshold is chosen so
that a correct implementation fails it with probability below ~1% over seeds,
as stated where it is set.
"""

import numpy as np
import pytest
from scipy import special
from scipy import stats
import tensorflow as tf

import tfp_gumbel as tfg
from benchmarks import estimators as bench

est = tfg.estimators
CATEGORICAL = ["st", "gumbel_rao", "reinmax"]
LOGITS = np.array([-1., 0.5, 2., 0., -3.])  # probabilities 0.02 .. 0.67


def _sample_and_gradients(name, logits, temperature, weights, seed):
  """Hard samples and d sum(weights * f(sample)) / d(logits, temperature),
  with f(d) = d**2 (non-linear, so the surrogate's Jacobian is exercised)."""
  with tf.GradientTape() as tape:
    tape.watch([logits, temperature])
    if name == "sigmoid_st":
      hard = est.gumbel_sigmoid_st(logits, temperature, seed=seed)
    else:
      hard = est.get(name)(logits, temperature, seed=seed)
    loss = tf.reduce_sum(weights * hard ** 2)
  grads = tape.gradient(loss, [logits, temperature])
  return [hard] + [tf.zeros_like(v) if g is None else g
                   for g, v in zip(grads, [logits, temperature])]


# How `_run` runs the estimator: eagerly, in a tf.function, or XLA-compiled.
MODES = {"eager": _sample_and_gradients,
         "function": tf.function(_sample_and_gradients,
                                 reduce_retracing=True),
         "xla": tf.function(_sample_and_gradients, jit_compile=True,
                            reduce_retracing=True)}


def _run(name, logits, temperature, seed=(1, 2), dtype=tf.float32,
         mode="xla"):
  logits = tf.constant(logits, dtype)
  weights = tf.constant(
      np.random.RandomState(0).randn(*logits.shape[-1:]), dtype)
  return [v.numpy() for v in MODES[mode](
      name, logits, tf.constant(temperature, dtype), weights,
      tf.constant(seed))]


# -- forward values -----------------------------------------------------------

@pytest.mark.parametrize("name", CATEGORICAL)
def test_forward_is_exactly_one_hot_with_the_categorical_law(name):
  n = 5000
  hard, _, _ = _run(name, np.tile(LOGITS, [n, 1]), 0.5)
  assert set(np.unique(hard)) <= {0., 1.}
  np.testing.assert_array_equal(hard.sum(-1), 1.)
  # Chi-square of the counts against softmax(LOGITS); the smallest expected
  # count is 5000 * 0.0056 = 28 >= 5. Level 1e-3 per test.
  counts = hard.sum(0)
  assert stats.chisquare(counts, n * special.softmax(LOGITS)).pvalue > 1e-3


def test_binary_forward_is_exactly_bernoulli():
  n = 4000
  hard, _, _ = _run("sigmoid_st", np.tile(LOGITS, [n, 1]), 0.3)
  assert set(np.unique(hard)) <= {0., 1.}
  # Five exact binomial tests at level 2e-4: false alarm < 0.1%.
  for count, p in zip(hard.sum(0), special.expit(LOGITS)):
    assert stats.binomtest(int(count), n, p).pvalue > 2e-4


@pytest.mark.parametrize("name", CATEGORICAL + ["sigmoid_st"])
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_extremes_give_exact_samples_and_finite_gradients(name, dtype):
  # |logits| up to 1e3 and t from 1e-3 to 100, broadcast over a [6, 4] batch.
  logits = np.array([[-1e3, 0., 1e3, 5.], [0., 0., 0., 0.], [1., 2., 3., 4.]])
  logits = np.tile(logits, [2, 1, 1]).reshape(6, 4)
  t = np.array([1e-3, 1e-2, 0.1, 1., 10., 100.])
  if name == "sigmoid_st":
    t = t[:, None]
  hard, g_logits, g_t = _run(name, logits, t, dtype=dtype)
  assert hard.dtype == g_logits.dtype == dtype.as_numpy_dtype
  assert hard.shape == g_logits.shape == logits.shape
  assert g_t.shape == t.shape
  assert set(np.unique(hard)) <= {0., 1.}
  assert np.isfinite(g_logits).all() and np.isfinite(g_t).all()
  if name != "sigmoid_st":
    np.testing.assert_array_equal(hard.sum(-1), 1.)
    # Exactly categorical at the extremes too: logit 1e3 always wins.
    np.testing.assert_array_equal(hard[0], [0., 0., 1., 0.])


@pytest.mark.parametrize("name", CATEGORICAL)
@pytest.mark.parametrize("t_shape", [(), (3,), (2, 1), (2, 3)])
def test_temperature_broadcasts_with_the_batch(name, t_shape):
  logits = tf.constant(np.random.RandomState(1).randn(2, 3, 4), tf.float32)
  t = tf.fill(t_shape, 0.7)
  with tf.GradientTape() as tape:
    tape.watch(logits)
    hard = est.get(name)(logits, t, seed=(3, 4))
    loss = tf.reduce_sum(hard * hard)
  assert hard.shape == logits.shape
  assert tape.gradient(loss, logits).shape == logits.shape


def test_seeds_are_stateless_in_eager_and_xla():
  logits = tf.constant(np.tile(LOGITS, [20, 1]))
  for name in CATEGORICAL:
    fn = est.get(name)
    xla = tf.function(fn, jit_compile=True)
    seed = tf.constant([5, 6])
    for run in (lambda s: fn(logits, 0.5, seed=s),
                lambda s: xla(logits, tf.constant(0.5, tf.float64), seed=s)):
      np.testing.assert_array_equal(run(seed), run(seed))
      assert not np.array_equal(run(seed), run(seed + 1))
    # (XLA's Philox does not reproduce the CPU kernel's numbers for a seed
    # that is a run-time tensor, so eager and XLA draws are not compared.)


def test_straight_through_of_a_soft_sample():
  logits = tf.constant(LOGITS, tf.float32)
  weights = tf.constant([1., -2., 3., 0.5, 4.])
  for d, binary in [(tfg.GumbelSoftmax(0.5, logits=logits), False),
                    (tfg.GumbelSigmoid(0.5, logits=logits), True)]:
    with tf.GradientTape(persistent=True) as tape:
      tape.watch(logits)
      soft = d.sample(10, seed=(1, 2))
      hard = est.straight_through(soft, binary=binary)
      hard_loss = tf.reduce_sum(weights * hard)
      soft_loss = tf.reduce_sum(weights * soft)
    expected = (soft.numpy() > 0.5 if binary else
                np.eye(5)[np.argmax(soft.numpy(), -1)])
    np.testing.assert_array_equal(hard, expected)
    np.testing.assert_allclose(tape.gradient(hard_loss, logits),
                               tape.gradient(soft_loss, logits), rtol=1e-6)


# -- the estimators' gradients ------------------------------------------------

def _cosine(a, b):
  return np.sum(a * b) / (np.linalg.norm(a) * np.linalg.norm(b))


def _mean_and_stderr(x):
  x = np.asarray(x, np.float64)
  return x.mean(0), x.std(0, ddof=1) / np.sqrt(len(x))


@pytest.mark.parametrize("problem", bench.PROBLEMS.values(),
                         ids=bench.PROBLEMS.keys())
def test_the_exact_gradient_matches_the_score_function_estimate(problem):
  # The benchmark's enumerated gradient against the unbiased REINFORCE
  # estimate f(D) grad log p(D), in numpy from 200,000 draws; every
  # coordinate within 4.5 standard errors (false alarm < 1e-3 for <= 30).
  rng = np.random.RandomState(5)
  n = 200000
  probs = special.softmax(problem.logits, -1)
  draws = np.stack([rng.choice(len(p), size=n, p=p) for p in probs], -1)
  one_hot = np.eye(probs.shape[-1])[draws]                      # [n, c, K]
  score = problem.f(tf.constant(one_hot)).numpy()[:, None, None] * (
      one_hot - probs)
  score = score[..., 1] if problem.binary else score.reshape(n, -1)
  mean, se = _mean_and_stderr(score)
  exact = bench.exact_gradient(problem).numpy()
  assert np.all(np.abs(mean - exact) <= 4.5 * se + 1e-12)


@pytest.mark.parametrize("name", CATEGORICAL + ["gumbel_rao_1"])
def test_gradient_on_the_enumeration_problem_points_the_right_way(name):
  # Cosine of the estimator's averaged gradient with the exact gradient of
  # E[(sum_i <w_i, D_i> - 1/2)^2] over 3 categoricals with 10 classes, at
  # t = 1. Measured (benchmarks/results/estimators.md): 0.95 for ST and
  # Gumbel-Rao, 0.999 for ReinMax; with 1000 draws the Monte Carlo error of
  # the cosine is a few 0.01, so > 0.8 leaves a wide margin.
  problem = bench.PROBLEMS["3 x K=10"]
  estimator = (est.get(name) if name != "gumbel_rao_1" else
               lambda l, t, seed: est.gumbel_rao(l, t, num_samples=1,
                                                 seed=seed))
  estimates = bench.make_estimate(problem, estimator, 1000)(
      tf.constant(1.), tf.constant([11, 12]))
  exact = bench.exact_gradient(problem).numpy()
  assert _cosine(estimates.numpy().mean(0), exact) > 0.8


@pytest.mark.parametrize("name", ["st", "gumbel_rao"])
@pytest.mark.parametrize("temperature", [0.3, 1.])
def test_linear_f_gradient_equals_the_soft_estimators_expectation(
    name, temperature):
  # For linear f(D) = <c, D>, ST and its Rao-Blackwellization Gumbel-Rao are
  # unbiased for E[grad <c, softmax((logits + g) / t)>], the relaxed (soft)
  # estimator's expectation, computed here from tfg.GumbelSoftmax samples with
  # another seed. 5 coordinates compared at 4.5 standard errors each
  # (two-sided 7e-6): false alarm < 1e-4.
  n = 20000
  c = tf.constant([1., -2., 3., 0.5, 4.], tf.float64)
  logits = tf.constant(np.tile(LOGITS, [n, 1]))
  with tf.GradientTape(persistent=True) as tape:
    tape.watch(logits)
    hard = est.get(name)(logits, temperature, seed=(1, 1))
    soft = tfg.GumbelSoftmax(tf.constant(temperature, tf.float64),
                             logits=logits).sample(seed=(2, 2))
    hard_loss, soft_loss = (tf.reduce_sum(c * v) for v in (hard, soft))
  mean_h, se_h = _mean_and_stderr(tape.gradient(hard_loss, logits))
  mean_s, se_s = _mean_and_stderr(tape.gradient(soft_loss, logits))
  assert np.all(np.abs(mean_h - mean_s) < 4.5 * np.hypot(se_h, se_s))
  if name == "gumbel_rao":  # and it reduces the variance
    assert np.all(se_h <= se_s)


def test_reinmax_gradient_matches_the_papers_backward_pass():
  # Independent numpy transcription of ReinMax's backward pass (Liu et al.
  # 2023, Algorithm 2): grad = 2 J(pi1) c - J(pi0) c / 2 with
  # J(p) c = p * c - p <p, c>, pi0 = softmax(logits),
  # pi1 = (D + softmax(logits / t)) / 2.
  rng = np.random.RandomState(3)
  logits = rng.randn(50, 5)
  t = np.array(1.7)
  c = rng.randn(50, 5)
  x = tf.constant(logits)
  with tf.GradientTape() as tape:
    tape.watch(x)
    hard = est.reinmax(x, t, seed=(4, 4))
    loss = tf.reduce_sum(c * hard)
  d = hard.numpy()

  def jvp(p):
    return p * c - p * np.sum(p * c, -1, keepdims=True)

  pi0 = special.softmax(logits, -1)
  pi1 = (d + special.softmax(logits / t, -1)) / 2.
  np.testing.assert_allclose(tape.gradient(loss, x), 2. * jvp(pi1)
                             - 0.5 * jvp(pi0), rtol=1e-10, atol=1e-12)


def test_gradients_reach_the_temperature_except_for_reinmax():
  logits = tf.constant(LOGITS)
  for name in CATEGORICAL:
    t = tf.Variable(0.5, dtype=tf.float64)
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(est.get(name)(logits, t, seed=(1, 2)) * LOGITS**2)
    grad = tape.gradient(loss, t)
    assert (grad is None) == (name == "reinmax")


# -- the conditional Gumbel sampler of Gumbel-Rao ------------------------------

@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_conditional_gumbel_keeps_the_argmax_and_the_gumbel_law(dtype):
  n = 4000
  logits = tf.constant(np.tile(LOGITS, [n, 1]), dtype)
  # D resampled for every row: then z | D, averaged over D, must be the
  # unconditional perturbation logits + Gumbel(0, 1).
  d = est.gumbel_softmax_st(logits, 1., seed=(8, 1))
  z = est.conditional_gumbel(logits, d, num_samples=2, seed=(8, 2)).numpy()
  np.testing.assert_array_equal(np.argmax(z, -1), np.tile(
      np.argmax(d.numpy(), -1), [2, 1]))
  g = z[0].astype(np.float64) - LOGITS
  # 5 marginal KS tests and one of the max (logsumexp(logits) + Gumbel), at
  # level 1e-3 each: false alarm < 0.6%.
  for k in range(5):
    assert stats.kstest(g[:, k], stats.gumbel_r.cdf).pvalue > 1e-3
  top = z[0].max(-1) - special.logsumexp(LOGITS)
  assert stats.kstest(top, stats.gumbel_r.cdf).pvalue > 1e-3
  # Independent coordinates: the correlation of two of them is 0 +- 1/sqrt(n)
  # (4 standard errors).
  assert abs(np.corrcoef(g[:, 1], g[:, 2])[0, 1]) < 4. / np.sqrt(n)


def test_conditional_gumbel_at_extreme_logits():
  logits = tf.constant([[-1e3, 0., 1e3, 999.]] * 4)
  d = tf.one_hot([0, 1, 2, 3], 4)   # including very unlikely arguments
  z = est.conditional_gumbel(logits, d, num_samples=100, seed=(1, 5))
  assert np.isfinite(z.numpy()).all()
  np.testing.assert_array_equal(np.argmax(z.numpy(), -1),
                                np.tile([0, 1, 2, 3], [100, 1]))


# -- the registry and bad input -----------------------------------------------

def test_get_returns_the_estimators_and_rejects_unknown_names():
  assert est.get("st") is est.gumbel_softmax_st
  assert est.get("gumbel_rao") is est.gumbel_rao
  assert est.get("reinmax") is est.reinmax
  for bad in ["ST", "gumbel", None]:
    with pytest.raises(ValueError, match="valid choices are 'st', "
                                         "'gumbel_rao', 'reinmax'"):
      est.get(bad)


@pytest.mark.parametrize("call,error,match", [
    (lambda: est.gumbel_rao([0., 1.], 1., num_samples=0), ValueError,
     "`num_samples` must be a positive integer"),
    (lambda: est.gumbel_softmax_st(0., 1.), ValueError,
     "`logits` must have the classes on its last axis"),
    (lambda: est.reinmax(tf.constant([0, 1]), 1.), TypeError,
     "`logits` must have a floating-point dtype"),
    (lambda: est.gumbel_sigmoid_st(tf.constant([0.], tf.float64),
                                   tf.constant(1.)), TypeError,
     "`temperature` has dtype float32"),
])
def test_bad_arguments_raise(call, error, match):
  with pytest.raises(error, match=match):
    call()


# -- impossible classes (logits -inf) ------------------------------------------

NEG_INF = -np.inf
# Per-row different masks over K = 5, with possible classes of very different
# probability (softmax over the possible ones: 0.02 .. 0.85).
MASKED_LOGITS = np.array([
    [NEG_INF, 0.5, 2., 0., -3.],
    [-1., NEG_INF, NEG_INF, 0., 1.],
    [NEG_INF, NEG_INF, NEG_INF, 0., 0.5],
    [-1., 0.5, 2., 0., NEG_INF],
])
@pytest.mark.parametrize("name", CATEGORICAL)
def test_masked_classes_are_never_picked_and_the_law_is_over_the_rest(name):
  n = 10_000
  logits = np.repeat(MASKED_LOGITS, n, axis=0)   # 4 masks, n draws each
  hard, _, _ = _run(name, logits, 0.5)
  np.testing.assert_array_equal(hard.sum(-1), 1.)
  assert not hard[np.isneginf(logits)].any()
  # Chi-square over the possible classes of each mask: 4 tests at level 2.5e-4
  # (false alarm < 0.1%); the smallest expected count is 10^4 * 0.0055 = 55.
  for row, draws in zip(MASKED_LOGITS, np.split(hard, 4)):
    possible = np.isfinite(row)
    expected = n * special.softmax(row[possible])
    assert stats.chisquare(draws[:, possible].sum(0), expected).pvalue > 2.5e-4


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("name", CATEGORICAL)
def test_masked_gradients_are_finite_and_exactly_zero_at_masked_logits(
    name, mode):
  # Temperatures from 1e-3 to 100, one per row, and logits up to |1e3|.
  logits = np.concatenate([MASKED_LOGITS, MASKED_LOGITS * 500.])
  logits = np.tile(logits, [25, 1])
  t = np.geomspace(1e-3, 100., logits.shape[0]).astype(np.float32)
  hard, g_logits, g_t = _run(name, logits, t, mode=mode)
  masked = np.isneginf(logits)
  assert not hard[masked].any() and np.isfinite(hard).all()
  assert np.isfinite(g_logits).all() and np.isfinite(g_t).all()
  np.testing.assert_array_equal(g_logits[masked], 0.)
  # The possible classes do get a gradient (the estimator is not switched
  # off by the mask).
  assert np.abs(g_logits[~masked]).max() > 0.


@pytest.mark.parametrize("name", CATEGORICAL)
def test_one_possible_class_is_a_point_mass_with_zero_gradients(name):
  # With one possible class left the sample is that class, and every gradient
  # is 0: a point mass has nothing to learn. Exactly 0 at the impossible
  # logits; at the possible one the softmax Jacobian p (1 - p) at p = 1 may
  # come out as one float32 rounding of 1 (TF 2.18 under XLA: -4.7e-8 per
  # row), which the temperature's gradient sums over 8 rows times
  # |logits + g| / t^2 ~ 10 (TF 2.18: 1.1e-6).
  logits = np.array([[NEG_INF, 1.5, NEG_INF]] * 8)
  hard, g_logits, g_t = _run(name, logits, 0.7)
  np.testing.assert_array_equal(hard, np.tile([0., 1., 0.], [8, 1]))
  np.testing.assert_array_equal(g_logits[:, [0, 2]], 0.)
  np.testing.assert_allclose(g_logits[:, 1], 0., atol=2e-7)
  np.testing.assert_allclose(g_t, 0., atol=1e-5)


@pytest.mark.parametrize("name", CATEGORICAL)
def test_a_row_without_possible_classes_is_nan_and_spares_the_others(name):
  logits = np.array([[NEG_INF, NEG_INF, NEG_INF], [0., NEG_INF, 1.]])
  hard, _, _ = _run(name, logits, 0.5, mode="eager")
  assert np.isnan(hard[0]).all()
  assert np.isfinite(hard[1]).all() and hard[1, 1] == 0.


@pytest.mark.parametrize("mode", list(MODES))
def test_gumbel_sigmoid_st_at_infinite_logits_is_deterministic(mode):
  logits = np.tile([NEG_INF, np.inf, 0., -2.], [500, 1])
  t = np.geomspace(1e-3, 100., 500)[:, None].astype(np.float32)
  hard, g_logits, g_t = _run(
      "sigmoid_st", logits, t, mode=mode)
  np.testing.assert_array_equal(hard[:, 0], 0.)
  np.testing.assert_array_equal(hard[:, 1], 1.)
  assert np.isfinite(g_logits).all() and np.isfinite(g_t).all()
  np.testing.assert_array_equal(g_logits[:, :2], 0.)
  assert 0.3 < hard[:, 2].mean() < 0.7   # the finite logits still sample


def test_conditional_gumbel_keeps_impossible_classes_at_minus_infinity():
  logits = tf.constant(MASKED_LOGITS, tf.float32)
  d = est.gumbel_softmax_st(logits, 1., seed=(3, 1))
  with tf.GradientTape() as tape:
    tape.watch(logits)
    z = est.conditional_gumbel(logits, d, num_samples=50, seed=(3, 2))
    finite_z = tf.where(tf.math.is_finite(z), z, 0.)
  z = z.numpy()
  masked = np.broadcast_to(np.isneginf(MASKED_LOGITS), z.shape)
  assert np.isneginf(z[masked]).all() and np.isfinite(z[~masked]).all()
  np.testing.assert_array_equal(np.argmax(z, -1),
                                np.tile(np.argmax(d.numpy(), -1), [50, 1]))
  grad = tape.gradient(finite_z, logits).numpy()
  assert np.isfinite(grad).all()
  np.testing.assert_array_equal(grad[np.isneginf(MASKED_LOGITS)], 0.)


# What is known when the call is made is checked then, as the layers do: a
# temperature <= 0 (or inf) gave NaN samples, and top_k_st with k > K raised
# TF's bare "input must have at least k columns".
_LOGITS = tf.zeros([2, 3])


def _f(b):
  return tf.reduce_sum(b, axis=-1)


@pytest.mark.parametrize("call", [
    lambda t: tfg.estimators.gumbel_softmax_st(_LOGITS, t),
    lambda t: tfg.estimators.gumbel_sigmoid_st(_LOGITS, t),
    lambda t: tfg.estimators.gumbel_rao(_LOGITS, t),
    lambda t: tfg.estimators.reinmax(_LOGITS, t),
    lambda t: tfg.estimators.top_k_st(_LOGITS, 2, t),
    lambda t: tfg.estimators.plackett_luce_st(_LOGITS, t),
    lambda t: tfg.estimators.gumbel_sinkhorn_st(tf.zeros([3, 3]), t),
    lambda t: tfg.estimators.rebar(_f, _LOGITS, t),
], ids=["gumbel_softmax_st", "gumbel_sigmoid_st", "gumbel_rao", "reinmax",
        "top_k_st", "plackett_luce_st", "gumbel_sinkhorn_st", "rebar"])
@pytest.mark.parametrize("temperature", [0., -1., float("inf"),
                                         np.array([0.5, 0.]),
                                         tf.constant(0.)])
def test_a_known_bad_temperature_is_a_value_error(call, temperature):
  with pytest.raises(ValueError, match="Argument `temperature` must be "
                     "positive"):
    call(temperature)


def test_a_temperature_known_only_at_run_time_is_not_checked_early():
  t = tf.Variable(0.5)
  assert np.all(np.isfinite(tfg.estimators.gumbel_softmax_st(_LOGITS, t)))


@pytest.mark.parametrize("k", [0, 4, 10])
def test_top_k_st_with_k_outside_the_classes_is_a_value_error(k):
  with pytest.raises(ValueError, match=r"`k` must be between 1 and the number "
                     r"of classes K = 3, got " + str(k) + r"\.$"):
    tfg.estimators.top_k_st(_LOGITS, k, 0.5)
