"""tfp_gumbel._kernels.sinkhorn: the options, the result, the warning, the
solution's properties, and that the module needs no TensorFlow."""

import functools
import subprocess
import sys
import warnings

import numpy as np
import pytest
import tensorflow as tf

import tfp_gumbel as tfg
from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel._kernels import sinkhorn
from tfp_gumbel.distributions import gumbel_sinkhorn as gumbel_sinkhorn_module

Options = sinkhorn.SinkhornOptions


def hard_input(dtype=tf.float32, t=1e-3):
  """Scores at t = 1e-3: epsilon scaling takes many steps, so one is not
  enough."""
  logits = 3. * tf.random.stateless_normal([3, 6, 6], seed=(1, 7),
                                           dtype=dtype)
  return logits / t


# -- the options -------------------------------------------------------------

@pytest.mark.parametrize("kwargs,match", [
    (dict(num_iters=0), "`num_iters` must be a positive integer, got 0."),
    (dict(num_iters=-1), "`num_iters` must be a positive integer, got -1."),
    (dict(num_iters=2.5), "`num_iters` must be a positive integer, got 2.5."),
    (dict(num_iters=True), "`num_iters` must be a positive integer, got True."),
    (dict(num_iters="3"), "`num_iters` must be a positive integer, got '3'."),
    (dict(max_iters=0), "`max_iters` must be a positive integer, got 0."),
    (dict(max_iters=10.), "`max_iters` must be a positive integer, got 10.0."),
    (dict(max_iters=None), "`max_iters` must be a positive integer, got None."),
    (dict(tolerance=0.), r"`tolerance` must be a float in \(0, 1\), got 0.0."),
    (dict(tolerance=1), r"`tolerance` must be a float in \(0, 1\), got 1."),
    (dict(tolerance=-1e-3), r"`tolerance` must be a float in \(0, 1\)"),
    (dict(tolerance=True), r"`tolerance` must be a float in \(0, 1\)"),
    (dict(tolerance="0.1"), r"`tolerance` must be a float in \(0, 1\)"),
])
def test_options_reject_each_bad_argument_with_its_own_text(kwargs, match):
  with pytest.raises(ValueError, match=f"^{match}"):
    Options(**kwargs)


def test_options_defaults_normalized_and_frozen():
  assert Options() == Options(None, None, sinkhorn.MAX_ITERS)
  options = Options(np.int64(3), np.float32(0.5), np.int32(7))
  assert (type(options.num_iters), type(options.tolerance),
          type(options.max_iters)) == (int, float, int)
  assert options == Options(3, 0.5, 7)
  with pytest.raises(AttributeError):
    options.num_iters = 4


def _callers():
  """Every public entry point of the options, called with `kwargs`."""
  x = tf.zeros([3, 3])
  return {
      "GumbelSinkhorn": lambda **kw: tfg.GumbelSinkhorn(1., x, **kw),
      "gumbel_sinkhorn_st": lambda **kw: tfg.estimators.gumbel_sinkhorn_st(
          x, 1., seed=(1, 2), **kw),
      "solve_sinkhorn": lambda **kw: tfg.estimators.solve_sinkhorn(x, **kw),
      "log_sinkhorn": lambda **kw: gumbel_sinkhorn_module
                                   .log_sinkhorn(x, **kw),
      "layers.GumbelSinkhorn": lambda **kw: tfg.layers.GumbelSinkhorn(**kw),
  }


@pytest.mark.parametrize("caller", sorted(_callers()))
@pytest.mark.parametrize("kwargs,match", [
    (dict(num_iters=0), "`num_iters` must be a positive integer"),
    (dict(max_iters=0), "`max_iters` must be a positive integer"),
    (dict(tolerance=1.5), r"`tolerance` must be a float in \(0, 1\)"),
])
def test_one_rule_for_every_caller(caller, kwargs, match):
  # One validation (SinkhornOptions), one text: num_iters >= 1 everywhere.
  with pytest.raises(ValueError, match=match):
    _callers()[caller](**kwargs)


def test_solve_sinkhorn_takes_options_or_arguments_not_both():
  x = tf.zeros([3, 3])
  a = tfg.estimators.solve_sinkhorn(x, options=Options(num_iters=4))
  assert int(a.steps) == 4
  with pytest.raises(ValueError, match="either `options`"):
    tfg.estimators.solve_sinkhorn(x, num_iters=4, options=Options())


# -- the result --------------------------------------------------------------

