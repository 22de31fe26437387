"""The `keras.ops` namespace (`tfp_gumbel._backend.keras_ops`) on the active
Keras backend: the run-time branch of the layers' fast path, and on
TensorFlow the noise, which is `keras.random.uniform`'s, drawn into its own
buffer under XLA."""

import numpy as np
import pytest
from scipy import stats

from tests import any_backend

keras = pytest.importorskip("keras")

from tfp_gumbel._backend import keras_ops  # pylint: disable=g-import-not-at-top,wrong-import-position

BACKEND = any_backend.BACKEND


@pytest.mark.parametrize("bad", [None, np.inf, -np.inf, np.nan])
def test_branch_on_finite_runs_the_branch_the_values_pick(bad):
  calls = []

  def branch(name, result):
    calls.append(name)
    return keras.ops.convert_to_tensor(result)

  x = np.ones((3, 4), "float32")
  if bad is not None:
    x[1, 2] = bad
  out = keras_ops.branch_on_finite(
      keras.ops.convert_to_tensor(x), lambda: branch("finite", 1.),
      lambda: branch("not", 2.))
  if BACKEND == "jax":
    assert out is None and not calls  # XLA fuses what a branch would skip.
  else:
    assert calls == ["finite" if bad is None else "not"]
    assert float(any_backend.to_numpy(out)) == (1. if bad is None else 2.)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TensorFlow's noise")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tensorflow_noise_is_keras_random_uniforms_and_uniform_under_xla(
    dtype):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  shape = (300, 70)  # above the size where XLA would fuse the generator
  tiny = float(np.finfo(dtype).tiny)

  def ours():
    generator = keras.random.SeedGenerator(5)
    return lambda: keras_ops.uniform_open(shape, generator, dtype)

  eager = ours()().numpy()
  np.testing.assert_array_equal(eager, keras.random.uniform(
      shape, minval=tiny, maxval=1., dtype=dtype,
      seed=keras.random.SeedGenerator(5)).numpy())
  np.testing.assert_array_equal(eager, tf.function(ours())().numpy())
  # XLA's Philox from a run-time key gives other numbers than the CPU
  # kernel's (keras.random.uniform's too): compiled draws are compared with
  # each other and with the uniform law, not with eager ones.
  xla = tf.function(ours(), jit_compile=True)
  first, second = xla().numpy(), xla().numpy()
  np.testing.assert_array_equal(
      first, tf.function(ours(), jit_compile=True)().numpy())
  assert not np.array_equal(first, second)  # the stream advances
  assert np.all(first >= tiny) and np.all(first < 1.)
  # KS against U(0, 1), 21,000 draws: a broken draw (a repeated block, a
  # shifted range) gives p ~ 0; a fixed seed, so 1e-3 is not a coin toss.
  assert stats.kstest(first.ravel(), "uniform").pvalue > 1e-3
  # Under XLA the numbers come from their own buffer (a conditional in the
  # entry computation), not generated again inside each consumer's fusion.
  hlo = xla.experimental_get_compiler_ir()(stage="optimized_hlo")
  assert "conditional(" in hlo[hlo.index("ENTRY"):]
