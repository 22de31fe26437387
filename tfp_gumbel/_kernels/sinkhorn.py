"""Sinkhorn normalization in log space, as a solver (Mena et al. 2018).

`log_sinkhorn(xp, x, options)` returns `log P` with `P = diag(exp(f)) exp(x)
diag(exp(g))` doubly stochastic (Sinkhorn 1964: the only such scaling of
`exp(x)`); `solve(xp, x, options)` returns it as a `SinkhornResult` with the
row error reached, the steps taken and whether it converged. Every function
takes the array namespace `xp` first (`tfp_gumbel._backend`).

* `SinkhornOptions(num_iters=None)` (default): solved to `tolerance`, max
  |row sum - 1| at most `tolerance` (`DEFAULT_TOLERANCE`) with columns summing
  to 1 to rounding; or to the float's resolution of `x` where that is coarser
  (about `4 * eps * (max |x| + N)`, e.g. 3e-3 at float32 logits / t of
  6,000). The solver is Newton's method on the dual, `f` alone (`g` is a
  column normalization of `f`): each step solves `(diag(r) - P P^T + 1 1^T /
  N + mu I) df = 1 - r` (`r` the row sums, `mu = err / 10` a
  Levenberg-Marquardt damping; by Cholesky, or by conjugate gradients
  where XLA compiles float32: `_newton_direction`), with a backtracking
  line search on the concave dual `sum f + sum g` and a plain row
  normalization where the search fails. Plain Sinkhorn's rows converge only
  like `2 / rounds` when the perturbed matching is nearly tied (t ~ 0.1);
  Newton's converge
  quadratically near the solution. Low temperatures start hot: the solution
  for `x / s` warm-starts the one for `x / (s / 4)` (epsilon scaling), from
  `s = max |x| / 30` down to 1, so each Newton solve starts near its answer.
  The gradient is implicit: at the solution, `dL/dx = U - P * (a 1^T + 1
  b^T)` with `U = dL/dlog P` and `[[I, P], [P^T, I]] [a; b] = [rowsum U;
  colsum U]`, one `N x N` solve, exact at any step count and O(N^2) memory,
  not the loop's. A solve stopped by `max_iters` says so: `converged` is
  False in its result, and `log_sinkhorn` warns (`SinkhornWarning`) where
  that is known without running anything (eagerly).
* `SinkhornOptions(num_iters=L)`: exactly `L` rounds of row-then-column
  normalization, as in Mena et al. (2018), differentiated through the loop.
  Columns sum to 1 to rounding, rows within `L` rounds' convergence error
  (reported, never warned about: `L` is the caller's choice).

Entries equal to `-inf` stay `-inf` (a forbidden assignment) and get a zero
gradient, as long as the finite entries admit a perfect matching (else no
doubly-stochastic scaling exists and the solver stops at `max_iters`).
"""

import dataclasses
import functools
import typing
import warnings

import numpy as np

from tfp_gumbel import _checks

__all__ = [
    "DEFAULT_TOLERANCE",
    "MAX_ITERS",
    "SinkhornOptions",
    "SinkhornResult",
    "SinkhornWarning",
    "log_sinkhorn",
    "solve",
]

# The default tolerance on max |row sum - 1| of a converged Sinkhorn matrix
# (columns sum to 1 to rounding after every round), by dtype name. In
# float32, summing N entries of at most 1 rounds to within ~sqrt(N) * 1.2e-7
# (1.7e-6 at N = 200), so 1e-5 is the smallest round figure safely above
# rounding at the sizes people use; float64 gets the same margin over its own
# rounding. Where logits / t are large, rounding of `x + f + g` itself (about
# eps * max |x|) sets a higher floor, which the solver uses instead
# (`FLOOR_ULPS`). Other dtypes (the callers compute float16 and bfloat16 in
# float32) get float32's.
DEFAULT_TOLERANCE = {"float32": 1e-5, "float64": 1e-10}
# The cap on Newton steps: the most measured to reach the default tolerance
# was 54 (N = 200, t = 1e-3, float64; N = 5 to 200, t = 10 to 1e-4:
# benchmarks/results/sinkhorn_convergence.md), so 100 is a cap with room
# for harder draws, which only a matrix without a doubly-stochastic scaling
# (no perfect matching among its finite entries) should reach, not a
# budget.
MAX_ITERS = 100

