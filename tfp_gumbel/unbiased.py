"""Unbiased gradients of `E[f(b)]` for discrete `b`: score function, REBAR,
RELAX and DisARM.

Each function draws `b ~ Categorical(logits)` (one variable over the K
classes of the last axis) or, with `binary=True` (always in `disarm`), K
independent `Bernoulli(logits)` variables, and returns a Tensor of the batch
shape `logits.shape[:-1]`:

* its **value** is `f(b)` (the mean over the draws the estimator uses);
* its **gradient with respect to `logits`** is the named estimator `g`, an
  unbiased estimate of the gradient of `E[f(b)]`;
* its gradient with respect to any variable inside `f` (a decoder's
  weights) is that of `f(b)` alone;
* its gradient with respect to the estimator's own parameters (REBAR's
  temperature and eta, RELAX's control variate) is 0: they do not change
  `E[g]`, only the variance of `g`, and are tuned by minimising `g**2` (see
  below).

The estimators, with `s = grad log p(b)` (`b - softmax(logits)`, or
`b - sigmoid(logits)` for binary variables) and `z = logits + g` the
perturbed logits whose argmax (sign) is `b`:

| function | estimate of the gradient | reference |
|---|---|---|
| `score_function` | `mean_s (f(b_s) - baseline) s_s` | Williams 1992; RLOO: Kool et al. 2019 |
| `rebar` | `(f(b) - c(z~)) s + grad c(z) - grad c(z~)`, `c(z) = eta f(softmax(z / t))` | Tucker et al. 2017 |
| `relax` | the same, `c` any function of `z` (a Keras model) | Grathwohl et al. 2018 |
| `disarm` | `(f(b) - f(b~)) / 2 (-1)^b~ 1[b != b~] sigmoid(abs(logits))` | Dong, Mnih & Tucker 2020 |

Here `z~ ~ p(z | b)` is drawn with `tfg.estimators.conditional_gumbel`
(reparameterized: `grad c(z~)` is its derivative with respect to `logits`
through the draw, for fixed `b`), and `b~` is DisARM's antithetic sample
(`logits - l > 0` where `b` is `logits + l > 0`).

Tuning for variance. Since `E[g]` is the true gradient whatever the
temperature, eta or control variate, `E[g**2]` is the variance up to a
constant; its gradient is computed with a second `GradientTape` around the
one that computes `g`:

```python
log_t, eta = tf.Variable(0.), tf.Variable(1.)
with tf.GradientTape() as outer:
  with tf.GradientTape() as inner:
    loss = tf.reduce_sum(tfg.estimators.rebar(
        f, logits, tf.exp(log_t), eta, seed=seed))
  g = inner.gradient(loss, logits)            # the estimator: step logits with it
  variance = tf.reduce_sum(tf.square(g))
tuning = outer.gradient(variance, [log_t, eta])   # step log_t, eta with it
```

`f` maps a `[..., K]` Tensor of the dtype of `logits` (the one-hot or 0/1
sample, or for `rebar` a relaxed one) to the batch shape `[...]`, row by row.
It is called once per point the estimator evaluates it at (`score_function`:
`num_samples` times; `rebar`: 3; `disarm`: 2).

Impossible classes (logit -inf, probability 0) are never sampled and get a
gradient of exactly 0; the perturbed logits `z` (and `z~`) are -inf there,
so a `relax` control variate that is a network should read
`tf.where(tf.math.is_inf(z), 0., z)`. With `binary=True`, logits of +-inf
are the deterministic 1 / 0, with gradient 0. float16 and bfloat16 logits:
the noise, scores and estimator are computed in float32, and the gradient
is rounded once to the dtype of `logits`. All run under `tf.function`
(`jit_compile=True` too) and take TFP seeds (`seed=(1, 2)` is stateless).

References:
  [1] Ronald J. Williams. Simple statistical gradient-following algorithms
      for connectionist reinforcement learning. Machine Learning, 1992.
  [2] Wouter Kool, Herke van Hoof, Max Welling. Buy 4 REINFORCE Samples,
      Get a Baseline for Free! ICLR 2019 workshop.
  [3] George Tucker, Andriy Mnih, Chris J. Maddison, Dieterich Lawson,
      Jascha Sohl-Dickstein. REBAR: Low-variance, unbiased gradient
      estimates for discrete latent variable models. NeurIPS 2017.
  [4] Will Grathwohl, Dami Choi, Yuhuai Wu, Geoffrey Roeder, David
      Duvenaud. Backpropagation through the Void: Optimizing control
      variates for black-box gradient estimation. ICLR 2018.
  [5] Zhe Dong, Andriy Mnih, George Tucker. DisARM: An Antithetic Gradient
      Estimator for Binary Latent Variables. NeurIPS 2020.
"""

