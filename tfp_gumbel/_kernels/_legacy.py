"""The pure math of the package: Tensors in, Tensors out, no distribution.

Every family, estimator and layer computes its samples with these functions,
and nothing here imports a distribution, an estimator or a layer, so any of
them can use any kernel without reaching into another's module. A kernel
takes Tensors of one floating dtype and computes in it (the callers choose
the compute dtype, float32 for float16/bfloat16, and round once); entries of
-inf are impossible classes or forbidden assignments, which stay exactly
zero in the output with exactly zero gradient.

| kernel | what it computes | used by |
|---|---|---|
| `one_hot_argmax` | `one_hot(argmax(x))` | estimators, `tfp_gumbel.unbiased` |
| `conditional_gumbel` | Gumbel-perturbed logits given their argmax | `gumbel_rao`, REBAR, RELAX |
| `tempered` | `(logits + g) / t` with exact -inf (zero gradient) at impossible entries | GumbelSinkhorn, `gumbel_sinkhorn_st`, `tempered_softmax` |
| `tempered_softmax` | `softmax((logits + g) / t)` over the possible classes | estimators, `gumbel_softmax_sample` |
| `gumbel_softmax_sample` | Gumbel-Softmax samples (or their logs) | ExpRelaxedGumbelSoftmax, GumbelSoftmax |
| `log_sinkhorn` | Sinkhorn normalization in log space: to a tolerance (`solve_sinkhorn`, Newton's method, implicit gradient) or a fixed number of rounds | GumbelSinkhorn, `gumbel_sinkhorn_st`, layers.GumbelSinkhorn |
| `matching` | the maximum-weight matching (scipy) | the same, at t -> 0 |
| `log_simplex_log_prob` | the ExpConcrete log-density | ExpRelaxedGumbelSoftmax, GumbelSoftmax |

ARCHITECTURE.md places this module among the others.
"""

import math

import numpy as np
import tensorflow as tf

from tfp_gumbel import _noise
from tfp_gumbel import _params

__all__ = [
    "check_num_iters",
    "check_sinkhorn_options",
    "conditional_gumbel",
    "gumbel_softmax_sample",
    "log_simplex_log_prob",
    "log_sinkhorn",
    "matching",
    "one_hot_argmax",
    "solve_sinkhorn",
    "tempered",
    "tempered_softmax",
]


def tempered(x, temperature, possible=None):
  """`x / t` where `possible`, exactly -inf elsewhere, with a zero gradient
  there for `x` and `t`.

  `x` is typically `logits + g` with `g` Gumbel noise. Where `possible` is
  False `x` is not read (it may be -inf or NaN there, as `-inf - (-inf)` is):
  it is replaced by 0 before the division and the scaled score by -inf
  after it (without the inner `where`, d/dt would be `-inf * 0 = NaN`).
  `possible=None` means every entry is possible (no masking ops: eagerly
  they would cost more than the rest of a small sample).
  """
  if possible is None:
    return _params.divide_by_temperature(x, temperature)
  x = tf.where(possible, x, tf.zeros([], x.dtype))
  return (_params.divide_by_temperature(x, temperature)
          + _params.impossible_bias(possible, x.dtype))


def tempered_softmax(x, temperature, possible=None, log=False):
  """`softmax(x / t)` (or its log) over the `possible` classes, exactly 0
  (-inf) elsewhere, with a zero gradient there (`tempered`)."""
  scores = tempered(x, temperature, possible)
  return _params.softmax(scores, log=log)


def gumbel_softmax_sample(logits, temperature, n, seed, log=False):
  """`n` draws of `softmax((logits + g) / t)` (or their log), g Gumbel.

  `temperature` broadcasts against `logits` (the class axis included). The
  impossible classes (logit -inf) are exactly 0 (-inf) with zero gradient
  (`tempered_softmax`).
  """
  u = _noise.uniform_open(_params.sample_shape(n, logits, temperature), seed,
                         logits.dtype)
  # logits + g with g = -log(-log u) (`_noise.gumbel`), written as one
  # subtraction: the same numbers (negation is exact), one eager op fewer.
  perturbed = logits - tf.math.log(-tf.math.log(u))
  return tempered_softmax(perturbed, temperature,
                          _params.possible_or_none(logits), log=log)


