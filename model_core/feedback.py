"""Progress and cancel for long operations, independent of QGIS (the plugin adapts QgsTask/QgsProcessingFeedback)."""

from __future__ import annotations

from collections.abc import Callable

from .errors import CancelledError


class Feedback:
    """Reports progress (0-100) and messages, and tells a long loop when the user cancelled.

    Engine functions call `check_cancelled()` between tiles and `set_progress()` after each; the default
    instance does nothing, so the CLI and tests can pass None.
    """

    def __init__(
        self,
        progress: Callable[[float], None] | None = None,
        is_cancelled: Callable[[], bool] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self._progress = progress
        self._is_cancelled = is_cancelled
        self._log = log

    def set_progress(self, percent: float) -> None:
        """Report progress in percent."""
        if self._progress is not None:
            self._progress(max(0.0, min(100.0, float(percent))))

    def info(self, message: str) -> None:
        """Report a line of text to the user."""
        if self._log is not None:
            self._log(message)

    def cancelled(self) -> bool:
        """True once the user asked to cancel."""
        return bool(self._is_cancelled and self._is_cancelled())

    def check_cancelled(self) -> None:
        """Raise CancelledError when the user asked to cancel (callers then remove partial output)."""
        if self.cancelled():
            raise CancelledError("Cancelled by the user; no output was written.")

    def scaled(self, start: float, end: float) -> Feedback:
        """A Feedback whose 0-100 maps onto start-end of this one (for a step of a longer job)."""
        return Feedback(
            lambda percent: self.set_progress(start + (end - start) * percent / 100.0),
            self._is_cancelled,
            self._log,
        )


def ensure_feedback(feedback: Feedback | None) -> Feedback:
    """The given feedback, or a silent one."""
    return feedback if feedback is not None else Feedback()
