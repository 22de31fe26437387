"""Gradient estimators for discrete samples: the straight-through family
here, and the unbiased ones (`score_function`, `rebar`, `relax`, `disarm`,
written in `tfp_gumbel.unbiased`), all exported from this module.

The unbiased estimators return `f(b)` for a function `f` of the sample, whose
gradient with respect to `logits` is an unbiased estimate of the gradient of
`E[f(b)]` (their module docstring has the table and the variance-tuning
pattern). The straight-through family below returns the sample itself:

Every function here returns a value that is *exactly* discrete: one-hot
(`Categorical(logits)`), 0/1 (`Bernoulli(logits)`), k-hot (the Gumbel-top-k
subset) or a permutation matrix, whose gradient with respect to `logits` (and,
where the estimator uses it, `temperature`) is the one of the named estimator:

| function            | forward sample          | backward (surrogate)                         |
|---------------------|-------------------------|----------------------------------------------|
| `straight_through`  | argmax of a soft sample | the soft sample                              |
| `gumbel_softmax_st` | Gumbel-max              | `softmax((logits + g) / t)`, same `g`        |
| `gumbel_sigmoid_st` | logistic-threshold      | `sigmoid((logits + l) / t)`, same `l`        |
| `gumbel_rao`        | Gumbel-max              | mean of `softmax((logits + g_s) / t)` over   |
|                     |                         | `g_s ~ Gumbel | argmax = D`                  |
| `reinmax`           | `Categorical(logits)`   | ReinMax's second-order (Heun) correction     |
| `top_k_st`          | k-hot top k of          | `tfg.RelaxedTopK`'s sample, same `g`          |
|                     | `logits + g`            | (Xie & Ermon 2019)                           |
| `gumbel_sinkhorn_st`| `matching(logits + G)`  | `exp(log_sinkhorn((logits + G) / t))`, same  |
|                     | (permutation matrix)    | `G` (Mena et al. 2018)                       |
| `plackett_luce_st`  | sort of `logits + g`    | NeuralSort of `logits + g` (Grover et al.    |
|                     | (permutation matrix)    | 2019), `tfg.RelaxedPlackettLuce`'s sample    |
| `solve_sinkhorn`    | `SinkhornResult`: `log  | the implicit gradient of `log P` (or through |
|                     | P` doubly stochastic,   | the rounds with `num_iters`)                 |
|                     | error, steps, converged |                                              |

`solve_sinkhorn` is the Sinkhorn solver of `gumbel_sinkhorn_st` and
`tfg.GumbelSinkhorn` on its own: no noise, no hard value, and a result that
says how far it got (`SinkhornOptions` are the solver's options, validated
in one place for the distribution, the estimator and the layer).

All accept `temperature` as a Tensor broadcasting with `logits[..., 0]`
(categorical) or `logits` (binary), run under `tf.function(jit_compile=True)`
(except `matching` and `gumbel_sinkhorn_st`, which call scipy's assignment
solver through `tf.numpy_function`),
keep the dtype of `logits` (float16 and bfloat16 are computed in float32
and rounded once: noise, surrogate and gradient), take TFP-style seeds
(`seed=(1, 2)` is stateless), and draw their noise from the stateless uniforms of
`tfp_gumbel._backend.tensorflow`.
The returned shape is the broadcast of `logits` with the temperature (that is,
the shape of `logits` when the temperature broadcasts into it).

Impossible classes: a logit of `-inf` (probability exactly 0, e.g. a forbidden
action or token; the mask may differ per row) is no part of the event. No
estimator ever puts the hard 1 on it, its coordinate of the surrogate is
exactly 0, and the gradient with respect to its logit is exactly 0 (the
impossible coordinates are replaced by 0 before any arithmetic, the
double-`where` idiom, so no `-inf - (-inf)` or `0 * inf` reaches a value or a
gradient), eagerly and under XLA. A very negative finite logit (-1e9) is a
very unlikely class, not an impossible one. A row whose classes are all
impossible has no law to sample: its output is NaN (TFP's `allow_nan_stats`
convention). For `gumbel_sigmoid_st`, logits of `+inf` / `-inf` (probability
1 / 0) give the deterministic 1 / 0 with a gradient of 0.

`get(name)` returns the categorical estimator for `"st"`, `"gumbel_rao"` or
`"reinmax"`, each callable as `fn(logits, temperature, seed=seed)`.

References:
  [1] Eric Jang, Shixiang Gu, Ben Poole. Categorical Reparameterization with
      Gumbel-Softmax. ICLR 2017.
  [2] Max B. Paulus, Chris J. Maddison, Andreas Krause. Rao-Blackwellizing
      the Straight-Through Gumbel-Softmax Gradient Estimator. ICLR 2021.
  [3] Liyuan Liu, Chengyu Dong, Xiaodong Liu, Bin Yu, Jianfeng Gao. Bridging
      Discrete and Backpropagation: Straight-Through and Beyond. NeurIPS 2023.
"""

