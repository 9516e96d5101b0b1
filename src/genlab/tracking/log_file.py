"""The job's log file (Hydra's ``train.log``) gets a command's lines only once the command has
work to do in the run dir, so a no-op or refused resume leaves the file as it was."""

from __future__ import annotations

import logging
from types import TracebackType


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class LogFileHeldBack:
    """Within the ``with`` block, the root logger's file handlers are set aside and their lines
    kept in memory (the console still shows them at once); at its end they are written to the
    files if :meth:`keep` was called, else dropped."""

    def __init__(self) -> None:
        self._files: list[logging.FileHandler] = []
        self._records = _Records()
        self._keep = False

    def keep(self) -> None:
        """The command has work to do: its lines so far belong in the log file."""
        self._keep = True

    def __enter__(self) -> LogFileHeldBack:
        root = logging.getLogger()
        self._files = [h for h in root.handlers if isinstance(h, logging.FileHandler)]
        for handler in self._files:
            root.removeHandler(handler)
        root.addHandler(self._records)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        root = logging.getLogger()
        root.removeHandler(self._records)
        for handler in self._files:
            root.addHandler(handler)
            if self._keep:
                for record in self._records.records:
                    if record.levelno >= handler.level:
                        handler.handle(record)
