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

import math

import numpy as np
import tensorflow as tf

from tfp_gumbel import _noise
from tfp_gumbel import _params

__all__ = [
    "check_k",
    "conditional_gumbel",
    "gumbel_softmax_sample",
    "log_simplex_log_prob",
    "neural_sort",
    "one_hot_argmax",
    "relaxed_top_k",
    "tempered",
    "tempered_softmax",
    "top_k_mask",
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