from tfp_gumbel import _requirements

_requirements.require_tensorflow("tfp_gumbel.estimators")

import tensorflow as tf
import tensorflow_probability as tfp

from tfp_gumbel import _checks
from tfp_gumbel import _dtypes
from tfp_gumbel._kernels import masking
from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel._kernels import binary
from tfp_gumbel._kernels import categorical
from tfp_gumbel._kernels import noise
from tfp_gumbel._kernels import matching as matching_kernels
from tfp_gumbel._kernels import sinkhorn
from tfp_gumbel._kernels import sorting
from tfp_gumbel._kernels import straight_through as straight_through_kernels
from tfp_gumbel._kernels import subsets
from tfp_gumbel.unbiased import disarm
from tfp_gumbel.unbiased import rebar
from tfp_gumbel.unbiased import relax
from tfp_gumbel.unbiased import score_function

__all__ = [
    "SinkhornOptions",
    "SinkhornResult",
    "SinkhornWarning",
    "conditional_gumbel",
    "disarm",
    "get",
    "gumbel_rao",
    "gumbel_sigmoid_st",
    "gumbel_sinkhorn_st",
    "gumbel_softmax_st",
    "matching",
    "plackett_luce_st",
    "rebar",
    "reinmax",
    "relax",
    "score_function",
    "solve_sinkhorn",
    "straight_through",
    "top_k_st",
]


def _replace_gradient(value, surrogate, dtype=None):
  """`value` in the forward pass, the gradient of `surrogate` in the backward.

  Written `value + (surrogate - stop_gradient(surrogate))`: the bracket is an
  exact 0, so the forward value is bit-for-bit `value` (exactly one-hot),
  where `(value + surrogate) - surrogate` would round. With `dtype`, the
  result is rounded to it (exact for the 0/1 value; the gradient is rounded
  once on its way back).
  """
  result = straight_through_kernels.replace_gradient(tf_xp, value, surrogate)
  return result if dtype is None else tf.cast(result, dtype)


def straight_through(soft_sample, binary=False):
  """Straight-through: a hard forward value with the gradient of `soft_sample`.

  Args:
    soft_sample: float Tensor; a relaxed one-hot sample `[..., K]` (e.g. from
      `tfg.GumbelSoftmax`), or, with `binary=True`, relaxed 0/1 samples of
      any shape (e.g. from `tfg.GumbelSigmoid`).
    binary: if True, the forward value is `soft_sample > 0.5` as 0/1;
      otherwise `one_hot(argmax(soft_sample))`.

  Returns:
    A Tensor of the shape and dtype of `soft_sample`, exactly one-hot (or 0/1)
    in value, whose gradient is the gradient of `soft_sample`.

  #### Example

  ```python
  d = tfg.GumbelSoftmax(0.5, logits=[0., 1., 2.])
  hard = tfg.estimators.straight_through(d.sample(seed=(1, 2)))
  ```
  """
  soft_sample = tf.convert_to_tensor(soft_sample, dtype_hint=tf.float32)
  if binary:
    hard = tf.cast(soft_sample > 0.5, soft_sample.dtype)
  else:
    hard = categorical.one_hot_argmax(tf_xp, soft_sample)
  return _replace_gradient(hard, soft_sample)


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
  logits = tf.convert_to_tensor(logits, dtype_hint=tf.float32, name="logits")
  # Any dtype that casts to bool: a float, int or bool one-hot.
  sample = tf.convert_to_tensor(sample, dtype_hint=logits.dtype, name="sample")
  return categorical.conditional_gumbel(tf_xp, logits, sample, num_samples,
                                        seed)


