"""The README's Python examples run as written, one after the other."""

import re
import tempfile
from pathlib import Path

import optkern

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_examples_run(num_threads, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the examples' temporary folders
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 4
    isa = optkern.get_isa()
    scope = {}
    try:
        for k, block in enumerate(blocks):
            exec(compile(block, "README.md", "exec"), scope)
            if k == 0:  # the quickstart has trained: log(10) = 2.30 at the start
                assert 0 < scope["loss"] < 2.2 and scope["w"].dtype == "float32"
    finally:
        optkern.set_isa(isa)
