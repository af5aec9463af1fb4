"""Search many settings at once (Optuna), beside the sweep: ranges, Start/Stop, the trials as they
come in (also from other machines sharing the study), the best-so-far curve, and the best trial
offered as a candidate. The panel renders what the search controller hands it and emits intents.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from kpgui.core.model.options import BY_NAME
from kpgui.core.training.search import DEFAULT_WORKERS
from kpgui.core.training.search import OBJECTIVE_TEXT as OBJECTIVES

# the options a search offers in the window, with an example range each (the CLI takes any option)
FIELDS = (
    ("learning_rate", "1e-4..1e-1:log"),
    ("hidden", "64/128/256,256"),
    ("dropout", "0..0.5"),
    ("optimizer", "adam/rmsprop/sgd"),
    ("batch_size", "32/64/128"),
    ("epochs", "2..6"),
)
COLUMNS = ["Trial", "State", "Epoch", "Metric", "Values"]


def best_so_far(rows: list[dict], objective: str) -> list[tuple[int, float]]:
    """(trial, best value among the finished trials up to it), in trial order."""
    better = min if objective == "val_loss" else max
    out, best = [], None
    for r in sorted(rows, key=lambda r: r["trial"]):
        v = r.get("value")
        if r["state"] != "finished" or v is None or not math.isfinite(v):
            continue
        best = v if best is None else better(best, v)
        out.append((r["trial"], best))
    return out


class SearchPanel(QGroupBox):
    """Intents: `start_requested(ranges {option: text}, settings {trials, workers, objective,
    sampler})`, `stop_requested()`, `best_requested()` (offer the best trial as a candidate)."""

    start_requested = Signal(dict, dict)
    stop_requested = Signal()
    best_requested = Signal()
    watch_requested = Signal(str, str)  # storage ("" = this computer's), study name

    def __init__(self, parent=None) -> None:
        super().__init__("Search many settings (Optuna)", parent)
        self.edits: dict[str, QLineEdit] = {}
        form = QFormLayout()
        for name, example in FIELDS:
            edit = QLineEdit()
            edit.setPlaceholderText(f"e.g. {example}   (empty: the form's value)")
            edit.setToolTip(
                "a..b: a number between a and b (:log for log-uniform); a/b/c: one of "
                "the choices; hidden layers: each choice a list, e.g. 64/128,128"
            )
            self.edits[name] = edit
            form.addRow(BY_NAME[name].label, edit)
        self.trials = QSpinBox()
        self.trials.setRange(1, 1000)
        self.trials.setValue(20)
        self.workers = QSpinBox()
        self.workers.setRange(1, 16)
        self.workers.setValue(DEFAULT_WORKERS)  # measured: kpgui.core.training.search
        self.objective = QComboBox()
        for key, text in OBJECTIVES.items():
            self.objective.addItem(text, key)
        self.sampler = QComboBox()
        for key, text in (
            ("tpe", "TPE (learns from earlier trials)"),
            ("random", "random"),
            ("grid", "grid (every combination)"),
        ):
            self.sampler.addItem(text, key)
        settings = QHBoxLayout()
        for label, widget in (
            ("Trials", self.trials),
            ("Workers", self.workers),
            ("Best =", self.objective),
            ("Sampler", self.sampler),
        ):
            settings.addWidget(QLabel(label))
            settings.addWidget(widget)
        settings.addStretch(1)
        self.storage_edit = QLineEdit()
        self.storage_edit.setPlaceholderText("this computer (a journal file in kpgui's data folder)")
        self.storage_edit.setToolTip(
            "Where the study lives: a journal file on a shared disk, or a "
            "database URL such as postgresql://user:pw@host/db, shared with "
            "other machines running kpgui search --join"
        )
        self.study_edit = QLineEdit()
        self.study_edit.setPlaceholderText("a study's name, to watch one started elsewhere")
        self.watch_button = QPushButton("Watch")
        self.watch_button.setToolTip("Show the trials of this study as they come, from any machine")
        self.watch_button.clicked.connect(
            lambda: self.watch_requested.emit(
                self.storage_edit.text().strip(), self.study_edit.text().strip()
            )
        )
        shared = QHBoxLayout()
        shared.addWidget(QLabel("Storage"))
        shared.addWidget(self.storage_edit, 2)
        shared.addWidget(QLabel("Study"))
        shared.addWidget(self.study_edit, 1)
        shared.addWidget(self.watch_button)
        self.start_button = QPushButton("Start search")
        self.start_button.clicked.connect(self._request)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop_requested.emit)
        self.best_button = QPushButton("Try the best trial")
        self.best_button.setToolTip("Load the best trial's model as a candidate beside the current one")
        self.best_button.clicked.connect(self.best_requested.emit)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.stop_button, self.best_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(120)
        self.curve_plot = pg.PlotWidget()
        self.curve_plot.setMinimumHeight(120)
        self.curve_plot.setLabel("bottom", "trial")
        self.curve = self.curve_plot.plot([], [], pen=pg.mkPen(width=2), symbol="o", symbolSize=5)
        # each trial's metric against one of its values: finished trials filled, pruned hollow grey
        self.param_combo = QComboBox()
        self.param_combo.setToolTip("The value on the horizontal axis of the plot beside")
        self.param_combo.currentIndexChanged.connect(lambda _i: self._draw_scatter())
        self.scatter_plot = pg.PlotWidget()
        self.scatter_plot.setMinimumHeight(120)
        self.scatter = pg.ScatterPlotItem(size=8)
        self.scatter_plot.addItem(self.scatter)
        self._rows: list[dict] = []
        self._objective = "val_loss"
        self.status = QLabel(
            "Give ranges for some options; every other setting comes from the form. "
            "Each trial is a run in History; trials behind the median after an epoch "
            "are stopped early (pruned)."
        )
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(settings)
        layout.addLayout(shared)
        layout.addLayout(buttons)
        layout.addWidget(self.table)
        plots = QHBoxLayout()
        plots.addWidget(self.curve_plot, 1)
        scatter_box = QVBoxLayout()
        scatter_row = QHBoxLayout()
        scatter_row.addWidget(QLabel("Metric against"))
        scatter_row.addWidget(self.param_combo, 1)
        scatter_box.addLayout(scatter_row)
        scatter_box.addWidget(self.scatter_plot)
        plots.addLayout(scatter_box, 1)
        layout.addLayout(plots)
        layout.addWidget(self.status)
        self.set_running(False)
        self.best_button.setEnabled(False)

    def ranges(self) -> dict[str, str]:
        return {name: e.text().strip() for name, e in self.edits.items() if e.text().strip()}

    def settings(self) -> dict:
        return {
            "trials": self.trials.value(),
            "workers": self.workers.value(),
            "objective": self.objective.currentData(),
            "sampler": self.sampler.currentData(),
            "storage": self.storage_edit.text().strip(),
        }

    def show_study(self, name: str) -> None:
        self.study_edit.setText(name)

    def _request(self) -> None:
        self.start_requested.emit(self.ranges(), self.settings())

    def set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def show_trials(self, rows: list[dict], objective: str, best: dict | None) -> None:
        """The study's trials (the controller reads them from the storage off the GUI thread)."""
        metric_name = "val loss" if objective == "val_loss" else "val acc."
        self.table.setHorizontalHeaderItem(3, QTableWidgetItem(metric_name))
        self.table.setRowCount(len(rows))
        from kpgui.core.training.search import params_text

        for i, r in enumerate(sorted(rows, key=lambda r: r["trial"])):
            metric = r["value"] if r["value"] is not None else r["metric"]
            is_best = best is not None and r["trial"] == best["trial"]
            cells = [
                f"#{r['trial']}" + (" ★" if is_best else ""),
                r["state"],
                "" if r["epoch"] is None else str(r["epoch"]),
                "" if metric is None else f"{metric:.4f}",
                params_text(r["params"]),
            ]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if r["state"] in ("pruned", "failed"):
                    item.setForeground(QBrush(QColor("#888888")))
                if is_best:
                    font = QFont()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(i, j, item)
        points = best_so_far(rows, objective)
        self.curve_plot.setLabel("left", f"best {metric_name} so far")
        self.curve.setData([p[0] for p in points], [p[1] for p in points])
        self.best_button.setEnabled(best is not None and bool(best.get("model_path")))
        self._rows, self._objective = rows, objective
        names = sorted({n for r in rows for n in r["params"]})
        if names != [self.param_combo.itemData(i) for i in range(self.param_combo.count())]:
            current = self.param_combo.currentData()
            self.param_combo.blockSignals(True)
            self.param_combo.clear()
            for n in names:
                self.param_combo.addItem(BY_NAME[n].label if n in BY_NAME else n, n)
            self.param_combo.setCurrentIndex(max(0, self.param_combo.findData(current)))
            self.param_combo.blockSignals(False)
        self._draw_scatter()
        if best is not None:
            self.set_status(
                f"Best so far: trial #{best['trial']} ({OBJECTIVES[objective]}: "
                f"{best['value']:.4f}). {sum(r['state'] == 'pruned' for r in rows)} pruned, "
                f"{sum(r['state'] == 'running' for r in rows)} running."
            )

    def _draw_scatter(self) -> None:
        """The trials' metric (final value, or the last epoch's for pruned/running ones) against
        the chosen value; choices (text, layer lists) sit at 0, 1, 2, … labelled below."""
        name = self.param_combo.currentData()
        points = scatter_points(self._rows, name) if name else ([], [], [], [])
        xs, ys, done, ticks = points
        brushes = [pg.mkBrush("#1f77b4") if d else pg.mkBrush(None) for d in done]
        pens = [pg.mkPen("#1f77b4") if d else pg.mkPen("#888888") for d in done]
        self.scatter.setData(x=xs, y=ys, brush=brushes, pen=pens)
        axis = self.scatter_plot.getAxis("bottom")
        axis.setTicks([ticks] if ticks else None)
        is_log = name == "learning_rate"
        self.scatter_plot.setLogMode(x=is_log, y=False)
        metric = "val loss" if self._objective == "val_loss" else "val acc."
        self.scatter_plot.setLabel("left", metric)


def scatter_points(rows: list[dict], name: str) -> tuple[list[float], list[float], list[bool], list]:
    """(x, y, finished?, ticks) of each trial with a metric: numbers as they are, choices by their
    position in sorted order (ticks name them)."""
    have = [
        r
        for r in rows
        if name in r["params"] and (r["value"] if r["value"] is not None else r["metric"]) is not None
    ]
    values = [r["params"][name] for r in have]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    labels = [] if numeric else sorted({str(v) for v in values})
    xs = [float(v) if numeric else float(labels.index(str(v))) for v in values]
    ys = [float(r["value"] if r["value"] is not None else r["metric"]) for r in have]
    done = [r["state"] == "finished" for r in have]
    return xs, ys, done, [(i, t) for i, t in enumerate(labels)]