def _prepare(logits, temperature, categorical):
  """Tensors in the compute dtype, the temperature aligned with `logits`, and
  the dtype the result is rounded to (`_dtypes.compute_dtype`: float16 and
  bfloat16 are computed in float32 and rounded once, in `_replace_gradient`).
  """
  _checks.positive_values(tf.get_static_value(temperature), "temperature")
  dtype = _dtypes.float_dtype(logits=logits, temperature=temperature)
  logits = _dtypes.computed(logits, dtype, "logits")
  temperature = _dtypes.computed(temperature, dtype, "temperature")
  if categorical:
    if logits.shape.rank == 0:
      raise ValueError("`logits` must have the classes on its last axis, got "
                       "a scalar.")
    temperature = temperature[..., tf.newaxis]
  return logits, temperature, dtype


def _noise_shape(logits, temperature):
  return tf.broadcast_dynamic_shape(tf.shape(logits), tf.shape(temperature))


def _gumbel_perturbed(logits, temperature, seed):
  """`logits` broadcast against the temperature, and `logits + g`, g Gumbel."""
  logits = tf.broadcast_to(logits, _noise_shape(logits, temperature))
  return logits, logits + noise.gumbel(tf_xp, tf.shape(logits), seed,
                                      logits.dtype)


def gumbel_softmax_st(logits, temperature, seed=None):
  """Straight-through Gumbel-Softmax (Jang et al. 2017), in one call.

  The forward value is the Gumbel-max sample `one_hot(argmax(logits + g))`
  (exactly `Categorical(logits)`); the gradient is that of the Gumbel-Softmax
  sample `softmax((logits + g) / t)` with the same noise `g`. Biased for any
  `t > 0`; the bias shrinks and the variance grows as `t -> 0`.

  Args:
    logits: float Tensor `[..., K]`.
    temperature: positive float Tensor broadcasting with `logits[..., 0]`.
    seed: TFP seed.

  Returns:
    One-hot Tensor of the dtype of `logits`.

  #### Example

  ```python
  logits = tf.Variable([[0., 1., 2.]])
  with tf.GradientTape() as tape:
    d = tfg.estimators.gumbel_softmax_st(logits, 0.5, seed=(1, 2))
    loss = tf.reduce_sum(d * [1., -1., 3.])
  tape.gradient(loss, logits)
  ```
  """
  logits, temperature, dtype = _prepare(logits, temperature, categorical=True)
  logits, perturbed = _gumbel_perturbed(logits, temperature, seed)
  # The hard value is the argmax of the perturbed logits, not of the softmax:
  # at small t the softmax rounds several coordinates to 1 or 0 and its argmax
  # would break ties towards the first class. An impossible class has a
  # perturbed logit of -inf and is never the argmax.
  return _replace_gradient(
      categorical.one_hot_argmax(tf_xp, perturbed),
      categorical.tempered_softmax(tf_xp, perturbed, temperature,
                                masking.possible(tf_xp, logits)), dtype)


