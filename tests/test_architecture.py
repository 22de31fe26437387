"""The claims of ARCHITECTURE.md that a program can check.

Most checks parse the sources with `ast` and import nothing of the package:
the layer table (every module placed, every import allowed), the kernels'
imports, the fuzz of every family, the kernels' table, the paths the file
names, and TFP's private state. Two import what they check: TFP's subclass
hooks (the classes themselves) and the namespaces' names (the two namespace
modules). Each test's docstring quotes or names the claim it keeps true.
"""

import ast
import importlib
import inspect
import os
import pathlib
import pkgutil
import re
import textwrap
import typing

import pytest

# The checkout: this file's, or where CI tests the built wheel from a copy of
# tests/, the one the wheel was built from (TFG_SOURCE_TREE, as in
# tests/test_installed.py): ARCHITECTURE.md is a file of the checkout.
ROOT = pathlib.Path(os.environ.get("TFG_SOURCE_TREE")
                    or pathlib.Path(__file__).resolve().parents[1])
PACKAGE = ROOT / "tfp_gumbel"
DOC = ROOT / "ARCHITECTURE.md"

# Top-level names that are files of this repository, not installed packages.
OWN_ROOTS = ("tfp_gumbel", "tfp_gumbel_cli", "examples", "benchmarks", "tests")
ARRAY_LIBRARIES = ("tensorflow", "tensorflow_probability", "keras", "tf_keras",
                   "jax", "jaxlib", "torch")
ANYTHING = "anything"


class Layer(typing.NamedTuple):
  """A row of ARCHITECTURE.md's layer table.

  `modules`: paths from the repository root, a folder ending in "/";
  `imports`: the layers its modules may import from (its own name: any
  import within the layer); `within`: single imports within the layer,
  `(importer, imported)` as paths from the layer's folder.
  """
  modules: tuple
  imports: tuple
  within: tuple = ()


# ARCHITECTURE.md's layer table, bottom up (the test checks that the two
# agree, so a new module goes into both).
BELOW_FAMILIES = ("base", "kernels", "namespaces", "plumbing")
LAYERS = {
    "base": Layer(("tfp_gumbel/_version.py", "tfp_gumbel/_checks.py"), ()),
    "kernels": Layer(("tfp_gumbel/_kernels/",), ("base", "kernels")),
    "namespaces": Layer(("tfp_gumbel/_backend/",), ("base",)),
    "plumbing": Layer(("tfp_gumbel/_requirements.py", "tfp_gumbel/_dtypes.py"),
                      ("base", "kernels", "namespaces")),
    "families": Layer(("tfp_gumbel/distributions/",),
                      BELOW_FAMILIES + ("families",)),
    "estimators": Layer(("tfp_gumbel/unbiased.py", "tfp_gumbel/estimators.py"),
                        BELOW_FAMILIES,
                        (("estimators.py", "unbiased.py"),)),
    "functions": Layer(("tfp_gumbel/ops.py",), BELOW_FAMILIES),
    "helpers": Layer(("tfp_gumbel/kl.py", "tfp_gumbel/monte_carlo.py"),
                     BELOW_FAMILIES + ("families",),
                     (("monte_carlo.py", "kl.py"),)),
    "layers": Layer(("tfp_gumbel/layers/",),
                    BELOW_FAMILIES + ("families", "estimators", "functions",
                                      "helpers", "layers")),
    "entry": Layer(("tfp_gumbel/__init__.py", "tfp_gumbel/__main__.py"),
                   BELOW_FAMILIES + ("families", "estimators", "functions",
                                     "helpers", "layers", "entry")),
    "programs": Layer(("tfp_gumbel_cli.py", "examples/", "benchmarks/"),
                      (ANYTHING,)),
}


def _relative(path):
  return path.relative_to(ROOT).as_posix()


MODULES = sorted(_relative(path) for path in PACKAGE.rglob("*.py"))


def _layer_of(path):
  """The layer whose row places `path` (from the repository root): the row
  naming the file, else the row naming its deepest folder; None if none."""
  best, best_entry = None, ""
  for name, layer in LAYERS.items():
    for entry in layer.modules:
      if (entry == path or (entry.endswith("/") and path.startswith(entry))) \
          and len(entry) > len(best_entry):
        best, best_entry = name, entry
  return best


