"""The published HTML page in a real headless Chromium (Debian's ``chromium``; tox -e browser).

The page is loaded twice: once as published, for a screenshot, and once with a small
harness injected (an error listener first in <head>, a self-check script last in
<body>) whose findings Chromium's ``--dump-dom`` prints: JS errors, the table order
after clicking headers, and the size of the charts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from html import escape
from pathlib import Path

import pytest
from _leaderboard_records import write_run

from serbench.leaderboard.store import Leaderboard, add_runs

pytestmark = pytest.mark.browser

BENCH = "synthetic-4class-loso-speaker"

_HEAD = """<script>window.__errors = [];
window.addEventListener("error", function (e) { window.__errors.push(String(e.message)); });
</script>"""

_CHECK = """<script>
(function () {
  var out = {errors: window.__errors.slice()};
  var table = document.getElementById("leaderboard");
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  function column(name) {
    var i = heads.findIndex(function (th) { return th.textContent.indexOf(name) === 0; });
    return Array.prototype.map.call(table.tBodies[0].rows, function (r) {
      return r.cells[i].textContent; });
  }
  function click(name) {
    heads.find(function (th) { return th.textContent.indexOf(name) === 0; }).click();
  }
  out.initial = column("Model");
  click("Model"); out.modelAsc = column("Model");
  click("Model"); out.modelDesc = column("Model");
  click("Latency"); out.latencyAsc = column("Latency");
  out.latencyModels = column("Model");
  out.sortState = heads.map(function (th) { return th.getAttribute("aria-sort"); });
  out.charts = ["chart-latency", "chart-params"].map(function (id) {
    var svg = document.getElementById(id);
    var box = svg.getBoundingClientRect();
    var dots = Array.prototype.map.call(svg.querySelectorAll("circle"), function (c) {
      var b = c.getBoundingClientRect(); return [b.width, b.height]; });
    return {width: box.width, height: box.height, dots: dots};
  });
  out.details = document.querySelectorAll("details").length;
  var pre = document.createElement("pre");
  pre.id = "selfcheck";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""

#: Runs in the outer harness page once the page has loaded in an iframe of the tested
#: width (headless Chromium will not make a window narrower than 500 px; an iframe's
#: viewport is what its media queries see).
_LAYOUT = """<script>
document.getElementById("frame").addEventListener("load", function () {
  var win = this.contentWindow, doc = win.document;
  var out = {errors: win.__errors.slice(), width: win.innerWidth};
  var table = doc.getElementById("leaderboard");
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var ua = heads.findIndex(function (th) { return th.textContent.indexOf("UA % (mean") === 0; });
  out.uaRight = Array.prototype.map.call(table.tBodies[0].rows, function (r) {
    return r.cells[ua].getBoundingClientRect().right; });
  out.uaHeadRight = heads[ua].getBoundingClientRect().right;
  out.clipped = Array.prototype.filter.call(doc.querySelectorAll("td.model a, td.model .cfg"),
    function (el) { return el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0; }).length;
  function boxes(svg) {
    return Array.prototype.map.call(svg.querySelectorAll("text.point-label, text.chance-label"),
      function (t) { var b = t.getBoundingClientRect();
                     return [b.left, b.top, b.right, b.bottom]; }); }
  out.charts = ["chart-latency", "chart-params"].map(function (id) {
    var svg = doc.getElementById(id), b = svg.getBoundingClientRect();
    return {box: [b.left, b.top, b.right, b.bottom], labels: boxes(svg)}; });
  var select = doc.getElementById("filter-model");
  select.value = "svm"; select.dispatchEvent(new win.Event("change"));
  out.filteredRows = Array.prototype.filter.call(table.tBodies[0].rows,
    function (r) { return !r.hidden; }).length;
  out.hiddenPoints = doc.querySelectorAll("svg g.hidden").length;
  out.filterCount = doc.getElementById("filter-count").textContent;
  var pre = document.createElement("pre");
  pre.id = "selfcheck";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""

_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run",
          "--disable-default-apps", "--hide-scrollbars"]


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium, installed with apt-get when missing."""
    exe = shutil.which("chromium")
    if exe is None:
        apt = shutil.which("apt-get")
        if apt is None or os.geteuid() != 0:
            pytest.skip("chromium is not installed and apt-get cannot install it here "
                        "(needs root and apt-get): apt-get install chromium chromium-driver")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for args in (["update"], ["install", "-y", "chromium", "chromium-driver"]):
            done = subprocess.run([apt, *args], env=env, capture_output=True, text=True)
            if done.returncode != 0:
                pytest.skip(f"apt-get {args[0]} failed, cannot install chromium: "
                            f"{done.stderr[-500:]}")
        exe = shutil.which("chromium")
        assert exe, "apt-get installed chromium but it is not on PATH"
    return exe


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published v1 page with three configurations (two of them over two seeds)."""
    tmp = tmp_path_factory.mktemp("browser")
    runs = tmp / "runs"
    paths = [write_run(runs, model="bilstm_att", seed=s, skill=0.85, latency_ms=3.0,
                       n_parameters=120_000) for s in range(2)]
    paths += [write_run(runs, model="svm", seed=s, skill=0.3, latency_ms=0.2,
                        n_parameters=400) for s in range(2)]
    paths.append(write_run(runs, model="ar_gru", variant="no_arelu", seed=0, skill=0.6,
                           latency_ms=9.0, n_parameters=2_000_000))
    add_runs(paths, tmp / "lb")
    _, written = Leaderboard(tmp / "lb", BENCH).publish()
    return next(p for p in written if p.suffix == ".html")


def _run(chromium: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([chromium, *_FLAGS, f"--user-data-dir={tmp / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120)


def _selfcheck(chromium: str, page: Path, tmp: Path, script: str, *args: str) -> dict:
    html = page.read_text(encoding="utf-8")
    harness = tmp / "check.html"
    harness.write_text(html.replace("<head>", "<head>" + _HEAD, 1)
                       .replace("</body>", script + "</body>", 1), encoding="utf-8")
    done = _run(chromium, tmp, *args, "--enable-logging=stderr", "--v=0",
                "--virtual-time-budget=2000", "--dump-dom", harness.as_uri())
    match = re.search(r'<pre id="selfcheck">(.*?)</pre>', done.stdout, re.S)
    assert match, f"the self-check did not run; chromium said:\n{done.stderr[-2000:]}"
    assert "Uncaught" not in done.stderr, done.stderr
    return json.loads(match.group(1).replace("&lt;", "<").replace("&gt;", ">")
                      .replace("&amp;", "&"))


def _check_layout(chromium: str, page: Path, tmp_path: Path, width: int) -> dict:
    """Load ``page`` in an iframe ``width`` px wide and assert what every page must hold:
    no script error, the UA column inside the viewport (no sideways scroll needed to see
    a score), no clipped model name, chart labels inside their chart and not overlapping.
    Returns the self-check's findings (the filter results among them)."""
    inner = page.read_text(encoding="utf-8").replace("<head>", "<head>" + _HEAD, 1)
    frame = tmp_path / "frame.html"
    frame.write_text('<!doctype html><html><head></head><body style="margin:0">'
                     f'<iframe id="frame" style="width:{width}px;height:1400px;border:0" '
                     f'srcdoc="{escape(inner, quote=True)}"></iframe></body></html>',
                     encoding="utf-8")
    out = _selfcheck(chromium, frame, tmp_path, _LAYOUT, "--window-size=1440,1400")
    assert out["errors"] == [] and out["width"] == width
    assert out["uaHeadRight"] <= width and max(out["uaRight"]) <= width, out
    assert out["clipped"] == 0
    for chart in out["charts"]:
        labels, (x0, y0, x1, y1) = chart["labels"], chart["box"]
        assert labels, "no label drawn"
        for i, a in enumerate(labels):
            assert x0 - 1 <= a[0] and a[2] <= x1 + 1 and y0 - 1 <= a[1] and a[3] <= y1 + 1
            for b in labels[i + 1:]:
                overlap_x = min(a[2], b[2]) - max(a[0], b[0])
                overlap_y = min(a[3], b[3]) - max(a[1], b[1])
                assert overlap_x <= 1 or overlap_y <= 1, (a, b)
    return out


@pytest.mark.parametrize("width", [1400, 400])
def test_layout_at_desktop_and_phone_width(chromium: str, page: Path, tmp_path: Path,
                                           width: int) -> None:
    """The layout checks at 1400 and 400 px, and the filters hide rows and chart points."""
    out = _check_layout(chromium, page, tmp_path, width)
    assert out["filteredRows"] == 1 and out["filterCount"] == "1 of 3 rows shown"
    assert out["hiddenPoints"] == 2 * 2  # two rows hidden on each of two charts


def _newest_published_pages() -> list[Path]:
    """The newest published HTML page of every leaderboard shipped under leaderboards/."""
    root = Path(__file__).resolve().parents[1] / "leaderboards"
    pages = []
    for folder in sorted(p for p in root.glob("*/published") if p.is_dir()):
        versions = sorted(folder.glob("v*.html"), key=lambda p: int(p.stem[1:]))
        pages += versions[-1:]
    return pages


@pytest.mark.parametrize("width", [1400, 400])
@pytest.mark.parametrize("shipped", _newest_published_pages(),
                         ids=lambda p: f"{p.parents[1].name}-{p.stem}")
def test_shipped_pages_lay_out_at_desktop_and_phone_width(chromium: str, shipped: Path,
                                                          tmp_path: Path, width: int) -> None:
    """The pages researchers open (many rows, long names, real charts), not only the
    three-row fixture."""
    out = _check_layout(chromium, shipped, tmp_path, width)
    assert out["filteredRows"] >= 1  # the svm filter leaves the svm rows


def test_page_loads_without_errors_sorts_and_draws_charts(chromium: str, page: Path,
                                                          tmp_path: Path) -> None:
    html = page.read_text(encoding="utf-8")
    harness = tmp_path / "check.html"
    harness.write_text(html.replace("<head>", "<head>" + _HEAD, 1)
                       .replace("</body>", _CHECK + "</body>", 1), encoding="utf-8")
    done = _run(chromium, tmp_path, "--enable-logging=stderr", "--v=0",
                "--virtual-time-budget=2000", "--dump-dom", harness.as_uri())
    match = re.search(r'<pre id="selfcheck">(.*?)</pre>', done.stdout, re.S)
    assert match, f"the self-check did not run; chromium said:\n{done.stderr[-2000:]}"
    out = json.loads(match.group(1).replace("&lt;", "<").replace("&gt;", ">")
                     .replace("&amp;", "&"))
    assert out["errors"] == []
    assert "Uncaught" not in done.stderr, done.stderr
    assert out["initial"] == ["bilstm_att v1", "ar_gru/no_arelu v1", "svm v1"]
    assert out["modelAsc"] == sorted(out["initial"])
    assert out["modelDesc"] == sorted(out["initial"], reverse=True)
    assert out["latencyModels"] == ["svm v1", "bilstm_att v1", "ar_gru/no_arelu v1"]
    assert [float(v) for v in out["latencyAsc"]] == [0.2, 3.0, 9.0]
    assert out["sortState"].count("ascending") == 1
    for chart in out["charts"]:
        assert chart["width"] > 200 and chart["height"] > 150
        assert len(chart["dots"]) == 3 and all(w > 0 and h > 0 for w, h in chart["dots"])
    assert out["details"] == 3


@pytest.mark.parametrize("width", [1400, 400])
def test_screenshot_of_the_published_page(chromium: str, page: Path, tmp_path: Path,
                                          width: int) -> None:
    shot = tmp_path / "page.png"
    done = _run(chromium, tmp_path, f"--window-size={width},1400", f"--screenshot={shot}",
                page.as_uri())
    assert shot.is_file(), done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (width, 1400)
    assert len(data) > 20_000 * width // 400  # a rendered table and charts, not a blank page
    keep = os.environ.get("SERBENCH_SCREENSHOT")
    if keep:  # for a human look: SERBENCH_SCREENSHOT=/tmp/page.png tox -e browser
        path = Path(keep)
        shutil.copy(shot, path.with_name(f"{path.stem}-{width}{path.suffix}"))
