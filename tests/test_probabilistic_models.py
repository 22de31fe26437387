"""The relaxations inside probabilistic models (issue 5).

A random temperature in the three JointDistribution flavours; the posterior of
(temperature, class probabilities) by tfp.vi and by tfp.mcmc; a learned
temperature (maximum likelihood and a reparameterized ELBO, tf.Module
tracking); distributions as composite tensors through tf.function, tf.nest and
tf.while_loop; Mixture and MixtureSameFamily.

The posterior-recovery helpers at the top are shared with
benchmarks/posterior_recovery.py, which runs them at full size.
"""

import numpy as np
import pytest
from scipy import stats
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg
from tests import reference

tfb = tfp.bijectors
tfd = tfp.distributions

# ---------------------------------------------------------------------------
# Posterior recovery: t ~ LogNormal(0, 1), pi ~ Dirichlet(1), and N i.i.d.
# draws y_i ~ GumbelSoftmax(t, pi), pinned to data simulated at TRUE_*.
# ---------------------------------------------------------------------------

TRUE_TEMPERATURE = 0.3
TRUE_PROBS = [0.1, 0.15, 0.2, 0.25, 0.3]


def recovery_data(num_points, seed=(0, 1)):
  return tfg.GumbelSoftmax(TRUE_TEMPERATURE, probs=TRUE_PROBS).sample(
      num_points, seed=seed)


def recovery_model(data):
  """The model pinned to `data`: a JD over (t, pi) only."""
  num_points, num_classes = data.shape

  @tfd.JointDistributionCoroutineAutoBatched
  def model():
    t = yield tfd.LogNormal(0., 1., name="t")
    pi = yield tfd.Dirichlet(tf.ones([num_classes]), name="pi")
    yield tfd.Sample(tfg.GumbelSoftmax(t, probs=pi), num_points, name="y")

  return model.experimental_pin(y=data)


def fit_vi(pinned, num_steps, seed=(3, 4), sample_size=8, jit_compile=False):
  """tfp.vi.fit_surrogate_posterior with a full-rank Gaussian pushed through
  the model's default event-space bijector; returns (surrogate, losses).

  XLA pays off on long runs only: compiling the loop costs more than 150 steps
  of the plain graph, so the short runs of the default suite skip it."""
  surrogate = tfp.experimental.vi.build_affine_surrogate_posterior(
      event_shape=pinned.event_shape,
      bijector=pinned.experimental_default_event_space_bijector(),
      operators="tril",
      seed=seed)
  losses = tfp.vi.fit_surrogate_posterior(
      pinned.unnormalized_log_prob, surrogate,
      optimizer=tf.keras.optimizers.Adam(0.05), num_steps=num_steps,
      sample_size=sample_size, seed=seed, jit_compile=jit_compile)
  return surrogate, losses


def run_nuts(pinned, num_chains, num_burnin, num_results, seed=(9, 10),
             jit_compile=False):
  """NUTS in the unconstrained space of the default event-space bijector,
  step size adapted by dual averaging during burn-in.

  Returns the draws of t ([num_results, num_chains]) and of pi
  ([num_results, num_chains, K]), and the per-step acceptance indicators.
  """
  init_seed, chain_seed = tfp.random.split_seed(seed)
  init = list(pinned.sample_unpinned(num_chains, seed=init_seed))
  kernel = tfp.mcmc.DualAveragingStepSizeAdaptation(
      tfp.mcmc.TransformedTransitionKernel(
          tfp.mcmc.NoUTurnSampler(pinned.unnormalized_log_prob, step_size=0.1),
          bijector=pinned.experimental_default_event_space_bijector()),
      num_adaptation_steps=int(0.8 * num_burnin))

  @tf.function(jit_compile=jit_compile)
  def sample():
    return tfp.mcmc.sample_chain(
        num_results, init, kernel=kernel, num_burnin_steps=num_burnin,
        trace_fn=lambda _, pkr: pkr.inner_results.inner_results.is_accepted,
        seed=chain_seed)

  (t, pi), accepted = sample()
  return t, pi, accepted


def summarize(t, pi):
  """Posterior mean, sd, R-hat and ESS (summed over chains) of each of t and
  pi_1..pi_K, as a dict of numpy arrays of length K + 1; t and pi are
  [num_results, num_chains, ...] draws."""
  flat = tf.concat([t[..., tf.newaxis], pi], axis=-1)
  return dict(
      mean=tf.reduce_mean(flat, [0, 1]).numpy(),
      sd=tf.math.reduce_std(flat, [0, 1]).numpy(),
      rhat=tfp.mcmc.potential_scale_reduction(flat).numpy(),
      ess=tf.reduce_sum(tfp.mcmc.effective_sample_size(flat), 0).numpy())


TRUTH = np.array([TRUE_TEMPERATURE] + TRUE_PROBS)

