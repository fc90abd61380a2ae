"""Background work: a QgsTask running one engine call, with GeoMeld's Feedback bridged to QGIS."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from qgis.core import Qgis, QgsMessageLog, QgsProcessingFeedback, QgsTask

from ..model_core.errors import CancelledError, GeoMeldError, explain
from ..model_core.feedback import Feedback
from .i18n import tr

LOG_TAG = "GeoMeld"


def log_message(message: str, level: Qgis.MessageLevel = Qgis.Info) -> None:
    """Write a line to the GeoMeld tab of the QGIS log panel (safe from any thread)."""
    QgsMessageLog.logMessage(message, LOG_TAG, level)


def processing_feedback(feedback: QgsProcessingFeedback | None) -> Feedback:
    """A Feedback reporting to a Processing feedback (progress bar, cancel button, log)."""
    if feedback is None:
        return Feedback()
    return Feedback(feedback.setProgress, feedback.isCanceled, feedback.pushInfo)


def error_message(exc: BaseException) -> str:
    """One sentence for the user: GeoMeld's own message or the explanation of a file, GDAL or system error (the same
    sentence as on the command line), else, for a bug, a short generic one (the traceback goes to the log)."""
    if isinstance(exc, CancelledError):
        return tr("Cancelled by the user; no output was written.")
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        from .dependencies import install_hint

        return tr(
            "GeoMeld needs the Python package '{0}', which is not installed. Install GeoMeld's packages into the "
            "Python of this QGIS with: {1} (in QGIS desktop the GeoMeld panel offers to do it)."
        ).format(exc.name.split(".")[0], install_hint())
    message = explain(exc)
    if message is not None:
        return message
    log_message("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)), Qgis.Critical)
    return tr(
        "GeoMeld failed unexpectedly ({0}); this is a bug: please report it with the details in the GeoMeld log panel."
    ).format(f"{type(exc).__name__}: {exc}")


class EngineTask(QgsTask):
    """Runs `work(feedback)` in a worker thread; `on_success(result)` or `on_error(message)` then run in the GUI thread.

    Nothing is added to the project from the worker thread: the callbacks do that, and only after success.
    """

    def __init__(
        self,
        description: str,
        work: Callable[[Feedback], Any],
        on_success: Callable[[Any], None],
        on_error: Callable[[str], None],
    ) -> None:
        super().__init__(description, QgsTask.CanCancel)
        self.work = work
        self.on_success = on_success
        self.on_error = on_error
        self.result: Any = None
        self.error = ""

    def run(self) -> bool:
        """Worker thread: call the engine with progress and cancel bridged to this task."""
        feedback = Feedback(self.setProgress, self.isCanceled, log_message)
        try:
            self.result = self.work(feedback)
        except BaseException as exc:  # noqa: BLE001 - every failure becomes one message for the GUI thread
            self.error = error_message(exc)
            return False
        return True

    def finished(self, result: bool) -> None:
        """GUI thread: hand the result or the error message to the callbacks."""
        if result:
            self.on_success(self.result)
        else:
            self.on_error(self.error or tr("Cancelled by the user; no output was written."))


class AlgorithmTask(EngineTask):
    """Runs one GeoMeld Processing algorithm (by id, with file-path parameters) in the background.

    The dock uses this, so the panel and the Processing toolbox share one implementation of every capability.
    """

    def __init__(
        self,
        description: str,
        algorithm_id: str,
        parameters: dict[str, Any],
        on_success: Callable[[dict[str, Any]], None],
        on_error: Callable[[str], None],
    ) -> None:
        super().__init__(description, self._run_algorithm, on_success, on_error)
        self.algorithm_id = algorithm_id
        self.parameters = parameters
        self.processing_feedback = QgsProcessingFeedback()

    def cancel(self) -> None:
        """Cancel the task and the algorithm it runs."""
        self.processing_feedback.cancel()
        super().cancel()

    def _run_algorithm(self, feedback: Feedback) -> dict[str, Any]:
        from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingException

        algorithm = QgsApplication.processingRegistry().createAlgorithmById(self.algorithm_id)
        if algorithm is None:
            raise GeoMeldError(tr("The Processing algorithm {0} is not available.").format(self.algorithm_id))
        self.processing_feedback.progressChanged.connect(feedback.set_progress)
        context = QgsProcessingContext()
        try:
            results, ok = algorithm.run(self.parameters, context, self.processing_feedback, {}, False)
        except QgsProcessingException as exc:
            raise GeoMeldError(str(exc)) from None
        if not ok:
            raise GeoMeldError(tr("The GeoMeld algorithm {0} failed.").format(self.algorithm_id))
        return results