def gumbel_sigmoid_st(logits, temperature, seed=None):
  """Straight-through Gumbel-Sigmoid: binary 0/1 samples.

  The forward value is `logits + l > 0` as 0/1 with `l` standard Logistic
  (exactly `Bernoulli(logits)`); the gradient is that of the Gumbel-Sigmoid
  sample `sigmoid((logits + l) / t)` with the same `l`.

  Args:
    logits: float Tensor of log-odds, any shape.
    temperature: positive float Tensor broadcasting with `logits`.
    seed: TFP seed.

  Returns:
    0/1 Tensor of the dtype of `logits`.

  #### Example

  ```python
  logits = tf.Variable([-float("inf"), -1., 0., 2., float("inf")])
  with tf.GradientTape() as tape:
    b = tfg.estimators.gumbel_sigmoid_st(logits, 0.5, seed=(1, 2))
    loss = tf.reduce_sum(b * [1., 2., 3., 4., 5.])
  tape.gradient(loss, logits)   # 0 at the (deterministic) infinite logits
  ```
  """
  logits, temperature, dtype = _prepare(logits, temperature, categorical=False)
  perturbed = logits + noise.logistic(
      tf_xp, _noise_shape(logits, temperature), seed, logits.dtype)
  # Logits of +-inf (probability 1 or 0) are deterministic: the surrogate is
  # the hard value itself, with a gradient of 0.
  hard, soft = binary.hard_and_relaxed(tf_xp, perturbed, temperature)
  return _replace_gradient(hard, soft, dtype)


def gumbel_rao(logits, temperature, num_samples=10, seed=None):
  """Gumbel-Rao Monte Carlo straight-through (Paulus et al. 2021).

  Draws `D ~ Categorical(logits)` by Gumbel-max, then `num_samples` Gumbel
  perturbations conditioned on `argmax = D` (`conditional_gumbel`), and
  back-propagates the mean of their softmaxes. The forward value is `D`.

  Gradients do *not* flow through the conditional noise: the surrogate is
  `mean_s softmax((logits + stop_gradient(g_s)) / t)`, so the estimator is
  the Monte Carlo estimate of `E[grad of ST-GS | D]`, a Rao-Blackwellization
  of `gumbel_softmax_st`: the same expectation, and a variance that can only
  be smaller, decreasing with `num_samples` (`num_samples=1` has the law of
  ST-GS). Differentiating through the conditional sampler as well would
  change the expectation.

  Args:
    logits: float Tensor `[..., K]`.
    temperature: positive float Tensor broadcasting with `logits[..., 0]`.
    num_samples: Python int >= 1, conditional draws per sample.
    seed: TFP seed.

  Returns:
    One-hot Tensor of the dtype of `logits`.

  Raises:
    ValueError: `num_samples` is not a positive integer.

  #### Example

  ```python
  logits = tf.Variable([[0., 1., 2., -float("inf")]])   # class 3 forbidden
  with tf.GradientTape() as tape:
    d = tfg.estimators.gumbel_rao(logits, 0.5, num_samples=20, seed=(1, 2))
    loss = tf.reduce_sum(d * [1., -1., 3., 5.])
  tape.gradient(loss, logits)   # exactly 0 for the forbidden class
  ```
  """
  _checks.integer(num_samples, "num_samples")
  logits, temperature, dtype = _prepare(logits, temperature, categorical=True)
  hard_seed, conditional_seed = tfp.random.split_seed(seed, n=2)
  logits, perturbed = _gumbel_perturbed(logits, temperature, hard_seed)
  hard = categorical.one_hot_argmax(tf_xp, perturbed)
  surrogate = straight_through_kernels.gumbel_rao_surrogate(
      tf_xp, logits, temperature, hard, masking.possible(tf_xp, logits),
      num_samples, conditional_seed)
  return _replace_gradient(hard, surrogate, dtype)


