"""A random temperature: the posterior over t by VI and by MCMC (seed 002).

The forum thread this answers asks "Is it possible to use a random variable
for the temperature?" (TFP's relaxed distributions were used with a fixed
float). With tfp_gumbel the temperature is a parameter like any other, so the
hierarchical model

    t  ~ LogNormal(0, 1)
    pi ~ Dirichlet(1, ..., 1)                      (K = 3: the forum's triangle)
    y_i | t, pi ~ GumbelSoftmax(t, pi),  i = 1..N  (points on the simplex)

is an ordinary `tfd.JointDistributionCoroutineAutoBatched`. Pinned to N draws
simulated at t = 0.5, pi = [0.2, 0.3, 0.5], this script computes the posterior

  * by variational inference: `tfp.vi.fit_surrogate_posterior` with a
    full-rank Gaussian surrogate pushed through the model's default event-space
    bijector (so t > 0 and pi on the simplex by construction);
  * by MCMC: `tfp.mcmc` NUTS in the same unconstrained space, step size
    adapted during burn-in, with R-hat and effective sample sizes;

and, for comparison, the maximum-likelihood estimate of a learned temperature
(`tfp.util.TransformedVariable` with a Softplus). The figure shows the
posterior of t (MCMC histogram, VI density) with the true value, and the
posterior of pi on the triangle.

    python examples/random_temperature.py [--quick | --full] [--out DIR]
"""

# First: it starts TensorFlow quietly (see _common.py).
from _common import Example  # pylint: disable=g-bad-import-order

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg

tfb = tfp.bijectors
tfd = tfp.distributions

TRUE_TEMPERATURE = 0.5
TRUE_PROBS = [0.2, 0.3, 0.5]


def hierarchical_model(num_points):
  @tfd.JointDistributionCoroutineAutoBatched
  def model():
    t = yield tfd.LogNormal(0., 1., name="t")
    pi = yield tfd.Dirichlet(tf.ones([len(TRUE_PROBS)]), name="pi")
    yield tfd.Sample(tfg.GumbelSoftmax(t, probs=pi), num_points, name="y")
  return model


def event_space_bijector(pinned):
  """Exp for t and the package's simplex bijector for pi: the pinned model's
  default event-space bijector, built by hand because TFP 0.25's Dirichlet
  builds `tfb.SoftmaxCentered`, whose constructor fails on numpy >= 2.4."""
  simplex = tfg.GumbelSoftmax(
      1., logits=tf.zeros(pinned.event_shape.pi)
  ).experimental_default_event_space_bijector()
  return tfb.JointMap(pinned.event_shape._replace(t=tfb.Exp(), pi=simplex))


def run_vi(pinned, num_steps, seed):
  """Full-rank Gaussian VI; prints the loss trace. Returns the surrogate."""
  init_seed, fit_seed = tfp.random.split_seed(seed)
  surrogate = tfp.experimental.vi.build_affine_surrogate_posterior(
      event_shape=pinned.event_shape,
      bijector=event_space_bijector(pinned),
      operators="tril", seed=init_seed)
  losses = tfp.vi.fit_surrogate_posterior(
      pinned.unnormalized_log_prob, surrogate,
      optimizer=tf.keras.optimizers.Adam(0.05), num_steps=num_steps,
      sample_size=8, seed=fit_seed).numpy()
  # One compiled call for all steps (chunks would each retrace); the loss
  # trace is printed afterwards, averaged over each tenth of the run.
  for i, chunk in enumerate(np.array_split(losses, 10)):
    print(f"  VI steps {i * len(losses) // 10 + 1:5d}-"
          f"{(i + 1) * len(losses) // 10:5d}  mean -ELBO {chunk.mean():10.2f}")
  return surrogate


