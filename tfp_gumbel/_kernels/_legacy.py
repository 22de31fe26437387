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
| `relaxed_top_k` | Xie & Ermon's successive softmax (relaxed k-hot) | RelaxedTopK, `top_k_st`, layers.RelaxedTopK |
| `top_k_mask` | the exact k-hot of the k largest entries | the same |
| `log_sinkhorn` | Sinkhorn normalization in log space: to a tolerance (`solve_sinkhorn`, Newton's method, implicit gradient) or a fixed number of rounds | GumbelSinkhorn, `gumbel_sinkhorn_st`, layers.GumbelSinkhorn |
| `matching` | the maximum-weight matching (scipy) | the same, at t -> 0 |
| `neural_sort` | Grover et al.'s relaxed sorting matrix | RelaxedPlackettLuce, `plackett_luce_st`, layers.RelaxedPlackettLuce |
| `log_simplex_log_prob` | the ExpConcrete log-density | ExpRelaxedGumbelSoftmax, GumbelSoftmax |

ARCHITECTURE.md places this module among the others.
"""

import numpy as np
import tensorflow as tf

from tfp_gumbel import _noise
from tfp_gumbel import _params

__all__ = [
    "check_k",
    "check_num_iters",
    "check_sinkhorn_options",
    "log_sinkhorn",
    "matching",
    "neural_sort",
    "relaxed_top_k",
    "solve_sinkhorn",
    "top_k_mask",
]


# Subsets (Xie & Ermon 2019).


def check_k(k, num_classes):
  """Raises ValueError for a Python int `k` outside 1..K (`num_classes`, or
  None where K is unknown statically); a `k` Tensor is checked by its user."""
  if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
    return
  if not 1 <= k <= (num_classes or k):
    raise ValueError(f"`k` must be between 1 and the number of classes "
                     f"K = {num_classes}, got {k}.")

# Beyond this many static steps the loop is a tf.while_loop (see below).
_MAX_UNROLLED_STEPS = 8


def _log1m_softmax(log_a, a):
  """log(1 - a) for a = exp(log_a) on the simplex (last axis), never -inf.

  `a` is `exp(log_a)`, which the caller has computed already. Where
  a <= 2/3, log1p(-a) is accurate (1 - a >= a / 2). At most one coordinate
  has a > 2/3, even after rounding (a tie of two, a = 1/2 each, is far from
  the threshold), and there a can round to 1 (at small t it does): log(1 - a)
  is computed as what it is, the log of the mass `r` of the *other*
  coordinates. While `r` exceeds tiny / eps (float32: 1e-31) its sum is
  exact to rounding (its terms are exp of log-softmax values, finite where
  the softmax itself would round `a` to 1); below, where the terms
  underflow, it is their logsumexp, shifted by the maximum under
  `stop_gradient` (a reduce_max gradient made the 100 x 1000, k = 5
  gradient 1.2x slower in tf.function; the shift only keeps exp in range).
  The others have a finite entry wherever two coordinates are possible,
  which the top-k recursion guarantees where it calls this.

  Eagerly, the ops that no value needs are skipped (the results are the
  same, bit for bit, as the graph's selected branches): all of it where no
  coordinate exceeds 2/3, the logsumexp where no `r` is that small.
  """
  value = tf.get_static_value(a)
  if value is not None and not (value > np.asarray(2. / 3., value.dtype)).any():
    return tf.math.log1p(-a)
  two_thirds = tf.constant(2. / 3., a.dtype)
  is_top = a > two_thirds
  rest = tf.reduce_sum(tf.where(is_top, tf.zeros([], a.dtype), a), axis=-1,
                       keepdims=True)
  resolved = rest > tf.constant(
      _params.tiny(a.dtype) / _params.finfo(a.dtype).eps, a.dtype)
  known = tf.get_static_value(resolved)
  if known is not None and known.all():
    log_rest = tf.math.log(rest)
  else:
    others = tf.where(is_top, tf.constant(-np.inf, log_a.dtype), log_a)
    m = tf.stop_gradient(tf.reduce_max(others, axis=-1, keepdims=True))
    log_sum_exp = m + tf.math.log(
        tf.reduce_sum(tf.exp(others - m), axis=-1, keepdims=True))
    # The double where keeps log(0)'s infinite gradient out of the rows
    # that take the logsumexp.
    log_rest = tf.where(
        resolved, tf.math.log(tf.where(resolved, rest, tf.ones_like(rest))),
        log_sum_exp)
  # The top coordinate reaches log1p clipped to the threshold: where's
  # gradient to the unselected branch is 0, but 0 * inf (the derivative of
  # log1p(-a) at a = 1) would still be NaN.
  log1m = tf.math.log1p(-tf.minimum(a, two_thirds))
  return tf.where(is_top, log_rest, log1m)


def relaxed_top_k(keys, k, temperature):
  """The relaxed k-hot vector of Gumbel-perturbed `keys` (Xie & Ermon 2019).

  `alpha_1 = keys`; for j = 1..k: `a_j = softmax(alpha_j / t)`,
  `alpha_{j+1} = alpha_j + log(1 - a_j)`; the result is `sum_j a_j`. Every
  `a_j` is handled through its log-softmax, so nothing overflows or rounds
  to log(0) down to t = 1e-3 with |keys| ~ 1e3. Keys equal to -inf (masked
  classes) stay -inf and get exactly 0 (with gradient 0).

  Args:
    keys: float Tensor `[..., K]`, e.g. `logits + g` with `g` Gumbel noise.
    k: Python int, or scalar int Tensor, with 1 <= k <= the number of finite
      keys (not checked here).
    temperature: positive float Tensor broadcasting with `keys[..., :1]`
      (the class axis included).

  Returns:
    Tensor of the shape and dtype of `keys`, summing to `k` on the last axis.

  #### Example

  ```python
  from tfp_gumbel._kernels import relaxed_top_k
  relaxed_top_k(tf.constant([3., 1., 2., -1.]), 2, tf.constant([0.1]))
  # ~[1, 0, 1, 0]
  ```
  """
  inv_t = tf.math.reciprocal(temperature)
  possible = _params.possible_or_none(keys)
  if possible is None:
    # No masked key (known eagerly, or for constants): no masking ops.
    alpha = keys

    def log_softmax_step(alpha):
      # tf.math.multiply, not `*`: eagerly the operator's dispatch costs
      # about 3x the op (43 vs 15 us at 1 x 10), and this runs k times.
      return _params.softmax(tf.math.multiply(alpha, inv_t), log=True)
  else:
    neg_inf = tf.constant(-np.inf, keys.dtype)
    # Masked keys are carried as 0 and set to -inf after scaling: -inf times
    # 1/t would give the temperature a NaN gradient (-inf * 0).
    alpha = tf.where(possible, keys, tf.zeros([], keys.dtype))

    def log_softmax_step(alpha):
      return _params.softmax(
          tf.where(possible, tf.math.multiply(alpha, inv_t), neg_inf), log=True)

  def body(alpha):
    log_a = log_softmax_step(alpha)
    a = tf.exp(log_a)
    return alpha + _log1m_softmax(log_a, a), a

  static_k = tf.get_static_value(k)
  if static_k is not None and static_k <= _MAX_UNROLLED_STEPS:
    # A Python loop: unrolled steps fuse under XLA where a while loop's do
    # not (gradient at 1000 x 10, k = 3: 0.66 vs 3.3 ms under XLA, 2.2 vs
    # 3.8 ms in tf.function).
    khot = None
    for _ in range(int(static_k) - 1):
      alpha, a = body(alpha)
      khot = a if khot is None else khot + a
  else:
    # A while loop for large or dynamic k: unrolling k = 50 steps and their
    # gradient took ~9 s to trace (1 s as a loop). XLA needs a static bound
    # on the iterations to differentiate the loop: k - 1, or else K - 1.
    if static_k is not None:
      max_steps = int(static_k) - 1
    else:
      max_steps = None if keys.shape[-1] is None else keys.shape[-1] - 1

    def loop_body(j, alpha, khot):
      alpha, a = body(alpha)
      return j + 1, alpha, khot + a
    _, alpha, khot = tf.while_loop(
        lambda j, *_: j < tf.cast(k, tf.int32) - 1, loop_body,
        (tf.constant(0), alpha, tf.zeros_like(alpha)),
        maximum_iterations=max_steps)
  # The last step needs no update of alpha.
  last = tf.exp(log_softmax_step(alpha))
  return last if khot is None else khot + last


def top_k_mask(x, k):
  """The k-hot vector (exactly 0/1, of the dtype of `x`) of the k largest
  coordinates of `x` on the last axis; no gradient.

  #### Example

  ```python
  from tfp_gumbel._kernels import top_k_mask
  top_k_mask(tf.constant([3., 1., 2., -1.]), 2)  # [1, 0, 1, 0]
  ```
  """
  indices = tf.math.top_k(x, k=k, sorted=False).indices
  return tf.reduce_max(tf.one_hot(indices, tf.shape(x)[-1], dtype=x.dtype),
                       axis=-2)


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


# Rankings (Grover et al. 2019).

def neural_sort(s, temperature):
  r"""NeuralSort: the unimodal row-stochastic relaxation of `sort(s)`.

  Row `i` (0-based) of the result is a softmax over the items that peaks at the
  item of rank `i` in decreasing order, so the row-wise argmax is the
  permutation that sorts `s` in decreasing order, at every temperature
  (Grover et al. 2019, Theorem 1), and the matrix tends to that permutation
  matrix as `temperature -> 0`:

  ```none
  P[i, j] = softmax_j(((N - 1 - 2 i) s_j - sum_k |s_j - s_k|) / t)
  ```

  Args:
    s: float Tensor `[..., N]` of real scores.
    temperature: positive float Tensor broadcasting with `s[..., 0]`.

  An item with `s = -inf` (a Plackett-Luce score of 0) is absent: it is
  ranked after every other item, exactly (the last rows are exact 0/1, and
  the other rows exactly 0 there), with a zero gradient.

  Returns:
    Tensor `[..., N, N]`: rows are the ranks (0 = largest), columns the items.

  #### Examples

  ```python
  from tfp_gumbel._kernels import neural_sort
  p = neural_sort(tf.constant([0.3, 2.0, -1.0]), temperature=0.1)
  tf.argmax(p, axis=-1)          # [1, 0, 2]: the items in decreasing order
  ```
  """
  s = tf.convert_to_tensor(s)
  temperature = tf.convert_to_tensor(temperature, dtype_hint=s.dtype)
  possible = _params.possible_or_none(s)
  if possible is not None:
    return _masked_neural_sort(s, temperature, possible)
  n = s.shape[-1]
  if n is None:
    n = tf.shape(s)[-1]
  # A shift of `s` adds the same amount to every entry of a row, which the
  # softmax ignores; centering keeps the two large terms below from
  # cancelling in float32 when log-scores are large.
  s = s - tf.reduce_mean(s, axis=-1, keepdims=True)
  # expand_dims, not `s[..., None, :]`: eagerly a slice is ~8x the op (a
  # strided slice built in Python), and a small sample is mostly such ops.
  row = tf.expand_dims(s, -2)                                        # [..., 1, N]
  # sum_k |s_j - s_k| over the last (contiguous) axis: a reduction over the
  # other axis of this symmetric matrix would be the same numbers, but is
  # ~1.5x slower under XLA on CPU (1000 x 10).
  pairwise = tf.expand_dims(tf.reduce_sum(
      tf.abs(tf.expand_dims(s, -1) - row), axis=-1), -2)             # [..., 1, N]
  if isinstance(n, int):
    # N - 1 - 2i, i = 0..N-1: exact integers, made without ops.
    weights = tf.constant(np.arange(n - 1, -n, -2)[:, None],
                          s.dtype)                                   # [N, 1]
  else:
    weights = tf.expand_dims(
        tf.cast(n - 1 - 2 * tf.range(n), s.dtype), -1)                 # [N, 1]
  scores = tf.math.multiply(weights, row) - pairwise
  if temperature.shape.rank != 0:
    temperature = tf.expand_dims(tf.expand_dims(temperature, -1), -1)
  return _params.softmax(_params.divide_by_temperature(scores, temperature))


def _masked_neural_sort(s, temperature, possible):
  """NeuralSort of the N' possible items (`s` > -inf) in the first N' ranks;
  the absent items (`s` = -inf: a score of 0) fill the last ranks exactly,
  in the order of their index, as a descending stable sort of `s` puts them.

  The values of `s` at absent items are never read (the double-`where`
  idiom), so their gradient is exactly 0, and the matrix is 0 at every
  (rank < N', absent item) and (rank >= N', any other item) entry. With no
  possible item the matrix is the identity order of the items.
  """
  dtype = s.dtype
  zero = tf.zeros([], dtype)
  weight = tf.cast(possible, dtype)                                  # [..., N]
  num_possible = tf.reduce_sum(weight, axis=-1, keepdims=True)       # [..., 1]
  s = tf.where(possible, s, zero)
  s = s - (tf.reduce_sum(s, axis=-1, keepdims=True)
           / tf.maximum(num_possible, 1.))
  s = tf.where(possible, s, zero)
  pairwise = tf.reduce_sum(
      tf.abs(s[..., :, None] - s[..., None, :]) * weight[..., None, :],
      axis=-1)                                                       # [..., N]
  n = tf.shape(s)[-1]
  ranks = tf.cast(tf.range(n), dtype)                                # [N]
  weights = num_possible - 1. - 2. * ranks                           # [..., N]
  scores = weights[..., :, None] * s[..., None, :] - pairwise[..., None, :]
  scores = tf.where(possible[..., None, :],
                    _params.divide_by_temperature(
                        scores, temperature[..., None, None]),
                    tf.constant(-np.inf, dtype))
  in_relaxed_rank = ranks < num_possible                             # [..., N]
  # Guard the softmax of a row with no possible item (never selected).
  soft = _params.softmax(tf.where(in_relaxed_rank[..., :, None], scores,
                                  zero))
  # Absent item j takes rank N' + (number of absent items before j).
  absent_rank = (num_possible
                 + tf.math.cumsum(1. - weight, axis=-1, exclusive=True))
  hard = tf.cast(
      tf.math.equal(ranks[..., :, None], absent_rank[..., None, :])
      & ~possible[..., None, :], dtype)
  return tf.where(in_relaxed_rank[..., :, None], soft, hard)
