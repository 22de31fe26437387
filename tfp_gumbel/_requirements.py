"""The TensorFlow stack the distributions, estimators and layers need, and the
Keras that `tfg.ops` needs, checked when they are first imported.

TensorFlow, TensorFlow Probability and tf-keras are no hard dependency of the
package (setup.cfg's `tensorflow` extra brings them), for the reason TFP gives
for its own TensorFlow: users reach them under several distribution names
(`tensorflow`, `tensorflow-cpu`, `tf-nightly`; `tensorflow-probability`,
`tfp-nightly`; `tf-keras`, `tf-keras-nightly`) that own the same import names,
and pip would write a release over a user's nightly. So, like TFP's
`_ensure_tf_install`, the modules that need them check what is importable and
raise one ImportError naming what was found, what is needed and the install
line. Importing `tfp_gumbel` itself imports none of them (tfp_gumbel/__init__.py
is lazy).
"""

import importlib
import importlib.util
import re
import sys

__all__ = ["INSTALL_LINE", "KERAS_INSTALL_LINE", "require_keras",
           "require_tensorflow"]

# The oldest releases the package is tested with (.ci/oldest.txt): TFP 0.25 is
# the first with numpy 2 support that the package relies on, and TF 2.18 is the
# oldest TensorFlow that TFP 0.25 accepts.
MINIMUM = {"tensorflow": (2, 18), "tensorflow_probability": (0, 25),
           # The Keras that TensorFlow 2.18 brings (setup.cfg).
           "keras": (3, 5)}
NAMES = {"tensorflow": "TensorFlow",
         "tensorflow_probability": "TensorFlow Probability",
         "tf_keras": "tf-keras"}
INSTALL_LINE = ('pip install "tfp_gumbel[tensorflow]"   (nightly builds: '
                "pip install tf-nightly tfp-nightly tf-keras-nightly)")
KERAS_INSTALL_LINE = ('pip install "keras>=3.5" jax   (or torch, with '
                      "KERAS_BACKEND=torch; or TensorFlow: "
                      'pip install "tfp_gumbel[tensorflow]")')


def _release(version):
  """(major, minor) of a version string: '2.23.0-dev20261026' -> (2, 23)."""
  match = re.match(r"(\d+)\.(\d+)", str(version))
  return (int(match.group(1)), int(match.group(2))) if match else None


def _found(module_name):
  """What is importable under `module_name`: (description, ok, import error)."""
  if importlib.util.find_spec(module_name) is None:
    return "not installed", False, None
  if module_name not in MINIMUM:
    # tf-keras has no version bound of its own: each release follows
    # TensorFlow's numbers, and TFP imports it only when a module needs it.
    return "installed", True, None
  try:
    module = importlib.import_module(module_name)
  except Exception as error:  # pylint: disable=broad-exception-caught
    # A broken or too-old install raises its own ImportError (TFP's names the
    # TensorFlow version it needs); its text is kept in ours.
    return f"not importable ({type(error).__name__}: {error})", False, error
  version = getattr(module, "__version__", "unknown")
  release = _release(version)
  return version, release is not None and release >= MINIMUM[module_name], None


def require_tensorflow(what):
  """Raises ImportError unless TensorFlow, TFP and tf-keras are usable.

  Args:
    what: the part of tfp_gumbel being imported, for the message
      (e.g. "tfp_gumbel.distributions").
  """
  found, missing, cause = [], False, None
  for module_name, name in NAMES.items():
    description, ok, error = _found(module_name)
    if module_name == "tensorflow" and not ok:
      # TFP's import needs a working TensorFlow; trying it would only repeat
      # the same failure in TFP's words.
      found.append(f"{name} {description}")
      found.append(f"{NAMES['tensorflow_probability']} not checked")
      missing, cause = True, error
      break
    found.append(f"{name} {description}")
    missing = missing or not ok
    cause = cause or error
  if missing:
    raise ImportError(
        f"{what} needs TensorFlow >= {'.'.join(map(str, MINIMUM['tensorflow']))}, "
        f"TensorFlow Probability >= "
        f"{'.'.join(map(str, MINIMUM['tensorflow_probability']))} and tf-keras; "
        f"found: {', '.join(found)}. Install them with:\n  {INSTALL_LINE}"
    ) from cause


def require_keras(what):
  """Raises ImportError unless Keras 3 imports with its backend.

  Keras imports its backend (`KERAS_BACKEND`, TensorFlow by default) when it
  is imported, so a Keras whose backend is missing is "not importable", with
  Keras's own error in the text.

  Args:
    what: the part of tfp_gumbel being imported (e.g. "tfp_gumbel.ops").
  """
  description, ok, error = _found("keras")
  if not ok:
    raise ImportError(
        f"{what} needs Keras >= {'.'.join(map(str, MINIMUM['keras']))} with "
        f"one of its backends (JAX, PyTorch or TensorFlow, chosen by "
        f"KERAS_BACKEND); found: Keras {description}. Install them with:\n"
        f"  {KERAS_INSTALL_LINE}") from error


def require_matplotlib():
  """Imports matplotlib with the file-only Agg backend, or exits with status
  1 saying how to install it: the demo's and the examples' one check of the
  plotting extra (no TensorFlow needed, so the examples that run on JAX and
  PyTorch use it too)."""
  try:
    import matplotlib  # pylint: disable=import-outside-toplevel
  except ImportError:
    sys.exit('tfp_gumbel demo: matplotlib is not installed; install the '
             'plotting extra with  pip install -e ".[tensorflow,plot]"  (or  '
             'pip install matplotlib)  and run  tfp-gumbel-demo  again.')
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  return plt
