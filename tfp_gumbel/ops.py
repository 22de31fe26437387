"""The relaxations as functions on any Keras 3 backend: `tfg.ops`.

Each function takes and returns the tensors of the backend Keras runs
(TensorFlow, JAX or PyTorch), is built on the package's kernels with the
`keras.ops` namespace (`tfp_gumbel._backend.keras_ops`), and imports Keras,
never TensorFlow or TFP itself: under `KERAS_BACKEND=jax` or `torch`,
`import tfp_gumbel.ops` and its calls import no TensorFlow. The math is the
one of the TFP families and `tfg.estimators` (same kernels), and on the same
noise the results agree with theirs to a few ulps.

| function | relaxed sample (`hard=False`) | hard sample (`hard=True`), gradient of |
|---|---|---|
| `gumbel_softmax` | `softmax((logits + g) / t)` | `one_hot(argmax(logits + g))`: the relaxed sample (`"st"`), Gumbel-Rao, ReinMax |
| `gumbel_sigmoid` | `sigmoid((logits + l) / t)` | `logits + l > 0` as 0/1 |
| `relaxed_top_k` | Xie & Ermon's relaxed k-hot of `logits + g` | the k-hot of the top k of `logits + g` |
| `relaxed_sort` | NeuralSort of `log_scores + g` (Plackett-Luce) | the permutation sorting `log_scores + g` |
| `gumbel_sinkhorn` | `exp(sinkhorn((logits + G) / t))` | `matching(logits + G)` |
| `neural_sort`, `sinkhorn`, `matching` | the deterministic maps (no noise) | |

`g` is standard Gumbel noise, `l` standard Logistic; a hard sample is exact
(one-hot, 0/1, k-hot, a permutation matrix) in value, with the gradient of
its relaxed sample on the same noise (straight-through: `hard + soft -
stop_gradient(soft)`) unless an estimator says otherwise.

Seeds are what `keras.random` takes: `None` draws fresh noise at each call
(eagerly; inside a compiled function on JAX a `None` or int seed is fixed
when the function is traced, so every step would draw the same noise), an
int gives the same noise at every call, and a `keras.random.SeedGenerator`
advances at every draw: the choice for layers and compiled training steps
(in a stateless JAX step, pass its state through `keras.StatelessScope`).

Impossible classes: a logit (or score) of `-inf` is exactly 0 in every
sample, never chosen by a hard sample, with exactly zero gradient. float16
and bfloat16 inputs are computed in float32 and rounded once at the end.
Shapes are static (known when the function is traced), as JAX requires.

#### Example

```python
logits = keras.ops.convert_to_tensor([[0., 1., 2.], [1., 1., -float("inf")]])
seed = keras.random.SeedGenerator(1)
soft = tfg.ops.gumbel_softmax(logits, 0.5, seed=seed)              # rows sum to 1
hard = tfg.ops.gumbel_softmax(logits, 0.5, seed=seed, hard=True)   # one-hot
```

References:
  [1] Eric Jang, Shixiang Gu, Ben Poole. Categorical Reparameterization with
      Gumbel-Softmax. ICLR 2017.
  [2] Chris J. Maddison, Andriy Mnih, Yee Whye Teh. The Concrete
      Distribution. ICLR 2017.
  [3] Max B. Paulus, Chris J. Maddison, Andreas Krause. Rao-Blackwellizing
      the Straight-Through Gumbel-Softmax Gradient Estimator. ICLR 2021.
  [4] Liyuan Liu et al. Bridging Discrete and Backpropagation:
      Straight-Through and Beyond. NeurIPS 2023.
  [5] Sang Michael Xie, Stefano Ermon. Reparameterizable Subset Sampling via
      Continuous Relaxations. IJCAI 2019.
  [6] Aditya Grover, Eric Wang, Aaron Zweig, Stefano Ermon. Stochastic
      Optimization of Sorting Networks via Continuous Relaxations. ICLR 2019.
  [7] Gonzalo Mena, David Belanger, Scott Linderman, Jasper Snoek. Learning
      Latent Permutations with Gumbel-Sinkhorn Networks. ICLR 2018.
"""

from tfp_gumbel import _requirements

_requirements.require_keras("tfp_gumbel.ops")

import keras  # pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position