# The tuning of the solver. Each was chosen by reasoning about the solver,
# and the measurements in benchmarks/results/sinkhorn_convergence.md were
# taken with these values.
#
# The float's resolution of exp(x + f + g), in units of eps * (spread of x +
# N): below it a row error is rounding of x itself, not a lack of
# convergence, so the solver stops there where it is coarser than asked.
FLOOR_ULPS = 4
# A hot stage (x / s, s > 1) is only a warm start for the next one, so it
# stops at this row error: near enough for Newton's quadratic convergence,
# without spending steps on digits the next stage recomputes.
STAGE_TOLERANCE = 1e-2
# The first stage's scale is spread / START_SPAN (at least 1): its exp(x / s)
# spans at most e^30 ~ 1e13, within float32's range, so rows and columns do
# not underflow to 0 and Newton from f = 0 converges.
START_SPAN = 30
# Each stage cools the scale by this factor; the potentials scale like
# 1 / temperature, so a stage's solution times the factor starts the next
# one near its answer. A larger factor starts each stage further away, a
# smaller one takes more stages.
COOLING = 4
# At most this many halvings of the Newton step (down to 2^-12 of it): a
# shorter step gains nothing a row normalization (the fallback) would not.
LINE_SEARCH_HALVINGS = 12
# Armijo's sufficient-increase constant, the textbook value (Nocedal &
# Wright): accept any step that gains a small fraction of the slope's gain.
ARMIJO = 1e-4
# Levenberg-Marquardt damping mu = err / DAMPING_DIVISOR (+ N eps for the
# rounding of P P^T): it keeps the Hessian invertible far from the solution
# and vanishes at it, so the last steps stay quadratic.
DAMPING_DIVISOR = 10
# A step that fails Armijo's condition on the dual is still taken where it
# divides the row error by at least this factor: near the solution the
# dual's gain (~err^2) drowns in its rounding (~eps * sum |f|) in float32,
# while the row error still measures progress. A mere decrease is not
# enough: far from the solution, an overshooting full step can lower the
# error by 0.1% and the next one raise it back, a 2-cycle that stopped one
# draw of tests/distributions/test_gumbel_sinkhorn.py's forbidden-entry
# sample at a row error of 0.99 (tests/kernels/test_sinkhorn.py keeps it).
ERROR_DECREASE = 0.5
# The cap on conjugate-gradient rounds per Newton step, in units of N. In
# exact arithmetic CG solves an N x N system in N rounds; in floating point
# it loses orthogonality and needs more where the system is ill-conditioned
# (near-tied matchings): capped at N, 3 of 4 float64 solves at N = 20, t =
# 0.1 stalled at max_iters (tests/kernels/test_sinkhorn.py); at 4 N each took
# the Cholesky solve's step count. Only the hardest systems reach the cap:
# CG stops at its residual target first.
CG_ROUNDS_PER_ROW = 4
# The ridge of the implicit gradient's solve, in units of N eps: I - P P^T
# is singular in the directions that split a near-permutation P, where P
# P^T's rounding (about N eps per entry) would decide the solve.
RIDGE_ULPS = 10


@dataclasses.dataclass(frozen=True)
class SinkhornOptions:
  """How Sinkhorn is solved: validated once, shared by every caller.

  Attributes:
    num_iters: `None` (solved to `tolerance`) or a positive int, a fixed
      number of rounds (one row and one column normalization each).
    tolerance: `None` (`DEFAULT_TOLERANCE` of the dtype: 1e-5 in float32,
      1e-10 in float64) or a float in (0, 1): the largest |row sum - 1|.
    max_iters: positive int, the cap on Newton steps.

  Raises:
    ValueError: `num_iters` or `max_iters` not a positive integer,
      `tolerance` not a float in (0, 1).

  #### Example

  ```python
  options = tfg.estimators.SinkhornOptions(tolerance=1e-4, max_iters=50)
  x = tf.random.stateless_normal([3, 3], seed=(1, 2))
  tfg.estimators.solve_sinkhorn(x, options=options).converged   # True
  ```
  """

  num_iters: typing.Optional[int] = None
  tolerance: typing.Optional[float] = None
  max_iters: int = MAX_ITERS

  def __post_init__(self):
    # The one place the options are checked (frozen: set through object).
    if self.num_iters is not None:
      object.__setattr__(self, "num_iters",
                         _checks.integer(self.num_iters, "num_iters"))
    tolerance = self.tolerance
    if tolerance is not None:
      if (isinstance(tolerance, bool)
          or not isinstance(tolerance, (int, float, np.floating))
          or not 0 < tolerance < 1):
        raise ValueError(
            f"`tolerance` must be a float in (0, 1), got {tolerance!r}.")
      object.__setattr__(self, "tolerance", float(tolerance))
    object.__setattr__(self, "max_iters",
                       _checks.integer(self.max_iters, "max_iters"))


