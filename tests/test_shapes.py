"""High batch ranks: what TF's CPU kernels limit, our callables do not.

Where TF runs its oneDNN CPU kernels (`TF_ENABLE_ONEDNN_OPTS=1`, its default
on some CPUs), Softmax takes at most 5 dimensions, and a sample adds axes to
a batch of any rank. The option is read when TensorFlow is imported, so the
calls run in a fresh process with it set.
"""

import os
import subprocess
import sys

# Each call failed with "Input dims must be <= 5 and >=1 [Op:Softmax]" under
# oneDNN before `_params.softmax` (TFP's RelaxedOneHotCategorical did not).
CALLS = {
    "GumbelSoftmax, rank-5 logits, sample()":
        "tfg.GumbelSoftmax(0.5, logits=tf.zeros([2, 1, 3, 1, 3])).sample()",
    "RelaxedPlackettLuce, scores [2, 1, 3, 3], sample()":
        "tfg.RelaxedPlackettLuce(0.5, tf.ones([2, 1, 3, 3])).sample()",
    "gumbel_softmax_st, rank 6":
        "tfg.estimators.gumbel_softmax_st(tf.zeros([2, 1, 2, 1, 2, 3]), 0.5)",
    "reinmax, rank 6":
        "tfg.estimators.reinmax(tf.zeros([2, 1, 2, 1, 2, 3]), 0.5)",
    "gumbel_rao, rank 5":
        "tfg.estimators.gumbel_rao(tf.zeros([2, 1, 2, 1, 3]), 0.5, 4)",
    "plackett_luce_st, rank 5":
        "tfg.estimators.plackett_luce_st(tf.zeros([2, 1, 2, 1, 3]), 0.5)",
    "layers.GumbelSoftmax, rank 5, soft":
        "tfg.layers.GumbelSoftmax(0.5)(tf.zeros([2, 1, 2, 1, 3]), training=True)",
    "layers.GumbelSoftmax, rank 6, probs":
        "tfg.layers.GumbelSoftmax(0.5, inference='probs')("
        "tf.zeros([2, 1, 2, 1, 2, 3]))",
    "layers.RelaxedPlackettLuce, rank 4, soft":
        "tfg.layers.RelaxedPlackettLuce(0.5)(tf.zeros([2, 1, 2, 3]), "
        "training=True)",
}


def test_softmax_users_at_high_rank_under_onednn():
  script = ["import numpy as np, tensorflow as tf, tfp_gumbel as tfg",
            "failed = []"]
  for name, call in CALLS.items():
    script += [
        "try:",
        f"  y = np.asarray({call})",
        "  assert np.all(np.isfinite(y)), 'not finite'",
        "except Exception as error:",
        f"  failed.append(({name!r}, str(error).splitlines()[0]))",
    ]
  script += ["print(len(failed), 'failed', failed)"]
  result = subprocess.run(
      [sys.executable, "-c", "\n".join(script)], capture_output=True,
      text=True, timeout=300, check=False,
      env=dict(os.environ, TF_ENABLE_ONEDNN_OPTS="1", TF_CPP_MIN_LOG_LEVEL="2"))
  assert result.returncode == 0, result.stderr[-3000:]
  assert result.stdout.strip().splitlines()[-1] == "0 failed []", result.stdout
