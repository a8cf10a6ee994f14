"""The data dictionary is generated from analysis/schema.py, and the committed copy is current."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from analysis.datadict import render
from analysis.schema import TABLES

ROOT = Path(__file__).resolve().parent.parent


def test_the_committed_data_dictionary_is_what_the_schema_generates():
    # If this fails: python -m analysis data-dictionary --out docs/data_dictionary.md
    committed = (ROOT / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    assert committed == render()


def test_every_table_and_column_of_the_contract_is_in_the_dictionary_with_its_requirement():
    text = render()
    for table in TABLES.values():
        assert f"## {table.name}\n" in text
        for col in table.columns:
            row = next(line for line in text.splitlines() if line.startswith(f"| `{col.name}` | {col.type} |")
                       and line in text.split(f"## {table.name}\n", 1)[1].split("\n## ", 1)[0])
            assert ("| yes |" in row) == col.required, row
            for value in col.enum or ():
                assert f"`{value}`" in row


def test_the_command_prints_the_dictionary_and_writes_it_to_a_file(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    printed = subprocess.run([sys.executable, "-m", "analysis", "data-dictionary"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert printed.returncode == 0 and printed.stdout == render()
    out = tmp_path / "dd.md"
    written = subprocess.run([sys.executable, "-m", "analysis", "data-dictionary", "--out", str(out)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert written.returncode == 0 and out.read_text(encoding="utf-8") == render()
    missing = subprocess.run([sys.executable, "-m", "analysis", "data-dictionary", "--out", str(tmp_path / "no" / "dd.md")],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