def one_hot_argmax(x):
  """`one_hot(argmax(x))` in the dtype of `x` (ties: the first maximum)."""
  return tf.one_hot(tf.argmax(x, axis=-1), tf.shape(x)[-1], dtype=x.dtype)


def conditional_gumbel(logits, sample, num_samples, seed=None):
  """Perturbed logits `logits + g`, `g ~ Gumbel(0, 1)`, given their argmax.

  Draws `num_samples` vectors `z = logits + g` from the conditional law of
  i.i.d. standard Gumbel perturbations given `argmax(z) = argmax(sample)`:
  the maximum is `M = logsumexp(logits) + Gumbel` (the law of the max of
  Gumbels, independent of the argmax), and every other coordinate is a
  Gumbel with location `logits_k` truncated to lie below `M`:

  ```none
  z_D = logsumexp(logits) + g_D
  z_k = -logaddexp(-(logits_k + g_k), -z_D),   k != D
  ```

  (the top-down construction of Maddison et al. 2014, as used by Paulus et
  al. 2021). It is computed in log space, so it is finite for any finite
  logits; an impossible class (logit -inf) gets exactly -inf.

  Args:
    logits: float Tensor `[..., K]`.
    sample: one-hot Tensor `[..., K]` (broadcasting with `logits`), the
      argmax to condition on.
    num_samples: Python int, the number of conditional draws.
    seed: TFP seed.

  Returns:
    Tensor `[num_samples, ..., K]` of perturbed logits whose argmax is the
    one of `sample`.

  #### Example

  ```python
  logits = tf.constant([[0., 1., -float("inf")]])
  z = tfg.estimators.conditional_gumbel(logits, [[0., 1., 0.]], 5, seed=(1, 2))
  tf.argmax(z, axis=-1)   # all 1; z[..., 2] is -inf
  ```
  """
  # Any dtype that casts to bool (a float, int or bool one-hot), as before.
  sample = tf.convert_to_tensor(sample, dtype_hint=logits.dtype)
  # One batch axis: the logsumexp of pairs below stacks an axis on
  # [num_samples, ..., K], and TF's CPU SelectV2 takes at most 8 dimensions.
  # The noise is drawn for the flat shape, the same numbers (Philox fills a
  # shape in row-major order), and the draws are put back in the batch's shape.
  (logits, sample), batch_shape = _params.flatten_batch([logits, sample],
                                                        [1, 1])
  batch_shape = tf.concat([batch_shape, tf.shape(logits)[-1:]], axis=0)
  g = _noise.gumbel(tf.concat([[num_samples], tf.shape(logits)], axis=0),
                    seed, logits.dtype)
  return tf.reshape(_conditional_gumbel(logits, sample, g),
                    tf.concat([[num_samples], batch_shape], axis=0))


def _conditional_gumbel(logits, sample, g):
  """`conditional_gumbel` for `logits` and `sample` `[B, K]`, noise `g`."""
  is_top = tf.cast(sample, tf.bool)
  top = (tf.reduce_logsumexp(logits, axis=-1, keepdims=True)
         + tf.reduce_sum(tf.where(is_top, g, 0.), axis=-1, keepdims=True))
  # An impossible class stays at -inf; its logit is replaced by 0 inside the
  # logsumexp, whose gradient at an infinite argument is NaN.
  possible = _params.possible(logits)
  finite_logits = tf.where(possible, logits, tf.zeros([], logits.dtype))
  below = -tf.reduce_logsumexp(
      tf.stack([-(finite_logits + g), -tf.broadcast_to(top, tf.shape(g))],
               axis=-1),
      axis=-1)
  below = tf.where(possible, below, tf.constant(-float("inf"), logits.dtype))
  return tf.where(is_top, top, below)


# Permutations (Mena et al. 2018).

def check_num_iters(num_iters, minimum=1, name="num_iters"):
  if (isinstance(num_iters, bool)
      or not isinstance(num_iters, (int, np.integer)) or num_iters < minimum):
    kind = "a positive" if minimum else "a non-negative"
    raise ValueError(
        f"`{name}` must be {kind} integer, got {num_iters!r}.")
  return int(num_iters)


