"""The parameter panel: one row per engine parameter, grouped as in the preset.

A number row shows the pinned value the preview uses (a slider with its value box) and,
below it, the random range the export draws from (a range slider). Collapsing the range to
one value makes the parameter fixed; a fixed value follows the pinned value, whatever changed
it (:mod:`studio.gui.row_state`). A pinned value outside its range is said under the row, with
a button that widens the range to include it. Invalid values are refused with the engine's
message under the row. The wheel scrolls the panel; it changes a value only when that value's
widget has the focus (:mod:`studio.gui.wheel_guard`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QCollapsible, QLabeledDoubleRangeSlider, QLabeledDoubleSlider

from studio.core.model.errors import StudioError
from studio.gui import parameters as P
from studio.gui.document import StudioDocument
from studio.gui.row_state import Tuning, changed_rows, row_state
from studio.gui.wheel_guard import WheelGuard
from studio.gui.wording import hinted


class ParamRow:
    """The widgets of one parameter and their sync with the document."""

    def __init__(self, doc: StudioDocument, param: P.Param, grid: QGridLayout, row: int) -> None:
        self.doc, self.param = doc, param
        self.pinned_widget: Any = None
        self.range_widget: QLabeledDoubleRangeSlider | None = None
        self.range_label: QLabel | None = None
        self.value_widget: Any = None
        self.outside: QLabel | None = None  #: the pinned value outside the range, said
        self.widen_button: QToolButton | None = None
        self.outside_line: QWidget | None = None
        label = QLabel(param.label)
        label.setToolTip(param.tooltip)
        grid.addWidget(label, row, 0, Qt.AlignmentFlag.AlignTop)
        step = 10.0**-param.decimals if param.decimals else 1.0
        if param.kind == "num":
            if param.pinned is not None:
                slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
                slider.setRange(param.lo, param.hi)
                slider.setDecimals(param.decimals)
                slider.setSingleStep(step)
                slider.setToolTip(f"{param.tooltip}\nPinned value: what the preview shows.")
                slider.valueChanged.connect(self._pinned_changed)
                self.pinned_widget = slider
                grid.addWidget(slider, row, 1, 1, 2)
                row += 1
            rng = QLabeledDoubleRangeSlider(Qt.Orientation.Horizontal)
            rng.setRange(param.lo, param.hi)
            rng.setDecimals(param.decimals)
            rng.setSingleStep(step)
            rng.setHandleLabelPosition(QLabeledDoubleRangeSlider.LabelPosition.NoLabel)
            rng.setEdgeLabelMode(QLabeledDoubleRangeSlider.EdgeLabelMode.NoLabel)
            rng.setToolTip(f"{param.tooltip}\nRandom range used by the export (one value = fixed).")
            rng.valueChanged.connect(self._range_changed)
            self.range_widget = rng
            self.range_label = QLabel()
            self.range_label.setObjectName("rangeLabel")
            self.range_label.setMinimumWidth(86)
            self.range_label.setAlignment(
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            )
            if param.pinned is None:
                grid.addWidget(rng, row, 1)
            else:
                hint = QLabel("range")
                hint.setObjectName("hint")
                grid.addWidget(hint, row, 0, Qt.AlignmentFlag.AlignRight)
                grid.addWidget(rng, row, 1)
            grid.addWidget(self.range_label, row, 2)
            if param.pinned is not None:
                row = self._outside_row(grid, row + 1)
        else:
            widget: Any
            if param.kind == "bool":
                widget = QCheckBox()
                widget.toggled.connect(self._value_changed)
            elif param.kind == "choice":
                widget = QComboBox()
                for choice in param.choices:
                    widget.addItem("(occluder's own)" if choice is None else str(choice), choice)
                widget.currentIndexChanged.connect(
                    lambda i, w=widget: self._value_changed(w.itemData(i))
                )
            elif param.kind == "int":
                widget = QSpinBox()
                widget.setRange(int(param.lo), int(param.hi))
                widget.valueChanged.connect(self._value_changed)
            else:
                widget = QDoubleSpinBox()
                widget.setRange(param.lo, param.hi)
                widget.setDecimals(param.decimals if param.kind == "float" else 2)
                widget.setSingleStep(0.05 if param.kind == "prob" else step)
                widget.valueChanged.connect(self._value_changed)
            widget.setToolTip(param.tooltip)
            self.value_widget = widget
            grid.addWidget(widget, row, 1, 1, 2)
        row += 1
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        grid.addWidget(self.error, row, 0, 1, 3)
        self.next_row = row + 1
        self._shown: tuple = ()

    def _outside_row(self, grid: QGridLayout, row: int) -> int:
        """The line that says when the pinned value lies outside the range, and widens it."""
        line = QWidget()
        box = QHBoxLayout(line)
        box.setContentsMargins(0, 0, 0, 0)
        self.outside = QLabel()
        self.outside.setObjectName("outside")
        self.outside.setWordWrap(True)
        box.addWidget(self.outside, 1)
        self.widen_button = QToolButton()
        self.widen_button.setText("Widen range")
        self.widen_button.setToolTip("Widen the exported range to include the pinned value")
        self.widen_button.clicked.connect(lambda: self._apply(lambda: self.doc.widen(self.param)))
        box.addWidget(self.widen_button, 0, Qt.AlignmentFlag.AlignTop)
        line.hide()
        self.outside_line = line
        grid.addWidget(line, row, 0, 1, 3)
        return row

    # ---- edits from the widgets ---------------------------------------------------------------
    def _pinned_changed(self, value: float) -> None:
        self._apply(lambda: self.doc.set_pinned(self.param, value))

    def _range_changed(self, value: tuple[float, float]) -> None:
        self._apply(lambda: self.doc.set_spec(self.param, (value[0], value[1])))

    def _value_changed(self, value: Any) -> None:
        self._apply(lambda: self.doc.set_spec(self.param, value))

    def _apply(self, edit) -> None:
        try:
            edit()
        except StudioError as err:
            self.show_error(hinted(err.reason, err.hint))
            self.refresh(force=True)
        else:
            self.error.hide()

    def show_error(self, text: str) -> None:
        self.error.setText(f"⚠ {text}")
        self.error.show()

    # ---- document -> widgets --------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        preset, params = self.doc.preset, self.doc.params
        value = P.spec_value(preset, self.param)
        pinned = P.pinned_value(params, self.param)
        state = (value, pinned, preset.rotation.point_at_face)
        if state == self._shown and not force:
            return
        self._shown = state
        if self.param.kind == "num":
            extra = [] if pinned is None else [float(pinned)]
            self._widen(*P.spec_bounds(preset, self.param), *extra)
        if self.outside is not None:
            says = row_state(preset, params, self.param)
            self.outside.setText(f"{'⚠' if says.widen_to else 'ℹ'} {says.text}")
            self.widen_button.setVisible(says.widen_to is not None)
            self.outside_line.setVisible(bool(says.text))
        if self.pinned_widget is not None and pinned is not None:
            with QSignalBlocker(self.pinned_widget):
                self.pinned_widget.setValue(float(pinned))
        if self.pinned_widget is not None:
            self.pinned_widget.setEnabled(pinned is not None)
        if self.range_widget is not None:
            lo, hi = P.spec_bounds(preset, self.param)
            with QSignalBlocker(self.range_widget):
                self.range_widget.setValue((lo, hi))
            fmt = f"{{:.{self.param.decimals}f}}"
            text = fmt.format(lo) if lo == hi else f"{fmt.format(lo)} – {fmt.format(hi)}"
            self.range_label.setText(text)
        w = self.value_widget
        if w is None:
            return
        with QSignalBlocker(w):
            if isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QComboBox):
                w.setCurrentIndex(max(0, w.findData(value)))
            elif isinstance(w, QSpinBox):
                w.setValue(int(value))
            else:
                w.setValue(float(value))


    def _widen(self, *values: float) -> None:
        """Sliders start on the useful part of a parameter's bounds; a value beyond it (a
        preset's own) widens them, never past the bounds the spec accepts."""
        limits = self.param.limits or (self.param.lo, self.param.hi)
        for widget in (self.pinned_widget, self.range_widget):
            if widget is None:
                continue
            lo, hi = widget.minimum(), widget.maximum()
            want_lo = max(limits[0], min(lo, *values))
            want_hi = min(limits[1], max(hi, *values))
            if (want_lo, want_hi) != (lo, hi):
                with QSignalBlocker(widget):
                    widget.setRange(want_lo, want_hi)


