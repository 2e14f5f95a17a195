"""PyInstaller entry point of the Findling desktop app (``app.gui.main:main``)."""

import multiprocessing
import sys

if __name__ == "__main__":
    # Extraction runs in "spawn" worker processes; in a frozen build each worker re-runs this
    # executable, and freeze_support() turns it into the worker instead of a second window.
    multiprocessing.freeze_support()

    from app.gui.main import main

    sys.exit(main())
