"""The committed notebooks' figures fit JupyterLab's output column (DESIGN.md 6b): every PNG a lesson shows is at
most plots.MAX_FIGURE_PX wide, read from the image's own header, so a figure drawn in a lesson's cell (not by a
helper) is held to the same rule as the helpers' (tests/test_plots.py)."""

import base64
import json
import struct
from pathlib import Path

import pytest

from seq2seq_helpers.plots import MAX_FIGURE_PX

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return struct.unpack(">II", data[16:24])


def images(path: Path):
    """(cell index, width, height) of every image/png output of the notebook."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {}).get("image/png")
            if data:
                yield (index, *png_size(base64.b64decode("".join(data) if isinstance(data, list) else data)))


def test_png_size_reads_the_header():
    header = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + struct.pack(">II", 1040, 250)
    assert png_size(header) == (1040, 250)
    with pytest.raises(ValueError):
        png_size(b"GIF89a" + bytes(20))


def test_there_are_lessons_with_figures():
    assert len(NOTEBOOKS) >= 8 and sum(1 for path in NOTEBOOKS for _ in images(path)) >= 8


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_committed_figure_fits_the_output_column(path):
    wide = [f"cell {index}: {width} x {height} px" for index, width, height in images(path) if width > MAX_FIGURE_PX]
    assert not wide, f"{path.name}: figures wider than {MAX_FIGURE_PX} px (JupyterLab shrinks them): {wide}"