from tfp_gumbel import _checks  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._backend import keras_ops as xp  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._kernels import binary  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._kernels import categorical  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._kernels import masking  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._kernels import matching as matching_kernels  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._kernels import noise  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._kernels import sinkhorn as sinkhorn_kernels  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._kernels import sorting  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._kernels import straight_through  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._kernels import subsets  # pylint: disable=g-import-not-at-top,wrong-import-position

__all__ = [
    "gumbel_sigmoid",
    "gumbel_sinkhorn",
    "gumbel_softmax",
    "matching",
    "neural_sort",
    "relaxed_sort",
    "relaxed_top_k",
    "sinkhorn",
]

ESTIMATORS = ("st", "gumbel_rao", "reinmax")

_NARROW = ("float16", "bfloat16")


def _as_float(x, name):
  """`x` as a tensor in its compute dtype, and the dtype to round back to:
  a float dtype is kept, anything else becomes `keras.config.floatx()`;
  float16 and bfloat16 are computed in float32."""
  x = keras.ops.convert_to_tensor(x)
  dtype = keras.backend.standardize_dtype(x.dtype)
  if dtype not in ("float16", "bfloat16", "float32", "float64"):
    if dtype == "bool" or not (dtype.startswith("int")
                               or dtype.startswith("uint")):
      raise TypeError(f"`{name}` must be a float (or int) tensor, got "
                      f"dtype {dtype}.")
    dtype = keras.config.floatx()
  compute = "float32" if dtype in _NARROW else dtype
  return xp.cast(x, compute), dtype


def _check_rank(x, event_ndims, name, what):
  rank = len(keras.ops.shape(x))
  if rank < event_ndims:
    raise ValueError(f"`{name}` must have {what}, got shape "
                     f"{_static_shape(x)}.")


def _static_shape(x):
  """`x`'s shape as known when the function is traced: ints, and None for a
  dimension known only when a TensorFlow graph runs."""
  return tuple(None if d is None else int(d) for d in x.shape)


def _check_square(x, name):
  _check_rank(x, 2, name, "rank at least 2")
  shape = _static_shape(x)
  if None not in shape[-2:] and shape[-1] != shape[-2]:
    raise ValueError(f"`{name}` must be square in its last two axes, got "
                     f"shape {shape}.")


def _temperature(temperature, compute, event_ndims):
  """The temperature in the compute dtype, with `event_ndims` axes appended
  so that it broadcasts against the events. A value known now (a Python
  number, a list, a numpy array) must be positive and finite: t <= 0 would
  give NaN samples silently."""
  if isinstance(temperature, (int, float, list, tuple, np.ndarray,
                              np.number)):
    _checks.positive_values(np.asarray(temperature), "temperature")
  t = xp.cast(keras.ops.convert_to_tensor(temperature), compute)
  for _ in range(event_ndims):
    t = keras.ops.expand_dims(t, -1)
  return t


def _broadcast(x, t):
  """`x` broadcast against the temperature: the shape of the samples. A
  temperature of one element (the usual case) changes nothing; otherwise
  zeros of its shape are added, which is exact (`x + 0 == x`) and works
  where a dimension is known only when the graph runs (TensorFlow's unknown
  batch size in `fit`), which a shape computed in Python could not."""
  t_shape = tuple(keras.ops.shape(t))
  if len(t_shape) <= len(keras.ops.shape(x)) and all(
      isinstance(d, int) and d == 1 for d in t_shape):
    return x
  return x + keras.ops.zeros_like(t)


def _check_seed(seed):
  if not (seed is None or isinstance(seed, keras.random.SeedGenerator)
          or (isinstance(seed, (int, np.integer))
              and not isinstance(seed, (bool, np.bool_)))):
    raise ValueError(
        f"`seed` must be None, an int or a `keras.random.SeedGenerator`, "
        f"got {seed!r}.")


def _seeds(seed, n):
  """`n` seeds for the `n` independent draws of one call.

  A SeedGenerator advances at each draw and None draws afresh, so they are
  used as they are. An int is a fixed seed: used twice, it would draw the
  same numbers twice, so the later draws take ints derived from it (the
  same for the same int, independent of it).
  """
  _check_seed(seed)
  if seed is None or isinstance(seed, keras.random.SeedGenerator):
    return [seed] * n
  derived = np.random.SeedSequence([int(seed) % 2**32, 1]).generate_state(n)
  return [int(seed)] + [int(s) % 2**31 for s in derived[1:]]


