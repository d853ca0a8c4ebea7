"""What the command line prints: argparse's complaints and refused commands as one coded
line (said in Chinese with ``--lang zh``), and strict JSON on stdout."""

from __future__ import annotations

import errno
import json
import math
import os
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gridplan.errors import InputError
from gridplan.i18n import Lang, error_text, t

# --- what a failed command prints --------------------------------------------------------

#: argparse's messages (Python 3.11-3.13 wording) and the code of each; the groups are params.
_USAGE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (code, re.compile(pattern))
    for code, pattern in (
        ("cli.usage.required", r"the following arguments are required: (?P<args>.+)"),
        ("cli.usage.not_number", r"argument (?P<option>[^:]+): invalid float value: (?P<value>.*)"),
        ("cli.usage.not_integer", r"argument (?P<option>[^:]+): invalid int value: (?P<value>.*)"),
        (
            "cli.usage.invalid_choice",
            r"argument (?P<option>[^:]+): invalid choice: (?P<value>.*?) "
            r"\(choose from (?P<choices>.*)\)",
        ),
        ("cli.usage.expected_value", r"argument (?P<option>[^:]+): expected one argument"),
        (
            "cli.usage.not_allowed",
            r"argument (?P<option>[^:]+): not allowed with argument (?P<other>.+)",
        ),
        ("cli.usage.one_required", r"one of the arguments (?P<args>.+) is required"),
        ("cli.usage.unrecognized", r"unrecognized arguments: (?P<args>.+)"),
        ("cli.usage.ambiguous", r"ambiguous option: (?P<option>\S+) could match (?P<args>.+)"),
    )
)  # fmt: skip
#: Longest piece of the command line a message quotes.
_QUOTED_CHARS = 80


def _quoted(text: str) -> str:
    """A piece of the command line as a message quotes it: one line, not too long, no quotes."""
    text = " ".join(text.split()).replace("'", "").replace('"', "")  # argparse's repr quotes
    return text if len(text) <= _QUOTED_CHARS else text[: _QUOTED_CHARS - 1] + "…"


def _usage_error(message: str) -> InputError:
    """argparse's complaint as a coded error (``cli.usage.*``), so it can be said in Chinese."""
    for code, pattern in _USAGE_PATTERNS:
        m = pattern.fullmatch(message.strip())
        if m is not None:
            params = {k: _quoted(v) for k, v in m.groupdict().items()}
            return InputError(f"{message}; see gridplan --help", code=code, params=params)
    return InputError(
        f"{message}; see gridplan --help",
        code="cli.usage.other",
        params={"detail": _quoted(message)},
    )


#: OS errors a planner can act on, by errno; others are ``cli.file_error``.
_OS_ERRORS = {
    errno.ENOENT: "cli.file_not_found",
    errno.EACCES: "cli.file_permission",
    errno.EPERM: "cli.file_permission",
    errno.EISDIR: "cli.file_is_folder",
    errno.ENOSPC: "cli.disk_full",
    errno.ENAMETOOLONG: "cli.file_name_too_long",
}


def _os_error(exc: OSError) -> InputError:
    """A file the command could not read or write, named without its folder."""
    name = Path(str(exc.filename)).name if exc.filename else "?"
    code = _OS_ERRORS.get(exc.errno or 0, "cli.file_error")
    kind = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    return InputError(
        f"cannot read or write {name} ({kind})",
        code=code,
        params={"filename": name, "kind": kind},
    )


#: An absolute path's folders (POSIX or Windows): a message keeps only the file name.
_FOLDERS = re.compile(r"(?<![\w.~])(?:[A-Za-z]:)?[/\\](?:[^\s/\\'\"]+[/\\])+")


def _without_folders(text: str) -> str:
    """``text`` with every absolute path cut to its file name: server folders stay private."""
    return _FOLDERS.sub("", text)


def _fail(exc: BaseException, lang: Lang) -> int:
    """Print the one-line message of a refused command (exit code 2)."""
    if isinstance(exc, OSError):
        exc = _os_error(exc)
    # English: the error's own message, as scripts expect; Chinese: the catalogue's text
    text = str(exc) if lang == "en" else error_text(exc, lang)
    print(f"gridplan: error: {_without_folders(' '.join(text.split()))}", file=sys.stderr)
    return 2


def _internal(exc: BaseException, lang: Lang) -> int:
    """Print one line for a failure of GridPlan itself (exit code 1); the traceback with
    ``GRIDPLAN_DEBUG=1``."""
    if os.environ.get("GRIDPLAN_DEBUG") == "1":
        traceback.print_exception(exc)
    code = "cli.out_of_memory" if isinstance(exc, MemoryError) else "cli.internal"
    text = t(code, lang, kind=type(exc).__name__)
    print(f"gridplan: error: {text}", file=sys.stderr)
    return 1


def _argv_lang(argv: Sequence[str]) -> Lang:
    """``zh`` when the command line asks for it (``--lang zh`` or ``--lang=zh``), else ``en``.

    Read before argparse, so its own complaints are said in the planner's language too.
    """
    for i, arg in enumerate(argv):
        if arg == "--lang=zh" or (arg == "--lang" and i + 1 < len(argv) and argv[i + 1] == "zh"):
            return "zh"
    return "en"


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinite number replaced by ``None`` (JSON has neither).

    Goes through dicts, lists and tuples; numpy scalars and arrays become plain Python.
    """
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _json_text(result: Any) -> str:
    """The JSON printed on stdout: strict (no NaN, no Infinity), Chinese unescaped."""
    return json.dumps(json_safe(result), ensure_ascii=False, indent=1, allow_nan=False)
