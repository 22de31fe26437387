"""Hard (one-hot or 0/1) samples with straight-through-family gradients.

Every function here returns a value that is *exactly* one-hot (or exactly 0/1
for the binary estimator), distributed as `Categorical(logits)` (or
`Bernoulli(logits)`), whose gradient with respect to `logits` (and, where the
estimator uses it, `temperature`) is the one of the named estimator:

| function            | forward sample          | backward (surrogate)                         |
|---------------------|-------------------------|----------------------------------------------|
| `straight_through`  | argmax of a soft sample | the soft sample                              |
| `gumbel_softmax_st` | Gumbel-max              | `softmax((logits + g) / t)`, same `g`        |
| `gumbel_sigmoid_st` | logistic-threshold      | `sigmoid((logits + l) / t)`, same `l`        |
| `gumbel_rao`        | Gumbel-max              | mean of `softmax((logits + g_s) / t)` over   |
|                     |                         | `g_s ~ Gumbel | argmax = D`                  |
| `reinmax`           | `Categorical(logits)`   | ReinMax's second-order (Heun) correction     |

All accept `temperature` as a Tensor broadcasting with `logits[..., 0]`
(categorical) or `logits` (binary), run under `tf.function(jit_compile=True)`,
keep the dtype of `logits` (float32 or float64), take TFP-style seeds
(`seed=(1, 2)` is stateless), and draw their noise from `tfp_gumbel._noise`.
The returned shape is the broadcast of `logits` with the temperature (that is,
the shape of `logits` when the temperature broadcasts into it).

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

import tensorflow as tf
import tensorflow_probability as tfp

from tfp_gumbel import _noise
from tfp_gumbel import _params

__all__ = [
    "conditional_gumbel",
    "get",
    "gumbel_rao",
    "gumbel_sigmoid_st",
    "gumbel_softmax_st",
    "reinmax",
    "straight_through",
]


def _replace_gradient(value, surrogate):
  """`value` in the forward pass, the gradient of `surrogate` in the backward.

  Written `value + (surrogate - stop_gradient(surrogate))`: the bracket is an
  exact 0, so the forward value is bit-for-bit `value` (exactly one-hot),
  where `(value + surrogate) - surrogate` would round.
  """
  return value + (surrogate - tf.stop_gradient(surrogate))


def _one_hot_argmax(x):
  return tf.one_hot(tf.argmax(x, axis=-1), tf.shape(x)[-1], dtype=x.dtype)


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
  logits = tf.Variable([0., 1., 2.])
  with tf.GradientTape() as tape:
    d = tfg.GumbelSoftmax(0.5, logits=logits)
    hard = tfg.estimators.straight_through(d.sample(seed=(1, 2)))
    loss = tf.reduce_sum(hard * [1., -1., 3.])
  assert tf.reduce_sum(hard) == 1.                # exactly one-hot
  tape.gradient(loss, logits)                     # the soft sample's gradient
  ```
  """
  soft_sample = tf.convert_to_tensor(soft_sample, dtype_hint=tf.float32)
  if binary:
    hard = tf.cast(soft_sample > 0.5, soft_sample.dtype)
  else:
    hard = _one_hot_argmax(soft_sample)
  return _replace_gradient(hard, soft_sample)


def _prepare(logits, temperature, categorical):
  """Common dtype, Tensors, and the temperature aligned with `logits`."""
  dtype = _params.float_dtype(logits=logits, temperature=temperature)
  logits = tf.convert_to_tensor(logits, dtype=dtype, name="logits")
  temperature = tf.convert_to_tensor(temperature, dtype=dtype,
                                     name="temperature")
  if categorical:
    if logits.shape.rank == 0:
      raise ValueError("`logits` must have the classes on its last axis, got "
                       "a scalar.")
    temperature = temperature[..., tf.newaxis]
  return logits, temperature


def _noise_shape(logits, temperature):
  return tf.broadcast_dynamic_shape(tf.shape(logits), tf.shape(temperature))


