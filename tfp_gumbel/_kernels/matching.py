"""The maximum-weight matching (the assignment problem), solved on the host.

The `t -> 0` limit of a Gumbel-Sinkhorn sample: for each `[N, N]` matrix of
scores, the 0/1 matrix `P` with one 1 per row and per column that maximizes
`sum_ij P_ij scores_ij`, solved exactly by scipy's
`linear_sum_assignment(maximize=True)`, one matrix at a time in Python
(`xp.host_call`): no array library has the solver, and no compiler (XLA)
can compile the call. `-inf` scores are forbidden assignments.
"""

import numpy as np

__all__ = ["matching", "matching_numpy"]


def matching_numpy(scores):
  """0/1 maximum-weight matching of every `[N, N]` matrix in the numpy
  array `scores`, of its shape and dtype."""
  # Imported here: scipy is needed only by the matching.
  from scipy import optimize  # pylint: disable=g-import-not-at-top
  flat = scores.reshape((-1,) + scores.shape[-2:])
  result = np.zeros_like(flat)
  for b, matrix in enumerate(flat):
    # A -inf score (a forbidden assignment) is accepted when maximizing;
    # scipy raises "cost matrix is infeasible" only if no matching avoids it.
    rows, cols = optimize.linear_sum_assignment(matrix, maximize=True)
    result[b, rows, cols] = 1
  return result.reshape(scores.shape)


def matching(xp, scores):
  """`matching_numpy` of the array `scores` `[..., N, N]`, through
  `xp.host_call`: no gradient (the result is piecewise constant)."""
  return xp.host_call(matching_numpy, scores)