def _straight_through(hard, soft, dtype):
  """`hard` in value, the gradient of `soft`
  (`straight_through.replace_gradient`), rounded to `dtype` once."""
  return xp.cast(straight_through.replace_gradient(xp, hard, soft), dtype)


def _gumbel_perturbed(logits, t, seed):
  """`logits` broadcast against `t`, and `logits + g`, g Gumbel."""
  logits = _broadcast(logits, t)
  return logits, _plus_gumbel(logits, seed)


def _plus_gumbel(logits, seed):
  """`logits + g`, `g` standard Gumbel noise of the shape of `logits`."""
  return logits + noise.gumbel(xp, tuple(keras.ops.shape(logits)), seed,
                               logits.dtype)


def gumbel_softmax(logits, temperature, seed=None, hard=False,
                   estimator="st", num_samples=10):
  """A Gumbel-Softmax (Concrete) sample, relaxed or hard.

  The relaxed sample is `y = softmax((logits + g) / t)`, `g` i.i.d. standard
  Gumbel: a point on the simplex that tends to the one-hot Gumbel-max sample
  `one_hot(argmax(logits + g))` (exactly `Categorical(logits)`) as `t -> 0`
  and to the uniform `1 / K` as `t -> inf`. With `hard=True` the value is
  that one-hot sample, and its gradient is the `estimator`'s:

  ```none
  "st":          d one_hot / d logits := d softmax((logits + g) / t) / d logits
  "gumbel_rao":  ... of mean_s softmax((logits + g_s) / t),
                 g_s ~ Gumbel | argmax(logits + g_s) = argmax(logits + g)
  "reinmax":     ... of 2 pi1 - pi0 / 2,  pi0 = softmax(logits),
                 pi1 = (D + softmax(logits / t)) / 2 (D the one-hot sample),
                 pi1 differentiated as a softmax evaluated at pi1
  ```

  as `tfg.estimators.gumbel_softmax_st`, `gumbel_rao` and `reinmax` define
  them (straight-through, Jang et al. 2017; Gumbel-Rao, Paulus et al. 2021,
  `num_samples` conditional draws, variance falling with them; ReinMax, Liu
  et al. 2023, meant for `t >= 1`, where `temperature` gets no gradient).

  Args:
    logits: float tensor `[..., K]`; `-inf` is an impossible class (exactly
      0, never chosen, zero gradient).
    temperature: positive float (or tensor broadcasting with
      `logits[..., 0]`).
    seed: None, an int or a `keras.random.SeedGenerator` (module docstring).
    hard: whether to return the exact one-hot sample.
    estimator: the gradient of the hard sample: "st", "gumbel_rao" or
      "reinmax".
    num_samples: positive int, Gumbel-Rao's conditional draws.

  Returns:
    A tensor of the broadcast shape of `logits` and the temperature, in the
    dtype of `logits` (floatx for an int one).

  Raises:
    ValueError: an unknown `estimator`, a `temperature` known to be <= 0, a
      scalar `logits`, a `num_samples` that is not a positive int, or a
      `seed` of another kind.

  #### Example

  ```python
  logits = keras.Variable([[0., 1., 2.]])
  seed = keras.random.SeedGenerator(0)
  y = tfg.ops.gumbel_softmax(logits, 0.5, seed=seed)         # on the simplex
  d = tfg.ops.gumbel_softmax(logits, 0.5, seed=seed, hard=True,
                             estimator="gumbel_rao", num_samples=8)
  keras.ops.sum(d, axis=-1)                                   # [1.]
  ```
  """
  return _gumbel_softmax(logits, temperature, seed, hard, estimator,
                         num_samples)


