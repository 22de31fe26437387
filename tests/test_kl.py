"""tfg.categorical_kl, the exact KL of the discrete laws that relaxations
stand for: against numpy and TFP (categorical and binary relaxations, logits
and probs), its gradient, impossible classes and infinite logits (TFP's
values, finite gradients, exactly 0 at masked logits), and its public paths.
"""

import numpy as np
import pytest
from scipy import special
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg

tfd = tfp.distributions

NEG_INF = -np.inf


def test_public_paths_are_one_function():
  # tfp_gumbel.monte_carlo.categorical_kl was 0.2.0's path; it stays.
  from tfp_gumbel import kl  # pylint: disable=import-outside-toplevel
  from tfp_gumbel import monte_carlo  # pylint: disable=import-outside-toplevel
  assert tfg.categorical_kl is kl.categorical_kl is monte_carlo.categorical_kl


@pytest.mark.parametrize("param", ["logits", "probs"])
def test_categorical_kl_matches_numpy(param):
  rng = np.random.RandomState(1)
  logits_p, logits_q = rng.randn(3, 5), rng.randn(5)   # broadcast batch
  probs_p, probs_q = special.softmax(logits_p, -1), special.softmax(logits_q)
  expected = np.sum(probs_p * (np.log(probs_p) - np.log(probs_q)), axis=-1)
  kw = (lambda l, p: {param: l if param == "logits" else p})
  for cls in (tfg.GumbelSoftmax, tfg.ExpRelaxedGumbelSoftmax):
    p = cls(tf.constant([0.1, 1., 3.], tf.float64), **kw(logits_p, probs_p))
    q = cls(tf.constant(0.7, tf.float64), **kw(logits_q, probs_q))
    np.testing.assert_allclose(tfg.categorical_kl(p, q), expected, rtol=1e-10)


def test_categorical_kl_of_binary_relaxations_is_bernoulli_kl():
  a, b = special.expit([0.3, -2.]), special.expit([1., 1.])
  expected = a * np.log(a / b) + (1 - a) * np.log((1 - a) / (1 - b))
  p = tfg.GumbelSigmoid(tf.constant(0.5, tf.float64), probs=a)
  q = tfg.GumbelSigmoid(tf.constant(2., tf.float64), logits=special.logit(b))
  np.testing.assert_allclose(tfg.categorical_kl(p, q), expected, rtol=1e-10)


def test_categorical_kl_gradient_is_the_analytic_one():
  # d KL / d logits_p = pi_p * (log pi_p - log pi_q - KL): the gradient flows.
  lp = tf.Variable([0.2, -1., 0.5], dtype=tf.float64)
  lq = tf.constant([0., 0.3, 0.], tf.float64)
  with tf.GradientTape() as tape:
    kl = tfg.categorical_kl(tfg.GumbelSoftmax(0.5, logits=lp),
                            tfg.GumbelSoftmax(0.5, logits=lq))
  pp, pq = special.softmax(lp.numpy()), special.softmax(lq.numpy())
  np.testing.assert_allclose(
      tape.gradient(kl, lp), pp * (np.log(pp / pq) - kl.numpy()), rtol=1e-10)


def test_categorical_and_binary_arguments_raise_naming_p_and_q():
  with pytest.raises(TypeError, match="`p` and `q` must both be categorical"):
    tfg.categorical_kl(tfg.GumbelSoftmax(0.5, logits=[0., 1.]),
                       tfg.GumbelSigmoid(0.5, logits=0.))


def _kl_and_grads(make, logits_p, logits_q, jit):
  lp = tf.Variable(logits_p, dtype=tf.float32)
  lq = tf.Variable(logits_q, dtype=tf.float32)

  def fn():
    with tf.GradientTape() as tape:
      kl = tfg.categorical_kl(make(lp), make(lq))
    return kl, tape.gradient(kl, [lp, lq])
  kl, grads = (tf.function(fn, jit_compile=True) if jit else fn)()
  return kl.numpy(), [g.numpy() for g in grads]


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("cls", [tfg.GumbelSoftmax, tfg.ExpRelaxedGumbelSoftmax])
def test_categorical_kl_with_impossible_classes_is_tfps(cls, jit):
  # Rows: only p masked; both masked at the same class; per-row masks.
  lp = np.array([[NEG_INF, 0., 1., 2.], [NEG_INF, 0., 1., 2.],
                 [0.5, NEG_INF, NEG_INF, -1.]])
  lq = np.array([[0., 0., 0., 0.], [NEG_INF, 0., .5, 0.],
                 [1., NEG_INF, 0., -2.]])
  kl, (gp, gq) = _kl_and_grads(lambda l: cls(0.5, logits=l), lp, lq, jit)
  # Independent reference: sum over the classes possible under p.
  log_p, log_q = special.log_softmax(lp, -1), special.log_softmax(lq, -1)
  with np.errstate(invalid="ignore"):   # -inf - (-inf), discarded by where
    terms = np.where(np.isfinite(log_p), np.exp(log_p) * (log_p - log_q), 0.)
  np.testing.assert_allclose(kl, terms.sum(-1), rtol=1e-5)
  np.testing.assert_allclose(kl, tfd.kl_divergence(
      tfd.Categorical(logits=lp), tfd.Categorical(logits=lq)), rtol=1e-6)
  assert np.isfinite(gp).all() and np.isfinite(gq).all()
  np.testing.assert_array_equal(gp[np.isneginf(lp)], 0.)
  np.testing.assert_array_equal(gq[np.isneginf(lq)], 0.)


