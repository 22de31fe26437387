"""Property fuzz of the structured families and of the estimators (hypothesis).

The companion of tests/distributions/test_fuzz.py (the three Concrete
families); together they cover all six families. Random dtype (float16,
bfloat16, float32, float64), batch shapes of rank 0-6, sample shapes of rank
0-2, eagerly or in a tf.function with every batch dimension unknown,
temperature from 1e-3 to 1e3
(log-uniform), |logits| up to 1e3, and probability-0 classes: logits -inf for
RelaxedTopK and the categorical estimators, -inf entries (forbidden
assignments) for GumbelSinkhorn, scores 0 for RelaxedPlackettLuce. Invariants:

- output dtype is the input dtype and shapes follow TFP's rules;
- no NaN or inf in any output, and (float32/float64) finite gradients with
  respect to logits / scores and temperature;
- a probability-0 class is absent: exactly 0 in a top-k sample and never in
  its hard set, exactly 0 at a forbidden Sinkhorn entry (rows of a hard
  matching never use it), ranked last in a Plackett-Luce sample, exactly 0 in
  a one-hot estimator sample; its gradient is exactly 0;
- the support: top-k sums to k, Sinkhorn columns sum to 1, Plackett-Luce and
  one-hot rows sum to 1.

float16 gradients are not checked (see test_fuzz.py: once |logits| / t passes
65504 no float16 gradient is right); bfloat16's must not be NaN.
"""

from hypothesis import strategies as st
import numpy as np
import tensorflow as tf

import tfp_gumbel as tfg
from tests import fuzzing
from tfp_gumbel._backend import tensorflow as tf_xp

DTYPES = [tf.float16, tf.bfloat16, tf.float32, tf.float64]
KINDS = ["RelaxedTopK", "GumbelSinkhorn", "RelaxedPlackettLuce",
         "gumbel_softmax_st", "gumbel_sigmoid_st", "gumbel_rao", "reinmax",
         "top_k_st", "plackett_luce_st"]
NUM_SAMPLES = 2


def sinkhorn_bound(logits, t, dtype):
  """The largest |row or column sum - 1| GumbelSinkhorn promises.

  Its tolerance (1e-5, or 1e-10 in float64), or the compute float's
  resolution of x = (logits + G) / t, 4 eps (max x - min x + N), where
  coarser. The Gumbel noise of a float32 uniform lies in [-4.5, 16.7], so
  max x - min x <= (range of the finite logits + 21.2) / t.
  """
  compute = tf.float64 if dtype == tf.float64 else tf.float32
  finite = logits[np.isfinite(logits)]
  spread = (finite.max() - finite.min() + 21.2) / t
  eps = float(tf_xp.finfo(compute).eps)
  tolerance = 1e-10 if dtype == tf.float64 else 1e-5
  return max(tolerance, 4 * eps * (spread + logits.shape[-1]))


@st.composite
def cases(draw):
  return dict(
      kind=draw(st.sampled_from(KINDS)),
      dtype=draw(st.sampled_from(DTYPES)),
      k=draw(st.integers(2, 7)),
      batch=draw(st.one_of(
          st.sampled_from([(), (1,), (3,), (2, 1)]),
          # Batch ranks 3 to 6, sizes 1 and 2 (no two neighbours collapse).
          st.lists(st.integers(1, 2), min_size=3, max_size=6).map(tuple))),
      sample_shape=draw(st.sampled_from([(NUM_SAMPLES,), (),
                                         (NUM_SAMPLES, 2)])),
      # In a tf.function with every batch dimension unknown, or eagerly.
      traced=draw(st.booleans()),
      log10_t=draw(st.floats(-3., 3.)),
      log10_scale=draw(st.floats(-2., 3.)),
      mask_rate=draw(st.sampled_from([0., 0.3, 0.6])),
      seed=draw(st.integers(0, 2**31 - 1)))


def _logits(case, shape, rng):
  """Logits of magnitude up to 10^log10_scale with -inf at random entries,
  at least two finite entries in every row (so k = 2 and a matching exist)."""
  scale = 10.**case["log10_scale"]
  logits = rng.uniform(-scale, scale, shape)
  masked = rng.uniform(size=shape) < case["mask_rate"]
  keep = np.argsort(rng.uniform(size=shape), axis=-1) < 2
  return np.where(masked & ~keep, -np.inf, logits)