@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_result_at_defaults_converged(dtype):
  x = 3. * tf.random.stateless_normal([4, 5, 5], seed=(2, 3), dtype=dtype) / .1
  result = sinkhorn.solve(tf_xp, x)
  tolerance = sinkhorn.DEFAULT_TOLERANCE[dtype.name]
  assert result.converged.shape == result.error.shape == [4]
  assert result.converged.numpy().all()
  assert 1 <= int(result.steps) < sinkhorn.MAX_ITERS
  # The tolerance asked, or the float's resolution of x where coarser.
  spread = np.ptp(x.numpy(), axis=(-2, -1))
  floor = 4 * np.finfo(dtype.as_numpy_dtype).eps * (spread + 5)
  np.testing.assert_allclose(result.tolerance, np.maximum(tolerance, floor),
                             rtol=1e-6)
  p = np.exp(result.log_p.numpy())
  eps = np.finfo(dtype.as_numpy_dtype).eps
  np.testing.assert_allclose(result.error, np.abs(p.sum(-1) - 1).max(-1),
                             atol=10 * eps)


def test_capped_solve_reports_and_warns_only_where_it_returns_a_sample():
  x = hard_input(tf.float64)
  with warnings.catch_warnings():
    warnings.simplefilter("error")   # solve() reports; it never warns
    result = sinkhorn.solve(tf_xp, x, Options(max_iters=1))
  assert int(result.steps) == 1
  assert not result.converged.numpy().any()
  assert (result.error.numpy() > result.tolerance.numpy()).all()
  with pytest.warns(sinkhorn.SinkhornWarning) as caught:
    log_p = sinkhorn.log_sinkhorn(tf_xp, x, Options(max_iters=1))
  np.testing.assert_array_equal(log_p, result.log_p)
  text = str(caught[0].message)
  assert "`max_iters` = 1" in text
  assert f"{result.error.numpy().max():.3g}" in text
  assert f"{result.tolerance.numpy().max():.3g}" in text
  assert issubclass(sinkhorn.SinkhornWarning, RuntimeWarning)
  assert tfg.estimators.SinkhornWarning is sinkhorn.SinkhornWarning


@pytest.mark.parametrize("caller", [
    "GumbelSinkhorn", "gumbel_sinkhorn_st", "layers.GumbelSinkhorn"])
def test_capped_sample_warns_eagerly_not_in_tf_function(caller):
  # float32 at t = 1e-3: the float's resolution of x is a tolerance of
  # ~6e-3, which one step reaches in some draws, not in all 4 x 8 x 8.
  logits = 3. * tf.random.stateless_normal([4, 8, 8], seed=(1, 7))
  t = 1e-3
  layer = tfg.layers.GumbelSinkhorn(t, max_iters=1, seed=3)
  calls = {
      "GumbelSinkhorn": lambda l: tfg.GumbelSinkhorn(
          t, l, max_iters=1).sample(seed=(1, 2)),
      "gumbel_sinkhorn_st": lambda l: tfg.estimators.gumbel_sinkhorn_st(
          l, t, seed=(1, 2), max_iters=1),
      "layers.GumbelSinkhorn": lambda l: layer(l, training=True),
  }
  with pytest.warns(sinkhorn.SinkhornWarning, match="`max_iters`"):
    calls[caller](logits)
  with warnings.catch_warnings():
    warnings.simplefilter("error", sinkhorn.SinkhornWarning)
    tf.function(calls[caller])(logits)   # traced: nothing known, no warning


def test_converged_sample_does_not_warn():
  with warnings.catch_warnings():
    warnings.simplefilter("error", sinkhorn.SinkhornWarning)
    tfg.GumbelSinkhorn(0.5, tf.zeros([2, 4, 4])).sample(3, seed=(1, 2))


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_forbidden_entries_do_not_trap_newton_in_a_cycle(dtype):
  # A draw of the forbidden-entry sample (test_gumbel_sinkhorn.py) on which
  # full Newton steps alternated, each lowering or raising the row error by
  # 0.1%, while a mere decrease of the error was accepted: the solve stopped
  # at max_iters with a row error of 0.99. Its finite entries have total
  # support, so the scaling exists (plain Sinkhorn reaches it).
  x = tf.constant([[3.5197377, -np.inf, 1.2797077],
                   [-1.1750314, -0.4344055, -np.inf],
                   [3.09427, 8.7446995, 1.3237232]], dtype)
  result = tfg.estimators.solve_sinkhorn(x)
  assert bool(result.converged)
  p = tf.exp(result.log_p).numpy()
  np.testing.assert_allclose(p.sum(-1), 1., atol=float(result.tolerance))
  np.testing.assert_allclose(p.sum(-2), 1., atol=float(result.tolerance))
  assert p[0, 1] == 0 and p[1, 2] == 0


