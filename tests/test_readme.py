"""The README's results tables are generated from measured result files, not typed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("update_readme", ROOT / "bench/update_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_readme_blocks_match_their_result_files():
    script = _script()
    text = (ROOT / "README.md").read_text()
    assert script.render_readme(text, script.sections()) == text, (
        "README.md is stale: run .venv/bin/python bench/update_readme.py"
    )


def test_every_block_names_the_command_that_measured_it():
    script = _script()
    for name, body in script.sections().items():
        assert "```bash\n" in body or "not measured yet" in body, name
