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

from agser.book import build_book, list_runs, load_run, run_parameters, toc_chapters
from agser.errors import AgserError, ParameterError
from agser.run import Run, defaults

REPO = Path(__file__).resolve().parents[1]
#: the contract's chapters, in reading order
CONTRACT_CHAPTERS = [
    "intro", "glance", "corpora", "ch1_landmarks", "ch2_segmentation", "ch3_clustering",
    "ch4_overlap", "ch5_association", "ch6_ser", "ch7_ablation",
]

# A chapter's one parameter is the run's name (and a work folder, when agser book is given one);
# everything else it finds through agser.run.Run.named, as the real chapters do.
HEADER = '# %% [markdown]\n# # {title}\n\n# %% tags=["parameters"]\nrun = "default"\n' \
    'work_dir = None\n\n'


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
        from agser.run import Run

        r = Run.named(run, work_dir=work_dir)
        print(f"seed={r.params['data']['seed']} run={run} k={r.params['cluster']['k']}")
        print("work_dir absolute:", r.work_dir.is_absolute(), r.work_dir)
        """)
    params = {
        "description": "a tiny run",
        "parameters": {"data": {"seed": 7}, "cluster": {"k": 3}},
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


def test_run_parameters_are_the_run_name_and_an_optional_work_dir(tiny):
    assert run_parameters("tiny") == {"run": "tiny"}
    assert run_parameters("tiny", tiny / "w") == {"run": "tiny", "work_dir": str((tiny / "w").resolve())}
    # the rest a chapter finds through the name: the run's parameters, folders and root
    r = Run.named("tiny", root=tiny)
    assert r.params["data"]["seed"] == 7 and r.params["cluster"]["k"] == 3
    assert r.work_dir == (tiny / "papermill_runs" / "tiny" / "work").resolve()
    assert r.tables_dir == (tiny / "papermill_runs" / "tiny" / "tables").resolve()
    assert r.root == tiny.resolve() and r.description == "a tiny run"


def test_run_sections_are_resolved_and_unknown_sections_refused(tiny):
    r = Run.named("tiny", root=tiny)
    assert r.section("data") == {**defaults()["data"], "seed": 7}
    assert r.section("ser") == defaults()["ser"]
    spec = load_run("tiny", tiny)
    assert spec["parameters"] == r.params
    assert spec["overrides"] == {"data": {"seed": 7}, "cluster": {"k": 3}}
    (tiny / "papermill_runs" / "tiny" / "params.yaml").write_text("parameters:\n  sre: {epochs: 3}\n")
    with pytest.raises(ParameterError, match=r"params.yaml: sre is not a parameter of the top level; "
                                             r"did you mean 'ser'\?"):
        load_run("tiny", tiny)


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
    # work_dir is agser book's (--work-dir), not a parameter a params.yaml may set
    (tiny / "papermill_runs" / "tiny" / "params.yaml").write_text(
        "parameters:\n  work_dir: /elsewhere\n"
    )
    with pytest.raises(ParameterError, match=r"work_dir is not a parameter of the top level"):
        build_book("tiny", root=tiny)
    assert not (tiny / "papermill_runs" / "tiny" / "intro.ipynb").exists(), "nothing may run"


def test_root_without_toc_is_refused(tmp_path):
    with pytest.raises(ParameterError, match="has no (papermill_runs/ or )?_toc.yml"):
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
    # the one parameter: the run's name (no work_dir: build_book was given none)
    assignments = [ln for ln in source.splitlines() if ln.strip() and not ln.startswith("#")]
    assert assignments == ['run = "tiny"'], source
    # the chapter's own parameters cell (its defaults) is kept but hidden from the page
    defaults_cell = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(defaults_cell) == 1 and "remove-cell" in defaults_cell[0]["metadata"]["tags"]
    assert "remove-cell" not in injected[0]["metadata"]["tags"]
    printed = "".join(_stream_text(c) for c in cells)
    assert "seed=7 run=tiny k=3" in printed
    assert f"work_dir absolute: True {(tiny / 'papermill_runs' / 'tiny' / 'work').resolve()}" in printed

    html = tiny / "_build" / "html"
    assert result.html_dir == html
    page = (html / "_run" / "ok.html").read_text()
    assert "An ordinary chapter" in page and "seed=7 run=tiny k=3" in page
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
        {"chapters": ["ok"], "parameters": {"data": {"seed": 1}, "cluster": {"k": 2}}}
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
    declared.pop("__builtins__")
    # one parameter, the run's name (and the optional work folder): the chapter reads every
    # other parameter through agser.run, so no default lives in a chapter
    assert declared == {"run": "default", "work_dir": None}, (
        f"{source.name}: the parameters cell must declare only run and work_dir, not {declared}")
    default = run_parameters("default")
    assert {k: declared[k] for k in default} == default


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


def _printed(nb_path):
    return "".join(_stream_text(c) for c in _cells(nb_path))


@pytest.mark.slow
def test_rebuild_executes_only_the_chapters_whose_inputs_changed(tiny, monkeypatch):
    """A chapter is executed again only when its source, the run's resolved parameters and
    inputs, its papermill parameters or the package's code changed (or with force)."""
    import nbformat

    import agser.book as book

    # the package's code as one fixed version, changed below on purpose (in a working tree
    # that is being edited, the real digest can change between two builds)
    monkeypatch.setattr(book, "_package_digest", lambda: "the code of this agser version")

    def build(**kw):
        return build_book("tiny", root=tiny, build_html=False, log=None, **kw)

    def stamps(result):
        return {n: p.stat().st_mtime_ns for n, p in result.notebooks.items()}

    first = build()
    assert first.executed == ["intro", "ok"]
    key = nbformat.read(str(first.notebooks["ok"]), as_version=4).metadata[book.KEY_METADATA]
    assert isinstance(key, str) and key
    before = stamps(first)

    again = build()
    assert again.executed == [] and again.chapters == ["intro", "ok"]
    assert stamps(again) == before, "an unchanged chapter's notebook must not be rewritten"

    # a changed source: that chapter only
    src = tiny / "book" / "ok.py"
    src.write_text(src.read_text() + '\n# %%\nprint("a new cell")\n')
    changed = build()
    assert changed.executed == ["ok"]
    assert "a new cell" in _printed(changed.notebooks["ok"])
    assert build().executed == []

    # a changed parameter: every chapter (each reads the run), with the new value
    path = tiny / "papermill_runs" / "tiny" / "params.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["parameters"]["data"]["seed"] = 8
    path.write_text(yaml.safe_dump(spec))
    assert build().executed == ["intro", "ok"]
    assert "seed=8 run=tiny k=3" in _printed(tiny / "papermill_runs" / "tiny" / "ok.ipynb")
    # a comment or a reordering of params.yaml changes no resolved parameter
    path.write_text("# the same parameters, written otherwise\n" + yaml.safe_dump(spec, sort_keys=False))
    assert build().executed == []

    # changed package code (the digest of agser's .py files)
    monkeypatch.setattr(book, "_package_digest", lambda: "the code of another agser version")
    assert build().executed == ["intro", "ok"]
    assert build().executed == []

    # force executes whatever is selected
    assert build(force=True, chapters="ok").executed == ["ok"]

    # another work folder is a papermill parameter: the chapter receives it and runs again
    elsewhere = tiny / "elsewhere"
    moved = build(chapters="ok", work_dir=elsewhere)
    assert moved.executed == ["ok"]
    injected = [c for c in _cells(moved.notebooks["ok"]) if "injected-parameters" in c["metadata"]["tags"]]
    assert f'work_dir = "{elsewhere.resolve()}"' in "".join(injected[0]["source"])
    assert f"work_dir absolute: True {elsewhere.resolve()}" in _printed(moved.notebooks["ok"])


