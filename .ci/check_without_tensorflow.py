"""The package without TensorFlow: what a JAX or PyTorch user, or one who has
not installed the tensorflow extra yet, gets.

.ci/run runs it in a fresh environment holding only the built wheel and its
install_requires; tests/test_requirements.py runs it with TensorFlow, TFP and
tf-keras hidden. `import tfp_gumbel` must work and import none of the stack;
each public name that needs TensorFlow must raise an ImportError that names
what is missing and gives the install line. Prints each error's text and
exits non-zero on any failure.
"""

import sys

STACK = ("tensorflow", "tensorflow_probability", "tf_keras")

import tfp_gumbel  # pylint: disable=wrong-import-position

imported = [name for name in STACK if sys.modules.get(name) is not None]
if imported:
  sys.exit(f"import tfp_gumbel imported {imported}")
print(f"import tfp_gumbel {tfp_gumbel.__version__}: imports none of {STACK}")

# Public names that need Keras (on any backend), not TensorFlow: reached where
# Keras runs on another backend, else an ImportError naming Keras.
KERAS_ONLY = ("layers", "ops")

failures, reached = [], []
for name in tfp_gumbel.__all__:
  try:
    getattr(tfp_gumbel, name)
  except ImportError as error:
    text = str(error)
    if name in KERAS_ONLY:
      if "needs Keras" not in text or "pip install" not in text:
        failures.append(f"tfg.{name}: the error does not say what to "
                        f"install: {text}")
    elif ('pip install "tfp_gumbel[tensorflow]"' not in text
          or "TensorFlow not installed" not in text):
      failures.append(f"tfg.{name}: the error does not say what to install: "
                      f"{text}")
    print(f"tfg.{name}: ImportError: {text}\n")
  else:
    if name not in KERAS_ONLY:
      failures.append(f"tfg.{name}: reached without TensorFlow")
    reached.append(name)
imported = [name for name in STACK if sys.modules.get(name) is not None]
if imported:
  failures.append(f"reaching {reached} imported {imported}")
if failures:
  sys.exit("\n".join(failures))
if reached:
  print(f"{reached} reached on Keras's own backend, without TensorFlow; the "
        f"other {len(tfp_gumbel.__all__) - len(reached)} public names raise "
        f"the install error")
else:
  print(f"all {len(tfp_gumbel.__all__)} public names raise the install error")
