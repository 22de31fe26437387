"""Exact KL divergences of the discrete laws that the relaxations stand for.

`categorical_kl(p, q)` is the KL between the Categorical (or, for a binary
relaxation, Bernoulli) laws whose relaxations `p` and `q` are: the laws of
the argmax of their samples (of `x > 1/2`). It has a closed form, so it is
exact, deterministic and differentiable, and it is what a discrete VAE's
ELBO holds (`tfg.layers.GumbelSoftmax(kl_weight=...)` adds it as a loss).

The relaxed distributions themselves have no closed-form entropy or KL: their
Monte Carlo estimates (`monte_carlo_entropy`, `monte_carlo_relaxed_kl`) live
in tfp_gumbel/monte_carlo.py, which holds estimators only, since an estimate
is another kind of tool (a sample size, a seed, a standard error to report).

`categorical_kl` is not registered with `tfd.RegisterKL`: the KL between the
discrete laws is a different quantity from the KL between the relaxed ones,
which `tfd.kl_divergence(p, q)` would mean.
"""

from tfp_gumbel import _requirements

_requirements.require_tensorflow("tfp_gumbel.kl")

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

__all__ = ["categorical_kl"]


def _discrete(distribution):
  """The discrete distribution that `distribution` relaxes: Categorical for a
  vector event (GumbelSoftmax, ExpRelaxed), Bernoulli for a scalar one.

  The Bernoulli is written as the two-class Categorical with log-probs
  `[log_sigmoid(-l), log_sigmoid(l)]`: the same KL values, but at `l = +-inf`
  (probability 1 or 0) TFP's Bernoulli KL has a NaN gradient, where this one
  has the gradient 0 (d log_sigmoid(l) / dl = sigmoid(-l) = 0 at +inf, and
  the -inf coordinate has weight 0).
  """
  logits = distribution.logits_parameter()
  if distribution.event_shape.rank == 0:
    return tfd.Categorical(logits=tf.stack(
        [tf.math.log_sigmoid(-logits), tf.math.log_sigmoid(logits)], axis=-1))
  return tfd.Categorical(logits=logits)


def categorical_kl(p, q, name=None):
  r"""Exact KL between the discrete distributions that `p` and `q` relax.

  ```none
  KL(Cat(pi_p) || Cat(pi_q)) = sum_k pi_p,k (log pi_p,k - log pi_q,k)
  ```

  with `pi = softmax(logits)` (for the binary relaxations, the Bernoulli KL
  with `sigmoid(logits)`). It ignores the temperatures: it is the KL between
  the distributions of `argmax` of the samples (of `x > 1/2` for the binary
  ones), which is the discrete model a relaxation stands for. It is a lower
  bound of `monte_carlo_relaxed_kl(p, q)` (data-processing inequality).
  Computed by `tfd.kl_divergence`, so it is exact, differentiable and
  deterministic.

  Impossible classes (logits -inf, probs 0) are handled as TFP's
  `tfd.kl_divergence(Categorical, Categorical)` does: a class with
  `pi_p,k = 0` contributes 0 (`0 log 0 = 0`) and gets a gradient of exactly
  0, and the KL is `+inf` if `pi_q,k = 0 < pi_p,k` for some class. Likewise
  for the binary relaxations at logits `+-inf` (probability 1 or 0), whose
  gradients are finite, not NaN as with TFP's Bernoulli KL.

  #### Examples

  ```python
  p = tfg.GumbelSoftmax(0.5, logits=[0., 1., 2.])
  q = tfg.GumbelSoftmax(2.0, probs=[0.2, 0.3, 0.5])
  tfg.categorical_kl(p, q)
  # Class 0 impossible under p: it contributes 0; under q only: +inf.
  masked = tfg.GumbelSoftmax(0.5, logits=[-float("inf"), 1., 2.])
  tfg.categorical_kl(masked, q), tfg.categorical_kl(q, masked)
  ```

  Args:
    p: a relaxed distribution with a `logits_parameter()` method (every
      distribution of tfp_gumbel, and TFP's `RelaxedOneHotCategorical` and
      `RelaxedBernoulli`).
    q: a relaxed distribution of the same kind as `p`: both categorical or
      both binary.
    name: name scope of the ops.

  Returns:
    A Tensor of the broadcast batch shape of `p` and `q`.

  Raises:
    TypeError: one of `p`, `q` is categorical and the other binary.
  """
  if p.event_shape.rank != q.event_shape.rank:
    raise TypeError(
        f"`p` and `q` must both be categorical or both be binary relaxations, "
        f"got event shapes {p.event_shape} and {q.event_shape}.")
  with tf.name_scope(name or "categorical_kl"):
    return tfd.kl_divergence(_discrete(p), _discrete(q))
