"""What reshaping to two dimensions costs a softmax, eagerly and compiled.

`tfp_gumbel._backend.tensorflow.softmax` normalizes a Tensor of rank above 5 as the rows
of a 2-D matrix (TF's oneDNN CPU Softmax takes at most 5 dimensions) and
passes lower ranks to the op as they are. This times both ways of computing
the same numbers, interleaved in one run: the op on `x`, and reshape +
op + reshape, at the shapes of an eager sample at N = 1, K = 10 and of
larger batches, eagerly and in `tf.function`.

    python -m benchmarks.softmax_reshape [--repeats 15] [--min-time 0.2]
"""

import argparse

import tensorflow as tf

from benchmarks import harness

SHAPES = ([1, 1, 10], [1000, 10], [100, 10, 100], [10, 10, 10, 10, 10])


def direct(x):
  return tf.math.softmax(x)


def reshaped(x):
  shape = tf.shape(x)
  return tf.reshape(tf.math.softmax(tf.reshape(x, [-1, shape[-1]])), shape)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--repeats", type=int, default=15)
  parser.add_argument("--min-time", type=float, default=0.2)
  parser.add_argument("--out", default="benchmarks/results/softmax_reshape.md")
  args = parser.parse_args(argv)
  rows = []
  for shape in SHAPES:
    x = tf.random.stateless_normal(shape, seed=(1, 2))
    for mode in ("eager", "function"):
      fns = {"direct": harness.compile_fn(direct, mode),
             "reshaped": harness.compile_fn(reshaped, mode)}
      ms, _ = harness.time_interleaved(fns, (x,), args.repeats, args.min_time)
      rows.append(f"| {shape} | {mode} | {ms['direct'] * 1e3:.1f} | "
                  f"{ms['reshaped'] * 1e3:.1f} | "
                  f"{ms['reshaped'] / ms['direct']:.2f} |")
      print(rows[-1], flush=True)
  text = "\n".join([
      "# Softmax: the op on x, or reshaped to 2-D and back",
      "",
      f"{harness.now()}; {harness.machine_description()}",
      f"`python -m benchmarks.softmax_reshape --repeats {args.repeats} "
      f"--min-time {args.min_time}`; medians of interleaved repeats.",
      "",
      "| shape | mode | op on x (us) | reshaped (us) | ratio |",
      "|---|---|---:|---:|---:|",
      *rows, ""])
  harness.write_report(text, args.out)


if __name__ == "__main__":
  main()