class SinkhornResult(typing.NamedTuple):
  """A Sinkhorn solve: the solution and how far it got.

  Attributes:
    log_p: `[..., N, N]`, the log of the doubly-stochastic matrix.
    error: `[...]`, each matrix's max |row sum - 1| (columns sum to 1 to
      rounding).
    steps: scalar int, the Newton steps (or the rounds) the batch took: the
      loop runs until its slowest matrix is done.
    converged: `[...]` bool, `error <= tolerance`.
    tolerance: `[...]`, the tolerance applied: the one asked, or the float's
      resolution of `x` where that is coarser.

  #### Example

  ```python
  x = tf.random.stateless_normal([2, 4, 4], seed=(1, 2)) / 0.01
  log_p, error, steps, converged, tolerance = tfg.estimators.solve_sinkhorn(x)
  tf.reduce_all(error <= tolerance) and tf.reduce_all(converged)   # True
  ```
  """

  log_p: typing.Any
  error: typing.Any
  steps: typing.Any
  converged: typing.Any
  tolerance: typing.Any


class SinkhornWarning(RuntimeWarning):
  """A Sinkhorn solve stopped at `max_iters` before reaching its tolerance.

  Raised eagerly by the samplers (`GumbelSinkhorn`, `gumbel_sinkhorn_st`,
  the layer) where a sample did not converge; `solve_sinkhorn` reports it
  in its result instead. Make it an error, or silence it, as any warning:

  ```python
  import warnings
  with warnings.catch_warnings():
    warnings.simplefilter("error", tfg.estimators.SinkhornWarning)
    tfg.GumbelSinkhorn(0.5, tf.zeros([4, 4])).sample(seed=(1, 2))
  ```
  """


def log_sinkhorn(xp, x, options=SinkhornOptions()):
  """`log P`, the Sinkhorn normalization of `exp(x)` (module docstring).

  The path of the families, estimators and layers: it computes no report
  beyond what the solver has anyway, and warns (`SinkhornWarning`) where a
  solve to tolerance is known not to have converged.

  Args:
    xp: the array namespace.
    x: float array `[..., N, N]`.
    options: a `SinkhornOptions`.

  Returns:
    An array of the shape and dtype of `x`.
  """
  return xp.on_matrix_batch(
      lambda x: _log_sinkhorn_batch(xp, x, options, report=False).log_p,
      x, extra_axes=1)


def solve(xp, x, options=SinkhornOptions()):
  """The `SinkhornResult` of `x` `[..., N, N]`: `log_p` (with the gradient of
  `log_sinkhorn`), the row error, the steps, whether it converged. Never
  warns: the result says it."""
  return xp.on_matrix_batch(
      lambda x: _log_sinkhorn_batch(xp, x, options, report=True), x,
      extra_axes=1)


@functools.cache
def _compiled(xp, fn):
  """`fn(xp, ...)` as `xp.eager_compiled` makes it, once per namespace."""
  return xp.eager_compiled(functools.partial(fn, xp))


def _log_sinkhorn_batch(xp, x, options, report):
  """The `SinkhornResult` of `x` `[B, N, N]`; with `report=False` its
  fields beyond `log_p` are those the computation gives for free (or None).
  """
  if options.num_iters is not None:
    steps, log_p = _compiled(xp, _sinkhorn_loop)(x, options.num_iters)
    if not report:
      return SinkhornResult(log_p, None, steps, None, None)
    p = xp.exp(xp.stop_gradient(log_p))
    error = xp.max(xp.abs(xp.sum(p, -1) - 1), -1)
    _, spread = _shifted(xp, x)
    tolerance = _applied_tolerance(xp, spread, options.tolerance, x)
    return SinkhornResult(log_p, error, steps, error <= tolerance, tolerance)
  tolerance = options.tolerance
  if tolerance is None:
    tolerance = _default_tolerance(xp, x.dtype)
  solved = _compiled(xp, _solve)(xp.stop_gradient(x), tolerance,
                                 options.max_iters)
  result = solved._replace(log_p=_implicit_gradient(xp, x, solved.log_p))
  if not report:
    _warn_if_not_converged(xp, result, options.max_iters)
  return result