from tfp_gumbel import _requirements

_requirements.require_tensorflow("tfp_gumbel.estimators")

import tensorflow as tf
import tensorflow_probability as tfp

from tfp_gumbel import _checks
from tfp_gumbel import _dtypes
from tfp_gumbel._kernels import masking
from tfp_gumbel._backend import tensorflow as tf_xp
from tfp_gumbel._kernels import binary as binary_kernels
from tfp_gumbel._kernels import categorical
from tfp_gumbel._kernels import noise

__all__ = ["disarm", "rebar", "relax", "score_function"]


class _Variables:
  """`logits` in the compute dtype, and what every estimator derives from it.

  `finite` marks the coordinates that carry a gradient: the possible classes
  of a categorical variable, the finite log-odds of a binary one. For binary
  variables `logits` holds 0 at the infinite log-odds (whose draws are the
  deterministic `self.certain`), so that no inf reaches the arithmetic.
  """

  def __init__(self, logits, binary, **others):
    self.dtype = _dtypes.float_dtype(logits=logits, **others)
    self.given = tf.convert_to_tensor(logits, dtype=self.dtype, name="logits")
    if self.given.shape.rank == 0:
      raise ValueError("`logits` must have the classes (or, with "
                       "`binary=True`, the variables) on its last axis, got "
                       "a scalar.")
    self.binary = binary
    self.compute_dtype = _dtypes.compute_dtype(self.dtype)
    logits = tf.cast(self.given, self.compute_dtype)
    self.set(logits)

  def set(self, logits):
    """Derives everything from `logits` (a Tensor a tape may be watching)."""
    self.raw = logits
    if self.binary:
      self.finite = tf.math.is_finite(logits)
      self.certain = tf.cast(logits > 0., logits.dtype)
      self.logits = tf.where(self.finite, logits, tf.zeros([], logits.dtype))
    else:
      self.finite = masking.possible(tf_xp, logits)
      self.logits = logits

  def shape(self):
    return tf.shape(self.logits)

  def noise(self, shape, seed):
    """Gumbel noise (categorical) or logistic noise (binary)."""
    sampler = noise.logistic if self.binary else noise.gumbel
    return sampler(tf_xp, shape, seed, self.compute_dtype)

  def hard(self, z):
    """The sample whose perturbed logits are `z`: argmax, or sign."""
    if self.binary:
      return tf.where(self.finite, tf.cast(z > 0., z.dtype), self.certain)
    return categorical.one_hot_argmax(tf_xp, z)

  def score(self, b):
    """`grad log p(b)` with respect to the logits; 0 where not `finite`."""
    if self.binary:
      s = b - tf.math.sigmoid(self.logits)
    else:
      s = b - tf.math.exp(masking.masked_log_softmax(tf_xp, self.logits, self.finite))
    return tf.where(self.finite, s, tf.zeros([], s.dtype))

  def call(self, f, x):
    """`f(x)` for `x` in the compute dtype, checked to be batch-shaped."""
    value = tf.convert_to_tensor(f(tf.cast(x, self.dtype)))
    batch_shape = self.given.shape[:-1]
    if not value.dtype.is_floating:
      raise TypeError(f"`f` must return a floating Tensor, got {value.dtype}.")
    if not value.shape.is_compatible_with(batch_shape):
      raise ValueError(
          f"`f` must map a Tensor of shape [..., K] to the batch shape [...]: "
          f"for logits of shape {self.given.shape.as_list()} it returned shape "
          f"{value.shape.as_list()}, expected {batch_shape.as_list()}.")
    return value

  def attach(self, value, estimate):
    """`value`, with `estimate` as its gradient with respect to `logits`.

    `value + sum(g * (l - stop_gradient(l)))`: the bracket is an exact 0, so
    the value is bit-for-bit `value`, the gradient with respect to `l` is
    `g`, and everything `g` depends on (f's variables, the temperature, a
    control variate) gets 0 through it, while `g` itself stays
    differentiable for a tape that minimises its square. `l` is 0 where not
    `finite`, so those logits get exactly 0.
    """
    estimate = tf.where(self.finite, estimate, tf.zeros([], estimate.dtype))
    given = self.given
    finite = tf.math.is_finite(given)
    given = tf.where(finite, given, tf.zeros([], given.dtype))
    zero = given - tf.stop_gradient(given)
    term = tf.reduce_sum(tf.cast(estimate, given.dtype) * zero, axis=-1)
    return value + tf.cast(term, value.dtype)


