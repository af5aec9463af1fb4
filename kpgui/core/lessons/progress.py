"""Where a learner is in the lessons: the steps done per lesson, kept in the settings as JSON.

Qt-free, so the rules (a damaged or hand-edited settings value is ignored, never fatal) are
tested without a window; kpgui.ui.controllers.lessons reads and writes the text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kpgui.core.lessons.files import MAX_STEPS, Lesson

MAX_LESSONS = 200  # remembered lessons (ids); a settings value longer than this is trimmed


@dataclass
class Progress:
    """Lesson id -> indexes of its steps whose task is done."""

    done: dict[str, set[int]] = field(default_factory=dict)

    def mark(self, lesson_id: str, step: int) -> None:
        self.done.setdefault(lesson_id, set()).add(int(step))

    def of(self, lesson_id: str) -> frozenset[int]:
        return frozenset(self.done.get(lesson_id, ()))

    def first_open(self, lesson: Lesson) -> int:
        """The first step not done yet (the last step when all are done)."""
        done = self.of(lesson.id)
        return next((i for i in range(len(lesson.steps)) if i not in done), len(lesson.steps) - 1)

    def to_text(self) -> str:
        return json.dumps({k: sorted(v) for k, v in self.done.items() if v}, sort_keys=True)

    @classmethod
    def from_text(cls, text: Any) -> Progress:
        """Read what to_text wrote; anything unreadable is left out (a fresh start, not an error)."""
        try:
            data = json.loads(str(text)) if text else {}
        except (ValueError, RecursionError):
            return cls()
        done: dict[str, set[int]] = {}
        if isinstance(data, dict):
            for key, steps in list(data.items())[:MAX_LESSONS]:
                if isinstance(key, str) and isinstance(steps, list):
                    done[key] = {
                        s
                        for s in steps
                        if isinstance(s, int) and not isinstance(s, bool) and 0 <= s < MAX_STEPS
                    }
        return cls(done)


@dataclass(frozen=True)
class LessonView:
    """What the Lessons tab shows: the lessons, the chosen one and step, what is done."""

    lessons: tuple[Lesson, ...]
    lesson: int
    step: int
    done: frozenset[int]

    @property
    def current(self) -> Lesson:
        return self.lessons[self.lesson]

    @property
    def task_done(self) -> bool:
        return self.step in self.done

    @property
    def has_next(self) -> bool:
        return self.step + 1 < len(self.current.steps)
