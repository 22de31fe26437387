"""TFP behaviour shared by GumbelSoftmax and ExpRelaxedGumbelSoftmax.

Every test runs on both classes: shapes and broadcasting, slicing, Variables,
tf.function and XLA, dtypes, seeds, composition with other TFP distributions,
and the bad-input errors.
"""

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg

tfb = tfp.bijectors
tfd = tfp.distributions

CLASSES = [tfg.GumbelSoftmax, tfg.ExpRelaxedGumbelSoftmax]
parametrize_classes = pytest.mark.parametrize(
    "cls", CLASSES, ids=lambda c: c.__name__)


def _on_support(cls, x):
  """Map a positive [..., K] array onto the class's (log-)simplex."""
  x = np.asarray(x) / np.sum(x, axis=-1, keepdims=True)
  return x if cls is tfg.GumbelSoftmax else np.log(x)


# (temperature shape, logits shape, expected batch shape)
SHAPES = [
    ((), (4,), ()),
    ((), (3, 4), (3,)),
    ((3,), (3, 4), (3,)),
    ((3,), (4,), (3,)),
    ((5, 1), (4, 2), (5, 4)),
    ((2, 1, 1), (3, 1, 6), (2, 3, 1)),
]


@parametrize_classes
@pytest.mark.parametrize("t_shape,logits_shape,batch_shape", SHAPES)
@pytest.mark.parametrize("sample_shape", [(), (2,), (2, 3)])
def test_shapes(cls, t_shape, logits_shape, batch_shape, sample_shape):
  rng = np.random.RandomState(0)
  d = cls(rng.uniform(0.1, 2., t_shape).astype(np.float32),
          logits=rng.randn(*logits_shape).astype(np.float32))
  k = logits_shape[-1]
  assert d.batch_shape == batch_shape
  assert d.event_shape == (k,)
  assert tuple(d.batch_shape_tensor().numpy()) == batch_shape
  x = d.sample(sample_shape, seed=(1, 2))
  assert x.shape == sample_shape + batch_shape + (k,)
  assert d.log_prob(x).shape == sample_shape + batch_shape


@parametrize_classes
def test_batch_slicing_and_copy(cls):
  t = tf.constant([0.5, 1., 2.])
  logits = tf.constant(np.random.RandomState(1).randn(3, 5), tf.float32)
  d = cls(t, logits=logits)
  x = d.sample(4, seed=(1, 2))
  lp = d.log_prob(x)
  np.testing.assert_allclose(d[1:].log_prob(x[:, 1:]), lp[:, 1:], rtol=1e-6)
  np.testing.assert_allclose(d[..., 0].log_prob(x[:, 0]), lp[:, 0], rtol=1e-6)
  assert d[1:].batch_shape == [2]
  assert d.copy(temperature=tf.ones([3])).batch_shape == [3]
  assert d.copy(validate_args=True).validate_args


@parametrize_classes
def test_parameter_properties_constrain_parameters(cls):
  props = cls.parameter_properties()
  assert set(props) == {"temperature", "logits", "probs"}
  t = props["temperature"].default_constraining_bijector_fn()(-30.)
  assert t > 0
  probs = props["probs"].default_constraining_bijector_fn()([0.3, -2.])
  np.testing.assert_allclose(tf.reduce_sum(probs), 1., rtol=1e-6)


@parametrize_classes
@pytest.mark.parametrize("make_temperature", [
    lambda: tf.Variable(0.7),
    lambda: tfp.util.TransformedVariable(0.7, tfb.Softplus()),
], ids=["Variable", "TransformedVariable"])
def test_variables_are_tracked_and_get_gradients(cls, make_temperature):
  t = make_temperature()
  logits = tf.Variable([0.1, 0.5, -0.3])
  d = cls(t, logits=logits)
  assert len(d.trainable_variables) == 2
  x = tf.constant(_on_support(cls, [[0.2, 0.5, 0.3]]), tf.float32)
  with tf.GradientTape(persistent=True) as tape:
    sample_loss = tf.reduce_sum(d.sample(seed=(1, 2)) * [1., 2., 3.])
    lp_loss = -tf.reduce_sum(d.log_prob(x))
  for loss in (sample_loss, lp_loss):
    grads = tape.gradient(loss, d.trainable_variables)
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
  # The reference is read at every use, not frozen at construction.
  before = d.log_prob(x)
  t.assign(2.)
  assert not np.allclose(d.log_prob(x), before)