def _path_of(module):
  """The file of the dotted `module` from the repository root, for a module
  of this repository; None for another package or a name that is no module
  (`from tfp_gumbel.unbiased import rebar`: `rebar`)."""
  base = ROOT.joinpath(*module.split("."))
  for candidate in (base.with_suffix(".py"), base / "__init__.py"):
    if candidate.is_file():
      return _relative(candidate)
  return None


def _module_name(path):
  """`tfp_gumbel/distributions/_base.py` -> `tfp_gumbel.distributions._base`;
  a package's `__init__.py` -> the package."""
  parts = path[:-len(".py")].split("/")
  return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source, path):
  """`(line, module)` for each import in `source` (the file at `path`), at
  any nesting: `import a.b`, `from a import b` (the module `a.b` where it is
  one, else `a`), relative imports resolved, and `importlib.import_module`
  or `__import__` of a literal name."""
  name = _module_name(path)
  package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
  found = []
  for node in ast.walk(ast.parse(source, path)):
    if isinstance(node, ast.Import):
      found += [(node.lineno, alias.name) for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      if node.level:
        parts = package.split(".")
        parts = parts[:len(parts) - node.level + 1]
        base = ".".join(parts + ([node.module] if node.module else []))
      for alias in node.names:
        submodule = f"{base}.{alias.name}"
        is_module = (alias.name != "*" and base.split(".")[0] in OWN_ROOTS
                     and _path_of(submodule) is not None)
        found.append((node.lineno, submodule if is_module else base))
    elif (isinstance(node, ast.Call) and node.args
          and isinstance(node.args[0], ast.Constant)
          and isinstance(node.args[0].value, str)
          and ast.unparse(node.func) in ("importlib.import_module",
                                         "__import__")):
      found.append((node.lineno, node.args[0].value))
  return found


def _forbidden_imports(path, source=None):
  """'path:line: imports X (layer) from layer' for each import of the module
  at `path` (its `source`, read if None) that its row does not allow, or of
  a module of this repository that no row places."""
  layer_name = _layer_of(path)
  layer = LAYERS[layer_name]
  folder = path.rpartition("/")[0] + "/"
  if source is None:
    source = (ROOT / path).read_text()
  found = []
  for line, module in imported_modules(source, path):
    if module.split(".")[0] not in OWN_ROOTS:
      continue
    target = _path_of(module)
    target_layer = target and _layer_of(target)
    if target_layer is None:
      found.append(f"{path}:{line}: imports {module}, which no row places "
                   "(or which does not exist)")
      continue
    within = (path[len(folder):], target[len(folder):]) in layer.within
    if (target_layer not in layer.imports and ANYTHING not in layer.imports
        and not (target_layer == layer_name and within)):
      found.append(f"{path}:{line}: imports {module} ({target_layer}) from "
                   f"{layer_name}")
  return found


def test_the_import_parser_finds_what_it_says():
  """The parser behind "imports flow down" sees every kind of import."""
  source = textwrap.dedent("""
      import numpy as np
      from . import _base
      from .. import estimators
      from .._kernels import masking, noise
      from tfp_gumbel.unbiased import rebar
      from tfp_gumbel import __version__

      def sample():
        import tensorflow.compat.v1 as tf1
        if True:
          from tfp_gumbel.layers import _base as layers_base
        return importlib.import_module("jax.numpy")
  """)
  found = [module for _, module in imported_modules(
      source, "tfp_gumbel/distributions/gumbel_softmax.py")]
  assert sorted(found) == sorted([
      "numpy", "tfp_gumbel.distributions._base", "tfp_gumbel.estimators",
      "tfp_gumbel._kernels.masking", "tfp_gumbel._kernels.noise",
      "tfp_gumbel.unbiased", "tfp_gumbel", "tensorflow.compat.v1",
      "tfp_gumbel.layers._base", "jax.numpy"])


def test_the_layer_check_flags_what_it_says():
  """The check behind "imports flow down" flags an import of a higher or a
  sibling layer and of a module no row places, and allows what a row
  allows, an arrow in its direction only."""
  cases = {
      "tfp_gumbel/_kernels/masking.py": """
          import numpy as np
          from . import noise                                 # allowed
          from tfp_gumbel import _checks                      # allowed
          from tfp_gumbel._backend import tensorflow          # flagged
          def f():
            from tfp_gumbel.distributions import _base        # flagged
            import tfp_gumbel.no_such_module                  # flagged
      """,
      "tfp_gumbel/estimators.py": """
          from tfp_gumbel.unbiased import rebar               # allowed
          from tfp_gumbel._kernels import categorical         # allowed
          from tfp_gumbel import distributions                # flagged
      """,
      "tfp_gumbel/unbiased.py": """
          from tfp_gumbel import estimators                   # flagged
      """,
      "tfp_gumbel/layers/gumbel_softmax.py": """
          from tfp_gumbel.layers import _base, gumbel_sigmoid  # allowed
          from tfp_gumbel import kl, estimators, _version     # allowed
          import tfp_gumbel_cli                               # flagged
      """,
  }
  for path, source in cases.items():
    source = textwrap.dedent(source)
    lines = [int(found.split(":")[1])
             for found in _forbidden_imports(path, source)]
    flagged = [i + 1 for i, line in enumerate(source.splitlines())
               if line.endswith("# flagged")]
    assert lines == flagged, path


def test_the_table_matches_the_doc():
  """ARCHITECTURE.md's layer table: this file's copy (the rows, their order,
  their modules, what each may import) is the doc's."""
  section = DOC.read_text().split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
  rows = [line for line in section.splitlines() if line.startswith("| ")][1:]
  doc = {}
  for row in rows:
    name, modules, imports, _ = [
        cell.strip() for cell in row.strip().strip("|").split("|", 3)]
    layers, _, arrows = imports.partition(";")
    layers = () if layers.startswith("nothing") else tuple(
        layer.strip() for layer in layers.split(","))
    doc[name] = Layer(tuple(re.findall(r"`([^`]+)`", modules)), layers,
                      tuple(re.findall(r"`([^`]+)` → `([^`]+)`", arrows)))
  assert list(doc) == list(LAYERS)
  for name, layer in LAYERS.items():
    assert doc[name] == layer, name


def test_imports_flow_down():
  """ARCHITECTURE.md, Layers: "imports flow down". Each layer imports only
  layers listed before it (and itself where its row says so)."""
  order = list(LAYERS)
  for position, (name, layer) in enumerate(LAYERS.items()):
    allowed = set(order[:position + 1]) | {ANYTHING}
    assert set(layer.imports) <= allowed, name
    assert not layer.within or name not in layer.imports, name


def test_every_module_is_placed():
  """ARCHITECTURE.md, Layers: a new module goes into the table; every module
  of the package is placed by a row."""
  unplaced = [path for path in MODULES if _layer_of(path) is None]
  assert unplaced == [], "place them in ARCHITECTURE.md and LAYERS"


def test_every_import_is_allowed_by_its_row():
  """ARCHITECTURE.md, Layers: "a module imports, at module level or inside a
  function, only from the layers its row names" (a kernel imports no
  namespace and no family; a namespace no kernel; the estimators no family;
  nothing in the package imports a program)."""
  forbidden = [found for path in MODULES if _layer_of(path)
               for found in _forbidden_imports(path)]
  assert forbidden == []


@pytest.mark.parametrize(
    "path",
    [path for path in MODULES if path.startswith("tfp_gumbel/_kernels/")]
    + ["tfp_gumbel/_checks.py"])
def test_kernels_and_checks_import_no_array_library(path):
  """ARCHITECTURE.md, Layers: the kernels import no array library (the
  namespace is passed in); `_checks.py` is numpy only, for every backend."""
  found = [f"{line}: {module}"
           for line, module in imported_modules((ROOT / path).read_text(), path)
           if module.split(".")[0] in ARRAY_LIBRARIES]
  assert found == []


# What the functions and the Keras 3 layers may import of the package: none
# of it imports TensorFlow or TFP (the `keras_ops` namespace imports TF only
# inside its TensorFlow-backend branches).
KERAS_SIDE = ("tfp_gumbel._checks", "tfp_gumbel._requirements",
              "tfp_gumbel._kernels", "tfp_gumbel._backend.keras_ops",
              "tfp_gumbel.ops", "tfp_gumbel.layers")


@pytest.mark.parametrize(
    "path",
    [path for path in MODULES if path.startswith("tfp_gumbel/layers/")
     and path != "tfp_gumbel/layers/tfp_layers.py"] + ["tfp_gumbel/ops.py"])
def test_the_keras_side_imports_no_tensorflow(path):
  """ARCHITECTURE.md, Layers: `tfp_gumbel.ops` and the Keras 3 layers (all
  of `tfp_gumbel/layers/` but the tf-keras `tfp_layers.py`) import neither
  TensorFlow nor TFP, nor a module of the package that does, so that they
  run on JAX and PyTorch without them."""
  found = [f"{line}: {module}"
           for line, module in imported_modules((ROOT / path).read_text(), path)
           if module.split(".")[0] in ("tensorflow", "tensorflow_probability",
                                       "tf_keras")
           or (module.startswith("tfp_gumbel")
               and not module.startswith(KERAS_SIDE)
               and module != "tfp_gumbel")]
  assert found == []


def _literal_all(path):
  for node in ast.parse(path.read_text()).body:
    if (isinstance(node, ast.Assign)
        and [ast.unparse(t) for t in node.targets] == ["__all__"]):
      return ast.literal_eval(node.value)
  raise AssertionError(f"{path} has no literal __all__")


def test_every_family_is_fuzzed():
  """ARCHITECTURE.md, Adding a family: "the family joins the fuzz"
  (tests/distributions/test_fuzz.py or tests/test_fuzz_structured.py): each
  family of `tfp_gumbel.distributions.__all__` is named in their code."""
  families = _literal_all(PACKAGE / "distributions" / "__init__.py")
  named = set()
  for fuzz in ("tests/distributions/test_fuzz.py",
               "tests/test_fuzz_structured.py"):
    for node in ast.walk(ast.parse((ROOT / fuzz).read_text())):
      if isinstance(node, ast.Name):
        named.add(node.id)
      elif isinstance(node, ast.Attribute):
        named.add(node.attr)
  assert families and sorted(set(families) - named) == []


def test_the_kernels_table_lists_every_kernel_module():
  """ARCHITECTURE.md, Adding a kernel: a new topic is a new module "in the
  table of tfp_gumbel/_kernels/__init__.py"; every module it lists exists."""
  init = PACKAGE / "_kernels" / "__init__.py"
  docstring = ast.get_docstring(ast.parse(init.read_text()))
  listed = re.findall(r"^\| `(\w+)` \|", docstring, re.M)
  modules = [path.stem for path in init.parent.glob("*.py")
             if path.name != "__init__.py"]
  assert listed and sorted(listed) == sorted(modules)


def _doc_paths(text):
  """The paths of this repository that `text` names."""
  pattern = (r"(?<![\w/.-])((?:tfp_gumbel|tests|benchmarks|examples)/"
             r"[\w/.-]*|tfp_gumbel_cli\.py)(?![\w/<.-])")
  return {match.rstrip(".") for match in re.findall(pattern, text)}


def test_the_doc_names_existing_paths():
  """ARCHITECTURE.md is the map: each path it names exists."""
  paths = _doc_paths(DOC.read_text())
  assert "tfp_gumbel/_kernels/" in paths  # the pattern finds paths at all
  missing = sorted(path for path in paths
                   if not (ROOT / path).exists())
  assert missing == []


def test_the_doc_names_every_module():
  """ARCHITECTURE.md is the map: each module of the package is named, by its
  path or in the row of its folder."""
  text = DOC.read_text()
  rows = [line for line in text.splitlines() if line.startswith("| ")]
  unnamed = []
  for path in MODULES:
    if path in text:
      continue
    folder, _, name = path.rpartition("/")
    row = [row for row in rows if f"`{folder}/`" in row]
    stem = name[:-len(".py")]
    if not (row and (f"`{name}`" in row[0] or f"`{stem}`" in row[0])):
      unnamed.append(path)
  assert unnamed == []


# TFP's documented subclass hooks: those that the docstrings of
# `tfd.Distribution` and `tfb.Bijector` (TFP 0.25) name for subclasses to
# implement, those whose own docstring says that subclasses override them
# (`_parameter_control_dependencies`, `_sample_control_dependencies`, a
# bijector's event-shape hooks: "Subclass implementation for ..."), and a
# bijector's `_parameter_properties`, which TFP's base raises
# NotImplementedError for.
DISTRIBUTION_HOOKS = {
    "_batch_shape", "_batch_shape_tensor", "_cdf",
    "_default_event_space_bijector", "_entropy", "_event_shape",
    "_event_shape_tensor", "_log_cdf", "_log_prob", "_log_survival_function",
    "_maximum_likelihood_parameters", "_mean", "_mode",
    "_parameter_control_dependencies", "_parameter_properties", "_prob",
    "_quantile", "_sample_and_log_prob", "_sample_control_dependencies",
    "_sample_n", "_stddev", "_survival_function", "_variance",
}
BIJECTOR_HOOKS = {
    "_forward", "_forward_dtype", "_forward_event_shape",
    "_forward_event_shape_tensor", "_forward_log_det_jacobian", "_inverse",
    "_inverse_dtype", "_inverse_event_shape", "_inverse_event_shape_tensor",
    "_inverse_log_det_jacobian", "_is_increasing",
    "_parameter_control_dependencies", "_parameter_properties",
}


def test_tfp_subclasses_override_only_tfps_hooks():
  """ARCHITECTURE.md, Behave like TFP: "Subclasses of TFP's classes override
  only TFP's documented subclass hooks". A private method or property that a
  class of tfp_gumbel.distributions defines and TFP's base class has too
  (an override: `_call_sample_n` would be one) must be such a hook."""
  tfp = pytest.importorskip("tensorflow_probability")
  bases = {tfp.distributions.Distribution: DISTRIBUTION_HOOKS,
           tfp.bijectors.Bijector: BIJECTOR_HOOKS}
  distributions = importlib.import_module("tfp_gumbel.distributions")
  classes = set()
  for info in pkgutil.iter_modules(distributions.__path__):
    module = importlib.import_module(f"tfp_gumbel.distributions.{info.name}")
    classes.update(cls for cls in vars(module).values()
                   if inspect.isclass(cls)
                   and cls.__module__.startswith("tfp_gumbel."))
  overrides = set()
  for cls in classes:
    for base, hooks in bases.items():
      if not issubclass(cls, base):
        continue
      # Our mixins too (`gumbel_sigmoid._DistributionFunctions`): what they
      # define overrides TFP's base in the class that mixes them in.
      for own in [c for c in cls.__mro__
                  if c.__module__.startswith("tfp_gumbel.")]:
        for name, value in vars(own).items():
          is_method = (inspect.isfunction(value) or isinstance(
              value, (classmethod, staticmethod, property)))
          if (is_method and name.startswith("_") and not name.startswith("__")
              and hasattr(base, name) and name not in hooks):
            overrides.add(f"{own.__module__}.{own.__name__}.{name}")
  assert len(classes) > 6 and sorted(overrides) == []


# The kernels that call names only TF's namespace has (ARCHITECTURE.md, Each
# formula once).


def test_the_namespaces_have_the_names_the_kernels_call():
  """ARCHITECTURE.md, Each formula once: both namespaces have every name
  every kernel calls."""
  pytest.importorskip("keras")
  tf_xp = importlib.import_module("tfp_gumbel._backend.tensorflow")
  keras_ops = importlib.import_module("tfp_gumbel._backend.keras_ops")
  for path in sorted((PACKAGE / "_kernels").glob("*.py")):
    names = {node.attr for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Attribute)
             and isinstance(node.value, ast.Name) and node.value.id == "xp"}
    assert sorted(n for n in names if not hasattr(tf_xp, n)) == [], path.name
    assert sorted(n for n in names if not hasattr(keras_ops, n)) == [], \
        path.name


