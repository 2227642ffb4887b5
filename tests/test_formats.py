"""OpenFace CSV, TextGrid and ARPAbet/IPA formats."""

import numpy as np
import pandas as pd
import pytest

from agser.errors import InputError, ParameterError
from agser.landmarks.openface import read_openface_csv, write_openface_csv
from agser.landmarks.types import Landmarks
from agser.phones.ipa import ARPABET_TO_IPA, PAPER_VOWELS, VOWELS, arpabet_to_ipa, strip_stress
from agser.phones.textgrid import Alignment, read_textgrid, write_textgrid


def _openface_text(rows, spaces=True, extra=False):
    sep = ", " if spaces else ","
    cols = ["frame", "face_id", "timestamp", "confidence", "success"]
    if extra:
        cols += ["gaze_0_x", "pose_Tx"]
    cols += [f"x_{i}" for i in range(68)] + [f"y_{i}" for i in range(68)]
    lines = [sep.join(cols)]
    for r in rows:
        lines.append(sep.join(str(v) for v in r))
    return "\n".join(lines) + "\n"


def test_openface_reader_leading_spaces_and_missing_face(tmp_path):
    xs = np.arange(68) * 1.5
    ys = np.arange(68) * 2.0 + 100
    good = [1, 0, 0.0, 0.97, 1, 0.1, 2.0] + list(xs) + list(ys)
    lost = [2, 0, 0.033, 0.0, 0, 0.0, 0.0] + [0] * 136
    p = tmp_path / "of.csv"
    p.write_text(_openface_text([good, lost], spaces=True, extra=True))
    lm = read_openface_csv(p)
    assert lm.points.shape == (2, 68, 2)
    np.testing.assert_allclose(lm.points[0, :, 0], xs)
    np.testing.assert_allclose(lm.points[0, :, 1], ys)
    assert lm.success.tolist() == [True, False]
    assert np.isnan(lm.points[1]).all()
    assert lm.confidence.tolist() == [0.97, 0.0]
    np.testing.assert_allclose(lm.timestamps, [0.0, 0.033])


def test_openface_reader_plain_header_and_empty_cells(tmp_path):
    row = [1, 0, 0.0, 0.9, 1] + [""] + [1.0] * 135
    p = tmp_path / "of.csv"
    p.write_text(_openface_text([row], spaces=False))
    lm = read_openface_csv(p)
    assert not lm.success[0] and np.isnan(lm.points[0]).all()


