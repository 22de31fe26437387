"""A tf-keras layer in the style of `tfp.layers` that outputs `tfg.GumbelSoftmax`.

`tfp.layers` are tf-keras layers: they work in a tf-keras model
(`TF_USE_LEGACY_KERAS=1`, or `import tf_keras`), not in a Keras 3 one, and this
module follows them. It is not imported by `import tfp_gumbel`; import it
explicitly:

```python
# TF_USE_LEGACY_KERAS=1
from tfp_gumbel.layers import tfp_layers
layer = tfp_layers.GumbelSoftmax(4, temperature=0.5)
d = layer(tf.zeros([2, 4]))                      # a tfg.GumbelSoftmax, batch [2]
```
"""

import tensorflow as tf
import tensorflow_probability as tfp

from tfp_gumbel import distributions as tfgd

tfd = tfp.distributions

__all__ = ["GumbelSoftmax"]


class GumbelSoftmax(tfp.layers.DistributionLambda):
  r"""A K-class `tfg.GumbelSoftmax` distribution from K logits (tf-keras).

  The tf-keras counterpart of `tfp.layers.OneHotCategorical` for the relaxed
  distribution: the layer's output is a `tfg.GumbelSoftmax(temperature,
  logits=inputs)`, so a model can be trained by maximum likelihood of relaxed
  (simplex-valued) targets with `loss=lambda y, d: -d.log_prob(y)`. Where the
  output is used as a Tensor it is converted by `convert_to_tensor_fn`
  (a reparameterized sample by default). Low temperatures make the density
  sharply peaked at the vertices; high ones flatten it towards `1 / K`.

  #### Mathematical details

  ```none
  d = GumbelSoftmax(t, logits = inputs[..., :K])
  log p(x) = lgamma(K) + (K - 1) log t + sum_k (log pi_k - (t + 1) log x_k)
             - K logsumexp_k (log pi_k - t log x_k)
  ```

  #### Examples

  ```python
  # TF_USE_LEGACY_KERAS=1
  import tf_keras
  from tfp_gumbel.layers import tfp_layers
  model = tf_keras.Sequential([
      tf_keras.layers.Dense(tfp_layers.GumbelSoftmax.params_size(4)),
      tfp_layers.GumbelSoftmax(4, temperature=0.5)])
  model.compile("adam", loss=lambda y, d: -d.log_prob(y))
  ```

  #### References

  [1] Chris J. Maddison, Andriy Mnih, Yee Whye Teh. The Concrete Distribution:
      A Continuous Relaxation of Discrete Random Variables. ICLR 2017.
  [2] Eric Jang, Shixiang Gu, Ben Poole. Categorical Reparameterization with
      Gumbel-Softmax. ICLR 2017.
  """

  def __init__(self,
               event_size,
               temperature=1.0,
               convert_to_tensor_fn=tfd.Distribution.sample,
               validate_args=False,
               **kwargs):
    """Builds the layer.

    Args:
      event_size: Python int K, the number of classes.
      temperature: positive float (or `tf.Variable`) temperature.
      convert_to_tensor_fn: callable `distribution -> Tensor`, as in
        `tfp.layers.DistributionLambda` (default: a sample).
      validate_args: passed to the distribution.
      **kwargs: `tf_keras.layers.Layer` arguments.
    """
    super().__init__(
        lambda params: GumbelSoftmax.new(
            params, event_size, temperature, validate_args),
        convert_to_tensor_fn,
        **kwargs)

  @staticmethod
  def new(params, event_size, temperature=1.0, validate_args=False, name=None):
    """The distribution `tfg.GumbelSoftmax(temperature, logits=params)`."""
    del event_size  # The classes are the last axis of `params`.
    with tf.name_scope(name or "GumbelSoftmax"):
      params = tf.convert_to_tensor(params, name="params")
      return tfgd.GumbelSoftmax(
          tf.cast(temperature, params.dtype), logits=params,
          validate_args=validate_args)

  @staticmethod
  def params_size(event_size, name=None):
    """The number of `params` needed to create a single distribution."""
    del name
    return event_size
