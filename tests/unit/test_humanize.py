"""Sizes and durations as the CLI and the window print them."""

from app.humanize import human_size, human_speed, human_time


def test_sizes_pick_the_largest_unit_below_1024():
    assert human_size(0) == "0 bytes"
    assert human_size(1023) == "1023 bytes"
    assert human_size(1536) == "1.5 KB"
    assert human_size(327 * 2**20) == "327.0 MB"
    assert human_size(5 * 2**40) == "5120.0 GB"


def test_durations_round_to_what_a_person_reads():
    assert human_time(None) == "—"
    assert human_time(0.2) == "1 s"
    assert human_time(42.4) == "42 s"
    assert human_time(1834) == "about 31 min"
    assert human_time(2.5 * 3600) == "about 2.5 h"


def test_speeds_leave_out_what_has_not_moved_yet():
    assert human_speed(0, 0) == ""
    assert human_speed(0, 13.6) == "14 passages/s"
    assert human_speed(0.25, 13.6) == "0.2 files/s · 14 passages/s"