@pytest.mark.slow
def test_rebuild_follows_the_content_of_the_runs_manifest(tiny, monkeypatch):
    """A manifest run is keyed by its manifest file's content, not its name."""
    import agser.book as book
    from agser.corpora import make_manifest, write_manifest

    monkeypatch.setattr(book, "_package_digest", lambda: "the code of this agser version")
    rows = [{"utterance_id": "u1", "corpus": "c", "speaker": "s1", "emotion": "neutral",
             "transcript": "hello", "audio_path": "a.wav"}]
    manifest = write_manifest(make_manifest(rows), tiny / "m.csv", relative=False)
    path = tiny / "papermill_runs" / "tiny" / "params.yaml"
    path.write_text(yaml.safe_dump({"parameters": {"data": {"source": "manifest", "manifest": str(manifest),
                                                            "seed": 7}, "cluster": {"k": 3}}}))
    assert build_book("tiny", root=tiny, chapters="ok", build_html=False, log=None).executed == ["ok"]
    assert build_book("tiny", root=tiny, chapters="ok", build_html=False, log=None).executed == []
    write_manifest(make_manifest([{**rows[0], "emotion": "anger"}]), manifest, relative=False)
    assert build_book("tiny", root=tiny, chapters="ok", build_html=False, log=None).executed == ["ok"]