# No module of tfp_gumbel writes another object's private attributes or calls
# TensorFlow Probability's private methods (ARCHITECTURE.md, Behave like TFP).
# Each .py file under tfp_gumbel/ is parsed with `ast`, nothing imported, and
# these fail:
#
# 1. an assignment (`=`, `+=`, annotated) to `X._name` where `X` is anything
#    but the name `self` or `cls`, and `setattr(X, "_name", ...)` with a
#    literal name: writing another object's private state (the way TFP's
#    `Pad` fields were once filled in by hand). A class writing its own
#    `self._name` is allowed; that is how every class keeps its state.
# 2. a call of an attribute whose name starts with `_` (dunders included) on
#    an expression rooted at a name bound to TFP: `import
#    tensorflow_probability as tfp`, `from tensorflow_probability... import
#    x`, or an alias of those such as `tfb = tfp.bijectors`. So
#    `tfb.Pad.__init__(self)`, `tfb.AutoCompositeTensorBijector.__init__(self,
#    ...)` and `tfb.Exp()._forward(x)` fail; `super().__init__(...)` and a
#    subclass's own `self._forward(x)` do not.
#
# What it cannot see: a private method called on a TFP object held in a
# variable or attribute (`bijector._forward(x)`), whose type is known only at
# run time, and a subclass's `self._name = ...` that happens to overwrite an
# attribute TFP's base class uses.

