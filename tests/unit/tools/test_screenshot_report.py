"""tools/screenshot_report.py: a synthetic report rendered by headless
Chromium into a PNG that is not blank; the tool's own checks (no browser,
a failing browser, a blank or wrongly sized shot) each give one line and
exit 1 without leaving a file, and the shot never overwrites the page."""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest
from tool_scripts import load_tool


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    return load_tool("screenshot_report")


def _browser(tmp_path: Path, body: str) -> Path:
    """A stand-in browser: a script taking Chromium's arguments."""
    exe = tmp_path / "fake-browser"
    exe.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    exe.chmod(0o755)
    return exe


_WRITE_PNG = """
    import sys
    import numpy as np
    from matplotlib.image import imsave
    args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if "=" in a)
    w, h = (int(v) for v in args["window-size"].split(","))
    pixels = np.ones((h, w, 3)) * 0.9
    if {varied}:
        pixels[h // 3:h // 2, w // 4:w // 2] = (0.1, 0.3, 0.7)
    imsave(args["screenshot"], pixels[:{rows}], format="png")
"""


def test_chromium_renders_the_synthetic_report(tool: ModuleType, tmp_path: Path, capsys) -> None:
    if shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed: the screenshot cannot be taken here")
    shot = tmp_path / "shot.png"
    args = ["--synthetic", str(tmp_path / "report"), "--out", str(shot), "--window-size", "900,1200"]
    assert tool.main(args) == 0
    assert shot.read_bytes().startswith(b"\x89PNG") and "(900x1200)" in capsys.readouterr().out
    assert (tmp_path / "report" / "report.json").exists()


def test_the_tool_checks_what_the_browser_wrote(tool: ModuleType, tmp_path: Path, capsys) -> None:
    page = tool.synthetic_report(tmp_path / "report", days=1)
    shot = tmp_path / "shot.png"
    cases = [
        (_WRITE_PNG.format(varied=False, rows=""), "the shot is one flat colour: the page did not render"),
        (_WRITE_PNG.format(varied=True, rows="100"), "the shot is 300x100, not 300x400"),
        ("import sys\nsys.stderr.write('cannot open display\\n')\nsys.exit(3)\n",
         "failed (exit 3): cannot open"),
    ]
    for body, message in cases:
        exe = _browser(tmp_path, body)
        size = ["--window-size", "300,400", "--browser", str(exe)]
        code = tool.main([str(page.parent), "--out", str(shot), *size])
        err = capsys.readouterr().err.strip()
        assert code == 1 and err.startswith("screenshot_report: error: ") and message in err, err
        assert "\n" not in err and not shot.exists()
    good = _browser(tmp_path, _WRITE_PNG.format(varied=True, rows=""))
    assert tool.main([str(page), "--out", str(shot), "--window-size", "300,400", "--browser", str(good)]) == 0
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert tool.main([str(page), "--out", str(page), "--window-size", "300,400", "--browser", str(good)]) == 1
    assert "is also an input" in capsys.readouterr().err
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_bad_arguments_and_a_missing_browser(tool: ModuleType, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        tool.main(["--out", str(tmp_path / "s.png")])
    assert exit_.value.code == 2 and "give a report or --synthetic DIR" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.main([str(tmp_path), "--out", str(tmp_path / "s.png"), "--window-size", "wide"])
    assert "--window-size wide: give WIDTH,HEIGHT" in capsys.readouterr().err
    assert tool.main([str(tmp_path), "--out", str(tmp_path / "s.png")]) == 1
    assert "no report.html there" in capsys.readouterr().err
    (tmp_path / "report.html").write_text("<!DOCTYPE html><p>x</p>")
    missing = ["--browser", "no-such-browser-qt"]
    assert tool.main([str(tmp_path), "--out", str(tmp_path / "s.png"), *missing]) == 1
    assert "no browser found (no-such-browser-qt)" in capsys.readouterr().err