def _gumbel_softmax(logits, temperature, seed=None, hard=False,
                    estimator="st", num_samples=10, finite=False):
  """`gumbel_softmax`; `finite=True` skips the masking of -inf logits (the
  same numbers where none is -inf): for a caller that knows every logit is
  finite, or that no gradient reaches the temperature (IEEE arithmetic
  alone gives a -inf logit exactly 0 and a zero gradient; only d/dt would
  read `0 * inf`). Gumbel-Rao and ReinMax always mask."""
  if estimator not in ESTIMATORS:
    raise ValueError(f"Unknown estimator {estimator!r}; valid choices are "
                     f"{', '.join(repr(e) for e in ESTIMATORS)}.")
  if hard and estimator == "gumbel_rao":
    num_samples = _checks.integer(num_samples, "num_samples")
  logits, dtype = _as_float(logits, "logits")
  _check_rank(logits, 1, "logits", "the classes on its last axis")
  t = _temperature(temperature, logits.dtype, 1)
  seeds = _seeds(seed, 2 if hard and estimator == "gumbel_rao" else 1)
  if not hard or estimator == "st":
    return xp.cast(_gumbel_softmax_sample(_broadcast(logits, t), t, seeds[0],
                                          hard, finite), dtype)
  logits, perturbed = _gumbel_perturbed(logits, t, seeds[0])
  possible = masking.possible(xp, logits)
  one_hot = categorical.one_hot_argmax(xp, perturbed)
  if estimator == "gumbel_rao":
    surrogate = straight_through.gumbel_rao_surrogate(
        xp, logits, t, one_hot, possible, num_samples, seeds[1])
  else:
    surrogate = straight_through.reinmax_surrogate(xp, logits, t, one_hot,
                                                   possible)
  return _straight_through(one_hot, surrogate, dtype)


def _gumbel_softmax_sample(logits, t, seed, hard, finite):
  """The relaxed or straight-through `gumbel_softmax` of arguments already
  checked, in their compute dtype, `t` broadcasting against `logits` without
  enlarging it (as `_gumbel_sigmoid_sample`)."""
  perturbed = _plus_gumbel(logits, seed)
  soft = categorical.tempered_softmax(
      xp, perturbed, t, None if finite else masking.possible(xp, logits))
  if not hard:
    return soft
  # The one-hot of the perturbed logits themselves, not of the softmax: at
  # small t the softmax rounds several coordinates to 1 or 0 and its argmax
  # would pick the first of them. An impossible class is never the argmax.
  return straight_through.replace_gradient(
      xp, categorical.one_hot_argmax(xp, perturbed), soft)


def gumbel_sigmoid(logits, temperature, seed=None, hard=False):
  """A Gumbel-Sigmoid (binary Concrete) sample, relaxed or hard (0/1).

  The relaxed sample is `sigmoid((logits + l) / t)`, `l` standard Logistic:
  it tends to the Bernoulli sample `logits + l > 0` as `t -> 0` and to 1/2
  as `t -> inf`. With `hard=True` the value is that exact 0/1 sample, with
  the gradient of the relaxed one on the same `l` (straight-through):

  ```none
  y = sigmoid((logits + l) / t),   b = [logits + l > 0] ~ Bernoulli(sigmoid(logits))
  ```

  Logits of `+inf` / `-inf` (probability 1 / 0) give the certain 1 / 0 with
  a gradient of exactly 0.

  Args:
    logits: float tensor of log-odds, any shape.
    temperature: positive float (or tensor broadcasting with `logits`).
    seed: None, an int or a `keras.random.SeedGenerator`.
    hard: whether to return the exact 0/1 sample.

  Returns:
    A tensor of the broadcast shape of `logits` and the temperature, in the
    dtype of `logits`.

  #### Example

  ```python
  logits = keras.ops.convert_to_tensor([-float("inf"), -1., 0., 2.])
  b = tfg.ops.gumbel_sigmoid(logits, 0.5, seed=1, hard=True)   # 0/1, b[0] = 0
  ```
  """
  return _gumbel_sigmoid(logits, temperature, seed, hard)


def _gumbel_sigmoid(logits, temperature, seed=None, hard=False,
                    finite=False):
  """`gumbel_sigmoid`; `finite=True` skips the masking of infinite logits,
  as `_gumbel_softmax` (sigmoid(+-inf) is the atom, with a zero gradient,
  except d/dt)."""
  logits, dtype = _as_float(logits, "logits")
  t = _temperature(temperature, logits.dtype, 0)
  (seed,) = _seeds(seed, 1)
  return xp.cast(
      _gumbel_sigmoid_sample(_broadcast(logits, t), t, seed, hard, finite),
      dtype)


