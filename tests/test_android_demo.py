"""The Android demo's build inputs: fresh fixtures, a pinned Gradle wrapper, the model command.

The Java side itself (JUnit tests, compile check against the real LiteRT API) runs in
``android_demo/run_jvm_tests.sh``, which ``make test`` calls after pytest.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "android_demo"

# Gradle's published SHA-256 of the 8.13 wrapper jar and of gradle-8.13-bin.zip.
WRAPPER_JAR_SHA256 = "81a82aaea5abcc8ff68b3dfcb58b3c3c429378efd98e7433460610fecd7ae45f"
DIST_SHA256 = "20f1b1176237254a6fc204d8434196fa11a4cfb387567519c61556e8710aed78"


def _fixture_inputs():
    spec = importlib.util.spec_from_file_location(
        "fixture_inputs", DEMO / "tools" / "fixture_inputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_android_fixtures_are_fresh():
    fi = _fixture_inputs()
    reasons = fi.stale_reasons()
    assert not reasons, fi.message(reasons)


def test_fixture_check_names_a_changed_input(tmp_path, monkeypatch):
    fi = _fixture_inputs()
    src = tmp_path / "imse_keras" / "dsp" / "stft.py"
    src.parent.mkdir(parents=True)
    src.write_text("x = 1\n")
    record = tmp_path / "inputs.json"
    record.write_text(json.dumps({"inputs": {"imse_keras/dsp/stft.py": fi.sha256(src)}}))
    monkeypatch.setattr(fi, "ROOT", tmp_path)
    monkeypatch.setattr(fi, "RECORD", record)
    assert fi.stale_reasons() == []
    src.write_text("x = 2\n")
    reasons = fi.stale_reasons()
    assert reasons == ["imse_keras/dsp/stft.py changed"]
    assert fi.REGENERATE in fi.message(reasons)
    src.unlink()
    assert fi.stale_reasons() == ["imse_keras/dsp/stft.py is gone"]


def test_recorded_inputs_are_loaded_repo_modules_less_the_exclusions():
    fi = _fixture_inputs()
    modules = {
        "imse_keras.dsp.stft": SimpleNamespace(__file__=str(ROOT / "imse_keras/dsp/stft.py")),
        "imse_keras.audio_io": SimpleNamespace(__file__=str(ROOT / "imse_keras/audio_io.py")),
        "imse_keras.builtin": SimpleNamespace(),  # no __file__
        "json": json,  # not imse_keras
    }
    got = fi.loaded_inputs(modules)
    assert set(got) == {"android_demo/tools/make_fixtures.py", "imse_keras/dsp/stft.py"}
    assert got["imse_keras/dsp/stft.py"] == fi.sha256(ROOT / "imse_keras/dsp/stft.py")


def test_gradle_wrapper_is_the_published_8_13():
    jar = DEMO / "gradle" / "wrapper" / "gradle-wrapper.jar"
    assert hashlib.sha256(jar.read_bytes()).hexdigest() == WRAPPER_JAR_SHA256
    props = (DEMO / "gradle" / "wrapper" / "gradle-wrapper.properties").read_text()
    assert "distributions/gradle-8.13-bin.zip" in props
    assert f"distributionSha256Sum={DIST_SHA256}" in props
    gradlew = DEMO / "gradlew"
    assert gradlew.stat().st_mode & 0o111, "gradlew is not executable"
    assert "org.gradle.wrapper.GradleWrapperMain" in gradlew.read_text()
    assert (DEMO / "gradlew.bat").is_file()


def test_catalog_agp_accepts_the_wrapper_gradle():
    catalog = (DEMO / "gradle" / "libs.versions.toml").read_text()
    agp = re.search(r'^agp = "(\d+)\.(\d+)\.\d+"', catalog, re.M)
    assert agp, "no agp version in the catalog"
    # Minimum Gradle of each AGP 8.x minor (Android Gradle plugin release notes).
    min_gradle = {7: (8, 9), 8: (8, 10), 9: (8, 11), 10: (8, 11), 11: (8, 13), 12: (8, 13),
                  13: (8, 13)}
    major, minor = int(agp.group(1)), int(agp.group(2))
    assert major == 8 and minor in min_gradle, f"update this table for AGP {major}.{minor}"
    assert min_gradle[minor] <= (8, 13)
    for build in ("build.gradle.kts", "app/build.gradle.kts", "core/build.gradle.kts"):
        text = (DEMO / build).read_text()
        assert not re.search(r'version "\d', text), f"{build} pins a version outside the catalog"


@pytest.mark.parametrize("where", ["app/build.gradle.kts", "README.md"])
def test_model_command_is_one_make_target(where):
    text = (DEMO / where).read_text()
    assert "make android-model" in text
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^android-model:", makefile, re.M)
    assert re.search(r"^\t\$\(BIN\)/imse export .*-o tflite/$", makefile, re.M)
