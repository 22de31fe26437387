"""Relaxed k-hot subsets: Xie & Ermon's successive softmax, in log space."""

import numpy as np
import tensorflow as tf

from tfp_gumbel._kernels import noise
from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel._kernels import subsets
from tfp_gumbel.distributions import _base

__all__ = ["RelaxedTopK", "relaxed_top_k", "top_k_mask"]


# The kernels live in _kernels.subsets; these names are where users have
# imported them (TensorFlow's, without the namespace argument).


def relaxed_top_k(keys, k, temperature):
  """The relaxed k-hot vector of Gumbel-perturbed `keys` (Xie & Ermon 2019):
  k successive softmaxes of `keys / temperature`, summed, in log space;
  keys of -inf get exactly 0 (`tfp_gumbel._kernels.subsets.relaxed_top_k`
  has the math and the arguments).

  #### Example

  ```python
  from tfp_gumbel.distributions.relaxed_top_k import relaxed_top_k
  relaxed_top_k(tf.constant([3., 1., 2., -1.]), 2, tf.constant([0.1]))
  # ~[1, 0, 1, 0]
  ```
  """
  return subsets.relaxed_top_k(tf_xp, keys, k, temperature)


def top_k_mask(x, k):
  """The k-hot vector (exactly 0/1, of the dtype of `x`) of the k largest
  coordinates of `x` on the last axis; no gradient.

  #### Example

  ```python
  from tfp_gumbel.distributions.relaxed_top_k import top_k_mask
  top_k_mask(tf.constant([3., 1., 2., -1.]), 2)  # [1, 0, 1, 0]
  ```
  """
  return subsets.top_k_mask(tf_xp, x, k)


def _k_parameter(k):
  """`k` as a Python int if it is static, else an int32 Tensor; static checks."""
  if isinstance(k, (bool, np.bool_)) or isinstance(k, (float, np.floating)):
    raise TypeError(f"`k` must be an integer, got {k!r}.")
  if isinstance(k, (int, np.integer)):
    k = int(k)
  else:
    k = tf.convert_to_tensor(k, name="k")
    if not k.dtype.is_integer:
      raise TypeError(f"`k` must be an integer, got dtype {k.dtype.name}.")
    if k.shape.rank not in (None, 0):
      raise ValueError(f"`k` must be a scalar, got shape {k.shape}.")
    static = tf.get_static_value(k)
    if static is not None:
      k = int(static)
  return k


