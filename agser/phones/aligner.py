"""Forced phone alignment with pocketsphinx (en-us model and CMUdict from its wheel).

The alignment runs in two passes over the same audio, as pocketsphinx 5
documents: ``set_align_text`` then a word-level decode, then
``set_alignment`` and a second decode that yields phone and state durations
(``get_alignment``). Best-path rescoring is off: it can shorten a phone to
an impossible duration and make the second pass fail on good audio.

Rule for "the transcript does not match the audio" (an :class:`InputError`
with stage ``"phones"``): the first pass finds no hypothesis, or the second
pass cannot align, or the mean acoustic score of the non-silence frames is
below ``min_speech_score`` (pocketsphinx log-likelihood units per 10-ms frame;
default -30). On the 23 real sample clips (CREMA-D actors 1001/1002, GRID)
the right transcript scores between -9.6 and -28.6; of 69 wrong-sentence
trials (three other sentences per clip) 46 find no alignment and the rest
score -30.4 or lower. The threshold is a heuristic with a thin margin, so it
is a parameter.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from agser.errors import InputError, ParameterError
from agser.phones.cmudict import add_stress, load_cmudict

__all__ = ["PocketsphinxAligner", "normalize_transcript", "number_to_words"]

FRAME_S = 0.01  # pocketsphinx's default frame shift (100 frames/s)
_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_to_words(n):
    """English words of a non-negative integer below one million.

    Examples
    --------
    >>> number_to_words(42), number_to_words(1905)
    ('forty two', 'one thousand nine hundred five')
    """
    n = int(n)
    if n < 0 or n >= 1_000_000:
        raise ParameterError(f"number {n} is outside 0..999999")
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_to_words(rest))
    rest = n % 1000
    return number_to_words(n // 1000) + " thousand" + ("" if rest == 0 else " " + number_to_words(rest))


def normalize_transcript(text):
    """Words of a transcript as the aligner's dictionary spells them.

    Lower-case; curly apostrophes become ``'``; digits become words
    (``"42"`` -> ``"forty two"``); hyphens, slashes and other punctuation
    separate words; quotes around a word are dropped, apostrophes inside it
    (``don't``) kept.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of str

    Examples
    --------
    >>> normalize_transcript("Don’t forget a jacket!")
    ["don't", 'forget', 'a', 'jacket']
    >>> normalize_transcript("Bin blue at F 2 now")
    ['bin', 'blue', 'at', 'f', 'two', 'now']
    """
    text = str(text).lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"\d+", lambda m: " " + number_to_words(int(m.group())) + " ", text)
    text = re.sub(r"[^a-z']+", " ", text)
    words = [w.strip("'") for w in text.split()]
    return [w for w in words if w]


def _clean_pron(phones, word):
    """Split a user pronunciation; returns (stressed phones, unstressed phones)."""
    from agser.phones.cmudict import split_pronunciation
    from agser.phones.ipa import strip_stress

    try:
        toks = split_pronunciation(phones, word)
    except ParameterError as exc:
        raise ParameterError(f"extra_pronunciations: {exc}") from None
    return toks, [strip_stress(p) for p in toks]


class PocketsphinxAligner:
    """Forced phone aligner; one pocketsphinx decoder, created on first use and reused.

    Parameters
    ----------
    extra_pronunciations : dict of str -> str, optional
        Pronunciations for words not in CMUdict, ARPAbet separated by
        spaces (``{"agser": "EY1 JH S ER0"}``); stress digits are optional
        and kept in the output when given. A CMUdict-format file reads into
        this form with :func:`agser.phones.cmudict.read_pronunciations`.
    min_speech_score : float or None
        Mean acoustic score per non-silence 10-ms frame below which the
        transcript is taken not to match the audio (see the module notes);
        ``None`` disables this check.
    beam : float
        pocketsphinx's HMM and phone beam (``beam``, ``pbeam``; the word
        beam is ``beam * 1e10``). Wider than pocketsphinx's default (1e-48),
        because a forced alignment that falls off the beam fails outright: on
        the simulator's synthetic speech 1e-60 aligns utterances the default
        loses, and on the real sample clips it changes no score of a correct
        transcript.
    sample_rate : int
        Sample rate of the audio passed to :meth:`align`, in Hz (16000, the
        rate of the en-us model).

    Notes
    -----
    Phones come back as ARPAbet with stress digits. pocketsphinx's CMUdict
    has no stress, so stress is given by
    :func:`agser.phones.cmudict.add_stress` (the same rule the
    simulator uses for its true TextGrids) unless the user's pronunciation
    carries it. Creating a decoder costs about 0.6 s, so keep one aligner
    per process; it pickles without its decoder.

    Examples
    --------
    >>> aligner = PocketsphinxAligner(extra_pronunciations={"agser": "EY1 JH S ER0"})
    >>> aligner.pronunciation("agser")
    ['EY1', 'JH', 'S', 'ER0']
    """

    def __init__(self, extra_pronunciations=None, min_speech_score=-30.0, beam=1e-60,
                 sample_rate=16000):
        self.extra_pronunciations = extra_pronunciations
        self.min_speech_score = min_speech_score
        self.beam = beam
        self.sample_rate = sample_rate

    # -- decoder -------------------------------------------------------------
    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_decoder", None)
        return state

    def _extra(self):
        out = {}
        for word, phones in (self.extra_pronunciations or {}).items():
            words = normalize_transcript(word)
            if len(words) != 1:
                raise ParameterError(f"extra_pronunciations key {word!r} must be one word")
            out[words[0]] = _clean_pron(phones, word)
        return out

    @property
    def decoder(self):
        """The pocketsphinx ``Decoder`` (created on first access)."""
        dec = self.__dict__.get("_decoder")
        if dec is None:
            from pocketsphinx import Decoder

            if int(self.sample_rate) != 16000:
                raise ParameterError(
                    f"sample_rate={self.sample_rate} must be 16000 (the en-us model's rate)"
                )
            beam = float(self.beam)
            if not 0 < beam < 1:
                raise ParameterError(f"beam={self.beam!r} must be in (0, 1)")
            dec = Decoder(samprate=16000, bestpath=False, loglevel="FATAL",
                          beam=beam, pbeam=beam, wbeam=beam * 1e10)
            for word, (_, plain) in self._extra().items():
                try:
                    dec.add_word(word, " ".join(plain), True)
                except RuntimeError as exc:
                    raise ParameterError(
                        f"extra_pronunciations[{word!r}]: pocketsphinx refused it ({exc})"
                    ) from exc
            self.__dict__["_decoder"] = dec
        return dec

    def pronunciation(self, word):
        """Stressed ARPAbet phones of a word (user's first, else CMUdict); None if unknown."""
        extra = self._extra()
        if word in extra:
            return list(extra[word][0])
        plain = load_cmudict().get(word)
        return None if plain is None else add_stress(word, plain)

    def _stressed(self, word, plain):
        """Stress digits for the phones pocketsphinx chose for ``word``."""
        extra = self._extra()
        if word in extra and extra[word][1] == plain:
            return list(extra[word][0])
        return add_stress(word, plain)

    # -- alignment -----------------------------------------------------------
    def _decode(self, pcm):
        dec = self.decoder
        dec.start_utt()
        dec.process_raw(pcm, full_utt=True)
        try:
            dec.end_utt()
        except RuntimeError:
            return False
        return True

    def align(self, audio, transcript):
        """Align a transcript to audio; returns words and phones with times.

        Parameters
        ----------
        audio : ndarray, shape (n_samples,)
            Float mono samples in [-1, 1] at ``sample_rate`` (16 kHz), e.g.
            from :func:`agser.phones.audio.load_audio`.
        transcript : str
            The words spoken; normalised by :func:`normalize_transcript`.

        Returns
        -------
        agser.phones.textgrid.Alignment
            ``words`` and ``phones`` (ARPAbet with stress) in seconds,
            silences dropped; ``duration`` is the audio length; an extra
            attribute ``score`` holds the mean acoustic score per speech
            frame (see the module notes).

        Raises
        ------
        InputError
            (stage ``"phones"``) an out-of-vocabulary word (named), an empty
            transcript, audio shorter than 0.1 s, or a transcript that does
            not match the audio.
        """
        from agser.phones.textgrid import Alignment

        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim != 1:
            raise ParameterError(f"audio must be 1-D samples, got shape {audio.shape}")
        duration = audio.size / float(self.sample_rate)
        words = normalize_transcript(transcript)
        if not words:
            raise InputError(f"transcript {transcript!r} has no words", stage="phones")
        if duration < 0.1:
            raise InputError(f"audio is {duration * 1000:.0f} ms long, too short to align", stage="phones")
        dec = self.decoder
        oov = [w for w in dict.fromkeys(words) if dec.lookup_word(w) is None]
        if oov:
            # both ways in: Python callers pass a dict, CLI users a CMUdict-format file
            raise InputError(
                "out-of-vocabulary word(s) " + ", ".join(repr(w) for w in oov)
                + f": give each its ARPAbet pronunciation, in Python with extra_pronunciations="
                f"{{{oov[0]!r}: 'P1 P2 ...'}}, on the command line with agser extract "
                f"--pronunciations FILE, a file of lines '{oov[0]} P1 P2 ...'",
                stage="phones",
            )
        pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
        try:
            dec.set_align_text(" ".join(words))
        except RuntimeError as exc:
            raise InputError(f"pocketsphinx cannot align {transcript!r}: {exc}", stage="phones") from exc
        if not self._decode(pcm) or dec.hyp() is None:
            raise InputError(
                f"transcript does not match the audio: no alignment of {' '.join(words)!r} "
                f"reaches the end of the {duration:.2f} s audio",
                stage="phones",
            )
        dec.set_alignment()
        if not self._decode(pcm) or dec.get_alignment() is None:
            raise InputError(
                f"transcript does not match the audio: phone alignment of {' '.join(words)!r} failed",
                stage="phones",
            )
        word_rows, phone_rows = [], []
        speech_score, speech_frames = 0.0, 0
        for w in dec.get_alignment():
            name = re.sub(r"\(\d+\)$", "", w.name)
            phones = [(p.name, p.start, p.duration, p.score) for p in w]
            if name in ("<sil>", "<s>", "</s>") or name.startswith("+") or all(
                p[0] == "SIL" for p in phones
            ):
                continue
            stressed = self._stressed(name, [p[0] for p in phones])
            word_rows.append((name, w.start * FRAME_S, (w.start + w.duration) * FRAME_S))
            for label, (_, start, dur, score) in zip(stressed, phones):
                phone_rows.append((label, start * FRAME_S, (start + dur) * FRAME_S))
                speech_score += score
                speech_frames += dur
        if not phone_rows:
            raise InputError("transcript does not match the audio: only silence aligned", stage="phones")
        mean_score = speech_score / max(speech_frames, 1)
        if self.min_speech_score is not None and mean_score < self.min_speech_score:
            raise InputError(
                f"transcript does not match the audio: mean acoustic score {mean_score:.1f} per "
                f"speech frame < {self.min_speech_score:g}",
                stage="phones",
            )
        cols = ["label", "start", "end"]
        alignment = Alignment(
            words=pd.DataFrame(word_rows, columns=cols),
            phones=pd.DataFrame(phone_rows, columns=cols),
            duration=duration,
        )
        alignment.score = mean_score
        return alignment
