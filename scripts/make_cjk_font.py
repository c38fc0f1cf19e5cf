"""Make the course's small CJK font: the glyphs lesson 06's dates need that matplotlib's DejaVu Sans lacks.

    python scripts/make_cjk_font.py /path/to/NotoSansCJK-Regular.ttc

Lesson 06 writes dates in ja_JP and ko_KR (年月日, 년월일, weekday names); DejaVu Sans, matplotlib's default, has
no CJK glyphs, so its figures showed empty boxes. Rather than ask every learner (locally, on Binder, on Colab) to
install a 50 MB font, the package ships a subset of Noto Sans CJK (SIL Open Font License 1.1) holding exactly
the characters `seq2seq_helpers.dates.render` can write for every locale and format that DejaVu Sans lacks
(and kanji numerals and era names a learner may type into the lesson's widget), renamed (a modified font under the OFL takes a new name). `seq2seq_helpers.plots` registers it as a fallback.
The source font: Debian's fonts-noto-cjk (`apt-get download fonts-noto-cjk`, then `dpkg-deb -x`), or
https://github.com/notofonts/noto-cjk. tests/test_plots.py checks the shipped font still covers every character
the dates use, so a new locale fails the tests until this script is run again.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seq2seq_helpers.dates import FORMATS, LOCALES, render  # noqa: E402
from seq2seq_helpers.plots import CJK_FAMILY, CJK_FONT  # noqa: E402

# What a learner may type into lesson 06's widget beside what the dates use: kanji numerals and the Japanese eras.
TYPED = "〇一二三四五六七八九十百千万元年号令和平成昭正大明治午前後"


def characters_the_dates_use() -> set[str]:
    """Every character `render` writes, over a leap year (every month, weekday and day number), all locales."""
    start = datetime.date(2000, 1, 1)
    chars: set[str] = set()
    for day in range(366):
        date = start + datetime.timedelta(days=day)
        for locale in LOCALES:
            for fmt in FORMATS:
                chars |= set(render(date, locale, fmt))
    return chars


def missing_from_dejavu(chars: set[str]) -> set[str]:
    import matplotlib
    from fontTools.ttLib import TTFont

    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    cmap = TTFont(dejavu).getBestCmap()
    return {c for c in chars if ord(c) not in cmap}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="NotoSansCJK-Regular.ttc (or a Noto Sans CJK .otf)")
    parser.add_argument(
        "license",
        type=Path,
        help="the full OFL text: noto-cjk's LICENSE, or Debian's /usr/share/doc/fonts-noto-cjk/copyright",
    )
    parser.add_argument("--font-number", type=int, default=0, help="font in the collection (0: Noto Sans CJK JP)")
    args = parser.parse_args(argv)

    from fontTools import subset
    from fontTools.ttLib import TTFont

    needed = sorted(missing_from_dejavu(characters_the_dates_use() | set(TYPED)))
    font = TTFont(args.source, fontNumber=args.font_number)
    source_name = font["name"].getDebugName(4)
    cmap = font.getBestCmap()
    lacking = [c for c in needed if ord(c) not in cmap]
    if lacking:
        raise SystemExit(f"{source_name} has no glyph for {''.join(lacking)!r}: pick a font that covers them")
    options = subset.Options()
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # copyright, names, version, license and its URL
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(needed))
    subsetter.subset(font)
    names = font["name"]
    postscript = CJK_FAMILY.replace(" ", "")
    for record in list(names.names):
        if record.nameID in (1, 4, 16):
            names.setName(CJK_FAMILY, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 3:
            names.setName(f"{postscript}-Regular;subset of {source_name}", 3, *record_ids(record))
        elif record.nameID == 6:
            names.setName(f"{postscript}-Regular", 6, *record_ids(record))
    if "CFF " in font:  # the CFF table carries its own copy of the names
        cff = font["CFF "].cff
        cff.fontNames = [f"{postscript}-Regular"]
        top = cff.topDictIndex[0]
        top.FullName, top.FamilyName = CJK_FAMILY, CJK_FAMILY
    CJK_FONT.parent.mkdir(parents=True, exist_ok=True)
    font.save(CJK_FONT)
    (CJK_FONT.parent / "OFL.txt").write_text(
        f"{CJK_FONT.name}: a subset of {source_name} ({len(needed)} glyphs: {''.join(needed)}),\n"
        f"renamed {CJK_FAMILY!r}, made by scripts/make_cjk_font.py.\n\n{names.getDebugName(0)}\n"
        f"{names.getDebugName(13)}\n\n{ofl_text(args.license)}\n",
        encoding="utf-8",
    )
    print(f"{CJK_FONT.relative_to(ROOT)}: {len(needed)} glyphs ({''.join(needed)}), {CJK_FONT.stat().st_size:,} bytes")
    return 0


def ofl_text(path: Path) -> str:
    """The SIL OFL 1.1 text from noto-cjk's LICENSE, or from the SIL-1.1 paragraph of a Debian copyright file."""
    text = path.read_text(encoding="utf-8")
    if "License: SIL-1.1\n" not in text:
        if "SIL OPEN FONT LICENSE Version 1.1" not in text:
            raise SystemExit(f"{path} holds no SIL Open Font License 1.1 text")
        return text.strip()
    lines = []
    for line in text.split("License: SIL-1.1\n")[-1].splitlines():
        if line and not line.startswith(" "):
            break
        lines.append("" if line.strip() == "." else line[1:])
    return "\n".join(lines).strip()


def record_ids(record):
    return record.platformID, record.platEncID, record.langID


if __name__ == "__main__":
    raise SystemExit(main())