# (class, logits of a batch of 2): the binary class has scalar events.
CLASSES = [tfg.GumbelSoftmax, tfg.ExpRelaxedGumbelSoftmax, tfg.GumbelSigmoid]
parametrize_classes = pytest.mark.parametrize(
    "cls", CLASSES, ids=lambda c: c.__name__)


def batch_logits(cls, dtype=np.float32):
  if cls is tfg.GumbelSigmoid:
    return np.array([0.5, -1.], dtype)
  return np.array([[0., 2., -1.], [1., 0., 0.]], dtype)


def event_shape(cls):
  return () if cls is tfg.GumbelSigmoid else (3,)


# ---------------------------------------------------------------------------
# 1. Random temperature in the three JointDistribution flavours.
# ---------------------------------------------------------------------------

FLAVOURS = ["sequential", "named", "coroutine"]


def make_jd(flavour, cls, loc, scale=0.5):
  """t ~ LogNormal(loc, scale) (a batch of 2), y | t ~ cls(t, logits)."""
  logits = batch_logits(cls, np.asarray(loc).dtype)
  if flavour == "sequential":
    return tfd.JointDistributionSequential(
        [tfd.LogNormal(loc, scale), lambda t: cls(t, logits=logits)])
  if flavour == "named":
    return tfd.JointDistributionNamed(
        dict(t=tfd.LogNormal(loc, scale), y=lambda t: cls(t, logits=logits)))

  @tfd.JointDistributionCoroutineAutoBatched
  def model():
    t = yield tfd.LogNormal(loc, scale, name="t")
    yield cls(t, logits=logits, name="y")
  return model


def jd_log_prob(jd, flavour, t, y):
  return jd.log_prob(t, y) if flavour == "sequential" else jd.log_prob(t=t, y=y)


def jd_sample(jd, flavour, sample_shape, seed):
  value = jd.sample(sample_shape, seed=seed)
  return (value["t"], value["y"]) if flavour == "named" else tuple(value)


@parametrize_classes
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_random_temperature_in_joint_distributions(flavour, cls):
  loc = np.array([-2., 0.5])                      # t around 0.14 and 1.6
  jd = make_jd(flavour, cls, loc)
  t, y = jd_sample(jd, flavour, (3, 4), seed=(1, 2))
  assert t.dtype == y.dtype == tf.float64
  assert t.shape == (3, 4, 2)
  assert y.shape == (3, 4, 2) + event_shape(cls)

  # The joint log-density is the prior's plus the conditional's; the
  # auto-batched flavour sees the batch of 2 as part of one event.
  expected = (tfd.LogNormal(loc, 0.5).log_prob(t)
              + cls(t, logits=batch_logits(cls, np.float64)).log_prob(y))
  if flavour == "coroutine":
    assert jd.batch_shape == ()
    expected = tf.reduce_sum(expected, -1)
  else:
    assert jd.batch_shape == [(2,), (2,)] or jd.batch_shape == dict(
        t=(2,), y=(2,))
  np.testing.assert_allclose(jd_log_prob(jd, flavour, t, y), expected,
                             rtol=1e-12)

  # d log p(t, y) / dt at fixed y, against central differences (float64).
  # A copy of t: the sampled tensor hits LogNormal's bijector cache, whose
  # cached log(t) is not connected to t on the tape (TFP's behaviour).
  t = tf.identity(t)
  with tf.GradientTape() as tape:
    tape.watch(t)
    total = tf.reduce_sum(jd_log_prob(jd, flavour, t, y))
  grad = tape.gradient(total, t).numpy()
  # Each draw's log-density depends on its own t only, so one perturbation per
  # batch column gives the derivative at every draw at once.
  h = 1e-6 * t.numpy()
  numeric = np.zeros_like(grad)
  for j in range(2):
    step = np.zeros(t.shape)
    step[..., j] = h[..., j]
    diff = (jd_log_prob(jd, flavour, t + step, y)
            - jd_log_prob(jd, flavour, t - step, y)).numpy()
    if diff.ndim == 3:          # per-member log-probs; the other column is 0
      diff = diff.sum(-1)
    numeric[..., j] = diff / (2 * h[..., j])
  np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


@parametrize_classes
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_joint_log_prob_of_samples_is_finite_at_small_temperature(flavour,
                                                                  cls):
  """float32, t ~ LogNormal(log 2e-3, 0.2): t in [1e-3, 4e-3] in 99.9%."""
  loc = tf.Variable(np.log([2e-3, 2e-3]).astype(np.float32))
  jd = make_jd(flavour, cls, loc, scale=0.2)
  with tf.GradientTape() as tape:
    # Reparameterized: gradients reach loc through t and through y.
    t, y = jd_sample(jd, flavour, 500, seed=(3, 4))
    lp = jd_log_prob(jd, flavour, t, y)
    loss = -tf.reduce_mean(lp) + tf.reduce_mean(y)
  assert np.isfinite(lp.numpy()).all()
  assert np.isfinite(tape.gradient(loss, loc).numpy()).all()
