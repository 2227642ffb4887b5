"""How hard the simulated emotion task is: a quick utterance-level baseline.

A logistic regression on utterance-level acoustic statistics (mean and
standard deviation of 40 log-mel bands, F0 and energy statistics) scored by
unweighted average recall (UAR) with speaker-independent folds within a
corpus, and trained on one corpus and tested on the other across corpora.
It is the simulator's calibration check (where the default sits), not one of
the book's SER methods.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["utterance_features", "difficulty_check"]


def utterance_features(audio, sr=16000, n_mels=40):
    """Utterance-level features of one waveform.

    Parameters
    ----------
    audio : numpy.ndarray, shape (n,), float
        Mono waveform.
    sr : int, Hz
    n_mels : int
        Mel bands.

    Returns
    -------
    numpy.ndarray, shape (2 * n_mels + 6,)
        Log-mel means and standard deviations, then the median, interquartile
        range and 90 % range of log F0 over voiced frames (frames above the
        median energy), and the mean and standard deviation of frame energy (dB)
        and the 95th energy percentile.

    Examples
    --------
    >>> x = np.sin(2 * np.pi * 150 * np.arange(16000) / 16000).astype(np.float32)
    >>> utterance_features(x).shape
    (86,)
    """
    import librosa

    audio = np.asarray(audio, dtype=np.float32)
    mel = librosa.feature.melspectrogram(y=audio, sr=sr, n_fft=512, hop_length=160, n_mels=n_mels)
    logmel = np.log(mel + 1e-8)
    energy = 10.0 * np.log10(np.mean(mel, axis=0) + 1e-10)
    f0 = librosa.yin(audio, fmin=60.0, fmax=450.0, sr=sr, frame_length=1024, hop_length=160)
    m = min(len(f0), len(energy))
    voiced = energy[:m] > np.median(energy[:m])
    lf0 = np.log(f0[:m][voiced]) if voiced.any() else np.log(f0[:m])
    q = np.percentile(lf0, [5, 25, 50, 75, 95])
    return np.concatenate([
        logmel.mean(axis=1), logmel.std(axis=1),
        [q[2], q[3] - q[1], q[4] - q[0], energy.mean(), energy.std(), np.percentile(energy, 95)],
    ])


def _uar(y_true, y_pred):
    from sklearn.metrics import balanced_accuracy_score

    return 100.0 * balanced_accuracy_score(y_true, y_pred)


def difficulty_check(manifest, emotions=("neutral", "anger", "happiness", "sadness"), n_folds=4,
                     C=0.1, features=None, normalize="train"):
    """UAR of a logistic regression, within and across the corpora of a manifest.

    Parameters
    ----------
    manifest : pandas.DataFrame
        A validated manifest (absolute audio paths, as from
        :func:`agser.corpora.read_manifest`) with at least two speakers per corpus.
    emotions : tuple of str
        Classes; other rows are ignored.
    n_folds : int
        Speaker-independent folds within a corpus (speakers split into groups).
    C : float
        Inverse L2 regularisation of the logistic regression.
    features : numpy.ndarray, shape (n_utterances, d), optional
        Precomputed :func:`utterance_features` rows in manifest order.
    normalize : {"train", "corpus"}
        ``"train"``: standardise features with the training set's statistics
        (the test corpus is seen only at test time). ``"corpus"``: first
        standardise each corpus with its own statistics (unsupervised corpus
        normalisation, a common cross-corpus baseline that removes fixed
        channel offsets).

    Returns
    -------
    pandas.DataFrame
        One row per setting: ``train``, ``test`` (corpus names), ``kind``
        (``within``: speaker-independent folds; ``cross``), ``uar`` (percent),
        ``n_test``.
    """
    import soundfile as sf
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    df = manifest[manifest["emotion"].isin(emotions)].reset_index(drop=True)
    if features is None:
        X = np.stack([utterance_features(sf.read(p, dtype="float32")[0]) for p in df["audio_path"]])
    else:
        X = np.asarray(features)[manifest["emotion"].isin(emotions).to_numpy()]
    y = df["emotion"].to_numpy()
    if normalize == "corpus":
        X = X.copy()
        for corpus in df["corpus"].unique():
            m = (df["corpus"] == corpus).to_numpy()
            X[m] = (X[m] - X[m].mean(0)) / (X[m].std(0) + 1e-9)
    elif normalize != "train":
        from agser.errors import ParameterError

        raise ParameterError(f"normalize={normalize!r} must be 'train' or 'corpus'")

    def model():
        return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000))

    rows = []
    corpora = sorted(df["corpus"].unique())
    for corpus in corpora:
        m = (df["corpus"] == corpus).to_numpy()
        groups = df.loc[m, "speaker"].to_numpy()
        k = min(n_folds, len(np.unique(groups)))
        pred = np.empty(m.sum(), dtype=object)
        for tr, te in GroupKFold(n_splits=k).split(X[m], y[m], groups):
            pred[te] = model().fit(X[m][tr], y[m][tr]).predict(X[m][te])
        rows.append(dict(train=corpus, test=corpus, kind="within", uar=_uar(y[m], pred), n_test=int(m.sum())))
    for a in corpora:
        for b in corpora:
            if a == b:
                continue
            ma, mb = (df["corpus"] == a).to_numpy(), (df["corpus"] == b).to_numpy()
            pred = model().fit(X[ma], y[ma]).predict(X[mb])
            rows.append(dict(train=a, test=b, kind="cross", uar=_uar(y[mb], pred), n_test=int(mb.sum())))
    return pd.DataFrame(rows)
