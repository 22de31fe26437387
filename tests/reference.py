"""Independent numpy/scipy references, written from the papers' formulas.

Nothing here imports tfp_gumbel: these are what the package is checked against.
"""

import numpy as np
from scipy import special
from scipy import stats


def concrete_log_density(x, probs, temperature):
  """Maddison et al. (2017), eq. (2): the Concrete density on the simplex.

  p(x) = (K-1)! t^(K-1) prod_k (pi_k x_k^(-t-1)) / (sum_k pi_k x_k^(-t))^K,
  evaluated in float64 with the sum in the denominator as a logsumexp.
  """
  x = np.asarray(x, np.float64)
  log_pi = np.log(np.asarray(probs, np.float64))
  t = np.asarray(temperature, np.float64)[..., None]
  k = x.shape[-1]
  log_x = np.log(x)
  return (special.gammaln(k) + (k - 1) * np.log(t[..., 0])
          + np.sum(log_pi - (t + 1) * log_x, axis=-1)
          - k * special.logsumexp(log_pi - t * log_x, axis=-1))


def exp_concrete_log_density(y, probs, temperature):
  """Maddison et al. (2017), appendix: the ExpConcrete density of y = log x."""
  y = np.asarray(y, np.float64)
  log_pi = np.log(np.asarray(probs, np.float64))
  t = np.asarray(temperature, np.float64)[..., None]
  k = y.shape[-1]
  return (special.gammaln(k) + (k - 1) * np.log(t[..., 0])
          + np.sum(log_pi - t * y, axis=-1)
          - k * special.logsumexp(log_pi - t * y, axis=-1))


def argmax_chisquare_pvalue(samples, probs):
  """Chi-square goodness of fit of argmax(samples, -1) to Categorical(probs).

  `samples` is [N, K] (one batch member); classes with expected count < 5 are
  pooled with the smallest other class so the chi-square approximation holds.
  """
  samples = np.asarray(samples)
  probs = np.asarray(probs, np.float64)
  n, k = samples.shape
  counts = np.bincount(np.argmax(samples, axis=-1), minlength=k)
  expected = n * probs / probs.sum()
  order = np.argsort(expected)
  keep = expected[order] >= 5
  if not keep.all():
    pooled = ~keep
    counts = np.append(counts[order][keep], counts[order][pooled].sum())
    expected = np.append(expected[order][keep], expected[order][pooled].sum())
  return stats.chisquare(counts, expected).pvalue
