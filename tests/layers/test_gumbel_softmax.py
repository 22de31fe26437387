"""Keras 3 layer GumbelSoftmax: the law of its samples (argmax and
temperature), and the seed stream and temperature setter of
`_base.RelaxationLayer` on it (int64 seed states, MirroredStrategy).

What it shares with GumbelSigmoid is tested on both in test_gumbel.py.
"""

import keras
import numpy as np
import pytest
from scipy import stats
import tensorflow as tf

import tfp_gumbel as tfg
from tests import fitting
from tests import reference
from tests.layers import gumbel_util
from tests.layers import subprocess_util


@pytest.mark.parametrize("hard,estimator", [
    (False, "st"), (True, "st"), (True, "gumbel_rao"), (True, "reinmax")])
def test_softmax_argmax_is_categorical(hard, estimator):
  # 4000 draws in one jit-compiled call; argmax ~ Categorical(probs) for
  # every temperature and estimator.
  logits = np.log(np.tile(fitting.SEED_000_PROBS, [4000, 1])).astype(np.float32)
  layer = tfg.layers.GumbelSoftmax(0.3, hard=hard, estimator=estimator, seed=3)
  y = gumbel_util.draw(layer, logits).numpy()
  if hard:
    gumbel_util.assert_vertex(y, "softmax")
  p_value = reference.argmax_chisquare_pvalue(y, fitting.SEED_000_PROBS)
  assert p_value > gumbel_util.P_MIN


@pytest.mark.parametrize("temperature", [0.2, 1.5])
def test_softmax_temperature_law(temperature):
  # t log(y_0 / y_1) - (logits_0 - logits_1) = g_0 - g_1, a difference of
  # independent standard Gumbels, is standard Logistic: a KS test of the
  # temperature's role that needs no density.
  logits = np.tile(np.float32([1., -0.5, 0.3]), [3000, 1])
  layer = tfg.layers.GumbelSoftmax(temperature, seed=4)
  y = gumbel_util.draw(layer, logits).numpy()
  stat = temperature * np.log(y[:, 0] / y[:, 1]) - 1.5
  assert stats.kstest(stat, stats.logistic.cdf).pvalue > gumbel_util.P_MIN


@pytest.mark.parametrize("state", [
    [2**40 + 3, 0],                  # an int seed beyond int32
    [-(2**62), 2**62 + 1],           # int64 extremes, negative included
    [7, 2**31 - 1],                  # the counter crossing int32's maximum
])
def test_int64_seed_state_samples_eagerly_and_under_xla(state):
  # Keras keeps SeedGenerator states as int64; TF's stateless kernels under
  # XLA take int32 seeds. Eagerly and compiled, the layer samples from such
  # a state and the stream advances. (The two draws differ: TF's stateless
  # kernels pick another generator under XLA, as for Keras's own layers.)
  logits = gumbel_util.logits((4, 5))
  layer = tfg.layers.GumbelSoftmax(0.5)
  layer.build(logits.shape)
  compiled = tf.function(lambda x: layer(x, training=True), jit_compile=True)
  for draw in (lambda x: layer(x, training=True), compiled):
    layer.seed_generator.state.assign(state)
    gumbel_util.assert_relaxed(draw(logits).numpy(), "softmax")
    np.testing.assert_array_equal(layer.seed_generator.state,
                                  [state[0], state[1] + 1])


def test_seed_beyond_int32_samples_under_xla():
  logits = gumbel_util.logits((4, 5))
  big = [tfg.layers.GumbelSoftmax(seed=2**40 + 3) for _ in range(2)]
  first = gumbel_util.draw(big[0], logits).numpy()
  gumbel_util.assert_relaxed(first, "softmax")
  np.testing.assert_array_equal(first, gumbel_util.draw(big[1], logits))


def test_mirrored_strategy_on_two_cpus():
  # In its own process: logical devices must be configured before TF starts.
  result = subprocess_util.run_script("tests.layers.mirrored_script")
  assert result["replicas"] == 2
  # Same inputs, same seed state: the replicas still draw different noise.
  assert result["on_simplex"] and result["max_abs_difference"] > 0.1
  first, second = result["log_temperature"]
  assert first == second and first > 0.1  # synced, and learned (t up)
  assert result["seed_state"][0] == result["seed_state"][1]
  assert np.all(np.isfinite(result["loss"]))


def test_set_temperature():
  layer = tfg.layers.GumbelSoftmax(1.0)
  layer.build((None, 3))
  layer.set_temperature(0.25)
  np.testing.assert_allclose(layer.temperature, 0.25, rtol=1e-6)
  with pytest.raises(ValueError, match="`temperature`"):
    layer.set_temperature(-1.)
