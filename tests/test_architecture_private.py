"""No module of tfp_gumbel writes another object's private attributes or calls
TensorFlow Probability's private methods (ARCHITECTURE.md: only TFP's
subclass hooks are overridden, nothing calls TFP's private call chain).

Each .py file under tfp_gumbel/ is parsed with `ast`, nothing imported, and
these fail:

1. an assignment (`=`, `+=`, annotated) to `X._name` where `X` is anything but
   the name `self` or `cls`, and `setattr(X, "_name", ...)` with a literal
   name: writing another object's private state (the way TFP's `Pad` fields
   were once filled in by hand). A class writing its own `self._name` is
   allowed; that is how every class keeps its state.
2. a call of an attribute whose name starts with `_` (dunders included) on an
   expression rooted at a name bound to TFP: `import tensorflow_probability
   as tfp`, `from tensorflow_probability... import x`, or an alias of those
   such as `tfb = tfp.bijectors`. So `tfb.Pad.__init__(self)`,
   `tfb.AutoCompositeTensorBijector.__init__(self, ...)` and
   `tfb.Exp()._forward(x)` fail; `super().__init__(...)` and a subclass's
   own `self._forward(x)` do not.

What it cannot see: a private method called on a TFP object held in a
variable or attribute (`bijector._forward(x)`), whose type is known only at
run time, and a subclass's `self._name = ...` that happens to overwrite an
attribute TFP's base class uses.
"""

import ast
import pathlib
import textwrap

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "tfp_gumbel"
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


def test_the_check_flags_what_it_says():
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


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")),
    ids=lambda path: str(path.relative_to(PACKAGE.parent)))
def test_no_foreign_private_writes_or_private_tfp_calls(path):
  name = str(path.relative_to(PACKAGE.parent))
  assert violations(path.read_text(), name) == []
