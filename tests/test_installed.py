"""The installed distribution holds every file of the package (CI's wheel check).

`.ci/run` installs the built wheel into a fresh environment and runs the tests
from a copy of `tests/` that cannot import the source tree; it sets
`TFG_EXPECT_INSTALLED=1` and `TFG_SOURCE_TREE` (the checkout), so a module that
the wheel misses fails here by name, not somewhere later. Run from a checkout
(the package imported from the source tree) these tests are skipped, unless
`TFG_EXPECT_INSTALLED=1` says they must not be.
"""

import importlib
import importlib.metadata
import os
import pathlib

import pytest

import tfp_gumbel
import tfp_gumbel_cli

TESTS_ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE_DIR = pathlib.Path(tfp_gumbel.__file__).resolve().parent
INSTALLED = TESTS_ROOT not in PACKAGE_DIR.parents

if not INSTALLED and os.environ.get("TFG_EXPECT_INSTALLED") == "1":
  raise AssertionError(
      f"TFG_EXPECT_INSTALLED=1, but tfp_gumbel was imported from the test "
      f"tree: {PACKAGE_DIR}")
pytestmark = pytest.mark.skipif(
    not INSTALLED, reason="tfp_gumbel is imported from the source tree")


def modules_under(directory, package):
  return sorted(
      ".".join((package,) + path.relative_to(directory).with_suffix("").parts)
      .removesuffix(".__init__")
      for path in directory.rglob("*.py"))


def test_version_is_the_distributions():
  assert importlib.metadata.version("tfp_gumbel") == tfp_gumbel.__version__
  from tfp_gumbel import _version  # pylint: disable=import-outside-toplevel
  assert _version.__version__ == tfp_gumbel.__version__


def test_every_installed_module_imports():
  names = modules_under(PACKAGE_DIR, "tfp_gumbel")
  assert "tfp_gumbel.layers.tfp_layers" in names
  for name in names:
    importlib.import_module(name)


def test_the_wheel_has_every_module_of_the_source_tree():
  source = os.environ.get("TFG_SOURCE_TREE")
  if not source:
    pytest.skip("TFG_SOURCE_TREE (the checkout the wheel was built from) is "
                "not set")
  expected = modules_under(pathlib.Path(source) / "tfp_gumbel", "tfp_gumbel")
  assert modules_under(PACKAGE_DIR, "tfp_gumbel") == expected


def test_distribution_files():
  files = {f.name for f in importlib.metadata.files("tfp_gumbel")}
  assert {"LICENSE", "tfp_gumbel_cli.py", "_version.py"} <= files
  assert pathlib.Path(tfp_gumbel_cli.__file__).resolve().parent == (
      PACKAGE_DIR.parent)


def test_console_script():
  scripts = {e.name: e for e in importlib.metadata.entry_points(
      group="console_scripts") if e.name == "tfp-gumbel-demo"}
  assert scripts["tfp-gumbel-demo"].value == "tfp_gumbel_cli:demo"
  assert scripts["tfp-gumbel-demo"].load() is tfp_gumbel_cli.demo
