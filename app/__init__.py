"""Findling's front ends (Qt desktop app, command line) and their wiring to the engine."""

# First, so that no front end loads PyMuPDF's layout add-on (see indexer/__init__.py).
import indexer  # noqa: F401

__version__ = "0.1.0"
