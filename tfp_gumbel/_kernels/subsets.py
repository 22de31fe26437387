"""Subsets: Xie & Ermon's relaxed top-k (2019) and the exact k-hot.

| kernel | what it computes | used by |
|---|---|---|
| `check_k` | the static check 1 <= k <= K of a Python int `k` | RelaxedTopK, `top_k_st` |
| `relaxed_top_k` | k successive softmaxes, summed (the relaxed k-hot) | RelaxedTopK, `top_k_st`, layers.RelaxedTopK |
| `top_k_mask` | the exact k-hot of the k largest entries | the same |

Every function but `check_k` takes the array namespace `xp` first
(`tfp_gumbel._backend`). Keys of -inf are masked classes: exactly 0 in the
result, with exactly zero gradient (`tfp_gumbel._kernels.masking`).
"""

import numpy as np

from tfp_gumbel._kernels import masking

__all__ = ["check_k", "relaxed_top_k", "top_k_mask"]


def check_k(k, num_classes):
  """Raises ValueError for a Python int `k` outside 1..K (`num_classes`, or
  None where K is unknown statically); a `k` Tensor is checked by its user."""
  if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
    return
  if not 1 <= k <= (num_classes or k):
    raise ValueError(f"`k` must be between 1 and the number of classes "
                     f"K = {num_classes}, got {k}.")


# Up to this many static steps the recursion is a Python loop, beyond it (or
# for a dynamic k) an `xp.while_loop` (see `relaxed_top_k`).
_MAX_UNROLLED_STEPS = 8


