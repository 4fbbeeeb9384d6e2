"""The Python API a user meets first: ``imse_keras.IMSE``, ``imse_keras.Enhancer``,
the top-level names, the preset registry, ``python -m imse_keras``, and the README's
"From Python" block run as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

import imse_keras
from imse_keras import IMSE, PRESETS, Enhancer
from imse_keras.cli import main
from imse_keras.config import DEFAULT_OVERLAP, PRESET_WEIGHTS, get_config
from imse_keras.synth.harmonic import harmonic_pair

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, cwd=None, timeout=600) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (this venv, the repo on the path)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def _last_json(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _pcm16(x: np.ndarray, path: Path) -> np.ndarray:
    """``x`` as ``imse enhance`` stores it in a PCM16 file (clipped, libsndfile's
    quantisation), read back as int16: two 16-bit outputs then compare step for step."""
    sf.write(path, np.clip(x, -1.0, 1.0), 16000, subtype="PCM_16")
    return sf.read(path, dtype="int16")[0].astype(int)


def _cli_enhance(*args) -> None:
    result = CliRunner().invoke(main, ["enhance", *map(str, args), "--quiet"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output


# --- Top level and entry points ------------------------------------------------------------


def test_import_is_light_and_all_names_resolve():
    out = _last_json(_python(
        "import sys, json, imse_keras\n"
        "from imse_keras import Enhancer, PRESETS, IMSEConfig, get_config, __version__\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n"
        "print(json.dumps({'heavy': heavy, 'all': imse_keras.__all__}))\n"
    ))
    assert out["heavy"] == [], "import imse_keras (and Enhancer) must not import TensorFlow"
    assert set(out["all"]) >= {"IMSE", "Enhancer", "PRESETS", "load_pretrained", "__version__"}
    for name in imse_keras.__all__:
        assert getattr(imse_keras, name) is not None, name
    with pytest.raises(AttributeError):
        imse_keras.no_such_name  # noqa: B018


def test_python_dash_m_runs_the_cli():
    proc = subprocess.run([sys.executable, "-m", "imse_keras", "--version"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"imse, version {imse_keras.__version__}"


def test_one_preset_registry_and_one_default_overlap():
    cli_presets = {}
    for name, command in main.commands.items():
        for param in command.params:
            if param.name == "preset":
                cli_presets[name] = tuple(param.type.choices)
            if param.name == "overlap":
                assert param.default == DEFAULT_OVERLAP, name
    assert {"enhance", "evaluate", "info", "export", "validate", "train"} <= set(cli_presets)
    assert set(cli_presets.values()) == {tuple(PRESETS)}
    assert Enhancer(lambda m, p: (m, p)).overlap == DEFAULT_OVERLAP == "crossfade"
    assert set(PRESET_WEIGHTS) <= set(PRESETS)


# --- IMSE: a keras.Model whose arguments are its config ---------------------------------------


def test_imse_is_a_keras_model_of_the_released_size():
    model = IMSE()
    assert isinstance(model, keras.Model)
    assert model.count_params() == 432_995
    assert model.imse_config == get_config("imse")
    assert keras.saving.get_registered_name(IMSE) == "imse_keras>IMSE"


def _out(model, x) -> list[np.ndarray]:
    """An eager call (no tf.function to trace: fast for a one-off comparison)."""
    return [keras.ops.convert_to_numpy(t) for t in model(x)]


def _tiny_inputs(frames=16, seed=0):
    rng = np.random.default_rng(seed)
    mag = rng.uniform(0.0, 2.0, (1, frames, 256)).astype("float32")  # [B, T, F]
    pha = rng.uniform(-np.pi, np.pi, (1, frames, 256)).astype("float32")
    return [mag, pha]


def test_get_config_is_the_constructor_arguments_and_keras_file_round_trips(tiny_model, tmp_path):
    config = tiny_model.get_config()
    assert config == {"name": "imse", "trainable": True, **PRESETS["tiny"].to_dict(),
                      "num_frames": None}
    again = IMSE.from_config(config)
    assert again.get_config() == config and again.count_params() == tiny_model.count_params()

    path = tmp_path / "tiny.keras"
    tiny_model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is IMSE and loaded.imse_config == PRESETS["tiny"]
    x = _tiny_inputs()
    want = _out(tiny_model, x)
    for a, b in zip(want, _out(loaded, x)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(_out(IMSE.from_preset(path), x)[0], want[0])


def test_fixed_frames_constructor_argument():
    model = IMSE(**PRESETS["tiny"].to_dict(), num_frames=16)
    assert model.get_config()["num_frames"] == 16
    assert tuple(model.inputs[0].shape) == (None, 16, 256)
    with pytest.raises(ValueError, match="multiple of 4"):
        IMSE(**PRESETS["tiny"].to_dict(), num_frames=10)


def test_from_preset_names_paths_and_errors(tiny_model, tmp_path):
    fresh = IMSE.from_preset("tiny", load_weights=False)
    assert fresh.imse_config == PRESETS["tiny"]
    with pytest.raises(ValueError, match="load_weights=False"):
        IMSE.from_preset("tiny")
    with pytest.raises(ValueError, match="neither a preset"):
        IMSE.from_preset("no_such_preset")
    with pytest.raises(FileNotFoundError):
        IMSE.from_preset(tmp_path / "missing.keras")

    weights = tmp_path / "tiny.weights.h5"
    tiny_model.save_weights(weights)
    loaded = IMSE.from_preset(weights, config="tiny")
    x = _tiny_inputs()
    np.testing.assert_array_equal(_out(loaded, x)[0], _out(tiny_model, x)[0])

    other = tmp_path / "other.keras"
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]).save(other)
    with pytest.raises(ValueError, match="not an IMSE"):
        IMSE.from_preset(other)


def test_deprecated_load_model_alias_still_works(tiny_model, tmp_path):
    from imse_keras.weights.load import load_model

    weights = tmp_path / "tiny.weights.h5"
    tiny_model.save_weights(weights)
    with pytest.warns(DeprecationWarning, match="load_pretrained"):
        model = load_model(weights, preset="tiny")
    assert isinstance(model, IMSE)


# --- Enhancer: any dtype, the CLI's defaults, the CLI's file path -----------------------------


@pytest.fixture(scope="module")
def tiny_enhancer(tiny_model):
    return Enhancer.from_model(tiny_model)  # the front end comes from the model's config


def test_enhance_scales_integer_pcm_and_passes_floats_through(tiny_enhancer):
    _, noisy = harmonic_pair(8000, seed=3)
    pcm16 = np.round(noisy * 32767).astype(np.int16)
    as_float = pcm16.astype(np.float32) / 32768
    want = tiny_enhancer.enhance(as_float, 16000)
    assert want.dtype == np.float32 and want.shape == pcm16.shape
    np.testing.assert_array_equal(tiny_enhancer.enhance(pcm16, 16000), want)
    np.testing.assert_array_equal(
        tiny_enhancer.enhance(pcm16.astype(np.int32) << 16, 16000), want)
    np.testing.assert_array_equal(tiny_enhancer.enhance(as_float.astype(np.float64), 16000), want)
    stereo = tiny_enhancer.enhance(np.stack([pcm16, pcm16], axis=1), 16000)
    np.testing.assert_array_equal(stereo[:, 1], want)
    with pytest.raises(TypeError, match="dtype"):
        tiny_enhancer.enhance(pcm16 > 0, 16000)


def test_enhancer_equals_the_cli_on_the_same_file(tiny_model, tiny_enhancer, tmp_path):
    """Two segments with an overlapping tail, so the overlap default decides the output."""
    weights = tmp_path / "tiny.weights.h5"
    tiny_model.save_weights(weights)
    _, noisy = harmonic_pair(50_000, seed=5)
    src = tmp_path / "noisy.wav"
    sf.write(src, noisy, 16000, subtype="PCM_16")
    _cli_enhance(src, "-o", tmp_path / "cli.wav", "--preset", "tiny", "--weights", weights)
    cli, _ = sf.read(tmp_path / "cli.wav", dtype="int16")

    enhancer = Enhancer.from_preset(weights, config="tiny")
    pcm, sr = sf.read(src, dtype="int16")
    ours = enhancer.enhance(pcm, sr)
    assert np.max(np.abs(_pcm16(ours, tmp_path / "ours.wav") - cli)) <= 1

    enhancer.enhance_file(src, tmp_path / "lib.wav")
    lib, _ = sf.read(tmp_path / "lib.wav", dtype="int16")
    assert np.max(np.abs(lib.astype(int) - cli.astype(int))) <= 1

    # The check can fail: the other overlap mode is more than 1 LSB away.
    official = Enhancer.from_model(tiny_model, overlap="official").enhance(pcm, sr)
    assert np.max(np.abs(_pcm16(official, tmp_path / "official.wav") - cli)) > 10


# --- The README's "From Python" section, as written, in a fresh interpreter -------------------


def _readme_python_block() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("From Python"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def readme_run(shared_dir, tmp_path_factory):
    """The README block run once in a fresh interpreter, nothing configured by hand, on a
    vb_dev file of two overlapping segments (33,483 samples: the overlap mode matters)."""
    official = shared_dir / "official"
    if not (official / "g_best_pesq_3.399").is_file():
        pytest.skip(f"{official / 'g_best_pesq_3.399'} not found")
    work = tmp_path_factory.mktemp("readme")
    (work / "noisy.wav").write_bytes((shared_dir / "audio/vb_dev/noisy/p232_170.wav").read_bytes())
    code = (
        "import json, os, numpy as np, tensorflow as tf\n"
        f"os.environ['IMSE_WEIGHTS'] = {str(official)!r}\n"
        "before = (tf.config.optimizer.get_experimental_options(),\n"
        "          tf.config.threading.get_intra_op_parallelism_threads())\n"
        f"exec({_readme_python_block()!r})\n"
        "after = (tf.config.optimizer.get_experimental_options(),\n"
        "         tf.config.threading.get_intra_op_parallelism_threads())\n"
        "np.save('clean.npy', clean)\n"
        "print(json.dumps({'params': model.count_params(), 'is_model': isinstance(model,\n"
        "    __import__('keras').Model), 'same_tf': before == after, 'shapes':\n"
        "    [list(t.shape) for t in (mag_c_out, pha_out, com_out)]}))\n"
    )
    return work, official, _last_json(_python(code, cwd=work))


@pytest.mark.slow  # a fresh interpreter with the official weights: ~20 s of the 480 s budget
def test_readme_python_section_runs_as_written(readme_run):
    """A 432,995-parameter keras.Model, in-memory and streamed results alike (the
    streamed one is the CLI's file path), TensorFlow's global settings untouched."""
    work, _, out = readme_run
    assert out["is_model"] and out["params"] == 432_995
    assert out["same_tf"], "the library changed TensorFlow's global settings"
    assert out["shapes"] == [[1, 100, 256], [1, 100, 256], [1, 100, 256, 2]]
    clean = np.load(work / "clean.npy")
    streamed, _ = sf.read(work / "clean.wav", dtype="int16")
    assert clean.shape == streamed.shape
    assert np.max(np.abs(_pcm16(clean, work / "clean_pcm16.wav") - streamed)) <= 1


@pytest.mark.slow
def test_readme_enhancer_equals_imse_enhance_with_official_weights(readme_run, monkeypatch):
    """Acceptance: ``Enhancer.from_preset("imse").enhance(x, sr)`` equals ``imse enhance``
    on the same file within 1 LSB of 16-bit (the tiny-model version runs by default)."""
    work, official, _ = readme_run
    monkeypatch.setenv("IMSE_WEIGHTS", str(official))
    _cli_enhance(work / "noisy.wav", "-o", work / "cli.wav", "--no-download")
    cli, _ = sf.read(work / "cli.wav", dtype="int16")
    clean = np.load(work / "clean.npy")
    assert clean.shape == cli.shape
    assert np.max(np.abs(_pcm16(clean, work / "clean_pcm16.wav") - cli)) <= 1
    streamed, _ = sf.read(work / "clean.wav", dtype="int16")
    assert np.max(np.abs(streamed.astype(int) - cli.astype(int))) <= 1
