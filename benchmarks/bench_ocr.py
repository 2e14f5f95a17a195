"""OCR accuracy (character error rate) and speed on pages whose text is known.

Renders pages of known English text with PyMuPDF, rasterises each at 150 and 300 dpi (as a
scanner would), runs Findling's OCR (rapidocr-onnxruntime, PP-OCRv4 on ONNX Runtime) and
compares the recognised text with the original. CER = Levenshtein distance / reference length,
computed on text with whitespace collapsed; a second figure ignores spaces altogether, since
the recogniser sometimes drops the space between words.

Results go to benchmarks/results/ocr.json.

    .venv/bin/python benchmarks/bench_ocr.py [--pages 3] [--dpi 150 300]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TEXT = [
    "The inverter warranty lasts twelve years from the date of installation. Serial number "
    "ZX-5521 is printed under the battery lid. Keep the receipt with the manual, because the "
    "installer asks for both when a claim is made. Clean the panels twice a year with water.",
    "Minutes of the residents' meeting, 14 March 2026. Present: 23 households. The roof repair "
    "will cost 18,400 euros, shared by floor area. The lift is serviced every second Tuesday; "
    "report faults to the caretaker on 0161 496 0732. Next meeting: 9 May at 7 pm.",
    "Recipe: bake the bread at 220 degrees for 35 minutes, then lower the oven to 190 degrees "
    "for another 10 minutes. Use 500 g of flour, 350 ml of water, 10 g of salt and 7 g of dry "
    "yeast. Let the dough rest for one hour before shaping it into a loaf.",
]


def levenshtein(a: str, b: str) -> int:
    """Edit distance between two strings (two-row dynamic programme)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(ref: str, hyp: str) -> float:
    """Character error rate of ``hyp`` against ``ref``."""
    return levenshtein(ref, hyp) / max(1, len(ref))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=3, help="known pages per resolution (max 3)")
    ap.add_argument("--dpi", type=int, nargs="+", default=[150, 300], help="resolutions")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ocr.json")
    args = ap.parse_args()

    import pymupdf

    from indexer.extract import ocr

    ocr.ocr_png(pymupdf.open().new_page().get_pixmap(dpi=30).tobytes("png"))  # load models
    results = []
    for dpi in args.dpi:
        per_page, seconds = [], 0.0
        for text in TEXT[: args.pages]:
            doc = pymupdf.open()
            page = doc.new_page()  # A4-ish letter page, 11 pt Times, like a printed letter
            page.insert_textbox(pymupdf.Rect(72, 72, 523, 770), text, fontsize=11, fontname="tiro")
            png = page.get_pixmap(dpi=dpi).tobytes("png")
            start = time.perf_counter()
            lines = ocr.ocr_png(png)
            seconds += time.perf_counter() - start
            hyp = " ".join(" ".join(lines).split())
            ref = " ".join(text.split())
            per_page.append(
                {
                    "cer": round(cer(ref, hyp), 4),
                    "cer_ignoring_spaces": round(
                        cer(ref.replace(" ", ""), hyp.replace(" ", "")), 4
                    ),
                    "recognised": hyp,
                }
            )
        n = len(per_page)
        results.append(
            {
                "dpi": dpi,
                "pages": n,
                "cer": round(sum(p["cer"] for p in per_page) / n, 4),
                "cer_ignoring_spaces": round(
                    sum(p["cer_ignoring_spaces"] for p in per_page) / n, 4
                ),
                "pages_per_s": round(n / seconds, 3),
                "per_page": per_page,
            }
        )
        print(
            f"{dpi} dpi: CER {results[-1]['cer']:.2%} "
            f"(ignoring spaces {results[-1]['cer_ignoring_spaces']:.2%}), "
            f"{results[-1]['pages_per_s']:.2f} pages/s"
        )
    out = {
        "engine": "rapidocr-onnxruntime 1.4.4 (PP-OCRv4 det + rec, ONNX Runtime, CPU)",
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