def _log1m_softmax(xp, log_a, a):
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
  `stop_gradient`: the shift only keeps exp in range, and a reduce_max
  gradient made the whole gradient slower (benchmarks/results/
  design_figures.md, "log(1 - a)'s shift"). The others have a finite entry
  wherever two coordinates are possible, which the top-k recursion
  guarantees where it calls this.

  Where a value is known (eagerly), the ops that it shows to be no-ops are
  skipped, so the results are the graph's, bit for bit: all of the top
  branch where no coordinate exceeds 2/3 (the final `where` would select
  `log1p(-a)` everywhere and the clip would not change `a`), and the
  logsumexp where every `r` is above tiny / eps (the `where`s would select
  `log(r)` everywhere). Eagerly each skipped op costs its dispatch, and a
  small sample is mostly dispatch.
  """
  value = xp.static_value(a)
  if value is not None and not (value > np.asarray(2. / 3., value.dtype)).any():
    return xp.log1p(-a)
  two_thirds = xp.constant(2. / 3., a.dtype)
  is_top = xp.greater(a, two_thirds)
  rest = xp.sum(xp.where(is_top, xp.constant(0., a.dtype), a), axis=-1,
                keepdims=True)
  finfo = xp.finfo(a.dtype)
  resolved = xp.greater(rest, xp.constant(finfo.tiny / finfo.eps, a.dtype))
  known = xp.static_value(resolved)
  if known is not None and known.all():
    log_rest = xp.log(rest)
  else:
    others = xp.where(is_top, xp.constant(-np.inf, log_a.dtype), log_a)
    m = xp.stop_gradient(xp.max(others, axis=-1, keepdims=True))
    log_sum_exp = m + xp.log(
        xp.sum(xp.exp(others - m), axis=-1, keepdims=True))
    # The double where keeps log(0)'s infinite gradient out of the rows
    # that take the logsumexp.
    log_rest = xp.where(
        resolved, xp.log(xp.where(resolved, rest, xp.ones_like(rest))),
        log_sum_exp)
  # The top coordinate reaches log1p clipped to the threshold: where's
  # gradient to the unselected branch is 0, but 0 * inf (the derivative of
  # log1p(-a) at a = 1) would still be NaN.
  log1m = xp.log1p(-xp.minimum(a, two_thirds))
  return xp.where(is_top, log_rest, log1m)


def relaxed_top_k(xp, keys, k, temperature):
  """The relaxed k-hot vector of Gumbel-perturbed `keys` (Xie & Ermon 2019).

  `alpha_1 = keys`; for j = 1..k: `a_j = softmax(alpha_j / t)`,
  `alpha_{j+1} = alpha_j + log(1 - a_j)`; the result is `sum_j a_j`. Every
  `a_j` is handled through its log-softmax, so nothing overflows or rounds
  to log(0) down to t = 1e-3 with |keys| ~ 1e3. Keys equal to -inf (masked
  classes) stay -inf and get exactly 0 (with gradient 0).

  Args:
    xp: the array namespace (`tfp_gumbel._backend`).
    keys: float Tensor `[..., K]`, e.g. `logits + g` with `g` Gumbel noise.
    k: Python int, or scalar int Tensor, with 1 <= k <= the number of finite
      keys (not checked here).
    temperature: positive float Tensor broadcasting with `keys[..., :1]`
      (the class axis included).

  Returns:
    Tensor of the shape and dtype of `keys`, summing to `k` on the last axis.

  #### Example

  ```python
  from tfp_gumbel._backend import tensorflow as tf_xp
  from tfp_gumbel._kernels import subsets
  subsets.relaxed_top_k(tf_xp, tf.constant([3., 1., 2., -1.]), 2,
                        tf.constant([0.1]))
  # ~[1, 0, 1, 0]
  ```
  """
  inv_t = xp.reciprocal(temperature)
  # None where no key is masked: then no masking op runs (`tempered`).
  possible = masking.possible_or_none(xp, keys)
  if possible is None:
    alpha = keys
  else:
    # Masked keys are carried as 0 and set to -inf after scaling: -inf times
    # 1/t would give the temperature a NaN gradient (-inf * 0).
    alpha = xp.where(possible, keys, xp.constant(0., keys.dtype))
    neg_inf = xp.constant(-np.inf, keys.dtype)

  def log_softmax_step(alpha):
    scores = xp.multiply(alpha, inv_t)
    if possible is not None:
      scores = xp.where(possible, scores, neg_inf)
    return xp.softmax(scores, log=True)

  def body(alpha):
    log_a = log_softmax_step(alpha)
    a = xp.exp(log_a)
    return alpha + _log1m_softmax(xp, log_a, a), a

  static_k = xp.static_value(k)
  if static_k is not None and static_k <= _MAX_UNROLLED_STEPS:
    # A Python loop for a small static k: XLA fuses the unrolled steps
    # (and their gradient), which it does not across a while loop's
    # iterations (benchmarks/results/design_figures.md, "Unrolled top-k
    # steps").
    khot = None
    for _ in range(int(static_k) - 1):
      alpha, a = body(alpha)
      khot = a if khot is None else khot + a
  else:
    # A while loop for a large or dynamic k: tracing an unrolled loop and
    # its gradient grows with k (benchmarks/results/design_figures.md,
    # "Tracing k = 50"). XLA needs a static bound on the iterations to
    # differentiate the loop: k - 1, or else K - 1.
    if static_k is not None:
      max_steps = int(static_k) - 1
    else:
      max_steps = None if keys.shape[-1] is None else keys.shape[-1] - 1

    def loop_body(j, alpha, khot):
      alpha, a = body(alpha)
      return j + 1, alpha, khot + a
    _, alpha, khot = xp.while_loop(
        lambda j, *_: xp.less(j, xp.cast(k, "int32") - 1), loop_body,
        (xp.constant(0, "int32"), alpha, xp.zeros_like(alpha)),
        maximum_iterations=max_steps)
  # The last step needs no update of alpha.
  last = xp.exp(log_softmax_step(alpha))
  return last if khot is None else khot + last


def top_k_mask(xp, x, k):
  """The k-hot vector (exactly 0/1, of the dtype of `x`) of the k largest
  coordinates of `x` on the last axis; no gradient.

  #### Example

  ```python
  from tfp_gumbel._backend import tensorflow as tf_xp
  from tfp_gumbel._kernels import subsets
  subsets.top_k_mask(tf_xp, tf.constant([3., 1., 2., -1.]), 2)  # [1, 0, 1, 0]
  ```
  """
  indices = xp.top_k(x, k, sorted=False)[1]
  return xp.max(xp.one_hot(indices, xp.last_dim(x), dtype=x.dtype), axis=-2)
