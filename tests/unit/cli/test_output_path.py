"""output_path: --out never names an input, and is replaced atomically or not at all."""

from __future__ import annotations

import os

import pytest

from quantumtrader.cli import main
from quantumtrader.output_path import (
    OutputPathError,
    atomic_output,
    check_output,
    clear_interrupt,
    note_interrupt,
)


def test_refuses_an_input_by_any_name(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("x\n")
    link = tmp_path / "link.csv"
    os.link(src, link)
    for out in (src, tmp_path / "." / "in.csv", link):
        with pytest.raises(OutputPathError, match="also an input"):
            check_output(out, [src])
    assert src.read_text() == "x\n"


def test_refuses_missing_folder_and_folder_as_file(tmp_path):
    with pytest.raises(OutputPathError, match="does not exist"):
        check_output(tmp_path / "nope" / "x.qtlog")
    with pytest.raises(OutputPathError, match="is a folder"):
        check_output(tmp_path)


def test_failure_and_interrupt_leave_the_old_file(tmp_path):
    out = tmp_path / "out.bin"
    out.write_bytes(b"old")
    for exc in (RuntimeError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), atomic_output(out) as tmp:
            tmp.write_bytes(b"half")
            raise exc
        assert out.read_bytes() == b"old"
        assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_success_replaces(tmp_path):
    out = tmp_path / "out.bin"
    out.write_bytes(b"old")
    with atomic_output(out) as tmp:
        tmp.write_bytes(b"new")
    assert out.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_cli_ctrl_c_exits_130(monkeypatch, capsys):
    from quantumtrader import cli

    real_build = cli.build_parser

    def build():
        parser = real_build()
        sub = next(a for a in parser._actions if a.dest == "command")

        def interrupted(args):
            raise KeyboardInterrupt

        sub.add_parser("interrupted-job").set_defaults(func=interrupted)
        return parser

    monkeypatch.setattr(cli, "build_parser", build)
    assert main(["interrupted-job"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_a_ctrl_c_whose_exception_was_lost_still_keeps_the_output_out(tmp_path):
    """CPython drops a KeyboardInterrupt raised inside a finalizer; the
    handler's note still stops the rename."""
    out = tmp_path / "out.bin"
    out.write_bytes(b"old")
    note_interrupt()
    try:
        with pytest.raises(KeyboardInterrupt), atomic_output(out) as tmp:
            tmp.write_bytes(b"finished after the lost interrupt")
    finally:
        clear_interrupt()
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]
