"""The TensorFlow stack is an extra: `import tfp_gumbel` imports none of it,
and reaching what needs it without it raises an ImportError that says what was
found, what is needed and how to install it (tfp_gumbel/_requirements.py).

Each case runs in a fresh process, where what a user may lack is hidden:
`sys.modules[name] = None` makes `import name` fail and `find_spec` report it
absent, as on a machine where it is not installed; a directory put first on
`sys.path` holds a stand-in module for a version that is too old.
"""

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
STACK = ("tensorflow", "tensorflow_probability", "tf_keras")
INSTALL = 'pip install "tfp_gumbel[tensorflow]"'


def run(code, hide=(), path=()):
  prelude = "import sys\n"
  prelude += "".join(f"sys.path.insert(0, {str(p)!r})\n" for p in path)
  prelude += "".join(f"sys.modules[{name!r}] = None\n" for name in hide)
  return subprocess.run(
      [sys.executable, "-c", prelude + textwrap.dedent(code)],
      capture_output=True, text=True, timeout=300, check=False,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))


def test_import_imports_none_of_the_stack():
  result = run(f"""
      import tfp_gumbel as tfg
      print(sorted(n for n in {STACK!r} + ("keras", "jax", "torch")
                   if n in sys.modules))
      print(tfg.__version__, len(dir(tfg)))
      """)
  assert result.returncode == 0, result.stderr
  assert result.stdout.splitlines()[0] == "[]"


def test_reaching_a_family_imports_it():
  result = run("""
      import tfp_gumbel as tfg
      assert tfg.GumbelSoftmax is tfg.distributions.GumbelSoftmax
      print(sorted(n for n in ("tensorflow", "tensorflow_probability")
                   if n in sys.modules))
      """)
  assert result.returncode == 0, result.stderr
  assert result.stdout.split()[-1] == "'tensorflow_probability']"


def test_unknown_names_are_attribute_errors():
  result = run("""
      import tfp_gumbel as tfg
      try:
        tfg.RelaxedOneHotCategorical
      except AttributeError as error:
        print(error)
      """)
  assert "has no attribute 'RelaxedOneHotCategorical'" in result.stdout


def test_without_tensorflow_every_public_name_says_what_to_install():
  script = ROOT / ".ci" / "check_without_tensorflow.py"
  result = run(f"exec(open({str(script)!r}).read())", hide=STACK)
  assert result.returncode == 0, result.stdout + result.stderr
  # 10 TensorFlow errors, and tfg.ops's and tfg.layers's Keras errors, which
  # name it too.
  assert result.stdout.count(INSTALL) == 12
  assert "all 12 public names raise the install error" in result.stdout
  assert "tfp_gumbel.ops needs Keras >= 3.5" in result.stdout
  assert "tfp_gumbel.layers needs Keras >= 3.5" in result.stdout


@pytest.mark.parametrize("module", ["tfp_gumbel.distributions",
                                    "tfp_gumbel.estimators",
                                    "tfp_gumbel.kl",
                                    "tfp_gumbel.monte_carlo"])
def test_each_entry_module_checks(module):
  result = run(f"import {module}", hide=STACK)
  assert result.returncode == 1
  assert f"ImportError: {module} needs TensorFlow >= 2.18" in result.stderr
  assert "TensorFlow not installed" in result.stderr
  assert INSTALL in result.stderr


def test_without_tfp_names_what_is_found():
  result = run("import tfp_gumbel as tfg; tfg.GumbelSoftmax",
               hide=("tensorflow_probability", "tf_keras"))
  assert result.returncode == 1
  message = result.stderr.splitlines()[-2] + result.stderr.splitlines()[-1]
  assert "found: TensorFlow 2." in message
  assert "TensorFlow Probability not installed, tf-keras not installed" in (
      message)
  assert INSTALL in message


def reach_a_family_with_stand_in(tmp_path, module, source):
  """Reaches tfg.GumbelSoftmax where `module` is a package running `source`."""
  (tmp_path / module).mkdir()
  (tmp_path / module / "__init__.py").write_text(source + "\n")
  return run("import tfp_gumbel as tfg; tfg.GumbelSoftmax", path=[tmp_path])


def test_too_old_tensorflow_names_both_versions(tmp_path):
  # A stand-in TensorFlow 2.15, as a user with an older install has.
  result = reach_a_family_with_stand_in(tmp_path, "tensorflow",
                                        '__version__ = "2.15.1"')
  assert result.returncode == 1
  assert ("tfp_gumbel.distributions needs TensorFlow >= 2.18, TensorFlow "
          "Probability >= 0.25 and tf-keras; found: TensorFlow 2.15.1"
          in result.stderr)


def test_nightly_versions_are_accepted():
  from tfp_gumbel import _requirements  # pylint: disable=import-outside-toplevel
  assert _requirements._release("2.23.0-dev20261026") == (2, 23)  # pylint: disable=protected-access
  assert _requirements._release("0.26.0-dev20261027") >= (0, 25)  # pylint: disable=protected-access
  assert _requirements._release("2.9.0") < (2, 18)  # pylint: disable=protected-access


def test_a_broken_tfp_keeps_its_own_text(tmp_path):
  # TFP's own import-time check raises with its text; ours contains it.
  result = reach_a_family_with_stand_in(
      tmp_path, "tensorflow_probability",
      "raise ImportError('This version of TensorFlow Probability requires "
      "TensorFlow version >= 2.18; Detected an installation of version 2.17.')")
  assert result.returncode == 1
  assert ("TensorFlow Probability not importable (ImportError: This version "
          "of TensorFlow Probability requires TensorFlow version >= 2.18"
          in result.stderr)
