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
    "neural_sort",
    "relaxed_top_k",
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
