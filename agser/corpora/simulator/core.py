"""Generate the simulated corpora: :func:`simulate` and :func:`simulate_utterance`."""

from __future__ import annotations

import inspect
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from agser.corpora.simulator import articulation, emotion, face, synth
from agser.corpora.simulator.config import CORPORA, corpus_configs
from agser.corpora.simulator.speakers import make_speakers
from agser.corpora.simulator.text import pronounce
from agser.errors import ParameterError

__all__ = ["simulate", "simulate_utterance", "corpus_plan", "SIM_EMOTIONS", "DEFAULT_UTTERANCES"]

#: The four emotions of the simulated corpora.
SIM_EMOTIONS = ("neutral", "anger", "happiness", "sadness")
_EMO_CODE = {"neutral": "NEU", "anger": "ANG", "happiness": "HAP", "sadness": "SAD"}
#: Utterances per corpus when not given (matches ``papermill_runs/default``).
DEFAULT_UTTERANCES = 120
_STYLE_DEFAULTS = dict(speakers_per_corpus=8, expressiveness=1.0, nuisance=1.0,
                       profile_spread=0.4, utterance_spread=0.45, decouple_gestures=False)
#: Seed-sequence tag of the donor choice of ``decouple_gestures``: a stream of
#: its own, so that choosing donors draws nothing from the utterances' streams.
_DONOR_STREAM = 9_000_011


def _flag(name, value):
    # YAML gives True/False; 0 and 1 are accepted too (a run's schema may pass only numbers)
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1)
    ):
        return bool(value)
    raise ParameterError(f"{name}={value!r} must be true or false")


def _split_knobs(knobs):
    style = dict(_STYLE_DEFAULTS)
    shift = knobs.pop("shift", 1.0)
    for k in list(knobs):
        if k in style:
            style[k] = knobs.pop(k)
    if int(style["speakers_per_corpus"]) < 1:
        raise ParameterError(
            f"speakers_per_corpus={style['speakers_per_corpus']!r} must be >= 1"
        )
    style["decouple_gestures"] = _flag("decouple_gestures", style["decouple_gestures"])
    return corpus_configs(shift=shift, **knobs), style


def _speakers(cfg, corpus_index, seed, style):
    rng = np.random.default_rng([int(seed), corpus_index, 7_000_001])
    sp = make_speakers(cfg.code, int(style["speakers_per_corpus"]), rng, ipd_px=cfg.ipd_px,
                       profile_spread=float(style["profile_spread"]))
    return [replace(s, f0=s.f0 * cfg.f0_factor, vtl=s.vtl + cfg.vtl_offset) for s in sp]


