"""The run schema (agser.run.schema): every default once, unknown keys and wrong types refused.

A wrong parameter stops every entry point at once, before any work, with a
message that names the key and its section.
"""

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from agser.errors import ParameterError
from agser.run import SCHEMA, Run, defaults, describe, read_params_file, resolve_params
from agser.run.schema import Key

REPO = Path(__file__).resolve().parents[1]
RUN_FILES = sorted((REPO / "papermill_runs").glob("*/params.yaml"))


def _keys(node, where=""):
    """Dotted names of every key of a schema node."""
    for name, sub in node.items():
        dotted = f"{where}.{name}" if where else name
        if isinstance(sub, Key):
            yield dotted
        else:
            yield from _keys(sub, dotted)


# -- every default once -----------------------------------------------------------

def test_the_default_run_overrides_nothing():
    """The default run is the schema's defaults: its params.yaml holds ``parameters: {}``."""
    spec = read_params_file(REPO / "papermill_runs" / "default" / "params.yaml")
    assert spec["overrides"] == {}
    assert spec["parameters"] == defaults() == resolve_params()
    assert yaml.safe_load((REPO / "papermill_runs" / "default" / "params.yaml").read_text())["parameters"] == {}


@pytest.mark.parametrize("path", RUN_FILES, ids=lambda p: p.parent.name)
def test_no_run_repeats_a_default(path):
    """A run's params.yaml resolves and only overrides: a key set to its default would be the
    default written a second time (and would silently stay behind when the default changes)."""
    spec = read_params_file(path)

    def repeated(given, schema, where=""):
        for key, value in given.items():
            name = f"{where}.{key}" if where else key
            sub = schema[key]
            if isinstance(sub, Key):
                if value == sub.default and value not in ({}, None):
                    yield name
            else:
                yield from repeated(value or {}, sub, name)

    same = list(repeated(spec["overrides"], SCHEMA))
    assert same == [], f"{path.parent.name}/params.yaml sets keys to their defaults: {', '.join(same)}"


def test_describe_lists_every_key_once_with_its_default():
    lines = describe().splitlines()
    names = [line.split(" = ", 1)[0] for line in lines]
    assert names == list(_keys(SCHEMA)) and len(set(names)) == len(names)
    flat = dict(zip(names, lines))
    assert flat["cluster.k_range"].startswith("cluster.k_range = [2, 12]  # ")
    assert "acoustic.association.layer" in flat


def test_defaults_are_fresh_copies():
    a = defaults()
    a["cluster"]["k_range"].append(99)
    a["data"]["simulator"]["shift"] = 5.0
    assert defaults()["cluster"]["k_range"] == SCHEMA["cluster"]["k_range"].default
    assert "shift" not in defaults()["data"]["simulator"]


def test_command_line_options_of_schema_keys_have_no_default_of_their_own():
    """Every ``agser`` option that stands for a schema key is None unless given, so the schema
    stays the only home of its default, and its help names that default."""
    import argparse

    from agser.__main__ import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    seen = 0
    for command, p in sub.choices.items():
        for action in p._actions:
            if "__" not in action.dest or action.dest.startswith("_"):
                continue
            section, key = action.dest.split("__", 1)
            spec = SCHEMA[section][key]
            assert action.default is None, f"agser {command} {action.option_strings}: default {action.default!r}"
            assert f"default {spec.default!r} ({section}.{key})" in action.help
            seen += 1
    assert seen >= 10, "the extract and cluster options come from the schema"


# -- unknown keys and wrong values ------------------------------------------------

UNKNOWN = [
    ({"cluster": {"gammma": 1.0}}, "cluster.gammma", "section 'cluster'", "gamma"),
    ({"acoustic": {"association": {"layr": 3}}}, "acoustic.association.layr",
     "section 'acoustic.association'", "layer"),
    ({"data": {"simulator": {"shfit": 1}}}, "data.simulator.shfit", "section 'data.simulator'", "shift"),
    ({"acoustic": {"options": {"n_mel": 3}}}, "n_mel", "acoustic.options", "n_mels"),
    ({"extract": {"worker": 2}}, "extract.worker", "section 'extract'", "workers"),
    ({"sre": {"seeds": [0]}}, "sre", "the top level", "ser"),
]


@pytest.mark.parametrize("overrides,key,section,near", UNKNOWN, ids=[u[1] for u in UNKNOWN])
def test_unknown_key_at_any_depth_is_named_with_its_section(overrides, key, section, near):
    with pytest.raises(ParameterError) as err:
        resolve_params(overrides)
    msg = str(err.value)
    assert key in msg and section in msg and f"did you mean {near!r}?" in msg, msg
    # the Run refuses it the same way, when it is made
    with pytest.raises(ParameterError, match=key.replace(".", r"\.")):
        Run(overrides, work_dir="never-created")
    assert not Path("never-created").exists()


