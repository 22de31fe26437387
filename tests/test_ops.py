"""`tfg.ops` on whichever backend Keras runs.

1. On the same uniform draws (injected into both namespaces' `uniform_open`,
   as tests/kernels/test_namespaces.py does) each function equals the
   TensorFlow path (`tfg.estimators`, or the kernels with TensorFlow's
   namespace) to a few ulps, value and gradient, in float32 and float64;
   skipped where TensorFlow is not installed.
2. The hard samples have the discrete laws they stand for (chi-square tests
   against the enumerated probabilities, fixed seeds).
3. Gradients: straight-through's is the relaxed sample's, impossible classes
   get exactly 0, nothing is NaN at t = 1e-3 with |logits| = 1e3.
4. Under JAX (or PyTorch) importing and calling `tfp_gumbel.ops` imports no
   TensorFlow (a fresh process), and a `jax.jit` step threading a
   SeedGenerator's state draws new noise at each step.
"""

import itertools
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

keras = pytest.importorskip("keras")

from tests import any_backend  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel import ops  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._backend import keras_ops  # pylint: disable=g-import-not-at-top,wrong-import-position

BACKEND = keras.backend.backend()
INF = np.inf


_np = any_backend.to_numpy
_value_and_grad = any_backend.value_and_grad


# 1. The TensorFlow path on the same noise.


class _Uniforms:
  """`uniform_open(shape, seed, dtype)` returning the given draws in order
  (each of the size asked for), made into tensors by `to_tensor`."""

  def __init__(self, draws, to_tensor):
    self._draws = list(draws)
    self._to_tensor = to_tensor

  def __call__(self, shape, seed, dtype):
    del seed
    shape = tuple(int(d) for d in shape)
    u = self._draws.pop(0)
    assert u.size == math.prod(shape), (u.shape, shape)
    return self._to_tensor(u.reshape(shape), dtype)


@pytest.fixture(name="same_noise")
def _same_noise(monkeypatch):
  """`same_noise(*draws)`: both namespaces' next draws are `draws`."""
  tf = pytest.importorskip("tensorflow")
  from tfp_gumbel._backend import tensorflow as tf_xp  # pylint: disable=g-import-not-at-top

  def inject(*draws):
    monkeypatch.setattr(tf_xp, "uniform_open", _Uniforms(
        draws, lambda u, dtype: tf.constant(u, tf.as_dtype(dtype))))
    monkeypatch.setattr(keras_ops, "uniform_open", _Uniforms(
        draws, lambda u, dtype: keras.ops.convert_to_tensor(u, dtype)))
  return inject


def _tf_value_and_grad(f, x, weights):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  x = tf.constant(x)
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = f(x)
    loss = tf.reduce_sum(y * tf.cast(weights, y.dtype))
  return y.numpy(), tape.gradient(loss, x).numpy()


def _uniforms(rng, shape, dtype):
  return rng.uniform(1e-6, 1., shape).astype(dtype)


def _categorical_inputs(dtype, shape=(3, 2, 5)):
  rng = np.random.default_rng(0)
  logits = (2. * rng.standard_normal(shape)).astype(dtype)
  logits[0, 1, 2] = -INF             # impossible classes, a mask per row
  logits[1, :, :2] = -INF
  temperature = rng.uniform(0.3, 2., shape[:-1]).astype(dtype)
  return rng, logits, temperature


