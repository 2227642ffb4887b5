"""A small wav2vec2 with seeded random weights: the stand-in of a real checkpoint.

The ``paper`` run encodes its corpora with wav2vec2-base, which cannot be
downloaded on a machine without internet. The ``paper-standin`` run
(``acoustic.standin_model``) runs the same code path on
:func:`write_standin_wav2vec2`'s folder instead: a ``transformers``
``Wav2Vec2Model`` built from a :class:`transformers.Wav2Vec2Config` small
enough to encode a corpus quickly on a CPU, with random weights drawn from a
seed, saved with ``save_pretrained`` together with a
``Wav2Vec2FeatureExtractor``, exactly as a downloaded checkpoint is saved.
:class:`agser.acoustic.hf.HFEncoder` then loads it offline like any local
checkpoint folder.

Its features carry no learned speech knowledge: they are a random (but
fixed) convolutional and transformer transform of the waveform. What the
stand-in exercises is the machinery (checkpoint loading, every hidden state at
50 frames/s, the per-utterance store, fine-tuning of the top blocks), not
wav2vec2's accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agser.errors import ParameterError

__all__ = ["STANDIN_DEFAULTS", "write_standin_wav2vec2"]

#: The default stand-in: 4 blocks of 32 units behind a three-layer conv stack of
#: total stride 320 (16 kHz / 320 = 50 frames/s, as wav2vec2-base).
STANDIN_DEFAULTS = dict(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64,
                        conv_dim=(32, 32, 32), conv_kernel=(10, 8, 8), conv_stride=(5, 8, 8),
                        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 1:
        raise ParameterError(f"acoustic.standin_model.{name}={value!r} must be a positive integer")
    return int(value)


def _int_tuple(name, value):
    if isinstance(value, (int, np.integer)) or not hasattr(value, "__len__") or len(value) == 0:
        raise ParameterError(f"acoustic.standin_model.{name}={value!r} must be a non-empty list of integers")
    return tuple(_positive_int(name, v) for v in value)


def write_standin_wav2vec2(out, hidden_size=32, num_hidden_layers=4, num_attention_heads=2,
                           intermediate_size=64, conv_dim=(32, 32, 32), conv_kernel=(10, 8, 8),
                           conv_stride=(5, 8, 8), num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4,
                           seed=0, **config):
    """Write a small seeded wav2vec2 checkpoint (model + feature extractor) into ``out``.

    Parameters
    ----------
    out : str or Path
        Folder to write (created); gets ``config.json``, the weights
        (``model.safetensors``) and ``preprocessor_config.json``.
    hidden_size, num_hidden_layers, num_attention_heads, intermediate_size : int
        The transformer (``hidden_size`` a multiple of ``num_attention_heads``
        and of ``num_conv_pos_embedding_groups``).
    conv_dim, conv_kernel, conv_stride : sequence of int
        The convolutional feature encoder, one entry per layer (equal
        lengths). The product of the strides sets the frame rate:
        ``16000 / prod(conv_stride)`` frames per second (320: 50, as
        wav2vec2-base's ``(5, 2, 2, 2, 2, 2, 2)``).
    num_conv_pos_embeddings, num_conv_pos_embedding_groups : int
        The convolutional position embedding.
    seed : int
        ``torch.manual_seed`` before the weights are drawn: the same seed and
        configuration give the same weights.
    **config
        Other :class:`transformers.Wav2Vec2Config` keys (``hidden_dropout``, ...).

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    ParameterError
        A configuration value that is not a positive integer, conv lists of
        different lengths, sizes that do not divide, or a key that
        ``Wav2Vec2Config`` does not have; the message names it.

    Examples
    --------
    >>> import tempfile
    >>> from agser.acoustic.hf import HFEncoder
    >>> enc = HFEncoder(write_standin_wav2vec2(tempfile.mkdtemp()))
    >>> enc.n_layers, enc.dim, enc.frame_rate
    (5, 32, 50.0)
    >>> enc.encode(np.random.default_rng(0).normal(size=16000)).shape
    (5, 49, 32)
    >>> write_standin_wav2vec2(tempfile.mkdtemp(), hidden_size=30, num_attention_heads=4)
    Traceback (most recent call last):
    ...
    agser.errors.ParameterError: acoustic.standin_model.hidden_size=30 must be a multiple of num_attention_heads=4
    """
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

    sizes = {name: _positive_int(name, value) for name, value in (
        ("hidden_size", hidden_size), ("num_hidden_layers", num_hidden_layers),
        ("num_attention_heads", num_attention_heads), ("intermediate_size", intermediate_size),
        ("num_conv_pos_embeddings", num_conv_pos_embeddings),
        ("num_conv_pos_embedding_groups", num_conv_pos_embedding_groups))}
    convs = {name: _int_tuple(name, value) for name, value in (
        ("conv_dim", conv_dim), ("conv_kernel", conv_kernel), ("conv_stride", conv_stride))}
    if len({len(v) for v in convs.values()}) != 1:
        raise ParameterError("acoustic.standin_model: conv_dim, conv_kernel and conv_stride must have one "
                             f"entry per conv layer (got {', '.join(f'{k}={list(v)}' for k, v in convs.items())})")
    for by in ("num_attention_heads", "num_conv_pos_embedding_groups"):
        if sizes["hidden_size"] % sizes[by]:
            raise ParameterError(f"acoustic.standin_model.hidden_size={sizes['hidden_size']} must be a "
                                 f"multiple of {by}={sizes[by]}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ParameterError(f"acoustic.standin_model.seed={seed!r} must be an integer")
    known = set(Wav2Vec2Config().to_dict())
    for key in config:
        if key not in known:
            raise ParameterError(f"acoustic.standin_model.{key} is not a Wav2Vec2Config key")
    cfg = Wav2Vec2Config(**sizes, **convs, **config)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(int(seed))
        model = Wav2Vec2Model(cfg)
    finally:
        torch.random.set_rng_state(state)  # the caller's random stream is left as it was
    model.eval()
    from agser.acoustic.hf import quiet_progress

    with quiet_progress():  # no "Writing model shards" bar in a chapter's output
        model.save_pretrained(out)
    # what wav2vec2-base ships: 16 kHz, zero-mean unit-variance waveforms, attention masks
    Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                             return_attention_mask=True).save_pretrained(out)
    return out
