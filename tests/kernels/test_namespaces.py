"""Each kernel is one formula for every array namespace.

The kernels of `tfp_gumbel._kernels` are run with TensorFlow's namespace
(`_backend/tensorflow.py`, what the TFP families and the estimators use) and
with `keras.ops` (`_backend/keras_ops.py`, the namespace of the Keras 3
backends), on the same inputs and, for the samplers, the same uniform draws:
the results agree to a few ulps (float32 and float64). The kernel modules
import no array library themselves (checked in a fresh process).
"""

import subprocess
import sys
import types

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from tfp_gumbel._backend import keras_ops  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._backend import tensorflow as tf_xp  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._kernels import binary  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._kernels import categorical  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._kernels import masking  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._kernels import noise  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfp_gumbel._kernels import subsets  # pylint: disable=g-import-not-at-top,wrong-import-position

NAMESPACES = {"tensorflow": tf_xp, "keras.ops": keras_ops}


def _with_uniforms(xp, u):
  """`xp` whose `uniform_open` returns the fixed draws `u` (of any shape
  asked for that has u's size)."""
  fixed = types.ModuleType(xp.__name__)
  fixed.__dict__.update(xp.__dict__)
  fixed.uniform_open = lambda shape, seed, dtype: xp.reshape(
      xp.cast(xp.convert_to_tensor(u), dtype), tuple(int(d) for d in shape))
  return fixed


def _inputs(dtype):
  rng = np.random.default_rng(0)
  logits = (3. * rng.standard_normal((4, 3, 5))).astype(dtype)
  logits[0, 1, 2] = -np.inf                  # an impossible class
  logits[1, :, :2] = -np.inf
  temperature = rng.uniform(0.05, 2., (4, 3)).astype(dtype)
  u = rng.uniform(1e-6, 1., (2, 4, 3, 5)).astype(dtype)
  y = np.log(rng.dirichlet(np.ones(5), (4, 3))).astype(dtype)
  return logits, temperature, u, y


def _cases(dtype):
  logits, temperature, u, y = _inputs(dtype)
  t = temperature[..., None]
  finite_logits = np.where(np.isinf(logits), 0., logits).astype(dtype)
  binary_logits = logits[..., 0].copy()
  binary_logits[2, 0] = np.inf
  binary_y = (binary_logits / 2.).astype(dtype)
  binary_y[3, 1] = -np.inf
  return {
      "tempered_softmax": lambda xp: categorical.tempered_softmax(
          xp, xp.convert_to_tensor(logits), xp.convert_to_tensor(t),
          masking.possible(xp, xp.convert_to_tensor(logits))),
      "tempered_log_softmax, no mask": lambda xp: categorical.tempered_softmax(
          xp, xp.convert_to_tensor(finite_logits), xp.convert_to_tensor(t),
          log=True),
      "gumbel_softmax_sample": lambda xp: categorical.gumbel_softmax_sample(
          _with_uniforms(xp, u), xp.convert_to_tensor(logits),
          xp.convert_to_tensor(t), 2, None),
      "one_hot_argmax": lambda xp: categorical.one_hot_argmax(
          xp, xp.convert_to_tensor(logits)),
      "conditional_gumbel": lambda xp: categorical.conditional_gumbel(
          _with_uniforms(xp, u), xp.convert_to_tensor(logits),
          categorical.one_hot_argmax(xp, xp.convert_to_tensor(logits)), 2,
          None),
      "log_simplex_log_prob": lambda xp: categorical.log_simplex_log_prob(
          xp, xp.convert_to_tensor(y), xp.convert_to_tensor(finite_logits),
          xp.convert_to_tensor(temperature)),
      "log_simplex_log_prob, masked": lambda xp: (
          categorical.log_simplex_log_prob(
              xp, xp.convert_to_tensor(np.where(np.isinf(logits), -np.inf, y)
                                       .astype(dtype)),
              xp.convert_to_tensor(logits), xp.convert_to_tensor(temperature),
              masking.possible(xp, xp.convert_to_tensor(logits)))),
      "gumbel noise": lambda xp: noise.gumbel(
          _with_uniforms(xp, u), (2, 4, 3, 5), None, dtype),
      "logistic noise": lambda xp: noise.logistic(
          _with_uniforms(xp, u), (2, 4, 3, 5), None, dtype),
      "safe_log": lambda xp: masking.safe_log(
          xp, xp.convert_to_tensor(np.exp(logits))),
      "log_odds": lambda xp: masking.log_odds(
          xp, xp.convert_to_tensor(
              np.concatenate([u[0, 0, 0], [0., 1.]]).astype(dtype))),
      "relaxed_log_odds": lambda xp: binary.relaxed_log_odds(
          xp, xp.convert_to_tensor(binary_logits),
          xp.convert_to_tensor(temperature),
          xp.isinf(xp.convert_to_tensor(binary_logits))),
      "binary log_prob": lambda xp: binary.log_prob(
          xp, xp.convert_to_tensor(temperature),
          xp.convert_to_tensor(binary_logits), xp.convert_to_tensor(binary_y)),
      "relaxed_top_k, k = 2": lambda xp: subsets.relaxed_top_k(
          xp, xp.convert_to_tensor(logits), 2, xp.convert_to_tensor(t)),
      "relaxed_top_k, k = 3 of the possible": lambda xp: (
          subsets.relaxed_top_k(xp, xp.convert_to_tensor(finite_logits), 3,
                                xp.convert_to_tensor(t))),
      "top_k_mask": lambda xp: subsets.top_k_mask(
          xp, xp.convert_to_tensor(finite_logits), 2),
      "binary log_cdf": lambda xp: binary.distribution_function(
          xp, "log_cdf", xp.convert_to_tensor(temperature),
          xp.convert_to_tensor(binary_logits), xp.convert_to_tensor(binary_y)),
  }


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(_cases("float32")))
def test_tensorflow_and_keras_ops_agree(case, dtype):
  kernel = _cases(dtype)[case]
  expected = np.asarray(kernel(tf_xp))
  got = keras.ops.convert_to_numpy(kernel(keras_ops))
  assert got.dtype == expected.dtype
  np.testing.assert_array_equal(np.isfinite(got), np.isfinite(expected))
  np.testing.assert_array_max_ulp(
      np.where(np.isfinite(got), got, 0.),
      np.where(np.isfinite(expected), expected, 0.), maxulp=4)
  np.testing.assert_array_equal(got[~np.isfinite(got)],
                                expected[~np.isfinite(expected)])


def test_kernel_modules_import_no_array_library():
  code = (
      "import sys\n"
      "import tfp_gumbel._kernels.binary, tfp_gumbel._kernels.categorical\n"
      "import tfp_gumbel._kernels.masking, tfp_gumbel._kernels.noise\n"
      "import tfp_gumbel._backend\n"
      "print(sorted(m for m in ('tensorflow', 'tensorflow_probability', "
      "'keras', 'jax', 'torch') if m in sys.modules))\n")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, check=True, timeout=120).stdout
  assert out.strip() == "[]"