def _reference_cases(dtype):
  """name -> (keras function of logits, TF function of logits, logits,
  draws): each function gets the same draws on both paths."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tfp_gumbel as tfg  # pylint: disable=g-import-not-at-top
  from tfp_gumbel._backend import tensorflow as tf_xp  # pylint: disable=g-import-not-at-top
  from tfp_gumbel._kernels import binary, categorical, masking, noise, sinkhorn, sorting, subsets  # pylint: disable=g-import-not-at-top,line-too-long

  rng, logits, t = _categorical_inputs(dtype)
  u = _uniforms(rng, logits.shape, dtype)
  u_conditional = _uniforms(rng, (4,) + logits.shape, dtype)
  t_k = t[..., None]

  def perturbed(x):
    return x + noise.gumbel(tf_xp, x.shape, None, x.dtype)

  cases = {}
  cases["gumbel_softmax"] = (
      lambda x: ops.gumbel_softmax(x, t),
      lambda x: categorical.gumbel_softmax_sample(tf_xp, x, tf.constant(t_k),
                                                  1, None)[0],
      logits, [u])
  cases["gumbel_softmax st"] = (
      lambda x: ops.gumbel_softmax(x, t, hard=True),
      lambda x: tfg.estimators.gumbel_softmax_st(x, t), logits, [u])
  cases["gumbel_softmax gumbel_rao"] = (
      lambda x: ops.gumbel_softmax(x, t, hard=True, estimator="gumbel_rao",
                                   num_samples=4),
      lambda x: tfg.estimators.gumbel_rao(x, t, num_samples=4),
      logits, [u, u_conditional])
  cases["gumbel_softmax reinmax"] = (
      lambda x: ops.gumbel_softmax(x, t, hard=True, estimator="reinmax"),
      lambda x: tfg.estimators.reinmax(x, t), logits, [u])

  binary_logits = logits[..., 0].copy()
  binary_logits[2, 0] = INF
  u_binary = u[..., 0].copy()
  cases["gumbel_sigmoid"] = (
      lambda x: ops.gumbel_sigmoid(x, t),
      lambda x: tf.math.sigmoid(binary.relaxed_log_odds(
          tf_xp, x + noise.logistic(tf_xp, x.shape, None, x.dtype), t,
          tf.math.is_inf(x))),
      binary_logits, [u_binary])
  cases["gumbel_sigmoid hard"] = (
      lambda x: ops.gumbel_sigmoid(x, t, hard=True),
      lambda x: tfg.estimators.gumbel_sigmoid_st(x, t), binary_logits,
      [u_binary])

  # At most 3 impossible classes in a row of 5: k = 2 is always possible.
  cases["relaxed_top_k"] = (
      lambda x: ops.relaxed_top_k(x, 2, t),
      lambda x: subsets.relaxed_top_k(tf_xp, perturbed(x), 2, t_k),
      logits, [u])
  cases["relaxed_top_k hard"] = (
      lambda x: ops.relaxed_top_k(x, 2, t, hard=True),
      lambda x: tfg.estimators.top_k_st(x, 2, t), logits, [u])

  cases["neural_sort"] = (
      lambda x: ops.neural_sort(x, t),
      lambda x: sorting.neural_sort(tf_xp, x, t), logits, [])
  cases["relaxed_sort"] = (
      lambda x: ops.relaxed_sort(x, t),
      lambda x: sorting.neural_sort(tf_xp, perturbed(x), t), logits, [u])
  cases["relaxed_sort hard"] = (
      lambda x: ops.relaxed_sort(x, t, hard=True),
      lambda x: tfg.estimators.plackett_luce_st(x, t), logits, [u])

  matrices = (2. * rng.standard_normal((2, 4, 4))).astype(dtype)
  matrices[0, 1, 2] = -INF           # a forbidden assignment
  t_matrix = np.asarray([0.5, 1.3], dtype)
  u_matrix = _uniforms(rng, matrices.shape, dtype)
  for mode, options in [("rounds", dict(num_iters=15)), ("tolerance", {})]:
    solver = sinkhorn.SinkhornOptions(**options)
    cases[f"sinkhorn {mode}"] = (
        lambda x, o=options: ops.sinkhorn(x / 0.5, **o),
        lambda x, o=options: tfg.estimators.solve_sinkhorn(x / 0.5,
                                                           **o).log_p,
        matrices, [])
    cases[f"gumbel_sinkhorn {mode}"] = (
        lambda x, o=options: ops.gumbel_sinkhorn(x, t_matrix, **o),
        lambda x, s=solver: tf.exp(sinkhorn.log_sinkhorn(
            tf_xp, categorical.tempered(
                tf_xp, perturbed(x), t_matrix[:, None, None],
                masking.possible(tf_xp, x)), s)),
        matrices, [u_matrix])
    cases[f"gumbel_sinkhorn {mode} hard"] = (
        lambda x, o=options: ops.gumbel_sinkhorn(x, t_matrix, hard=True, **o),
        lambda x, o=options: tfg.estimators.gumbel_sinkhorn_st(
            x, t_matrix, **o),
        matrices, [u_matrix])
  cases["matching"] = (ops.matching, tfg.estimators.matching, matrices, [])
  return cases


def _assert_close(got, expected, maxulp):
  assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
  np.testing.assert_array_equal(np.isfinite(got), np.isfinite(expected))
  np.testing.assert_array_equal(got[~np.isfinite(got)],
                                expected[~np.isfinite(expected)])
  got, expected = (np.where(np.isfinite(a), a, 0.) for a in (got, expected))
  # Ulps of the larger magnitude: near 0, a difference of a few ulps of the
  # terms that cancelled there.
  scale = np.maximum(np.abs(expected), np.abs(got)).max()
  np.testing.assert_allclose(got, expected, rtol=0,
                             atol=maxulp * np.finfo(got.dtype).eps * scale)


# The keys of `_reference_cases` (listed here: it needs TensorFlow).
_CASES = [
    "gumbel_softmax", "gumbel_softmax st", "gumbel_softmax gumbel_rao",
    "gumbel_softmax reinmax", "gumbel_sigmoid", "gumbel_sigmoid hard",
    "relaxed_top_k", "relaxed_top_k hard", "neural_sort", "relaxed_sort",
    "relaxed_sort hard", "sinkhorn rounds", "sinkhorn tolerance",
    "gumbel_sinkhorn rounds", "gumbel_sinkhorn rounds hard",
    "gumbel_sinkhorn tolerance", "gumbel_sinkhorn tolerance hard",
    "matching"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", _CASES)
def test_equals_the_tensorflow_path_on_the_same_noise(case, dtype,
                                                      same_noise):
  keras_fn, tf_fn, x, draws = _reference_cases(dtype)[case]
  assert sorted(_reference_cases(dtype)) == sorted(_CASES)
  shape = x.shape[:-1] + (x.shape[-1],) * 2 if "sort" in case else x.shape
  weights = np.random.default_rng(1).standard_normal(shape)
  if case == "matching":  # no gradient
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    _assert_close(_np(keras_fn(keras.ops.convert_to_tensor(x))),
                  tf_fn(tf.constant(x)).numpy(), 0)
    return
  same_noise(*draws)
  expected, expected_grad = _tf_value_and_grad(tf_fn, x, weights)
  same_noise(*draws)
  got, grad = _value_and_grad(keras_fn, x, weights)
  _assert_close(got, expected, 4)
  _assert_close(grad, expected_grad, 4)


# 2. The laws of the hard samples.


def _counts(outcomes, num_outcomes):
  return np.bincount(outcomes, minlength=num_outcomes)


def test_gumbel_softmax_hard_is_categorical():
  logits = np.asarray([0.5, -1., 1.5, -INF, 0.], "float32")
  n = 20000
  d = _np(ops.gumbel_softmax(np.broadcast_to(logits, (n, 5)), 0.7, seed=3,
                             hard=True))
  np.testing.assert_array_equal(d.sum(-1), 1.)
  counts = _counts(d.argmax(-1), 5)
  assert counts[3] == 0                             # the impossible class
  probs = np.exp(logits[[0, 1, 2, 4]])
  probs /= probs.sum()
  assert stats.chisquare(counts[[0, 1, 2, 4]], n * probs).pvalue > 1e-3


def test_gumbel_sigmoid_hard_is_bernoulli():
  logits = np.asarray([-1., 0.3, 2.], "float32")
  n = 20000
  b = _np(ops.gumbel_sigmoid(np.broadcast_to(logits, (n, 3)), 0.5, seed=4,
                             hard=True))
  p = 1. / (1. + np.exp(-logits))
  for ones, p_one in zip(b.sum(0), p):
    assert stats.chisquare([ones, n - ones], [n * p_one, n * (1 - p_one)]
                           ).pvalue > 1e-3


def _plackett_luce(logits):
  """{permutation: probability} of PlackettLuce(exp(logits))."""
  law = {}
  for order in itertools.permutations(range(len(logits))):
    rest, p = list(order), 1.
    for item in order:
      weights = np.exp(logits[rest])
      p *= np.exp(logits[item]) / weights.sum()
      rest.remove(item)
    law[order] = p
  return law


def test_relaxed_top_k_hard_subsets_are_gumbel_top_k():
  logits = np.asarray([0.5, -1., 1.5, 0.], "float32")
  n, k = 20000, 2
  mask = _np(ops.relaxed_top_k(np.broadcast_to(logits, (n, 4)), k, 0.5,
                               seed=5, hard=True))
  np.testing.assert_array_equal(mask.sum(-1), k)
  subsets = list(itertools.combinations(range(4), k))
  observed = [np.all(mask[:, list(s)] == 1, axis=-1).sum() for s in subsets]
  law = _plackett_luce(logits.astype("float64"))
  expected = [n * sum(p for order, p in law.items()
                      if set(order[:k]) == set(s)) for s in subsets]
  assert stats.chisquare(observed, expected).pvalue > 1e-3


def test_relaxed_sort_hard_is_plackett_luce():
  log_scores = np.asarray([0.5, -1., 1.5, -INF], "float32")
  n = 20000
  p = _np(ops.relaxed_sort(np.broadcast_to(log_scores, (n, 4)), 0.5, seed=6,
                           hard=True))
  np.testing.assert_array_equal(p.sum(-1), 1.)
  np.testing.assert_array_equal(p.sum(-2), 1.)
  orders = p.argmax(-1)                             # [n, rank] -> item
  np.testing.assert_array_equal(orders[:, 3], 3)    # the absent item: last
  law = _plackett_luce(log_scores[:3].astype("float64"))
  perms = list(law)
  index = {order: i for i, order in enumerate(perms)}
  observed = _counts([index[tuple(o)] for o in orders[:, :3]], len(perms))
  assert stats.chisquare(observed, [n * law[o] for o in perms]).pvalue > 1e-3
  # The first rank alone is softmax(log_scores).
  first = _counts(orders[:, 0], 3)
  probs = np.asarray([sum(p for o, p in law.items() if o[0] == i)
                      for i in range(3)])
  assert stats.chisquare(first, n * probs).pvalue > 1e-3


def test_gumbel_sinkhorn_hard_is_a_permutation_matrix():
  logits = np.random.default_rng(0).standard_normal((3, 4, 4)).astype(
      "float32")
  logits[0, 0, 0] = -INF
  p = _np(ops.gumbel_sinkhorn(logits, 0.5, seed=7, hard=True))
  np.testing.assert_array_equal(p.sum(-1), 1.)
  np.testing.assert_array_equal(p.sum(-2), 1.)
  assert p[0, 0, 0] == 0.


# 3. Gradients.

_K = 5


def _hard_and_soft(name):
  """(relaxed function, hard function) of logits `[2, 5]` (or `[2, 4, 4]`),
  seeded alike: the same noise."""
  return {
      "gumbel_softmax": lambda x, **kw: ops.gumbel_softmax(x, 0.6, seed=11,
                                                           **kw),
      "gumbel_sigmoid": lambda x, **kw: ops.gumbel_sigmoid(x, 0.6, seed=11,
                                                           **kw),
      "relaxed_top_k": lambda x, **kw: ops.relaxed_top_k(x, 2, 0.6, seed=11,
                                                         **kw),
      "relaxed_sort": lambda x, **kw: ops.relaxed_sort(x, 0.6, seed=11, **kw),
      "gumbel_sinkhorn": lambda x, **kw: ops.gumbel_sinkhorn(
          x, 0.6, seed=11, num_iters=20, **kw),
  }[name]


_NAMES = ["gumbel_softmax", "gumbel_sigmoid", "relaxed_top_k", "relaxed_sort",
          "gumbel_sinkhorn"]


def _logits_for(name, scale=2., dtype="float32"):
  rng = np.random.default_rng(2)
  shape = (2, 4, 4) if name == "gumbel_sinkhorn" else (2, _K)
  return (scale * rng.standard_normal(shape)).astype(dtype)


@pytest.mark.parametrize("name", _NAMES)
def test_straight_through_gradient_is_the_relaxed_samples(name):
  fn = _hard_and_soft(name)
  x = _logits_for(name)
  soft, soft_grad = _value_and_grad(fn, x, _weights_like(fn, x))
  hard, hard_grad = _value_and_grad(lambda x: fn(x, hard=True), x,
                                    _weights_like(fn, x))
  assert set(np.unique(hard)) <= {0., 1.}
  assert not np.array_equal(soft, hard)
  np.testing.assert_array_equal(hard_grad, soft_grad)


def _weights_like(fn, x):
  shape = np.shape(_np(fn(keras.ops.convert_to_tensor(x))))
  return np.random.default_rng(3).standard_normal(shape)


@pytest.mark.parametrize("estimator", ops.ESTIMATORS)
@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_impossible_class_gets_zero_gradient(hard, estimator):
  x = _logits_for("gumbel_softmax")
  x[0, 1] = x[1, 3] = -INF
  y, grad = _value_and_grad(
      lambda x: ops.gumbel_softmax(x, 0.6, seed=12, hard=hard,
                                   estimator=estimator),
      x, np.random.default_rng(3).standard_normal(x.shape))
  assert y[0, 1] == 0. and y[1, 3] == 0.
  assert grad[0, 1] == 0. and grad[1, 3] == 0.
  assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("name", _NAMES[1:])
def test_impossible_entries_get_zero_gradient(name, hard):
  fn = _hard_and_soft(name)
  x = _logits_for(name)
  if name == "gumbel_sinkhorn":
    x[0, 1, 2] = -INF
    at = (0, 1, 2)
  else:
    x[0, 1] = -INF
    at = (0, 1)
  y, grad = _value_and_grad(lambda x: fn(x, hard=hard), x,
                            _weights_like(fn, x))
  assert np.all(np.isfinite(y)) and np.all(np.isfinite(grad))
  assert grad[at] == 0.
  if name == "gumbel_sigmoid":
    assert y[at] == 0.
  elif name == "relaxed_top_k":
    assert y[at] == 0.
  elif name == "relaxed_sort":
    np.testing.assert_array_equal(y[0, :, 1], np.eye(_K)[-1])  # ranked last
  else:
    assert y[at] == 0.


@pytest.mark.parametrize("name, hard", [
    (name, hard) for name in _NAMES + ["gumbel_rao", "reinmax"]
    for hard in (False, True)] + [("neural_sort", False), ("sinkhorn", False)])
def test_finite_at_low_temperature_and_large_logits(name, hard):
  t = 1e-3
  if name in ("gumbel_rao", "reinmax"):
    fn = lambda x: ops.gumbel_softmax(x, t, seed=13, hard=hard,  # pylint: disable=g-long-lambda
                                      estimator=name)
  elif name == "neural_sort":
    fn = lambda x: ops.neural_sort(x, t)
  elif name == "sinkhorn":
    fn = lambda x: ops.sinkhorn(x / t)
  else:
    fn = {
        "gumbel_softmax": lambda x: ops.gumbel_softmax(x, t, seed=13,
                                                       hard=hard),
        "gumbel_sigmoid": lambda x: ops.gumbel_sigmoid(x, t, seed=13,
                                                       hard=hard),
        "relaxed_top_k": lambda x: ops.relaxed_top_k(x, 2, t, seed=13,
                                                     hard=hard),
        "relaxed_sort": lambda x: ops.relaxed_sort(x, t, seed=13, hard=hard),
        "gumbel_sinkhorn": lambda x: ops.gumbel_sinkhorn(x, t, seed=13,
                                                         hard=hard),
    }[name]
  x = _logits_for("gumbel_sinkhorn" if "sinkhorn" in name else
                  "gumbel_softmax", scale=1e3)
  y, grad = _value_and_grad(fn, x, _weights_like(fn, x))
  assert np.all(np.isfinite(y))
  assert np.all(np.isfinite(grad))


# Narrow dtypes, seeds, arguments.


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_narrow_dtypes_are_computed_in_float32_and_rounded_once(dtype):
  x = _logits_for("gumbel_softmax")
  narrow = keras.ops.cast(x, dtype)
  wide = keras.ops.cast(narrow, "float32")
  for fn in [lambda x: ops.gumbel_softmax(x, 0.5, seed=1),
             lambda x: ops.gumbel_softmax(x, 0.5, seed=1, hard=True,
                                          estimator="gumbel_rao"),
             lambda x: ops.relaxed_top_k(x, 2, 0.5, seed=1),
             lambda x: ops.relaxed_sort(x, 0.5, seed=1)]:
    got = fn(narrow)
    assert keras.backend.standardize_dtype(got.dtype) == dtype
    np.testing.assert_array_equal(
        _np(keras.ops.cast(got, "float32")),
        _np(keras.ops.cast(keras.ops.cast(fn(wide), dtype), "float32")))


def test_seeds():
  x = _logits_for("gumbel_softmax")
  same = [_np(ops.gumbel_softmax(x, 0.5, seed=1)) for _ in range(2)]
  np.testing.assert_array_equal(*same)
  fresh = [_np(ops.gumbel_softmax(x, 0.5)) for _ in range(2)]
  assert not np.array_equal(*fresh)
  generator = keras.random.SeedGenerator(1)
  stream = [_np(ops.gumbel_softmax(x, 0.5, seed=generator))
            for _ in range(2)]
  assert not np.array_equal(*stream)
  # A SeedGenerator's first draw is its seed's: what keras.random does.
  np.testing.assert_array_equal(
      _np(ops.gumbel_softmax(x, 0.5, seed=keras.random.SeedGenerator(1))),
      same[0])


def test_gumbel_rao_int_seed_draws_independent_conditional_noise():
  # With one int seed used twice, the conditional draws would repeat the
  # hard sample's uniforms; `_seeds` derives a second seed.
  seeds = ops._seeds(5, 2)  # pylint: disable=protected-access
  assert seeds[0] == 5 and seeds[1] != 5
  assert ops._seeds(5, 2) == seeds  # pylint: disable=protected-access


@pytest.mark.parametrize("call, message", [
    (lambda: ops.gumbel_softmax([0., 1.], 0.5, estimator="rebar"),
     "Unknown estimator 'rebar'"),
    (lambda: ops.gumbel_softmax([0., 1.], 0.), "`temperature` must be positive"),
    (lambda: ops.gumbel_softmax(1., 0.5), "classes on its last axis"),
    (lambda: ops.gumbel_softmax([0., 1.], 0.5, hard=True,
                                estimator="gumbel_rao", num_samples=0),
     "`num_samples` must be a positive integer"),
    (lambda: ops.gumbel_softmax([0., 1.], 0.5, seed=(1, 2)), "`seed` must be"),
    (lambda: ops.relaxed_top_k([0., 1.], 3, 0.5), "`k` must be between"),
    (lambda: ops.sinkhorn(np.zeros((2, 3))), "must be square"),
    (lambda: ops.sinkhorn(np.zeros((3, 3)), num_iters=0),
     "`num_iters` must be a positive integer"),
    (lambda: ops.gumbel_sinkhorn(np.zeros((3, 3)), 0.5, tolerance=2.),
     "`tolerance` must be a float in"),
])
def test_argument_errors_name_the_argument(call, message):
  with pytest.raises(ValueError, match=message):
    call()


def test_sinkhorn_is_doubly_stochastic():
  x = np.random.default_rng(0).standard_normal((2, 5, 5)).astype("float32")
  p = np.exp(_np(ops.sinkhorn(x / 0.05)))
  # The documented tolerance: 1e-5, or the float's resolution of x / 0.05
  # (4 eps (spread + N), 4e-5 here) where coarser.
  spread = np.ptp(x / 0.05, axis=(-2, -1), keepdims=True)[..., 0]
  tolerance = np.maximum(1e-5, 4 * np.finfo("float32").eps * (spread + 5))
  assert np.all(np.abs(p.sum(-1) - 1) <= tolerance)
  assert np.all(np.abs(p.sum(-2) - 1) <= 2e-6)   # columns: to rounding
  np.testing.assert_array_equal(
      _np(ops.matching(x)), np.round(np.exp(_np(ops.sinkhorn(x / 1e-3)))))


# 4. Other backends: no TensorFlow, compiled steps.


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_other_backends_import_no_tensorflow(backend):
  pytest.importorskip(backend)
  code = (
      "import sys\n"
      "import keras\n"
      "import tfp_gumbel.ops as ops\n"
      f"assert keras.backend.backend() == {backend!r}\n"
      "x = keras.ops.convert_to_tensor([[0., 1., 2.], [1., -1., 0.]])\n"
      "ops.gumbel_softmax(x, 0.5)\n"
      "ops.gumbel_softmax(x, 0.5, seed=1, hard=True, estimator='gumbel_rao')\n"
      "ops.gumbel_softmax(x, 0.5, seed=1, hard=True, estimator='reinmax')\n"
      "ops.gumbel_sigmoid(x, 0.5, hard=True)\n"
      "ops.relaxed_top_k(x, 2, 0.5, hard=True)\n"
      "ops.relaxed_sort(x, 0.5, hard=True)\n"
      "m = keras.ops.convert_to_tensor([[0., 2., 1.], [1., 0., 0.], "
      "[0., 1., 3.]])\n"
      "ops.sinkhorn(m), ops.sinkhorn(m, num_iters=5), ops.matching(m)\n"
      "ops.gumbel_sinkhorn(m, 0.5, hard=True)\n"
      "print(sorted(n for n in ('tensorflow', 'tensorflow_probability') "
      "if n in sys.modules))\n")
  env = dict(os.environ, KERAS_BACKEND=backend)
  out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, env=env, timeout=300, check=False)
  assert out.returncode == 0, out.stderr[-3000:]
  assert out.stdout.strip().splitlines()[-1] == "[]"


def test_jax_jit_step_threads_the_seed_generator_state():
  if BACKEND != "jax":
    pytest.skip("a JAX-backend test")
  import jax  # pylint: disable=g-import-not-at-top
  generator = keras.random.SeedGenerator(0)
  logits = keras.ops.convert_to_tensor(_logits_for("gumbel_softmax"))

  @jax.jit
  def step(state, logits):
    # Keras's stateless style: the state goes in, the advanced state out.
    with keras.StatelessScope(state_mapping=[(generator.state, state)]) as scope:
      def loss(logits):
        d = ops.gumbel_softmax(logits, 0.5, seed=generator, hard=True,
                               estimator="gumbel_rao", num_samples=3)
        return keras.ops.sum(d * keras.ops.arange(_K, dtype="float32")), d
      (_, d), grad = jax.value_and_grad(loss, has_aux=True)(logits)
      soft = ops.gumbel_softmax(logits, 0.5, seed=generator)
      new_state = scope.get_current_value(generator.state)
    return soft, d, grad, new_state

  state = generator.state.value
  softs = []
  for _ in range(3):
    soft, d, grad, state = step(state, logits)
    softs.append(np.asarray(soft))
    np.testing.assert_array_equal(np.asarray(d).sum(-1), 1.)
    assert np.all(np.isfinite(np.asarray(grad)))
  assert not np.array_equal(softs[0], softs[1])
  assert not np.array_equal(softs[1], softs[2])


def test_tensorflow_compiled_step_advances_the_seed_generator():
  if BACKEND != "tensorflow":
    pytest.skip("a TensorFlow-backend test")
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  generator = keras.random.SeedGenerator(0)
  logits = tf.constant(_logits_for("gumbel_softmax"))

  @tf.function(jit_compile=True)
  def step(logits):
    return ops.gumbel_softmax(logits, 0.5, seed=generator, hard=True,
                              estimator="reinmax")

  draws = [step(logits).numpy() for _ in range(8)]
  assert len({d.tobytes() for d in draws}) > 1
