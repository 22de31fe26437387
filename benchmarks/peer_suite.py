"""TFP's own tests of its relaxed classes, run with ours swapped in.

TFP's `relaxed_onehot_categorical_test.py` and `relaxed_bernoulli_test.py`
(from a TensorFlow Probability checkout at the installed release's tag) are
copied into a temporary folder with their import of TFP's class module
replaced by a module that maps TFP's names to ours:

    ExpRelaxedOneHotCategorical -> tfg.ExpRelaxedGumbelSoftmax
    RelaxedOneHotCategorical    -> tfg.GumbelSoftmax
    RelaxedBernoulli            -> tfg.GumbelSigmoid

and run as TFP runs them (each file is an absl test program: `python
FILE`); each file's count is printed. TFP's test files are not part of its
wheel, so this runs by hand, given the checkout:

    python -m benchmarks.peer_suite /path/to/probability
"""

import os
import pathlib
import subprocess
import sys
import tempfile

FILES = {
    "relaxed_onehot_categorical_test.py": (
        "from tensorflow_probability.python.distributions import "
        "relaxed_onehot_categorical as roc",
        "import _swapped as roc"),
    "relaxed_bernoulli_test.py": (
        "from tensorflow_probability.python.distributions import "
        "relaxed_bernoulli",
        "import _swapped as relaxed_bernoulli"),
}

SWAPPED = '''"""TFP's relaxed class names, bound to tfp_gumbel's classes."""
import tfp_gumbel as tfg
ExpRelaxedOneHotCategorical = tfg.ExpRelaxedGumbelSoftmax
RelaxedOneHotCategorical = tfg.GumbelSoftmax
RelaxedBernoulli = tfg.GumbelSigmoid
'''


def main(argv):
  checkout = pathlib.Path(argv[0])
  source = checkout / "tensorflow_probability" / "python" / "distributions"
  with tempfile.TemporaryDirectory() as folder:
    folder = pathlib.Path(folder)
    (folder / "_swapped.py").write_text(SWAPPED)
    for name, (original, replacement) in FILES.items():
      text = (source / name).read_text()
      if original not in text:
        sys.exit(f"{name}: the import to swap was not found: {original}")
      (folder / name).write_text(text.replace(original, replacement))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(folder), os.getcwd(), os.environ.get("PYTHONPATH", "")]))
    failed = 0
    for name in FILES:
      result = subprocess.run([sys.executable, str(folder / name)], cwd=folder,
                              env=env, capture_output=True, text=True,
                              check=False)
      lines = result.stderr.splitlines()
      print("\n".join(line for line in lines if line.startswith(
          ("FAIL:", "ERROR:", "Ran ", "OK", "FAILED"))))
      failed += result.returncode != 0
  return failed


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
