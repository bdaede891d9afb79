"""The house rules: modules and functions small enough to read, docs that say what the code does."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import typer.main

from briefing import sections
from briefing.cli import app

from .conftest import ROOT

DOCS = ROOT / "docs"
MAX_MODULE_LINES = {"cli.py": 500, "pipeline.py": 300}
MAX_FUNCTION_LINES = 60


def modules() -> list[Path]:
    return sorted((ROOT / "briefing").rglob("*.py"))


def test_no_module_is_over_its_size():
    over = []
    for path in modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES.get(path.name, 400):
            over.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert not over, over


def test_no_function_is_over_sixty_lines():
    over = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno:
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    over.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {length} lines")
    assert not over, over


def test_the_generated_references_are_up_to_date():
    checked = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", "-I", str(DOCS), str(DOCS / "commands.md"), str(DOCS / "configuration.md")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, f"run `make docs`: {checked.stdout}{checked.stderr}"


def test_every_command_is_in_the_command_reference():
    reference = (DOCS / "commands.md").read_text(encoding="utf-8")
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    missing = [name for name in commands if f"## `briefing {name}`" not in reference]
    assert len(commands) >= 13 and not missing, missing


def test_every_config_key_is_in_the_configuration_reference():
    reference = (DOCS / "configuration.md").read_text(encoding="utf-8")
    keys = [(name, f.name) for name, kind in sections.SECTIONS.items() for f in fields(kind)]
    keys += [("sources", f.name) for f in fields(sections.SourceConfig)]
    missing = [f"{section}.{key}" for section, key in keys if f"| `{key}` |" not in reference]
    assert len(keys) > 30 and not missing, missing
    undocumented = [line for line in reference.splitlines() if re.fullmatch(r"\| `\w+` \|( `.*` \|)? +\|", line)]
    assert not undocumented, f"config fields without a docstring: {undocumented}"


def test_the_readme_is_a_front_door_and_its_links_lead_somewhere():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    links = re.findall(r"\]\(((?:docs/)?[\w./-]+\.md)(?:#[\w-]+)?\)", readme)
    for page in DOCS.glob("*.md"):
        links += [f"docs/{link}" for link in re.findall(r"\]\(([\w./-]+\.md)(?:#[\w-]+)?\)", page.read_text(encoding="utf-8"))]
    assert len(links) >= 10 and all((ROOT / link).exists() for link in links), [link for link in links if not (ROOT / link).exists()]
    for command in ("make demo", "make test", "briefing daily", "briefing serve", "from briefing import"):
        assert command in readme
