"""PyInstaller entry point of the ``findling`` command-line tool (``app.cli:main``)."""

import multiprocessing
import sys

if __name__ == "__main__":
    # Extraction runs in "spawn" worker processes; in a frozen build each worker re-runs this
    # executable, and freeze_support() turns it into the worker instead of the CLI.
    multiprocessing.freeze_support()

    from app.cli import main

    sys.exit(main())