class RelaxedTopK(_base.LogitsOrProbs):
  r"""Relaxed k-hot vectors: a continuous relaxation of subset sampling.

  A sample is a vector in `[0, k]^K` summing to `k` whose large coordinates
  mark a random subset of `k` of the `K` classes: the Gumbel-top-k subset,
  i.e. the set of the first `k` items of a `tfd.PlackettLuce(probs)`
  permutation (sampling `k` classes without replacement, each draw
  proportional to `probs` among the classes left). As `temperature -> 0` the
  sample tends to the exact k-hot vector of that subset; as
  `temperature -> inf` it tends to `k / K` in every coordinate. With `k = 1`
  it is `tfg.GumbelSoftmax(temperature, logits)` (the same numbers for the
  same seed). Sampling is reparameterized: gradients reach `logits`/`probs`
  and `temperature` through `sample()`.

  There is no tractable density: `log_prob` and `prob` raise
  `NotImplementedError`. Use the samples in a reparameterized objective, or
  `tfg.estimators.top_k_st` for exact k-hot samples with this relaxation's
  gradient.

  #### Mathematical details

  With `g_i` i.i.d. standard Gumbel and `t` the temperature (Xie & Ermon 2019,
  "relaxed top-k"):

  ```none
  alpha_1 = logits + g
  a_j = softmax(alpha_j / t),  alpha_{j+1} = alpha_j + log(1 - a_j),  j = 1..k
  x = sum_{j=1..k} a_j
  ```

  Each `a_j` is on the simplex, so `x` sums to `k` (to rounding: within
  `k * 10 eps (1 + log2 K)`); each step lowers the keys of the classes
  already taken. The top-k set of the keys `logits + g` is a
  Gumbel-top-k draw (Vieira 2014; Kool et al. 2019). Coordinates are not
  bounded by 1: when two keys are within about `t` of each other at the same
  step, the step after can put mass on a class already half-taken (e.g.
  `K = k = 2`: `x = (1, 1)` only at `t = 1/2`). The fraction of such samples
  vanishes as `t -> 0`.

  Numerics: every step works with `log a_j = log_softmax(alpha_j / t)`, and
  `log(1 - a_j)` of the largest coordinate (which rounds to `a = 1` at small
  `t`) is the logsumexp of the others' log-softmax, so samples and gradients
  are finite down to `t = 1e-3` with `|logits| = 1e3`. A class with
  probability 0 (`logits = -inf`) is absent: its coordinate is exactly 0 and
  its gradient 0. At most the number of possible classes may be chosen.

  #### Examples

  ```python
  import tfp_gumbel as tfg
  d = tfg.RelaxedTopK(temperature=0.1, k=2, logits=[0., 1., 2., -1., 0.5])
  x = d.sample(1000, seed=(1, 2))          # [1000, 5], each row sums to 2
  subsets = tf.math.top_k(x, k=2).indices  # ~ first 2 of PlackettLuce(probs)
  ```

  #### References

  [1] Sang Michael Xie, Stefano Ermon. Reparameterizable Subset Sampling via
      Continuous Relaxations. IJCAI 2019.
  [2] Wouter Kool, Herke van Hoof, Max Welling. Stochastic Beams and Where to
      Find Them: The Gumbel-Top-k Trick for Sampling Sequences Without
      Replacement. ICML 2019.
  """

  _EVENT_NDIMS = 1
  _FAMILY = "RelaxedTopK"
  _NOT_IMPLEMENTED = {
      "log_prob": "has no tractable density (the successive softmaxes are "
                  "not invertible in closed form). Use its reparameterized "
                  "samples, or tfg.estimators.top_k_st.",
  }

  def __init__(self,
               temperature,
               k,
               logits=None,
               probs=None,
               validate_args=False,
               allow_nan_stats=True,
               name="RelaxedTopK"):
    """Builds the distribution.

    Args:
      temperature: positive float Tensor (or Variable, or DeferredTensor) whose
        shape broadcasts with `logits[..., 0]`.
      k: the subset size, a Python int (preferred: up to 8 steps are then
        unrolled, which is faster) or a scalar int Tensor; `1 <= k <= K`.
      logits: float Tensor `[..., K]` of unnormalized log-probabilities;
        `-inf` marks a class that is never chosen.
      probs: float Tensor `[..., K]` of probabilities (on the simplex).
        Exactly one of `logits` and `probs`.
      validate_args: check parameter values (`temperature`, `logits`/`probs`,
        and `k` when it is a Tensor).
      allow_nan_stats: TFP's convention for undefined statistics.
      name: name scope of the ops.

    Raises:
      ValueError: both or neither of `logits`/`probs`; a scalar `logits`;
        a static `k` outside `[1, K]`.
      TypeError: a non-integer `k`; integer or mismatched float dtypes.
    """
    parameters = dict(locals())
    self._k = _k_parameter(k)
    super().__init__(temperature, dict(logits=logits, probs=probs),
                     validate_args, allow_nan_stats, parameters, name)
    subsets.check_k(self._k, self._num_classes())

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return cls._event_parameter_properties(dtype)

  # `k` is a scalar shared by the whole batch: no batch dimensions, so it is
  # not among the parameter properties, and is carried unchanged through
  # slicing and copy.

  @property
  def k(self):
    """The subset size: a Python int, or an int Tensor if given dynamically."""
    return self._k

  def _sample_computed(self, n, seed):
    logits = self._computed_logits()
    temperature = self._computed_temperature()
    gumbel = noise.gumbel(tf_xp, tf_xp.sample_shape(n, logits, temperature), seed, logits.dtype)
    return subsets.relaxed_top_k(tf_xp, logits + gumbel, self._k, temperature)

  def _parameter_control_dependencies(self, is_init):
    assertions = super()._parameter_control_dependencies(is_init)
    if not self.validate_args or isinstance(self._k, int) or not is_init:
      return assertions
    k = self._k
    num_classes = self._event_shape_tensor()[0]
    return assertions + [
        tf.debugging.assert_greater_equal(
            k, tf.ones([], k.dtype), message="`k` must be at least 1."),
        tf.debugging.assert_less_equal(
            k, tf.cast(num_classes, k.dtype),
            message="`k` must be at most the number of classes K."),
    ]