def test_categorical_kl_is_inf_where_q_forbids_a_class_p_allows():
  for cls in (tfg.GumbelSoftmax, tfg.ExpRelaxedGumbelSoftmax):
    p = cls(0.5, probs=[0.5, 0.5, 0.])
    q = cls(0.5, probs=[0., 0.5, 0.5])
    tfp_kl = tfd.kl_divergence(tfd.Categorical(probs=[0.5, 0.5, 0.]),
                               tfd.Categorical(probs=[0., 0.5, 0.5]))
    assert np.isposinf(tfg.categorical_kl(p, q)) and np.isposinf(tfp_kl)


@pytest.mark.parametrize("jit", [False, True])
def test_categorical_kl_of_binary_relaxations_at_infinite_logits(jit):
  # Probability 0 or 1 under p: the Bernoulli KL's value (TFP's), with
  # finite gradients (TFP's own Bernoulli KL has NaN ones there).
  lp = np.array([NEG_INF, np.inf, NEG_INF, 0.3])
  lq = np.array([0.5, -1., NEG_INF, 0.3])
  kl, (gp, gq) = _kl_and_grads(lambda l: tfg.GumbelSigmoid(0.5, logits=l),
                               lp, lq, jit)
  np.testing.assert_allclose(kl, tfd.kl_divergence(
      tfd.Bernoulli(logits=lp), tfd.Bernoulli(logits=lq)), rtol=1e-6)
  np.testing.assert_allclose(kl[:3], [-special.log_expit(-0.5),
                                      -special.log_expit(-1.), 0.], rtol=1e-6)
  assert np.isfinite(gp).all() and np.isfinite(gq).all()
  np.testing.assert_array_equal(gp[:3], 0.)


@pytest.mark.parametrize("namespace", ["tensorflow", "keras_ops"])
def test_the_layers_kernel_equals_categorical_kl(namespace):
  # The layers' KL term (every backend) is the kernel
  # categorical.kl_divergence; tfg.categorical_kl is TFP's. Stated twice, so
  # they must agree: values (impossible classes under p, under both, and
  # under q alone: +inf) and the gradient, exactly 0 at an impossible class.
  import importlib  # pylint: disable=import-outside-toplevel
  from tfp_gumbel._kernels import categorical  # pylint: disable=import-outside-toplevel
  xp = importlib.import_module(f"tfp_gumbel._backend.{namespace}")
  inf = np.inf
  p = tf.Variable([[0., 1., 2.], [-inf, 1., 0.5], [-inf, 3., -1.],
                   [0., 0., 0.]])
  q = tf.constant([[1., 0., -1.], [0., 0., 0.], [-inf, 0., 2.],
                   [0., -inf, 1.]])
  one = tf.ones([])
  with tf.GradientTape(persistent=True) as tape:
    ours = categorical.kl_divergence(xp, tf.convert_to_tensor(p), q)
    tfps = tfg.categorical_kl(tfg.GumbelSoftmax(one, logits=p),
                              tfg.GumbelSoftmax(one, logits=q))
    finite = tf.reduce_sum(ours[:3])
    finite_tfp = tf.reduce_sum(tfps[:3])
  np.testing.assert_allclose(ours, tfps, rtol=2e-6)
  assert np.isinf(ours[3])
  # (Row 3's KL is +inf, where no gradient is defined: it is left out.)
  grad = tape.gradient(finite, p).numpy()
  assert np.all(np.isfinite(grad[:3]))
  np.testing.assert_array_equal(grad[1:3, 0], 0.)
  np.testing.assert_allclose(
      grad[:3], tape.gradient(finite_tfp, p)[:3], rtol=1e-5,
      atol=1e-7)