def _default_tolerance(xp, dtype):
  name = str(xp.finfo(dtype).dtype)
  return DEFAULT_TOLERANCE.get(name, DEFAULT_TOLERANCE["float32"])


def _warn_if_not_converged(xp, result, max_iters):
  """Warns where the result is known (eagerly) to have stopped at the cap."""
  converged = xp.eager_value(result.converged)
  if converged is None or np.all(converged):
    return
  error = np.asarray(xp.eager_value(result.error))
  tolerance = np.asarray(xp.eager_value(result.tolerance))
  failed = ~np.asarray(converged)
  warnings.warn(SinkhornWarning(
      f"Sinkhorn stopped at `max_iters` = {max_iters} Newton steps before "
      f"reaching its tolerance in {failed.sum()} of {failed.size} matrices: "
      f"max |row sum - 1| = {error[failed].max():.3g}, tolerance "
      f"{tolerance[failed].max():.3g}. Raise `max_iters`; or the matrix has "
      f"no doubly-stochastic scaling (its finite entries admit no perfect "
      f"matching)."), stacklevel=2)


def _sinkhorn_loop(xp, x, num_iters):
  """`(num_iters, log P)` after `num_iters` rounds (a row then a column
  normalization each)."""

  def sinkhorn_round(i, x):
    x = x - xp.logsumexp(x, axis=-1, keepdims=True)
    return i + 1, x - xp.logsumexp(x, axis=-2, keepdims=True)

  # A while loop, not a Python loop: unrolled, 20 rounds and their gradient
  # compile for a long time under XLA and run slower
  # (benchmarks/results/design_figures.md). `maximum_iterations` makes the
  # loop differentiable in reverse mode.
  return xp.while_loop(lambda i, x: i < num_iters, sinkhorn_round,
                       (xp.constant(0, "int32"), x),
                       maximum_iterations=num_iters)


def _implicit_gradient(xp, x, log_p):
  """`log_p` (the solution for `x`) with the implicit gradient in `x`."""

  @xp.custom_gradient
  def balanced(x):
    del x  # The value is the solver's; the gradient is that of the solution.

    def grad(upstream):
      upstream = xp.where(xp.isfinite(log_p), upstream, 0)
      p = xp.exp(log_p)
      row, col = xp.sum(upstream, -1), xp.sum(upstream, -2)
      # The Schur complement of [[I, P], [P^T, I]]: (I - P P^T) a = row - P
      # col, b = col - P^T a. Its null vector 1 (a + c, b - c give the same
      # gradient) is fixed by adding 1 1^T / N. As t -> 0, P tends to a
      # permutation and I - P P^T to 0 in the directions that split the
      # assignment, where the right-hand side tends to 0 too; the ridge
      # (RIDGE_ULPS N eps, the rounding of P P^T) keeps the solve defined
      # there.
      n = xp.cast(xp.shape(p)[-1], p.dtype)
      ridge = RIDGE_ULPS * n * xp.finfo(p.dtype).eps
      schur = ((1 + ridge) * xp.eye(xp.shape(p)[-1], dtype=p.dtype)
               - xp.matmul_transposed(p, p) + 1 / n)
      a = xp.solve(schur, (row - xp.matvec(p, col))[..., None])[..., 0]
      b = col - xp.matvec(p, a, transpose=True)
      return upstream - p * (a[..., :, None] + b[..., None, :])

    return log_p, grad

  return balanced(x)


def _shifted(xp, x):
  """`x` shifted so its largest finite entry is 0, and the spread of its
  finite entries (per matrix). Shifting by a constant changes no solution
  but keeps exp in range."""
  finite = xp.isfinite(x)
  x = x - xp.max(xp.where(finite, x, -np.inf), [-2, -1], keepdims=True)
  return x, xp.max(xp.where(finite, -x, 0), [-2, -1])


