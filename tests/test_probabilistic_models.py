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


def event_space_bijector(pinned):
  """The pinned model's default event-space bijector, built by hand: Exp for
  t (LogNormal's default) and the package's simplex bijector for pi. TFP
  0.25's Dirichlet builds its own `tfb.SoftmaxCentered`, whose constructor fails
  on numpy >= 2.4; the package's is the same bijector, buildable there."""
  simplex = tfg.GumbelSoftmax(
      1., logits=tf.zeros(pinned.event_shape.pi)
  ).experimental_default_event_space_bijector()
  return tfb.JointMap(pinned.event_shape._replace(t=tfb.Exp(), pi=simplex))


def fit_vi(pinned, num_steps, seed=(3, 4), sample_size=8, jit_compile=False):
  """tfp.vi.fit_surrogate_posterior with a full-rank Gaussian pushed through
  the model's default event-space bijector; returns (surrogate, losses).

  XLA pays off on long runs only: compiling the loop costs more than 150 steps
  of the plain graph, so the short runs of the default suite skip it."""
  surrogate = tfp.experimental.vi.build_affine_surrogate_posterior(
      event_shape=pinned.event_shape,
      bijector=event_space_bijector(pinned),
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
          bijector=event_space_bijector(pinned)),
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


# ---------------------------------------------------------------------------
# 2. Posterior over (t, pi) from 2,000 draws at t = 0.3, K = 5.
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pinned_model():
  return recovery_model(recovery_data(2000))


def _vi_posterior_mean(pinned, num_steps):
  surrogate, losses = fit_vi(pinned, num_steps)
  draws = surrogate.sample(4000, seed=(5, 6))
  mean = np.concatenate([[np.mean(draws.t)], np.mean(draws.pi, 0)])
  return mean, losses.numpy()


def test_vi_recovers_temperature_and_probs(pinned_model):
  # Reduced run (150 steps; the slow test and the benchmark run 1,000). At
  # N = 2,000 the exact posterior sd is ~1% of t and 2-3% of each pi_k (see
  # the MCMC test), so "within 10%" leaves room for the optimizer's error,
  # while the prior mean (pi_k = 0.2, E[t] = 1.6) fails it.
  mean, losses = _vi_posterior_mean(pinned_model, 150)
  assert np.all(np.isfinite(losses))
  assert losses[-10:].mean() < losses[:10].mean()
  np.testing.assert_array_less(np.abs(mean / TRUTH - 1.), 0.1)


def _check_nuts(pinned, num_burnin, num_results, max_rhat, min_ess):
  t, pi, accepted = run_nuts(pinned, 4, num_burnin, num_results)
  s = summarize(t, pi)
  assert np.all(np.isfinite(t.numpy())) and np.all(np.isfinite(pi.numpy()))
  assert 0.5 < np.mean(accepted) <= 1.
  np.testing.assert_array_less(s["rhat"], max_rhat)
  np.testing.assert_array_less(min_ess, s["ess"])
  # Coverage: if the sampler is right the truth is a draw from the posterior,
  # so |truth - mean| / sd is ~N(0, 1); 4 sd fails by chance with p < 4e-4
  # over the 6 parameters. The Monte Carlo error of the mean (sd / sqrt(ESS)
  # <= sd / 10) barely widens that.
  np.testing.assert_array_less(np.abs(s["mean"] - TRUTH), 4. * s["sd"])
  return s


def test_nuts_posterior_covers_truth_with_converged_chains(pinned_model):
  # Reduced run: 4 chains x (100 burn-in + 100 draws). R-hat < 1.1 is the
  # classic threshold (Gelman et al.); ESS > 50 of 400 draws per parameter.
  _check_nuts(pinned_model, 100, 100, max_rhat=1.1, min_ess=50.)


@pytest.mark.slow
def test_full_size_posterior_recovery(pinned_model):
  mean, _ = _vi_posterior_mean(pinned_model, 1000)
  np.testing.assert_array_less(np.abs(mean / TRUTH - 1.), 0.1)
  # Vehtari et al. (2021): R-hat < 1.01 and bulk ESS > 400.
  _check_nuts(pinned_model, 1000, 1000, max_rhat=1.01, min_ess=400.)


# ---------------------------------------------------------------------------
# 3. Learned temperature.
# ---------------------------------------------------------------------------

def _learnable(cls, k):
  """cls with a TransformedVariable temperature (t0 = 1) and Variable logits."""
  temperature = tfp.util.TransformedVariable(1., tfb.Softplus())
  logits = tf.Variable(tf.zeros([k] if k else []))
  return cls(temperature, logits=logits)


def _target(cls):
  """The distribution the learned one must recover: t = 0.4, K = 4."""
  if cls is tfg.GumbelSigmoid:
    return cls(0.4, logits=1.2), np.float32(1.2)
  logits = np.log([0.1, 0.2, 0.3, 0.4]).astype(np.float32)
  return cls(0.4, logits=logits), logits


