"""The kill switch file: present means triggered, whatever it holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantumtrader.risk import KillSwitch, KillSwitchError


def test_a_file_written_by_hand_gives_its_first_line_as_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "KILL"
    path.write_text("stop: broker called\nmore words\n", encoding="utf-8")
    assert KillSwitch(path).triggered() == "stop: broker called"
    path.write_text('{"at_utc": "2026-12-04T15:00:00+00:00"}', encoding="utf-8")   # JSON without a why
    assert KillSwitch(path).triggered() == '{"at_utc": "2026-12-04T15:00:00+00:00"}'
    path.write_bytes(b"\xff\xfe garbage")
    assert KillSwitch(path).triggered()                                           # still a kill


def test_trigger_replaces_an_earlier_reason_and_survives_a_new_instance(tmp_path: Path) -> None:
    KillSwitch(tmp_path / "KILL").trigger("first")
    KillSwitch(tmp_path / "KILL").trigger("second")
    assert KillSwitch(tmp_path / "KILL").triggered() == "second"     # a restarted runner still sees it


def test_trigger_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(KillSwitchError, match=r"^kill switch file .*: folder .*nowhere does not exist$") as e:
        KillSwitch(tmp_path / "nowhere" / "KILL").trigger("x")
    assert "--out" not in str(e.value)
    assert KillSwitch(tmp_path / "nowhere" / "KILL").triggered() is None