def check(case):
  kind, dtype = case["kind"], case["dtype"]
  rng = np.random.default_rng(case["seed"])
  k, batch = case["k"], case["batch"]
  wide = dtype in (tf.float32, tf.float64)
  t_np = np.float64(10.**case["log10_t"])
  seed = (case["seed"] % 1000, 7)
  if kind == "GumbelSinkhorn":
    logits_np = _logits(case, batch + (k, k), rng)
    # A feasible matching must avoid the -inf entries: keep the diagonal
    # finite (a masked diagonal entry becomes 0; else a column of -inf, no
    # perfect matching, has no doubly-stochastic scaling at all).
    logits_np = np.where(np.eye(k, dtype=bool),
                         np.abs(np.where(np.isinf(logits_np), 0., logits_np)),
                         logits_np)
  else:
    logits_np = _logits(case, batch + (k,), rng)
  impossible = np.isneginf(logits_np)
  param = tf.cast(tf.constant(np.where(impossible, 0., np.exp(
      logits_np - np.max(logits_np, -1, keepdims=True))) if kind ==
                              "RelaxedPlackettLuce" else logits_np,
                              tf.float64), dtype)
  if kind == "RelaxedPlackettLuce":
    # A score below the dtype's smallest subnormal rounds to 0: absent too.
    impossible = param.numpy() == 0
  t = tf.cast(tf.constant(t_np), dtype)

  sample_shape = case["sample_shape"]

  def draw_and_differentiate(param, t):
    with tf.GradientTape() as tape:
      tape.watch([param, t])
      if kind == "RelaxedTopK":
        x = tfg.RelaxedTopK(t, 2, logits=param).sample(sample_shape, seed=seed)
      elif kind == "GumbelSinkhorn":
        x = tfg.GumbelSinkhorn(t, param).sample(sample_shape, seed=seed)
      elif kind == "RelaxedPlackettLuce":
        x = tfg.RelaxedPlackettLuce(t, scores=param).sample(sample_shape,
                                                            seed=seed)
      elif kind == "gumbel_sigmoid_st":
        x = tfg.estimators.gumbel_sigmoid_st(param, t, seed=seed)
      elif kind == "top_k_st":
        x = tfg.estimators.top_k_st(param, 2, t, seed=seed)
      else:
        x = getattr(tfg.estimators, kind)(param, t, seed=seed)
      weights = tf.cast(tf.random.stateless_normal(tf.shape(x), seed=(1, 2)),
                        dtype)
      loss = tf.reduce_sum(x * weights)
    return (x,) + tuple(tape.gradient(loss, [param, t]))

  if case["traced"]:
    draw_and_differentiate = tf.function(draw_and_differentiate, input_signature=[
        tf.TensorSpec([None] * len(batch) + list(param.shape[len(batch):]),
                      dtype),
        tf.TensorSpec([], dtype)])
  x, g_param, g_t = draw_and_differentiate(param, t)

  assert x.dtype == dtype
  v = x.numpy().astype(np.float64)
  assert np.isfinite(v).all(), kind
  imp = np.broadcast_to(impossible, v.shape) if kind not in (
      "RelaxedPlackettLuce", "plackett_luce_st") else None
  sum_tol = 30. * float(tf_xp.finfo(dtype).eps) * k
  if kind in ("RelaxedTopK", "top_k_st"):
    assert (v[imp] == 0.).all()
    np.testing.assert_allclose(v.sum(-1), 2., atol=2. * sum_tol + 1e-6)
  elif kind == "GumbelSinkhorn":
    assert (v[imp] == 0.).all()
    bound = sinkhorn_bound(logits_np, t_np, dtype) + sum_tol
    np.testing.assert_allclose(v.sum(-2), 1., atol=bound)
    np.testing.assert_allclose(v.sum(-1), 1., atol=bound)
  elif kind in ("RelaxedPlackettLuce", "plackett_luce_st"):
    # Rows are ranks: the absent items take the last ranks exactly.
    num_absent = impossible.sum(-1)
    for index in np.ndindex(*v.shape[:-2]):
      row_batch = index[len(v.shape) - 2 - len(batch):] if batch else ()
      absent = impossible[row_batch]
      n_abs = int(num_absent[row_batch])
      if n_abs:
        assert (v[index][: k - n_abs][:, absent] == 0.).all(), kind
        assert (v[index][k - n_abs:][:, ~absent] == 0.).all(), kind
    np.testing.assert_allclose(v.sum(-1), 1., atol=sum_tol + 1e-6)
  elif kind == "gumbel_sigmoid_st":
    assert np.isin(v, [0., 1.]).all()
  else:
    assert (v[imp] == 0.).all()
    np.testing.assert_allclose(v.sum(-1), 1., atol=sum_tol + 1e-6)

  for g in (g_param, g_t):
    if g is None:
      continue
    g = g.numpy().astype(np.float64)
    if wide:
      assert np.isfinite(g).all(), kind
    elif dtype == tf.bfloat16:
      assert not np.isnan(g).any(), kind
  if g_param is not None and kind != "gumbel_sigmoid_st":
    # Exactly zero at a probability-0 class (score 0 for Plackett-Luce).
    assert (g_param.numpy().astype(np.float64)[impossible] == 0.).all(), kind


test_fuzz, test_fuzz_2000 = fuzzing.fuzz_tests(check, cases, 120)
