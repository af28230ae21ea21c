"""The layers' rules, checked by reading the source, so that they hold from now on
(see docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 500
MAX_HANDLER_LINES = 30
# Where the Bot API emulator may be started: the offline rehearsal, and the command that runs it.
EMULATOR_USERS = {"bot/rehearsal.py", "bot/cli.py"}


def modules(*packages: str) -> Iterator[Path]:
    for package in packages:
        place = ROOT / package
        yield from [place] if place.is_file() else sorted(place.rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def imported(path: Path) -> set[str]:
    """The top-level packages a module imports (anywhere in it, lazily too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ["bot", "flows", "reports"])
def test_no_module_is_over_500_lines(package: str) -> None:
    long = {
        relative(path): lines
        for path in modules(package)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_handlers_are_short_and_build_no_text() -> None:
    too_long: dict[str, int] = {}
    translating: list[str] = []
    for path in modules("bot/handlers"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_HANDLER_LINES:
                    too_long[f"{relative(path)}:{node.name}"] = length
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else None
                if isinstance(node.func, ast.Attribute):
                    name = node.func.attr
                if name in ("_", "gettext", "ngettext"):
                    translating.append(f"{relative(path)}:{node.lineno}")
    assert too_long == {}
    assert translating == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("flows", {"telegram", "bot", "reports", "tgemu", "aiosqlite", "sqlite3"}),
        ("storage", {"telegram", "bot", "reports", "tgemu"}),
        ("reports", {"telegram", "bot", "tgemu", "aiosqlite", "sqlite3"}),
        ("locales", {"telegram", "bot", "reports", "tgemu"}),
    ],
)
def test_lower_layers_do_not_reach_up(package: str, forbidden: set[str]) -> None:
    reaching = {
        relative(path): sorted(found)
        for path in modules(package)
        if (found := imported(path) & forbidden)
    }
    assert reaching == {}


def test_storage_shares_only_the_vocabularies_of_flows() -> None:
    """Storage sits below flows: of it, it may read only `flows.kinds`, which imports nothing."""
    reaching = set()
    for path in modules("storage", "flows/kinds.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if (module or "").startswith("flows") and (
                path.name == "kinds.py" or module != "flows.kinds"
            ):
                reaching.add(f"{relative(path)}: {module}")
    assert reaching == set()


def test_the_product_does_not_ship_the_emulator() -> None:
    users = {
        relative(path)
        for path in modules("bot", "flows", "storage", "reports", "locales")
        if "tgemu" in imported(path)
    }
    assert users <= EMULATOR_USERS
    assert not (ROOT / "bot" / "emulator").exists()


def test_only_storage_speaks_sql() -> None:
    speaking = {
        relative(path)
        for path in modules("bot", "flows", "reports")
        if imported(path) & {"aiosqlite", "sqlite3"}
    }
    assert speaking == set()


def test_the_rules_catch_what_they_forbid(tmp_path: Path) -> None:
    """The checks above read real imports, calls and lengths (they could fail)."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import telegram.ext\nfrom bot.views import x\n\n\ndef f():\n    return _('hi')\n"
    )
    assert imported(sample) == {"telegram", "bot"}