# The default tolerance on max |row sum - 1| of a converged Sinkhorn matrix
# (columns sum to 1 to rounding after every round). In float32, summing N
# entries of at most 1 rounds to within ~sqrt(N) * 1.2e-7 (1.7e-6 at
# N = 200), so 1e-5 is the smallest round figure safely above rounding at
# the sizes people use; float64 gets the same margin over its own rounding.
# Where logits / t are large, rounding of `x + f + g` itself (about
# eps * max |x|) sets a higher floor, which the solver uses instead.
SINKHORN_TOLERANCE = {tf.float32: 1e-5, tf.float64: 1e-10}
# Newton iterations; the most measured to reach the tolerance was 46
# (N = 200, t = 1e-3, float64), so 100 is a cap, not a budget.
SINKHORN_MAX_ITERS = 100


def check_tolerance(tolerance):
  if tolerance is None:
    return None
  if (isinstance(tolerance, bool)
      or not isinstance(tolerance, (int, float, np.floating))
      or not 0 < tolerance < 1):
    raise ValueError(
        f"`tolerance` must be a float in (0, 1), got {tolerance!r}.")
  return float(tolerance)


def check_sinkhorn_options(num_iters, tolerance, max_iters):
  """The validated `(num_iters, tolerance, max_iters)` of `log_sinkhorn`."""
  if num_iters is not None:
    num_iters = check_num_iters(num_iters)
  return (num_iters, check_tolerance(tolerance),
          check_num_iters(max_iters, name="max_iters"))


def log_sinkhorn(x, num_iters=None, tolerance=None,
                 max_iters=SINKHORN_MAX_ITERS):
  """Sinkhorn normalization of `exp(x)` in log space: a doubly-stochastic log-matrix.

  Returns `log P` with `P = diag(exp(f)) exp(x) diag(exp(g))` doubly
  stochastic (Sinkhorn 1964): the only such scaling of `exp(x)`.

  * `num_iters=None` (default): solved to `tolerance`, max |row sum - 1| at
    most `tolerance` (default 1e-5 in float32, 1e-10 in float64: see
    `SINKHORN_TOLERANCE`) with columns summing to 1 to rounding; or to the
    float's resolution of `x` where that is coarser (about `4 * eps *
    (max |x| + N)`, e.g. 3e-3 at float32 logits / t of 6,000). The solver is
    Newton's method on the dual, `f` alone (`g` is a column normalization of
    `f`): each step solves `(diag(r) - P P^T + 1 1^T / N + mu I) df = 1 - r`
    (`r` the row sums, `mu = err / 10` a Levenberg-Marquardt damping), with a
    backtracking line search on the concave dual `sum f + sum g` and a plain
    row normalization where the search fails. Plain Sinkhorn's rows converge
    only like `2 / rounds` when the perturbed matching is nearly tied (t ~
    0.1); Newton's converge quadratically near the solution. Low
    temperatures start hot: the solution for `x / s` warm-starts the one for
    `x / (s / 4)` (epsilon scaling), from `s = max |x| / 30` down to 1, so
    each Newton solve starts near its answer. The gradient is implicit: at
    the solution, `dL/dx = U - P * (a 1^T + 1 b^T)` with `U = dL/dlog P` and
    `[[I, P], [P^T, I]] [a; b] = [rowsum U; colsum U]`, one `N x N` solve,
    exact at any iteration count and O(N^2) memory, not the loop's.
  * `num_iters=L`: exactly `L` rounds of row-then-column normalization, as
    in Mena et al. (2018), differentiated through the loop. Columns sum to 1
    to rounding, rows within `L` rounds' convergence error.

  Entries equal to `-inf` stay `-inf` (a forbidden assignment) and get a
  zero gradient, as long as the finite entries admit a perfect matching
  (else no doubly-stochastic scaling exists and the solver stops at
  `max_iters`).

  Args:
    x: float Tensor `[..., N, N]`.
    num_iters: `None`, or a Python int >= 0: a fixed number of rounds.
    tolerance: `None` (the dtype's default) or a float in (0, 1); only
      without `num_iters`.
    max_iters: positive Python int, the cap on Newton steps.

  Returns:
    Tensor of the shape and dtype of `x`.

  Raises:
    ValueError: `num_iters`, `tolerance` or `max_iters` out of range.

  #### Example

  ```python
  from tfp_gumbel._kernels import log_sinkhorn
  p = tf.exp(log_sinkhorn(tf.random.stateless_normal([4, 4], (1, 2)) / 0.1))
  tf.reduce_sum(p, axis=-1), tf.reduce_sum(p, axis=-2)   # 1 within 1e-5
  ```
  """
  x = tf.convert_to_tensor(x, dtype_hint=tf.float32, name="x")
  max_iters = check_num_iters(max_iters, name="max_iters")
  tolerance = check_tolerance(tolerance)
  if _params.exceeds_kernel_rank(x, extra=1):
    # The solver's [..., N, N, 1] intermediates would exceed TF's CPU
    # kernels' rank (SelectV2, BroadcastTo: at most 8 dimensions): it sees
    # one batch axis, the same matrices in the same order, so no number
    # changes. Below that, x is solved as it is: flattening every batch made
    # a 16 x 10 x 10 sample's gradient 1.2-1.3x slower in tf.function and
    # under XLA in an A/B run by hand.
    shape = tf.shape(x)
    flat = tf.reshape(x, tf.concat([[-1], shape[-2:]], axis=0))
    return tf.reshape(
        _log_sinkhorn_batch(flat, num_iters, tolerance, max_iters), shape)
  return _log_sinkhorn_batch(x, num_iters, tolerance, max_iters)


