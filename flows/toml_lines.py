"""Where a key of a TOML file is: tomllib forgets positions, and a facilitator editing the
journey file needs the line of the key at fault."""

from __future__ import annotations

import re

KeyPath = tuple[str | int, ...]


class KeyLines:
    """Maps key paths such as ('moments', 2, 'prompts', 0, 'text', 'en') to file lines.

    tomllib forgets positions, so the file is scanned once for table headers and keys;
    a path not found falls back to its closest enclosing table.
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*=")

    def __init__(self, text: str) -> None:
        self.lines: dict[KeyPath, int] = {}
        counters: dict[KeyPath, int] = {}
        table: KeyPath = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(line)
            if header:
                is_array = header.group(1) == "[["
                table = self._table_path(header.group(2).split("."), is_array, table)
                if is_array:
                    counters[table] = counters.get(table, -1) + 1
                    table = (*table, counters[table])
                self.lines.setdefault(table, number)
                continue
            key = self._KEY.match(line)
            if key:
                path = table
                for part in key.group(1).split("."):
                    path = (*path, part)
                    self.lines.setdefault(path, number)

    @staticmethod
    def _table_path(names: list[str], is_array: bool, current: KeyPath) -> KeyPath:
        """Resolve a dotted header against the array elements seen so far.

        Inside an array of tables, a nested header belongs to the array's last element;
        for an array header, the path returned is the array's own (the caller indexes it).
        """
        path: KeyPath = ()
        for position, name in enumerate(names):
            path = (*path, name)
            last = position == len(names) - 1
            if last and is_array:
                break
            if len(current) > len(path) and current[: len(path)] == path:
                element = current[len(path)]
                if isinstance(element, int):
                    path = (*path, element)
        return path

    def line_of(self, path: KeyPath) -> int | None:
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


def dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