def _applied_tolerance(xp, spread, tolerance, x):
  """Per matrix: `tolerance` (None: the dtype's default), or the float's
  resolution of exp(x + f + g) where coarser."""
  dtype = x.dtype
  if tolerance is None:
    tolerance = _default_tolerance(xp, dtype)
  n = xp.shape(x)[-1]
  floor = FLOOR_ULPS * xp.finfo(dtype).eps * (spread + xp.cast(n, dtype))
  return xp.maximum(xp.constant(tolerance, dtype), floor)


def _solve(xp, x, tolerance, max_iters, matrix_free=None):
  """The solver (module docstring): a `SinkhornResult` of `x` `[B, N, N]`
  without gradient (`_implicit_gradient` attaches it). `matrix_free` picks
  how Newton's equations are solved (`_newton_direction`); None asks the
  namespace which is faster where the code is being compiled."""
  dtype = x.dtype
  if matrix_free is None:
    # float64's tolerance (1e-10) needs Newton steps solved to ~1e-10 on
    # systems whose condition reaches 1 / mu ~ 1e10, where CG stalls: in
    # benchmarks/results/sinkhorn_convergence.md 3 of 21 float64 cases hit
    # max_iters with CG, none with Cholesky. float32 (1e-5) converged in
    # every case with the Cholesky solve's step counts, +-1.
    matrix_free = (xp.prefers_matrix_free_solves()
                   and xp.finfo(dtype).bits <= 32)
  n = xp.shape(x)[-1]
  eps = xp.finfo(dtype).eps
  x, spread = _shifted(xp, x)
  tolerance = _applied_tolerance(xp, spread, tolerance, x)
  stage_tolerance = xp.maximum(tolerance, xp.constant(STAGE_TOLERANCE, dtype))
  potentials = xp.zeros(xp.concat_shapes(xp.shape(spread), [n]), dtype)

  def evaluate(f, scale):
    xs = x / scale[..., None, None]
    g = -xp.logsumexp(xs + f[..., :, None], axis=-2)
    log_p = xs + f[..., :, None] + g[..., None, :]
    p = xp.exp(log_p)
    r = xp.sum(p, -1)
    dual = xp.sum(f, -1) + xp.sum(g, -1)
    return log_p, p, r, dual, xp.max(xp.abs(r - 1), -1)

  def body(step_count, f, scale, done):
    _, p, r, dual, err = evaluate(f, scale)
    hot = scale > 1
    staged = err <= xp.where(hot, stage_tolerance, tolerance)
    # Stage done: cool (the potentials scale with 1 / temperature).
    cooler = xp.maximum(scale / COOLING, 1)
    next_stage_f = f * (scale / cooler)[..., None]
    # Newton's step for the rest, damped (DAMPING_DIVISOR).
    mu = err / DAMPING_DIVISOR + eps * xp.cast(n, dtype)
    direction = _newton_direction(xp, p, r, mu, err, n, matrix_free)
    usable = xp.all(xp.isfinite(direction), -1)
    direction = xp.where(usable[..., None], direction, 0)
    slope = xp.sum(direction * (1 - r), -1)

    def search(k, length, accepted):
      *_, candidate_dual, candidate_err = evaluate(
          f + length[..., None] * direction, scale)
      # Armijo's condition on the dual, or a row error divided by
      # ERROR_DECREASE (see there).
      ok = ((candidate_dual >= dual + ARMIJO * length * slope)
            | (candidate_err < ERROR_DECREASE * err))
      return (k + 1, xp.where(accepted | ok, length, length / 2),
              accepted | ok)

    _, length, accepted = xp.while_loop(
        lambda k, length, accepted: ((k < LINE_SEARCH_HALVINGS)
                                     & ~xp.all(accepted)),
        search, (0, xp.ones_like(err), xp.zeros_like(err, "bool")))
    # Where the solve or the search failed, a row normalization (always an
    # ascent).
    newton_f = xp.where((accepted & usable)[..., None],
                        f + length[..., None] * direction, f - xp.log(r))
    finished = done | (staged & ~hot)
    f = xp.where(finished[..., None], f,
                 xp.where(staged[..., None], next_stage_f, newton_f))
    scale = xp.where(finished, scale, xp.where(staged, cooler, scale))
    return step_count + 1, f, scale, finished

  scale = xp.maximum(spread / START_SPAN, 1)
  steps, f, scale, _ = xp.while_loop(
      lambda i, f, scale, done: (i < max_iters) & ~xp.all(done),
      body, (0, potentials, scale, xp.zeros_like(spread, "bool")))
  # Where the cap came first, the last stage's potentials cooled to t.
  log_p, _, _, _, err = evaluate(f * scale[..., None], xp.ones_like(scale))
  return SinkhornResult(log_p, err, steps, err <= tolerance, tolerance)