WRONG = [
    ({"cluster": {"max_iter": "30"}}, r"cluster\.max_iter='30' must be an integer"),
    ({"ser": {"frame_pool": "4"}}, r"ser\.frame_pool='4' must be an integer"),
    ({"cluster": {"tol": "1e-4"}}, r"cluster\.tol='1e-4' must be a number \(YAML reads"),
    ({"cluster": {"k_range": [2]}}, r"cluster\.k_range=\[2\] must be a list of 2 values"),
    ({"cluster": {"k": True}}, r"cluster\.k=True must be an integer"),
    ({"cluster": {"gamma": None}}, r"cluster\.gamma=null is not allowed"),
    ({"extract": {"landmarks": "openpose"}}, r"extract\.landmarks='openpose' must be one of"),
    ({"data": {"simulator": {"shift": "x"}}}, r"data\.simulator\.shift='x' must be a number"),
    ({"cluster": "fast"}, r"cluster='fast' must be a mapping"),
    ({"extract": {"workers": 0}}, r"extract\.workers=0 must be >= 1"),
]


@pytest.mark.parametrize("overrides,message", WRONG, ids=[w[1].split("=")[0].replace("\\", "") for w in WRONG])
def test_wrong_value_is_named_with_its_section(overrides, message):
    with pytest.raises(ParameterError, match=message):
        resolve_params(overrides)


def test_values_are_checked_and_converted_not_shared():
    p = resolve_params({"cluster": {"gamma": 2, "k_range": [3, 5]}, "data": {"simulator": {"shift": 1}}})
    assert p["cluster"]["gamma"] == 2.0 and isinstance(p["cluster"]["gamma"], float)
    assert p["cluster"]["k_range"] == [3, 5] and p["data"]["simulator"] == {"shift": 1}
    assert p["cluster"]["max_iter"] == SCHEMA["cluster"]["max_iter"].default


def test_params_file_errors_name_the_file_and_the_key(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("parameters:\n  cluster:\n    gammma: 1.0\n")
    with pytest.raises(ParameterError, match=rf"{path}: cluster\.gammma is not a parameter of section "
                                             r"'cluster'; did you mean 'gamma'\?"):
        read_params_file(path)
    path.write_text("parameter:\n  cluster: {}\n")
    with pytest.raises(ParameterError, match=r"parameter is not a parameter of the top level; "
                                             r"did you mean 'parameters'\?"):
        read_params_file(path)
    path.write_text("parameters: [1, 2\n")
    with pytest.raises(ParameterError, match="is not valid YAML"):
        read_params_file(path)
    path.write_text("chapters: intro\nparameters: {}\n")
    with pytest.raises(ParameterError, match="'chapters' must be a list"):
        read_params_file(path)
    with pytest.raises(ParameterError, match="does not exist"):
        read_params_file(tmp_path / "none.yaml")


def test_a_missing_path_stops_the_run_when_it_is_made(tmp_path):
    with pytest.raises(ParameterError, match=r"data\.manifest='nowhere\.csv' does not exist"):
        Run({"data": {"source": "manifest", "manifest": "nowhere.csv"}}, work_dir=tmp_path / "w")
    with pytest.raises(ParameterError, match=r"acoustic\.options\.name_or_path is required"):
        Run({"acoustic": {"encoder": "hf"}}, work_dir=tmp_path / "w")
    assert not (tmp_path / "w").exists()


# -- the entry points stop at once ------------------------------------------------

MAIN = "import sys; from agser.__main__ import main; sys.exit(main(sys.argv[1:]))"
#: Seconds within which a refused command must have stopped: starting Python and reading one
#: YAML file, far less than the simulation and extraction any work would start with.
PROMPT_S = 20.0


def _agser(args, cwd):
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", MAIN, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)
    return proc, time.perf_counter() - t0


@pytest.fixture
def misspelt_root(tmp_path):
    """A book root whose run 'bad' misspells cluster.gamma; its one chapter would never run."""
    root = tmp_path / "root"
    (root / "book").mkdir(parents=True)
    (root / "_toc.yml").write_text("format: jb-book\nroot: _run/intro\n")
    (root / "book" / "intro.py").write_text('# %% [markdown]\n# # Intro\n\n# %% tags=["parameters"]\n'
                                            'run = "default"\nwork_dir = None\n')
    (root / "papermill_runs" / "bad").mkdir(parents=True)
    (root / "papermill_runs" / "bad" / "params.yaml").write_text(
        "parameters:\n  data: {utterances_per_corpus: 8}\n  cluster:\n    gammma: 1.0\n")
    return root


def _no_work_done(root):
    run_dir = root / "papermill_runs" / "bad"
    left = sorted(p.name for p in run_dir.iterdir())
    assert left == ["params.yaml"], f"work was started: {left}"
    assert not (root / "_build").exists() and not (root / "_run").exists()


@pytest.mark.parametrize("command", [
    ["book", "--run", "bad", "--no-html"],
    ["train", "--method", "AG", "--direction", "C->I", "--run", "bad"],
    ["train", "--method", "AG", "--direction", "C->I", "--params", "papermill_runs/bad/params.yaml"],
    ["cluster", "--run", "bad"],
], ids=["book", "train --run", "train --params", "cluster"])
def test_misspelt_key_stops_the_command_before_any_work(misspelt_root, command):
    proc, seconds = _agser(command + (["--root", str(misspelt_root)] if command[0] == "book" else []),
                           cwd=misspelt_root)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert f"agser {command[0]}: error:" in proc.stderr
    assert "cluster.gammma is not a parameter of section 'cluster'; did you mean 'gamma'?" in proc.stderr
    assert "params.yaml" in proc.stderr
    assert seconds < PROMPT_S, f"agser {command[0]} took {seconds:.1f} s to refuse a misspelt key"
    _no_work_done(misspelt_root)