@parametrize_classes
def test_tf_function_and_xla_match_eager(cls):
  d = cls(tf.constant([0.3, 1.]), logits=[[0., 1., 2.]])

  def run(d):
    x = d.sample(7, seed=(4, 2))
    return x, d.log_prob(x)

  eager = run(d)
  for compiled in (tf.function(run), tf.function(run, jit_compile=True)):
    for a, b in zip(eager, compiled(d)):
      np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@parametrize_classes
def test_float64_end_to_end(cls):
  d = cls(tf.constant(0.5, tf.float64), probs=np.array([0.2, 0.8]))
  x, lp = d.experimental_sample_and_log_prob(3, seed=(1, 1))
  assert d.dtype == x.dtype == lp.dtype == d.log_prob(x).dtype == tf.float64


@parametrize_classes
def test_seeds(cls):
  d = cls(0.5, logits=[0., 1., 2.])
  np.testing.assert_array_equal(d.sample(5, seed=(1, 2)),
                                d.sample(5, seed=(1, 2)))
  assert not np.array_equal(d.sample(5, seed=(1, 2)), d.sample(5, seed=(1, 3)))
  # Python int seeds follow TFP: reproducible under tf.random.set_seed.
  tf.random.set_seed(3)
  first = d.sample(5, seed=7)
  tf.random.set_seed(3)
  np.testing.assert_array_equal(first, d.sample(5, seed=7))


@parametrize_classes
def test_composes_with_tfp_meta_distributions(cls):
  d = cls(tf.constant([0.5, 1., 2.]), logits=tf.zeros([3, 4]))
  ind = tfd.Independent(d, reinterpreted_batch_ndims=1)
  x = ind.sample(2, seed=(1, 2))
  np.testing.assert_allclose(ind.log_prob(x), tf.reduce_sum(d.log_prob(x), -1),
                             rtol=1e-6)
  sampled = tfd.Sample(d, sample_shape=5)
  assert sampled.sample(seed=(1, 2)).shape == [3, 5, 4]
  assert tfd.BatchReshape(d, [3, 1]).sample(seed=(1, 2)).shape == [3, 1, 4]
  jd = tfd.JointDistributionSequential([
      tfd.LogNormal(0., 0.3),
      lambda t: cls(t, logits=[0., 1., 2.]),
  ])
  t, y = jd.sample(6, seed=(1, 2))
  assert y.shape == [6, 3]
  assert np.isfinite(jd.log_prob([t, y]).numpy()).all()


@parametrize_classes
def test_is_a_composite_tensor(cls):
  d = cls(tf.constant(0.5), logits=tf.constant([0., 1., 2.]))
  assert isinstance(d, tf.__internal__.CompositeTensor)
  flat = tf.nest.flatten(d, expand_composites=True)
  rebuilt = tf.nest.pack_sequence_as(d, flat, expand_composites=True)
  assert type(rebuilt) is cls
  x = d.sample(seed=(1, 2))
  np.testing.assert_allclose(rebuilt.log_prob(x), d.log_prob(x))


@parametrize_classes
@pytest.mark.parametrize("statistic", ["mean", "mode", "entropy"])
def test_statistics_without_closed_form_raise(cls, statistic):
  with pytest.raises(NotImplementedError):
    getattr(cls(0.5, logits=[0., 1.]), statistic)()


@parametrize_classes
def test_default_event_space_bijector_reaches_the_support(cls):
  d = cls(0.5, logits=[0., 1., 2., 3.], validate_args=True)
  bijector = d.experimental_default_event_space_bijector()
  z = tf.random.stateless_normal([50, 3], seed=(2, 2), stddev=2.)
  lp = d.log_prob(bijector(z)) + bijector.forward_log_det_jacobian(z, 1)
  assert np.isfinite(lp.numpy()).all()


@parametrize_classes
def test_gradients_match_finite_differences(cls):
  logits = tf.constant([0.3, -1.2, 0.8, 0.1], tf.float64)
  temperature = tf.constant(0.7, tf.float64)
  x = tf.constant(_on_support(
      cls, np.random.RandomState(0).dirichlet(np.ones(4), size=3)))
  weights = tf.constant([1., -2., 0.5, 3.], tf.float64)

  def through_sample(logits, temperature):
    return tf.reduce_sum(
        cls(temperature, logits=logits).sample(3, seed=(5, 6)) * weights)

  def through_log_prob(logits, temperature):
    return tf.reduce_sum(cls(temperature, logits=logits).log_prob(x))

  for fn in (through_sample, through_log_prob):
    theoretical, numerical = tf.test.compute_gradient(
        fn, [logits, temperature], delta=1e-6)
    for th, nu in zip(theoretical, numerical):
      np.testing.assert_allclose(th, nu, rtol=1e-6, atol=1e-8)


