"""Montreal Forced Aligner 3 TextGrids, IPA (english_mfa) and ARPAbet (english_us_arpa).

The fixtures are written the way MFA 3 writes its output
(``montreal_forced_aligner/textgrid.py``, ``Textgrid.save`` and
``export_textgrid``): long ooTextFile format, one ``words`` and one
``phones`` tier per speaker (``"<speaker> - phones"`` when a file has
several), silences left as empty-label intervals (gaps over 1 ms filled),
``spn`` for the phones of an unknown word, times rounded to 1 us, the grid's
``xmin`` written as ``0`` and each interval's as a Python float.
"""

import unicodedata

import numpy as np
import pandas as pd
import pytest

from agser.errors import InputError, ParameterError
from agser.phones.ipa import (
    MFA_IPA_TO_ARPABET,
    PAPER_VOWELS,
    arpabet_to_ipa,
    detect_phone_set,
    ipa_to_arpabet,
    is_vowel,
)
from agser.phones.textgrid import read_textgrid

# "the hot soup, the cheap bed, a jacket, agser": every vowel of the paper once
# or more (ə ɑ u i ɛ æ); "agser" is not in MFA's dictionary (spn). (word, start, end),
# fast enough to fit the shortest simulated face track (1.3 s).
WORDS = [("the", 0.11, 0.15), ("hot", 0.15, 0.26), ("soup", 0.26, 0.38),
         ("the", 0.48, 0.51), ("cheap", 0.51, 0.63), ("bed", 0.63, 0.73),
         ("a", 0.78, 0.81), ("jacket", 0.81, 0.98), ("agser", 1.05, 1.23)]
# The english_mfa model's phones (IPA) and english_us_arpa's (ARPAbet), interval by interval.
IPA = ["d̪", "ə", "h", "ɑː", "tʰ", "s", "uː", "p", "ð", "ə", "tʃ", "iː", "p", "b", "ɛ", "d",
       "ə", "dʒ", "æ", "c", "ɪ", "tʲ", "spn"]
ARPA = ["DH", "AH0", "HH", "AA1", "T", "S", "UW1", "P", "DH", "AH0", "CH", "IY1", "P", "B",
        "EH1", "D", "AH0", "JH", "AE1", "K", "IH0", "T", "spn"]
PHONES_PER_WORD = [2, 3, 3, 2, 3, 3, 1, 5, 1]
DURATION = 1.3


def _phone_times():
    out = []
    for (_, start, end), n in zip(WORDS, PHONES_PER_WORD):
        edges = np.linspace(start, end, n + 1)
        out += [(round(a, 6), round(b, 6)) for a, b in zip(edges[:-1], edges[1:])]
    return out


def _with_blanks(intervals, duration):
    """MFA's includeBlankSpaces: an empty interval wherever a gap is over 1 ms."""
    out, t = [], 0.0
    for start, end, label in intervals:
        if start - t > 0.001:
            out.append((t, start, ""))
        out.append((start, end, label))
        t = end
    if duration - t > 0.001:
        out.append((t, duration, ""))
    return out


def mfa_textgrid(path, phone_labels, speaker=None, short=False):
    """Write a TextGrid of WORDS with the given phone labels, as MFA 3 does."""
    words = [(s, e, w) for w, s, e in WORDS]
    phones = [(s, e, p) for (s, e), p in zip(_phone_times(), phone_labels)]
    tiers = [("words", _with_blanks(words, DURATION)), ("phones", _with_blanks(phones, DURATION))]
    if speaker:
        tiers = [(f"{speaker} - {name}", rows) for name, rows in tiers]
    tab = " " * 4
    if short:
        out = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "0", f"{DURATION}",
               "<exists>", f"{len(tiers)}"]
        for name, rows in tiers:
            out += ['"IntervalTier"', f'"{name}"', "0", f"{DURATION}", f"{len(rows)}"]
            for start, end, label in rows:
                out += [f"{float(start)}", f"{float(end)}", f'"{label}"']
    else:
        out = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0 ",
               f"xmax = {DURATION} ", "tiers? <exists> ", f"size = {len(tiers)} ", "item []: "]
        for k, (name, rows) in enumerate(tiers, 1):
            out += [f"{tab}item [{k}]:", f'{tab * 2}class = "IntervalTier" ', f'{tab * 2}name = "{name}" ',
                    f"{tab * 2}xmin = 0 ", f"{tab * 2}xmax = {DURATION} ",
                    f"{tab * 2}intervals: size = {len(rows)} "]
            for j, (start, end, label) in enumerate(rows, 1):
                out += [f"{tab * 2}intervals [{j}]:", f"{tab * 3}xmin = {float(start)} ",
                        f"{tab * 3}xmax = {float(end)} ", f'{tab * 3}text = "{label}" ']
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


