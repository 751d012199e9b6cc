"""report.html in a real browser: every figure is present, decoded and visible.

Needs Chromium (Debian packages ``chromium`` and ``chromium-driver``; ``.ci/run`` installs
them). Skipped with a reason where it is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from harness.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install chromium)")


def _dump_dom(path, tmp_path) -> str:
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
         "--window-size=1200,900", "--dump-dom", path.resolve().as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_sobol_report_figures_are_visible(tmp_path):
    out = tmp_path / "out"
    assert main(["run", "scenarios/beta_sweep.yaml", "--set", "sobol.n=16", "--set", "sobol.bootstrap=50",
                 "--out", str(out)]) == 0
    dom = _dump_dom(out / "report.html", tmp_path)
    assert 'data-ready="yes"' in dom, "the page's load handler did not run"
    images = re.findall(r"<img [^>]*>", dom)
    assert len(images) >= 3  # bars per output and the convergence panel
    for img in images:
        assert 'data-visible="yes"' in img, img[:200]
        width = int(re.search(r'data-width="(\d+)"', img).group(1))
        assert width > 100, img[:200]
    assert "Verdict: CUE or carbon input?" in dom


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
    assert main(["run", "scenarios/global_grid.yaml", "--out", str(out), "--data-root", "."]) == 0
    dom = _dump_dom(out / "report.html", tmp_path)
    for name in ("maps_soc", "maps_cue"):
        image = re.search(rf'<img id="fig-{name}"[^>]*>', dom)
        assert image and 'data-visible="yes"' in image.group(0), name
    assert "Mixed-effects regression" in dom and "SYNTHETIC" in dom