TFP = "tensorflow_probability"
OWN = ("self", "cls")


def _root(node):
  """The name an expression such as `tfb.Pad()._x[0].y` starts from, or
  None."""
  while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
    node = node.func if isinstance(node, ast.Call) else node.value
  return node.id if isinstance(node, ast.Name) else None


def _tfp_names(tree):
  """The names a module binds to TFP or to anything reached from it."""
  names = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      for alias in node.names:
        if alias.name.split(".")[0] == TFP:
          names.add(alias.asname or TFP)
    elif isinstance(node, ast.ImportFrom):
      if (node.module or "").split(".")[0] == TFP:
        names.update(alias.asname or alias.name for alias in node.names)
  # Aliases, to a fixed point: `tfb = tfp.bijectors`, `Pad = tfb.Pad`.
  aliases = [node for node in ast.walk(tree)
             if isinstance(node, ast.Assign) and len(node.targets) == 1
             and isinstance(node.targets[0], ast.Name)]
  changed = True
  while changed:
    changed = False
    for node in aliases:
      if node.targets[0].id not in names and _root(node.value) in names:
        names.add(node.targets[0].id)
        changed = True
  return names


def _targets(node):
  """The names and attributes an assignment target writes."""
  if isinstance(node, (ast.Tuple, ast.List)):
    for element in node.elts:
      yield from _targets(element)
  elif isinstance(node, ast.Starred):
    yield from _targets(node.value)
  else:
    yield node


