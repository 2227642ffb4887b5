"""Top-N transformer blocks of a Hugging Face SSL encoder, fine-tuned with the SER head.

Fine-tuning the whole encoder on every step would re-run the CNN and every
block of every utterance. Only the top ``N`` blocks are trainable
(``ser.finetune_top``), so their input never changes: it is the frozen
hidden state that enters block ``n_blocks - N + 1``, i.e. the encoder's
cached layer ``n_blocks - N`` (:func:`agser.analysis.pipeline.run_encoded_utterances`
already holds it, unpooled). :class:`TopBlocks` runs deep copies of the
encoder's own top ``N`` blocks (``HFEncoder.module.encoder.layers``) on that
input, batched with the encoder's own bidirectional attention mask so padded
frames take no part, and average-pools their outputs to the SER frame rate.
Training (:func:`agser.ser.train.fit_model`) puts these outputs in place of the
top ``N`` cached layers; the lower layers stay the cached frozen ones.
The blocks' own dropout is active while training; the encoder's LayerDrop
(which its layer loop, not a block, applies) is not used.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from agser.errors import ParameterError

__all__ = ["TopBlocks", "pad_block_input"]


def pad_block_input(arrays):
    """Stack (T_i, dim) block inputs into a zero-padded (n, T_max, dim) tensor and lengths.

    Examples
    --------
    >>> x, n = pad_block_input([np.ones((2, 3)), np.ones((4, 3))])
    >>> tuple(x.shape), n.tolist()
    ((2, 4, 3), [2, 4])
    """
    lengths = torch.as_tensor([a.shape[0] for a in arrays], dtype=torch.long)
    out = torch.zeros((len(arrays), int(lengths.max()), arrays[0].shape[1]), dtype=torch.float32)
    for i, a in enumerate(arrays):
        out[i, : a.shape[0]] = torch.from_numpy(np.asarray(a, dtype=np.float32))
    return out, lengths


class TopBlocks(nn.Module):
    """Trainable copies of the top ``n`` transformer blocks of a wav2vec2 / HuBERT model.

    Parameters
    ----------
    encoder : agser.acoustic.hf.HFEncoder
        Loaded with ``layers="all"``; its blocks are deep-copied (the encoder
        itself is left untouched).
    n : int
        Blocks to fine-tune, ``1 <= n <= num_hidden_layers``.
    frame_pool : int
        Encoder frames averaged into one SER frame (``ser.frame_pool``).

    Attributes
    ----------
    n_layers : int
        Layers of the encoder's features (``num_hidden_layers + 1``); the
        blocks' outputs are layers ``n_layers - n .. n_layers - 1``.
    """

    def __init__(self, encoder, n, frame_pool=1):
        super().__init__()
        model = encoder.module
        n_blocks = int(model.config.num_hidden_layers)
        if not 1 <= int(n) <= n_blocks:
            raise ParameterError(f"ser.finetune_top={n!r} must lie in 1..{n_blocks}")
        if list(encoder.layers) != list(range(n_blocks + 1)):
            raise ParameterError("ser.finetune_top needs acoustic.options.layers: all "
                                 f"(got {encoder.layers})")
        if getattr(model.config, "model_type", "") == "wavlm":
            # WavLM's blocks share a relative position bias computed by block 0 only.
            raise ParameterError("ser.finetune_top is not supported for WavLM (its top blocks need "
                                 "block 0's relative position bias); use wav2vec2 or HuBERT")
        self.config = model.config
        self.blocks = nn.ModuleList(copy.deepcopy(b) for b in model.encoder.layers[n_blocks - int(n):])
        for p in self.blocks.parameters():
            p.requires_grad_(True)
        self.n = int(n)
        self.n_layers = n_blocks + 1
        self.frame_pool = int(frame_pool)

    def forward(self, x, lengths):
        """Pooled outputs of each block.

        Parameters
        ----------
        x : torch.Tensor, shape (batch, T_enc, dim)
            Zero-padded input of the lowest fine-tuned block, at the encoder's
            frame rate.
        lengths : torch.Tensor of int, shape (batch,)
            Valid encoder frames of each row.

        Returns
        -------
        torch.Tensor, shape (batch, n, T_enc // frame_pool, dim)
        """
        from transformers.masking_utils import create_bidirectional_mask

        valid = torch.arange(x.shape[1])[None, :] < lengths[:, None]
        mask = create_bidirectional_mask(config=self.config, inputs_embeds=x, attention_mask=valid)
        h, outs = x, []
        for block in self.blocks:
            h = block(h, attention_mask=mask)
            h = h[0] if isinstance(h, tuple) else h
            # padded frames stay zero, as the encoder leaves them before its blocks
            h = h * valid[..., None].to(h.dtype)
            outs.append(h)
        out = torch.stack(outs, 1)
        pool = self.frame_pool
        T = out.shape[2] // pool * pool
        b, n, _, d = out.shape
        return out[:, :, :T].reshape(b, n, T // pool, pool, d).mean(3)
