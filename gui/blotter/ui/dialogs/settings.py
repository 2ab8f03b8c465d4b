"""Settings: confirmations and the refresh interval."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QWidget,
)

from ..settings import MAX_REFRESH_S, MIN_REFRESH_S, UiSettings


class SettingsDialog(QDialog):
    applied = Signal()

    def __init__(self, settings: UiSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Blotter settings")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._settings = settings
        form = QFormLayout(self)
        self.confirm_single = QCheckBox("Ask before cancelling a single order")
        self.confirm_single.setObjectName("confirmSingle")
        self.confirm_single.setChecked(settings.confirm_single_cancel)
        form.addRow(self.confirm_single)
        self.log_reads = QCheckBox("Show successful reads in the status pane")
        self.log_reads.setObjectName("logReads")
        self.log_reads.setChecked(settings.log_successful_reads)
        form.addRow(self.log_reads)
        self.interval = QDoubleSpinBox()
        self.interval.setObjectName("refreshInterval")
        self.interval.setRange(MIN_REFRESH_S, MAX_REFRESH_S)
        self.interval.setDecimals(1)
        self.interval.setSuffix(" s")
        self.interval.setValue(settings.refresh_interval_s)
        form.addRow("Auto-refresh every:", self.interval)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def accept(self) -> None:
        self._settings.confirm_single_cancel = self.confirm_single.isChecked()
        self._settings.log_successful_reads = self.log_reads.isChecked()
        self._settings.refresh_interval_s = self.interval.value()
        self._settings.sync()
        super().accept()
        self.applied.emit()