def reinmax(logits, temperature, seed=None):
  """ReinMax (Liu et al. 2023): straight-through with a second-order correction.

  The forward value is `D ~ Categorical(logits)`. The backward pass is Heun's
  method applied to the straight-through integral: with `pi0 = softmax(logits)`
  and `pi1 = (D + softmax(logits / t)) / 2`, the gradient is that of

  ```none
  2 pi1 - pi0 / 2,
  ```

  where `pi1` is differentiated as a softmax evaluated at `pi1` (the
  Jacobian `diag(pi1) - pi1 pi1^T`). Neither the sample nor the surrogate
  depends on `t` in a differentiable way, so `temperature` gets no gradient.

  Temperature range: the temperature only shapes `pi1`. The paper (and its
  reference code, which rejects `t < 1`) uses `t >= 1`, where ReinMax is less
  biased than straight-through; as `t -> inf`, `pi1 -> (D + 1/K) / 2`. Smaller
  `t` is accepted here (everything stays finite down to `t = 1e-3`), but `pi1`
  then tends to `(D + one_hot(argmax logits)) / 2` and the estimate loses its
  second-order accuracy.

  Args:
    logits: float Tensor `[..., K]`.
    temperature: positive float Tensor broadcasting with `logits[..., 0]`.
    seed: TFP seed.

  Returns:
    One-hot Tensor of the dtype of `logits`.

  #### Example

  ```python
  # One row per state, the forbidden actions at -inf (a different mask per row).
  logits = tf.Variable([[0., 1., -float("inf")], [-float("inf"), 2., 0.]])
  with tf.GradientTape() as tape:
    actions = tfg.estimators.reinmax(logits, 1.5, seed=(1, 2))
    reward = tf.reduce_sum(actions * [[1., -1., 3.], [0., 2., 1.]])
  tape.gradient(reward, logits)   # 0 at the forbidden actions
  ```
  """
  logits, temperature, dtype = _prepare(logits, temperature, categorical=True)
  logits, perturbed = _gumbel_perturbed(logits, temperature, seed)
  hard = categorical.one_hot_argmax(tf_xp, perturbed)
  surrogate = straight_through_kernels.reinmax_surrogate(
      tf_xp, logits, temperature, hard, masking.possible(tf_xp, logits))
  return _replace_gradient(hard, surrogate, dtype)


_ESTIMATORS = {
    "st": gumbel_softmax_st,
    "gumbel_rao": gumbel_rao,
    "reinmax": reinmax,
}


def get(name):
  """The categorical estimator called `name`: "st", "gumbel_rao" or "reinmax".

  Each is callable as `fn(logits, temperature, seed=seed)`.

  Args:
    name: "st", "gumbel_rao" or "reinmax".

  Returns:
    The estimator function.

  Raises:
    ValueError: an unknown name; the message lists the valid ones.

  #### Example

  ```python
  estimator = tfg.estimators.get("reinmax")
  estimator(tf.constant([[0., 1., 2.]]), 1.5, seed=(1, 2))
  ```
  """
  try:
    return _ESTIMATORS[name]
  except (KeyError, TypeError):
    raise ValueError(
        f"Unknown estimator {name!r}; valid choices are "
        f"{', '.join(repr(k) for k in _ESTIMATORS)}.") from None


# Subsets (relaxed top-k, Xie & Ermon 2019).


