"""Session-wide settings for the tests."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def chapter_kernel_environment():
    """Tests that execute chapters with papermill get the environment `agser book` gives.

    The inline matplotlib backend (a user's ``MPLBACKEND=Agg`` would leave the
    notebooks without figures), the Hugging Face offline switches, and this
    environment's own ``python3`` kernel.
    """
    from agser.book import _kernel_environment

    with _kernel_environment():
        yield


def _book_root(root, run, parameters, description=""):
    """A throwaway book root holding one run: ``papermill_runs/RUN/params.yaml`` and a ``_toc.yml``.

    A chapter finds its run through :meth:`agser.run.Run.named`, which looks for
    the book root in the current folder: the chapter executes with ``cwd=root``.
    """
    from pathlib import Path

    import yaml

    root = Path(root)
    (root / "papermill_runs" / run).mkdir(parents=True, exist_ok=True)
    (root / "_toc.yml").write_text("format: jb-book\nroot: _run/intro\n")
    (root / "papermill_runs" / run / "params.yaml").write_text(
        yaml.safe_dump({"description": description, "parameters": parameters}))
    return root


def _execute_chapter(chapter, root, run, work_dir=None):
    """Execute the repository's ``book/CHAPTER.py`` on run RUN of ``root``, as agser book does.

    The chapter gets the one parameter ``agser book`` gives (``run``; ``work_dir``
    when given). Returns the executed notebook (nbformat).
    """
    from pathlib import Path

    import jupytext
    import nbformat
    import papermill

    from agser.book import run_parameters

    repo = Path(__file__).resolve().parents[1]
    nb = jupytext.read(repo / "book" / f"{chapter}.py")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out_dir = Path(root) / "papermill_runs" / run
    src, out = out_dir / f"{chapter}.src.ipynb", out_dir / f"{chapter}.ipynb"
    nbformat.write(nb, src)
    papermill.execute_notebook(str(src), str(out), parameters=run_parameters(run, work_dir),
                               cwd=str(root), kernel_name="python3", progress_bar=False)
    return nbformat.read(out, as_version=4)


@pytest.fixture(scope="session")
def book_root():
    """``book_root(root, run, parameters)``: a book root with one run (see :func:`_book_root`)."""
    return _book_root


@pytest.fixture(scope="session")
def execute_chapter():
    """``execute_chapter(chapter, root, run)``: a real chapter executed on a test run."""
    return _execute_chapter