def _newton_direction(xp, p, r, mu, err, n, matrix_free):
  """The solution `d` of Newton's equations `H d = 1 - r`, with `H = diag(r)
  - P P^T + 1 1^T / N + mu I` (symmetric positive definite but for
  rounding), per matrix.

  Two ways to one answer (tests/kernels/test_sinkhorn.py checks they agree):
  a Cholesky factorization of `H` where the backend runs a LAPACK-class one
  (TensorFlow graphs and eagerly, PyTorch), or, where XLA compiles the loop
  (`jax.jit`, TensorFlow's `jit_compile`), conjugate gradients on `H`
  applied matrix-free (two matrix-vector products with `P` a round): XLA's
  CPU factorizations are loops of small steps, 30-40x slower than LAPACK's
  at N = 200, while its compiled loops cost little a round, and graph-mode
  TensorFlow is the reverse (benchmarks/results/sinkhorn_backends.md).

  `n` is the solver's `xp.shape(x)[-1]`, taken once outside its loop: a
  shape taken inside it changes how TensorFlow's graph rewrites round the
  Cholesky path (measured: 1-ulp changes of samples for a seed).
  """
  dtype = p.dtype
  rhs = 1 - r
  if not matrix_free:
    hessian = (xp.diagonal_matrix(r) - xp.matmul_transposed(p, p)
               + 1 / xp.cast(n, dtype)
               + mu[..., None, None] * xp.eye(n, dtype=dtype))
    # Cholesky: it returns NaN for a matrix that rounding made indefinite
    # (then the caller takes a row normalization), where LU raises on a
    # singular one and stops the program (measured: in training the sorting
    # network at N = 5, whose logits grow large).
    return xp.cholesky_solve(xp.cholesky(hessian), rhs[..., None])[..., 0]

  def hessian_times(v):
    return ((r + mu[..., None]) * v
            - xp.matvec(p, xp.matvec(p, v, transpose=True))
            + xp.mean(v, -1, keepdims=True))

  # Preconditioned by H's diagonal (Jacobi): rows of very different mass
  # then cost no extra rounds. Inexact Newton (Dembo, Eisenstat & Steihaug
  # 1982): a residual at most min(err, 0.1) of the right-hand side keeps
  # the outer convergence quadratic (measured: the same Newton step counts
  # as the Cholesky solve), and CG_ROUNDS_PER_ROW * N rounds cap it.
  # Every CG iterate from 0 is an ascent direction of the dual, so the line
  # search works with a capped one too.
  inverse_diagonal = 1 / (r - xp.sum(p * p, -1) + 1 / xp.cast(n, dtype)
                          + mu[..., None])
  target = (xp.minimum(err, 0.1) ** 2) * xp.sum(rhs * rhs, -1)

  # The loop carries the residual's squared norm, which both the stopping
  # test and the per-matrix `active` read.
  def cg_round(k, d, residual, norm2, search, rz):
    active = norm2 > target
    h_search = hessian_times(search)
    alpha = xp.where(active, rz / xp.sum(search * h_search, -1), 0)
    d = d + alpha[..., None] * search
    residual = residual - alpha[..., None] * h_search
    z = inverse_diagonal * residual
    rz_next = xp.sum(residual * z, -1)
    beta = xp.where(active, rz_next / rz, 0)
    return (k + 1, d, residual, xp.sum(residual * residual, -1),
            z + beta[..., None] * search, rz_next)

  def unfinished(k, d, residual, norm2, search, rz):
    del d, residual, search, rz
    return (k < CG_ROUNDS_PER_ROW * n) & xp.any(norm2 > target)

  z = inverse_diagonal * rhs
  _, d, *_ = xp.while_loop(
      unfinished, cg_round,
      (0, xp.zeros_like(rhs), rhs, xp.sum(rhs * rhs, -1), z,
       xp.sum(rhs * z, -1)))
  return d
