"""Hard samples with surrogate gradients: the straight-through family's
formulas, once for `tfg.estimators` (TensorFlow's namespace) and `tfg.ops`
(`keras.ops`).

A hard sample `D` (one-hot, 0/1, k-hot or a permutation) carries the
gradient of a surrogate `S`: `replace_gradient` writes `D + (S -
stop_gradient(S))`. The surrogates here are the ones that are more than a
kernel of another module: Gumbel-Rao's conditional mean (Paulus et al. 2021)
and ReinMax's second-order correction (Liu et al. 2023). Every function
takes the array namespace `xp` first (`tfp_gumbel._backend`); impossible
classes (logit -inf) get exactly 0 with exactly zero gradient.
"""

from tfp_gumbel._kernels import categorical

__all__ = ["gumbel_rao_surrogate", "reinmax_surrogate", "replace_gradient"]


def replace_gradient(xp, value, surrogate):
  """`value` in the forward pass, the gradient of `surrogate` backward.

  Written `value + (surrogate - stop_gradient(surrogate))`: the bracket is
  an exact 0, so the value is bit for bit `value` (exactly one-hot), where
  `(value + surrogate) - surrogate` would round.
  """
  return value + (surrogate - xp.stop_gradient(surrogate))


def gumbel_rao_surrogate(xp, logits, temperature, one_hot, possible,
                         num_samples, seed):
  """`mean_s softmax((logits + g_s) / t)`, `g_s` Gumbel given `argmax(logits
  + g_s) = one_hot`, `num_samples` draws (`categorical.conditional_gumbel`).

  The conditional noise carries no gradient (a Rao-Blackwellization of the
  straight-through surrogate, the same expectation). `temperature` has the
  class axis; `possible` is `masking.possible(logits)`.
  """
  # The noise of an impossible class would be -inf - (-inf) = NaN; it is
  # never read (`tempered_softmax` masks the class), 0 keeps it finite.
  noise = xp.stop_gradient(xp.where(
      possible,
      categorical.conditional_gumbel(xp, logits, one_hot, num_samples, seed)
      - logits,
      xp.constant(0., logits.dtype)))
  return xp.mean(categorical.tempered_softmax(xp, logits + noise, temperature,
                                              possible), axis=0)


def reinmax_surrogate(xp, logits, temperature, one_hot, possible):
  """ReinMax's `2 pi1 - pi0 / 2`, `pi0 = softmax(logits)`, `pi1 = (D +
  softmax(logits / t)) / 2`, with `pi1` differentiated as a softmax
  evaluated at `pi1` (the Jacobian `diag(pi1) - pi1 pi1^T`); `temperature`
  has the class axis and gets no gradient."""
  # log pi1 in log space: log((D + s) / 2) is log(s / 2) off the sample and
  # log((1 + s_D) / 2) = softplus(log s_D) - log 2 on it, so it is finite
  # even where softmax(logits / t) underflows.
  log_s = xp.softmax(categorical.tempered(xp, logits, temperature), log=True)
  log_pi1 = (xp.where(one_hot > 0., xp.softplus(log_s), log_s)
             - xp.log(xp.constant(2., logits.dtype)))
  # softmax(stop_gradient(log pi1) + logits - stop_gradient(logits)) is pi1
  # in value (exactly: the added term is 0) with the softmax Jacobian at pi1
  # as its derivative in `logits`. At an impossible class the added term
  # would be -inf - (-inf) = NaN: there it is 0 (log pi1 is -inf, pi1
  # exactly 0).
  finite_logits = xp.where(possible, logits, xp.constant(0., logits.dtype))
  pi1 = xp.softmax(xp.stop_gradient(log_pi1)
                   + (finite_logits - xp.stop_gradient(finite_logits)))
  return 2. * pi1 - 0.5 * xp.softmax(logits)
