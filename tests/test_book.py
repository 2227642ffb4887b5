"""The book runner (agser.book): chapter selection, parameters, failures, HTML.

Each test builds a throwaway book root in tmp_path (its own _toc.yml, the
repository's _config.yml, tiny chapters in book/, papermill_runs/), so it does
not depend on the real chapters. Tests that start a kernel or jupyter-book are
marked slow.
"""

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from agser.book import build_book, list_runs, run_parameters, toc_chapters
from agser.errors import AgserError, ParameterError

REPO = Path(__file__).resolve().parents[1]
#: the contract's chapters, in reading order
CONTRACT_CHAPTERS = [
    "intro", "corpora", "ch1_landmarks", "ch2_segmentation", "ch3_clustering",
    "ch4_overlap", "ch5_association", "ch6_ser", "ch7_ablation",
]

HEADER = '# %% [markdown]\n# # {title}\n\n# %% tags=["parameters"]\nrun = "default"\n' \
    'work_dir = "w"\ntables_dir = "t"\nrepo_root = "."\ndata = {{}}\n\n'


def chapter(title, body=""):
    """A percent-format chapter source: title, parameters cell, then body cells."""
    return HEADER.format(title=title) + textwrap.dedent(body)


def make_book(root, chapters, params=None, run="tiny", extra_toc=()):
    """Write a book root: _config.yml (the repository's), _toc.yml, book/, a run."""
    root = Path(root)
    (root / "book").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    names = list(chapters)
    toc = {
        "format": "jb-book",
        "root": f"_run/{names[0]}",
        "parts": [{"caption": "Part", "chapters": [{"file": f"_run/{n}"} for n in names[1:]]
                   + [{"file": e} for e in extra_toc]}],
    }
    (root / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    for name, source in chapters.items():
        (root / "book" / f"{name}.py").write_text(source)
    run_dir = root / "papermill_runs" / run
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "params.yaml").write_text(yaml.safe_dump(params or {"parameters": {"data": {}}}))
    return root


TINY_INTRO = chapter("Tiny introduction", """
    # %%
    print(f"intro of run {run}")
    """)


@pytest.fixture
def tiny(tmp_path):
    ok = chapter("An ordinary chapter", """
        # %% [markdown]
        # ## What it prints

        # %%
        print(f"seed={data['seed']} run={run} greeting={greeting}")
        print("work_dir absolute:", __import__("os").path.isabs(work_dir))
        """)
    params = {
        "description": "a tiny run",
        "parameters": {"data": {"seed": 7}, "greeting": "hello"},
    }
    return make_book(tmp_path / "book_root", {"intro": TINY_INTRO, "ok": ok}, params=params)


def test_toc_chapters_in_reading_order(tiny):
    assert toc_chapters(tiny) == ["intro", "ok"]


def test_real_toc_follows_the_contract_order():
    names = toc_chapters(REPO)
    assert names[0] == "intro"
    assert names == [c for c in CONTRACT_CHAPTERS if c in names]


def test_real_toc_entries_have_sources():
    """The committed toc lists only chapters that exist in book/."""
    missing = [n for n in toc_chapters(REPO) if not (REPO / "book" / f"{n}.py").is_file()]
    assert missing == [], f"_toc.yml lists chapters with no book/NAME.py: {missing}"


def test_run_parameters_add_the_run_keys(tiny):
    params = run_parameters("tiny", tiny)
    assert params["data"] == {"seed": 7} and params["greeting"] == "hello"
    assert params["run"] == "tiny"
    assert params["work_dir"] == str((tiny / "papermill_runs" / "tiny" / "work").resolve())
    assert params["tables_dir"] == str((tiny / "papermill_runs" / "tiny" / "tables").resolve())
    assert params["repo_root"] == str(tiny.resolve())


def test_default_parameters_reads_a_section(tiny):
    from agser.book import default_parameters

    assert default_parameters("data", run="tiny", root=tiny) == {"seed": 7}
    assert default_parameters(run="tiny", root=tiny)["greeting"] == "hello"
    with pytest.raises(ParameterError, match="section 'ser' not in the 'tiny' run's"):
        default_parameters("ser", run="tiny", root=tiny)


