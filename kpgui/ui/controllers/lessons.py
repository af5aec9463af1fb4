"""Lessons: arranges the window for a step and notices when its "try this" task is done.

Applying a step opens its tab (`window.show_tab`), fills the training form with the step's
settings (`form.set_spec`), and frames the controls it talks about for a few seconds. A
`TaskWatch` (kpgui.core.lessons.checks, Qt-free) watches the state's events for the task; when
it is done the step is marked, the progress saved in the settings, and the next step offered.
Lesson files are read and checked by kpgui.core.lessons.files; a bad one is one dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from kpgui.core.lessons.checks import TaskWatch
from kpgui.core.lessons.files import KNOWN_TABS, Lesson, LessonError, builtin_lessons, load_lesson
from kpgui.core.lessons.progress import LessonView, Progress
from kpgui.ui import dialogs

LESSON_FILTER = "kpgui lessons (*.json);;All files (*)"
PROGRESS_KEY, WHERE_KEY = "lessons/progress", "lessons/where"
HIGHLIGHT_MS = 4000
# Only the widget with the property matches (a plain stylesheet would frame its children too).
HIGHLIGHT_STYLE = '*[lessonHighlight="true"] { border: 2px solid #ff9800; border-radius: 3px; }'


class LessonController(QObject):
    """`changed(LessonView)` fires whenever what the Lessons tab shows changes.

    `controls`: control name (kpgui.core.lessons.files.CONTROLS) -> its widget, for highlighting;
    `sample_count()`: how many samples are stored (None without a database)."""

    changed = Signal(object)

    def __init__(
        self,
        state: Any,
        window: Any,
        form: Any,
        controls: dict[str, QWidget],
        settings: Any,
        report_error: Callable[[str, str], None],
        sample_count: Callable[[], int | None] | None = None,
    ) -> None:
        super().__init__(window)
        self.state = state
        self.window = window
        self.form = form
        self.controls = controls
        self.settings = settings
        self.report_error = report_error
        self.sample_count = sample_count
        self.lessons: list[Lesson] = builtin_lessons()
        self.progress = Progress.from_text(settings.value(PROGRESS_KEY, "") if settings else "")
        self.lesson = 0
        self.step = self.progress.first_open(self.lessons[0])
        self.watch: TaskWatch | None = None
        self.highlighted: dict[str, str] = {}  # control name -> its stylesheet before
        self._unhighlight = QTimer(self)
        self._unhighlight.setSingleShot(True)
        self._unhighlight.timeout.connect(self.clear_highlight)
        self._restore_where()

    # -- what the tab shows ----------------------------------------------------------------------

    def view(self) -> LessonView:
        current = self.lessons[self.lesson]
        return LessonView(tuple(self.lessons), self.lesson, self.step, self.progress.of(current.id))

    def _changed(self) -> None:
        self.changed.emit(self.view())

    # -- the person's choices -----------------------------------------------------------------------

    def choose_lesson(self, index: int) -> None:
        if not 0 <= index < len(self.lessons):
            return
        self.lesson = index
        self.choose_step(self.progress.first_open(self.lessons[index]))

    def choose_step(self, index: int) -> None:
        """Show step `index` and arrange the window for it."""
        steps = self.lessons[self.lesson].steps
        if not 0 <= index < len(steps):
            return
        self.step = index
        self._save_where()
        self.apply_step()

    def next_step(self) -> None:
        self.choose_step(self.step + 1)

    def apply_step(self) -> None:
        """Open the step's tab, fill the form, frame its controls, and watch for its task."""
        step = self.lessons[self.lesson].steps[self.step]
        spec = step.spec()
        if spec is not None:
            self.form.set_spec(spec)
        if step.tab:
            if step.tab in self.window.tab_titles():
                self.window.show_tab(step.tab)
            else:
                self.state.say(f"This step shows the {step.tab} tab, which this kpgui does not have.")
        self.highlight(step.highlight)
        self._watch()
        self._changed()

    def _watch(self) -> None:
        if self.watch is not None:
            self.watch.close()
            self.watch = None
        lesson, index = self.lessons[self.lesson], self.step
        task = lesson.steps[index].task
        if index in self.progress.of(lesson.id):
            return
        if task is None:  # a step to read: done once shown
            self._mark(lesson, index)
            return
        self.watch = TaskWatch(
            self.state, task, lambda: self._task_done(lesson, index), sample_count=self.sample_count
        )

    def _mark(self, lesson: Lesson, index: int) -> None:
        self.progress.mark(lesson.id, index)
        if self.settings is not None:
            self.settings.setValue(PROGRESS_KEY, self.progress.to_text())

    def _task_done(self, lesson: Lesson, index: int) -> None:
        self._mark(lesson, index)
        step = lesson.steps[index]
        more = index + 1 < len(lesson.steps)
        self.state.say(
            f"Lesson step done: {step.title}."
            + (" The next step is in the Lessons tab." if more else " That was the last step."),
            10000,
        )
        self._changed()

    # -- highlighting ------------------------------------------------------------------------------

    def highlight(self, names: tuple[str, ...]) -> None:
        """Frame these controls for HIGHLIGHT_MS (the frame of the step before is removed)."""
        self.clear_highlight()
        for name in names:
            widget = self.controls.get(name)
            if widget is None:
                continue
            self.highlighted[name] = widget.styleSheet()
            widget.setProperty("lessonHighlight", True)
            widget.setStyleSheet(f"{widget.styleSheet()} {HIGHLIGHT_STYLE}".strip())
        if self.highlighted:
            self._unhighlight.start(HIGHLIGHT_MS)

    def clear_highlight(self) -> None:
        for name, before in self.highlighted.items():
            self.controls[name].setProperty("lessonHighlight", False)
            self.controls[name].setStyleSheet(before)
        self.highlighted = {}

    # -- lesson files ------------------------------------------------------------------------------

    def open_file(self, path: str | None = None) -> bool:
        """Read a lesson file (asking for it when `path` is None) and start it; a bad file is one
        dialog naming the place and the problem, and nothing changes."""
        path = path or dialogs.ask_open_path(self.window, "Open lesson", LESSON_FILTER)
        if not path:
            return False
        tabs = tuple(dict.fromkeys((*self.window.tab_titles(), *KNOWN_TABS)))
        try:
            lesson = load_lesson(path, tabs=tabs)
        except LessonError as exc:
            self.report_error("Cannot open the lesson", f"{exc}\n\nNo lesson was opened.")
            return False
        ids = [item.id for item in self.lessons]
        if lesson.id in ids:
            self.lessons[ids.index(lesson.id)] = lesson
        else:
            self.lessons.append(lesson)
        self.lesson = self.lessons.index(lesson)
        self.window.show_tab("Lessons")
        self.choose_step(self.progress.first_open(lesson))
        self.state.say(f"Opened the lesson “{lesson.title}” ({len(lesson.steps)} steps).", 8000)
        return True

    # -- where the learner was ---------------------------------------------------------------------

    def _save_where(self) -> None:
        if self.settings is not None:
            self.settings.setValue(WHERE_KEY, f"{self.lessons[self.lesson].id}:{self.step}")

    def _restore_where(self) -> None:
        """Come back to the built-in lesson's step the learner was at (opened files are not
        re-read at start-up: the file may have moved)."""
        text = str(self.settings.value(WHERE_KEY, "") or "") if self.settings is not None else ""
        lesson_id, _, step = text.rpartition(":")
        for i, lesson in enumerate(self.lessons):
            if lesson.id == lesson_id and step.isdigit() and int(step) < len(lesson.steps):
                self.lesson, self.step = i, int(step)
        self._watch()  # the task of the step the learner was at still counts; the window is theirs
        self._changed()
