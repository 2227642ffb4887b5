"""Top-N transformer blocks of a Hugging Face SSL encoder, fine-tuned with the SER head.

Fine-tuning the whole encoder on every step would re-run the CNN and every
block of every utterance. Only the top ``N`` blocks are trainable
(``ser.finetune_top``), so their input never changes: it is the frozen
hidden state that enters block ``n_blocks - N + 1``, i.e. the encoder's
cached layer ``n_blocks - N`` (:meth:`agser.run.Run.encoded`
already holds it, unpooled). :class:`TopBlocks` runs deep copies of the
encoder's own top ``N`` blocks (``HFEncoder.module.encoder.layers``) on that
input, batched with the encoder's own bidirectional attention mask so padded
frames take no part, and average-pools their outputs to the SER frame rate.
Training (:func:`agser.ser.train.fit_model`) puts these outputs in place of the
top ``N`` cached layers; the lower layers stay the cached frozen ones.
The blocks' own dropout is active while training; the encoder's LayerDrop
(which its layer loop, not a block, applies) is not used.

WavLM's blocks also take a relative position bias that only block 0 owns
(``rel_attn_embed``): block 0's attention computes it from the sequence length
alone (``WavLMAttention.compute_bias``) and every block passes it, ungated, to
the next, which gates it by its own input. :class:`TopBlocks` therefore keeps
a frozen copy of block 0's attention and calls its ``compute_bias`` for the
padded length, as block 0 does on its first pass (with every block copied,
``N = n_blocks``, the copied block 0 computes it itself and its
``rel_attn_embed`` trains too). WavLM blocks take the plain
(batch, T) frame mask (their attention turns it into a key padding mask), not
the 4-D mask the wav2vec2 / HuBERT blocks take. Since the bias depends only on
relative positions, its top-left (T_i, T_i) part for a padded row is the bias
the encoder used for that utterance alone.
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
    """Trainable copies of the top ``n`` transformer blocks of a wav2vec2 / HuBERT / WavLM model.

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
    relative_bias : bool
        Whether the blocks take block 0's relative position bias (WavLM).
    bias_attention : torch.nn.Module or None
        Frozen copy of block 0's attention, whose ``compute_bias`` gives that
        bias; None when the blocks need none or block 0 is itself copied.
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
        self.config = model.config
        self.blocks = nn.ModuleList(copy.deepcopy(b) for b in model.encoder.layers[n_blocks - int(n):])
        for p in self.blocks.parameters():
            p.requires_grad_(True)
        # WavLM: blocks take block 0's relative position bias (see the module docstring)
        self.relative_bias = hasattr(model.encoder.layers[0].attention, "compute_bias")
        if self.relative_bias and int(n) < n_blocks:
            self.bias_attention = copy.deepcopy(model.encoder.layers[0].attention)
            for p in self.bias_attention.parameters():
                p.requires_grad_(False)
        else:
            # with every block copied, block 0 computes the bias itself (and trains it)
            self.bias_attention = None
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

        valid = torch.arange(x.shape[1], device=x.device)[None, :] < lengths.to(x.device)[:, None]
        bias = None
        if self.relative_bias:
            mask = valid
            if self.bias_attention is not None:
                bias = self._position_bias(x.shape[0], x.shape[1])
        else:
            mask = create_bidirectional_mask(config=self.config, inputs_embeds=x,
                                             attention_mask=valid)
        h, outs = x, []
        for block in self.blocks:
            if self.relative_bias:
                h, bias = block(h, attention_mask=mask, position_bias=bias)
            else:
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

    def _position_bias(self, batch, length):
        """Block 0's base relative position bias, shape (batch * heads, length, length).

        The batch-repeated layout is the one ``WavLMAttention.forward`` builds on
        its first pass and hands from block to block.
        """
        att = self.bias_attention
        bias = att.compute_bias(length, length)
        return bias.unsqueeze(0).repeat(batch, 1, 1, 1).view(batch * att.num_heads, length, length)
