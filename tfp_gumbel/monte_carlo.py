"""Monte Carlo estimates of the entropy and the KL of relaxed distributions.

The Gumbel-Softmax family has no closed-form entropy or KL divergence, so TFP's
`entropy()` and `tfd.kl_divergence` raise for it. These estimators give what
users need instead:

* `monte_carlo_entropy(d, n, seed)`: unbiased, reparameterized estimate of
  `H[d] = -E[log p(X)]`.
* `monte_carlo_relaxed_kl(p, q, n, seed)`: unbiased, reparameterized estimate
  of `KL(p || q)` between two relaxed distributions (see its variance warning).

This module holds estimators only. The exact KL between the *discrete*
distributions that `p` and `q` relax, `categorical_kl`, lives in
tfp_gumbel/kl.py (it is importable from here too, as in 0.2.0).

Neither estimator is registered with `tfd.RegisterKL`: `tfd.kl_divergence`
is deterministic, and a Monte Carlo estimate registered there would silently
become random.
"""
from tfp_gumbel import _requirements

_requirements.require_tensorflow("tfp_gumbel.monte_carlo")

import tensorflow as tf
import tensorflow_probability as tfp

from tfp_gumbel.distributions import _pushforward
# categorical_kl is exact, not Monte Carlo: it lives in tfp_gumbel.kl. It
# stays importable from here (and in `__all__`) for compatibility:
# `tfp_gumbel.monte_carlo.categorical_kl` is 0.2.0's public path.
from tfp_gumbel.kl import categorical_kl

__all__ = ["categorical_kl", "monte_carlo_entropy", "monte_carlo_relaxed_kl"]


def monte_carlo_entropy(distribution, sample_size, seed=None, name=None):
  r"""Monte Carlo estimate of the differential entropy of `distribution`.

  ```none
  H[p] = -E_p[log p(X)]  ~  -(1 / n) sum_i log p(x_i),   x_i ~ p i.i.d.
  ```

  The estimate is unbiased, its standard error is `std(log p(X)) / sqrt(n)`,
  and it is reparameterized: its gradient with respect to `temperature` and
  `logits` is an unbiased estimate of the gradient of the entropy (useful as
  an entropy bonus on a learned temperature). Log-probs come from
  `experimental_sample_and_log_prob`, which for `tfg.GumbelSoftmax`
  evaluates the density at the exact draw, not at its rounded float32 value.

  Impossible classes (logits -inf) are no part of the event: the entropy is
  the one of the distribution over the possible classes alone (the density
  on the face of the simplex they span).

  The entropy depends on the space: `GumbelSoftmax` (density on the simplex),
  `ExpRelaxedGumbelSoftmax` (log-simplex) and their binary counterparts have
  different entropies for the same parameters; the one of `distribution` is
  estimated. It decreases to `-inf` as `temperature -> 0`.

  #### Examples

  ```python
  d = tfg.GumbelSoftmax(0.5, probs=[0.1, 0.2, 0.7])
  tfg.monte_carlo_entropy(d, 10_000, seed=(1, 2))
  ```

  Args:
    distribution: any reparameterized (or not: the value is still unbiased)
      `tfd.Distribution`.
    sample_size: Python int or int Tensor, the number of draws `n`.
    seed: a stateless seed (`(1, 2)`), or an int / None as in TFP.
    name: name scope of the ops.

  Returns:
    A Tensor of shape `distribution.batch_shape`.
  """
  with tf.name_scope(name or "monte_carlo_entropy"):
    _, log_prob = distribution.experimental_sample_and_log_prob(
        sample_size, seed=seed)
    return -tf.reduce_mean(log_prob, axis=0)


def _density_space(p, q):
  """`p` and `q`, or their log-space base distributions if that is shared.

  KL divergence is invariant under a bijection applied to both arguments, and
  every push-forward family of tfp_gumbel (GumbelSoftmax, GumbelSigmoid) is
  a parameter-free bijector (Exp, Sigmoid) over a base whose density is
  written in log space and never underflows. Estimating there avoids evaluating `q` at float32 samples whose
  coordinates rounded to 0.
  """
  if type(p) is not type(q):
    raise TypeError(
        f"`p` and `q` must be distributions of the same kind (their KL is "
        f"between densities on the same space), got {type(p).__name__} and "
        f"{type(q).__name__}.")
  if isinstance(p, _pushforward.Pushforward):
    return p.distribution, q.distribution
  return p, q


