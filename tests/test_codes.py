"""Workshop codes: unguessable, and usable as they are on a command line."""

from __future__ import annotations

from flows.codes import looks_like_code, new_code


def test_a_code_never_starts_like_a_command_line_option() -> None:
    codes = [new_code() for _ in range(3000)]  # about 90 would start with "-" or "_"
    assert all(code[0].isalnum() and looks_like_code(code) for code in codes)
    assert len(set(codes)) == len(codes) and {len(code) for code in codes} == {16}
