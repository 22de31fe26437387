"""RelaxedTopK: the subset law at small t, the k = 1 law, numerics, TFP behaviour."""

import itertools

import numpy as np
import pytest
from scipy import special
from scipy import stats
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg
from tfp_gumbel._kernels import noise
from tfp_gumbel._backend import tensorflow as tf_xp

tfd = tfp.distributions

PROBS = np.array([0.05, 0.1, 0.2, 0.25, 0.4])


def reference_relaxed_top_k(keys, k, t):
  """Xie & Ermon (2019), Algorithm 2, as written: plain softmaxes in float64."""
  alpha = np.asarray(keys, np.float64)
  t = np.asarray(t, np.float64)[..., None]
  khot = np.zeros_like(alpha)
  for j in range(k):
    a = special.softmax(alpha / t, axis=-1)
    khot += a
    if j < k - 1:
      alpha = alpha + np.log1p(-a)
  return khot


def subset_probs_by_enumeration(probs, k):
  """{sorted k-subset: P(first k items of PlackettLuce(probs) = subset)}.

  Sums `tfd.PlackettLuce(probs).prob` over all K! permutations.
  """
  perms = np.array(list(itertools.permutations(range(len(probs)))))
  p = tfd.PlackettLuce(tf.constant(probs, tf.float64)).prob(perms).numpy()
  assert abs(p.sum() - 1.) < 1e-12
  result = {}
  for perm, q in zip(perms, p):
    key = tuple(sorted(perm[:k]))
    result[key] = result.get(key, 0.) + q
  return result


def chisquare_of_subsets(x, k, expected_probs):
  subsets = np.sort(np.argsort(-x, axis=-1)[:, :k], axis=-1)
  keys = sorted(expected_probs)
  index = {s: i for i, s in enumerate(keys)}
  counts = np.bincount([index[tuple(s)] for s in subsets], minlength=len(keys))
  expected = len(x) * np.array([expected_probs[s] for s in keys])
  return stats.chisquare(counts, expected).pvalue


def test_subset_probabilities_enumeration_matches_closed_form():
  # P({i, j}) = p_i p_j / (1 - p_i) + p_j p_i / (1 - p_j): an independent
  # check of the enumeration the law test relies on.
  probs = subset_probs_by_enumeration(PROBS, 2)
  assert len(probs) == 10
  for (i, j), q in probs.items():
    p = PROBS
    np.testing.assert_allclose(
        q, p[i] * p[j] / (1 - p[i]) + p[j] * p[i] / (1 - p[j]), rtol=1e-12)


def test_small_temperature_subset_law_is_plackett_luce_top_k():
  # K = 5, k = 2: 10 subsets, N = 20000 draws at t = 1e-3. The k largest
  # coordinates of a sample give its subset; under the Gumbel-top-k law the
  # chi-square p-value is uniform, so with this fixed seed a correct sampler
  # fails p > 1e-3 with probability 1e-3 (measured p = 0.95). Power: the
  # "independent pairs" law p_i p_j / Z, a plausible mistake, differs by up
  # to 20% per subset and is rejected at p < 1e-10 (asserted below).
  n, k = 20_000, 2
  d = tfg.RelaxedTopK(1e-3, k, probs=PROBS.astype(np.float32))
  x = d.sample(n, seed=(7, 11)).numpy()
  # At t = 1e-3 the samples are k-hot to within 1e-2 except where two keys
  # are within ~t log(1/t) of each other (measured: 99.1% are).
  near_khot = np.all(np.minimum(np.abs(x), np.abs(x - 1.)) < 1e-2, axis=-1)
  assert near_khot.mean() > 0.98
  expected = subset_probs_by_enumeration(PROBS, k)
  p_value = chisquare_of_subsets(x, k, expected)
  assert p_value > 1e-3, p_value
  wrong = {s: PROBS[s[0]] * PROBS[s[1]] for s in expected}
  total = sum(wrong.values())
  wrong = {s: q / total for s, q in wrong.items()}
  assert chisquare_of_subsets(x, k, wrong) < 1e-10