def run_nuts(pinned, num_chains, num_burnin, num_results, seed):
  """NUTS on the unconstrained space; returns (t, pi) draws [results, chains, ...]."""
  init_seed, burnin_seed, chain_seed = tfp.random.split_seed(seed, n=3)
  bijector = event_space_bijector(pinned)
  kernel = tfp.mcmc.DualAveragingStepSizeAdaptation(
      tfp.mcmc.TransformedTransitionKernel(
          tfp.mcmc.NoUTurnSampler(pinned.unnormalized_log_prob, step_size=0.1),
          bijector=bijector),
      num_adaptation_steps=int(0.8 * num_burnin))

  @tf.function(autograph=False)
  def sample(state, num_steps, previous, seed):
    return tfp.mcmc.sample_chain(
        num_steps, state, kernel=kernel, previous_kernel_results=previous,
        trace_fn=lambda _, pkr: pkr.inner_results.inner_results.is_accepted,
        return_final_kernel_results=True, seed=seed)

  # Stan's default initialization: uniform on [-2, 2] in the unconstrained
  # space. (Drawing the chains' starts from the prior would go through the
  # auto-batched model's vectorized_map, slow and noisy with stateless seeds.)
  shapes = bijector.inverse_event_shape(pinned.event_shape)
  state = list(bijector([
      tfd.Uniform(-2., 2.).sample([num_chains, *shape], seed=s)
      for shape, s in zip(shapes, tfp.random.split_seed(init_seed, n=2))]))
  previous = tf.function(kernel.bootstrap_results, autograph=False)(state)
  # Burn-in and sampling are two calls, so progress can be printed between;
  # the adaptation state travels in the kernel results.
  burnin = sample(state, num_burnin, previous, burnin_seed)
  print(f"  NUTS burn-in {num_burnin} steps x {num_chains} chains: acceptance "
        f"{float(tf.reduce_mean(tf.cast(burnin.trace, tf.float32))):.2f}, "
        f"step size {float(burnin.final_kernel_results.new_step_size):.3f}",
        flush=True)
  draws = sample([s[-1] for s in burnin.all_states], num_results,
                 burnin.final_kernel_results, chain_seed)
  acceptance = float(tf.reduce_mean(tf.cast(draws.trace, tf.float32)))
  print(f"  NUTS sampling {num_results} steps x {num_chains} chains: "
        f"acceptance {acceptance:.2f}", flush=True)
  return draws.all_states


def maximum_likelihood(data, num_steps):
  """t and pi of GumbelSoftmax fitted by Adam on the mean log-likelihood.

  The learned temperature is a `TransformedVariable` (Softplus keeps it
  positive); `tfp.math.minimize` runs the compiled optimization loop.
  """
  temperature = tfp.util.TransformedVariable(1., tfb.Softplus())
  logits = tf.Variable(tf.zeros([len(TRUE_PROBS)]))
  model = tfg.GumbelSoftmax(temperature, logits=logits)
  losses = tfp.math.minimize(
      lambda: -tf.reduce_mean(model.log_prob(data)), num_steps=num_steps,
      optimizer=tf.keras.optimizers.Adam(0.05),
      trainable_variables=model.trainable_variables).numpy()
  print(f"  {num_steps} Adam steps: mean NLL {losses[0]:.4f} -> "
        f"{losses[-1]:.4f}")
  return float(tf.convert_to_tensor(temperature)), tf.math.softmax(logits).numpy()