def _check_recovered(learned, logits):
  """t within 10% of 0.4, probabilities within 0.03 of the target's."""
  np.testing.assert_allclose(tf.convert_to_tensor(learned.temperature), 0.4,
                             rtol=0.1)
  np.testing.assert_allclose(learned.probs_parameter(), (
      tf.sigmoid(logits) if np.ndim(logits) == 0 else tf.nn.softmax(logits)),
                             atol=0.03)


@parametrize_classes
def test_maximum_likelihood_learns_a_transformed_variable_temperature(cls):
  target, logits = _target(cls)
  data = target.sample(2000, seed=(7, 8))
  learned = _learnable(cls, np.size(logits) if np.ndim(logits) else None)
  # The softplus-parameterized temperature and the logits are found through
  # the distribution: nothing is listed by hand.
  assert len(learned.trainable_variables) == 2
  losses = tfp.math.minimize(
      lambda: -tf.reduce_mean(learned.log_prob(data)), num_steps=300,
      optimizer=tf.keras.optimizers.Adam(0.05))
  assert np.isfinite(losses.numpy()).all()
  # At N = 2,000 the MLE's sd is ~1.5% for t and ~0.01 for a probability
  # (binomial), so the tolerances hold 4-6 sd plus the optimizer's error.
  _check_recovered(learned, logits)


@parametrize_classes
def test_reparameterized_elbo_learns_temperature_and_logits(cls):
  # Fitting a member of the family to another by tfp.vi (reverse KL through
  # reparameterized samples): the optimum is the target itself.
  target, logits = _target(cls)
  learned = _learnable(cls, np.size(logits) if np.ndim(logits) else None)
  # The step size decays to 0 so that the last iterate is not a snapshot of
  # the gradient noise.
  schedule = tf.keras.optimizers.schedules.CosineDecay(0.05, 300)
  losses = tfp.vi.fit_surrogate_posterior(
      target.log_prob, learned, optimizer=tf.keras.optimizers.Adam(schedule),
      num_steps=300, sample_size=32, seed=(1, 2))
  assert np.isfinite(losses.numpy()).all()
  # The loss is KL(learned || target) >= 0, estimated; near 0 at the end.
  assert abs(np.mean(losses.numpy()[-50:])) < 0.05
  _check_recovered(learned, logits)


class RelaxedLayer(tf.Module):
  """A tf.Module holding a learned temperature, as users write them."""

  def __init__(self):
    super().__init__()
    self.temperature = tf.Variable(0.5, name="temperature")
    self.logits = tf.Variable([0., 1., 2.], name="logits")
    self.dist = tfg.GumbelSoftmax(self.temperature, logits=self.logits)

  def __call__(self, seed):
    return self.dist.sample(seed=seed)


def test_temperature_variable_in_a_module_is_tracked(tmp_path):
  module = RelaxedLayer()
  names = sorted(v.name for v in module.trainable_variables)
  assert names == ["logits:0", "temperature:0"]
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(module((1, 2)) * [1., 2., 3.])
  grads = tape.gradient(loss, module.trainable_variables)
  assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)

  # Checkpoints save and restore it; the distribution reads the new value.
  x = tf.constant([0.2, 0.3, 0.5])
  before = module.dist.log_prob(x).numpy()
  path = tf.train.Checkpoint(model=module).save(str(tmp_path / "ckpt"))
  module.temperature.assign(3.)
  assert not np.isclose(module.dist.log_prob(x), before)
  tf.train.Checkpoint(model=module).restore(path).assert_consumed()
  np.testing.assert_allclose(module.dist.log_prob(x), before)


# ---------------------------------------------------------------------------
# 4. Composite tensors: tf.function, tf.nest, tf.while_loop; mixtures.
# ---------------------------------------------------------------------------

def _dist(cls, temperature, shift=0.):
  return cls(tf.constant(temperature), logits=batch_logits(cls) + shift)


@parametrize_classes
def test_distribution_passes_in_and_out_of_tf_function_without_retracing(cls):
  traces = []

  @tf.function(jit_compile=True)
  def cool_and_score(d, x):
    traces.append(None)          # runs once per trace, not per call
    cooler = cls(d.temperature * 0.5, logits=d.logits)
    return cooler, d.log_prob(x)

  x = _dist(cls, 1.).sample(seed=(1, 2))
  for temperature, shift in [(1., 0.), (0.3, 1.), (2.5, -2.)]:
    d = _dist(cls, temperature, shift)
    cooler, lp = cool_and_score(d, x)
    assert type(cooler) is cls
    np.testing.assert_allclose(cooler.temperature, temperature / 2.)
    np.testing.assert_allclose(cooler.logits, d.logits)
    np.testing.assert_allclose(lp, d.log_prob(x), rtol=1e-5)
  assert len(traces) == 1


