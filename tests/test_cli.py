"""The ``imse`` CLI end to end, with the tiny preset where speed matters.

Also its one vocabulary: ``-o`` (a file when it has an extension, else a
folder), ``--model``/``--weights``/``--preset``/``--threads``, and the old
spellings kept as hidden aliases with one deprecation line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from imse_keras.cli import main
from imse_keras.cli.options import is_file_target, resolve_threads


@pytest.fixture(scope="module")
def tiny_weights(tiny_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "tiny.weights.h5"
    tiny_model.save_weights(path)
    return str(path)


def _tone(n, sr, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    x = 0.3 * np.sin(2 * np.pi * 200 * t)[:, None] + 0.05 * rng.standard_normal((n, channels))
    return x.astype("float32")


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result


def test_help_for_every_command():
    assert run("--help").exit_code == 0
    for cmd in main.commands:
        result = run(cmd, "--help")
        assert result.exit_code == 0 and "--help" in result.output


def test_one_spelling_per_concept_across_commands():
    """Every option's help is written, old spellings are hidden, and a concept
    has one flag: no --out/--out-dir/--tflite/--init/--tflite-threads/--json left visible."""
    retired = {"--out", "--out-dir", "--tflite", "--init", "--tflite-threads", "--json",
               "--markdown", "--name", "--no-reference"}
    for name, command in main.commands.items():
        visible = [p for p in command.params
                   if isinstance(p, click.Option) and not p.hidden]
        flags = {f for p in visible for f in p.opts}
        assert not flags & retired, (name, flags & retired)
        for param in visible:
            assert param.help, (name, param.name)
        writes = [p for p in visible if "--output" in p.opts]
        if name not in ("info",):
            assert writes and "-o" in writes[0].opts, name
        threads = [p for p in visible if "thread" in p.name]
        assert [p.opts for p in threads] in ([], [["--threads"]]), (name, threads)


def test_help_imports_no_tensorflow():
    code = ("import sys\n"
            "from click.testing import CliRunner\n"
            "from imse_keras.cli import main\n"
            "for cmd in ([], *([c] for c in main.commands)):\n"
            "    assert CliRunner().invoke(main, [*cmd, '--help']).exit_code == 0, cmd\n"
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parent.parent)
    assert proc.stdout.strip() == "False False", proc.stdout + proc.stderr


def test_version():
    assert "imse, version" in run("--version").output


def test_info_reports_parameters_and_cost_of_a_preset():
    result = run("info", "--preset", "tiny")
    assert result.exit_code == 0, result.output
    assert "37,859" in result.output  # tests/test_model.py pins the tiny preset's count
    assert "MACs per second of audio" in result.output and " G" in result.output


@pytest.mark.slow  # traces the official-size graph to count MACs (~18 s)
def test_info_reports_official_parameter_count():
    result = run("info", "--preset", "imse")
    assert result.exit_code == 0
    assert "432,995" in result.output
    assert "431,388 trainable" in result.output  # the one-path SKFFs' 1,607 are frozen
    # MACs per second of audio as our graph executes it. The official code counts 4.52 G
    # (8.71 G per segment); the layers trade 6 % more MACs (block-diagonal per-head attention
    # products, the frequency RoPE's pair swap as a +-1 conv) for a graph without
    # GATHER/TRANSPOSE glue, and the decoders compute only the half of their upsampling conv
    # that they keep.
    assert "4.78 G" in result.output
    assert "9.21 G" in result.output  # per 30,700-sample segment


def test_enhance_keeps_rate_channels_length_and_format(tiny_weights, tmp_path):
    src = tmp_path / "in.flac"
    sf.write(src, _tone(22050 + 37, 22050, channels=2), 22050, subtype="PCM_24")
    dst = tmp_path / "out.flac"
    result = run("enhance", src, "-o", dst, "--weights", tiny_weights, "--preset", "tiny")
    assert result.exit_code == 0, result.output
    info_in, info_out = sf.info(src), sf.info(dst)
    assert (info_out.samplerate, info_out.channels, info_out.frames) == (22050, 2, 22050 + 37)
    assert (info_out.format, info_out.subtype) == (info_in.format, info_in.subtype)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files


def test_enhance_directory_reports_bad_files_and_keeps_going(tiny_weights, tmp_path):
    indir = tmp_path / "in"
    indir.mkdir()
    sf.write(indir / "a.wav", _tone(16000, 16000)[:, 0], 16000, subtype="PCM_16")
    sf.write(indir / "b.wav", _tone(100, 16000)[:, 0], 16000, subtype="FLOAT")
    (indir / "c.wav").write_text("not audio")
    sf.write(indir / "d.wav", np.zeros(0, "float32"), 16000)
    out = tmp_path / "out"
    result = run("enhance", indir, "-o", out, "--weights", tiny_weights, "--preset", "tiny", "-q")
    assert result.exit_code == 1
    assert "2 file(s) failed" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["a.wav", "b.wav"]
    assert sf.info(out / "b.wav").frames == 100


@pytest.mark.parametrize(
    "args, code, message",
    [
        # A bad input file is an error of the run (1); a wrong command line is a
        # usage error (2, click's convention).
        (["enhance", "missing.wav", "-o", "x.wav"], 1, "no such file or directory"),
        (["evaluate", "--clean", "."], 2, "exactly one of"),
    ],
)
def test_usage_and_input_errors(args, code, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_corrupt_checkpoint_exits_1_with_one_line(tmp_path):
    src = tmp_path / "in.wav"
    sf.write(src, _tone(1600, 16000)[:, 0], 16000)
    bad = tmp_path / "ckpt.pt"
    bad.write_bytes(b"\x00" * 100)
    result = run("enhance", src, "-o", tmp_path / "out.wav", "--weights", bad)
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and len(result.output.strip().splitlines()) == 1


def test_refuses_to_overwrite_input(tiny_weights, tmp_path):
    src = tmp_path / "in.wav"
    sf.write(src, _tone(1600, 16000)[:, 0], 16000)
    before = src.read_bytes()
    result = run("enhance", src, "-o", src, "--weights", tiny_weights, "--preset", "tiny")
    assert result.exit_code == 1 and "overwrite" in result.output
    assert src.read_bytes() == before


def _speech_pair(root, name, seed):
    synth = pytest.importorskip("imse_keras.synth")
    clean, noisy = synth.make_pair(seed=seed, snr_db=5.0, noise="white")
    for sub, x in (("clean", clean), ("noisy", noisy)):
        (root / sub).mkdir(exist_ok=True)
        sf.write(root / sub / name, x, 16000, subtype="PCM_16")


def test_evaluate_enhanced_and_noisy_dirs(tiny_weights, tmp_path):
    _speech_pair(tmp_path, "a.wav", 0)
    _speech_pair(tmp_path, "b.wav", 1)
    out_json, out_md = tmp_path / "scores.json", tmp_path / "scores.md"
    result = run("evaluate", "--clean", tmp_path / "clean", "--enhanced", tmp_path / "noisy",
                 "-o", out_json, "-o", out_md, "-q")
    assert result.exit_code == 0, result.output
    assert "a.wav" in result.output and "mean" in result.output
    payload = json.loads(out_json.read_text())
    assert {"pesq", "stoi", "si_sdr", "csig", "cbak", "covl", "ssnr"} <= set(payload["mean"])
    assert len(payload["files"]) == 2
    assert "a.wav" in out_md.read_text() and "mean" in out_md.read_text()
    # The old --json still writes JSON, with one deprecation line.
    old_json = tmp_path / "old.txt"
    result = run("evaluate", "--clean", tmp_path / "clean", "--enhanced", tmp_path / "noisy",
                 "--json", old_json, "-q")
    assert result.exit_code == 0, result.output
    assert result.output.count("--json PATH is deprecated, use -o PATH.json") == 1
    assert json.loads(old_json.read_text())["mean"] == payload["mean"]
    # Clean against itself is the ceiling.
    result = run("evaluate", "--clean", tmp_path / "clean", "--enhanced", tmp_path / "clean", "-q")
    assert "4.64" in result.output
    result = run("evaluate", "--clean", tmp_path / "clean", "--noisy", tmp_path / "noisy",
                 "--weights", tiny_weights, "--preset", "tiny", "-q")
    assert result.exit_code == 0, result.output


def test_evaluate_unmatched_names(tmp_path):
    _speech_pair(tmp_path, "a.wav", 0)
    other = tmp_path / "other"
    other.mkdir()
    sf.write(other / "zzz.wav", _tone(16000, 16000)[:, 0], 16000)
    result = run("evaluate", "--clean", tmp_path / "clean", "--enhanced", other)
    assert result.exit_code == 1 and "no clean reference" in result.output


# --- the -o rule, export ------------------------------------------------------------


def test_output_rule_extension_means_file(tmp_path):
    assert is_file_target("a.tflite") and is_file_target(tmp_path / "x" / "clean.wav")
    assert not is_file_target("tflite") and not is_file_target("models.v2/")
    (tmp_path / "dir.d").mkdir()
    assert not is_file_target(tmp_path / "dir.d")  # an existing folder stays a folder


def test_threads_default_reads_the_environment(monkeypatch):
    monkeypatch.setenv("IMSE_THREADS", "3")
    assert resolve_threads(None) == 3 and resolve_threads(5) == 5
    monkeypatch.delenv("IMSE_THREADS")
    assert resolve_threads(None) == 2


@pytest.mark.slow  # one conversion, ~30 s CPU; the -o rule itself is tested below in the default run
def test_export_o_file_writes_that_file_and_its_contract(tiny_weights, tmp_path):
    """Acceptance: `imse export --mode float32 -o a.tflite` writes a.tflite (+ a.json)."""
    target = tmp_path / "models" / "a.tflite"
    result = run("export", "--mode", "float32", "--preset", "tiny", "--weights", tiny_weights,
                 "--frames", 16, "-o", target, "-q")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.json", "a.tflite"]
    contract = json.loads((target.parent / "a.json").read_text())
    assert contract["mode"] == "float32"
    from imse_keras.export.runner import LiteRTModel

    assert LiteRTModel(target, num_threads=1).num_frames == 16


@pytest.mark.parametrize(
    "args, message",
    [
        (["--mode", "all", "-o", "x.tflite"],
         "-o x.tflite names one file but 4 modes are exported (float32, float16, dynamic, int8); "
         "give a folder (files are named tiny_<mode>.tflite)"),
        (["--mode", "float32", "--mode", "float16", "-o", "x.tflite"], "names one file but 2 modes"),
        (["--mode", "float32", "-o", "x.onnx"], "-o x.onnx: an export is a .tflite file or a folder"),
        (["--mode", "float32", "--name", "n", "-o", "y.tflite"], "not both"),
    ],
)
def test_export_o_errors_in_one_line_before_any_work(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("export", "--preset", "tiny", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not list(tmp_path.iterdir())  # nothing written, no folder made


def test_export_out_dir_alias_means_a_folder():
    from imse_keras.cli.export import _export_target, export

    ctx = export.make_context("export", ["--out-dir", "models.v2", "--mode", "float32"])
    output = ctx.params["output"]
    assert not is_file_target(output)
    assert _export_target(output, None, ["float32"], "imse") == (Path("models.v2"), None)
    assert _export_target(Path("m/b.tflite"), None, ["int8"], "imse") == (Path("m"), "b")
    assert _export_target(None, None, ["int8", "float32"], "imse") == (Path("tflite"), None)


# --- deprecated spellings and explicit modes ------------------------------------------


def test_deprecated_aliases_still_work_with_one_warning(tmp_path):
    _speech_pair(tmp_path, "a.wav", 0)
    md = tmp_path / "t.md"
    result = run("compare", "--clean", tmp_path / "clean", "--noisy", tmp_path / "noisy",
                 "--peers", "noisy", "--no-imse", "--no-dnsmos", "-q",
                 "--tflite", tmp_path / "absent.tflite", "--markdown", md)
    assert result.exit_code == 0, result.output
    assert result.output.count("--tflite is deprecated, use --model") == 1
    assert result.output.count("--markdown PATH is deprecated, use -o PATH.md") == 1
    assert "skipping tflite:absent.tflite" in result.output  # --tflite reached --model
    assert md.read_text().startswith("| system |")
    # --tflite-threads is --threads now (TF and LiteRT): parsed into --threads.
    from imse_keras.cli.export import validate

    ctx = validate.make_context("validate", ["--clean", "c", "--noisy", "n", "--model", "m.tflite",
                                             "--tflite-threads=3"])
    assert ctx.params["threads"] == 3
    # train: --out and --init are -o and --weights.
    from imse_keras.cli.train import train

    ctx = train.make_context("train", ["--data", str(tmp_path), "--out", "run", "--init", "none"])
    assert (ctx.params["out"], ctx.params["init"]) == (Path("run"), "none")
    # make-demo-data: the positional OUT is -o now.
    result = run("make-demo-data", tmp_path / "a", "-o", tmp_path / "b")
    assert result.exit_code == 2 and "the positional OUT is deprecated, use -o OUT" in result.output
    assert "give the folder once" in result.output


def test_enhance_o_with_an_extension_is_a_file_never_a_folder(tmp_path):
    indir = tmp_path / "in"
    indir.mkdir()
    for name in ("a.wav", "b.wav"):
        sf.write(indir / name, _tone(1600, 16000)[:, 0], 16000)
    result = run("enhance", indir, "-o", tmp_path / "out.wav")
    assert result.exit_code == 1
    assert "names one file but 2 files are to be enhanced; give a folder" in result.output
    result = run("enhance", indir / "a.wav", "-o", tmp_path / "notes.txt")
    assert result.exit_code == 1 and ".txt is not an audio format written" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # no folder made


def test_tflite_batch_size_is_an_explicit_error(tmp_path):
    src = tmp_path / "a.wav"
    sf.write(src, _tone(1600, 16000)[:, 0], 16000)
    result = run("enhance", src, "-o", tmp_path / "b.wav", "--model", tmp_path / "m.tflite",
                 "--batch-size", 4)
    assert result.exit_code == 2
    assert "--batch-size 4: a .tflite runs one segment per call" in result.output
    assert not (tmp_path / "b.wav").exists()


def test_evaluate_modes_are_explicit(tmp_path):
    _speech_pair(tmp_path, "a.wav", 0)
    result = run("evaluate", "--noisy", tmp_path / "noisy")
    assert result.exit_code == 2 and "--noisy needs --clean" in result.output
    result = run("evaluate")
    assert result.exit_code == 2 and "--enhanced DIR alone (DNSMOS)" in result.output
    result = run("evaluate", "--clean", tmp_path / "clean", "--enhanced", tmp_path / "noisy",
                 "-o", tmp_path / "s.csv")
    assert result.exit_code == 2 and "write scores as .json or .md" in result.output
    result = run("report", "--noisy", tmp_path / "noisy", "--enhanced", tmp_path / "noisy",
                 "-o", tmp_path / "page.html")
    assert result.exit_code == 2 and "a report is a folder" in result.output


def test_evaluate_without_clean_scores_dnsmos_and_says_so(tmp_path):
    for name in ("speechmos", "onnxruntime", "librosa"):
        pytest.importorskip(name)
    _speech_pair(tmp_path, "a.wav", 0)
    out = tmp_path / "d.json"
    result = run("evaluate", "--enhanced", tmp_path / "noisy", "-o", out, "-q")
    assert result.exit_code == 0, result.output
    assert "no --clean: scoring DNSMOS without a reference" in result.output
    assert json.loads(out.read_text())["source"] == "no-reference"
    result = run("evaluate", "--no-reference", tmp_path / "noisy", "-q")
    assert result.exit_code == 0, result.output
    assert "--no-reference DIR is deprecated, use --enhanced DIR without --clean" in result.output