# -- the phone inventory -----------------------------------------------------------

#: The "Phones:" lines of MFA's English dictionaries (mfa-models,
#: dictionary/english/<name>/<version>/README.md): english_mfa v3.0.0 and
#: v3.1.0, english_us_mfa v3.1.0, english_uk_mfa v3.1.0.
MFA_INVENTORIES = {
    "english_mfa v3.0.0": "a aj aw aː b bʲ c cʰ cʷ d dʒ dʲ d̪ e ej f fʲ fʷ h i iː j k kp kʰ kʷ l m mʲ "
                          "m̩ n n̩ o ow p pʰ pʲ pʷ s t tʃ tʰ tʲ tʷ t̪ u uː v vʲ vʷ w z æ ç ð ŋ ɐ ɑ ɑː "
                          "ɒ ɒː ɔ ɔj ə əw ɚ ɛ ɛː ɜ ɜː ɝ ɟ ɟʷ ɡ ɡb ɡʷ ɪ ɫ ɫ̩ ɱ ɲ ɹ ɾ ɾʲ ɾ̃ ʃ ʉ ʉː ʊ "
                          "ʎ ʒ ʔ θ",
    "english_mfa v3.1.0": "a aj aw aː b bʲ c cʰ cʷ d dʒ dʲ d̪ e ej eː f fʲ h i iː j k kp kʰ kʷ l m mʲ "
                          "m̩ n o ow oː p pʰ pʲ pʷ s t tʃ tʰ tʲ tʷ t̪ u uː v vʲ w z æ ç ð ŋ ɐ ɑ ɑː ɒ "
                          "ɒː ɔ ɔj ɖ ə əw ɚ ɛ ɛː ɜ ɜː ɝ ɟ ɟʷ ɡ ɡʷ ɪ ɫ ɲ ɹ ɾ ʃ ʈ ʈʲ ʈʷ ʉ ʉː ʊ ʋ ʎ ʒ θ",
    "english_us_mfa v3.1.0": "aj aw b bʲ c cʰ cʷ d dʒ dʲ d̪ ej f fʲ h i iː j k kʰ kʷ l m mʲ m̩ n n̩ ow "
                             "p pʰ pʲ pʷ s t tʃ tʰ tʲ tʷ t̪ v vʲ w z æ ç ð ŋ ɐ ɑ ɑː ɒ ɒː ɔj ə ɚ ɛ ɝ ɟ "
                             "ɟʷ ɡ ɡʷ ɪ ɫ ɫ̩ ɱ ɲ ɹ ɾ ɾʲ ɾ̃ ʃ ʉ ʉː ʊ ʎ ʒ ʔ θ",
    "english_uk_mfa v3.1.0": "a aj aw b bʲ c cʰ cʷ d dʒ dʲ d̪ e ej f fʲ h i iː j k kʰ kʷ l m mʲ m̩ n n̩ "
                             "p pʰ pʲ pʷ s t tʃ tʰ tʲ tʷ t̪ v vʲ vʷ w z ç ð ŋ ɐ ɑ ɑː ɒ ɒː ɔj ə əw ɛ ɛː "
                             "ɜ ɜː ɟ ɟʷ ɡ ɡʷ ɪ ɫ ɫ̩ ɲ ɹ ʃ ʉ ʉː ʊ ʎ ʒ ʔ θ",
}
#: The vowels (and diphthongs) among them; everything else is a consonant.
MFA_VOWELS = set("a aj aw aː e ej eː i iː o ow oː u uː æ ɐ ɑ ɑː ɒ ɒː ɔ ɔj ə əw ɚ ɛ ɛː ɜ ɜː ɝ ɪ ʉ ʉː "
                 "ʊ".split())


@pytest.mark.parametrize("name", sorted(MFA_INVENTORIES))
def test_every_mfa_english_phone_maps_to_arpabet_of_its_kind(name):
    for phone in MFA_INVENTORIES[name].split():
        arpa = ipa_to_arpabet(phone)
        assert is_vowel(arpa) == (phone in MFA_VOWELS), (phone, arpa)
        arpabet_to_ipa(arpa)  # a real ARPAbet phone