def test_missing_run_names_the_path_and_the_runs_that_exist(tiny):
    (tiny / "papermill_runs" / "other").mkdir()
    (tiny / "papermill_runs" / "other" / "params.yaml").write_text("parameters: {}\n")
    with pytest.raises(ParameterError) as err:
        build_book("nope", root=tiny)
    msg = str(err.value)
    assert str(tiny / "papermill_runs" / "nope" / "params.yaml") in msg
    assert "other, tiny" in msg
    assert list_runs(tiny) == ["other", "tiny"]


def test_cli_reports_a_missing_run_and_exits_non_zero(tiny, capsys):
    from agser.__main__ import main

    assert main(["book", "--root", str(tiny), "--run", "nope", "--no-html"]) == 2
    err = capsys.readouterr().err
    assert "agser book: error: run 'nope'" in err and "runs with a params.yaml: tiny" in err


def test_toc_entry_without_source_is_named(tiny):
    toc = yaml.safe_load((tiny / "_toc.yml").read_text())
    toc["parts"][0]["chapters"].append({"file": "_run/ghost"})
    (tiny / "_toc.yml").write_text(yaml.safe_dump(toc))
    with pytest.raises(ParameterError, match=r"'ghost' \(expected book/ghost\.py\)"):
        build_book("tiny", root=tiny)
    assert not (tiny / "papermill_runs" / "tiny" / "intro.ipynb").exists(), "nothing may run"


def test_toc_entry_outside_run_folder_is_refused(tiny):
    toc = yaml.safe_load((tiny / "_toc.yml").read_text())
    toc["parts"][0]["chapters"].append({"file": "book/ok"})
    (tiny / "_toc.yml").write_text(yaml.safe_dump(toc))
    with pytest.raises(ParameterError, match=r"'book/ok' must name an executed chapter"):
        toc_chapters(tiny)


def test_unknown_chapter_is_refused(tiny):
    with pytest.raises(ParameterError, match=r"\['nope'\] not in _toc.yml; chapters there: intro, ok"):
        build_book("tiny", root=tiny, chapters="ok,nope")


def test_reserved_parameter_is_refused(tiny):
    (tiny / "papermill_runs" / "tiny" / "params.yaml").write_text(
        "parameters:\n  work_dir: /elsewhere\n"
    )
    with pytest.raises(ParameterError, match=r"\['work_dir'\] are set by agser book"):
        build_book("tiny", root=tiny)


def test_root_without_toc_is_refused(tmp_path):
    with pytest.raises(ParameterError, match="has no _toc.yml"):
        build_book("tiny", root=tmp_path)


def _cells(nb_path):
    return json.loads(Path(nb_path).read_text())["cells"]


def _stream_text(cell):
    return "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))


@pytest.mark.slow
def test_failing_cell_fails_the_build_naming_chapter_and_cell(tiny):
    boom = chapter("A chapter that fails", """
        # %%
        x = 1

        # %%
        raise ValueError("deliberate failure in the third code cell")

        # %%
        print("never reached")
        """)
    (tiny / "book" / "boom.py").write_text(boom)
    toc = yaml.safe_load((tiny / "_toc.yml").read_text())
    toc["parts"][0]["chapters"].append({"file": "_run/boom"})
    (tiny / "_toc.yml").write_text(yaml.safe_dump(toc))

    with pytest.raises(AgserError) as err:
        build_book("tiny", root=tiny)
    msg = str(err.value)
    m = re.match(r"chapter 'boom' failed at cell (\d+): ValueError: "
                 r"deliberate failure in the third code cell", msg)
    assert m, msg
    # papermill's cell index counts the cells as executed (title, parameters, injected
    # parameters, ...), without the error banners it adds to the saved notebook.
    cells = [c for c in _cells(tiny / "papermill_runs" / "tiny" / "boom.ipynb")
             if "papermill-error-cell-tag" not in c["metadata"].get("tags", [])]
    assert "raise ValueError" in "".join(cells[int(m.group(1))]["source"])
    line = (tiny / "book" / "boom.py").read_text().splitlines().index(
        'raise ValueError("deliberate failure in the third code cell")') + 1
    assert f"boom.py line {line}:" in msg
    # The chapters before it ran; no HTML and no _run/ come from a half-executed run.
    assert (tiny / "papermill_runs" / "tiny" / "ok.ipynb").is_file()
    assert not (tiny / "_build").exists()
    assert not (tiny / "_run").exists()

    # The command line says the same and exits non-zero.
    from agser.__main__ import main

    assert main(["book", "--root", str(tiny), "--run", "tiny", "--no-html"]) != 0