def _gumbel_sigmoid_sample(logits, t, seed, hard, finite):
  """`gumbel_sigmoid` of arguments already checked, in their compute dtype,
  `t` broadcasting against `logits` without enlarging it: what a layer that
  prepared them calls directly (each check or cast skipped is a call's
  overhead saved, on PyTorch eagerly)."""
  perturbed = logits + noise.logistic(xp, tuple(keras.ops.shape(logits)),
                                      seed, logits.dtype)
  # Infinite log-odds are certain: their sample is the atom, with gradient 0.
  if not hard:
    return binary.relaxed(xp, perturbed, t, finite)
  one_zero, soft = binary.hard_and_relaxed(xp, perturbed, t, finite)
  return straight_through.replace_gradient(xp, one_zero, soft)


def relaxed_top_k(logits, k, temperature, seed=None, hard=False):
  """A relaxed k-hot sample of `k` classes drawn without replacement.

  With `g` standard Gumbel noise, the top `k` of `logits + g` are `k`
  classes drawn without replacement from `softmax(logits)` (the first `k` of
  a Plackett-Luce permutation). The relaxed k-hot vector (Xie & Ermon 2019)
  is the sum of `k` successive softmaxes, each with the mass of the earlier
  ones taken out:

  ```none
  alpha_1 = logits + g,  a_j = softmax(alpha_j / t),
  alpha_{j+1} = alpha_j + log(1 - a_j),  y = sum_{j<=k} a_j
  ```

  summing to `k`, tending to the exact k-hot as `t -> 0`. With `hard=True`
  the value is that k-hot vector, with the gradient of `y` on the same `g`.
  Classes with logit `-inf` are never chosen (ask for at most as many as
  are possible).

  Args:
    logits: float tensor `[..., K]`.
    k: Python int, `1 <= k <= K`.
    temperature: positive float (or tensor broadcasting with
      `logits[..., 0]`).
    seed: None, an int or a `keras.random.SeedGenerator`.
    hard: whether to return the exact k-hot sample.

  Returns:
    A tensor of the broadcast shape of `logits` and the temperature, in the
    dtype of `logits`, summing to `k` on the last axis.

  Raises:
    ValueError: `k` outside 1..K.

  #### Example

  ```python
  logits = keras.ops.convert_to_tensor([0., 1., 2., -1., 0.5])
  mask = tfg.ops.relaxed_top_k(logits, 2, 0.5, seed=1, hard=True)
  keras.ops.sum(mask)                                        # 2.
  ```
  """
  logits, dtype = _as_float(logits, "logits")
  _check_rank(logits, 1, "logits", "the classes on its last axis")
  subsets.check_k(k, _static_shape(logits)[-1])
  t = _temperature(temperature, logits.dtype, 1)
  (seed,) = _seeds(seed, 1)
  _, perturbed = _gumbel_perturbed(logits, t, seed)
  soft = subsets.relaxed_top_k(xp, perturbed, k, t)
  if not hard:
    return xp.cast(soft, dtype)
  # The top k of the perturbed logits, not of the relaxed sample, whose
  # coordinates round together at small t.
  return _straight_through(subsets.top_k_mask(xp, perturbed, k), soft, dtype)


def neural_sort(scores, temperature):
  """NeuralSort: the relaxed permutation matrix that sorts `scores`.

  Row `i` is a softmax over the items that peaks at the item of rank `i`
  (decreasing order, rank 0 the largest), so the row-wise argmax is the
  sorting permutation at every temperature, and the matrix tends to it as
  `t -> 0` (Grover et al. 2019):

  ```none
  P[i, j] = softmax_j(((N - 1 - 2 i) s_j - sum_k |s_j - s_k|) / t)
  ```

  An item with score `-inf` is absent: it takes the last ranks exactly
  (0/1 rows, in index order) and gets a zero gradient.

  Args:
    scores: float tensor `[..., N]`.
    temperature: positive float (or tensor broadcasting with
      `scores[..., 0]`).

  Returns:
    A tensor `[..., N, N]` (rows the ranks, columns the items), the dtype of
    `scores`.

  #### Example

  ```python
  p = tfg.ops.neural_sort(keras.ops.convert_to_tensor([0.3, 2.0, -1.0]), 0.1)
  keras.ops.argmax(p, axis=-1)                               # [1, 0, 2]
  ```
  """
  scores, dtype = _as_float(scores, "scores")
  _check_rank(scores, 1, "scores", "the items on its last axis")
  t = _temperature(temperature, scores.dtype, 0)
  scores = _broadcast(scores, keras.ops.expand_dims(t, -1))
  return xp.cast(sorting.neural_sort(xp, scores, t), dtype)


