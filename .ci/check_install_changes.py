"""Says what `pip install TARGET` would change in this environment, and fails
where it would touch the user's own stack.

    python .ci/check_install_changes.py [--allow NAME,...] TARGET

Runs `pip install --dry-run --report` in the running interpreter's
environment and prints pip's plan. Exits non-zero when the plan replaces
(upgrades or downgrades) any installed distribution other than tfp_gumbel
itself, or installs a
distribution of the machine-learning stack (TensorFlow, TFP, tf-keras, Keras,
JAX, PyTorch under any of their names) that --allow does not name: those are
the user's choice, and their release and nightly names own the same import
names, so one written over the other breaks the user's install.
"""

import argparse
import importlib.metadata
import json
import re
import subprocess
import sys
import tempfile

STACK = {"tensorflow", "tensorflow-cpu", "tensorflow-intel", "tf-nightly",
         "tf-nightly-cpu", "tensorflow-probability", "tfp-nightly",
         "tf-keras", "tf-keras-nightly", "keras", "keras-nightly", "jax",
         "jaxlib", "torch"}


def canonical(name):
  return re.sub(r"[-_.]+", "-", name).lower()


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--allow", default="",
                      help="comma-separated stack distributions it may install")
  parser.add_argument("target")
  args = parser.parse_args()
  allowed = {canonical(n) for n in args.allow.split(",") if n}
  installed = {canonical(d.metadata["Name"]): d.version
               for d in importlib.metadata.distributions()}
  with tempfile.NamedTemporaryFile(suffix=".json") as report:
    subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run",
                    "--quiet", "--report", report.name, args.target],
                   check=True)
    plan = json.load(open(report.name, encoding="utf-8"))["install"]
  wanted = sorted((canonical(item["metadata"]["name"]),
                   item["metadata"]["version"]) for item in plan)
  print("has:", ", ".join(f"{n} {installed[n]}" for n in sorted(installed)
                          if n in STACK) or "none of the stack")
  print(f"pip install {args.target} would install:",
        ", ".join(f"{n}-{v}" for n, v in wanted) or "nothing")
  problems = [f"replaces {n} {installed[n]} with {v}" for n, v in wanted
              if n in installed and n != "tfp-gumbel"]
  problems += [f"installs {n} {v}, which is the user's choice" for n, v in wanted
               if n in STACK and n not in allowed and n not in installed]
  for problem in problems:
    print("ERROR:", problem)
  return 1 if problems else 0


if __name__ == "__main__":
  sys.exit(main())