def top_k_st(logits, k, temperature, seed=None):
  """Straight-through relaxed top-k: exact k-hot samples (Xie & Ermon 2019).

  The forward value is the k-hot vector of the `k` largest perturbed logits
  `logits + g` (Gumbel-top-k: the first `k` items of a
  `tfd.PlackettLuce(softmax(logits))` permutation, i.e. `k` classes drawn
  without replacement); the gradient is that of `tfg.RelaxedTopK`'s relaxed
  sample with the same noise `g`. Classes with `logits = -inf` are never
  chosen (at most the number of finite logits may be asked for).

  Args:
    logits: float Tensor `[..., K]`.
    k: Python int (or scalar int Tensor), `1 <= k <= K`.
    temperature: positive float Tensor broadcasting with `logits[..., 0]`.
    seed: TFP seed.

  Returns:
    k-hot Tensor (exactly k ones) of the dtype of `logits`.

  #### Example

  ```python
  logits = tf.Variable([[0., 1., 2., -1., 0.5]])
  with tf.GradientTape() as tape:
    mask = tfg.estimators.top_k_st(logits, 2, 0.5, seed=(1, 2))
    loss = tf.reduce_sum(mask * [1., -1., 3., 0., 2.])
  tape.gradient(loss, logits)
  ```
  """
  logits, temperature, dtype = _prepare(logits, temperature, categorical=True)
  subsets.check_k(k, logits.shape[-1] if logits.shape.rank else None)
  _, perturbed = _gumbel_perturbed(logits, temperature, seed)
  # The forward set is the top k of the perturbed logits themselves, not of
  # the relaxed sample, whose coordinates round together at small t.
  return _replace_gradient(
      subsets.top_k_mask(tf_xp, perturbed, k),
      subsets.relaxed_top_k(tf_xp, perturbed, k, temperature), dtype)


# Permutations (Gumbel-Sinkhorn, Mena et al. 2018).

SinkhornOptions = sinkhorn.SinkhornOptions
SinkhornResult = sinkhorn.SinkhornResult
SinkhornWarning = sinkhorn.SinkhornWarning


def matching(scores, name=None):
  """The permutation matrix of the maximum-weight matching of `scores`.

  For each `[N, N]` matrix in `scores` returns the 0/1 matrix `P` with one 1
  per row and per column that maximizes `sum_ij P_ij scores_ij` (the
  assignment problem; entry `(i, j)` = 1 assigns item `i` to position `j`),
  solved exactly by `scipy.optimize.linear_sum_assignment(maximize=True)`.
  It is the `t -> 0` limit of `exp(solve_sinkhorn(scores / t).log_p)`.
  `-inf` scores are forbidden assignments.

  Where it runs: eagerly and inside `tf.function`, on CPU, through
  `tf.numpy_function` (the solve runs in Python, one matrix at a time).
  It does not run under XLA (`jit_compile=True`): XLA cannot compile the
  Python call and fails with an error naming `EagerPyFunc`/`PyFunc`. It has
  no gradient (the output is piecewise constant in `scores`); see
  `gumbel_sinkhorn_st` for a straight-through version.

  Args:
    scores: float Tensor `[..., N, N]`.
    name: optional name scope.

  Returns:
    Tensor of the shape and dtype of `scores`, exactly 0/1.

  Raises:
    ValueError: `scores` of rank below 2 or not square.

  #### Example

  ```python
  scores = tf.constant([[0., 5., 1.], [4., 0., 0.], [0., 2., 3.]])
  tfg.estimators.matching(scores)   # [[0, 1, 0], [1, 0, 0], [0, 0, 1]]
  ```
  """
  with tf.name_scope(name or "matching"):
    scores = tf.convert_to_tensor(scores, dtype_hint=tf.float32,
                                  name="scores")
    _check_square(scores, "scores")
    return matching_kernels.matching(tf_xp, scores)


def _check_square(x, name):
  if x.shape.rank is not None and x.shape.rank < 2:
    raise ValueError(f"`{name}` must have rank at least 2, got shape "
                     f"{x.shape}.")
  if (x.shape.rank is not None and None not in x.shape[-2:]
      and x.shape[-1] != x.shape[-2]):
    raise ValueError(f"`{name}` must be square in its last two axes, got "
                     f"shape {x.shape}.")


