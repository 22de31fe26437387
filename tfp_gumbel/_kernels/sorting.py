"""Rankings: NeuralSort, the relaxed sorting matrix (Grover et al. 2019).

| kernel | what it computes | used by |
|---|---|---|
| `neural_sort` | the unimodal row-stochastic relaxation of `sort(s)` | RelaxedPlackettLuce, `plackett_luce_st`, layers.RelaxedPlackettLuce |

It takes the array namespace `xp` first (`tfp_gumbel._backend`). Scores of
-inf are absent items (a Plackett-Luce score of 0): ranked last, exactly,
with exactly zero gradient (`tfp_gumbel._kernels.masking`).
"""

import numpy as np

from tfp_gumbel._kernels import masking

__all__ = ["neural_sort", "sort_matrix"]


def neural_sort(xp, s, temperature):
  r"""NeuralSort: the unimodal row-stochastic relaxation of `sort(s)`.

  Row `i` (0-based) of the result is a softmax over the items that peaks at the
  item of rank `i` in decreasing order, so the row-wise argmax is the
  permutation that sorts `s` in decreasing order, at every temperature
  (Grover et al. 2019, Theorem 1), and the matrix tends to that permutation
  matrix as `temperature -> 0`:

  ```none
  P[i, j] = softmax_j(((N - 1 - 2 i) s_j - sum_k |s_j - s_k|) / t)
  ```

  An item with `s = -inf` (a Plackett-Luce score of 0) is absent: the
  formula runs over the N' possible items (N' in place of N, the sums over
  them), in the first N' ranks; the absent items fill the last ranks
  exactly (0/1 rows), in the order of their index, as a descending stable
  sort of `s` puts them, and the relaxed rows are exactly 0 at them. Their
  values are never read (the double-`where` idiom), so their gradient is
  exactly 0. With no possible item the matrix is the identity order.

  Args:
    xp: the array namespace (`tfp_gumbel._backend`).
    s: float Tensor `[..., N]` of real scores.
    temperature: positive Tensor of `s`'s dtype, broadcasting with
      `s[..., 0]`.

  Returns:
    Tensor `[..., N, N]`: rows are the ranks (0 = largest), columns the items.

  #### Example

  ```python
  from tfp_gumbel._backend import tensorflow as tf_xp
  from tfp_gumbel._kernels import sorting
  p = sorting.neural_sort(tf_xp, tf.constant([0.3, 2.0, -1.0]),
                        tf.constant(0.1))
  tf.argmax(p, axis=-1)          # [1, 0, 2]: the items in decreasing order
  ```
  """
  dtype = s.dtype
  # None where no score is -inf: then every masking op below is skipped,
  # and N' = N (`tempered` does the same).
  possible = masking.possible_or_none(xp, s)
  # A shift of `s` adds the same amount to every entry of a row, which the
  # softmax ignores; centering (on the possible items' mean) keeps the two
  # large terms below from cancelling in float32 when log-scores are large.
  if possible is None:
    s = s - xp.mean(s, axis=-1, keepdims=True)
  else:
    zero = xp.constant(0., dtype)
    weight = xp.cast(possible, dtype)                                # [..., N]
    count = xp.sum(weight, axis=-1, keepdims=True)                   # [..., 1]
    s = xp.where(possible, s, zero)
    s = s - (xp.sum(s, axis=-1, keepdims=True)
             / xp.maximum(count, xp.constant(1., dtype)))
    s = xp.where(possible, s, zero)
  # expand_dims, not `s[..., None, :]`: eagerly a slice costs several times
  # the op (benchmarks/results/design_figures.md, "Slices"), and a small
  # sample is mostly such ops.
  column = xp.expand_dims(s, -1)                                   # [..., N, 1]
  row = xp.expand_dims(s, -2)                                      # [..., 1, N]
  # sum_k |s_j - s_k| over the last (contiguous) axis: a reduction over the
  # other axis of this symmetric matrix would be the same numbers, but is
  # slower under XLA (benchmarks/results/design_figures.md, "NeuralSort's
  # reduction axis").
  distances = xp.abs(column - row)                                 # [..., N, N]
  if possible is not None:
    distances = distances * xp.expand_dims(weight, -2)  # absent k: no term
    # A row of its own for the product below: the gradient of `s` then
    # sums its three uses in one step, in the order it always has (through
    # a shared `row`, two of them would be added first: other last bits).
    row = xp.expand_dims(s, -2)
  pairwise = xp.expand_dims(xp.sum(distances, axis=-1), -2)        # [..., 1, N]
  if possible is None:
    # N - 1 - 2i, i = 0..N-1: exact integers, made without ops (`s` has a
    # known value, so a static N).
    n = s.shape[-1]
    weights = xp.constant(np.arange(n - 1, -n, -2)[:, None], dtype)  # [N, 1]
  else:  # N' - 1 - 2i, N' per row
    ranks = xp.arange(xp.last_dim(s), dtype=dtype)                   # [N]
    weights = xp.expand_dims(count - 1. - 2. * ranks, -1)          # [..., N, 1]
  scores = xp.multiply(weights, row) - pairwise                    # [..., N, N]
  # [..., 1, 1] against the rows and items; a scalar too where items are
  # masked, as it always was there (in a graph the gradient's last bits
  # depend on the temperature's shape).
  if temperature.ndim != 0 or possible is not None:
    temperature = xp.expand_dims(xp.expand_dims(temperature, -1), -1)
  scores = masking.divide_by_temperature(xp, scores, temperature)
  if possible is None:
    return xp.softmax(scores)
  # The relaxed rows (rank < N') over the possible items; a row beyond N'
  # softmaxes zeros (a guard: it is never selected).
  scores = xp.where(xp.expand_dims(possible, -2), scores,
                    xp.constant(-np.inf, dtype))
  relaxed = xp.expand_dims(xp.less(ranks, count), -1)              # [..., N, 1]
  soft = xp.softmax(xp.where(relaxed, scores, zero))
  # Absent item j takes rank N' + (number of absent items before j).
  absent_rank = count + xp.cumsum(1. - weight, axis=-1, exclusive=True)
  hard = xp.cast(
      xp.logical_and(
          xp.equal(xp.expand_dims(ranks, -1), xp.expand_dims(absent_rank, -2)),
          xp.logical_not(xp.expand_dims(possible, -2))), dtype)
  return xp.where(relaxed, soft, hard)


def sort_matrix(xp, s):
  """The permutation matrix of the descending sort of `s` `[..., N]`: row
  `i` is the one-hot of the item of rank `i` (0 = largest), the limit of
  `neural_sort` as `t -> 0`. Equal scores keep their index order (`top_k`'s
  order, as a stable descending sort), so absent items (`s = -inf`) come
  last in the order of their index, as `neural_sort` ranks them. No
  gradient."""
  n = xp.last_dim(s)
  return xp.one_hot(xp.top_k(s, n)[1], n, dtype=s.dtype)
