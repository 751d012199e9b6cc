"""report.html in a real browser: every figure is present, decoded and visible, and a Sobol run's
first screen (1400 x 900 px) answers the question: the verdict sentence and the overview figure.

Needs Chromium (Debian packages ``chromium`` and ``chromium-driver``; ``.ci/run`` installs
them). Skipped with a reason where it is not installed.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess

import pytest

from harness.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install chromium)")


#: the browser window of the first-screen checks [px]
WIDTH, SCREEN = 1400, 900
#: the page of a flagship-like run, every section collapsed, is at most this many screens tall
MAX_SCREENS = 8
MODELS = ("clm5_firstorder", "mimics", "millennial", "tao_enzyme", "awb")


def _chromium(args: list[str], tmp_path, width: int = WIDTH, height: int = SCREEN) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
         "--hide-scrollbars", f"--window-size={width},{height}", *args],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def _dump_dom(path, tmp_path, width: int = 1200, height: int = SCREEN) -> str:
    return _chromium(["--dump-dom", path.resolve().as_uri()], tmp_path, width, height).stdout


def _tag(dom: str, element_id: str) -> dict[str, str]:
    """The attributes of the element with ``element_id`` in the dumped DOM."""
    tag = re.search(rf'<[a-z]+ [^>]*id="{re.escape(element_id)}"[^>]*>', dom)
    assert tag, f"no element #{element_id}"
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag.group(0)))


@pytest.fixture(scope="module")
def flagship(tmp_path_factory):
    """The flagship scenario (all five models, every beta variant, soc and soc_total) at a small N."""
    out = tmp_path_factory.mktemp("flagship") / "out"
    assert main(["run", "scenarios/beta_sweep.yaml", "--set", "sobol.n=64", "--out", str(out)]) == 0
    return out


def test_sobol_report_figures_are_visible(flagship, tmp_path):
    dom = _dump_dom(flagship / "report.html", tmp_path)
    assert 'data-ready="yes"' in dom, "the page's load handler did not run"
    images = re.findall(r"<img [^>]*>", dom)
    assert len(images) == 1 + len(MODELS)  # the overview and one figure per model
    for img in images:  # inside collapsed sections too: the load handler opens them to look
        assert 'data-visible="yes"' in img, img[:200]
        width = int(re.search(r'data-width="(\d+)"', img).group(1))
        assert width > 100, img[:200]
    assert "Verdict: CUE or carbon input?" in dom


def test_sobol_report_answers_on_the_first_screen(flagship, tmp_path):
    """At 1400 px, the first 900 px hold the verdict sentence and the overview figure; collapsed, the
    page is at most 8 screens tall."""
    html = (flagship / "report.html").read_text()
    assert "<details open" not in html  # every section starts closed
    dom = _dump_dom(flagship / "report.html", tmp_path, WIDTH)
    body = _tag(dom.replace("<body ", '<body id="body" ', 1), "body")
    assert body["data-ready"] == "yes" and body["data-viewport"].startswith(f"{WIDTH}x"), body
    sentence, overview = _tag(dom, "headline"), _tag(dom, "fig-overview")
    assert 0 < int(sentence["data-top"]) < int(sentence["data-bottom"]) <= SCREEN, sentence
    assert int(sentence["data-bottom"]) <= int(overview["data-top"]) < int(overview["data-bottom"]) <= SCREEN, overview
    assert int(body["data-height"]) <= MAX_SCREENS * SCREEN, body["data-height"]
    text = re.sub(r"<[^>]+>", "", re.search(r'<p [^>]*id="headline"[^>]*>(.*?)</p>', dom, re.S).group(1))
    assert "Of 5 model structures" in text and "soc_total" in text, text
    for model in MODELS:  # figures are named by model, and plot every output the scenario asks for
        figure = _tag(dom, f"fig-sobol_{model}")
        assert "ln(soc) and ln(soc_total)" in figure["alt"], figure["alt"]
    shot = tmp_path / "first_screen.png"
    _chromium([f"--screenshot={shot}", (flagship / "report.html").resolve().as_uri()], tmp_path)
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (WIDTH, SCREEN)


def test_every_section_renders_markdown(flagship):
    """No literal markdown in the page: bold, emphasis and "- " lists are rendered (one list per run of items)."""
    html = (flagship / "report.html").read_text()
    text = re.sub(r"<(script|style|pre)[^>]*>.*?</\1>", "", html, flags=re.S)
    assert "**" not in text and "<li>- " not in text and "<p>- " not in text
    he = re.search(r"He et al\. \(2024\).*?</h4>(.*?)<h4>|He et al\. \(2024\).*?</h4>(.*?)</details>", text, re.S)
    assert he is not None
    assert len(re.findall(r'<ul class="verdict">', he.group(1) or he.group(2))) == 1  # one list, not a box per model
    assert "parameter_set=stode_rev_beta" not in text.split("Provenance")[0]  # constant options are not repeated


def test_sweep_report_has_heatmaps(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "schema_version: 1\nname: t\nseed: 1\nkind: sweep\nmodels: [clm5_firstorder]\n"
        "baseline: {c_input: 500.0}\nsweep:\n  drivers:\n    c_input: {relative: [0.5, 1.5], num: 4}\n"
        "    cue_scale: {values: [0.8, 1.0, 1.2]}\n  zscore: true\noutputs: [soc]\n")
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 0
    dom = _dump_dom(out / "report.html", tmp_path)
    heatmap = re.search(r'<img id="fig-heatmap_soc"[^>]*>', dom)
    assert heatmap and 'data-visible="yes"' in heatmap.group(0)


def test_grid_report_maps_are_visible(tmp_path):
    out = tmp_path / "out"
    assert main(["run", "tests/fixtures/global_grid_synthetic.yaml", "--out", str(out), "--data-root", "."]) == 0
    dom = _dump_dom(out / "report.html", tmp_path)
    for name in ("maps_soc", "maps_cue"):
        image = re.search(rf'<img id="fig-{name}"[^>]*>', dom)
        assert image and 'data-visible="yes"' in image.group(0), name
    assert "Mixed-effects regression" in dom and "SYNTHETIC" in dom
    assert "<strong>Random effects</strong>" in dom and "**" not in dom  # markdown in table cells
    summary = re.search(r'<div class="table-wrap"><table>.*?</table>', dom, re.S).group(0)
    assert "mimics[β=1]" in summary and "parameter_set" not in summary  # only the options that vary
