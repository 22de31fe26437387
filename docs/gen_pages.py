"""Writes the site's generated pages (run by mkdocs-gen-files during a build).

* `index.md`: the README, the user's guide; every file it links to (figures,
  the examples' README, benchmark tables) is copied into the site alongside.
* `api/<name>.md`: one page per public name, rendered from its docstring by
  mkdocstrings; `api/index.md` lists them. The names are read from the
  `__all__` lists of `tfp_gumbel`, `tfp_gumbel.estimators` and
  `tfp_gumbel.layers` (and of any public module those lists name), so a name
  added to an `__all__` gets its page without touching this script. The lists
  are read from the source with `ast`: the build does not import TensorFlow.
* `tfp_gumbel.layers.tfp_layers`, public but imported on demand (it needs
  tf-keras), is added by hand.
"""

import ast
import pathlib
import posixpath
import re

import mkdocs_gen_files

ROOT = pathlib.Path(__file__).resolve().parents[1]
ROOTS = ("tfp_gumbel", "tfp_gumbel.estimators", "tfp_gumbel.layers")
ON_DEMAND = ("tfp_gumbel.layers.tfp_layers",)


def module_file(module):
  path = ROOT.joinpath(*module.split("."))
  package = path / "__init__.py"
  return package if package.exists() else path.with_suffix(".py")


def public_names(module):
  """The string entries of `module`'s `__all__`, or [] without one."""
  tree = ast.parse(module_file(module).read_text())
  for node in tree.body:
    targets = (node.targets if isinstance(node, ast.Assign) else
               [node.target] if isinstance(node, ast.AnnAssign) else [])
    if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
      return [elt.value for elt in node.value.elts]
  return []


def is_module(module, name):
  path = ROOT.joinpath(*module.split("."), name)
  return (path / "__init__.py").exists() or path.with_suffix(".py").exists()


def api_pages():
  """[(page title, dotted path, is a module)] in reading order."""
  pages, queue, done = [], list(ROOTS) + list(ON_DEMAND), set()
  while queue:
    module = queue.pop(0)
    if module in done:
      continue
    done.add(module)
    pages.append((module, module, True))
    for name in public_names(module):
      if is_module(module, name):
        queue.append(f"{module}.{name}")
      else:
        pages.append((f"{module}.{name}", f"{module}.{name}", False))
  return pages


def title(dotted):
  # Users write tfg.X for tfp_gumbel.X.
  return re.sub(r"^tfp_gumbel\b", "tfg", dotted)


def write_api():
  lines = ["# API reference", "",
           "One page per public name (`tfg` is `tfp_gumbel`).", ""]
  for page_title, dotted, module in api_pages():
    with mkdocs_gen_files.open(f"api/{dotted}.md", "w") as page:
      options = "\n    options:\n      members: false" if module else ""
      page.write(f"::: {dotted}{options}\n")
    indent = "" if module else "    "
    lines.append(f"{indent}- [`{title(page_title)}`]({dotted}.md)")
  with mkdocs_gen_files.open("api/index.md", "w") as index:
    index.write("\n".join(lines) + "\n")


def site_path(relative):
  # A folder's README becomes its index page in the site.
  path = pathlib.PurePosixPath(relative)
  return str(path.with_name("index.md")) if path.name == "README.md" else relative


def copy_linked(markdown, source_dir, page, done):
  """Copies the repository files `markdown` links to; returns it relinked.

  `source_dir` is the folder of the file in the repository, `page` its path in
  the site; links are rewritten relative to `page`.
  """
  def relink(match):
    target = match.group(2)
    file = (source_dir / target).resolve()
    if "://" in target or not file.is_file() or ROOT not in file.parents:
      return match.group(0)
    new = site_path(file.relative_to(ROOT).as_posix())
    if new not in done:
      done.add(new)
      if file.suffix == ".md":
        text = copy_linked(file.read_text(), file.parent, new, done)
        with mkdocs_gen_files.open(new, "w") as out:
          out.write(text)
      else:
        with mkdocs_gen_files.open(new, "wb") as out:
          out.write(file.read_bytes())
    start = posixpath.dirname(page) or "."
    return f"{match.group(1)}({posixpath.relpath(new, start)})"

  return re.sub(r"(!?\[[^\]]*\])\(([^)\s]+)\)", relink, markdown)


def write_guide():
  text = copy_linked((ROOT / "README.md").read_text(), ROOT, "index.md",
                     {"index.md"})
  with mkdocs_gen_files.open("index.md", "w") as index:
    index.write(text)


write_guide()
write_api()