class ParameterPanel(QScrollArea):
    """All rows in collapsible groups."""

    def __init__(self, doc: StudioDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.rows: dict[str, ParamRow] = {}
        self.sections: dict[str, QCollapsible] = {}
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        for group, params in P.groups():
            section = QCollapsible(group)
            inner = QWidget()
            grid = QGridLayout(inner)
            grid.setContentsMargins(6, 0, 2, 4)
            grid.setHorizontalSpacing(8)
            grid.setVerticalSpacing(3)
            grid.setColumnStretch(1, 1)
            row = 0
            for param in params:
                self.rows[param.key] = ParamRow(doc, param, grid, row)
                row = self.rows[param.key].next_row
            section.addWidget(inner)
            if group in P.OPEN_GROUPS:
                section.expand(animate=False)
            else:
                section.collapse(animate=False)
            self.sections[group] = section
            layout.addWidget(section)
        layout.addStretch(1)
        self.setWidget(body)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(360)
        self.wheel_guard = WheelGuard(self)
        self.wheel_guard.guard(body)
        self._shown: Tuning | None = None  #: the (preset, params) the rows show
        doc.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Show the document's values: only the rows whose part of the preset or params
        changed are looked at (a slider drag changes one part)."""
        now = (self.doc.preset, self.doc.params)
        for param in changed_rows(self._shown, now):
            self.rows[param.key].refresh()
        self._shown = now
