"""report.html's page: figures drawn later (in worker processes) land where they were asked for."""

from __future__ import annotations

from harness.page import Page
from harness.store import ResultDir


def _png(label: str) -> bytes:
    return b"\x89PNG fake " + label.encode()


def test_deferred_figures_are_drawn_in_place_and_equal_direct_ones(tmp_path):
    direct, deferred = Page(tmp_path / "a"), Page(tmp_path / "b")
    for page in (direct, deferred):
        page.heading("top")
    for k in range(3):
        direct.figure(f"f{k}", _png(str(k)), f"caption {k}")
        deferred.plot(f"f{k}", f"caption {k}", _png, str(k))
        for page in (direct, deferred):
            page.text(f"after {k}")
    paths = [page.write("t", ResultDir(page.out_dir)) for page in (direct, deferred)]
    assert paths[0].read_text() == paths[1].read_text()
    assert (tmp_path / "b" / "figures" / "f2.png").read_bytes() == _png("2")
    assert deferred.pending == []
