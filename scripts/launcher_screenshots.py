"""Screenshots of the quick-search launcher for the README (under Xvfb, QT_QPA_PLATFORM=xcb).

    xvfb-run -s "-screen 0 1280x800x24" env QT_QPA_PLATFORM=xcb \
        .venv/bin/python scripts/launcher_screenshots.py docs/screenshots
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots").resolve()
    tmp = tempfile.mkdtemp(prefix="findling-shots-")
    os.environ["FINDLING_HOME"] = tmp
    from PySide6.QtWidgets import QApplication

    from app.engine import Engine
    from app.gui.main import make_app
    from app.gui.window import MainWindow
    from app.paths import app_paths
    from tests.conftest import make_docx, make_pdf

    docs = Path(tmp) / "Documents"
    make_pdf(
        docs / "Papers" / "solar-report.pdf",
        [
            "Annual Solar Report\n\nThe rooftop array produced 48 megawatt hours in 2023.",
            "Maintenance\n\nThe warranty on the inverters expires in March 2031. Replacement costs "
            "are estimated at 12,000 euros. Bird nests under the panels were removed twice.",
        ],
    )
    make_docx(
        docs / "house" / "contract.docx",
        [
            ("Installation contract", 1),
            (
                "The installer guarantees the inverters and panels for ten years; the warranty "
                "starts on the day of commissioning.",
                0,
            ),
        ],
    )
    (docs / "notes.md").write_text("# Garden\n\nPrune the apple trees in February.\n")
    app = make_app(sys.argv[:1])
    engine = Engine(app_paths())
    engine.settings.workers = 1
    engine.settings.ui["welcomed"] = True
    w = MainWindow(engine, use_tray=False)
    lz = w.launcher
    lz.hide_on_deactivate = False

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def until(cond, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
        end = time.monotonic() + timeout
        while not cond() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    synced: list[object] = []
    w.indexing.synced.connect(synced.append)
    w.folders.add_folder(str(docs))
    until(lambda: bool(synced))

    def shot(name: str) -> None:
        pump(0.4)
        lz.grab().save(str(out / name))
        print("wrote", out / name)

    lz.popup()
    shot("launcher-empty.png")
    lz.field.setText("inverter warr")
    lz.field.setCursorPosition(len(lz.field.text()))
    shot("launcher-typing.png")
    lz.field.setText("when does the inverter warranty expire")
    until(lambda: lz.model.rowCount() > 0, 30)
    shot("launcher-results.png")
    lz.field.setText("pdf: in:Papers after:2023-01 warranty")
    pump(0.5)
    until(lambda: lz.model.rowCount() > 0, 30)
    shot("launcher-prefix.png")
    lz.field.setText("When does the inverter warranty expire?")
    until(lambda: lz.model.rowCount() > 0, 30)
    pump(0.3)
    done: list[str] = []
    lz.answered.connect(done.append)
    lz.ask()
    until(lambda: bool(done), 240)
    shot("launcher-ask.png")
    w.shutdown()
    QApplication.quit()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
