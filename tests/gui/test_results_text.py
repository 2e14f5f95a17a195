"""How a result describes where it was found."""

import pytest

from app.gui.results import location
from tests.conftest import make_hit

pytestmark = [pytest.mark.gui]


def _hit(**kw):
    return make_hit(1, "t", **{"path": "/data/a/manual.pdf", "page": 4, "section": "Setup", **kw})


def test_location_names_page_section_folder_and_other_files():
    assert location(_hit()) == "page 4 · Setup · /data/a"
    two = _hit(other_paths=["/data/b/manual-full.pdf", "/data/c/copy.pdf"], offline=True)
    assert location(two) == "page 4 · Setup · /data/a · offline · also in 2 other files"
    assert location(_hit(page=None, section=None, other_paths=["/x.pdf"])).endswith(
        "/data/a · also in 1 other file"
    )


def test_location_shows_an_ocr_badge_only_for_ocr_passages():
    assert location(_hit(ocr=True)) == "page 4 · Setup · /data/a · OCR"
    assert "OCR" not in location(_hit())


def test_location_names_a_mailbox_message():
    hit = _hit(path="/data/a/club.mbox", page=None, message=3, section="Minutes")
    assert location(hit) == "message 3 · Minutes · /data/a"
