"""The stand-in corpora: the simulator's two corpora laid out as the CREMA-D and MSP-IMPROV releases.

The ``paper`` run reads the real corpora through their adapters
(:func:`~agser.corpora.cremad.cremad_manifest`,
:func:`~agser.corpora.mspimprov.mspimprov_manifest`), with OpenFace landmark
CSVs and MFA TextGrids attached (``agser corpus --landmarks-dir
--alignments-dir``). The ``paper-standin`` run (``data.source: standin``)
runs that same path on :func:`write_standin`'s folder: the simulator's
corpora (:func:`agser.corpora.simulator.simulate`), renamed and filed as the
releases file their clips, then read back by the *real* adapters::

    OUT/CREMA-D/AudioWAV/1001_DFA_ANG_XX.wav            sim-crema's audio
    OUT/CREMA-D/processedResults/tabulatedVotes.csv     rater votes (plurality = the simulated emotion)
    OUT/CREMA-D/VideoDemographics.csv                   ActorID, Sex
    OUT/MSP-IMPROV/Audio/session1/S03A/T/MSP-IMPROV-S03A-F01-T-FM01.wav    sim-improv's audio
    OUT/MSP-IMPROV/Evalution.txt                        consensus labels (the release's spelling)
    OUT/MSP-IMPROV-transcripts.csv                      utterance_id, transcript (the release has none)
    OUT/OpenFace/{CREMA-D,MSP-IMPROV}/<utterance_id>.csv      landmarks, as OpenFace's -out_dir
    OUT/MFA/{CREMA-D,MSP-IMPROV}/<utterance_id>.TextGrid      phone alignments, as an MFA run
    OUT/truth/{CREMA-D,MSP-IMPROV}/<utterance_id>.csv         the simulator's articulation (AG-oracle)
    OUT/standin_map.csv                                 simulator id -> release id, per utterance
    OUT/manifest.csv                                    both corpora (crema-d, msp-improv)

Names follow the releases' schemes:

- CREMA-D: ``<actor>_<sentence>_<emotion>_<level>``; simulated speaker
  ``C01`` is actor 1001, ``C02`` 1002, ...; the sentence code is the
  simulator's (the 12 CREMA-D sentences); the emotion ``ANG``, ``HAP``,
  ``NEU`` or ``SAD``; the level ``XX`` (unspecified). The release holds one
  clip per actor, sentence and emotion (and level); where the simulator gave a
  speaker the same sentence and emotion again, the repeats take the levels
  ``HI``, ``MD``, ``LO`` in turn, and a fifth repeat is left out (a row of
  ``standin_map.csv`` with an empty ``utterance_id`` and its reason).
- MSP-IMPROV: ``MSP-IMPROV-S<ss><E>-<G><nn>-<T>-<turn>``: the simulator's
  sentence ``S<ss>`` (01-14), the emotion letter ``A``/``H``/``S``/``N``,
  the speaker (the simulator's speakers alternate female and male,
  :func:`~agser.corpora.simulator.speakers.make_speakers`, so ``I01`` is
  ``F01`` and ``I02`` is ``M01`` of session 1, ``I03`` ``F02``, ...: one
  female-male dyad per session, as in the release), type ``T`` (target
  sentence, improvised) and the turn ``FM01``, ``FM02``, ... (``MF..`` for a
  male speaker), numbered over the speaker's clips of that sentence and
  emotion.

Labels come out of the adapters' defaults: CREMA-D's intended emotion (file
name), MSP-IMPROV's consensus vote (``Evalution.txt``); both equal the
simulated emotion, and so does the plurality of ``tabulatedVotes.csv``
(``cremad_manifest(labels="vote")``). Transcripts come from CREMA-D's sentence
table and the MSP-IMPROV transcripts CSV. The landmark CSVs, TextGrids and
articulation files are attached by utterance id
(:func:`agser.corpora.manifest.attach_files`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from agser.errors import ParameterError

__all__ = ["write_standin", "STANDIN_CORPORA", "cremad_name", "mspimprov_name"]

#: Simulated corpus -> (release corpus name, release folder).
STANDIN_CORPORA = {"sim-crema": ("crema-d", "CREMA-D"), "sim-improv": ("msp-improv", "MSP-IMPROV")}
_CREMA_EMOTION = {"anger": "ANG", "happiness": "HAP", "neutral": "NEU", "sadness": "SAD"}
_MSP_EMOTION = {"anger": "A", "happiness": "H", "neutral": "N", "sadness": "S"}
#: CREMA-D levels given to the first, second, ... clip of one actor, sentence and emotion.
_LEVELS = ("XX", "HI", "MD", "LO")
#: tabulatedVotes.csv letters, in the file's column order.
_VOTE_LETTERS = ("A", "D", "F", "H", "N", "S")
_VOTE_OF = {"anger": "A", "happiness": "H", "neutral": "N", "sadness": "S"}
#: MSP-IMPROV mean (arousal, valence, dominance) of the consensus line, per emotion (1-5 scales).
_AVD = {"anger": (4.0, 1.8, 3.9), "happiness": (3.6, 4.3, 3.4), "neutral": (2.6, 3.0, 3.0),
        "sadness": (1.9, 1.8, 2.2)}
_RATER_WORD = {"anger": "Angry", "happiness": "Happy", "neutral": "Neutral", "sadness": "Sad"}


def _speaker_number(speaker_id):
    """``"C07"`` -> 7 (the simulator's speaker ids: corpus code + number from 1)."""
    try:
        n = int(str(speaker_id)[1:])
    except ValueError:
        n = 0
    if n < 1:
        raise ParameterError(f"simulated speaker id {speaker_id!r} is not a corpus code and a number")
    return n


def cremad_name(speaker_id, sentence, emotion, repeat=0):
    """The CREMA-D clip name of a simulated utterance (``repeat``: earlier clips of the same three).

    Examples
    --------
    >>> cremad_name("C01", "DFA", "anger"), cremad_name("C12", "IEO", "sadness", repeat=1)
    ('1001_DFA_ANG_XX', '1012_IEO_SAD_HI')
    """
    if emotion not in _CREMA_EMOTION:
        raise ParameterError(f"emotion={emotion!r} has no CREMA-D code (known: {', '.join(_CREMA_EMOTION)})")
    if not 0 <= int(repeat) < len(_LEVELS):
        raise ParameterError(f"repeat={repeat!r}: CREMA-D names hold {len(_LEVELS)} levels per actor, "
                             "sentence and emotion")
    return f"{1000 + _speaker_number(speaker_id)}_{sentence}_{_CREMA_EMOTION[emotion]}_{_LEVELS[int(repeat)]}"


def mspimprov_name(speaker_id, sentence, emotion, turn=1, scenario="T"):
    """The MSP-IMPROV clip name of a simulated utterance, and its speaker and session.

    Returns
    -------
    (str, str, int)
        Name, speaker (``F01``), session.

    Examples
    --------
    >>> mspimprov_name("I01", "S03", "anger"), mspimprov_name("I04", "S12", "neutral", turn=2)
    (('MSP-IMPROV-S03A-F01-T-FM01', 'F01', 1), ('MSP-IMPROV-S12N-M02-T-MF02', 'M02', 2))
    """
    n = _speaker_number(speaker_id)
    session, gender = (n + 1) // 2, "F" if n % 2 == 1 else "M"
    if emotion not in _MSP_EMOTION:
        raise ParameterError(f"emotion={emotion!r} has no MSP-IMPROV letter (known: {', '.join(_MSP_EMOTION)})")
    if not (str(sentence).startswith("S") and str(sentence)[1:].isdigit() and 1 <= int(sentence[1:]) <= 99):
        raise ParameterError(f"sentence={sentence!r} must be S01..S99")
    if not 1 <= int(turn) <= 999:
        raise ParameterError(f"turn={turn!r} must lie in 1..999")
    pair = "FM" if gender == "F" else "MF"
    speaker = f"{gender}{session:02d}"
    return (f"MSP-IMPROV-S{int(sentence[1:]):02d}{_MSP_EMOTION[emotion]}-{speaker}-{scenario}-"
            f"{pair}{int(turn):02d}", speaker, session)


def _move(src, dest):
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dest)


