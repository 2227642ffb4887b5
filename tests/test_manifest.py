"""The manifest schema: validation messages, path handling, round trip."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agser.corpora import (
    EMOTIONS,
    MANIFEST_COLUMNS,
    make_manifest,
    read_manifest,
    validate_manifest,
    write_manifest,
)
from agser.errors import ParameterError


def rows(n=3, **override):
    out = []
    for i in range(n):
        r = {"utterance_id": f"u{i}", "corpus": "sim-crema", "speaker": f"s{i % 2}",
             "emotion": EMOTIONS[i % 4], "transcript": "don't forget a jacket",
             "audio_path": f"wav/u{i}.wav"}
        r.update({k: v[i] if isinstance(v, list) else v for k, v in override.items()})
        out.append(r)
    return out


def frame(n=3, **override):
    return make_manifest(rows(n)).assign(**override) if override else make_manifest(rows(n))


def test_make_manifest_fills_orders_and_keeps_extra_columns():
    m = make_manifest([dict(r, frame_rate=29.97) for r in rows(2)])
    assert tuple(m.columns[: len(MANIFEST_COLUMNS)]) == MANIFEST_COLUMNS
    assert list(m.columns[len(MANIFEST_COLUMNS):]) == ["frame_rate"]
    assert m["video_path"].tolist() == ["", ""] and m["frame_rate"].tolist() == [29.97, 29.97]


@pytest.mark.parametrize("column", ["utterance_id", "speaker", "emotion", "audio_path"])
def test_missing_column_is_named(column):
    df = frame().drop(columns=[column])
    with pytest.raises(ParameterError, match=f"manifest is missing column '{column}'"):
        validate_manifest(df)


@pytest.mark.parametrize("value", ["", "   ", np.nan, None])
def test_empty_speaker_names_row_and_column(value):
    df = frame()
    df["speaker"] = df["speaker"].astype(object)
    df.loc[1, "speaker"] = value
    with pytest.raises(ParameterError, match=r"manifest row 1: column 'speaker' is empty"):
        validate_manifest(df)


def test_empty_corpus_and_id_name_row_and_column():
    with pytest.raises(ParameterError, match=r"row 2: column 'corpus' is empty"):
        make_manifest(rows(3, corpus=["a", "b", ""]))
    with pytest.raises(ParameterError, match=r"row 0: column 'utterance_id' is empty"):
        make_manifest(rows(2, utterance_id=["", "x"]))


def test_duplicate_id_names_row_and_value():
    with pytest.raises(ParameterError, match=r"manifest row 2: column 'utterance_id' repeats 'u0'"):
        make_manifest(rows(3, utterance_id=["u0", "u1", "u0"]))


def test_unknown_label_names_row_column_and_allowed_labels():
    with pytest.raises(ParameterError,
                       match=r"manifest row 1: column 'emotion' has unknown label 'angry'.*anger"):
        make_manifest(rows(3, emotion=["anger", "angry", "neutral"]))


def test_empty_label_means_unlabelled():
    m = make_manifest(rows(2, emotion=["", "sadness"]))
    assert m["emotion"].tolist() == ["", "sadness"]


def test_no_media_names_row_and_columns():
    with pytest.raises(ParameterError, match=r"manifest row 1 \('u1'\).*'audio_path', 'video_path' "
                                             r"and 'landmarks_path' are all empty"):
        make_manifest(rows(2, audio_path=["a.wav", ""]))
    # Landmarks alone are enough media (OpenFace CSV, no video).
    m = make_manifest(rows(1, audio_path="", landmarks_path="lm/u0.csv"))
    assert m.loc[0, "landmarks_path"] == "lm/u0.csv"


def test_not_a_dataframe():
    with pytest.raises(ParameterError, match="must be a pandas DataFrame, got list"):
        validate_manifest(rows(1))


def test_read_manifest_resolves_relative_paths_against_its_folder(tmp_path, monkeypatch):
    folder = tmp_path / "corpus"
    folder.mkdir()
    make_manifest(rows(2, audio_path=["wav/u0.wav", "/abs/u1.wav"],
                       alignment_path=["tg/u0.TextGrid", ""])).to_csv(folder / "manifest.csv", index=False)
    monkeypatch.chdir(tmp_path)  # resolution must not depend on the working directory
    m = read_manifest(Path("corpus") / "manifest.csv")
    assert m.loc[0, "audio_path"] == str(folder.resolve() / "wav" / "u0.wav")
    assert m.loc[1, "audio_path"] == "/abs/u1.wav"
    assert m.loc[0, "alignment_path"] == str(folder.resolve() / "tg" / "u0.TextGrid")
    assert m.loc[1, "alignment_path"] == "" and m.loc[0, "video_path"] == ""
    for col in ("landmarks_path", "transcript"):
        assert m[col].map(type).eq(str).all()  # empty cells are "", not NaN


def test_read_manifest_missing_file(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        read_manifest(tmp_path / "nope.csv")


def test_read_manifest_validates(tmp_path):
    p = tmp_path / "m.csv"
    ok = make_manifest(rows(2))
    ok.loc[1, "emotion"] = "joy"
    ok.to_csv(p, index=False)
    with pytest.raises(ParameterError, match="row 1: column 'emotion' has unknown label 'joy'"):
        read_manifest(p)


def test_write_read_round_trip(tmp_path):
    folder = tmp_path / "out"
    inside = str((folder / "wav" / "u0.wav").resolve())
    outside = str((tmp_path / "elsewhere" / "u1.wav").resolve())
    m = make_manifest(rows(3, audio_path=[inside, outside, "wav/u2.wav"],
                           frame_rate=[29.97, 25.0, 30.0], level=["HI", "LO", "XX"]))
    path = write_manifest(m, folder / "manifest.csv")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert raw["audio_path"].tolist()[:2] == [os.path.join("wav", "u0.wav"), outside]
    back = read_manifest(path)
    assert back["audio_path"].tolist() == [inside, outside, str(folder.resolve() / "wav" / "u2.wav")]
    assert list(back.columns) == list(m.columns)
    cols = [c for c in m.columns if c not in ("audio_path", "frame_rate")]
    pd.testing.assert_frame_equal(back[cols], m[cols])
    assert back["frame_rate"].astype(float).tolist() == [29.97, 25.0, 30.0]
    # The tree can move: paths follow the manifest.
    moved = tmp_path / "moved"
    folder.rename(moved)
    assert read_manifest(moved / "manifest.csv").loc[0, "audio_path"] == str(
        moved.resolve() / "wav" / "u0.wav")


def test_write_manifest_refuses_invalid(tmp_path):
    df = frame()
    df.loc[0, "emotion"] = "bored"
    with pytest.raises(ParameterError, match="row 0: column 'emotion'"):
        write_manifest(df, tmp_path / "m.csv")
    assert not (tmp_path / "m.csv").exists()


def test_extra_path_column_missing_on_some_rows_round_trips(tmp_path):
    # joining corpora leaves NaN in an extra *_path column on the rows of the
    # corpus that lacks it; writing and reading must still work
    import pandas as pd

    from agser.corpora import read_manifest, validate_manifest, write_manifest

    (tmp_path / "a.wav").write_bytes(b"x")
    (tmp_path / "a.align").write_bytes(b"x")
    rows = pd.DataFrame(
        [
            {"utterance_id": "u1", "corpus": "c", "speaker": "s", "emotion": "", "transcript": "",
             "audio_path": str(tmp_path / "a.wav"), "video_path": "", "landmarks_path": "",
             "alignment_path": "", "word_alignment_path": str(tmp_path / "a.align")},
            {"utterance_id": "u2", "corpus": "d", "speaker": "s", "emotion": "", "transcript": "",
             "audio_path": str(tmp_path / "a.wav"), "video_path": "", "landmarks_path": "",
             "alignment_path": "", "word_alignment_path": float("nan")},
        ]
    )
    out = write_manifest(validate_manifest(rows), tmp_path / "m.csv")
    assert "a.align" in (tmp_path / "m.csv").read_text().splitlines()[1]
    back = read_manifest(out)
    assert back["word_alignment_path"].tolist() == [str(tmp_path / "a.align"), ""]