def score_function(f, logits, num_samples=1, baseline=None, seed=None,
                   binary=False):
  """The score-function (REINFORCE) estimator, with an optional baseline.

  ```none
  g = 1/S sum_s (f(b_s) - baseline) grad log p(b_s),   b_s ~ p(b | logits)
  ```

  With `baseline="leave_one_out"` (RLOO, Kool et al. 2019) each draw's
  baseline is the mean of `f` over the other `S - 1` draws, which keeps the
  estimator unbiased: `g = 1/(S-1) sum_s (f(b_s) - mean f) grad log p(b_s)`.

  Args:
    f: callable, `[..., K]` Tensor -> batch-shaped Tensor `[...]`, row by row.
    logits: float Tensor `[..., K]`.
    num_samples: Python int >= 1 (>= 2 for `"leave_one_out"`), the draws.
    baseline: None, a float Tensor broadcasting with the batch shape (held
      fixed: it gets no gradient here), or `"leave_one_out"`.
    seed: TFP seed.
    binary: if True, K independent Bernoulli variables per row.

  Returns:
    Batch-shaped Tensor: `mean_s f(b_s)` in value, `g` as its gradient with
    respect to `logits`.

  Raises:
    ValueError: `num_samples` too small, an unknown baseline string, or `f`
      not batch-shaped.

  #### Example

  ```python
  logits = tf.Variable([[0., 1., -float("inf")]])      # class 2 impossible
  f = lambda b: tf.reduce_sum(b * [1., -2., 5.], axis=-1)
  with tf.GradientTape() as tape:
    loss = tfg.estimators.score_function(
        f, logits, num_samples=4, baseline="leave_one_out", seed=(1, 2))
  tape.gradient(loss, logits)   # unbiased; exactly 0 for class 2
  ```
  """
  leave_one_out = isinstance(baseline, str)
  if leave_one_out and baseline != "leave_one_out":
    raise ValueError("`baseline` must be None, a Tensor or 'leave_one_out', "
                     f"got {baseline!r}.")
  _checks.integer(num_samples, "num_samples", 2 if leave_one_out else 1,
                  " for baseline='leave_one_out'" if leave_one_out else "")
  v = _Variables(logits, binary)
  noise = v.noise(tf.concat([[num_samples], v.shape()], axis=0), seed)
  values, scores = [], []
  for s in range(num_samples):
    b = v.hard(v.logits + noise[s])
    values.append(v.call(f, b))
    scores.append(v.score(b))
  values, scores = tf.stack(values), tf.stack(scores)
  value = tf.reduce_mean(values, axis=0)
  weights = tf.cast(values, v.compute_dtype)
  if leave_one_out:
    weights = (weights - tf.reduce_mean(weights, axis=0)) * (
        num_samples / (num_samples - 1))
  elif baseline is not None:
    weights -= tf.cast(baseline, v.compute_dtype)
  estimate = tf.reduce_mean(weights[..., tf.newaxis] * scores, axis=0)
  return v.attach(value, estimate)


def _control_variate_estimate(f, v, control_variate, seed):
  """`f(b)` and `(f(b) - c(z~)) s + grad c(z) - grad c(z~)` (REBAR/RELAX).

  `control_variate(z, v)` is evaluated at the perturbed logits `z` of the
  draw and at `z~ ~ p(z | b)`, both reparameterized in `v.raw`, which an
  inner tape differentiates.
  """
  noise_seed, conditional_seed = tfp.random.split_seed(seed, n=2)
  noise = v.noise(v.shape(), noise_seed)
  with tf.GradientTape(watch_accessed_variables=False) as tape:
    tape.watch(v.raw)
    v.set(v.raw)  # derive the finite logits on the tape
    z = v.logits + noise
    b = tf.stop_gradient(v.hard(z))
    z_tilde = _conditional_perturbation(v, b, conditional_seed)
    c_tilde = control_variate(z_tilde, v)
    difference = control_variate(z, v) - c_tilde
  correction = tape.gradient(difference, v.raw,
                             unconnected_gradients=tf.UnconnectedGradients.ZERO)
  value = v.call(f, b)
  weight = tf.cast(value, v.compute_dtype) - tf.cast(c_tilde, v.compute_dtype)
  return value, weight[..., tf.newaxis] * v.score(b) + correction


