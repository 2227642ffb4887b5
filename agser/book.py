"""The book runner: execute the chapters of a run with papermill, then build the HTML.

A *run* is a folder ``papermill_runs/NAME/`` holding ``params.yaml``
(:mod:`agser.run.schema`: its ``parameters:`` override the schema's defaults;
an optional top-level ``chapters:`` list restricts the run to some chapters).
The run's parameters and paths are checked before any chapter executes. A
chapter receives one papermill parameter, ``run`` (NAME), and finds
everything else through :meth:`agser.run.Run.named`.

The chapters and their order come from ``_toc.yml`` alone. Its entries name
the executed notebooks in the fixed, ignored folder ``_run/`` (``_run/intro``,
``_run/corpora``, ...); the chapter ``_run/NAME`` has its source in
``book/NAME.py`` (jupytext percent format) or ``book/NAME.md`` (jupytext
MyST/markdown). For each chapter, :func:`build_book`

1. converts the source to ``papermill_runs/RUN/book_src/NAME.ipynb`` with the
   ``python3`` kernel,
2. executes it with papermill (cwd = the repository root) into
   ``papermill_runs/RUN/NAME.ipynb``,

(a chapter whose executed notebook was made from the same source, the same
resolved parameters and inputs, and the same package code is not executed
again: a rebuild with nothing changed only renders the HTML) and, only when
every chapter succeeded, copies the executed notebooks into
``_run/`` and runs ``jupyter-book build ROOT -W -n --keep-going --all``,
which writes ``_build/html/``. A cell that raises stops the build with an
:class:`~agser.errors.AgserError` naming the chapter and the cell; no HTML is
built from a half-executed run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from agser.errors import AgserError, ParameterError

__all__ = [
    "BUILD_INFO",
    "RUN_DIR",
    "BookBuild",
    "build_book",
    "find_root",
    "list_runs",
    "load_run",
    "run_parameters",
    "toc_chapters",
]

#: The ignored folder, under the book root, into which the executed notebooks
#: of the chosen run are copied; ``_toc.yml`` names its files.
RUN_DIR = "_run"
#: Written into the HTML folder after a complete build (run, chapters, timings).
BUILD_INFO = "build-info.json"
#: Chapter source suffixes, in order of preference.
SOURCE_SUFFIXES = (".py", ".md")
KERNEL_SPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


@dataclass
class BookBuild:
    """What :func:`build_book` did, with its timings.

    Attributes
    ----------
    run : str
        The run's name.
    root : pathlib.Path
        The book root (the repository root).
    chapters : list of str
        The chapters executed, in toc order.
    notebooks : dict
        chapter -> path of its executed notebook (``papermill_runs/RUN/NAME.ipynb``).
    seconds : dict
        chapter -> wall-clock seconds of its conversion and execution.
    executed : list of str
        The chapters actually executed (the others were unchanged).
    html_dir : pathlib.Path or None
        ``ROOT/_build/html`` when the HTML was built, else None.
    html_seconds : float or None
        Wall-clock seconds of ``jupyter-book build``.
    total_seconds : float
        Wall-clock seconds of the whole call.
    """

    run: str
    root: Path
    chapters: list = field(default_factory=list)
    notebooks: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    html_dir: Path | None = None
    html_seconds: float | None = None
    total_seconds: float = 0.0
    executed: list = field(default_factory=list)

    def summary(self):
        """The timings as a small text table (one line per chapter).

        Examples
        --------
        >>> b = BookBuild("default", Path("."), ["intro"], seconds={"intro": 1.25},
        ...               html_seconds=3.0, total_seconds=4.5)
        >>> print(b.summary())
        run 'default'
          intro                   1.2 s
          html                    3.0 s
          total                   4.5 s
        """
        lines = [f"run {self.run!r}"]
        for name in self.chapters:
            lines.append(f"  {name:<20} {self.seconds[name]:6.1f} s")
        if self.html_seconds is not None:
            lines.append(f"  {'html':<20} {self.html_seconds:6.1f} s")
        lines.append(f"  {'total':<20} {self.total_seconds:6.1f} s")
        return "\n".join(lines)


def find_root(root=None):
    """The book root: ``root``, else the current folder or the checkout holding agser.

    A book root holds ``_toc.yml``, ``papermill_runs/`` and ``book/``
    (see :func:`agser.run.find_root`).
    """
    from agser.run import find_root as run_root

    found = run_root(root)
    if not (found / "book").is_dir() or not (found / "_toc.yml").is_file():
        raise ParameterError(f"root={str(found)!r} has no _toc.yml and book/: not a book root")
    return found


def _read_yaml(path):
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path} is not valid YAML: {exc}") from exc


def toc_chapters(root, toc_file=None):
    """The chapter names that ``ROOT/_toc.yml`` lists, root first, in reading order.

    Each toc entry must be ``_run/NAME`` (the executed notebook of chapter NAME).

    Parameters
    ----------
    root : str or Path
        The book root.
    toc_file : str or Path, optional
        Another toc to read (e.g. ``ROOT/_run/_toc.yml``, the toc of the last
        HTML build); default ``ROOT/_toc.yml``.

    Returns
    -------
    list of str
        Chapter names (``["intro", "corpora", ...]``).
    """
    toc_path = Path(toc_file) if toc_file is not None else Path(root) / "_toc.yml"
    toc = _read_yaml(toc_path)
    if not isinstance(toc, dict) or "root" not in toc:
        raise ParameterError(f"{toc_path} has no 'root:' entry")
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key) or ():
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for key in ("parts", "chapters", "sections"):
        walk(toc.get(key) or [])
    names = []
    for entry in files:
        entry = str(entry)
        stem = re.sub(r"\.(ipynb|md|py)$", "", entry)
        prefix = RUN_DIR + "/"
        if not stem.startswith(prefix) or "/" in stem[len(prefix):]:
            raise ParameterError(
                f"{toc_path}: entry {entry!r} must name an executed chapter as "
                f"'{prefix}NAME' (its source is book/NAME.py)"
            )
        name = stem[len(prefix):]
        if name in names:
            raise ParameterError(f"{toc_path}: chapter {name!r} is listed twice")
        names.append(name)
    return names


def list_runs(root):
    """Names of the runs under ``ROOT/papermill_runs`` that have a ``params.yaml``.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> (d / "papermill_runs" / "a").mkdir(parents=True)
    >>> _ = (d / "papermill_runs" / "a" / "params.yaml").write_text("parameters: {}")
    >>> list_runs(d)
    ['a']
    """
    base = Path(root) / "papermill_runs"
    if not base.is_dir():
        return []
    return sorted(p.parent.name for p in base.glob("*/params.yaml"))


def load_run(run, root):
    """Read and check ``ROOT/papermill_runs/RUN/params.yaml`` (:func:`agser.run.read_params_file`).

    Returns
    -------
    dict
        With ``parameters`` (every section, resolved: defaults plus the run's
        overrides), ``overrides`` (as written), ``chapters`` (list of str or
        None), ``path`` (the file) and ``description`` (str, "" when absent).
    """
    from agser.run import read_params_file

    if not isinstance(run, str) or not run or "/" in run or run.startswith("."):
        raise ParameterError(f"run={run!r} must be the name of a folder in papermill_runs/")
    path = Path(root) / "papermill_runs" / run / "params.yaml"
    if not path.is_file():
        runs = list_runs(root)
        raise ParameterError(
            f"run {run!r}: {path} does not exist; runs with a params.yaml: "
            f"{', '.join(runs) if runs else 'none'}"
        )
    return read_params_file(path)


def run_parameters(run, work_dir=None):
    """The papermill parameters of a run's chapters: its name (and a work folder, if not the run's).

    A chapter finds everything else through :meth:`agser.run.Run.named`, so no
    path of the machine that built the book shows in its parameters.

    Examples
    --------
    >>> run_parameters("default")
    {'run': 'default'}
    """
    out = {"run": run}
    if work_dir is not None:
        out["work_dir"] = str(Path(work_dir).resolve())
    return out


def _source_of(root, name):
    for suffix in SOURCE_SUFFIXES:
        path = Path(root) / "book" / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def _select_chapters(root, toc, spec_chapters, chapters, build_html, log):
    """Chapters to execute, in toc order; errors name unknown or source-less chapters.

    Only the selected chapters need a source: ``--chapters intro`` works while
    other chapters are still being written, and a full build checks them all.
    """
    selected = list(toc)
    for origin, wanted in (("params.yaml 'chapters'", spec_chapters), ("chapters", chapters)):
        if wanted is None:
            continue
        if isinstance(wanted, str):
            wanted = [c.strip() for c in wanted.split(",") if c.strip()]
        unknown = [c for c in wanted if c not in toc]
        if unknown:
            raise ParameterError(
                f"{origin}: {unknown} not in _toc.yml; chapters there: {', '.join(toc)}"
            )
        selected = [c for c in selected if c in wanted]
    if build_html and toc[0] not in selected:
        # The HTML needs the toc's root page; the introduction is cheap.
        log(f"adding the toc root {toc[0]!r}: the HTML book needs it")
        selected.insert(0, toc[0])
    if not selected:
        raise ParameterError("no chapter selected")
    missing = [n for n in selected if _source_of(root, n) is None]
    if missing:
        raise ParameterError(
            f"{Path(root) / '_toc.yml'} lists chapter(s) with no source in "
            f"{Path(root) / 'book'}: "
            + ", ".join(f"{n!r} (expected book/{n}.py)" for n in missing)
            + "; write the chapter or remove it from _toc.yml"
        )
    return selected


@contextlib.contextmanager
def _kernel_environment():
    """Environment for the chapter kernels, restored afterwards.

    A user's ``MPLBACKEND=Agg`` (common in scripts and CI) inherited by a
    kernel draws nothing inline, so figures would vanish from the book.
    The Hugging Face variables keep chapters off the network.
    """
    wanted = {
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
        "TRANSFORMERS_OFFLINE": os.environ.get("TRANSFORMERS_OFFLINE", "1"),
    }
    # The 'python3' kernel of this environment (make installs it with --sys-prefix)
    # comes before one in the user's home, which may be another Python without agser.
    own = Path(sys.prefix) / "share" / "jupyter"
    if (own / "kernels" / KERNEL_SPEC["name"] / "kernel.json").is_file():
        path = os.environ.get("JUPYTER_PATH")
        wanted["JUPYTER_PATH"] = os.pathsep.join([str(own)] + ([path] if path else []))
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _to_notebook(source, dest):
    import jupytext
    import nbformat

    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = dict(KERNEL_SPEC)
    nb.metadata.setdefault("language_info", {"name": "python"})
    if not any("parameters" in c.metadata.get("tags", ()) for c in nb.cells):
        raise ParameterError(
            f"{source} has no cell tagged 'parameters' (# %% tags=[\"parameters\"])"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(dest))


def _source_line(source, cell_source):
    """'book/x.py line N' for the first line of a cell, found in the chapter source."""
    first = next((ln for ln in str(cell_source).splitlines() if ln.strip()), "")
    lines = Path(source).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if first and line.rstrip() == first.rstrip():
            return f"{source} line {number}: {first.strip()!r}"
    return f"{source}, cell starting {first.strip()!r}"


class _KnownParametersOnly:
    """Drops papermill's 'Passed unknown parameter' warnings.

    Every chapter receives every section of the run's ``parameters:`` by design,
    also those it does not read; the warning would repeat for each of them.
    """

    def filter(self, record):
        return not record.getMessage().startswith("Passed unknown parameter")


def _execute(name, source, src_nb, out_nb, parameters, root, timeout):
    import papermill as pm
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    pm_logger = logging.getLogger("papermill")
    quiet = _KnownParametersOnly()
    pm_logger.addFilter(quiet)
    try:
        with _kernel_environment():
            pm.execute_notebook(
                str(src_nb),
                str(out_nb),
                parameters=parameters,
                cwd=str(root),
                kernel_name=KERNEL_SPEC["name"],
                log_output=False,
                progress_bar=False,
                execution_timeout=timeout,
            )
    except PapermillExecutionError as exc:
        raise AgserError(
            f"chapter {name!r} failed at cell {exc.cell_index}: {exc.ename}: {exc.evalue}"
            f" (In [{exc.exec_count}], {_source_line(source, exc.source)}; "
            f"executed notebook with the traceback: {out_nb})"
        ) from exc
    except CellTimeoutError as exc:
        raise AgserError(
            f"chapter {name!r} timed out: a cell ran longer than timeout={timeout} s "
            f"(executed notebook: {out_nb})"
        ) from exc
    except DeadKernelError as exc:
        raise AgserError(f"chapter {name!r}: the kernel died ({exc}); see {out_nb}") from exc
    except NoSuchKernel as exc:
        raise AgserError(
            f"chapter {name!r}: no Jupyter kernel named 'python3'; install one with "
            f"`{sys.executable} -m ipykernel install --sys-prefix --name python3`"
        ) from exc
    finally:
        pm_logger.removeFilter(quiet)


def _jupyter_book_command(root, toc):
    launcher = "import sys; from jupyter_book.cli.main import main; sys.exit(main())"
    return [
        sys.executable, "-c", launcher, "build", str(root),
        "--toc", str(toc), "-W", "-n", "--keep-going", "--all",
    ]


def _write_run_toc(root, chapters):
    """The committed toc pruned to the executed chapters, in ``_run/_toc.yml``."""
    import yaml

    toc = _read_yaml(Path(root) / "_toc.yml")
    keep = {f"{RUN_DIR}/{c}" for c in chapters}

    def entry_name(entry):
        return re.sub(r"\.(ipynb|md|py)$", "", str(entry))

    def prune(node):
        if isinstance(node, list):
            out = [prune(child) for child in node]
            return [c for c in out if c is not None]
        if isinstance(node, dict):
            node = dict(node)
            if "file" in node and entry_name(node["file"]) not in keep:
                return None
            for key in ("parts", "chapters", "sections"):
                if key in node:
                    node[key] = prune(node[key])
                    if not node[key]:
                        del node[key]
            if "file" not in node and not any(k in node for k in ("parts", "chapters", "sections")):
                return None
            return node
        return node

    pruned = {k: v for k, v in toc.items() if k not in ("parts", "chapters", "sections")}
    for key in ("parts", "chapters", "sections"):
        if key in toc:
            kept = prune(toc[key])
            if kept:
                pruned[key] = kept
    path = Path(root) / RUN_DIR / "_toc.yml"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("# Written by agser.book from ../_toc.yml for the chapters of this run.\n")
        yaml.safe_dump(pruned, fh, sort_keys=False, allow_unicode=True)
    return path


#: The parts of MathJax 3 (es5 build) that the book's pages load: the TeX-to-HTML
#: component, its fonts, the TeX extensions it autoloads, its menu and a11y parts.
MATHJAX_PARTS = ("tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y")


#: The book's own style sheet (``_config.yml``: ``html_css_files``): myst-nb prints every
#: glued value in bold, which turns a sentence with a number in it into shouting; a glued
#: value reads as the prose around it.
BOOK_CSS = ("agser.css", "span.pasted-text { font-weight: inherit; }\n")


def _install_mathjax(static_dir):
    """Copy a local MathJax 3 into ``static_dir/mathjax`` (``_config.yml`` points there).

    Sphinx loads MathJax from a CDN by default; the book must render its formulas
    offline, so MathJax comes from the ``django-static-mathjax`` wheel (MathJax
    3.2.2 files only; it needs no Django).
    """
    import importlib.util

    spec = importlib.util.find_spec("mathjax")
    es5 = Path(spec.origin).parent / "static" / "mathjax" / "es5" if spec and spec.origin else None
    if es5 is None or not (es5 / "tex-chtml.js").is_file():
        raise ParameterError(
            "MathJax 3 for offline formulas not found: install it with "
            f"`{sys.executable} -m pip install django-static-mathjax`"
        )
    dest = Path(static_dir) / "mathjax"
    for part in MATHJAX_PARTS:
        source = es5 / part
        if source.is_dir():
            shutil.copytree(source, dest / part)
        else:
            (dest / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / part)


#: A markdown link to another chapter: ``[text](NAME.ipynb)`` or ``[text](NAME.ipynb#anchor)``.
_CHAPTER_LINK = re.compile(r"\[([^\]]+)\]\(([A-Za-z0-9_]+)\.ipynb(#[^)]*)?\)")


def _page_notebook(source, dest, chapters):
    """Copy an executed chapter for the HTML: code hidden, links to absent chapters made text.

    Every code cell but the run's parameters gets ``hide-input`` (the code
    stays one click away, the outputs show); a link to a chapter that this
    run does not build (the controls run builds three) becomes its plain
    text, since Sphinx (``-W -n``) rejects a link to a page that is not there.

    Examples
    --------
    >>> _CHAPTER_LINK.sub(lambda m: m.group(1), "see [chapter 3](ch3_clustering.ipynb)")
    'see chapter 3'
    """
    import nbformat

    nb = nbformat.read(str(source), as_version=4)
    present = set(chapters)
    for cell in nb.cells:
        tags = list(cell.metadata.get("tags", ()))
        if cell.cell_type == "code" and "injected-parameters" not in tags and "hide-input" not in tags \
                and "remove-cell" not in tags and "remove-input" not in tags:
            tags.append("hide-input")
        cell.metadata["tags"] = tags
        if cell.cell_type == "markdown":
            cell.source = _CHAPTER_LINK.sub(
                lambda m: m.group(0) if m.group(2) in present else m.group(1), cell.source)
    nbformat.write(nb, str(dest))


def _build_html(root, run, chapters, notebooks, timeout, log):
    run_dir = Path(root) / RUN_DIR
    # A fresh folder each time, so no chapter of an earlier run slips into this book.
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir()
    (run_dir / "README.txt").write_text(
        f"Executed notebooks of run {run!r}, copied by agser.book for jupyter-book. "
        "Not committed; rewritten on every build.\n",
        encoding="utf-8",
    )
    for name in chapters:
        _page_notebook(notebooks[name], run_dir / f"{name}.ipynb", chapters)
    _install_mathjax(run_dir / "_static")
    (run_dir / "_static" / BOOK_CSS[0]).write_text(BOOK_CSS[1], encoding="utf-8")
    toc = _write_run_toc(root, chapters)
    html = Path(root) / "_build" / "html"
    # Pages of chapters that an earlier build had and this one has not must not survive.
    if html.exists():
        shutil.rmtree(html)
    cmd = _jupyter_book_command(root, toc)
    log("jupyter-book build " + " ".join(cmd[4:]))
    try:
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise AgserError(f"jupyter-book build ran longer than {timeout} s") from exc
    output = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    warnings = [ln for ln in output.splitlines() if "WARNING" in ln or "ERROR" in ln]
    if proc.returncode != 0:
        detail = "\n".join(warnings[:40]) or "\n".join(output.splitlines()[-40:])
        raise AgserError(
            f"jupyter-book build failed (exit {proc.returncode}) for run {run!r} "
            f"({RUN_DIR}/NAME.ipynb is chapter book/NAME.py as executed; with -W every "
            f"warning is an error):\n{detail}"
        )
    if not (html / "index.html").is_file():
        raise AgserError(f"jupyter-book build exited 0 but wrote no {html / 'index.html'}")
    return html


def build_book(run="default", root=None, chapters=None, build_html=True, timeout=1800,
               work_dir=None, log=print, force=False):
    """Execute a run's chapters with papermill and build the HTML book.

    Parameters
    ----------
    run : str
        Name of the run: ``ROOT/papermill_runs/RUN/params.yaml`` must exist.
    root : str or Path, optional
        The book root (``_toc.yml``, ``_config.yml``, ``book/``,
        ``papermill_runs/``); default: the current folder if it is one, else
        the checkout agser is installed from.
    chapters : list of str or str, optional
        Execute only these chapters (names as in ``_toc.yml``, or one
        comma-separated string); toc order is kept. With ``build_html`` the
        toc's root chapter is always added.
    build_html : bool
        Build ``ROOT/_build/html`` with ``jupyter-book build -W -n
        --keep-going`` once every chapter ran.
    timeout : float
        Seconds: the longest a single cell may run, and the longest the HTML
        build may take.
    work_dir : str or Path, optional
        The run's working folder (the artifact store); default
        ``ROOT/papermill_runs/RUN/work``.
    log : callable
        Called with one-line progress messages; ``None`` for silence.
    force : bool
        Execute every chapter, even one whose executed notebook was made from
        the same source, parameters and package code (otherwise such a
        chapter is not re-executed: a rebuild with nothing changed only
        renders the HTML).

    Returns
    -------
    BookBuild
        Executed notebooks and per-chapter timings.

    Raises
    ------
    ParameterError
        Unknown run (the message lists those that exist), a toc entry with no
        source in ``book/``, an unknown chapter.
    AgserError
        A chapter's cell raised (the message names the chapter and the cell)
        or the HTML build failed.

    Examples
    --------
    Skipped here: it starts a Jupyter kernel and runs jupyter-book on the
    repository's book (a minute or more), which tests/test_book.py does on a tiny one:

    >>> result = build_book("default", chapters="intro")  # doctest: +SKIP
    >>> print(result.summary())  # per-chapter wall-clock seconds  # doctest: +SKIP

    A run needs its ``params.yaml``:

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "_toc.yml").write_text("root: _run/intro")
    >>> (root / "book").mkdir(); (root / "papermill_runs").mkdir()
    >>> build_book("no-such-run", root=root)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    agser.errors.ParameterError: run 'no-such-run': .../papermill_runs/no-such-run/params.yaml does not exist; runs with a params.yaml: none
    """
    t_start = time.perf_counter()
    log = log or (lambda msg: None)
    root = find_root(root)
    spec = load_run(run, root)
    # Every parameter and path of the run is checked here, before any chapter runs.
    from agser.run import Run

    inputs = Run.named(run, root=root, work_dir=work_dir).input_digest()
    toc = toc_chapters(root)
    selected = _select_chapters(root, toc, spec["chapters"], chapters, build_html, log)
    parameters = run_parameters(run, work_dir=work_dir)
    out_dir = root / "papermill_runs" / run
    result = BookBuild(run=run, root=root)
    code = _package_digest()
    for name in selected:
        source = _source_of(root, name)
        src_nb = out_dir / "book_src" / f"{name}.ipynb"
        out_nb = out_dir / f"{name}.ipynb"
        key = _chapter_key(source, [spec["parameters"], inputs], parameters, code)
        t0 = time.perf_counter()
        if not force and _executed_key(out_nb) == key:
            log(f"[{run}] {name}: unchanged (source, parameters and package code), not re-executed")
        else:
            log(f"[{run}] {name}: executing {source.relative_to(root)}")
            _to_notebook(source, src_nb)
            _execute(name, source, src_nb, out_nb, parameters, root, timeout)
            _finish_notebook(out_nb, key)
            result.executed.append(name)
        result.seconds[name] = time.perf_counter() - t0
        result.chapters.append(name)
        result.notebooks[name] = out_nb
        log(f"[{run}] {name}: done in {result.seconds[name]:.1f} s -> {out_nb.relative_to(root)}")
    if build_html:
        t0 = time.perf_counter()
        result.html_dir = _build_html(root, run, result.chapters, result.notebooks, timeout, log)
        result.html_seconds = time.perf_counter() - t0
        log(f"[{run}] html: done in {result.html_seconds:.1f} s -> {result.html_dir}")
    result.total_seconds = time.perf_counter() - t_start
    if result.html_dir is not None:
        _write_build_info(result, spec["parameters"])
    return result


#: Metadata key of an executed notebook: what it was executed from.
KEY_METADATA = "agser_chapter_key"


def _package_digest():
    """Digest of every ``.py`` file of the installed agser package."""
    from agser.store import code_fingerprint

    return code_fingerprint("agser")


def _chapter_key(source, resolved, papermill_parameters, code):
    """What a chapter's output depends on: its source, the run's parameters, the package's code."""
    from agser.store import fingerprint

    return fingerprint([Path(source).read_bytes().hex(), resolved, papermill_parameters, code])