def _log_sinkhorn_batch(x, num_iters, tolerance, max_iters):
  """`log_sinkhorn` of `x` `[B, N, N]`, the options checked."""
  if num_iters is not None:
    num_iters = check_num_iters(num_iters, minimum=0)
    if tf.executing_eagerly():
      # Eagerly, 20 rounds are ~250 small ops (each logsumexp is several),
      # ~100 ms for one 10 x 10 sample and ~0.5 s with its gradient; the
      # same loop as one traced graph runs in ~1 ms (the tape records one
      # call).
      return _sinkhorn_loop_graph(x, num_iters)
    return _sinkhorn_loop(x, num_iters)
  if tolerance is None:
    tolerance = SINKHORN_TOLERANCE.get(x.dtype, SINKHORN_TOLERANCE[tf.float32])
  return _balanced(x, tolerance, max_iters)


def _sinkhorn_loop(x, num_iters):

  def sinkhorn_round(i, x):
    x = x - tf.reduce_logsumexp(x, axis=-1, keepdims=True)
    return i + 1, x - tf.reduce_logsumexp(x, axis=-2, keepdims=True)

  # A while loop, not a Python loop: unrolled, 20 rounds and their gradient
  # took 22 s to compile under XLA and ran 2x slower (measured on CPU,
  # [128, 50, 50]: 303 vs 158 ms). `maximum_iterations` makes the loop
  # differentiable in reverse mode.
  return tf.while_loop(lambda i, x: i < num_iters, sinkhorn_round,
                       (tf.constant(0), x), maximum_iterations=num_iters)[1]


# Traced once per (shape, dtype, num_iters); `reduce_retracing` generalizes
# the shape after the first retrace, so varying batch sizes do not pile up.
_sinkhorn_loop_graph = tf.function(_sinkhorn_loop, reduce_retracing=True,
                                   autograph=False)


def _balanced(x, tolerance, max_iters):
  """`log_sinkhorn` to a tolerance, with its implicit gradient."""

  @tf.custom_gradient
  def balanced(x):
    solve = _solve_sinkhorn_graph if tf.executing_eagerly() else solve_sinkhorn
    log_p = solve(tf.stop_gradient(x), tolerance, max_iters)[0]

    def grad(upstream):
      upstream = tf.where(tf.math.is_finite(log_p), upstream, 0)
      p = tf.exp(log_p)
      row, col = tf.reduce_sum(upstream, -1), tf.reduce_sum(upstream, -2)
      # The Schur complement of [[I, P], [P^T, I]]: (I - P P^T) a = row - P
      # col, b = col - P^T a. Its null vector 1 (a + c, b - c give the same
      # gradient) is fixed by adding 1 1^T / N. As t -> 0, P tends to a
      # permutation and I - P P^T to 0 in the directions that split the
      # assignment, where the right-hand side tends to 0 too; the ridge
      # (10 N eps, the rounding of P P^T) keeps the solve defined there.
      n = tf.cast(tf.shape(p)[-1], p.dtype)
      ridge = 10 * n * np.finfo(p.dtype.as_numpy_dtype).eps
      schur = ((1 + ridge) * tf.eye(tf.shape(p)[-1], dtype=p.dtype)
               - tf.linalg.matmul(p, p, transpose_b=True) + 1 / n)
      a = tf.linalg.solve(schur, (row - _matvec(p, col))[..., None])[..., 0]
      b = col - _matvec(p, a, transpose=True)
      return upstream - p * (a[..., :, None] + b[..., None, :])

    return log_p, grad

  return balanced(x)