def solve_sinkhorn(x, num_iters=None, tolerance=None,
                   max_iters=sinkhorn.MAX_ITERS, *, options=None, name=None):
  """Sinkhorn normalization of `exp(x)` in log space, with a report.

  Solves for the doubly-stochastic matrix `P = diag(exp(f)) exp(x)
  diag(exp(g))` (Sinkhorn 1964: the only such scaling of `exp(x)`), the
  relaxation of `tfg.GumbelSinkhorn` and `gumbel_sinkhorn_st` without their
  noise and temperature, and says how far the solve got. By default it is
  solved to `tolerance` (max |row sum - 1|; columns sum to 1 to rounding)
  by Newton's method on the dual, with epsilon scaling and an implicit
  gradient (see `tfg.GumbelSinkhorn`); `num_iters=L` runs exactly `L`
  rounds of row-then-column normalization instead (Mena et al. 2018),
  differentiated through the loop. `-inf` entries are forbidden
  assignments: exactly 0 in `P`, with a zero gradient.

  A solve stopped by `max_iters` before reaching its tolerance is reported
  here by `converged` (False), never raised or warned about; the
  distribution, the estimator and the layer warn eagerly
  (`tfg.estimators.SinkhornWarning`, a RuntimeWarning) when the sample they
  return did not converge.

  Args:
    x: float Tensor `[..., N, N]` (e.g. `logits / temperature`).
    num_iters: `None` (solved to `tolerance`) or a positive Python int,
      a fixed number of rounds.
    tolerance: `None` (1e-5 in float32, 1e-10 in float64) or a float in
      (0, 1): the largest |row sum - 1|. It is raised to the float's
      resolution of `x` where that is coarser (about
      `4 * eps * (max x - min x + N)`).
    max_iters: positive Python int, the cap on Newton steps.
    options: a `SinkhornOptions`, instead of the three arguments above.
    name: optional name scope.

  Returns:
    A `SinkhornResult`: `log_p` (`[..., N, N]`, the dtype of `x`), `error`
    (`[...]`, max |row sum - 1| of each matrix), `steps` (the Newton steps,
    or rounds, the batch took), `converged` (`[...]`, `error <= tolerance`)
    and `tolerance` (`[...]`, the tolerance applied). float16 and bfloat16
    are solved in float32; `log_p` is rounded to the dtype of `x`.

  Raises:
    ValueError: `x` of rank below 2 or not square; `num_iters` or
      `max_iters` not a positive integer, `tolerance` not in (0, 1); both
      `options` and one of the three.

  #### Example

  ```python
  x = tf.random.stateless_normal([4, 4], seed=(1, 2)) / 0.1
  result = tfg.estimators.solve_sinkhorn(x)
  p = tf.exp(result.log_p)                  # rows and columns sum to 1
  result.converged, result.error, result.steps   # True, <= 1e-5, a few
  capped = tfg.estimators.solve_sinkhorn(x / 0.01, max_iters=1)
  capped.converged                          # False: stopped at max_iters
  rounds = tfg.estimators.solve_sinkhorn(x, num_iters=20)
  rounds.steps, rounds.error                # 20, rows' error after 20 rounds
  ```
  """
  if options is None:
    options = sinkhorn.SinkhornOptions(num_iters, tolerance, max_iters)
  elif (num_iters, tolerance, max_iters) != (None, None, sinkhorn.MAX_ITERS):
    raise ValueError("Pass either `options` or `num_iters`, `tolerance`, "
                     "`max_iters`, not both.")
  with tf.name_scope(name or "solve_sinkhorn"):
    x = tf.convert_to_tensor(x, dtype_hint=tf.float32, name="x")
    _check_square(x, "x")
    dtype = x.dtype
    x = tf.cast(x, _dtypes.compute_dtype(dtype))
    result = sinkhorn.solve(tf_xp, x, options)
    return result._replace(log_p=tf.cast(result.log_p, dtype))