def monte_carlo_relaxed_kl(p, q, sample_size, seed=None, name=None):
  r"""Monte Carlo estimate of `KL(p || q)` between two relaxed distributions.

  ```none
  KL(p || q) = E_p[log p(X) - log q(X)]  ~  (1 / n) sum_i log p(x_i) / q(x_i)
  ```

  with `x_i ~ p`, computed by `tfp.vi.monte_carlo_variational_loss` (with
  `discrepancy_fn=tfp.vi.kl_reverse`), so it is unbiased and its gradient with
  respect to the parameters of `p` and `q` is the reparameterized one. For
  `GumbelSoftmax`/`GumbelSigmoid` it is computed on the log-space base
  distributions, which have the same KL (KL is invariant under the shared
  bijection) and no underflow.

  Impossible classes (logits -inf): with the same classes impossible under
  `p` and `q`, the KL is the one of the distributions over the possible
  classes alone; where the sets differ, `p` and `q` live on different faces
  of the simplex and the KL is `+inf`.

  This is the KL term of the relaxed ELBO of Maddison et al. (2017). It is
  *not* the KL between the discrete distributions (`categorical_kl`): it is
  always at least as large (the argmax is a function of the sample, so the
  data-processing inequality applies), and it does not approach the discrete
  KL as the temperatures go to 0. With equal temperatures it does not depend
  on the temperature at all (scaling the log-space sample by `t` is a
  bijection shared by `p` and `q`).

  #### Warning: variance

  The estimate is unbiased but can be very noisy. Its standard error is
  `std(log p(X) - log q(X)) / sqrt(n)`, and that per-draw standard deviation
  is of the order of the KL itself, and grows in proportion to `t_q / t_p`
  when `t_q > t_p`. Measured for K = 4 (logits [0, 1, -1, .5] and
  [.5, -.5, 0, 0]):

  ```none
  t_p     t_q     KL       per-draw std
  any     = t_p   1.30     1.45
  0.5     0.1     3.48     1.35
  0.5     1.0     4.38     4.07
  0.1     1.0     47.6     26.8
  0.001   1.0     6100     2790
  ```

  Use thousands of draws for a value and report the standard error; in a
  loss, prefer a single-sample estimate averaged over a minibatch, or the
  exact `categorical_kl` when the discrete KL is what the model means.

  #### Examples

  ```python
  p = tfg.GumbelSoftmax(0.5, logits=[0., 1., 2.])
  q = tfg.GumbelSoftmax(0.5, logits=[0., 0., 0.])
  tfg.monte_carlo_relaxed_kl(p, q, 10_000, seed=(1, 2))
  ```

  Args:
    p: the distribution the expectation is under (it is sampled).
    q: a distribution of the same class, on the same space.
    sample_size: Python int or int Tensor, the number of draws `n`.
    seed: a stateless seed (`(1, 2)`), or an int / None as in TFP.
    name: name scope of the ops.

  Returns:
    A Tensor of the broadcast batch shape of `p` and `q`.

  Raises:
    TypeError: `p` and `q` are of different classes.

  #### References

  [1] Chris J. Maddison, Andriy Mnih, Yee Whye Teh. The Concrete Distribution:
      A Continuous Relaxation of Discrete Random Variables. ICLR 2017,
      appendix C (the relaxed KL term).
  """
  with tf.name_scope(name or "monte_carlo_relaxed_kl"):
    p, q = _density_space(p, q)
    return tfp.vi.monte_carlo_variational_loss(
        target_log_prob_fn=q.log_prob,
        surrogate_posterior=p,
        sample_size=sample_size,
        discrepancy_fn=tfp.vi.kl_reverse,
        seed=seed)