def test_openface_reader_errors(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        read_openface_csv(tmp_path / "nope.csv")
    p = tmp_path / "bad.csv"
    p.write_text("frame, timestamp\n1, 0.0\n")
    with pytest.raises(InputError, match="x_0"):
        read_openface_csv(p)


def test_openface_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    pts = rng.uniform(0, 400, size=(5, 68, 2))
    success = np.array([1, 1, 0, 1, 1], bool)
    pts[~success] = np.nan
    lm = Landmarks(pts, np.where(success, 0.9, 0.0), success, np.arange(5) / 25)
    p = tmp_path / "rt.csv"
    write_openface_csv(lm, p)
    assert p.read_text().startswith("frame, face_id, timestamp, confidence, success, x_0")
    back = read_openface_csv(p)
    np.testing.assert_allclose(back.points[success], pts[success], atol=6e-4)
    assert back.success.tolist() == success.tolist()
    np.testing.assert_allclose(back.timestamps, lm.timestamps, atol=1e-3)


def test_frame_rate_of_a_30fps_csv_with_3_decimal_timestamps(tmp_path):
    # OpenFace writes timestamps with 3 decimals: at 30 fps the steps are 0.033 or
    # 0.034 s, whose median reads 30.3 fps.
    face = [0.98, 1] + [10.0] * 136
    rows = [[k + 1, 0, f"{k / 30:.3f}"] + face for k in range(90)]
    rows[-1][2] = ""  # a frame without a timestamp does not count
    p = tmp_path / "fps30.csv"
    p.write_text(_openface_text(rows, spaces=True))
    lm = read_openface_csv(p)
    assert np.isnan(lm.timestamps[-1])
    assert abs(lm.frame_rate - 30.0) < 0.01, lm.frame_rate
    assert np.isnan(Landmarks(lm.points[:1], [1.0], [True], [0.0]).frame_rate)


def test_landmarks_shape_checked():
    with pytest.raises(ParameterError, match="shape"):
        Landmarks(np.zeros((3, 20, 2)), np.ones(3), np.ones(3, bool), np.arange(3))
    with pytest.raises(ParameterError, match="confidence"):
        Landmarks(np.zeros((3, 68, 2)), np.ones(2), np.ones(3, bool), np.arange(3))


def _alignment():
    words = pd.DataFrame({"label": ["don't", "forget"], "start": [0.2, 0.5], "end": [0.5, 0.9]})
    phones = pd.DataFrame(
        {"label": ["D", "OW1", "N", "T", "F", "ER0", "G", "EH1", "T"],
         "start": [0.2, 0.27, 0.38, 0.44, 0.5, 0.58, 0.66, 0.72, 0.82],
         "end": [0.27, 0.38, 0.44, 0.5, 0.58, 0.66, 0.72, 0.82, 0.9]}
    )
    return Alignment(words, phones, duration=1.1)


def test_textgrid_round_trip(tmp_path):
    a = _alignment()
    p = tmp_path / "a.TextGrid"
    write_textgrid(a, p)
    b = read_textgrid(p)
    assert b.duration == pytest.approx(1.1)
    pd.testing.assert_frame_equal(a.words, b.words)
    pd.testing.assert_frame_equal(a.phones, b.phones)
    # silences are real intervals in the file and come back when asked
    c = read_textgrid(p, keep_silence=True)
    assert c.words["label"].tolist() == ["", "don't", "forget", ""]
    assert c.phones["start"].iloc[0] == 0.0 and c.phones["end"].iloc[-1] == pytest.approx(1.1)


MFA_SHORT = '''File type = "ooTextFile"
Object class = "TextGrid"

0
1.0
<exists>
2
"IntervalTier"
"spk1 - words"
0
1.0
3
0
0.1
""
0.1
0.6
"hello"
0.6
1.0
"sp"
"IntervalTier"
"spk1 - phones"
0
1.0
4
0
0.1
"sil"
0.1
0.3
"HH"
0.3
0.6
"AH0"
0.6
1.0
"spn"
'''


def test_textgrid_short_format_mfa_speaker_tiers(tmp_path):
    p = tmp_path / "mfa.TextGrid"
    p.write_text(MFA_SHORT)
    a = read_textgrid(p)
    assert a.words["label"].tolist() == ["hello"]
    assert a.phones["label"].tolist() == ["HH", "AH0"]
    assert a.phones["end"].tolist() == [0.3, 0.6]


def test_textgrid_errors(tmp_path):
    p = tmp_path / "x.TextGrid"
    p.write_text("not a textgrid")
    with pytest.raises(InputError, match="not a Praat TextGrid"):
        read_textgrid(p)
    p.write_text(MFA_SHORT.replace("spk1 - phones", "segments"))
    with pytest.raises(InputError, match="no tier named 'phones'"):
        read_textgrid(p)


def test_textgrid_truncated_or_malformed_named(tmp_path):
    a = _alignment()
    full = tmp_path / "full.TextGrid"
    write_textgrid(a, full)
    text = full.read_text()
    # cut at every 97th character: never a shorter alignment read as if whole
    for cut in range(60, len(text) - 2, 97):
        p = tmp_path / "cut.TextGrid"
        p.write_text(text[:cut])
        with pytest.raises(InputError, match=r"cut.TextGrid: (truncated|malformed or truncated|"
                                             r"not a Praat)") as exc:
            read_textgrid(p)
        assert exc.value.stage == "phones"
    # a cut between two intervals leaves a well-formed prefix that praatio reads
    cut = text.index("        intervals [5]:", text.index('name = "phones"'))
    (tmp_path / "cut.TextGrid").write_text(text[:cut])
    with pytest.raises(InputError, match=r"cut.TextGrid: truncated TextGrid \(declares 2 tiers"):
        read_textgrid(tmp_path / "cut.TextGrid")
    (tmp_path / "bad.TextGrid").write_text(text.replace("xmin = 0.44", "xmin = 0.5x"))
    with pytest.raises(InputError, match="bad.TextGrid: malformed or truncated TextGrid"):
        read_textgrid(tmp_path / "bad.TextGrid")
    # overlapping intervals within a tier: praatio's tier check
    (tmp_path / "overlap.TextGrid").write_text(text.replace("xmax = 0.38 ", "xmax = 0.40 ", 1))
    with pytest.raises(InputError, match="overlap.TextGrid: malformed or truncated TextGrid .*overlap"):
        read_textgrid(tmp_path / "overlap.TextGrid")
    with pytest.raises(ParameterError, match="does not exist"):
        read_textgrid(tmp_path / "none.TextGrid")


def test_textgrid_utf16_and_point_tier(tmp_path):
    p = tmp_path / "a.TextGrid"
    write_textgrid(_alignment(), p)
    (tmp_path / "u16.TextGrid").write_bytes(p.read_text().encode("utf-16"))  # with its BOM
    pd.testing.assert_frame_equal(read_textgrid(tmp_path / "u16.TextGrid").phones, _alignment().phones)
    point = MFA_SHORT.replace('"IntervalTier"\n"spk1 - phones"', '"TextTier"\n"spk1 - phones"')
    point = point.split('"TextTier"')[0] + '"TextTier"\n"spk1 - phones"\n0\n1.0\n1\n0.3\n"HH"\n'
    (tmp_path / "pt.TextGrid").write_text(point)
    with pytest.raises(InputError, match="pt.TextGrid: tier 'spk1 - phones' is a point tier"):
        read_textgrid(tmp_path / "pt.TextGrid")


def test_write_textgrid_rejects_an_interval_of_no_duration(tmp_path):
    words = pd.DataFrame({"label": ["hi"], "start": [0.1], "end": [0.4]})
    phones = pd.DataFrame({"label": ["HH", "AY1"], "start": [0.1, 0.3], "end": [0.3, 0.3]})
    with pytest.raises(ParameterError, match="interval 'AY1' .* has no duration"):
        write_textgrid(Alignment(words, phones, duration=0.5), tmp_path / "z.TextGrid")
    # an interval starting inside the previous one starts where that one ends
    phones = pd.DataFrame({"label": ["HH", "AY1"], "start": [0.1, 0.25], "end": [0.3, 0.4]})
    write_textgrid(Alignment(words, phones, duration=0.5), tmp_path / "o.TextGrid")
    assert read_textgrid(tmp_path / "o.TextGrid").phones["start"].tolist() == [0.1, 0.3]


def test_ipa_mapping():
    assert len(ARPABET_TO_IPA) == 39
    assert arpabet_to_ipa("AA1") == "ɑ"
    assert arpabet_to_ipa("AH0") == "ə"
    assert arpabet_to_ipa("AH1") == "ʌ" == arpabet_to_ipa("AH2")
    assert arpabet_to_ipa("EH2") == "ɛ" and arpabet_to_ipa("IY0") == "i"
    assert arpabet_to_ipa("AE1") == "æ" and arpabet_to_ipa("UW1") == "u"
    assert arpabet_to_ipa("ER0") == "ɚ" and arpabet_to_ipa("ER1") == "ɝ"
    assert arpabet_to_ipa("sh") == "ʃ"
    assert set(PAPER_VOWELS) <= VOWELS
    assert strip_stress("OY2") == "OY"
    for bad in ("XX", "T1", "sil", ""):
        with pytest.raises(ParameterError):
            arpabet_to_ipa(bad)
