"""The generated parts of the docs: the command reference from the commands' own help, and the
configuration reference from the config fields' docstrings. `make docs` writes them into
docs/commands.md and docs/configuration.md with cog; a test fails when either is out of date."""

from __future__ import annotations

import ast
import inspect
from dataclasses import MISSING, fields
from typing import Any

import typer.main


def commands() -> str:
    """A section per command: what it does, its arguments and options, as `--help` says them."""
    from briefing.cli import app

    group = typer.main.get_command(app)
    out = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        out += [f"## `briefing {name}`", "", inspect.cleandoc(command.help or ""), ""]
        rows = [_parameter_row(parameter) for parameter in command.params if parameter.name != "help"]
        if rows:
            out += ["| argument or option | what it does |", "|---|---|", *rows, ""]
    return "\n".join(out)


def _parameter_row(parameter: Any) -> str:
    if getattr(parameter, "param_type_name", "") == "argument":
        name = parameter.name.upper() + ("..." if parameter.nargs == -1 else "")
        return f"| `{name}` | {_cell(parameter.help or '')} |"
    takes = "" if parameter.is_flag else f" {parameter.metavar or parameter.opts[-1].lstrip('-').upper().replace('-', '_')}"
    return f"| `{', '.join(parameter.opts)}{takes}` | {_cell(parameter.help or '')} |"


def configuration() -> str:
    """A table per config section: each key, its default, and its docstring."""
    from briefing import config, sections

    docs = _attribute_docstrings(sections)
    out = []
    for section, kind in config.SECTIONS.items():
        out += [f"## `[{section}]`", "", inspect.cleandoc(kind.__doc__ or ""), "", "| key | default | what it sets |", "|---|---|---|"]
        out += [f"| `{f.name}` | {_default(f)} | {_cell(docs.get((kind.__name__, f.name), ''))} |" for f in fields(kind)]
        out.append("")
    source_docs = [(f.name, docs.get(("SourceConfig", f.name), "")) for f in fields(config.SourceConfig)]
    out += ["## `[[sources]]`", "", inspect.cleandoc(config.SourceConfig.__doc__ or ""), "", "| key | what it sets |", "|---|---|"]
    out += [f"| `{name}` | {_cell(doc)} |" for name, doc in source_docs]
    return "\n".join(out) + "\n"


def _attribute_docstrings(module: Any) -> dict[tuple[str, str], str]:
    """(class, field) -> the string literal under the field's line, as the config module writes them."""
    found = {}
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if not isinstance(node, ast.ClassDef):
            continue
        for field, after in zip(node.body, node.body[1:]):
            if isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name) and isinstance(after, ast.Expr):
                if isinstance(after.value, ast.Constant) and isinstance(after.value.value, str):
                    found[(node.name, field.target.id)] = " ".join(after.value.value.split())
    return found


def _default(field: Any) -> str:
    value = field.default if field.default is not MISSING else field.default_factory()
    if isinstance(value, tuple):
        value = list(value)
    text = repr(str(value)) if hasattr(value, "value") else repr(value)
    return f"`{text}`".replace("|", "\\|")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
