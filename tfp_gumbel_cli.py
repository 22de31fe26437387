"""The programs of tfp_gumbel start quietly: `tfp-gumbel-demo` (also
`python -m tfp_gumbel_cli`) and `examples/`.

TensorFlow greets every process with start-up lines on stderr (CUDA probing on a
machine without a GPU, oneDNN and CPU-instruction notices, absl's "log messages
before absl::InitializeLog()" and XLA's service banner at the first compiled
function). They are not addressed to the user of a demo, so our programs call
`quiet_tensorflow()` before they import TensorFlow:

```python
import tfp_gumbel_cli
tfp_gumbel_cli.quiet_tensorflow()   # first, before TensorFlow is imported
import tensorflow as tf
```

It sets `TF_CPP_MIN_LOG_LEVEL=2` (unless the user chose a level), which TF
reads once, at import. That alone still leaves the lines logged before TF reads
it and the errors of the CUDA probe (2-5 lines here), so during the import and
the first XLA compilation stderr goes to a temporary file; afterwards every
line that is not a known start-up message is written to stderr, in order.

This module lives outside the `tfp_gumbel` package on purpose: a library must
not change a process's environment or file descriptors, so `import tfp_gumbel`
does neither; only programs do, by calling this function. (`python -m
tfp_gumbel` runs the same tour, but Python imports the package, and with it
TensorFlow, before any of the program's code runs, so TensorFlow's start-up
lines are printed as TensorFlow chooses; `python -m tfp_gumbel_cli` is quiet.)
"""

import contextlib
import os
import re
import sys
import tempfile

__all__ = ["STARTUP_MESSAGE", "demo", "held_back_stderr", "quiet_tensorflow"]

# TensorFlow's start-up lines (TF 2.18-2.21 and the nightly of
# .ci/nightly.txt, CPU-only and CUDA builds). A line
# held back during start-up that matches none of these is shown.
STARTUP_MESSAGE = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called"
    r"|cudart_stub\.cc|Could not find cuda drivers|cuInit|cuda_(?:platform|dnn"
    r"|blas|fft|executor|diagnostics|status)\.cc|Unable to register cu(?:DNN|FFT|BLAS)"
    # tf-nightly 2.23 follows its failed CUDA probe with a source trace:
    # "=== Source Location Trace: ===" and a line "external/xla/.../*.cc:50".
    r"|^=== Source Location Trace: ===\s*$"
    r"|TF-TRT Warning|oneDNN custom operations"
    r"|This TensorFlow binary is optimized|To enable the following instructions"
    r"|rebuild TensorFlow with the appropriate compiler flags"
    r"|computation placer already registered"
    r"|XLA service 0x[0-9a-f]+ initialized|StreamExecutor (?:device|\[)"
    r"|Compiled cluster using XLA"
    r"|disabling MLIR crash reproducer"
    r"|kernel driver does not appear to be running|cpu_feature_guard\.cc"
    r"|oneDNN supports DT_INT32 only on platforms with AVX-512",
    re.IGNORECASE)


@contextlib.contextmanager
def held_back_stderr(pattern=STARTUP_MESSAGE):
  """Sends file descriptor 2 to a temporary file; on exit shows what is news.

  Both Python's `sys.stderr` and C++ code (TensorFlow's logging) write to file
  descriptor 2, so redirecting the descriptor catches both. On exit the lines
  that do not match `pattern` are written to the restored stderr, in order.

  Args:
    pattern: compiled regular expression of the lines to drop.

  Yields:
    Nothing; the body runs with stderr held back.
  """
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile() as held:
    os.dup2(held.fileno(), 2)
    try:
      yield
    finally:
      sys.stderr.flush()
      os.dup2(saved, 2)
      os.close(saved)
      held.seek(0)
      text = held.read().decode("utf-8", "replace")
      news = [line for line in text.splitlines(keepends=True)
              if line.strip() and not pattern.search(line)]
      if news:
        sys.stderr.write("".join(news))
        sys.stderr.flush()


def quiet_tensorflow():
  """Starts TensorFlow without its start-up messages; call it before importing it.

  Sets `TF_CPP_MIN_LOG_LEVEL=2` if the environment does not set it (so TF's C++
  INFO and WARNING lines stay hidden for the rest of the run, as that variable
  is meant to do; errors still show), then imports TensorFlow and compiles one
  tiny XLA function with stderr held back, and shows whatever was written then
  that is not a known start-up line. Calling it again does nothing.
  """
  if getattr(quiet_tensorflow, "done", False):
    return
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  with held_back_stderr():
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    # The first op initializes the devices (the CUDA probe logs here) and the
    # first compiled function starts XLA's service (its banner logs here).
    tf.function(lambda x: x + 1., jit_compile=True)(tf.constant(0.))
    # TF 2.21's oneDNN build logs, at ERROR level (so TF_CPP_MIN_LOG_LEVEL=2
    # shows it), once per process, at the first int32 transpose on a CPU that
    # oneDNN does not count as AVX-512: "oneDNN supports DT_INT32 only on
    # platforms with AVX-512. Falling back to the default Eigen-based
    # implementation" (util.cc). It is a notice, not an error (the Eigen kernel
    # computes the same); tfd.Categorical's sample transposes int32.
    tf.transpose(tf.zeros([1, 2], tf.int32))
  quiet_tensorflow.done = True


def demo(argv=None):
  """The tour (tfp_gumbel/__main__.py), started quietly: the
  `tfp-gumbel-demo` console script and `python -m tfp_gumbel_cli`."""
  quiet_tensorflow()
  from tfp_gumbel import __main__ as tour  # pylint: disable=import-outside-toplevel
  tour.main(argv)


if __name__ == "__main__":
  demo()
