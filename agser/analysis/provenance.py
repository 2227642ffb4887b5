"""Which run built a copy of the book, from which code: the introduction's last section.

The chapter titles of a book root, the checkout's commit, package versions
and the run's own settings.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import platform
import re
import subprocess
from pathlib import Path

import pandas as pd

__all__ = ["chapter_title", "chapter_list", "git_commit", "package_version", "provenance_table", "run_settings"]


def chapter_title(root, name):
    """The first ``# Title`` line of ``ROOT/book/NAME.py`` (or ``.md``), else the name.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()); (root / "book").mkdir()
    >>> _ = (root / "book" / "ch.py").write_text("# %% [markdown]\\n# # 4 Overlap\\n")
    >>> chapter_title(root, "ch"), chapter_title(root, "gone")
    ('4 Overlap', 'gone (no source in book/)')
    """
    # A percent script's markdown heading reads "# # Title"; a markdown source's "# Title".
    for suffix, pattern in ((".py", r"^# # (\S.*)$"), (".md", r"^# (\S.*)$")):
        source = Path(root) / "book" / f"{name}{suffix}"
        if source.is_file():
            for line in source.read_text(encoding="utf-8").splitlines():
                match = re.match(pattern, line)
                if match:
                    return match.group(1).strip()
            return name
    return f"{name} (no source in book/)"


def chapter_list(root, chapters):
    """A numbered Markdown list of the chapters: title and source file.

    Examples
    --------
    >>> import tempfile
    >>> print(chapter_list(tempfile.mkdtemp(), ["intro"]))
    1. **intro (no source in book/)** (`book/intro.py`)
    """
    return "\n".join(f"{i}. **{chapter_title(root, n)}** (`book/{n}.py`)" for i, n in enumerate(chapters, 1))


def git_commit(folder):
    """The checkout's commit (marked when tracked files have changes), or ``unknown (reason)``.

    Examples
    --------
    >>> import tempfile
    >>> git_commit(tempfile.mkdtemp()).startswith("unknown")
    True
    """
    try:
        head = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=30)
    except FileNotFoundError:
        return "unknown (git is not installed)"
    if head.returncode != 0:
        reason = (head.stderr.strip().splitlines() or ["git rev-parse failed"])[-1]
        return f"unknown ({reason})"
    commit = head.stdout.strip()
    status = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
                            capture_output=True, text=True, timeout=30)
    if status.returncode == 0 and status.stdout.strip():
        commit += " (with uncommitted changes to tracked files)"
    return commit


def package_version(name):
    """The installed version of a distribution, or ``not installed``.

    Examples
    --------
    >>> package_version("no-such-distribution-agser")
    'not installed'
    """
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def provenance_table(run, spec, root):
    """What built this copy: the run, its params.yaml, the code and the versions, one row each.

    Parameters
    ----------
    run : str
        The run's name.
    spec : dict
        :func:`agser.book.load_run` (``description``, ``path``, ``chapters``).
    root : Path
        The book root.

    Returns
    -------
    pandas.DataFrame
        Index ``what``; column ``value``.
    """
    import agser

    root = Path(root)
    path = Path(spec["path"])
    rows = {
        "run": run,
        "description": spec.get("description") or "",
        "params.yaml": str(path.relative_to(root)) if path.is_relative_to(root) else str(path),
        "chapters of the run": ", ".join(spec.get("chapters") or []) or "all chapters of _toc.yml",
        "agser": agser.__version__,
        "git commit": git_commit(root),
        "built (UTC)": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        **{name: package_version(name) for name in ("torch", "numpy", "papermill", "jupyter-book")},
        "platform": platform.platform(),
    }
    return pd.DataFrame({"value": rows}).rename_axis("what")


def run_settings(spec):
    """The run's own settings (``parameters:`` of its params.yaml) as a YAML code block (Markdown).

    Examples
    --------
    >>> print(run_settings({"overrides": {"cluster": {"k": 4}}}))
    ```yaml
    cluster: {k: 4}
    ```
    >>> run_settings({"overrides": {}})[:23]
    'The run sets no paramet'
    """
    import yaml

    if not spec.get("overrides"):
        return "The run sets no parameter: every value is the default of `agser.run.schema`."
    text = yaml.safe_dump(spec.get("overrides") or {}, sort_keys=False, default_flow_style=None, allow_unicode=True)
    return "```yaml\n" + text + "```"