def test_paper_vowel_classes():
    got = {}
    for phone in set(" ".join(MFA_INVENTORIES.values()).split()):
        got.setdefault(arpabet_to_ipa(ipa_to_arpabet(phone)), set()).add(phone)
    assert got["ɑ"] == {"ɑ", "ɑː"}
    assert got["ə"] == {"ə"}
    assert got["ɛ"] == {"ɛ", "ɛː"}
    assert got["i"] == {"i", "iː"}
    assert got["æ"] == {"æ", "a", "aː"}
    assert got["u"] == {"u", "uː", "ʉ", "ʉː"}
    # the rounded back vowels stay out of the unrounded /ɑ/; STRUT is /ʌ/, NURSE /ɝ/
    assert got["ɔ"] == {"ɒ", "ɒː", "ɔ"} and got["ʌ"] == {"ɐ"} and got["ɝ"] == {"ɝ", "ɜ", "ɜː"}
    assert set(PAPER_VOWELS) <= set(got)


def test_ipa_to_arpabet_details():
    assert [ipa_to_arpabet(p) for p in ("t̪", "d̪", "ɾ̃", "ɾʲ", "ʔ", "kp", "ɡb", "ɫ̩", "n̩", "g")] == \
        ["TH", "DH", "N", "T", "T", "P", "B", "L", "N", "G"]
    # the same phone in NFD (ç as c + combining cedilla) maps alike
    assert ipa_to_arpabet(unicodedata.normalize("NFD", "ç")) == "HH" == ipa_to_arpabet("ç")
    assert "ɑː" not in MFA_IPA_TO_ARPABET  # length is a mark removed, not a table entry
    for bad in ("AA1", "x", "", "ː", "spn"):
        with pytest.raises(ParameterError, match="not an MFA IPA phone"):
            ipa_to_arpabet(bad)


def test_detect_phone_set():
    assert detect_phone_set(ARPA[:-1]) == "arpabet" and detect_phone_set(IPA[:-1]) == "ipa"
    # symbols both sets share mean the same phone: such a file reads as ARPAbet
    assert detect_phone_set(["b", "ow", "t"]) == "arpabet"
    with pytest.raises(ParameterError, match="mix ARPAbet"):
        detect_phone_set(["AA1", "ɑ"])
    with pytest.raises(ParameterError, match="'xyz' are neither ARPAbet nor MFA IPA"):
        detect_phone_set(["ɑ", "xyz"])


# -- reading MFA's files ---------------------------------------------------------

@pytest.mark.parametrize("short", [False, True], ids=["long", "short"])
def test_mfa_ipa_and_arpabet_textgrids_read_alike(tmp_path, short):
    ipa = read_textgrid(mfa_textgrid(tmp_path / "ipa.TextGrid", IPA, short=short))
    arpa = read_textgrid(mfa_textgrid(tmp_path / "arpa.TextGrid", ARPA, short=short))
    assert (ipa.phone_set, arpa.phone_set) == ("ipa", "arpabet")
    pd.testing.assert_frame_equal(ipa.words, arpa.words)
    assert ipa.words["label"].tolist() == [w for w, _, _ in WORDS]  # silences dropped
    # spn (the unknown word's phone) and the empty silences are dropped; the rest is ARPAbet
    assert arpa.phones["label"].tolist() == ARPA[:-1]
    assert [arpabet_to_ipa(p) for p in ipa.phones["label"]] == \
        [arpabet_to_ipa(p) for p in arpa.phones["label"]]
    assert ipa.phones["label"].tolist()[:5] == ["DH", "AH0", "HH", "AA", "T"]
    np.testing.assert_array_equal(ipa.phones[["start", "end"]], arpa.phones[["start", "end"]])
    assert ipa.duration == DURATION


def test_mfa_silences_kept_when_asked(tmp_path):
    a = read_textgrid(mfa_textgrid(tmp_path / "ipa.TextGrid", IPA), keep_silence=True)
    labels = a.phones["label"].tolist()
    assert labels[0] == "" and labels[-2:] == ["spn", ""]  # passed through, not mapped
    assert a.phones["start"].iloc[0] == 0.0 and a.phones["end"].iloc[-1] == DURATION


def test_mfa_speaker_tiers(tmp_path):
    a = read_textgrid(mfa_textgrid(tmp_path / "s.TextGrid", IPA, speaker="1001"))
    assert a.phone_set == "ipa" and len(a.phones) == len(IPA) - 1