@pytest.mark.parametrize("temperature", [0.2, 1.0])
def test_k1_marginals_follow_gumbel_softmax(temperature):
  # With k = 1 the sample is a Gumbel-Softmax sample. Two-sample KS, per
  # coordinate, against softmax((log p + G) / t) drawn with NumPy's own
  # Gumbel generator (independent of tfp_gumbel's noise); 4000 draws each.
  # Each p-value is uniform for a correct sampler (fixed seeds), so
  # min over 5 > 1e-3 fails with probability 0.5% (measured min 0.15 at
  # t = 0.2, 0.13 at t = 1). Power: k = 2 samples
  # halved (same mean) are rejected at p < 1e-6 (asserted below).
  n = 4000
  x = tfg.RelaxedTopK(tf.constant(temperature, tf.float64), 1,
                      probs=PROBS).sample(n, seed=(3, 5)).numpy()
  gumbel = np.random.default_rng(0).gumbel(size=[n, len(PROBS)])
  reference = special.softmax((np.log(PROBS) + gumbel) / temperature, -1)
  p_values = [stats.ks_2samp(x[:, i], reference[:, i]).pvalue
              for i in range(len(PROBS))]
  assert min(p_values) > 1e-3, p_values
  wrong = tfg.RelaxedTopK(tf.constant(temperature, tf.float64), 2,
                          probs=PROBS).sample(n, seed=(3, 5)).numpy() / 2.
  assert min(stats.ks_2samp(wrong[:, i], reference[:, i]).pvalue
             for i in range(len(PROBS))) < 1e-6


def test_k1_is_gumbel_softmax_with_the_same_noise():
  logits = [[0., 1., -2., 3.], [1., 1., 1., 1.]]
  ours = tfg.RelaxedTopK(0.3, 1, logits=logits).sample(50, seed=(1, 2))
  theirs = tfg.GumbelSoftmax(0.3, logits=logits).sample(50, seed=(1, 2))
  np.testing.assert_allclose(ours, theirs, atol=1e-6)


# k = 9 > 8 runs the while-loop branch, the others the unrolled one.
@pytest.mark.parametrize("k,temperature", [(1, 0.5), (3, 0.3), (3, 1.0),
                                           (5, 2.0), (9, 0.7)])