def relaxed_sort(log_scores, temperature, seed=None, hard=False):
  """A relaxed Plackett-Luce permutation: NeuralSort of Gumbel-perturbed
  log-scores.

  With `g` standard Gumbel noise, the order of `log_scores + g` is a
  permutation drawn from `PlackettLuce(exp(log_scores))` (the first item
  drawn with probability `softmax(log_scores)`, and so on without
  replacement). The relaxed sample is `neural_sort(log_scores + g, t)`, a
  row-stochastic matrix whose rows are the ranks; with `hard=True` the value
  is the exact permutation matrix that sorts `log_scores + g` (row `i` the
  one-hot of the item of rank `i`), with the gradient of the relaxed one on
  the same `g` (straight-through, Grover et al. 2019).

  ```none
  P_hard[i, j] = [item j has rank i in log_scores + g]
  ```

  Args:
    log_scores: float tensor `[..., N]`; `-inf` is an absent item (a
      Plackett-Luce score of 0): ranked last, zero gradient.
    temperature: positive float (or tensor broadcasting with
      `log_scores[..., 0]`).
    seed: None, an int or a `keras.random.SeedGenerator`.
    hard: whether to return the exact permutation matrix.

  Returns:
    A tensor `[..., N, N]`, the dtype of `log_scores`.

  #### Example

  ```python
  log_scores = keras.ops.convert_to_tensor([0., 1., 2.])
  p = tfg.ops.relaxed_sort(log_scores, 0.5, seed=1, hard=True)
  keras.ops.sum(p, axis=0), keras.ops.sum(p, axis=1)        # all ones
  ```
  """
  log_scores, dtype = _as_float(log_scores, "log_scores")
  _check_rank(log_scores, 1, "log_scores", "the items on its last axis")
  t = _temperature(temperature, log_scores.dtype, 1)
  (seed,) = _seeds(seed, 1)
  _, perturbed = _gumbel_perturbed(log_scores, t, seed)
  soft = sorting.neural_sort(xp, perturbed, t[..., 0])
  if not hard:
    return xp.cast(soft, dtype)
  return _straight_through(sorting.sort_matrix(xp, perturbed), soft, dtype)


def _sinkhorn_options(num_iters, tolerance, max_iters):
  return sinkhorn_kernels.SinkhornOptions(num_iters, tolerance, max_iters)


def sinkhorn(x, num_iters=None, tolerance=None,
             max_iters=sinkhorn_kernels.MAX_ITERS):
  """Sinkhorn normalization of `exp(x)`, in log space.

  Returns `log P` with `P = diag(exp(f)) exp(x) diag(exp(g))` doubly
  stochastic (Sinkhorn 1964: the only such scaling of `exp(x)`):

  ```none
  log P = x + f 1^T + 1 g^T,   P 1 = 1,   P^T 1 = 1
  ```

  By default it is solved to `tolerance` (max |row sum - 1|; columns sum
  to 1 to rounding) by Newton's method on the dual, with an implicit
  gradient (as `tfg.estimators.solve_sinkhorn`); `num_iters=L` runs exactly
  `L` rounds of row-then-column normalization instead (Mena et al. 2018),
  differentiated through the loop. `-inf` entries are forbidden
  assignments: exactly 0 in `P`, with zero gradient. A solve that stops at
  `max_iters` is not reported here (use `tfg.estimators.solve_sinkhorn` on
  TensorFlow for the report).

  Args:
    x: float tensor `[..., N, N]` (e.g. `logits / temperature`).
    num_iters: None (solved to `tolerance`) or a positive int of rounds.
    tolerance: None (1e-5 in float32, 1e-10 in float64) or a float in
      (0, 1), the largest |row sum - 1|.
    max_iters: positive int, the cap on Newton steps.

  Returns:
    `log P`, of the shape and dtype of `x`.

  Raises:
    ValueError: `x` not square in its last two axes; `num_iters` or
      `max_iters` not a positive int, `tolerance` not in (0, 1).

  #### Example

  ```python
  x = keras.random.normal((4, 4), seed=1) / 0.1
  p = keras.ops.exp(tfg.ops.sinkhorn(x))
  keras.ops.sum(p, axis=0), keras.ops.sum(p, axis=1)   # ones, to 1e-5
  ```
  """
  options = _sinkhorn_options(num_iters, tolerance, max_iters)
  x, dtype = _as_float(x, "x")
  _check_square(x, "x")
  return xp.cast(sinkhorn_kernels.log_sinkhorn(xp, x, options), dtype)