def main(argv=None):
  ex = Example(__doc__.splitlines()[0], argv)
  num_points = ex.pick(quick=300, default=1000, full=2000)
  vi_steps = ex.pick(quick=200, default=1000, full=2000)
  chains = ex.pick(quick=2, default=4, full=4)
  burnin = ex.pick(quick=300, default=500, full=1000)
  results = ex.pick(quick=200, default=1000, full=2000)
  data_seed, vi_seed, mcmc_seed, draw_seed = tfp.random.split_seed(
      tfp.random.sanitize_seed(ex.seed), n=4)

  data = tfg.GumbelSoftmax(TRUE_TEMPERATURE, probs=TRUE_PROBS).sample(
      num_points, seed=data_seed)
  pinned = hierarchical_model(num_points).experimental_pin(y=data)
  print(f"{num_points} draws of GumbelSoftmax({TRUE_TEMPERATURE}, "
        f"probs={TRUE_PROBS}); prior t ~ LogNormal(0, 1), pi ~ Dirichlet(1)")

  print("Variational inference")
  surrogate = run_vi(pinned, vi_steps, vi_seed)
  vi_t, vi_pi = surrogate.sample(4000, seed=draw_seed)
  vi_t, vi_pi = vi_t.numpy(), vi_pi.numpy()

  print("MCMC")
  mcmc_t, mcmc_pi = run_nuts(pinned, chains, burnin, results, mcmc_seed)
  flat = tf.concat([mcmc_t[..., tf.newaxis], mcmc_pi], axis=-1)
  rhat = tfp.mcmc.potential_scale_reduction(flat).numpy()
  ess = tf.reduce_sum(tfp.mcmc.effective_sample_size(flat), 0).numpy()
  mcmc_t, mcmc_pi = mcmc_t.numpy().ravel(), mcmc_pi.numpy().reshape(-1, 3)

  print("Learned temperature (maximum likelihood)")
  ml_t, ml_pi = maximum_likelihood(data, ex.pick(200, 500, 500))

  names = ["t"] + [f"pi[{k}]" for k in range(len(TRUE_PROBS))]
  truth = [TRUE_TEMPERATURE] + TRUE_PROBS
  vi_all = np.concatenate([vi_t[:, None], vi_pi], 1)
  mcmc_all = np.concatenate([mcmc_t[:, None], mcmc_pi], 1)
  ml_all = [ml_t] + list(ml_pi)
  print(f"\n  {'':<6} {'true':>6} {'VI mean':>8} {'VI sd':>7} {'MCMC mean':>9} "
        f"{'MCMC sd':>8} {'R-hat':>6} {'ESS':>7} {'ML':>7}")
  for i, name in enumerate(names):
    print(f"  {name:<6} {truth[i]:>6.3f} {vi_all[:, i].mean():>8.4f} "
          f"{vi_all[:, i].std():>7.4f} {mcmc_all[:, i].mean():>9.4f} "
          f"{mcmc_all[:, i].std():>8.4f} {rhat[i]:>6.3f} {ess[i]:>7.0f} "
          f"{ml_all[i]:>7.4f}")

  plt = ex.plt
  fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
  lo, hi = np.percentile(np.concatenate([vi_t, mcmc_t]), [0.1, 99.9])
  bins = np.linspace(lo, hi, 50)
  axes[0].hist(mcmc_t, bins=bins, density=True, alpha=0.5,
               label=f"MCMC (NUTS, {mcmc_t.size} draws)")
  axes[0].hist(vi_t, bins=bins, density=True, histtype="step", lw=2,
               label="VI (full-rank Gaussian)")
  axes[0].axvline(TRUE_TEMPERATURE, color="k", ls="--", label="true t")
  axes[0].axvline(ml_t, color="r", ls=":", label="maximum likelihood")
  axes[0].set(title=f"posterior of the temperature, N = {num_points}",
              xlabel="t", ylabel="density")
  axes[0].legend(fontsize=8)

  def to_triangle(p):                      # barycentric -> 2-D coordinates
    return p[:, 1] + 0.5 * p[:, 2], np.sqrt(3) / 2 * p[:, 2]
  corners = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]], float)
  axes[1].plot(*to_triangle(corners), "k-", lw=0.8)
  axes[1].scatter(*to_triangle(data.numpy()[:300]), s=3, c="0.7",
                  label="data y_i (300)")
  axes[1].scatter(*to_triangle(mcmc_pi[::4]), s=2, alpha=0.3,
                  label="posterior pi (MCMC)")
  axes[1].scatter(*to_triangle(np.array([TRUE_PROBS])), marker="x", c="k",
                  s=60, label="true pi")
  axes[1].set(title="pi on the simplex", aspect="equal", xticks=[],
              yticks=[])
  axes[1].legend(fontsize=8, loc="upper right")
  path = ex.save(fig, "random_temperature.png")

  ex.summary(
      true_t=TRUE_TEMPERATURE,
      vi_t_mean=float(vi_t.mean()), vi_t_sd=float(vi_t.std()),
      mcmc_t_mean=float(mcmc_t.mean()), mcmc_t_sd=float(mcmc_t.std()),
      ml_t=ml_t,
      vi_pi_max_abs_err=float(np.max(np.abs(vi_pi.mean(0) - TRUE_PROBS))),
      mcmc_pi_max_abs_err=float(np.max(np.abs(mcmc_pi.mean(0) - TRUE_PROBS))),
      mcmc_pi_max_sd=float(mcmc_pi.std(0).max()),
      max_rhat=float(rhat.max()), min_ess=float(ess.min()),
      figures=path)


if __name__ == "__main__":
  main()
