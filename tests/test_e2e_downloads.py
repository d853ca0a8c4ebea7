"""End-to-end: every download button of every page, clicked twice in a row and quickly after
another, gives a file that opens with an independent reader.

Streamlit's default download button reruns the page on click; a second download clicked
before the rerun's new file ids reach the browser failed (or hung).  The dashboard's
buttons never rerun (:func:`ui.panels.common.download`); this test is what would catch
one that does.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from tests.e2e_support import browser_page, e2e_marks, wait_for_app_idle

pytestmark = e2e_marks()

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def open_file(name: str, data: bytes) -> object:
    """Open a downloaded file with a reader of its kind; what it holds (asserted non-empty)."""
    suffix = ".shp.zip" if name.endswith(".shp.zip") else Path(name).suffix.lower()
    if suffix in {".gpkg", ".shp.zip"}:
        import tempfile

        import pyogrio

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            layers = [str(n) for n, _ in pyogrio.list_layers(path)]
            held = {}
            for layer in layers:
                frame = pyogrio.read_dataframe(path, layer=layer)
                assert len(frame) > 0, (name, layer)
                table = frame.drop(columns="geometry", errors="ignore").astype(object)
                held[layer] = table.where(table.notna(), None).to_dict("list")  # nan != nan
            geo = pyogrio.read_info(path, layer=layers[0])
            assert geo["crs"], name
        return held
    if suffix == ".tif":
        from rasterio.io import MemoryFile

        with MemoryFile(data) as mem, mem.open() as src:
            assert src.crs is not None and src.width > 10 and src.height > 10, name
            return (src.width, src.height, str(src.crs))
    if suffix == ".csv":
        text = data.decode("utf-8-sig")
        rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("# ")]
        assert len(rows) >= 2 and len(rows[0]) >= 2, name  # a header and a row at least
        assert all(len(r) == len(rows[0]) for r in rows), name
        return rows
    if suffix == ".png":
        from PIL import Image

        assert data[:8] == PNG_MAGIC, name
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            assert img.width > 200 and img.height > 200, name
            return img.size
    if suffix in {".json", ".geojson"}:
        doc = json.loads(data.decode("utf-8"))
        if suffix == ".geojson":
            assert doc["type"] == "FeatureCollection" and doc["features"], name
        return doc
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True)
        sheets = book.sheetnames
        assert sheets, name
        cells = {n: list(book[n].iter_rows(values_only=True)) for n in sheets}
        book.close()
        assert len(cells[sheets[0]]) >= 2, name
        return cells
    if suffix == ".docx":
        from docx import Document

        doc = Document(io.BytesIO(data))
        text = "\n".join(p.text for p in doc.paragraphs)
        assert text.strip() and doc.tables, name
        return text
    if suffix == ".pdf":
        assert data[:5] == b"%PDF-" and b"%%EOF" in data[-1024:], name
        return len(data) > 0
    raise AssertionError(f"a download of an unexpected kind: {name}")


def download_buttons(page):
    # visible ones only: a button with a help tooltip is drawn twice, once hidden
    return page.locator('[data-testid="stDownloadButton"] button:visible')


def click_every_download_twice(page, expected: int) -> dict[str, list[bytes]]:
    """Click each download button twice in a row, the next one right after; every file.

    The clicks do not wait for the downloads: they follow each other as fast as the
    buttons accept them (a button building its file is disabled until it is done).
    """
    got: list = []
    page.on("download", lambda d: got.append(d))
    buttons = download_buttons(page)
    buttons.nth(expected - 1).wait_for(timeout=180_000)  # the page has drawn them all
    wait_for_app_idle(page)
    assert buttons.count() == expected
    labels = [buttons.nth(i).inner_text() for i in range(expected)]
    for i in range(expected):
        buttons.nth(i).click(timeout=120_000)
        buttons.nth(i).click(timeout=120_000)
    for _ in range(240 * 4):  # the files are built on click: up to 4 minutes on a busy machine
        if len(got) >= 2 * expected:
            break
        page.wait_for_timeout(250)
    assert len(got) == 2 * expected, (labels, [d.suggested_filename for d in got])
    files: dict[str, list[bytes]] = {}
    for d in got:
        assert d.failure() is None, d.suggested_filename
        files.setdefault(d.suggested_filename, []).append(Path(d.path()).read_bytes())
    # no error under any button, and the page still has all its buttons
    assert page.locator('[data-testid="stDownloadButtonError"]').count() == 0
    assert download_buttons(page).count() == expected
    return files


def check_files(files: dict[str, list[bytes]], names: set[str]) -> None:
    assert set(files) == names
    for name, copies in files.items():
        assert len(copies) == 2, name
        # the same content both times (a workbook, a GeoPackage, a zip and a PDF record
        # when they were written: compared by what they hold)
        assert open_file(name, copies[0]) == open_file(name, copies[1]), name
        if name.endswith((".csv", ".json", ".geojson", ".png", ".tif")):
            assert copies[0] == copies[1], name


def test_grids_page_downloads_twice_in_a_row(server):
    with browser_page() as p:
        p.goto(f"{server}/grids")
        wait_for_app_idle(p)
        files = click_every_download_twice(p, 7)
    stem = "gridplan_shijiazhuang"  # the plan shown first: 石家庄's preset
    kinds = ("geojson", "gpkg", "shp.zip", "xlsx", "csv", "png", "json")
    check_files(files, {f"{stem}.{k}" for k in kinds})


def test_access_page_downloads_twice_in_a_row(server):
    with browser_page() as p:
        p.goto(f"{server}/access")
        p.wait_for_selector('[data-testid="stMetricValue"]', timeout=180_000)
        wait_for_app_idle(p)
        files = click_every_download_twice(p, 4)
    stem = "coverage_15min"
    names = {f"{stem}.csv", f"{stem}.xlsx", f"{stem}.png", "travel_minutes_walk.tif"}
    check_files(files, names)


def test_siting_page_downloads_twice_in_a_row(server):
    with browser_page() as p:
        p.goto(f"{server}/siting")
        wait_for_app_idle(p)
        p.get_by_role("button", name=re.compile("运行选址")).click()
        p.wait_for_selector('[data-testid="stDownloadButton"]', timeout=240_000)
        wait_for_app_idle(p)
        files = click_every_download_twice(p, 2)
    check_files(files, {"sites.csv", "site_catchments.geojson"})


def test_report_downloads_twice_in_a_row(server):
    # the report is made on request (a spinner while it is built), then downloaded
    with browser_page() as p:
        p.goto(f"{server}/grids")
        wait_for_app_idle(p)
        sidebar = p.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("生成规划报告").click()
        for fmt in ("Word", "PDF"):
            sidebar.get_by_role("button", name=f"生成 {fmt}").click()
            wait_for_app_idle(p, timeout_ms=240_000)
        p.wait_for_selector('[data-testid="stDownloadButton"]', timeout=240_000)
        # the page's own downloads and the report's
        files = click_every_download_twice(p, download_buttons(p).count())
    reports = {n for n in files if n.endswith((".docx", ".pdf"))}
    assert reports and all(n.startswith("石家庄市_") for n in reports)
    check_files(files, set(files))