def gumbel_sinkhorn_st(logits, temperature, seed=None, num_iters=None,
                       tolerance=None, max_iters=sinkhorn.MAX_ITERS):
  """Straight-through Gumbel-Sinkhorn: exact permutation matrices.

  The forward value is `matching(logits + G)`, the permutation matrix of the
  maximum-weight matching of the Gumbel-perturbed logits; the gradient is
  that of the Gumbel-Sinkhorn sample `exp(solve_sinkhorn((logits + G) /
  t).log_p)` with the same `G` (`tfg.GumbelSinkhorn`). Like `matching`, it
  runs eagerly and in `tf.function` but not under XLA. Eagerly, a relaxed
  sample stopped by `max_iters` before its tolerance warns
  (`SinkhornWarning`).

  Args:
    logits: float Tensor `[..., N, N]`.
    temperature: positive float Tensor broadcasting with `logits[..., 0, 0]`.
    seed: TFP seed.
    num_iters: `None` (the relaxed sample solved to `tolerance`) or a
      positive Python int, fixed Sinkhorn rounds (see `tfg.GumbelSinkhorn`).
    tolerance: `None` (the dtype's default) or a float in (0, 1), the
      relaxed sample's largest |row sum - 1|.
    max_iters: positive Python int, the cap on Newton steps.

  Returns:
    0/1 permutation matrices of the dtype of `logits`, of the broadcast
    shape of `logits` and the temperature.

  Raises:
    ValueError: `logits` of rank below 2; `num_iters` or `max_iters` not a
      positive integer, `tolerance` not in (0, 1).

  #### Example

  ```python
  logits = tf.Variable(tf.random.stateless_normal([4, 4], seed=(1, 2)))
  with tf.GradientTape() as tape:
    p = tfg.estimators.gumbel_sinkhorn_st(logits, 0.5, seed=(1, 2))
    loss = tf.reduce_sum(p * tf.reshape(tf.range(16.), [4, 4]))
  tape.gradient(loss, logits)
  ```
  """
  logits, temperature, dtype = _prepare(logits, temperature, categorical=True)
  if logits.shape.rank is not None and logits.shape.rank < 2:
    raise ValueError(f"`logits` must have rank at least 2, got shape "
                     f"{logits.shape}.")
  options = sinkhorn.SinkhornOptions(num_iters, tolerance, max_iters)
  temperature = temperature[..., tf.newaxis]
  _, perturbed = _gumbel_perturbed(logits, temperature, seed)
  soft = tf.exp(sinkhorn.log_sinkhorn(
      tf_xp,
      categorical.tempered(tf_xp, perturbed, temperature, masking.possible(tf_xp, logits)),
      options))
  return _replace_gradient(matching(perturbed), soft, dtype)


# Rankings (stochastic NeuralSort, Grover et al. 2019).


def plackett_luce_st(logits, temperature, seed=None):
  """Straight-through relaxed Plackett-Luce: exact permutation matrices.

  With `g` standard Gumbel noise, the forward value is the permutation matrix
  that sorts `logits + g` in decreasing order (row `i` is the one-hot of the
  item of rank `i`), exactly `tfd.PlackettLuce(exp(logits))`-distributed; the
  gradient is that of the NeuralSort relaxation with the same noise, the
  sample of `tfg.RelaxedPlackettLuce(temperature, exp(logits))` (Grover et al.
  2019). Taking log-scores keeps the estimator defined for any real network
  output.

  Args:
    logits: float Tensor `[..., N]`: log-scores of the `N` items.
    temperature: positive float Tensor broadcasting with `logits[..., 0]`.
    seed: TFP seed.

  Returns:
    Tensor `[..., N, N]` of exact 0/1 permutation matrices, dtype of `logits`.

  #### Example

  ```python
  logits = tf.Variable([0., 1., 2.])
  with tf.GradientTape() as tape:
    p = tfg.estimators.plackett_luce_st(logits, 0.5, seed=(1, 2))
    loss = tf.reduce_sum(p @ tf.constant([[3.], [2.], [1.]]) * [[1.], [2.], [3.]])
  tape.gradient(loss, logits)
  ```
  """
  logits, temperature, dtype = _prepare(logits, temperature, categorical=True)
  _, perturbed = _gumbel_perturbed(logits, temperature, seed)
  hard = sorting.sort_matrix(tf_xp, perturbed)
  return _replace_gradient(
      hard, sorting.neural_sort(tf_xp, perturbed, temperature[..., 0]),
      dtype)
