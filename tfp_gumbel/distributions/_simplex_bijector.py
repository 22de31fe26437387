r"""The bijector from R^(K-1) onto the open probability simplex.

The K-class families use it as their default event-space bijector and as the
constraint of `probs` in `parameter_properties`. It is the map of
`tfb.SoftmaxCentered`, written here because TFP 0.25's constructor of that
class builds a `tfb.Pad`, whose `__init__` calls `np.reshape(axis,
newshape=[-1])`, a keyword numpy 2.4 removed. This class needs no `Pad`: it
implements Bijector's documented subclass hooks and nothing of TFP's private
state.

#### Mathematical details

With `n = K - 1` and `x` in R^n, the forward map appends a zero logit:

```none
y = softmax([x, 0]),  i.e.  y_i = exp(x_i) / (1 + sum_j exp(x_j)),
                            y_K = 1 / (1 + sum_j exp(x_j)),
x = log(y[:-1]) - log(y[-1])                                   (inverse)
```

The image is a K-1 dimensional surface in R^K, so the log-det-Jacobian is
that of the volume factor sqrt(det(J^T J)) of the K x (K-1) Jacobian J. Write
the forward map as G(F(x)), F: x -> y[:-1] (R^n -> R^n) and G the lift that
appends y_K = 1 - sum(y[:-1]). dF/dx = diag(y[:-1]) - y[:-1] y[:-1]^T, whose
determinant is y_K prod(y[:-1]) = prod(y) (matrix determinant lemma). G is
linear with DG = [I_n; -1^T], and DG^T DG = I_n + 1 1^T has determinant
n + 1 = K, so G scales volume by sqrt(K). Hence

```none
log sqrt(det(J^T J)) = 0.5 log(K) + sum_{i=1..K} log(y_i)
                     = 0.5 log(K) + sum(x) - K softplus(logsumexp(x)),
```

since log(y_i) = x_i - L for i < K and log(y_K) = -L, with
L = log(1 + sum exp(x)) = softplus(logsumexp(x)). These are TFP's
SoftmaxCentered's formulas (its `_forward_log_det_jacobian` in terms of `x`,
its `_inverse_log_det_jacobian` as -(0.5 log(K) + sum(log y))), so a density
pushed through either bijector is the same.
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_gumbel._backend import tensorflow as tf_xp

__all__ = ["SoftmaxCentered", "simplex_bijector"]


class SoftmaxCentered(tfp.bijectors.AutoCompositeTensorBijector):
  """`y = softmax([x, 0])`: R^(K-1) onto the open simplex in R^K.

  The map, inverse and log-det-Jacobian of `tfb.SoftmaxCentered` (see the
  module docstring for the math), buildable on every numpy TensorFlow
  accepts. It has no parameters, so it is a composite tensor that
  `tf.function` takes as an argument.

  ```python
  bijector = SoftmaxCentered()
  y = bijector.forward(tf.math.log([2., 3., 4.]))   # [0.2, 0.3, 0.4, 0.1]
  x = bijector.inverse(y)                           # log([2., 3., 4.])
  ```

  Args:
    validate_args: Python `bool`; if True, `inverse` checks that `y` is on
      the simplex (non-negative, at most 1, summing to 1 to 2 eps), with
      TFP's messages.
    name: the bijector's name; "softmax_centered", TFP's, by default.
  """

  def __init__(self, validate_args=False, name="softmax_centered"):
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      super().__init__(
          forward_min_event_ndims=1,
          validate_args=validate_args,
          parameters=parameters,
          name=name)

  @classmethod
  def _parameter_properties(cls, dtype):
    return dict()

  def _forward(self, x):
    # Appending the zero logit by concatenation gives the same Tensor as
    # TFP's tf.pad; tf_xp.softmax is the op itself up to rank 5 and the same
    # numbers above it, where oneDNN's kernel refuses the rank.
    padded = tf.concat([x, tf.zeros_like(x[..., :1])], axis=-1)
    return tf_xp.softmax(padded)

  def _inverse(self, y):
    assertions = []
    if self.validate_args:
      # TFP's checks and texts: the sum to 2 eps of the dtype.
      eps = np.finfo(y.dtype.as_numpy_dtype).eps
      assertions = [
          tf.debugging.assert_near(
              tf.reduce_sum(y, axis=-1), tf.ones([], y.dtype), 2. * eps,
              message="Last dimension of `y` must sum to `1`."),
          tf.debugging.assert_less_equal(
              y, tf.ones([], y.dtype),
              message="Elements of `y` must be less than or equal to `1`."),
          tf.debugging.assert_non_negative(
              y, message="Elements of `y` must be non-negative."),
      ]
    with tf.control_dependencies(assertions):
      log_y = tf.math.log(y)
    # x_i = log(y_i) - log(y_K): the normalization cancels, so no coordinate
    # has to be renormalized first, and a y_i that rounded to 1 stays finite.
    return log_y[..., :-1] - log_y[..., -1:]

  def _forward_log_det_jacobian(self, x):
    # 0.5 log(K) + sum(log y) with log y from x: log(1 + sum exp(x)) as
    # softplus(logsumexp(x)) does not overflow for large x.
    num_classes = tf.cast(tf.shape(x)[-1] + 1, x.dtype)
    return (0.5 * tf.math.log(num_classes)
            + tf.reduce_sum(x, axis=-1)
            - num_classes * tf.math.softplus(tf.reduce_logsumexp(x, axis=-1)))

  def _inverse_log_det_jacobian(self, y):
    num_classes = tf.cast(tf.shape(y)[-1], y.dtype)
    return -(0.5 * tf.math.log(num_classes)
             + tf.reduce_sum(tf.math.log(y), axis=-1))

  def _forward_event_shape(self, input_shape):
    return _add_to_last(input_shape, 1)

  def _inverse_event_shape(self, output_shape):
    return _add_to_last(output_shape, -1)

  def _forward_event_shape_tensor(self, input_shape):
    return tf.concat([input_shape[:-1], input_shape[-1:] + 1], axis=0)

  def _inverse_event_shape_tensor(self, output_shape):
    return tf.concat([output_shape[:-1], output_shape[-1:] - 1], axis=0)


def _add_to_last(shape, delta):
  """The static event shape with `delta` added to its last size (K-1 <-> K);
  unknown where the rank is, an unknown size stays unknown."""
  if shape.rank is None:
    return tf.TensorShape(None)
  size = shape[-1]
  if size is not None and size + delta < 0:
    raise ValueError(f"Invalid inverse shape: {shape}.")
  return shape[:-1].concatenate([None if size is None else size + delta])


def simplex_bijector(validate_args=False):
  """The default bijector from R^(K-1) onto the open simplex, shared by the
  K-class families (their event-space bijector, and the constraint of
  `probs` in `parameter_properties`): `SoftmaxCentered`."""
  return SoftmaxCentered(validate_args=validate_args)
