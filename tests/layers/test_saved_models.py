"""Models saved by tfp_gumbel 0.2.0 load, and give 0.2.0's outputs.

`fixtures/v0_2_0/` holds small models that 0.2.0 saved (Keras 3, TensorFlow
backend; `fixtures/make_v0_2_0.py` tells how), each with its inputs and its
inference outputs: every layer of 0.2.0, soft and hard, with a trainable
temperature, a `class_mask` input, a seed and a KL term among them. A change
that renames a registered layer or an argument, drops one, or changes what a
weight or the seed state means fails here: users' saved models would no
longer load, or would load as another model.
"""

import importlib
import json
import pathlib
import zipfile

import keras
import numpy as np
import pytest

# Loading finds the layers by their registered names
# (`tfp_gumbel>GumbelSoftmax`), which exist once this module is imported.
import tfp_gumbel.layers  # pylint: disable=unused-import

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "v0_2_0"
NAMES = sorted(path.stem for path in FIXTURES.glob("*.keras"))
# The layers of 0.2.0: each has at least one fixture.
LAYERS_0_2_0 = ("GumbelSigmoid", "GumbelSinkhorn", "GumbelSoftmax",
                "RelaxedPlackettLuce", "RelaxedTopK")


def _saved_layer(name):
  """The tfp_gumbel layer's entry in the archive's config.json, as written."""
  with zipfile.ZipFile(FIXTURES / f"{name}.keras") as archive:
    config = json.loads(archive.read("config.json"))
  (entry,) = [layer for layer in config["config"]["layers"]
              if (layer.get("registered_name") or "").startswith("tfp_gumbel>")]
  return entry


def _load(name):
  model = keras.saving.load_model(FIXTURES / f"{name}.keras")
  with np.load(FIXTURES / f"{name}.npz") as stored:
    return model, model.layers[-1], dict(stored)


def test_every_layer_of_0_2_0_has_a_fixture():
  saved = {_saved_layer(name)["registered_name"] for name in NAMES}
  assert saved == {f"tfp_gumbel>{layer}" for layer in LAYERS_0_2_0}


@pytest.mark.parametrize("name", NAMES)
def test_loads_with_the_outputs_of_0_2_0(name):
  model, layer, stored = _load(name)
  inputs = [stored[f"input_{i}"] for i in range(len(model.inputs))]
  outputs = keras.ops.convert_to_numpy(
      model(inputs if len(inputs) > 1 else inputs[0], training=False))
  # The outputs lie in [0, k]; atol, below float32's spacing at 1, spares
  # only entries near 0, whose relative error a reordered sum can make large.
  # On JAX and PyTorch exp(log_temperature) may round 1 ulp away from
  # TensorFlow's, which dividing logits of a few units by t carries to
  # ~1e-6 relative: rtol 1e-5 there.
  on_tf = keras.backend.backend() == "tensorflow"
  rtol = 1e-6 if on_tf else 1e-5
  np.testing.assert_allclose(outputs, stored["outputs"], rtol=rtol, atol=1e-7)
  np.testing.assert_allclose([float(keras.ops.convert_to_numpy(loss))
                              for loss in model.losses],
                             stored["losses"], rtol=rtol)
  # The weight and the noise stream come from the archive, not the config.
  np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.temperature),
                             stored["temperature"],
                             rtol=0 if on_tf else 2e-7)
  np.testing.assert_array_equal(
      keras.ops.convert_to_numpy(layer.seed_generator.state),
      stored["seed_state"])


def _as_saved(config):
  """`config` as config.json holds it (lists for tuples)."""
  return json.loads(json.dumps(config))


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trips(name):
  _, layer, _ = _load(name)
  saved = _saved_layer(name)
  assert keras.saving.get_registered_name(type(layer)) == (
      saved["registered_name"])
  config = layer.get_config()
  assert type(layer).from_config(config).get_config() == config
  # Every argument 0.2.0 saved comes back with its value (a later release
  # may add arguments; it may not drop or rename one).
  loaded = _as_saved(config)
  for key, value in saved["config"].items():
    if key != "dtype":  # the policy's object id differs between sessions
      assert loaded.get(key, "missing") == value, key
  assert loaded["dtype"]["config"] == saved["config"]["dtype"]["config"]


@pytest.mark.parametrize("name", NAMES)
def test_the_module_an_archive_names_holds_its_layer(name):
  # Keras before 3.9 imports the module an archive names (0.2.0's
  # `tfp_gumbel.layers.gumbel_softmax` for GumbelSigmoid too) where the
  # registered name is unknown, i.e. `tfp_gumbel.layers` was not imported
  # before loading: a layer moved to another file keeps its name there.
  saved = _saved_layer(name)
  module = importlib.import_module(saved["module"])
  assert getattr(module, saved["class_name"]) is (
      keras.saving.get_registered_object(saved["registered_name"]))