# -- Newton's equations, solved two ways --------------------------------------

def _newton_system(dtype, n, t):
  """The solver's system at a point short of the solution: P after two
  Sinkhorn rounds of 3 z / t (rows off by up to ~0.1-1)."""
  x = 3. * tf.random.stateless_normal([4, n, n], seed=(n, 5), dtype=dtype) / t
  for _ in range(2):
    x = x - tf.reduce_logsumexp(x, -1, keepdims=True)
    x = x - tf.reduce_logsumexp(x, -2, keepdims=True)
  p = tf.exp(x)
  r = tf.reduce_sum(p, -1)
  err = tf.reduce_max(tf.abs(r - 1), -1)
  eps = np.finfo(dtype.as_numpy_dtype).eps
  return p, r, err / 10 + n * eps, err


@pytest.mark.parametrize("dtype,rtol", [(tf.float32, 1e-3),
                                        (tf.float64, 1e-9)])
@pytest.mark.parametrize("n,t", [(5, 1.), (30, 1.), (30, .3)])
def test_newton_directions_by_cholesky_and_by_cg_agree(dtype, rtol, n, t):
  # The same system, factorized and by conjugate gradients asked for a
  # residual of 1e-12 of the right-hand side (err = 1e-12): the directions
  # agree to the rounding of the system's condition (float32: ~1e-4 at
  # these draws; float64 ~1e-12).
  p, r, mu, _ = _newton_system(dtype, n, t)
  tiny = tf.fill(tf.shape(mu), tf.constant(1e-12, dtype))
  direction = functools.partial(sinkhorn._newton_direction, tf_xp, p, r, mu,  # pylint: disable=protected-access
                                tiny, tf.shape(p)[-1])
  dense, iterative = direction(matrix_free=False), direction(matrix_free=True)
  np.testing.assert_allclose(iterative, dense,
                             atol=rtol * float(tf.reduce_max(tf.abs(dense))))


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
@pytest.mark.parametrize("case", ["t=0.1", "t=1e-3", "forbidden"])
def test_the_solver_reaches_one_solution_by_either_solve(dtype, case):
  if case == "forbidden":
    x = tf.constant([[3.5197377, -np.inf, 1.2797077],
                     [-1.1750314, -0.4344055, -np.inf],
                     [3.09427, 8.7446995, 1.3237232]], dtype)[None]
  elif case == "t=1e-3":
    x = hard_input(dtype)
  else:
    # Draws on which CG capped at N rounds (not CG_ROUNDS_PER_ROW * N)
    # stalled in float64.
    x = 3. * tf.random.stateless_normal([4, 20, 20], seed=(4, 1),
                                        dtype=dtype) / .1
  tolerance = sinkhorn.DEFAULT_TOLERANCE[dtype.name]
  results = [sinkhorn._solve(tf_xp, x, tolerance, sinkhorn.MAX_ITERS,  # pylint: disable=protected-access
                             matrix_free=matrix_free)
             for matrix_free in (False, True)]
  for result in results:
    assert result.converged.numpy().all()
  # Both within the tolerance of the one doubly-stochastic scaling.
  atol = 2 * float(tf.reduce_max(results[0].tolerance))
  np.testing.assert_allclose(tf.exp(results[1].log_p), tf.exp(results[0].log_p),
                             atol=atol)
  # Inexact Newton with a residual of min(err, 0.1) keeps the step count.
  assert abs(int(results[1].steps) - int(results[0].steps)) <= 2


def test_the_solve_is_matrix_free_where_xla_compiles():
  seen = {}

  def record(mode):
    seen[mode] = tf_xp.prefers_matrix_free_solves()
    return tf.constant(0.)

  record("eager")
  tf.function(lambda: record("graph"))()
  tf.function(lambda: record("xla"), jit_compile=True)()
  assert seen == {"eager": False, "graph": False, "xla": True}


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
@pytest.mark.parametrize("num_iters", [1, 7])
def test_fixed_rounds_report_their_rows_and_steps(dtype, num_iters):
  x = hard_input(dtype, t=0.3)
  result = sinkhorn.solve(tf_xp, x, Options(num_iters=num_iters))
  assert int(result.steps) == num_iters
  np.testing.assert_array_equal(
      result.log_p,
      sinkhorn.log_sinkhorn(tf_xp, x, Options(num_iters=num_iters)))
  p = np.exp(result.log_p.numpy())
  np.testing.assert_allclose(result.error, np.abs(p.sum(-1) - 1).max(-1),
                             atol=10 * np.finfo(dtype.as_numpy_dtype).eps)
  np.testing.assert_array_equal(result.converged,
                                result.error.numpy()
                                <= result.tolerance.numpy())
  assert not result.converged.numpy().all()   # t = 0.3: rows are off
  many = sinkhorn.solve(tf_xp, x / 30, Options(num_iters=500))
  assert many.converged.numpy().all()