def _is_foreign_private(node):
  """`X._name` with X other than `self` / `cls`."""
  return (isinstance(node, ast.Attribute) and node.attr.startswith("_")
          and not (isinstance(node.value, ast.Name) and node.value.id in OWN))


def violations(source, filename="<string>"):
  """'file:line: what' for each write of foreign private state and each call
  of a private TFP attribute in `source`."""
  tree = ast.parse(source, filename)
  tfp_names = _tfp_names(tree)
  found = []
  for node in ast.walk(tree):
    if isinstance(node, ast.Assign):
      targets = node.targets
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
      targets = [node.target]
    else:
      targets = []
    for target in targets:
      for written in _targets(target):
        if _is_foreign_private(written):
          found.append(f"{filename}:{node.lineno}: writes "
                       f"{ast.unparse(written)}")
    if not isinstance(node, ast.Call):
      continue
    func = node.func
    if (isinstance(func, ast.Name) and func.id == "setattr" and node.args
        and not (isinstance(node.args[0], ast.Name) and node.args[0].id in OWN)
        and len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
        and str(node.args[1].value).startswith("_")):
      found.append(f"{filename}:{node.lineno}: writes "
                   f"{ast.unparse(node.args[0])}.{node.args[1].value}")
    if (isinstance(func, ast.Attribute) and func.attr.startswith("_")
        and _root(func.value) in tfp_names):
      found.append(f"{filename}:{node.lineno}: calls TFP's private "
                   f"{ast.unparse(func)}")
  return found


