"""The page carries its images and escapes what it shows."""

import base64

from tuner.review.page import Plot, Section, render

PNG = b"\x89PNG\r\n\x1a\n fake"


def test_the_page_needs_no_other_file():
    section = Section(
        "The <search>",
        (("best", "trial 3 & 4"),),
        (Plot("history", "History", "what <b> means", PNG),),
        ("a note",),
    )
    page = render("tuner report: a<b", "written now", [section])
    assert page.startswith("<!DOCTYPE html>")
    assert f"data:image/png;base64,{base64.b64encode(PNG).decode()}" in page
    assert 'src="http' not in page and "<link" not in page and "<script" not in page
    assert "a&lt;b" in page and "The &lt;search&gt;" in page and "trial 3 &amp; 4" in page
    assert 'id="history"' in page and "a note" in page