def matching(scores):
  """The permutation matrix of the maximum-weight matching of `scores`.

  For each `[N, N]` matrix, the 0/1 matrix `P` with one 1 per row and per
  column maximizing `sum_ij P_ij scores_ij` (the assignment problem), the
  `t -> 0` limit of `exp(sinkhorn(scores / t))`, solved exactly by
  `scipy.optimize.linear_sum_assignment` on the host, one matrix at a time
  (`jax.pure_callback` under JAX, `tf.numpy_function` in a TensorFlow
  graph, a plain call eagerly; XLA cannot compile it on TensorFlow). `-inf`
  scores are forbidden assignments. No gradient: the result is piecewise
  constant.

  ```none
  P = argmax_{P permutation} sum_ij P_ij scores_ij
  ```

  Args:
    scores: float tensor `[..., N, N]`.

  Returns:
    A 0/1 tensor of the shape and dtype of `scores`.

  #### Example

  ```python
  scores = keras.ops.convert_to_tensor([[0., 5., 1.], [4., 0., 0.],
                                        [0., 2., 3.]])
  tfg.ops.matching(scores)            # [[0, 1, 0], [1, 0, 0], [0, 0, 1]]
  ```
  """
  scores, dtype = _as_float(scores, "scores")
  _check_square(scores, "scores")
  return xp.cast(matching_kernels.matching(xp, scores), dtype)


def gumbel_sinkhorn(logits, temperature, seed=None, hard=False,
                    num_iters=None, tolerance=None,
                    max_iters=sinkhorn_kernels.MAX_ITERS):
  """A Gumbel-Sinkhorn sample: a relaxed (or exact) permutation matrix.

  With `G` i.i.d. standard Gumbel noise, the relaxed sample is the Sinkhorn
  normalization of the perturbed logits at temperature `t` (Mena et al.
  2018), doubly stochastic, tending to the matching of `logits + G` as
  `t -> 0`:

  ```none
  P = exp(sinkhorn((logits + G) / t)),   P_hard = matching(logits + G)
  ```

  With `hard=True` the value is `P_hard`, with the gradient of `P` on the
  same `G` (straight-through). `-inf` logits are forbidden assignments.

  Args:
    logits: float tensor `[..., N, N]`.
    temperature: positive float (or tensor broadcasting with
      `logits[..., 0, 0]`).
    seed: None, an int or a `keras.random.SeedGenerator`.
    hard: whether to return the exact permutation matrix (runs the host
      matching: see `matching`).
    num_iters: `None` (solved to `tolerance`) or a positive int of fixed
      rounds (see `sinkhorn`).
    tolerance: `None` (the dtype's default) or a float in (0, 1).
    max_iters: positive int, the cap on the solver's Newton steps.

  Returns:
    A tensor of the broadcast shape of `logits` and the temperature, in the
    dtype of `logits`.

  #### Example

  ```python
  logits = keras.random.normal((4, 4), seed=1)
  p = tfg.ops.gumbel_sinkhorn(logits, 0.5, seed=2)             # doubly stochastic
  perm = tfg.ops.gumbel_sinkhorn(logits, 0.5, seed=2, hard=True)
  ```
  """
  options = _sinkhorn_options(num_iters, tolerance, max_iters)
  logits, dtype = _as_float(logits, "logits")
  _check_square(logits, "logits")
  t = _temperature(temperature, logits.dtype, 2)
  (seed,) = _seeds(seed, 1)
  logits, perturbed = _gumbel_perturbed(logits, t, seed)
  soft = keras.ops.exp(sinkhorn_kernels.log_sinkhorn(
      xp, categorical.tempered(xp, perturbed, t,
                               masking.possible(xp, logits)), options))
  if not hard:
    return xp.cast(soft, dtype)
  return _straight_through(matching_kernels.matching(xp, perturbed), soft,
                           dtype)
