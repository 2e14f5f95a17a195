"""Findling's front ends (Qt desktop app, command line) and their wiring to the engine."""

__version__ = "0.1.0"