def _conditional_perturbation(v, b, seed):
  """A draw of the perturbed logits given their argmax (sign) `b`.

  Binary variables are the 2-class case with logits `[0, logits]`: the
  difference of the two conditional Gumbel-perturbed logits is the logistic
  perturbation given its sign.
  """
  if not v.binary:
    return categorical.conditional_gumbel(tf_xp, v.logits, b, 1, seed)[0]
  # Where `b` was fixed by an infinite logit, any sign will do: the
  # coordinate carries no gradient.
  sign = tf.where(v.finite, b, tf.zeros([], b.dtype))
  # Each variable is one 2-class row: flat, so the pairs are [n, 2] at any
  # batch rank (the same noise: Philox fills [1, n, 2] in the order of
  # [1, ..., K, 2]). At batch rank 6 the batched pairs' gradient had
  # non-finite entries in 1-5 of 60 runs of the same computation on TF 2.21's
  # CPU kernels; flat, none in 60.
  logits = tf.reshape(v.logits, [-1])
  sign = tf.reshape(sign, [-1])
  z = categorical.conditional_gumbel(
      tf_xp, tf.stack([tf.zeros_like(logits), logits], axis=-1),
      tf.stack([1. - sign, sign], axis=-1), 1, seed)[0]
  return tf.reshape(z[:, 1] - z[:, 0], tf.shape(v.logits))


def _user_point(z, v):
  """The perturbed logits a user's control variate sees: +-inf at infinite
  binary logits (and -inf at impossible classes, as `z` already is)."""
  if v.binary:
    return tf.where(v.finite, z, v.raw)
  return z


def rebar(f, logits, temperature, eta=1.0, seed=None, binary=False):
  """REBAR (Tucker et al. 2017): the Concrete relaxation as control variate.

  ```none
  g = (f(b) - eta f(r(z~))) grad log p(b) + eta grad f(r(z)) - eta grad f(r(z~))
  r(z) = softmax(z / t)      (binary: sigmoid(z / t))
  ```

  with `z = logits + g` (Gumbel; binary: logistic), `b` its argmax (sign)
  and `z~ ~ p(z | b)`. Unbiased for any `temperature > 0` and `eta`; both
  are tuned to cut the variance by minimising `g**2` through a second tape
  (module docstring). `eta=0` is the score function without baseline.

  Args:
    f: callable, `[..., K]` Tensor -> batch-shaped Tensor `[...]`, row by
      row; called at the sample `b` and at the relaxed points `r(z)`,
      `r(z~)` of the simplex (binary: the cube), so it must accept those.
    logits: float Tensor `[..., K]`.
    temperature: positive float Tensor, broadcasting with `logits[..., 0]`
      (binary: with `logits`); a Variable (or `tf.exp` of one) to tune it.
    eta: float Tensor broadcasting with the batch shape, the control
      variate's scale.
    seed: TFP seed.
    binary: if True, K independent Bernoulli variables per row.

  Returns:
    Batch-shaped Tensor: `f(b)` in value, `g` as its gradient with respect
    to `logits`.

  #### Example

  ```python
  logits = tf.Variable(tf.zeros([16, 4]))
  f = lambda b: tf.reduce_sum((b - [0.1, 0.2, 0.3, 0.4]) ** 2, axis=-1)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(tfg.estimators.rebar(f, logits, 0.5, seed=(1, 2)))
  tape.gradient(loss, logits)
  ```
  """
  _checks.positive_values(tf.get_static_value(temperature), "temperature")
  v = _Variables(logits, binary, temperature=temperature, eta=eta)
  temperature = _dtypes.computed(temperature, v.dtype, "temperature")
  if not binary:
    temperature = temperature[..., tf.newaxis]
  eta = _dtypes.computed(eta, v.dtype, "eta")

  def concrete(z, v):
    if v.binary:
      # At an infinite log-odds the point is +-inf and the relaxation is the
      # certain 0 or 1, with zero gradient.
      _, relaxed = binary_kernels.hard_and_relaxed(
          tf_xp, _user_point(z, v), temperature)
    else:
      relaxed = categorical.tempered_softmax(tf_xp, z, temperature, v.finite)
    return eta * tf.cast(v.call(f, relaxed), v.compute_dtype)

  value, estimate = _control_variate_estimate(f, v, concrete, seed)
  return v.attach(value, estimate)