def test_matches_the_plain_recursion_on_the_same_noise(k, temperature):
  # At moderate t the plain float64 transcription of the paper's algorithm
  # is accurate, so ours (log space) must agree with it to rounding.
  logits = np.random.RandomState(k).normal(size=[3, 10])
  t = np.array([temperature, 2 * temperature, temperature / 2])
  ours = tfg.RelaxedTopK(t, k, logits=logits).sample(200, seed=(k, 4))
  keys = logits + noise.gumbel(tf_xp, [200, 3, 10], (k, 4), tf.float64).numpy()
  np.testing.assert_allclose(ours, reference_relaxed_top_k(keys, k, t),
                             rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_samples_sum_to_k_and_are_non_negative(dtype):
  k, num_classes = 4, 30
  logits = np.random.RandomState(0).normal(size=[2, num_classes]) * 3.
  d = tfg.RelaxedTopK(np.array([0.05, 3.], dtype), k, logits=logits.astype(dtype))
  x = d.sample(500, seed=(1, 2))
  assert x.dtype == dtype and x.shape == (500, 2, num_classes)
  # Each of the k softmaxes sums to 1 within 10 eps (1 + log2 K).
  eps = np.finfo(dtype).eps
  tol = k * 10. * eps * (1. + np.log2(num_classes))
  np.testing.assert_allclose(np.sum(x, -1), k, atol=tol, rtol=0)
  assert np.all(x.numpy() >= 0.)


def test_temperature_limits():
  logits = [0., 1., 2., -1., 0.5, 3.]
  cold = tfg.RelaxedTopK(1e-3, 3, logits=logits).sample(200, seed=(1, 2))
  frac_near_khot = np.mean(np.all(
      np.minimum(np.abs(cold), np.abs(cold - 1.)) < 1e-3, axis=-1))
  assert frac_near_khot > 0.98
  hot = tfg.RelaxedTopK(1e4, 3, logits=logits).sample(200, seed=(1, 2))
  np.testing.assert_allclose(hot, 0.5, atol=1e-3)  # k / K


def test_finite_at_extreme_temperature_and_logits():
  logits = tf.Variable([[1e3, -1e3, 0., 1e3 - 1e-3, -5., 2.],
                        [-1e3, -1e3, -1e3, -1e3, 1e3, 1e3]])
  t = tf.Variable([1e-3, 1e-3])
  with tf.GradientTape() as tape:
    x = tfg.RelaxedTopK(t, 3, logits=logits).sample(1000, seed=(5, 6))
    loss = tf.reduce_sum(x * tf.range(6.))
  grads = tape.gradient(loss, [logits, t])
  assert np.isfinite(x.numpy()).all()
  for g in grads:
    assert np.isfinite(g.numpy()).all()
  np.testing.assert_allclose(tf.reduce_sum(x, -1), 3., atol=1e-5)


def test_masked_classes_are_never_chosen():
  logits = tf.Variable([0., -np.inf, 1., -np.inf, 0.5])
  t = tf.Variable(0.5)
  with tf.GradientTape() as tape:
    x = tfg.RelaxedTopK(t, 3, logits=logits).sample(500, seed=(2, 2))
    loss = tf.reduce_sum(x * [1., 2., 3., 4., 5.])
  g_logits, g_t = tape.gradient(loss, [logits, t])
  assert np.all(x.numpy()[:, [1, 3]] == 0.)
  np.testing.assert_allclose(tf.reduce_sum(x, -1), 3., atol=1e-5)
  assert np.all(g_logits.numpy()[[1, 3]] == 0.)
  assert np.isfinite(g_logits.numpy()).all() and np.isfinite(g_t.numpy())
  # probs = 0 is the same mask.
  y = tfg.RelaxedTopK(0.5, 2, probs=[0.5, 0., 0.5]).sample(100, seed=(1, 1))
  assert np.all(y.numpy()[:, 1] == 0.)


def test_gradients_match_finite_differences():
  logits = np.array([[0.3, -1., 2., 0.5, 1.2]])
  t = np.array([0.7])

  def f(logits, t):
    x = tfg.RelaxedTopK(t, 2, logits=logits).sample(3, seed=(4, 2))
    return tf.reduce_sum(x * tf.constant([1., -2., 3., 0.5, -1.], tf.float64))

  theoretical, numerical = tf.test.compute_gradient(
      f, [tf.constant(logits), tf.constant(t)], delta=1e-6)
  for th, nu in zip(theoretical, numerical):
    np.testing.assert_allclose(th, nu, rtol=1e-5, atol=1e-7)


def test_log_prob_raises():
  d = tfg.RelaxedTopK(0.5, 2, logits=[0., 1., 2.])
  with pytest.raises(NotImplementedError, match="no tractable density"):
    d.log_prob([1., 1., 0.])


@pytest.mark.parametrize("k", [0, 4, -1])
def test_static_k_out_of_range_names_k(k):
  with pytest.raises(ValueError, match="`k`"):
    tfg.RelaxedTopK(0.5, k, logits=[0., 1., 2.])


@pytest.mark.parametrize("k", [1.5, True, tf.constant(2.)])
def test_non_integer_k_names_k(k):
  with pytest.raises(TypeError, match="`k`"):
    tfg.RelaxedTopK(0.5, k, logits=[0., 1., 2.])


def test_dynamic_k_is_validated_and_agrees_with_static_k():
  logits = tf.constant([[0., 1., 2., -1.], [1., 0., 0., 0.]])

  @tf.function(input_signature=[tf.TensorSpec([], tf.int32)])
  def sample(k):
    d = tfg.RelaxedTopK(0.4, k, logits=logits, validate_args=True)
    return d.sample(20, seed=(1, 2))

  np.testing.assert_allclose(
      sample(tf.constant(3)),
      tfg.RelaxedTopK(0.4, 3, logits=logits).sample(20, seed=(1, 2)),
      rtol=1e-6)
  with pytest.raises(tf.errors.InvalidArgumentError, match="`k`"):
    sample(tf.constant(5))
  with pytest.raises(tf.errors.InvalidArgumentError, match="`k`"):
    sample(tf.constant(0))


@pytest.mark.parametrize("static", [True, False])
def test_while_loop_branch_differentiates_under_xla(static):
  # XLA needs a bound on the loop's iterations to keep its gradient
  # accumulators: k - 1 for a static k, K - 1 for a dynamic one.
  logits = tf.constant(np.random.RandomState(2).normal(size=[4, 30]),
                       tf.float32)
  weights = tf.range(30.)

  def grad(t, k):
    with tf.GradientTape() as tape:
      tape.watch([logits, t])
      x = tfg.RelaxedTopK(t, 12 if static else k, logits=logits).sample(
          seed=(1, 2))
      loss = tf.reduce_sum(x * weights)
    return tape.gradient(loss, [logits, t])

  t, k = tf.constant(0.5), tf.constant(12)
  eager = grad(t, k)
  for a, b in zip(tf.function(grad, jit_compile=True)(t, k), eager):
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def test_invalid_temperature_is_named():
  with pytest.raises(tf.errors.InvalidArgumentError, match="`temperature`"):
    tfg.RelaxedTopK(-1., 2, logits=[0., 1., 2.], validate_args=True)


def test_tfp_behaviour_shapes_slicing_copy():
  d = tfg.RelaxedTopK([0.5, 1., 2.], 2, logits=np.zeros([4, 3, 6], np.float32))
  assert d.batch_shape == (4, 3) and d.event_shape == (6,)
  assert d.sample([2, 5], seed=(1, 2)).shape == (2, 5, 4, 3, 6)
  sliced = d[1:, 2]
  assert sliced.batch_shape == (3,) and sliced.k == 2
  np.testing.assert_allclose(sliced.temperature, 2.)
  copied = d.copy(k=3)
  assert copied.k == 3 and copied.batch_shape == (4, 3)
  assert tf.reduce_sum(copied.sample(seed=(1, 1))[0, 0]).numpy() == \
      pytest.approx(3., abs=1e-5)
  assert tfg.RelaxedTopK(0.5, 2, probs=[[0.2, 0.3, 0.5]]).logits is None


def test_variables_stay_variables_and_get_gradients():
  t = tf.Variable(0.5)
  logits = tf.Variable([0., 1., 2., 3.])
  d = tfg.RelaxedTopK(t, 2, logits=logits)
  assert len(d.trainable_variables) == 2
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(d.sample(10, seed=(1, 2)) * [1., 2., 3., 4.])
  g_t, g_logits = tape.gradient(loss, [t, logits])
  assert g_t is not None and g_logits is not None
  t.assign(1e4)  # the Variable is read at every use
  np.testing.assert_allclose(d.sample(seed=(1, 2)), 0.5, atol=1e-3)


def test_stateless_seed_tf_function_and_xla_agree():
  logits = tf.constant(np.random.RandomState(0).normal(size=[3, 8]),
                       tf.float32)
  t = tf.constant([0.1, 0.5, 2.])

  def sample(logits, t):
    return tfg.RelaxedTopK(t, 3, logits=logits).sample(16, seed=(1, 2))

  eager = sample(logits, t)
  np.testing.assert_array_equal(eager, sample(logits, t))
  np.testing.assert_allclose(tf.function(sample)(logits, t), eager, rtol=1e-5)
  np.testing.assert_allclose(
      tf.function(sample, jit_compile=True)(logits, t), eager,
      rtol=1e-4, atol=1e-6)
  assert not np.allclose(
      eager, tfg.RelaxedTopK(t, 3, logits=logits).sample(16, seed=(1, 3)))


def test_composite_tensor_through_tf_function():
  d = tfg.RelaxedTopK(0.5, 2, logits=[0., 1., 2.])

  @tf.function
  def sample(dist):
    return dist.sample(4, seed=(1, 2))

  np.testing.assert_allclose(sample(d), d.sample(4, seed=(1, 2)), rtol=1e-6)