def test_the_private_state_check_flags_what_it_says():
  """The check behind "nothing writes another object's private attributes"
  and "nothing calls a private method of a TFP object" flags each form."""
  source = textwrap.dedent("""
      import tensorflow_probability as tfp
      from tensorflow_probability.python.bijectors import pad as pad_lib
      tfb = tfp.bijectors
      Bijector = tfb.AutoCompositeTensorBijector

      class AppendZero(tfb.Pad):
        def __init__(self, other):
          self._paddings = 1                     # own state: allowed
          other._axis = 2                        # flagged
          other._a, self._b = 3, 4               # flagged once
          setattr(other, "_mode", "CONSTANT")    # flagged
          setattr(self, "_mode", "CONSTANT")     # allowed
          tfp.bijectors.AutoCompositeTensorBijector.__init__(self)  # flagged
          Bijector.__init__(self)                # flagged
          pad_lib.Pad._forward(self, 0)          # flagged
          tfb.Exp()._forward(0)                  # flagged
          super().__init__()                     # allowed
          self._forward(0)                       # allowed
          tfb.Exp().forward(0)                   # allowed
  """)
  lines = [int(v.split(":")[1]) for v in violations(source)]
  flagged = [i + 1 for i, line in enumerate(source.splitlines())
             if line.endswith("# flagged") or line.endswith("flagged once")]
  assert sorted(lines) == flagged


@pytest.mark.parametrize("path", MODULES)
def test_no_foreign_private_writes_or_private_tfp_calls(path):
  """ARCHITECTURE.md, Behave like TFP: "nothing calls a private method of a
  TFP object, and nothing writes another object's private attributes"."""
  assert violations((ROOT / path).read_text(), path) == []