def relax(f, logits, control_variate, seed=None, binary=False):
  """RELAX (Grathwohl et al. 2018): a learned control variate.

  ```none
  g = (f(b) - c(z~)) grad log p(b) + grad c(z) - grad c(z~)
  ```

  with `z = logits + g` (Gumbel; binary: `logits + l`, `l` logistic), `b`
  its argmax (sign) and `z~ ~ p(z | b)`, both reparameterized in `logits`.
  Unbiased for any differentiable `c`; its variables are trained by
  minimising `g**2` through a second tape (module docstring). REBAR is
  `c(z) = eta * f(softmax(z / temperature))`; Grathwohl et al. add a network
  to that.

  Args:
    f: callable, `[..., K]` Tensor -> batch-shaped Tensor `[...]`; called
      once, at the sample `b`.
    logits: float Tensor `[..., K]`.
    control_variate: callable (a function or a Keras model) of the perturbed
      logits `z`, `[..., K]` in the dtype of `logits`, returning the batch
      shape `[...]`, row by row. `z` is -inf at impossible classes (binary:
      +-inf at infinite logits).
    seed: TFP seed.
    binary: if True, K independent Bernoulli variables per row.

  Returns:
    Batch-shaped Tensor: `f(b)` in value, `g` as its gradient with respect
    to `logits`.

  #### Example

  ```python
  logits = tf.Variable(tf.random.normal([16, 4]))
  f = lambda b: tf.reduce_sum(b * [1., 3., -2., 0.5], axis=-1) ** 2
  net = tf.keras.Sequential([tf.keras.layers.Dense(8, activation="tanh"),
                             tf.keras.layers.Dense(1)])
  c = lambda z: net(z)[..., 0]
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(tfg.estimators.relax(f, logits, c, seed=(1, 2)))
  tape.gradient(loss, logits)
  ```
  """
  v = _Variables(logits, binary)

  def user(z, v):
    value = v.call(control_variate, _user_point(z, v))
    return tf.cast(value, v.compute_dtype)

  value, estimate = _control_variate_estimate(f, v, user, seed)
  return v.attach(value, estimate)


def disarm(f, logits, seed=None):
  """DisARM (Dong, Mnih & Tucker 2020) for K independent binary variables.

  With `l` standard logistic, `b = 1[logits + l > 0]` and its antithetic
  partner `b~ = 1[logits - l > 0]` (both `Bernoulli(logits)`):

  ```none
  g_k = (f(b) - f(b~)) / 2 * (-1)^(b~_k) * 1[b_k != b~_k] * sigmoid(|logits_k|)
  ```

  the conditional expectation of the ARM estimator given the pair. It needs
  no relaxation, no temperature and no tuning.

  Args:
    f: callable, `[..., K]` 0/1 Tensor -> batch-shaped Tensor `[...]`.
    logits: float Tensor `[..., K]` of log-odds.
    seed: TFP seed.

  Returns:
    Batch-shaped Tensor: `(f(b) + f(b~)) / 2` in value, `g` as its gradient
    with respect to `logits`.

  #### Example

  ```python
  logits = tf.Variable([[-1., 0., 2., float("inf")]])   # the last is always 1
  f = lambda b: tf.reduce_prod(1. + b, axis=-1)
  with tf.GradientTape() as tape:
    value = tfg.estimators.disarm(f, logits, seed=(1, 2))
  tape.gradient(value, logits)   # 0 for the infinite logit
  ```
  """
  v = _Variables(logits, binary=True)
  noise = v.noise(v.shape(), seed)
  b = v.hard(v.logits + noise)
  antithetic = v.hard(v.logits - noise)
  value, value_antithetic = v.call(f, b), v.call(f, antithetic)
  half_difference = tf.cast(value - value_antithetic, v.compute_dtype) / 2.
  estimate = (half_difference[..., tf.newaxis] * (1. - 2. * antithetic)
              * tf.cast(tf.not_equal(b, antithetic), v.compute_dtype)
              * tf.math.sigmoid(tf.math.abs(v.logits)))
  return v.attach((value + value_antithetic) / 2., estimate)
