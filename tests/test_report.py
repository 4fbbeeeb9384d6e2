"""The HTML report: self-contained, players and images for every file, one
colour scale per figure; renders in headless Chromium when it is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

pytest.importorskip("matplotlib")

from imse_keras.report import ReportItem, build_report, report_dirs  # noqa: E402

_SR = 16000


def _signals(seed: int, seconds: float = 1.5):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * _SR)) / _SR
    clean = (0.3 * np.sin(2 * np.pi * (150 + 50 * seed) * t) * (np.sin(2 * np.pi * 2 * t) > 0))
    noisy = clean + 0.05 * rng.standard_normal(t.size)
    enhanced = clean + 0.01 * rng.standard_normal(t.size)
    return [x.astype(np.float32) for x in (clean, noisy, enhanced)]


@pytest.fixture(scope="module")
def two_file_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    items = []
    for i, name in enumerate(["first.wav", "second.wav"]):
        clean, noisy, enhanced = _signals(i)
        metrics = {"noisy": {"pesq": 1.2 + i, "stoi": 0.8}, "enhanced": {"pesq": 2.0 + i,
                                                                          "stoi": 0.9}}
        items.append(ReportItem(name, noisy, enhanced, clean, metrics))
    path = build_report(items, out, title="two files", notes=["unit test"])
    return path


def test_page_has_players_and_images_for_both_files(two_file_report):
    page = two_file_report.read_text()
    for name in ("first.wav", "second.wav"):
        assert f">{name}</h2>" in page
    # noisy, enhanced and clean players for each of the two files
    assert page.count("<audio controls") == 6
    assert page.count("src='data:audio/wav;base64,") == 6
    # one spectrogram figure per file plus the PESQ summary plot
    assert page.count("<img class=spec src='data:image/png;base64,") == 2
    assert page.count("<img class=summary src='data:image/png;base64,") == 1
    assert "PESQ-WB" in page and "2.00" in page  # metrics table


def test_page_is_self_contained(two_file_report):
    page = two_file_report.read_text()
    sources = re.findall(r"""(?:src|href)=['"]?([^'" >]+)""", page)
    assert sources and all(s.startswith("data:") for s in sources)
    pngs = sorted(p.name for p in two_file_report.parent.glob("*.png"))
    assert pngs == ["000_first.png", "001_second.png", "summary_pesq.png"]
    for p in two_file_report.parent.glob("*.png"):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_spectrograms_share_one_colour_scale():
    import matplotlib.pyplot as plt

    from imse_keras.report.plots import spectrogram_figure

    clean, noisy, enhanced = _signals(0)
    fig = spectrogram_figure([("noisy", noisy), ("enhanced", enhanced * 0.1), ("clean", clean)])
    meshes = [ax.collections[0] for ax in fig.axes[:3]]  # the last axes is the colour bar
    assert len(meshes) == 3
    assert len({m.get_clim() for m in meshes}) == 1
    plt.close(fig)


def test_report_dirs_and_cli(tmp_path):
    import click

    from imse_keras.cli import report as cli_report

    for sub in ("clean", "noisy", "enhanced"):
        (tmp_path / sub).mkdir()
    for i in range(2):
        clean, noisy, enhanced = _signals(i, seconds=2.0)
        sf.write(tmp_path / "clean" / f"f{i}.wav", clean, _SR)
        sf.write(tmp_path / "noisy" / f"f{i}.wav", noisy, _SR)
        sf.write(tmp_path / "enhanced" / f"f{i}.wav", enhanced, _SR)
    path = report_dirs(tmp_path / "noisy", tmp_path / "lib", enhance=lambda x: x * 0.5,
                       clean_dir=tmp_path / "clean")
    assert path.read_text().count("<audio controls") == 6

    group = click.Group(commands={"report": cli_report.report})
    result = CliRunner().invoke(group, [
        "report", "--noisy", str(tmp_path / "noisy"), "--enhanced", str(tmp_path / "enhanced"),
        "--clean", str(tmp_path / "clean"), "-o", str(tmp_path / "cli")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    page = (tmp_path / "cli" / "index.html").read_text()
    assert page.count("<audio controls") == 6 and "Mean over all files" in page


def test_missing_matplotlib_is_one_line(tmp_path, monkeypatch):
    import click

    from imse_keras.cli import report as cli_report

    (tmp_path / "noisy").mkdir()
    sf.write(tmp_path / "noisy" / "a.wav", _signals(0)[1], _SR)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    group = click.Group(commands={"report": cli_report.report})
    result = CliRunner().invoke(group, [
        "report", "--noisy", str(tmp_path / "noisy"), "--enhanced", str(tmp_path / "noisy"),
        "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "imse-keras[report]" in result.output and "Traceback" not in result.output


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None,
                    reason="headless Chromium (Debian package: chromium) not installed")
def test_renders_in_headless_chromium(two_file_report, tmp_path):
    shot = tmp_path / "page.png"
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           f"--screenshot={shot}", "--window-size=1100,2200",
           two_file_report.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    assert shot.is_file(), proc.stderr[-2000:]
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)[..., :3]
    assert img.shape[0] >= 2000 and img.shape[1] >= 1000
    # Not a blank page: the spectrograms put many dark pixels on the white page.
    dark = (img.mean(axis=-1) < 0.3).mean()
    assert dark > 0.05, dark


def test_report_without_reference(tmp_path):
    (tmp_path / "noisy").mkdir()
    for i in range(2):
        sf.write(tmp_path / "noisy" / f"f{i}.wav", _signals(i)[1], _SR)
    page = report_dirs(tmp_path / "noisy", tmp_path / "out", enhance=lambda x: x * 0.5).read_text()
    assert page.count("<audio controls") == 4  # noisy and enhanced only
    assert page.count("<img class=spec") == 2 and "<img class=summary" not in page