def corpus_plan(n, n_speakers):
    """Speaker index and emotion of each utterance of a corpus.

    Utterance ``i`` gets speaker ``i % S`` and emotion number
    ``(i + i // L) % 4`` with ``L = lcm(S, 4)``. Within a block of ``L``
    utterances the emotions cycle with the utterance number, and each new
    block starts one emotion further, so that every speaker's emotions rotate
    instead of repeating. Hence, for any ``n >= 4``: the first four
    utterances have the four emotions; the corpus's emotion counts differ by
    at most one, and so do each speaker's; for ``n`` a multiple of ``4 * S``
    every speaker has every emotion equally often. (Cycling the emotions one
    block of ``S`` speakers at a time, as before, left sadness out of any
    corpus smaller than ``3 * S + 1``.) The plan of utterance ``i`` does not
    depend on ``n``.

    Parameters
    ----------
    n : int
        Utterances in the corpus.
    n_speakers : int, >= 1
        Speakers in the corpus.

    Returns
    -------
    list of (int, str)
        ``(speaker index, emotion)`` per utterance, emotions from :data:`SIM_EMOTIONS`.

    Examples
    --------
    >>> corpus_plan(5, 2)
    [(0, 'neutral'), (1, 'anger'), (0, 'happiness'), (1, 'sadness'), (0, 'anger')]
    >>> [e[0] for _, e in corpus_plan(8, 4)]   # speaker 0 in utterances 0 and 4
    ['n', 'a', 'h', 's', 'a', 'h', 's', 'n']
    """
    n_speakers = int(n_speakers)
    if n_speakers < 1:
        raise ParameterError(f"n_speakers={n_speakers!r} must be >= 1")
    k = len(SIM_EMOTIONS)
    block = math.lcm(n_speakers, k)
    return [(i % n_speakers, SIM_EMOTIONS[(i + i // block) % k]) for i in range(int(n))]


def _articulate(cfg, speaker, emo, sentence_code, rng, style):
    """The start of an utterance: emotion cues, phone timing, articulation style.

    It draws from ``rng`` what :func:`_render` draws first, in the same order
    (cues, lead and trail silences, phone durations), so that a donor's
    articulation (``decouple_gestures``) is recomputed from its own stream
    without synthesising its audio.
    """
    text = cfg.sentences[sentence_code]
    cues = emotion.emotion_cues(
        emo, speaker, rng,
        intensity=cfg.emotion_intensity * float(style["expressiveness"]),
        utterance_spread=float(style["utterance_spread"]),
        nuisance=float(style["nuisance"]),
        expression_mix=cfg.expression_mix,
    )
    rate = max(speaker.rate * cfg.speaking_rate * (1.0 + cues["rate"]), 0.5)
    words, phones, duration = articulation.plan_utterance(
        pronounce(text), rng, rate=rate,
        lead=float(rng.uniform(0.15, 0.35)), trail=float(rng.uniform(0.15, 0.35)),
    )
    art_style = dict(excursion=max(1.0 + cues["excursion"], 0.3),
                     spread_bias=speaker.spread_bias + cues["smile"],
                     jaw_gain=speaker.jaw_gain, round_gain=speaker.round_gain)
    return dict(text=text, cues=cues, words=words, phones=phones, duration=duration,
                art_style=art_style)


def _utterance_rng(seed, corpus_index, index, codes):
    """An utterance's random stream and its sentence (the stream's first draw)."""
    rng = np.random.default_rng([int(seed), corpus_index, int(index)])
    return rng, codes[int(rng.integers(len(codes)))]


def _sentences(cfg, corpus_index, seed, n):
    """The sentence code of every utterance of a corpus (cheap: one draw each)."""
    codes = sorted(cfg.sentences)
    return [_utterance_rng(seed, corpus_index, i, codes)[1] for i in range(int(n))]


def _choose_donor(index, plan, sentences, seed, corpus_index):
    """The utterance whose articulation the face of utterance ``index`` shows.

    Uniform among the corpus's utterances of the same speaker with another
    sentence, whatever their emotion (so the face carries neither this
    utterance's words nor its emotion), drawn from a stream of its own. Where
    the speaker has no such utterance (a corpus with about one utterance per
    speaker), among every utterance of the corpus with another sentence.
    """
    n = len(plan)
    own_speaker, own_sentence = plan[index][0], sentences[index]
    pool = [j for j in range(n) if plan[j][0] == own_speaker and sentences[j] != own_sentence]
    if not pool:
        pool = [j for j in range(n) if sentences[j] != own_sentence]
    if not pool:
        raise ParameterError(
            f"decouple_gestures needs utterances with another sentence than "
            f"{own_sentence!r}; utterances_per_corpus={n} has none"
        )
    rng = np.random.default_rng([int(seed), corpus_index, int(index), _DONOR_STREAM])
    return pool[int(rng.integers(len(pool)))]


def _donor_articulation(cfg, speakers, plan, donor, seed, corpus_index, style):
    """A donor's timing and articulation style, replayed from its own stream."""
    codes = sorted(cfg.sentences)
    rng, sentence = _utterance_rng(seed, corpus_index, donor, codes)
    si, emo = plan[donor]
    return _articulate(cfg, speakers[si], emo, sentence, rng, style)


def _render(cfg, speaker, emo, sentence_code, rng, style, donor=None):
    """One utterance: audio, landmarks, alignment and the internal tracks.

    ``donor`` (``decouple_gestures``): the :func:`_articulate` output of
    another utterance, whose articulation the landmarks show instead of this
    one's, stretched linearly over this utterance's duration. The audio and
    every draw from ``rng`` stay what they are without it.
    """
    from agser.phones.textgrid import Alignment

    a = _articulate(cfg, speaker, emo, sentence_code, rng, style)
    text, cues, words, phones, duration, art_style = (
        a[k] for k in ("text", "cues", "words", "phones", "duration", "art_style"))
    sr = synth.SAMPLE_RATE
    n_samples = int(round(duration * sr))
    n_ctrl = int(np.ceil(n_samples / synth.HOP))
    t_ctrl = np.arange(n_ctrl) * synth.HOP / sr
    state = articulation.trajectories(phones, t_ctrl, duration, art_style)
    breath = max(speaker.breathiness + cues["breath"], 0.0)
    freqs, bws = synth.formant_tracks(state, vtl=speaker.vtl, breath=breath)
    src = synth.source_tracks(phones, t_ctrl)
    f0_mean = speaker.f0 * 2.0 ** (cues["f0_st"] / 12.0)
    f0_range = speaker.f0_range * max(1.0 + cues["f0_range"], 0.2)
    f0 = synth.f0_contour(phones, t_ctrl, f0_mean, f0_range, rng, duration)
    level_db = cues["level_db"] + float(rng.normal(0.0, 1.5))
    clean = synth.synthesize(freqs, bws, src, f0, rng, tension=cues["tension"], breath=breath,
                             level_db=level_db, n_samples=n_samples)
    audio = synth.apply_channel(clean, rng, snr_db=cfg.snr_db + float(rng.normal(0.0, 2.0)),
                                rt60=cfg.rt60_s, band_hz=cfg.band_hz, low_hz=cfg.low_hz,
                                level_db=level_db)
    audio = np.clip(audio, -0.99, 0.99).astype(np.float32)
    n_frames = int(np.floor(duration * cfg.frame_rate)) + 1
    t_frames = np.arange(n_frames) / cfg.frame_rate
    frame_state = articulation.trajectories(phones, t_frames, duration, art_style)
    if donor is None:
        face_state = frame_state
    else:
        # the donor's whole utterance (silences included) mapped linearly onto
        # this one's: its trajectories evaluated at t * D_donor / D
        d_dur = donor["duration"]
        face_state = articulation.trajectories(donor["phones"], t_frames * (d_dur / duration),
                                               d_dur, donor["art_style"])
    # render_landmarks draws the same numbers for any state of T frames, so a
    # decoupled face keeps this utterance's head pose, jitter and dropped frames
    landmarks = face.render_landmarks(
        face_state, t_frames, speaker, rng, image_size=cfg.image_size,
        head_motion=cfg.head_motion, drop_rate=cfg.drop_rate,
    )
    alignment = Alignment(words, phones[["label", "start", "end"]], duration=duration)
    tracks = {"time": t_ctrl, **state, "formants": freqs, "bandwidths": bws, "f0": f0,
              "voice": src["voice"], "fric": src["fric"]}
    return dict(
        audio=audio, sample_rate=sr, landmarks=landmarks, alignment=alignment, tracks=tracks,
        frame_state={"time": t_frames, **frame_state},
        face_state={"time": t_frames, **face_state}, cues=cues, text=text,
        sentence=sentence_code, emotion=emo, speaker=speaker, duration=duration,
        frame_rate=cfg.frame_rate,
    )


def _n_utterances(utterances_per_corpus):
    n = DEFAULT_UTTERANCES if utterances_per_corpus is None else int(utterances_per_corpus)
    if n < 1:
        raise ParameterError(f"utterances_per_corpus={utterances_per_corpus!r} must be >= 1")
    return n


def _uid(speaker, sentence, emo, index):
    return f"{speaker.speaker_id}_{sentence}_{_EMO_CODE[emo]}_{index:04d}"


def simulate_utterance(corpus="sim-crema", index=0, seed=0, utterances_per_corpus=None, **knobs):
    """One utterance of a simulated corpus, with the simulator's internal tracks.

    Gives exactly the utterance number ``index`` that :func:`simulate` writes
    for the same ``seed``, knobs and ``utterances_per_corpus``, plus what a
    file cannot hold: the articulatory trajectories, the formant and F0
    tracks and the emotion cues.

    Parameters
    ----------
    corpus : str
        ``"sim-crema"`` or ``"sim-improv"``.
    index : int
        Utterance number within the corpus (0-based).
    seed : int
        Random seed, as for :func:`simulate`.
    utterances_per_corpus : int, optional
        Size of the corpus, as for :func:`simulate` (default 120). Only
        ``decouple_gestures`` depends on it (the donor is one of the corpus's
        utterances); without it utterance ``index`` is the same for any size.
    **knobs
        Domain-shift and style knobs and ``decouple_gestures``, as for :func:`simulate`.

    Returns
    -------
    dict
        ``audio`` (float32, 16 kHz), ``sample_rate``, ``landmarks``
        (:class:`~agser.landmarks.types.Landmarks`), ``alignment``
        (:class:`~agser.phones.textgrid.Alignment`), ``tracks`` (control rate,
        200 Hz: ``time`` (s), ``jaw``, ``spread``, ``round``, ``closure``,
        ``tongue``, ``rhotic``, ``formants`` (n x 5, Hz), ``bandwidths``,
        ``f0`` (Hz), ``voice``, ``fric``), ``frame_state`` (the articulation
        that made the audio, at the video frames: ``time`` and the six
        parameters; what the articulation file holds), ``face_state`` (the
        articulation the landmarks were drawn from, at the same frames: the
        same as ``frame_state`` unless ``decouple_gestures``), ``donor``
        (index of the utterance whose articulation the face shows, or
        ``None``), ``cues``, ``text``, ``sentence``, ``emotion``, ``speaker``
        (:class:`~agser.corpora.simulator.speakers.Speaker`), ``duration``
        (s), ``frame_rate``.

    Examples
    --------
    >>> u = simulate_utterance("sim-crema", index=0, seed=0)
    >>> u["sample_rate"], u["landmarks"].points.shape[1:], u["emotion"], u["donor"]
    (16000, (68, 2), 'neutral', None)
    >>> d = simulate_utterance("sim-crema", index=0, seed=0, utterances_per_corpus=16,
    ...                        decouple_gestures=True)
    >>> bool((d["audio"] == u["audio"]).all()), d["donor"] % 8   # same audio; donor: same speaker
    (True, 0)
    >>> simulate_utterance("sim-crema", index=d["donor"], seed=0)["sentence"] != u["sentence"]
    True
    """
    cfgs, style = _split_knobs(dict(knobs))
    if corpus not in cfgs:
        raise ParameterError(f"corpus={corpus!r} must be one of {', '.join(CORPORA)}")
    if int(index) < 0:
        raise ParameterError(f"index={index!r} must be >= 0")
    ci = CORPORA.index(corpus)
    cfg = cfgs[corpus]
    speakers = _speakers(cfg, ci, seed, style)
    codes = sorted(cfg.sentences)
    donor, donor_art = None, None
    if style["decouple_gestures"]:
        n = _n_utterances(utterances_per_corpus)
        if int(index) >= n:
            raise ParameterError(f"index={index!r} must be < utterances_per_corpus={n}")
        plan = corpus_plan(n, len(speakers))
        donor = _choose_donor(int(index), plan, _sentences(cfg, ci, seed, n), seed, ci)
        donor_art = _donor_articulation(cfg, speakers, plan, donor, seed, ci, style)
    si, emo = corpus_plan(int(index) + 1, len(speakers))[int(index)]
    rng, sentence = _utterance_rng(seed, ci, index, codes)
    u = _render(cfg, speakers[si], emo, sentence, rng, style, donor=donor_art)
    u["donor"] = donor
    return u


def simulate(out_dir, seed=0, utterances_per_corpus=None, shift=1.0, speakers_per_corpus=8,
             expressiveness=1.0, nuisance=1.0, profile_spread=0.4, utterance_spread=0.45,
             snr_db=None, rt60_s=None, band_hz=None, emotion_intensity=None, speaking_rate=None,
             head_motion=None, drop_rate=None, frame_rate=None, expression_mix=None,
             decouple_gestures=False):
    """Write the two simulated corpora and their manifest.

    ``sim-crema`` (CREMA-D-like: the 12 CREMA-D sentences, clean channel,
    30 fps, acted emotions) and ``sim-improv`` (MSP-IMPROV-like: other
    sentences, 25 fps, noisier and reverberant band-limited channel, subtler
    emotions), four emotions each (balanced over speakers: see
    :func:`corpus_plan`), ``speakers_per_corpus`` speakers each (ids
    ``C01 ..`` and ``I01 ..``). Each utterance is a 16 kHz mono WAV, an
    OpenFace-format landmark CSV, a TextGrid of the true word and phone
    alignment (ARPAbet with stress) and the simulator's articulatory truth:
    a CSV with, at every video frame, the articulatory state that the audio
    was synthesised from (read it with
    :func:`~agser.corpora.simulator.truth.read_articulation`).

    Parameters
    ----------
    out_dir : str or Path
        Output folder; gets ``manifest.csv`` and
        ``<corpus>/{wav,landmarks,textgrid,articulation}/``.
    seed : int
        Random seed; the output is byte-identical for the same seed and knobs.
    utterances_per_corpus : int, optional
        Utterances per corpus (default 120).
    shift : float, >= 0
        Domain-shift strength (see
        :func:`~agser.corpora.simulator.config.corpus_configs`); 0 leaves only
        speakers, sentences and frame rate different, 1 is the default shift.
    speakers_per_corpus : int
        Speakers per corpus (default 8).
    expressiveness : float
        Scale of every emotion effect in both corpora (default 1; the
        calibration knob for task difficulty).
    nuisance : float
        Scale of the emotion-independent per-utterance variation of F0,
        level, rate, articulation and voice quality (default 1).
    profile_spread : float
        How differently speakers show the same emotion: standard deviation of
        their per-emotion, per-cue multipliers (default 0.4).
    utterance_spread : float
        Standard deviation of the log per-utterance emotion intensity (default 0.45).
    snr_db, rt60_s, band_hz, emotion_intensity, speaking_rate, head_motion, drop_rate, frame_rate, expression_mix
        Per-corpus overrides of what ``shift`` sets: a number for both corpora
        or a dict ``{corpus: value}``; ``None`` (default) keeps the value
        derived from ``shift``. Units: dB, seconds, Hz, factor, factor,
        factor, share of frames, frames per second, share (0 acted .. 1
        spontaneous emotion style).
    decouple_gestures : bool
        The *decoupled* control of the SER experiment (default False): each
        utterance's face (its landmark CSV) shows the articulation of another
        utterance, its *donor*, so that the articulation seen in the face says
        nothing about this utterance's audio, words or emotion. The donor is
        drawn, from a random stream of its own (the same for a seed), among
        the corpus's utterances of the same speaker with another sentence,
        whatever their emotion (among every utterance with another sentence
        where the speaker has none); its articulatory trajectories are
        time-warped linearly, its duration onto this utterance's, and drawn
        on this utterance's frames with this speaker's face, head pose,
        jitter and dropped frames. The audio, the TextGrid and the
        articulation file stay this utterance's own, and so does every
        file of a run without the option: its random streams are unchanged.
        The manifest gets a column ``gesture_donor`` (the donor's utterance id).

    Returns
    -------
    pathlib.Path
        ``out_dir/manifest.csv`` (paths relative to it; extra columns
        ``articulation_path``, ``frame_rate``, ``sentence``, and
        ``gesture_donor`` with ``decouple_gestures``).

    Examples
    --------
    >>> import tempfile
    >>> from agser.corpora import read_manifest
    >>> from agser.corpora.simulator import read_articulation
    >>> m = read_manifest(simulate(tempfile.mkdtemp(), utterances_per_corpus=4))
    >>> m.groupby("corpus").size().to_dict()
    {'sim-crema': 4, 'sim-improv': 4}
    >>> sorted(m["emotion"].unique())
    ['anger', 'happiness', 'neutral', 'sadness']
    >>> list(read_articulation(m.at[0, "articulation_path"]).columns)
    ['time', 'jaw', 'spread', 'round', 'closure', 'tongue', 'rhotic']
    """
    import soundfile as sf

    from agser.corpora import make_manifest, write_manifest
    from agser.corpora.simulator.truth import write_articulation
    from agser.landmarks.openface import write_openface_csv
    from agser.phones.textgrid import write_textgrid

    n = _n_utterances(utterances_per_corpus)
    args = dict(locals())
    knobs = {k: args[k] for k in inspect.signature(simulate).parameters
             if k not in ("out_dir", "seed", "utterances_per_corpus")}
    cfgs, style = _split_knobs(dict(knobs))
    decouple = style["decouple_gestures"]
    out_dir = Path(out_dir)
    rows = []
    for ci, corpus in enumerate(CORPORA):
        cfg = cfgs[corpus]
        speakers = _speakers(cfg, ci, seed, style)
        codes = sorted(cfg.sentences)
        plan = corpus_plan(n, len(speakers))
        sentences = _sentences(cfg, ci, seed, n) if decouple else None
        folders = ("wav", "landmarks", "textgrid", "articulation")
        for k in folders:
            (out_dir / corpus / k).mkdir(parents=True, exist_ok=True)
        for i, (si, emo) in enumerate(plan):
            rng, sentence = _utterance_rng(seed, ci, i, codes)
            donor, donor_art = None, None
            if decouple:
                # one utterance at a time: the donor's articulation is replayed
                # from its stream (no audio), so memory stays one utterance's
                donor = _choose_donor(i, plan, sentences, seed, ci)
                donor_art = _donor_articulation(cfg, speakers, plan, donor, seed, ci, style)
            u = _render(cfg, speakers[si], emo, sentence, rng, style, donor=donor_art)
            uid = _uid(speakers[si], sentence, emo, i)
            rel = {k: f"{corpus}/{k}/{uid}.{ext}" for k, ext in
                   zip(folders, ("wav", "csv", "TextGrid", "csv"))}
            sf.write(out_dir / rel["wav"], u["audio"], u["sample_rate"], subtype="PCM_16")
            write_openface_csv(u["landmarks"], out_dir / rel["landmarks"])
            write_textgrid(u["alignment"], out_dir / rel["textgrid"])
            write_articulation(u["frame_state"], out_dir / rel["articulation"])
            row = dict(
                utterance_id=uid, corpus=corpus, speaker=speakers[si].speaker_id, emotion=emo,
                transcript=u["text"], audio_path=rel["wav"], video_path="",
                landmarks_path=rel["landmarks"],
                alignment_path=rel["textgrid"],
                articulation_path=rel["articulation"],
                frame_rate=f"{cfg.frame_rate:g}", sentence=sentence,
            )
            if decouple:
                ds, de = plan[donor]
                row["gesture_donor"] = _uid(speakers[ds], sentences[donor], de, donor)
            rows.append(row)
    path = out_dir / "manifest.csv"
    write_manifest(make_manifest(rows), path)
    return path
