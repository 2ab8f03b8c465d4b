"""Settings: confirmations, the refresh interval and the app-wide read-only role.

Turning read-only on takes effect at once; lifting it needs a confirmation (a support engineer's
session must not become a trader's by a stray click).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QMessageBox,
    QWidget,
)

from ..settings import MAX_REFRESH_S, MIN_REFRESH_S, UiSettings


class SettingsDialog(QDialog):
    applied = Signal()
    readOnlyChanged = Signal(bool)

    def __init__(
        self, settings: UiSettings, parent: QWidget | None = None, *, read_only: bool | None = None,
        read_only_locked: bool = False,
    ) -> None:
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
        self._read_only_before = bool(read_only)
        self.read_only = QCheckBox("Read-only: never send a cancel from this computer (support role)")
        self.read_only.setObjectName("appReadOnly")
        self.read_only.setChecked(bool(read_only))
        self.read_only.setToolTip("Also obeyed by the blotter command line. Lifting it asks for a confirmation.")
        if read_only_locked:
            self.read_only.setEnabled(False)
            self.read_only.setToolTip("Started with --read-only: restart without it to lift read-only")
        self._offers_read_only = read_only is not None
        self.read_only.setVisible(self._offers_read_only)
        form.addRow(self.read_only)
        self.lift_confirm: QMessageBox | None = None
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def accept(self) -> None:
        if self._offers_read_only and self._read_only_before and not self.read_only.isChecked():
            self._confirm_lift()
            return
        self._apply()

    def _confirm_lift(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Lift read-only", "Lift read-only and allow cancelling?",
                          QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("liftReadOnlyConfirm")
        box.setInformativeText("Cancel actions in this window and the blotter command line will send cancels to "
                               "the venues again. Connections and accounts that are read-only on their own stay so.")
        lift = box.addButton("Lift read-only", QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton("Keep read-only", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _r: self._lift_answered(box.clickedButton() is lift))
        self.lift_confirm = box
        box.open()

    def _lift_answered(self, lift: bool) -> None:
        self.lift_confirm = None
        if lift:
            self._apply()
        else:
            self.read_only.setChecked(True)

    def _apply(self) -> None:
        if self._offers_read_only and self.read_only.isChecked() != self._read_only_before:
            self.readOnlyChanged.emit(self.read_only.isChecked())
        self._settings.confirm_single_cancel = self.confirm_single.isChecked()
        self._settings.log_successful_reads = self.log_reads.isChecked()
        self._settings.refresh_interval_s = self.interval.value()
        self._settings.sync()
        super().accept()
        self.applied.emit()
