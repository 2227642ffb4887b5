"""The two-branch SER model on frozen encoder features.

Input: frame features of every encoder layer, ``(batch, n_layers, T, dim)``.

1. A softmax-weighted sum over the encoder layers (learned weights, SUPERB
   style); with ``layer_mask`` only some layers take part.
2. A small trainable frame network: a linear projection to ``hidden`` units
   and ``n_conv`` 1-D convolutions (kernel ``kernel``, ReLU, residual),
   whose outputs are the "layers" LA can align.
3. Branch 1: attentive pooling over valid frames and a linear classifier
   (cross-entropy ``L_ER`` on the labelled source).
4. Branch 2: segment embeddings, the mean of the top frame features over each
   phone span (:meth:`SERModel.segment_embeddings`), fed to the anchoring
   loss.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SERModel", "frame_mask", "masked_mean"]


def frame_mask(lengths, T):
    """Boolean (batch, T) mask, True on a sequence's valid frames.

    Examples
    --------
    >>> frame_mask(torch.tensor([1, 3]), 3).tolist()
    [[True, False, False], [True, True, True]]
    """
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]


def masked_mean(h, mask):
    """Mean of (batch, T, d) frames over the True frames of (batch, T) mask."""
    m = mask.to(h.dtype)[..., None]
    return (h * m).sum(1) / m.sum(1).clamp_min(1.0)


class SERModel(nn.Module):
    """Layer-weighted encoder features -> conv frame network -> pooled classifier.

    Parameters
    ----------
    n_layers : int
        Encoder layers in the input.
    dim : int
        Feature size of each encoder layer.
    hidden : int
        Units of the frame network.
    n_conv : int
        1-D convolution layers after the projection.
    kernel : int
        Convolution width in frames (odd).
    n_classes : int
    dropout : float
    layer_mask : sequence of bool, optional
        Encoder layers that take part in the weighted sum (all by default).

    Examples
    --------
    >>> m = SERModel(n_layers=3, dim=8, hidden=16)
    >>> logits, frames = m(torch.randn(2, 3, 10, 8), torch.tensor([10, 6]))
    >>> tuple(logits.shape), tuple(frames[-1].shape)
    ((2, 4), (2, 10, 16))
    """

    def __init__(self, n_layers, dim, hidden=64, n_conv=2, kernel=5, n_classes=4,
                 dropout=0.1, layer_mask=None):
        super().__init__()
        self.layer_logits = nn.Parameter(torch.zeros(n_layers))
        mask = torch.ones(n_layers, dtype=torch.bool) if layer_mask is None else \
            torch.as_tensor(list(layer_mask), dtype=torch.bool)
        self.register_buffer("layer_mask", mask)
        self.proj = nn.Linear(dim, hidden)
        self.convs = nn.ModuleList(
            nn.Conv1d(hidden, hidden, kernel, padding=kernel // 2) for _ in range(n_conv))
        self.dropout = nn.Dropout(dropout)
        self.attention = nn.Linear(hidden, 1)
        self.classifier = nn.Linear(hidden, n_classes)

    def layer_weights(self):
        """Softmax weights of the encoder layers (0 for masked-out layers)."""
        logits = self.layer_logits.masked_fill(~self.layer_mask, float("-inf"))
        return torch.softmax(logits, 0)

    def frames(self, x, lengths, layer=None):
        """Frame features after each trainable layer.

        Parameters
        ----------
        x : torch.Tensor, shape (batch, n_layers, T, dim)
        lengths : torch.Tensor of int, shape (batch,)
        layer : int, optional
            Read this encoder layer alone instead of the weighted sum (LA's
            per-layer representations).

        Returns
        -------
        list of torch.Tensor, each (batch, T, hidden)
            Projection output, then each convolution's output; padded frames
            are zero.
        """
        mask = frame_mask(lengths, x.shape[2]).to(x.dtype)[..., None]
        if layer is None:
            h = torch.einsum("l,bltd->btd", self.layer_weights().to(x.dtype), x)
        else:
            h = x[:, int(layer)]
        h = torch.relu(self.proj(h)) * mask
        out = [h]
        for conv in self.convs:
            h = (h + torch.relu(conv(self.dropout(h).transpose(1, 2)).transpose(1, 2))) * mask
            out.append(h)
        return out

    def pool(self, h, lengths):
        """Attentive pooling of (batch, T, hidden) over the valid frames."""
        mask = frame_mask(lengths, h.shape[1])
        score = self.attention(h).squeeze(-1).masked_fill(~mask, float("-inf"))
        alpha = torch.softmax(score, 1)
        return (alpha[..., None] * h).sum(1)

    def forward(self, x, lengths):
        """Class logits (batch, n_classes) and the list of frame features."""
        hs = self.frames(x, lengths)
        return self.classifier(self.dropout(self.pool(hs[-1], lengths))), hs

    @staticmethod
    def segment_embeddings(h, seg_utt, seg_start, seg_end):
        """Mean frame feature over each segment's span.

        Parameters
        ----------
        h : torch.Tensor, shape (batch, T, hidden)
        seg_utt : torch.Tensor of int, shape (n_seg,)
            Row of ``h`` holding each segment.
        seg_start, seg_end : torch.Tensor of int, shape (n_seg,)
            Frame span ``[start, end)``, ``end > start``.

        Returns
        -------
        torch.Tensor, shape (n_seg, hidden)

        Examples
        --------
        >>> h = torch.arange(6.).reshape(1, 3, 2)
        >>> SERModel.segment_embeddings(h, torch.tensor([0]), torch.tensor([1]), torch.tensor([3])).tolist()
        [[3.0, 4.0]]
        """
        if seg_utt.numel() == 0:
            return h.new_zeros((0, h.shape[2]))
        # Prefix sums make every span mean O(1) without a (n_seg, T) weight matrix.
        cs = torch.nn.functional.pad(torch.cumsum(h, 1), (0, 0, 1, 0))
        total = cs[seg_utt, seg_end] - cs[seg_utt, seg_start]
        return total / (seg_end - seg_start).clamp_min(1)[:, None].to(h.dtype)