@parametrize_classes
def test_distributions_go_through_tf_nest(cls):
  models = dict(prior=_dist(cls, 1.), posterior=_dist(cls, 0.2, 0.5))
  flat = tf.nest.flatten(models, expand_composites=True)
  # Each distribution contributes its two parameter Tensors.
  assert len(flat) == 4
  doubled = tf.nest.map_structure(lambda v: 2. * v, models,
                                  expand_composites=True)
  for name, d in models.items():
    assert type(doubled[name]) is cls
    np.testing.assert_allclose(doubled[name].temperature, 2. * d.temperature)
    np.testing.assert_allclose(doubled[name].logits, 2. * d.logits)
  tf.nest.assert_same_structure(models["prior"], models["posterior"],
                                expand_composites=True)


@parametrize_classes
def test_distribution_is_a_tf_while_loop_variable(cls):
  """Anneal the temperature in a graph loop, scoring a draw at each step."""
  num_steps = 5

  def body(i, d, total):
    x = d.sample(seed=tf.stack([i, 7]))
    return i + 1, cls(d.temperature * 0.5, logits=d.logits), total + tf.reduce_sum(
        d.log_prob(x))

  def anneal(d):
    return tf.while_loop(lambda i, *_: i < num_steps, body,
                         (tf.constant(0), d, tf.constant(0.)))

  # The same steps in a Python loop, eagerly.
  d, expected = _dist(cls, 2.), 0.
  for i in range(num_steps):
    x = d.sample(seed=tf.constant([i, 7]))
    expected += tf.reduce_sum(d.log_prob(x))
    d = cls(d.temperature * 0.5, logits=d.logits)

  for jit_compile in (False, True):
    _, final, total = tf.function(anneal, jit_compile=jit_compile)(
        _dist(cls, 2.))
    assert type(final) is cls
    np.testing.assert_allclose(final.temperature, 2. * 0.5**num_steps)
    if jit_compile:
      # Under XLA, TF's stateless Philox draws other numbers than its CPU
      # kernel for a seed computed at run time (so does tfd.Normal): only
      # finiteness can be compared.
      assert np.isfinite(total.numpy())
    else:
      np.testing.assert_allclose(total, expected, rtol=1e-5)


@pytest.mark.xfail(strict=True, reason=(
    "TF's stateless Philox under XLA draws other numbers than the CPU kernel "
    "when the seed is a run-time Tensor (tfd.Normal too); tfp_gumbel/_backend/tensorflow.py "
    "pins alg='philox' and says XLA draws match eager, which holds only for "
    "seeds that are constants of the compiled function."))
def test_xla_draws_match_eager_for_a_seed_given_at_run_time():
  d = tfg.GumbelSoftmax(0.5, logits=[0., 1., 2.])
  sample = lambda seed: d.sample(4, seed=seed)
  seed = tf.constant([3, 7])
  np.testing.assert_allclose(
      tf.function(sample, jit_compile=True)(seed), sample(seed), rtol=1e-5)


MIXTURE_WEIGHTS = np.array([0.5, 0.3, 0.2], np.float32)
MIXTURE_TEMPERATURES = np.array([0.2, 0.7, 2.], np.float32)


def _mixture_components(cls):
  """Three components: a batch of 3 and the same as a list."""
  if cls is tfg.GumbelSigmoid:
    logits = np.array([2., -1., 0.3], np.float32)
  else:
    logits = np.array([[2., 0., -1., 0.], [0., 1., 1., -2.], [-1., 0., 0., 3.]],
                      np.float32)
  batch = cls(MIXTURE_TEMPERATURES, logits=logits)
  return batch, [cls(t, logits=l) for t, l in zip(MIXTURE_TEMPERATURES, logits)]


@parametrize_classes
@pytest.mark.parametrize("kind", ["MixtureSameFamily", "Mixture"])
def test_mixture_log_prob_and_samples(cls, kind):
  batch, components = _mixture_components(cls)
  cat = tfd.Categorical(probs=MIXTURE_WEIGHTS)
  mixture = (tfd.MixtureSameFamily(cat, batch) if kind == "MixtureSameFamily"
             else tfd.Mixture(cat, components))
  x = mixture.sample(4000, seed=(3, 4))
  assert x.shape == (4000,) + batch.event_shape

  # log p(x) = logsumexp_c (log w_c + log p_c(x)), written out by hand.
  per_component = tf.stack([c.log_prob(x) for c in components], axis=-1)
  expected = tf.reduce_logsumexp(np.log(MIXTURE_WEIGHTS) + per_component, -1)
  np.testing.assert_allclose(mixture.log_prob(x), expected, rtol=1e-5,
                             atol=1e-5)

  # The discrete outcome of a draw is distributed as the mixture of the
  # components' discrete distributions (at every temperature).
  probs = np.sum(MIXTURE_WEIGHTS[:, None] * np.reshape(
      batch.probs_parameter(), [3, -1]), axis=0)
  if cls is tfg.GumbelSigmoid:
    p_value = stats.binomtest(int(np.sum(x.numpy() > 0.5)), 4000,
                              probs[0]).pvalue
  else:
    p_value = reference.argmax_chisquare_pvalue(x.numpy(), probs)
  assert p_value > 1e-3