def _sample_log_prob_and_gradients(cls):
  """One XLA function per class: samples, their log-probs, and the gradients
  w.r.t. (temperature, logits) of both paths."""

  @tf.function(jit_compile=True)
  def run(temperature, logits, seed):
    with tf.GradientTape() as tape:
      tape.watch([temperature, logits])
      d = cls(temperature, logits=logits)
      x = d.sample(16, seed=seed)
      held = tf.stop_gradient(x)
      loss = tf.reduce_sum(d.log_prob(held)) + tf.reduce_sum(x * x)
    return x, d.log_prob(held), tape.gradient(loss, [temperature, logits])

  return run


_COMPILED = {cls: _sample_log_prob_and_gradients(cls) for cls in CLASSES}


@parametrize_classes
@settings(max_examples=25, deadline=None, derandomize=True)
@given(temperature=st.floats(1e-3, 100.),
       logits=st.lists(st.floats(-1e3, 1e3, width=32), min_size=5,
                       max_size=5),
       seed=st.integers(0, 2**31 - 1))
def test_float32_outputs_are_finite_for_any_finite_input(
    cls, temperature, logits, seed):
  x, lp, grads = _COMPILED[cls](
      tf.constant(temperature, tf.float32),
      tf.constant(logits, tf.float32), tf.constant([seed, 0]))
  for value in (x, lp, *grads):
    assert np.isfinite(value.numpy()).all()


# -- bad input -------------------------------------------------------------

@parametrize_classes
@pytest.mark.parametrize("kwargs,match", [
    (dict(temperature=0., logits=[1., 2.]), "`temperature` must be positive"),
    (dict(temperature=-1., logits=[1., 2.]), "`temperature` must be positive"),
    (dict(temperature=np.inf, logits=[1., 2.]), "`temperature` must be finite"),
    (dict(temperature=1., logits=[1., np.nan]), "`logits` must not be NaN"),
    (dict(temperature=1., logits=[1., np.inf]), "`logits` must be finite or -inf"),
    (dict(temperature=1., logits=[-np.inf, -np.inf]),
     "`logits` must leave at least one possible class"),
    (dict(temperature=1., probs=[-0.1, 1.1]),
     "`probs` has components less than 0"),
    (dict(temperature=1., probs=[0.3, 0.3]), "`probs` must sum to 1"),
])
def test_bad_parameter_values_raise(cls, kwargs, match):
  with pytest.raises(tf.errors.InvalidArgumentError, match=match):
    cls(validate_args=True, **kwargs)


@parametrize_classes
def test_bad_variable_value_raises_at_use(cls):
  t = tf.Variable(1.)
  d = cls(t, logits=[1., 2.], validate_args=True)
  t.assign(-1.)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="`temperature` must be positive"):
    d.sample(seed=(1, 2))


@parametrize_classes
@pytest.mark.parametrize("kwargs,error,match", [
    (dict(temperature=1., logits=[1., 2.], probs=[0.5, 0.5]), ValueError,
     "Exactly one of `logits` or `probs`.*both"),
    (dict(temperature=1.), ValueError,
     "Exactly one of `logits` or `probs`.*neither"),
    (dict(temperature=1., logits=1.), ValueError, "`logits` must have rank"),
    (dict(temperature=1., logits=np.array([1, 2])), TypeError,
     "`logits` must have a floating-point dtype"),
    (dict(temperature=np.array(1), logits=[1., 2.]), TypeError,
     "`temperature` must have a floating-point dtype"),
    (dict(temperature=tf.constant(1., tf.float64),
          logits=tf.constant([1., 2.])), TypeError, "`logits` has dtype"),
])
def test_bad_parameter_types_and_shapes_raise(cls, kwargs, error, match):
  with pytest.raises(error, match=match):
    cls(validate_args=True, **kwargs)


@parametrize_classes
def test_log_prob_argument_off_the_support_raises(cls):
  d = cls(0.5, logits=[0., 1., 2.], validate_args=True)
  with pytest.raises(tf.errors.InvalidArgumentError, match="simplex"):
    d.log_prob(_on_support(cls, [0.2, 0.3, 0.5]) + 0.1)
  with pytest.raises(ValueError, match="has 4 classes .* distribution has 3"):
    d.log_prob(_on_support(cls, [0.1, 0.2, 0.3, 0.4]))
  d.log_prob(_on_support(cls, [0.2, 0.3, 0.5]))  # on the support: no error


def test_negative_coordinate_raises():
  d = tfg.GumbelSoftmax(0.5, logits=[0., 1., 2.], validate_args=True)
  with pytest.raises(tf.errors.InvalidArgumentError, match="negative"):
    d.log_prob([-0.1, 0.6, 0.5])