def _matvec(m, v, transpose=False):
  return tf.linalg.matvec(m, v, transpose_a=transpose)


def solve_sinkhorn(x, tolerance, max_iters):
  """`log_sinkhorn`'s solver: (log P, Newton steps taken, max |row sum - 1|).

  The steps are the batch's (the loop runs until its slowest matrix is
  done); no gradient (`log_sinkhorn` attaches the implicit one).
  """
  dtype = x.dtype
  n = tf.shape(x)[-1]
  eps = np.finfo(dtype.as_numpy_dtype).eps
  finite = tf.math.is_finite(x)
  # Shifting x by a constant changes nothing but keeps exp in range.
  x = x - tf.reduce_max(tf.where(finite, x, -np.inf), [-2, -1], keepdims=True)
  spread = tf.reduce_max(tf.where(finite, -x, 0), [-2, -1])
  # The float's resolution of exp(x + f + g), where coarser than asked.
  floor = 4 * eps * (spread + tf.cast(n, dtype))
  tolerance = tf.maximum(tf.constant(tolerance, dtype), floor)
  stage_tolerance = tf.maximum(tolerance, tf.constant(1e-2, dtype))
  potentials = tf.zeros(tf.concat([tf.shape(spread), [n]], 0), dtype)

  def evaluate(f, scale):
    xs = x / scale[..., None, None]
    g = -tf.reduce_logsumexp(xs + f[..., :, None], axis=-2)
    log_p = xs + f[..., :, None] + g[..., None, :]
    p = tf.exp(log_p)
    r = tf.reduce_sum(p, -1)
    dual = tf.reduce_sum(f, -1) + tf.reduce_sum(g, -1)
    return log_p, p, r, dual, tf.reduce_max(tf.abs(r - 1), -1)

  def body(step_count, f, scale, done):
    _, p, r, dual, err = evaluate(f, scale)
    hot = scale > 1
    staged = err <= tf.where(hot, stage_tolerance, tolerance)
    # Stage done: cool by 4 (the potentials scale with 1 / temperature).
    cooler = tf.maximum(scale / 4, 1)
    next_stage_f = f * (scale / cooler)[..., None]
    # Newton's step for the rest.
    # Damping: err / 10 (Levenberg-Marquardt), and N eps for rounding.
    mu = err / 10 + eps * tf.cast(n, dtype)
    hessian = (tf.linalg.diag(r) - tf.linalg.matmul(p, p, transpose_b=True)
               + 1 / tf.cast(n, dtype)
               + mu[..., None, None] * tf.eye(n, dtype=dtype))
    # Cholesky: it returns NaN for a matrix that rounding made indefinite
    # (then the step below is a row normalization), where LU raises on a
    # singular one and stops the program (measured: in training the sorting
    # network at N = 5, whose logits grow large).
    direction = tf.linalg.cholesky_solve(tf.linalg.cholesky(hessian),
                                         (1 - r)[..., None])[..., 0]
    usable = tf.reduce_all(tf.math.is_finite(direction), -1)
    direction = tf.where(usable[..., None], direction, 0)
    slope = tf.reduce_sum(direction * (1 - r), -1)

    def search(k, length, accepted):
      *_, candidate_dual, candidate_err = evaluate(
          f + length[..., None] * direction, scale)
      # Armijo's condition on the dual, or a smaller row error: near the
      # solution the dual's gain (~err^2) drowns in its rounding (~eps *
      # sum |f|) in float32, while the row error still measures progress.
      ok = ((candidate_dual >= dual + 1e-4 * length * slope)
            | (candidate_err < err))
      return (k + 1, tf.where(accepted | ok, length, length / 2),
              accepted | ok)

    _, length, accepted = tf.while_loop(
        lambda k, length, accepted: (k < 12) & ~tf.reduce_all(accepted),
        search, (0, tf.ones_like(err), tf.zeros_like(err, tf.bool)))
    # Where the solve or the search failed, a row normalization (always an
    # ascent).
    newton_f = tf.where((accepted & usable)[..., None],
                        f + length[..., None] * direction, f - tf.math.log(r))
    finished = done | (staged & ~hot)
    f = tf.where(finished[..., None], f,
                 tf.where(staged[..., None], next_stage_f, newton_f))
    scale = tf.where(finished, scale, tf.where(staged, cooler, scale))
    return step_count + 1, f, scale, finished

  scale = tf.maximum(spread / 30, 1)
  steps, f, scale, _ = tf.while_loop(
      lambda i, f, scale, done: (i < max_iters) & ~tf.reduce_all(done),
      body, (0, potentials, scale, tf.zeros_like(spread, tf.bool)))
  # Where the cap came first, the last stage's potentials cooled to t.
  log_p, _, _, _, err = evaluate(f * scale[..., None], tf.ones_like(scale))
  return log_p, steps, err