def test_result_keeps_the_batch_shape_on_the_one_batch_axis_path():
  # Rank 8 + the solver's extra axis exceeds the kernels' rank: the batch is
  # flattened and every field reshaped back.
  x = 3. * tf.random.stateless_normal([2, 1, 2, 1, 1, 2, 4, 4], seed=(4, 4))
  result = sinkhorn.solve(tf_xp, x)
  assert result.log_p.shape == x.shape
  assert result.error.shape == result.converged.shape == x.shape[:-2]
  assert result.steps.shape == []
  flat = sinkhorn.solve(tf_xp, tf.reshape(x, [-1, 4, 4]))
  np.testing.assert_array_equal(result.log_p, tf.reshape(flat.log_p, x.shape))
  np.testing.assert_array_equal(result.error,
                                tf.reshape(flat.error, x.shape[:-2]))


# -- the solution (moved from tests/distributions/test_gumbel_sinkhorn.py) ---

def test_permuting_rows_and_columns_permutes_the_sinkhorn_output():
  # S(Pi X Q) = Pi S(X) Q exactly (up to rounding) for permutation matrices.
  x = np.random.RandomState(0).randn(8, 6, 6) * 3.
  rows, cols = np.random.RandomState(1).permutation(6), [5, 0, 3, 1, 2, 4]
  log_sinkhorn = gumbel_sinkhorn_module.log_sinkhorn
  a = log_sinkhorn(tf.constant(x), 20).numpy()
  b = log_sinkhorn(tf.constant(x[:, rows][:, :, cols]), 20).numpy()
  np.testing.assert_allclose(b, a[:, rows][:, :, cols], atol=1e-12)
  np.testing.assert_array_equal(
      a, sinkhorn.log_sinkhorn(tf_xp, tf.constant(x), Options(num_iters=20)))


def test_implicit_gradient_is_the_limit_of_the_unrolled_one():
  # At t = 1 plain Sinkhorn converges in a few hundred rounds, and the
  # gradient through 2,000 unrolled rounds is the implicit one (float64).
  logits = tf.constant(np.random.RandomState(2).randn(3, 6, 6), tf.float64)
  weights = tf.constant(np.random.RandomState(3).randn(6, 6), tf.float64)

  def gradient(**kwargs):
    with tf.GradientTape() as tape:
      tape.watch(logits)
      p = tf.exp(sinkhorn.log_sinkhorn(tf_xp, logits, Options(**kwargs)))
      loss = tf.reduce_sum(p * weights)
    return tape.gradient(loss, logits).numpy()

  np.testing.assert_allclose(gradient(), gradient(num_iters=2000),
                             atol=1e-10)


def test_solve_sinkhorn_gradient_is_log_sinkhorns():
  x = tf.constant(np.random.RandomState(5).randn(2, 4, 4) / 0.2)
  weights = tf.constant(np.random.RandomState(6).randn(4, 4))

  def gradient(fn):
    with tf.GradientTape() as tape:
      tape.watch(x)
      loss = tf.reduce_sum(tf.exp(fn(x)) * weights)
    return tape.gradient(loss, x).numpy()

  np.testing.assert_array_equal(
      gradient(lambda x: tfg.estimators.solve_sinkhorn(x).log_p),
      gradient(lambda x: sinkhorn.log_sinkhorn(tf_xp, x)))


# -- no TensorFlow -----------------------------------------------------------

def test_kernel_modules_import_no_tensorflow():
  code = ("import sys, tfp_gumbel._kernels.sinkhorn, "
          "tfp_gumbel._kernels.matching\n"
          "print([m for m in ('tensorflow', 'tensorflow_probability', 'keras',"
          " 'tf_keras') if m in sys.modules])")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, check=True, timeout=120)
  assert out.stdout.strip() == "[]", out.stdout + out.stderr
