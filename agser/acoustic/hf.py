"""Hugging Face audio SSL encoders (wav2vec2, HuBERT, WavLM) as agser encoders.

:class:`HFEncoder` loads any ``transformers`` audio checkpoint whose model
returns ``hidden_states`` (wav2vec2, HuBERT, WavLM, data2vec-audio, ...) from a
local folder or a hub id, and returns frame features of every layer, the way
:class:`agser.acoustic.base.Encoder` asks: ``encode(waveform) -> (n_layers,
n_frames, dim)``. Layer 0 is the output of the feature projection (before the
first transformer block); layer ``i`` the output of block ``i``.

No weights can be downloaded on a machine without internet: a missing folder,
or a hub id under ``HF_HUB_OFFLINE=1`` that is not in the local cache, raises
:class:`agser.errors.ParameterError` naming it.
"""

from __future__ import annotations

import contextlib

import os
from pathlib import Path

import numpy as np

from agser.errors import InputError, ParameterError

__all__ = ["HFEncoder"]


@contextlib.contextmanager
def quiet_progress():
    """transformers' progress bars off for the duration (no "Loading weights" bar in a chapter's output)."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def _looks_like_path(name):
    """Whether ``name`` is meant as a folder rather than a hub id (``org/model`` or ``model``).

    Examples
    --------
    >>> _looks_like_path("facebook/wav2vec2-base"), _looks_like_path("/models/wav2vec2-base")
    (False, True)
    >>> _looks_like_path("models/w2v/base"), _looks_like_path("./w2v")
    (True, True)
    """
    s = str(name)
    return s.startswith(("/", ".", "~")) or s.count("/") >= 2 or "\\" in s


class HFEncoder:
    """Frame features of every layer of a Hugging Face speech SSL model.

    Parameters
    ----------
    name_or_path : str or Path
        A local folder written by ``save_pretrained`` (``config.json`` and the
        weights, and ideally ``preprocessor_config.json``) or a hub id such as
        ``"facebook/wav2vec2-base"`` (needs the hub or its local cache).
    layers : "all" or sequence of int
        Hidden states to return: ``"all"`` gives ``num_hidden_layers + 1``
        (projection output + every block), else the listed indices.
    finetune_top : int
        Number of top transformer blocks left trainable (``requires_grad``);
        0 freezes the whole model. Training code reaches the model through
        :attr:`module` and :meth:`hidden_states`.
    device : str
        Torch device (``"cpu"``, ``"cuda"``).
    normalize : bool, optional
        Zero-mean unit-variance normalisation of each waveform; by default
        taken from the checkpoint's feature-extractor config (``do_normalize``);
        a folder without ``preprocessor_config.json`` needs it given.

    Attributes
    ----------
    sample_rate : int
        16000.
    frame_rate : float
        Frames per second (16000 / product of the conv strides; 50 for the
        usual checkpoints).
    n_layers, dim : int
    module : torch.nn.Module
        The loaded model.

    Examples
    --------
    >>> HFEncoder("/nonexistent/wav2vec2-base")
    Traceback (most recent call last):
    ...
    agser.errors.ParameterError: acoustic model '/nonexistent/wav2vec2-base' does not exist (no such folder)
    """

    sample_rate = 16000

    def __init__(self, name_or_path, layers="all", finetune_top=0, device="cpu", normalize=None):
        import torch
        from transformers import AutoConfig, AutoFeatureExtractor, AutoModel

        self.name_or_path = str(name_or_path)
        path = Path(name_or_path).expanduser()
        local = path.is_dir()
        if not local and _looks_like_path(name_or_path):
            raise ParameterError(f"acoustic model {self.name_or_path!r} does not exist (no such folder)")
        source = str(path) if local else self.name_or_path
        offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") or local
        try:
            with quiet_progress():
                config = AutoConfig.from_pretrained(source, local_files_only=offline)
                model = AutoModel.from_pretrained(source, local_files_only=offline)
        except (OSError, ValueError) as exc:
            where = "local folder" if local else ("hub id, offline" if offline else "hub id")
            raise ParameterError(
                f"acoustic model {self.name_or_path!r} ({where}) could not be loaded: "
                f"{str(exc).splitlines()[0]}") from exc
        if normalize is None:
            if local and not (path / "preprocessor_config.json").is_file():
                raise ParameterError(
                    f"acoustic model {self.name_or_path!r} has no preprocessor_config.json: "
                    "pass normalize=True or False")
            fe = AutoFeatureExtractor.from_pretrained(source, local_files_only=offline)
            normalize = bool(getattr(fe, "do_normalize", True))
        self.normalize = bool(normalize)
        n_blocks = int(config.num_hidden_layers)
        self.layers = list(range(n_blocks + 1)) if layers == "all" else [int(i) for i in layers]
        bad = [i for i in self.layers if not 0 <= i <= n_blocks]
        if bad:
            raise ParameterError(f"layers={bad} outside 0..{n_blocks} of {self.name_or_path!r}")
        if not 0 <= int(finetune_top) <= n_blocks:
            raise ParameterError(f"finetune_top={finetune_top!r} must lie in 0..{n_blocks}")
        self.finetune_top = int(finetune_top)
        self.device = device
        self.module = model.to(device)
        for p in self.module.parameters():
            p.requires_grad_(False)
        if self.finetune_top:
            for block in self.module.encoder.layers[n_blocks - self.finetune_top:]:
                for p in block.parameters():
                    p.requires_grad_(True)
        self.module.train(False)
        self.n_layers = len(self.layers)
        self.dim = int(config.hidden_size)
        self.frame_rate = self.sample_rate / float(np.prod(config.conv_stride))
        self._torch = torch

    def hidden_states(self, waveforms, attention_mask=None):
        """Differentiable hidden states of a batch (the fine-tuning path).

        Parameters
        ----------
        waveforms : torch.Tensor, shape (batch, samples)
            16 kHz, already normalised when :attr:`normalize` asks for it.
        attention_mask : torch.Tensor, shape (batch, samples), optional

        Returns
        -------
        torch.Tensor, shape (n_layers, batch, n_frames, dim)
        """
        out = self.module(waveforms.to(self.device), attention_mask=attention_mask,
                          output_hidden_states=True)
        return self._torch.stack([out.hidden_states[i] for i in self.layers])

    def encode(self, waveform):
        """Frame features of one waveform.

        Parameters
        ----------
        waveform : numpy.ndarray, float, shape (samples,)
            Mono, 16 kHz.

        Returns
        -------
        numpy.ndarray, float32, shape (n_layers, n_frames, dim)
        """
        x = np.asarray(waveform, dtype=np.float32)
        if x.ndim != 1:
            raise InputError(f"waveform must be 1-D, got shape {x.shape}", stage="acoustic")
        if x.size < 400:
            raise InputError(f"waveform of {x.size} samples is shorter than one frame",
                             stage="acoustic")
        if not np.isfinite(x).all():
            raise InputError("waveform holds NaN or inf", stage="acoustic")
        if self.normalize:
            x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
        with self._torch.no_grad():
            h = self.hidden_states(self._torch.from_numpy(x)[None])
        return h[:, 0].float().cpu().numpy()

    def __repr__(self):
        return (f"HFEncoder({self.name_or_path!r}, n_layers={self.n_layers}, dim={self.dim}, "
                f"finetune_top={self.finetune_top})")
