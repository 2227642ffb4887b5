"""Generate the simulated corpora: :func:`simulate` and :func:`simulate_utterance`."""

from __future__ import annotations

import inspect
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

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
                       profile_spread=0.4, utterance_spread=0.45)


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
    return corpus_configs(shift=shift, **knobs), style


def _speakers(cfg, corpus_index, seed, style):
    rng = np.random.default_rng([int(seed), corpus_index, 7_000_001])
    sp = make_speakers(cfg.code, int(style["speakers_per_corpus"]), rng, ipd_px=cfg.ipd_px,
                       profile_spread=float(style["profile_spread"]))
    return [replace(s, f0=s.f0 * cfg.f0_factor, vtl=s.vtl + cfg.vtl_offset) for s in sp]


def corpus_plan(n, n_speakers):
    """Speaker index and emotion of each utterance of a corpus.

    Every speaker gets every emotion in turn, so the corpus is balanced over
    speakers and emotions.

    Examples
    --------
    >>> corpus_plan(5, 2)
    [(0, 'neutral'), (1, 'neutral'), (0, 'anger'), (1, 'anger'), (0, 'happiness')]
    """
    return [(i % n_speakers, SIM_EMOTIONS[(i // n_speakers) % len(SIM_EMOTIONS)]) for i in range(n)]


def _render(cfg, speaker, emo, sentence_code, rng, style):
    """One utterance: audio, landmarks, alignment and the internal tracks."""
    from agser.phones.textgrid import Alignment

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
    landmarks = face.render_landmarks(
        frame_state, t_frames, speaker, rng, image_size=cfg.image_size,
        head_motion=cfg.head_motion, drop_rate=cfg.drop_rate,
    )
    alignment = Alignment(words, phones[["label", "start", "end"]], duration=duration)
    tracks = {"time": t_ctrl, **state, "formants": freqs, "bandwidths": bws, "f0": f0,
              "voice": src["voice"], "fric": src["fric"]}
    return dict(
        audio=audio, sample_rate=sr, landmarks=landmarks, alignment=alignment, tracks=tracks,
        frame_state={"time": t_frames, **frame_state}, cues=cues, text=text,
        sentence=sentence_code, emotion=emo, speaker=speaker, duration=duration,
        frame_rate=cfg.frame_rate,
    )


def simulate_utterance(corpus="sim-crema", index=0, seed=0, **knobs):
    """One utterance of a simulated corpus, with the simulator's internal tracks.

    Gives exactly the utterance number ``index`` that :func:`simulate` writes
    for the same ``seed`` and knobs, plus what a file cannot hold: the
    articulatory trajectories, the formant and F0 tracks and the emotion cues.

    Parameters
    ----------
    corpus : str
        ``"sim-crema"`` or ``"sim-improv"``.
    index : int
        Utterance number within the corpus (0-based).
    seed : int
        Random seed, as for :func:`simulate`.
    **knobs
        Domain-shift and style knobs, as for :func:`simulate`.

    Returns
    -------
    dict
        ``audio`` (float32, 16 kHz), ``sample_rate``, ``landmarks``
        (:class:`~agser.landmarks.types.Landmarks`), ``alignment``
        (:class:`~agser.phones.textgrid.Alignment`), ``tracks`` (control rate,
        200 Hz: ``time`` (s), ``jaw``, ``spread``, ``round``, ``closure``,
        ``tongue``, ``rhotic``, ``formants`` (n x 5, Hz), ``bandwidths``,
        ``f0`` (Hz), ``voice``, ``fric``), ``frame_state`` (the articulation
        at the video frames), ``cues``, ``text``, ``sentence``, ``emotion``,
        ``speaker`` (:class:`~agser.corpora.simulator.speakers.Speaker`),
        ``duration`` (s), ``frame_rate``.

    Examples
    --------
    >>> u = simulate_utterance("sim-crema", index=0, seed=0)
    >>> u["sample_rate"], u["landmarks"].points.shape[1:], u["emotion"]
    (16000, (68, 2), 'neutral')
    """
    cfgs, style = _split_knobs(dict(knobs))
    if corpus not in cfgs:
        raise ParameterError(f"corpus={corpus!r} must be one of {', '.join(CORPORA)}")
    ci = CORPORA.index(corpus)
    cfg = cfgs[corpus]
    speakers = _speakers(cfg, ci, seed, style)
    si, emo = corpus_plan(int(index) + 1, len(speakers))[int(index)]
    rng = np.random.default_rng([int(seed), ci, int(index)])
    codes = sorted(cfg.sentences)
    sentence = codes[int(rng.integers(len(codes)))]
    return _render(cfg, speakers[si], emo, sentence, rng, style)


def simulate(out_dir, seed=0, utterances_per_corpus=None, shift=1.0, speakers_per_corpus=8,
             expressiveness=1.0, nuisance=1.0, profile_spread=0.4, utterance_spread=0.45,
             snr_db=None, rt60_s=None, band_hz=None, emotion_intensity=None, speaking_rate=None,
             head_motion=None, drop_rate=None, frame_rate=None, expression_mix=None):
    """Write the two simulated corpora and their manifest.

    ``sim-crema`` (CREMA-D-like: the 12 CREMA-D sentences, clean channel,
    30 fps, acted emotions) and ``sim-improv`` (MSP-IMPROV-like: other
    sentences, 25 fps, noisier and reverberant band-limited channel, subtler
    emotions), four emotions each, ``speakers_per_corpus`` speakers each (ids
    ``C01 ..`` and ``I01 ..``). Each utterance is a 16 kHz mono WAV, an
    OpenFace-format landmark CSV and a TextGrid of the true word and phone
    alignment (ARPAbet with stress).

    Parameters
    ----------
    out_dir : str or Path
        Output folder; gets ``manifest.csv`` and ``<corpus>/{wav,landmarks,textgrid}/``.
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

    Returns
    -------
    pathlib.Path
        ``out_dir/manifest.csv`` (paths relative to it; extra columns
        ``frame_rate`` and ``sentence``).

    Examples
    --------
    >>> import tempfile
    >>> from agser.corpora import read_manifest
    >>> m = read_manifest(simulate(tempfile.mkdtemp(), utterances_per_corpus=2))
    >>> m.groupby("corpus").size().to_dict()
    {'sim-crema': 2, 'sim-improv': 2}
    """
    import soundfile as sf

    from agser.corpora import make_manifest, write_manifest
    from agser.landmarks.openface import write_openface_csv
    from agser.phones.textgrid import write_textgrid

    n = DEFAULT_UTTERANCES if utterances_per_corpus is None else int(utterances_per_corpus)
    if n < 1:
        raise ParameterError(f"utterances_per_corpus={utterances_per_corpus!r} must be >= 1")
    args = dict(locals())
    knobs = {k: args[k] for k in inspect.signature(simulate).parameters
             if k not in ("out_dir", "seed", "utterances_per_corpus")}
    cfgs, style = _split_knobs(dict(knobs))
    out_dir = Path(out_dir)
    rows = []
    for ci, corpus in enumerate(CORPORA):
        cfg = cfgs[corpus]
        speakers = _speakers(cfg, ci, seed, style)
        codes = sorted(cfg.sentences)
        for i, (si, emo) in enumerate(corpus_plan(n, len(speakers))):
            rng = np.random.default_rng([int(seed), ci, i])
            sentence = codes[int(rng.integers(len(codes)))]
            u = _render(cfg, speakers[si], emo, sentence, rng, style)
            uid = f"{speakers[si].speaker_id}_{sentence}_{_EMO_CODE[emo]}_{i:04d}"
            rel = {k: f"{corpus}/{k}/{uid}.{ext}" for k, ext in
                   (("wav", "wav"), ("landmarks", "csv"), ("textgrid", "TextGrid"))}
            for k in rel:
                (out_dir / corpus / k).mkdir(parents=True, exist_ok=True)
            sf.write(out_dir / rel["wav"], u["audio"], u["sample_rate"], subtype="PCM_16")
            write_openface_csv(u["landmarks"], out_dir / rel["landmarks"])
            write_textgrid(u["alignment"], out_dir / rel["textgrid"])
            rows.append(dict(
                utterance_id=uid, corpus=corpus, speaker=speakers[si].speaker_id, emotion=emo,
                transcript=u["text"], audio_path=rel["wav"], video_path="",
                landmarks_path=rel["landmarks"],
                alignment_path=rel["textgrid"],
                frame_rate=f"{cfg.frame_rate:g}", sentence=sentence,
            ))
    path = out_dir / "manifest.csv"
    write_manifest(make_manifest(rows), path)
    return path