def _executed_key(notebook):
    """The key an executed notebook was made with (None when there is none, or no notebook)."""
    import nbformat

    if not Path(notebook).is_file():
        return None
    try:
        nb = nbformat.read(str(notebook), as_version=4)
    except Exception:  # noqa: BLE001 - an unreadable notebook is simply re-executed
        return None
    return nb.metadata.get(KEY_METADATA)


def _finish_notebook(notebook, key):
    """Record the key, and show the run's own parameters rather than the chapter's defaults.

    papermill puts the parameters it passed in a cell tagged
    ``injected-parameters`` right after the chapter's ``parameters`` cell: the
    reader sees that one (it names the run actually built), the defaults'
    cell is removed from the page.
    """
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    injected = any("injected-parameters" in c.metadata.get("tags", ()) for c in nb.cells)
    for cell in nb.cells:
        tags = list(cell.metadata.get("tags", ()))
        if injected and "parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
        cell.metadata["tags"] = tags
    nb.metadata[KEY_METADATA] = key
    nbformat.write(nb, str(notebook))


def _write_build_info(result, parameters):
    """``_build/html/build-info.json``: which run and chapters made this HTML, and when."""
    import datetime
    import json

    info = {
        "run": result.run,
        "chapters": result.chapters,
        "seconds": {**result.seconds, "html": result.html_seconds, "total": result.total_seconds},
        "built_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "parameters": parameters,
    }
    path = result.html_dir / BUILD_INFO
    path.write_text(json.dumps(info, indent=2, default=str) + "\n", encoding="utf-8")