def _gumbel_perturbed(logits, temperature, seed):
  """`logits` broadcast against the temperature, and `logits + g`, g Gumbel."""
  logits = tf.broadcast_to(logits, _noise_shape(logits, temperature))
  return logits, logits + _noise.gumbel(tf.shape(logits), seed, logits.dtype)


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
  logits, temperature = _prepare(logits, temperature, categorical=True)
  _, perturbed = _gumbel_perturbed(logits, temperature, seed)
  # The hard value is the argmax of the perturbed logits, not of the softmax:
  # at small t the softmax rounds several coordinates to 1 or 0 and its argmax
  # would break ties towards the first class.
  return _replace_gradient(_one_hot_argmax(perturbed),
                           tf.math.softmax(
                               _params.divide_by_temperature(
                                   perturbed, temperature)))


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
  logits = tf.Variable([-1., 0., 2.])
  with tf.GradientTape() as tape:
    b = tfg.estimators.gumbel_sigmoid_st(logits, 0.5, seed=(1, 2))
    loss = tf.reduce_sum(b * [1., 2., 3.])
  assert set(b.numpy().tolist()) <= {0., 1.}      # exactly binary
  tape.gradient(loss, logits)                     # the relaxed sample's gradient
  ```
  """
  logits, temperature = _prepare(logits, temperature, categorical=False)
  perturbed = logits + _noise.logistic(
      _noise_shape(logits, temperature), seed, logits.dtype)
  # Thresholding the perturbed logits, not sigmoid(.) at 1/2, for the same
  # reason as in `gumbel_softmax_st`: sigmoid rounds to 1/2 near 0.
  return _replace_gradient(tf.cast(perturbed > 0., logits.dtype),
                           tf.math.sigmoid(
                               _params.divide_by_temperature(
                                   perturbed, temperature)))


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
  logits.

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
  logits = tf.constant([0., 1., 2.])
  z = tfg.estimators.conditional_gumbel(logits, [1., 0., 0.], num_samples=5,
                                        seed=(1, 2))
  assert (tf.argmax(z, axis=-1).numpy() == 0).all()   # [5, 3], argmax 0 each
  ```
  """
  shape = tf.concat(
      [[num_samples], tf.broadcast_dynamic_shape(tf.shape(logits),
                                                 tf.shape(sample))], axis=0)
  g = _noise.gumbel(shape, seed, logits.dtype)
  is_top = tf.cast(sample, tf.bool)
  top = (tf.reduce_logsumexp(logits, axis=-1, keepdims=True)
         + tf.reduce_sum(tf.where(is_top, g, 0.), axis=-1, keepdims=True))
  below = -tf.reduce_logsumexp(
      tf.stack([-(logits + g), -tf.broadcast_to(top, tf.shape(g))], axis=-1),
      axis=-1)
  return tf.where(is_top, top, below)


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
  logits = tf.Variable([[0., 1., 2.]])
  with tf.GradientTape() as tape:
    d = tfg.estimators.gumbel_rao(logits, 0.5, num_samples=10, seed=(1, 2))
    loss = tf.reduce_sum(d * [1., -1., 3.])
  assert tf.reduce_sum(d) == 1.                   # exactly one-hot
  tape.gradient(loss, logits)
  ```
  """
  if not isinstance(num_samples, int) or num_samples < 1:
    raise ValueError(
        f"`num_samples` must be a positive integer, got {num_samples!r}.")
  logits, temperature = _prepare(logits, temperature, categorical=True)
  hard_seed, conditional_seed = tfp.random.split_seed(seed, n=2)
  logits, perturbed = _gumbel_perturbed(logits, temperature, hard_seed)
  hard = _one_hot_argmax(perturbed)
  noise = tf.stop_gradient(
      conditional_gumbel(logits, hard, num_samples, conditional_seed) - logits)
  surrogate = tf.reduce_mean(
      tf.math.softmax(
          _params.divide_by_temperature(logits + noise, temperature)),
      axis=0)
  return _replace_gradient(hard, surrogate)


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
  logits = tf.Variable([[0., 1., 2.]])
  with tf.GradientTape() as tape:
    d = tfg.estimators.reinmax(logits, 1., seed=(1, 2))
    loss = tf.reduce_sum(d * [1., -1., 3.])
  assert tf.reduce_sum(d) == 1.                   # exactly one-hot
  tape.gradient(loss, logits)
  ```
  """
  logits, temperature = _prepare(logits, temperature, categorical=True)
  logits, perturbed = _gumbel_perturbed(logits, temperature, seed)
  hard = _one_hot_argmax(perturbed)
  # log pi1 in log space: log((D + s) / 2) is log(s / 2) off the sample and
  # log((1 + s_D) / 2) = softplus(log s_D) - log 2 on it, so it is finite
  # even where softmax(logits / t) underflows.
  log_s = tf.math.log_softmax(
      _params.divide_by_temperature(logits, temperature))
  log_pi1 = (tf.where(hard > 0., tf.math.softplus(log_s), log_s)
             - tf.math.log(tf.constant(2., logits.dtype)))
  # softmax(stop_gradient(log pi1) + logits - stop_gradient(logits)) is pi1 in
  # value (exactly: the added term is 0) with the softmax Jacobian at pi1 as
  # its derivative in `logits`.
  pi1 = tf.math.softmax(tf.stop_gradient(log_pi1)
                        + (logits - tf.stop_gradient(logits)))
  pi0 = tf.math.softmax(logits)
  return _replace_gradient(hard, 2. * pi1 - 0.5 * pi0)


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
  estimator = tfg.estimators.get("gumbel_rao")
  assert estimator is tfg.estimators.gumbel_rao
  d = estimator(tf.constant([[0., 1., 2.]]), 0.5, seed=(1, 2))
  ```
  """
  try:
    return _ESTIMATORS[name]
  except (KeyError, TypeError):
    raise ValueError(
        f"Unknown estimator {name!r}; valid choices are "
        f"{', '.join(repr(k) for k in _ESTIMATORS)}.") from None
