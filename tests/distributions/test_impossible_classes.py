"""Impossible classes (logits -inf, probs 0) in the categorical relaxations.

A class with probability 0 is no part of the event: samples are exactly 0
there (-inf in log space), argmax never picks it, and log_prob is the density
of the same family over the K' possible classes (checked against the numpy
reference of Maddison et al. evaluated on the possible coordinates only).
"""

import numpy as np
import pytest
import tensorflow as tf

import tfp_gumbel as tfg
from tests import reference

CLASSES = [tfg.GumbelSoftmax, tfg.ExpRelaxedGumbelSoftmax]
parametrize_classes = pytest.mark.parametrize(
    "cls", CLASSES, ids=lambda c: c.__name__)

inf = np.inf
# One mask per row, K' = 3, 2, 4, 1.
LOGITS = np.array([[-inf, 0., 1., 2.],
                   [0.5, -inf, -inf, 1.],
                   [0., 1., 2., 3.],
                   [-inf, -inf, 0.7, -inf]])
TEMPERATURES = [1e-3, 0.1, 1., 10.]


def _reference(cls, x, logits, t):
  """numpy log-density of the K'-class family at the possible coordinates."""
  out = np.empty(x.shape[:-1])
  for row in range(logits.shape[0]):
    keep = np.isfinite(logits[row])
    if keep.sum() == 1:
      out[:, row] = 0.  # a point mass: density 1 w.r.t. counting measure
      continue
    probs = np.exp(logits[row][keep] - logits[row][keep].max())
    probs /= probs.sum()
    if cls is tfg.GumbelSoftmax:
      out[:, row] = reference.concrete_log_density(
          x[:, row][:, keep], probs, t)
    else:
      out[:, row] = reference.exp_concrete_log_density(
          x[:, row][:, keep], probs, t)
  return out


@parametrize_classes
@pytest.mark.parametrize("t", [0.3, 2.])
def test_log_prob_is_the_density_over_the_possible_classes(cls, t):
  # float64, moderate temperatures: no coordinate underflows, so the
  # reference can be evaluated at the same points; tolerance a few hundred
  # ulps of float64 for sums of ~10 terms of size up to ~100.
  d = cls(tf.constant(t, tf.float64), logits=LOGITS)
  x = d.sample(200, seed=(1, 2)).numpy()
  impossible = ~np.isfinite(LOGITS)
  zero = 0. if cls is tfg.GumbelSoftmax else -inf
  assert np.all(x[:, impossible] == zero)
  np.testing.assert_allclose(
      d.log_prob(x).numpy(), _reference(cls, x, LOGITS, t),
      rtol=1e-9, atol=1e-9)


