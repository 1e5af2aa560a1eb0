"""The errors every front end reports: the core refused an option, or processing failed.

Below pipeline.py, cluster.py and the CLI, so each can raise and catch them without importing another.
"""

from __future__ import annotations

__all__ = ["ReframeError", "OptionError"]


class ReframeError(RuntimeError):
    """Processing failed (unreadable input, model problem, encoder error); the message says what and where."""


class OptionError(ValueError):
    """An option value the core refuses; the message names the option and what is allowed."""