def _votes_table(names, emotions, rng):
    """``tabulatedVotes.csv`` rows: three modalities per clip, the plurality on the clip's emotion."""
    rows = []
    for modality in ("1", "2", "3"):
        for i, (name, emo) in enumerate(zip(names, emotions)):
            counts = dict.fromkeys(_VOTE_LETTERS, 0)
            n = int(rng.integers(8, 13))
            win = int(rng.integers(n // 2 + 1, n + 1))
            counts[_VOTE_OF[emo]] = win
            others = [c for c in _VOTE_LETTERS if c != _VOTE_OF[emo]]
            for _ in range(n - win):
                counts[others[int(rng.integers(len(others)))]] += 1
            # the winner holds more than half of the votes: never a tie
            rows.append({"": f"{modality}{i + 1:05d}", **counts, "fileName": name, "numResponses": n,
                         "agreement": win / n, "emoVote": _VOTE_OF[emo]})
    return pd.DataFrame(rows)


def _evaluation_text(names, emotions, rng):
    """``Evalution.txt`` in the release's format: a consensus line, rater lines, a blank line per clip."""
    lines = []
    for name, emo in zip(names, emotions):
        stem = "UTD-" + name.split("-", 1)[1]
        a, v, d = (float(np.clip(x + rng.normal(0.0, 0.3), 1.0, 5.0)) for x in _AVD[emo])
        nat = float(np.clip(3.5 + rng.normal(0.0, 0.4), 1.0, 5.0))
        lines.append(f"{stem}.avi; {_MSP_EMOTION[emo]}; A:{a:.6f}; V:{v:.6f}; D:{d:.6f}; N:{nat:.6f}")
        for k in range(1, int(rng.integers(3, 6)) + 1):
            lines.append(f"{stem}-p{k}; {_RATER_WORD[emo]}; A:{round(a)}.0; V:{round(v)}.0; D:{round(d)}.0; "
                         f"N:{round(nat)}.0")
        lines.append("")
    return "\n".join(lines) + "\n"


def write_standin(out, seed=0, utterances_per_corpus=None, **knobs):
    """Simulate both corpora and lay them out as the CREMA-D and MSP-IMPROV releases; write the manifest.

    Parameters
    ----------
    out : str or Path
        Output folder (created); see the module docstring for its layout.
    seed : int
        The simulator's seed.
    utterances_per_corpus : int, optional
        Simulated utterances per corpus (the simulator's default when None).
    **knobs
        The simulator's other keywords (``speakers_per_corpus``, ``shift``,
        ...; :func:`agser.corpora.simulator.simulate`).

    Returns
    -------
    pathlib.Path
        ``out/manifest.csv``: both corpora as the real adapters read them
        (corpus names ``crema-d`` and ``msp-improv``: codes C and I), with
        ``landmarks_path``, ``alignment_path`` and ``articulation_path``
        attached, paths relative to ``out``.

    Examples
    --------
    >>> import tempfile
    >>> from agser.corpora import read_manifest
    >>> m = read_manifest(write_standin(tempfile.mkdtemp(), utterances_per_corpus=4,
    ...                                 speakers_per_corpus=2))
    >>> m.groupby("corpus")["speaker"].unique().map(sorted).to_dict()
    {'crema-d': ['1001', '1002'], 'msp-improv': ['F01', 'M01']}
    >>> m.loc[m["corpus"] == "msp-improv", "utterance_id"].tolist()[0]
    'MSP-IMPROV-S02S-M01-T-MF01'
    """
    from agser.corpora.cremad import cremad_manifest
    from agser.corpora.manifest import attach_files, make_manifest, read_manifest, write_manifest
    from agser.corpora.mspimprov import mspimprov_manifest
    from agser.corpora.simulator import simulate

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sim_dir = Path(tempfile.mkdtemp(dir=out, prefix=".simulator-"))
    try:
        sim = read_manifest(simulate(sim_dir, seed=seed, utterances_per_corpus=utterances_per_corpus, **knobs))
        unknown = sorted(set(sim["corpus"]) - set(STANDIN_CORPORA))
        if unknown:
            raise ParameterError(f"the simulator wrote corpora {unknown}; the stand-in knows "
                                 f"{', '.join(STANDIN_CORPORA)}")
        rng = np.random.default_rng([int(seed), 424_242])
        mapping, manifests = [], []
        for sim_corpus, (corpus, folder) in STANDIN_CORPORA.items():
            rows = sim[sim["corpus"] == sim_corpus]
            root = out / folder
            seen = {}
            names, emotions, texts = [], [], []
            for r in rows.itertuples(index=False):
                triple = (r.speaker, r.sentence, r.emotion)
                repeat = seen.get(triple, 0)
                seen[triple] = repeat + 1
                entry = {"simulator_id": r.utterance_id, "simulator_corpus": sim_corpus,
                         "simulator_speaker": r.speaker, "corpus": corpus, "emotion": r.emotion,
                         "transcript": r.transcript, "utterance_id": "", "speaker": "", "dropped": ""}
                if corpus == "crema-d":
                    if repeat >= len(_LEVELS):
                        entry["dropped"] = (f"clip {repeat + 1} of speaker {r.speaker}, sentence {r.sentence}, "
                                            f"{r.emotion}: CREMA-D names hold {len(_LEVELS)} levels")
                        mapping.append(entry)
                        continue
                    name = cremad_name(r.speaker, r.sentence, r.emotion, repeat)
                    speaker = name.split("_")[0]
                    audio = root / "AudioWAV" / f"{name}.wav"
                else:
                    name, speaker, session = mspimprov_name(r.speaker, r.sentence, r.emotion, turn=repeat + 1)
                    sent = name.split("-")[2]
                    audio = root / "Audio" / f"session{session}" / sent / "T" / f"{name}.wav"
                entry.update(utterance_id=name, speaker=speaker)
                mapping.append(entry)
                names.append(name)
                emotions.append(r.emotion)
                texts.append(r.transcript)
                _move(Path(r.audio_path), audio)
                _move(Path(r.landmarks_path), out / "OpenFace" / folder / f"{name}.csv")
                _move(Path(r.alignment_path), out / "MFA" / folder / f"{name}.TextGrid")
                _move(Path(r.articulation_path), out / "truth" / folder / f"{name}.csv")
            if corpus == "crema-d":
                (root / "processedResults").mkdir(parents=True, exist_ok=True)
                _votes_table(names, emotions, rng).to_csv(root / "processedResults" / "tabulatedVotes.csv",
                                                          index=False)
                # the simulator's speakers alternate female, male (C01 female): actor 1001 + i
                numbers = sorted({_speaker_number(sp) for sp in rows["speaker"]})
                pd.DataFrame({"ActorID": [str(1000 + n) for n in numbers],
                              "Sex": ["Female" if n % 2 == 1 else "Male" for n in numbers]}) \
                    .to_csv(root / "VideoDemographics.csv", index=False)
                m = cremad_manifest(root)
            else:
                (root / "Evalution.txt").write_text(_evaluation_text(names, emotions, rng), encoding="utf-8")
                pd.DataFrame({"utterance_id": names, "transcript": texts}).to_csv(
                    out / f"{folder}-transcripts.csv", index=False)
                m = mspimprov_manifest(root, transcripts=out / f"{folder}-transcripts.csv")
            m = attach_files(m, "landmarks_path", out / "OpenFace" / folder, ".csv")
            m = attach_files(m, "alignment_path", out / "MFA" / folder, ".TextGrid")
            m = attach_files(m, "articulation_path", out / "truth" / folder, ".csv")
            # as text, so that one corpus' integer columns stay integers beside the other's empty cells
            manifests.append(m.astype(object).where(m.notna(), "").astype(str))
    finally:
        shutil.rmtree(sim_dir, ignore_errors=True)
    pd.DataFrame(mapping).to_csv(out / "standin_map.csv", index=False)
    manifest = pd.concat(manifests, ignore_index=True)
    return write_manifest(make_manifest(manifest.to_dict("records")), out / "manifest.csv")
