"""The RLC speech emotion recogniser and its Table 2 ablations (Li et al., IJCAI 2019).

::

    frames (B, T, 17) ──> [residual conv front end (Sec. 3.1), with multi-head
                           self-attention in its residual blocks (Sec. 3.2)]
                      ──> stacked LSTM (baseline, S1, S2) | GCA-LSTM (S3 = RLC, Sec. 3.3)
                      ──> acoustic representation F^(I) (B, 256)
    tokens (B, K) ──> embedding ──> LSTM ──> last output RT (B, 256)     [A+L input, Sec. 3.4]
    [F^(I); RT] ──> three 256-unit dense layers ──> logits (B, C)

Architecture keys (see ``serbench_rlc.plugin.DEFAULTS``):

- ``frontend``: ``"resconv"`` (S1-S3) or ``"none"`` (baseline: LSTMs on the LLDs);
- ``self_attention``: multi-head self-attention in the groups ``attention_groups`` (S2, S3);
- ``recurrent``: ``"lstm"`` (``lstm_layers`` stacked) or ``"gca"`` (GCA-LSTM, ``iterations`` I,
  ``layer_norm`` and ``forget_bias`` as in :class:`serbench_rlc.gca.GCALSTM`);
- ``lexical``: add the transcript branch (the model must then be registered with
  ``inputs=("tokens",)``: that is the ``rlc_al`` model);
- front-end shape: ``channels``, ``kernels``, ``strides``, ``dilations``, ``units``,
  ``heads``, ``conv_dropout``, ``attention_dropout``; sizes ``hidden_size``,
  ``embedding_dim``, ``lexical_hidden``, ``dense_units``, ``dense_layers``, ``dropout``;
- ``params``: a parameter count the acoustic system is balanced to by searching
  ``hidden_size`` (every Table 2 variant sets the paper's count; see :func:`build`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import torch
from serbench.data.batch import Batch, InputSpec
from serbench.errors import ConfigError
from serbench.nn.blocks import DenseStack, LSTMEncoder
from serbench.nn.resconv import ConvFrontEnd
from serbench.nn.sizing import fit_width
from torch import nn

from serbench_rlc.gca import GCALSTM


class LexicalBranch(nn.Module):
    """Transcript tokens -> embedding -> LSTM -> last output ``RT`` (Sec. 3.4).

    The paper feeds 300-dim Word2Vec vectors; no installed package ships word vectors and
    serbench downloads nothing, so the embedding is learnt from the training fold.

    Args:
        vocab_size: token ids (0 = padding, 1 = unknown).
        embedding_dim: 300 as the paper's vectors.
        hidden_size: LSTM units (paper: 256).
    """

    def __init__(self, vocab_size: int, embedding_dim: int = 300, hidden_size: int = 256):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.lstm = LSTMEncoder(embedding_dim, hidden_size)
        self.out_dim = hidden_size

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """tokens: (B, K) long, 0-padded; lengths: (B,) (0 for an empty transcript) -> (B, H)."""
        return self.lstm(self.embedding(tokens), lengths)[0]


class RLC(nn.Module):
    """RLC and its ablations; see the module docstring for the keys."""

    def __init__(self, spec: InputSpec, hp: Mapping[str, Any]):
        super().__init__()
        frontend = str(hp.get("frontend", "resconv"))
        recurrent = str(hp.get("recurrent", "gca"))
        if frontend not in {"resconv", "none"}:
            raise ConfigError(f"rlc: frontend={frontend!r}; choose 'resconv' or 'none'")
        if recurrent not in {"lstm", "gca"}:
            raise ConfigError(f"rlc: recurrent={recurrent!r}; choose 'lstm' or 'gca'")
        self.frontend = (
            ConvFrontEnd.from_hparams(spec.feature_dim, hp, attention=bool(hp.get("self_attention", True)))
            if frontend == "resconv" else None
        )
        size = self.frontend.out_dim if self.frontend is not None else spec.feature_dim
        hidden = int(hp.get("hidden_size", 256))
        self.gca: GCALSTM | None = None
        self.lstm: LSTMEncoder | None = None
        if recurrent == "gca":
            self.gca = GCALSTM(size, hidden, iterations=int(hp.get("iterations", 3)),
                               implementation=str(hp.get("rnn_implementation", "auto")),
                               layer_norm=bool(hp.get("layer_norm", True)),
                               forget_bias=float(hp.get("forget_bias", 1.0)))
        else:
            self.lstm = LSTMEncoder(size, hidden, layers=int(hp.get("lstm_layers", 2)),
                                    chrono_tmax=hp.get("chrono_tmax"))
        rep = hidden
        self.lexical: LexicalBranch | None = None
        if bool(hp.get("lexical", False)):
            if not spec.vocab_size:
                raise ConfigError(
                    "rlc: lexical=True needs transcript tokens; use the 'rlc_al' model (it "
                    "reads the 'tokens' input) on a corpus with a 'transcript' column"
                )
            self.lexical = LexicalBranch(spec.vocab_size, int(hp.get("embedding_dim", 300)),
                                         int(hp.get("lexical_hidden", 256)))
            rep += self.lexical.out_dim
        self.classifier = DenseStack(rep, int(hp.get("dense_units", 256)), spec.num_classes,
                                     layers=int(hp.get("dense_layers", 3)),
                                     dropout=float(hp.get("dropout", 0.5)))

    def acoustic(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x: (B, T, D) frames, lengths (B,) -> (B, H) acoustic representation."""
        if self.frontend is not None:
            x, lengths = self.frontend(x, lengths)
        if self.gca is not None:
            return self.gca(x, lengths)
        assert self.lstm is not None
        return self.lstm(x, lengths)[0]

    def forward(self, batch: Batch) -> torch.Tensor:
        """Emotion logits.

        Args:
            batch: ``x`` (B, T, D), ``lengths`` (B,); with ``lexical``, ``extras["tokens"]``
                (B, K) and ``extras["token_lengths"]`` (B,).
        Returns:
            (B, C) logits.
        """
        z = self.acoustic(batch.x, batch.lengths)
        if self.lexical is not None:
            lexical = self.lexical(batch.extras["tokens"], batch.extras["token_lengths"])
            z = torch.cat([z, lexical], dim=-1)
        return self.classifier(z)

    @torch.no_grad()
    def attention_maps(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Maps for ``serbench explain`` (see :mod:`serbench.explain`).

        ``self_attention/g<l>u<i>``: (B, r, T', T') the heads' correlation matrices of the
        self-attention in unit i of group l (RLC Fig. 5a); ``gca_informativeness``:
        (B, I, N) normalised informativeness ``r_n^(i)`` per iteration (Fig. 5b).
        """
        self.forward(batch)
        maps: dict[str, torch.Tensor] = {}
        if self.frontend is not None:
            for name, module in self.frontend.attention_modules().items():
                if module.last_weights is not None:
                    maps[f"self_attention/{name}"] = module.last_weights
        if self.gca is not None and self.gca.last_scores is not None:
            maps["gca_informativeness"] = self.gca.last_scores
        return maps


def build(spec: InputSpec, hparams: Mapping[str, Any]) -> RLC:
    """Build RLC (or an ablation) for frame-level input; see the module docstring.

    ``params`` (e.g. ``"9.11M"``; every Table 2 variant sets the paper's count) balances
    the acoustic system (front end, LSTM or GCA-LSTM, classifier over ``F^(I)``) to a
    parameter count by searching ``hidden_size`` (the LSTM width), as the paper balanced
    "the units" of its Table 2 systems. The lexical branch (``rlc_al``) is left out of the
    count: its learnt embedding grows with the training vocabulary, and the paper's
    Word2Vec vectors are not trained weights.
    """
    if spec.level != "frames":
        raise ConfigError("rlc reads frames (T x D); choose a frame-level feature such as lld17")
    target = hparams.get("params")
    if target not in (None, "", "none"):
        acoustic = replace(spec, vocab_size=None)
        width = fit_width(
            lambda w: RLC(acoustic, {**hparams, "hidden_size": w, "lexical": False}), target
        )
        hparams = {**hparams, "hidden_size": width}
    return RLC(spec, hparams)