@parametrize_classes
def test_probs_zero_is_the_same_as_logits_minus_inf(cls):
  probs = np.exp(LOGITS - LOGITS.max(-1, keepdims=True))
  probs /= probs.sum(-1, keepdims=True)
  by_logits = cls(0.5, logits=LOGITS.astype(np.float32))
  by_probs = cls(0.5, probs=probs.astype(np.float32))
  x = by_logits.sample(100, seed=(3, 4))
  np.testing.assert_allclose(by_probs.sample(100, seed=(3, 4)), x,
                             rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(by_probs.log_prob(x), by_logits.log_prob(x),
                             rtol=1e-4, atol=1e-4)


@parametrize_classes
@pytest.mark.parametrize("t", TEMPERATURES)
def test_own_samples_have_finite_log_prob_at_every_temperature(cls, t):
  d = cls(t, logits=LOGITS.astype(np.float32))
  x = d.sample(500, seed=(5, 6))
  assert np.isfinite(d.log_prob(x).numpy()).all()
  x2, lp2 = d.experimental_sample_and_log_prob(500, seed=(5, 6))
  assert np.isfinite(lp2.numpy()).all()
  # sample() is softmax(z), the pair exp(log_softmax(z)): a rounding apart.
  np.testing.assert_allclose(x2, x, rtol=1e-6, atol=1e-6)


@parametrize_classes
def test_mass_on_an_impossible_class_is_minus_inf_not_nan(cls):
  d = cls(0.5, logits=[-inf, 0., 1.])
  x = np.array([[0.1, 0.4, 0.5], [1e-20, 0.5, 0.5], [0., 0.3, 0.7]])
  if cls is tfg.ExpRelaxedGumbelSoftmax:
    with np.errstate(divide="ignore"):
      x = np.log(x)
  lp = d.log_prob(x.astype(np.float32)).numpy()
  assert lp[0] == -inf and lp[1] == -inf and np.isfinite(lp[2])


def test_a_point_missing_a_possible_class_is_minus_inf_not_nan():
  # -inf on a possible class of the log-simplex: off the support, whether or
  # not the distribution has impossible classes; gradients stay finite.
  # (GumbelSoftmax reads an exact 0 at the smallest normal float instead: a
  # coordinate that underflowed in rounding, see its docstring.)
  cls = tfg.ExpRelaxedGumbelSoftmax
  with np.errstate(divide="ignore"):
    x = np.log(np.array([[0., 0.4, 0.6], [0.2, 0.3, 0.5]], np.float32))
  for row in ([0., 0., 1.], [-inf, 0., 1.]):
    logits = tf.Variable(row)
    with tf.GradientTape() as tape:
      lp = cls(0.5, logits=logits).log_prob(x[1:] if row[0] == -inf else x)
      total = tf.reduce_sum(tf.where(tf.math.is_finite(lp), lp, 0.))
    grad = tape.gradient(total, logits)
    lp = lp.numpy()
    assert not np.any(np.isnan(lp)) and np.all(np.isfinite(grad))
    if row[0] == 0.:
      assert lp[0] == -inf and np.isfinite(lp[1])


@parametrize_classes
def test_one_possible_class_is_a_point_mass_with_log_prob_0(cls):
  d = cls(0.5, logits=[-inf, 2., -inf])
  x = d.sample(10, seed=(1, 2))
  expected = [0., 1., 0.] if cls is tfg.GumbelSoftmax else [-inf, 0., -inf]
  # TensorFlow's softmax rounds exp(0) / 1 to within an ulp of 1.
  np.testing.assert_allclose(x, np.tile(expected, [10, 1]), atol=1e-6)
  np.testing.assert_allclose(d.log_prob(x), np.zeros(10), atol=1e-6)
  off = [0.5, 0.5, 0.] if cls is tfg.GumbelSoftmax else [np.log(.5)] * 2 + [-inf]
  assert d.log_prob(off).numpy() == -inf


@parametrize_classes
def test_gradients_are_finite_and_zero_at_impossible_logits(cls):
  logits = tf.Variable(LOGITS.astype(np.float32))
  probs = tf.Variable(np.exp(LOGITS - 1.).astype(np.float32)
                      / np.exp(LOGITS - 1.).sum(-1, keepdims=True).astype(np.float32))
  t = tf.Variable(0.4)
  impossible = ~np.isfinite(LOGITS)
  for param in (logits, probs):
    key = "logits" if param is logits else "probs"
    with tf.GradientTape() as tape:
      d = cls(t, **{key: param})
      x = d.sample(50, seed=(7, 8))          # reparameterized path
      lp = d.log_prob(x)
      _, lp2 = d.experimental_sample_and_log_prob(50, seed=(7, 8))
      loss = tf.reduce_sum(lp) + tf.reduce_sum(lp2) + tf.reduce_sum(
          tf.where(tf.math.is_finite(x), x, 0.))
    g_param, g_t = tape.gradient(loss, [param, t])
    assert np.isfinite(g_param.numpy()).all() and np.isfinite(g_t.numpy())
    np.testing.assert_array_equal(g_param.numpy()[impossible], 0.)


@parametrize_classes
def test_argmax_is_categorical_over_the_possible_classes(cls):
  logits = np.array([-inf, 0., 1., -inf, 2.], np.float32)
  probs = np.where(np.isfinite(logits), np.exp(logits), 0.)
  x = cls(0.5, logits=logits).sample(20000, seed=(9, 10)).numpy()
  assert not np.isin(np.argmax(x, -1), [0, 3]).any()
  # Fixed seed; a correct sampler fails this at rate 1e-3.
  keep = np.isfinite(logits)
  assert reference.argmax_chisquare_pvalue(x[:, keep], probs[keep]) > 1e-3


@parametrize_classes
def test_tf_function_and_xla_match_eager(cls):
  logits = tf.constant(LOGITS, tf.float32)

  def run(logits, t):
    d = cls(t, logits=logits)
    with tf.GradientTape() as tape:
      tape.watch([logits, t])
      x, lp = d.experimental_sample_and_log_prob(20, seed=(1, 2))
      lp_own = d.log_prob(x)
      loss = tf.reduce_sum(lp) + tf.reduce_sum(lp_own)
    return (x, lp, lp_own) + tuple(tape.gradient(loss, [logits, t]))

  t = tf.constant(0.5)
  eager = run(logits, t)
  for compiled in (tf.function(run), tf.function(run, jit_compile=True)):
    out = compiled(logits, t)
    for a, b in zip(eager, out):
      assert np.isfinite(b.numpy()[np.isfinite(a.numpy())]).all()
      np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@parametrize_classes
def test_a_variable_mask_is_read_at_every_use(cls):
  # In a graph the mask is not known: the masked path must still be right.
  logits = tf.Variable([0., 1., 2.])
  d = cls(0.5, logits=logits)
  lp = tf.function(lambda x: d.log_prob(x))
  x = d.sample(5, seed=(1, 2))
  assert np.isfinite(lp(x).numpy()).all()
  logits.assign([-inf, 1., 2.])
  x = d.sample(5, seed=(1, 2))
  assert np.isfinite(lp(x).numpy()).all()


@parametrize_classes
def test_no_possible_class(cls):
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="`logits` must leave at least one possible class"):
    cls(1., logits=[[0., 1.], [-inf, -inf]], validate_args=True)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="Argument `probs` must sum to 1"):
    cls(1., probs=[[0.5, 0.5], [0., 0.]], validate_args=True)
  d = cls(1., logits=[[0., 1.], [-inf, -inf]])  # allow_nan_stats: NaN
  lp = d.log_prob(d.sample(3, seed=(1, 2))).numpy()
  assert np.isfinite(lp[:, 0]).all() and np.isnan(lp[:, 1]).all()


@parametrize_classes
def test_validate_args_accepts_masked_points(cls):
  d = cls(0.5, logits=LOGITS.astype(np.float32), validate_args=True)
  x, lp = d.experimental_sample_and_log_prob(20, seed=(1, 2))
  assert np.isfinite(lp.numpy()).all()
  np.testing.assert_allclose(d.log_prob(x), lp, rtol=1e-4, atol=1e-4)


def test_very_negative_finite_logit_is_a_possible_class():
  # -1e9 is a possible (if very unlikely) class: the density of the 4-class
  # family, dominated by the logit gap; -inf removes the class.
  x = tfg.GumbelSoftmax(0.5, logits=[-inf, 0., 1., 2.]).sample(
      100, seed=(1, 2))
  lp_finite = tfg.GumbelSoftmax(0.5, logits=[-1e9, 0., 1., 2.]).log_prob(x)
  lp_inf = tfg.GumbelSoftmax(0.5, logits=[-inf, 0., 1., 2.]).log_prob(x)
  assert (lp_finite.numpy() < -1e8).all()
  assert (np.abs(lp_inf.numpy()) < 100.).all()