_solve_sinkhorn_graph = tf.function(solve_sinkhorn, reduce_retracing=True,
                                   autograph=False)


def _matching_numpy(scores):
  """0/1 maximum-weight matching of every `[N, N]` matrix in `scores`."""
  # Imported here: scipy is needed only by the matching estimators.
  from scipy import optimize  # pylint: disable=g-import-not-at-top
  flat = scores.reshape((-1,) + scores.shape[-2:])
  result = np.zeros_like(flat)
  for b, matrix in enumerate(flat):
    # A -inf score (a forbidden assignment) is accepted when maximizing;
    # scipy raises "cost matrix is infeasible" only if no matching avoids it.
    rows, cols = optimize.linear_sum_assignment(matrix, maximize=True)
    result[b, rows, cols] = 1
  return result.reshape(scores.shape)


def matching(scores, name=None):
  """The permutation matrix of the maximum-weight matching of `scores`.

  For each `[N, N]` matrix in `scores` returns the 0/1 matrix `P` with one 1
  per row and per column that maximizes `sum_ij P_ij scores_ij` (the
  assignment problem; entry `(i, j)` = 1 assigns item `i` to position `j`),
  solved exactly by `scipy.optimize.linear_sum_assignment(maximize=True)`.
  It is the `t -> 0` limit of `exp(log_sinkhorn(scores / t))`. `-inf`
  scores are forbidden assignments.

  Where it runs: eagerly and inside `tf.function`, on CPU, through
  `tf.numpy_function` (the solve runs in Python, one matrix at a time).
  It does not run under XLA (`jit_compile=True`): XLA cannot compile the
  Python call and fails with an error naming `EagerPyFunc`/`PyFunc`. It has
  no gradient (the output is piecewise constant in `scores`); see
  `gumbel_sinkhorn_st` for a straight-through version.

  Args:
    scores: float Tensor `[..., N, N]`.
    name: optional name scope.

  Returns:
    Tensor of the shape and dtype of `scores`, exactly 0/1.

  #### Example

  ```python
  scores = tf.constant([[0., 5., 1.], [4., 0., 0.], [0., 2., 3.]])
  tfg.estimators.matching(scores)   # [[0, 1, 0], [1, 0, 0], [0, 0, 1]]
  ```
  """
  with tf.name_scope(name or "matching"):
    scores = tf.convert_to_tensor(scores, dtype_hint=tf.float32,
                                  name="scores")
    if scores.shape.rank is not None and scores.shape.rank < 2:
      raise ValueError(f"`scores` must have rank at least 2, got shape "
                       f"{scores.shape}.")
    if (scores.shape.rank is not None and None not in scores.shape[-2:]
        and scores.shape[-1] != scores.shape[-2]):
      raise ValueError(f"`scores` must be square in its last two axes, got "
                       f"shape {scores.shape}.")
    result = tf.numpy_function(_matching_numpy, [scores], scores.dtype,
                               stateful=False)
    result.set_shape(scores.shape)
    return result


# The one hand-written density: the ExpConcrete (Maddison et al. 2017).