def test_phone_set_forced_and_errors(tmp_path):
    ipa = mfa_textgrid(tmp_path / "ipa.TextGrid", IPA)
    arpa = mfa_textgrid(tmp_path / "arpa.TextGrid", ARPA)
    assert read_textgrid(ipa, phone_set="ipa").phones["label"].tolist() == \
        read_textgrid(ipa).phones["label"].tolist()
    assert read_textgrid(arpa, phone_set="arpabet").phones["label"].tolist() == ARPA[:-1]
    with pytest.raises(InputError, match=r"ipa.TextGrid: phone label 'd̪' is not ARPAbet "
                                         r"\(phone_set='arpabet'; phone_set='ipa' or 'auto'") as exc:
        read_textgrid(ipa, phone_set="arpabet")
    assert exc.value.stage == "phones"
    with pytest.raises(InputError, match="arpa.TextGrid: phone label 'DH' is not an MFA IPA phone"):
        read_textgrid(arpa, phone_set="ipa")
    mixed = mfa_textgrid(tmp_path / "mixed.TextGrid", IPA[:3] + ARPA[3:])
    with pytest.raises(InputError, match="mixed.TextGrid: phone labels mix ARPAbet"):
        read_textgrid(mixed)
    odd = mfa_textgrid(tmp_path / "odd.TextGrid", IPA[:3] + ["<noise>"] + IPA[4:])
    with pytest.raises(InputError, match="odd.TextGrid: phone label.s. '<noise>' are neither"):
        read_textgrid(odd)
    with pytest.raises(ParameterError, match="phone_set='IPA' must be one of auto, arpabet, ipa"):
        read_textgrid(ipa, phone_set="IPA")


# -- through the extraction --------------------------------------------------------

@pytest.fixture(scope="module")
def mfa_manifest(tmp_path_factory):
    """Two utterances with one simulated face track: MFA IPA and MFA ARPAbet TextGrids."""
    from agser.corpora import make_manifest, read_manifest, write_manifest
    from agser.corpora.simulator import simulate

    root = tmp_path_factory.mktemp("mfa")
    sim = read_manifest(simulate(root / "sim", seed=4, utterances_per_corpus=1))
    row = sim.iloc[0]
    assert float(pd.read_csv(row["landmarks_path"], skipinitialspace=True)["timestamp"].max()) > DURATION
    rows = []
    for name, labels in (("ipa", IPA), ("arpa", ARPA)):
        tg = mfa_textgrid(root / f"{name}.TextGrid", labels)
        rows.append({"utterance_id": f"u_{name}", "corpus": "mfa", "speaker": "s1", "emotion": "neutral",
                     "transcript": "", "audio_path": "", "video_path": "",
                     "landmarks_path": row["landmarks_path"], "alignment_path": str(tg),
                     "frame_rate": row["frame_rate"]})
    return write_manifest(make_manifest(rows), root / "manifest.csv")


def test_extraction_gives_the_paper_vowels_from_both_phone_sets(mfa_manifest, tmp_path):
    from agser.__main__ import main
    from agser.extract import load_segments

    # the command line, on a manifest whose TextGrids are MFA 3's
    assert main(["extract", "--manifest", str(mfa_manifest), "--out", str(tmp_path / "o"),
                 "--workers", "1", "--no-progress"]) == 0
    segs, frames = load_segments(tmp_path / "o")
    assert pd.read_csv(tmp_path / "o" / "failures.csv").empty
    ipa, arpa = (segs[segs["utterance_id"] == u].reset_index(drop=True) for u in ("u_ipa", "u_arpa"))
    cols = ["phone", "ipa", "start", "end", "n_frames", "frame_start"]
    pd.testing.assert_frame_equal(ipa[cols], arpa[cols])
    assert len(ipa) == len(ARPA) - 1
    assert set(PAPER_VOWELS) <= set(ipa["ipa"])
    assert ipa["phone"].tolist()[:5] == ["DH", "AH", "HH", "AA", "T"]
    assert ipa.loc[ipa["ipa"] == "ɑ", "phone"].tolist() == ["AA"]


def test_extract_utterance_phone_set(mfa_manifest):
    from agser.corpora import read_manifest
    from agser.extract import extract_utterance

    row = read_manifest(mfa_manifest).iloc[0].to_dict()
    assert row["utterance_id"] == "u_ipa"
    got = extract_utterance(row, phone_set="ipa")
    assert [s["ipa"] for s in got["segments"]][:5] == ["ð", "ə", "h", "ɑ", "t"]
    with pytest.raises(InputError, match="is not ARPAbet") as exc:
        extract_utterance(row, phone_set="arpabet")
    assert exc.value.stage == "phones"


def test_cli_phone_set_forced(mfa_manifest, tmp_path):
    from agser.__main__ import main

    assert main(["extract", "--manifest", str(mfa_manifest), "--out", str(tmp_path / "o"),
                 "--workers", "1", "--no-progress", "--phone-set", "arpabet"]) == 0
    failures = pd.read_csv(tmp_path / "o" / "failures.csv")
    # the IPA file is that row's failure, named; the ARPAbet one is read
    assert failures["utterance_id"].tolist() == ["u_ipa"] and failures["stage"].tolist() == ["phones"]
    assert "ipa.TextGrid: phone label 'd̪' is not ARPAbet" in failures.loc[0, "reason"]