@pytest.mark.slow
def test_small_build_injects_parameters_and_writes_html(tiny):
    result = build_book("tiny", root=tiny, log=None)
    assert result.chapters == ["intro", "ok"]
    assert set(result.seconds) == {"intro", "ok"} and all(s > 0 for s in result.seconds.values())

    nb = tiny / "papermill_runs" / "tiny" / "ok.ipynb"
    assert result.notebooks["ok"] == nb
    cells = _cells(nb)
    injected = [c for c in cells if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1
    source = "".join(injected[0]["source"])
    assert 'run = "tiny"' in source and 'greeting = "hello"' in source
    printed = "".join(_stream_text(c) for c in cells)
    assert "seed=7 run=tiny greeting=hello" in printed
    assert "work_dir absolute: True" in printed

    html = tiny / "_build" / "html"
    assert result.html_dir == html
    page = (html / "_run" / "ok.html").read_text()
    assert "An ordinary chapter" in page and "seed=7 run=tiny greeting=hello" in page
    assert (html / "index.html").is_file()
    # Offline: no page pulls a script, style sheet or image from the network.
    for path in html.rglob("*.html"):
        text = path.read_text()
        remote = re.findall(r'<(?:script|img|iframe)[^>]+src="(https?:[^"]+)"', text)
        remote += re.findall(r'<link[^>]+href="(https?:[^"]+)"', text)
        assert remote == [], f"{path.name} loads {remote}"


@pytest.mark.slow
def test_chapter_selection_and_html_root(tiny):
    (tiny / "papermill_runs" / "tiny" / "params.yaml").write_text(yaml.safe_dump(
        {"chapters": ["ok"], "parameters": {"data": {"seed": 1}, "greeting": "hi"}}
    ))
    result = build_book("tiny", root=tiny, build_html=False, log=None)
    assert result.chapters == ["ok"] and result.html_dir is None
    assert not (tiny / "papermill_runs" / "tiny" / "intro.ipynb").exists()
    # With HTML the toc's root is added: the book needs its first page.
    result = build_book("tiny", root=tiny, log=None)
    assert result.chapters == ["intro", "ok"]
    assert (tiny / "_build" / "html" / "_run" / "intro.html").is_file()


CHAPTER_SOURCES = sorted((REPO / "book").glob("*.py"))


@pytest.mark.parametrize("source", CHAPTER_SOURCES, ids=lambda p: p.stem)
def test_chapter_sources_follow_the_book_contract(source):
    """One '# Title' first, one parameters cell whose defaults are the default run's."""
    import jupytext

    nb = jupytext.read(source)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and re.match(r"# \S", first.source), (
        f"{source.name}: the first cell must be a markdown '# Title' (the page title)")
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, f"{source.name}: {len(params)} cells tagged 'parameters'"
    declared = {}
    exec(params[0].source, declared)  # plain assignments of defaults
    for key in ("run", "work_dir", "tables_dir", "repo_root"):
        assert key in declared, f"{source.name}: the parameters cell does not declare {key!r}"
    assert declared["run"] == "default"
    default = run_parameters("default", REPO)
    differ = {k: (declared[k], v) for k, v in default.items()
              if k in declared and k not in ("work_dir", "tables_dir", "repo_root")
              and declared[k] != v}
    assert differ == {}, f"{source.name}: defaults differ from papermill_runs/default: {differ}"


@pytest.mark.slow
def test_sphinx_warning_fails_the_html_build(tiny):
    # A chapter whose headings start at H3: a warning, so an error under -W.
    (tiny / "book" / "ok.py").write_text(
        '# %% [markdown]\n# ### Not a title\n\n# %% tags=["parameters"]\nrun = "default"\n'
    )
    with pytest.raises(AgserError, match=r"jupyter-book build failed .*\n.*ok\.ipynb.*"
                                         r"WARNING: Document headings start at H3"):
        build_book("tiny", root=tiny, log=None)
    assert not (tiny / "_build" / "html" / "build-info.json").exists()