def log_simplex_log_prob(y, logits, temperature, possible=None, floor=None):
  """Log-density of the ExpRelaxed Gumbel-Softmax at the log-simplex point `y`.

  ```none
  log p(y) = lgamma(K) + (K - 1) log t + sum_k log_softmax(logits - t y)_k
  ```

  (`sum_k z_k - K logsumexp(z) = sum_k log_softmax(z)_k`: one stable op,
  independent of the normalization of `logits` and of a shift of `y`). With
  impossible classes (`possible` False there), the density of the K'-class
  family at the possible coordinates; see `tfg.ExpRelaxedGumbelSoftmax`.
  `floor` (or None) is the value at which a -inf coordinate of a *possible*
  class is read (a float16 sample that overflowed in the rounding).

  Args:
    y: float Tensor `[..., K]`.
    logits: float Tensor `[..., K]`, -inf at the impossible classes.
    temperature: float Tensor broadcasting with `logits[..., 0]`.
    possible: bool mask like `logits`, or None when every class is possible.
    floor: Python float or None.

  Returns:
    Tensor of the batch shape: -inf off the support, never NaN (except for a
    batch member with no possible class: TFP's `allow_nan_stats`).
  """
  if possible is not None:
    return _masked_log_simplex_log_prob(y, logits, temperature, possible,
                                        floor)
  if floor is not None:
    y = tf.maximum(y, tf.constant(floor, y.dtype))
  # A log-coordinate of -inf on a possible class (a sample of a distribution
  # that forbids it) is off the support: -inf, read at 0 so that no
  # `0 * inf` or `inf - inf` reaches the value or the gradient.
  off_support = tf.math.equal(y, tf.constant(-np.inf, y.dtype))
  y = tf.where(off_support, tf.zeros([], y.dtype), y)
  # K as a Python number when static: eagerly, slicing a shape tensor (and
  # `t[..., None]`) cost more than the rest of a small log_prob.
  num_classes = logits.shape[-1]
  if num_classes is None:
    num_classes = tf.cast(tf.shape(logits)[-1], logits.dtype)
    log_normalizer = tf.math.lgamma(num_classes)
  else:
    log_normalizer = math.lgamma(num_classes)
  z = logits - tf.expand_dims(temperature, -1) * y
  log_prob = (log_normalizer
              + (num_classes - 1.) * tf.math.log(temperature)
              + tf.reduce_sum(_params.softmax(z, log=True), axis=-1))
  return tf.where(tf.reduce_any(off_support, axis=-1),
                  tf.constant(-np.inf, log_prob.dtype), log_prob)


def _masked_log_simplex_log_prob(y, logits, temperature, possible, floor):
  """The density of the K'-class family at the possible coordinates of `y`.

  K' (the number of possible classes) may differ between batch members. A
  point with mass on an impossible class (`y_k > -inf` there) is outside
  the support: -inf. For K' = 1 the law is a point mass and the value is
  0. Impossible coordinates are replaced by 0 before any arithmetic, so
  neither `-inf - t * (-inf)` nor `0 * inf` reaches the value or the
  gradient.
  """
  dtype = logits.dtype
  zero = tf.zeros([], dtype)
  neg_inf = tf.constant(-np.inf, dtype)
  num_possible = tf.reduce_sum(tf.cast(possible, dtype), axis=-1)
  y_possible = y if floor is None else tf.maximum(y, tf.constant(floor, dtype))
  # On the face of the possible classes: finite on them, -inf elsewhere.
  finite = possible & tf.math.greater(y_possible, neg_inf)
  on_face = tf.reduce_all(
      tf.where(possible, finite, tf.math.equal(y, neg_inf)), axis=-1)
  z = (tf.where(possible, logits, zero)
       - tf.expand_dims(temperature, -1) * tf.where(finite, y_possible, zero)
       + _params.impossible_bias(possible, dtype))
  log_prob = (tf.math.lgamma(num_possible)
              + (num_possible - 1.) * tf.math.log(temperature)
              + tf.reduce_sum(
                  tf.where(possible, _params.softmax(z, log=True), zero), axis=-1))
  log_prob = tf.where(on_face, log_prob, neg_inf)
  # No possible class: no distribution (TFP's allow_nan_stats: NaN).
  return tf.where(num_possible > 0., log_prob, tf.constant(np.nan, dtype))
