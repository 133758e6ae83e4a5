"""RLC and its Table 2 ablations end to end against the reference of ``_rlc_reference``
(issue 16): every variant is built from the plugin's own hyperparameters (widths made
tiny, no balancing) and each unpadded row is recomputed from the paper with the module's
weights: front end (Sec. 3.1-3.2) -> stacked LSTM or GCA-LSTM (Sec. 3.3) -> for
``rlc_al``, ``[F^(I); RT]`` with ``RT`` the last output of the transcript LSTM over the
word embeddings (Sec. 3.4) -> dense layers (Linear, ReLU) -> Linear.
"""

from __future__ import annotations

import pytest
import torch
from _rlc_reference import frontend_by_hand, gca_by_hand, lstm_by_hand, randomise_norms
from serbench.data.batch import Batch, InputSpec
from serbench.lazy import resolve
from serbench.nn.masking import lengths_to_mask

from serbench_rlc import plugin

TINY = {"channels": [4, 4, 8, 8, 8], "hidden_size": 5, "dense_units": 6, "embedding_dim": 3,
        "lexical_hidden": 4, "params": None, "rnn_implementation": "reference"}
FEATURES = 3


def _acoustic_by_hand(x: torch.Tensor, model: torch.nn.Module, hp: dict[str, object]
                      ) -> torch.Tensor:
    if model.frontend is not None:
        x = frontend_by_hand(x, model.frontend, hp)
    if hp["recurrent"] == "gca":
        return gca_by_hand(x, model.gca)[0]
    return lstm_by_hand(x, model.lstm.lstm)[-1]


@pytest.mark.parametrize(("name", "variant"), [("rlc", "baseline"), ("rlc", "s1"), ("rlc", "s2"),
                                               ("rlc", "s3"), ("rlc_al", "s3"),
                                               ("rlc_al", "s1")])
def test_forward_pass_by_hand(name: str, variant: str) -> None:
    spec_model = plugin.RLC_AL if name == "rlc_al" else plugin.RLC
    hp = {**spec_model.defaults, **plugin.VARIANTS[variant], **TINY}
    spec = InputSpec(feature_dim=FEATURES, num_classes=4, vocab_size=9 if hp["lexical"] else None)
    torch.manual_seed(0)
    model = resolve(spec_model.builder)(spec, hp).eval()
    randomise_norms(model)
    lengths = torch.tensor([70, 41])
    mask = lengths_to_mask(lengths)
    x = torch.randn(2, 70, FEATURES) * mask.unsqueeze(-1)
    batch = Batch(x=x, lengths=lengths, mask=mask)
    tokens = torch.tensor([[3, 1, 8, 2], [5, 7, 0, 0]])
    token_lengths = torch.tensor([4, 2])
    if hp["lexical"]:
        batch.extras["tokens"], batch.extras["token_lengths"] = tokens, token_lengths
    linears = [m for m in model.classifier.modules() if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        logits = model(batch)
        for b, n in enumerate(lengths.tolist()):
            z = _acoustic_by_hand(x[b, :n], model, hp)
            if hp["lexical"]:
                words = model.lexical.embedding.weight[tokens[b, : int(token_lengths[b])]]
                z = torch.cat([z, lstm_by_hand(words, model.lexical.lstm.lstm)[-1]])  # [F; RT]
            for lin in linears[:-1]:
                z = torch.relu(lin(z))
            torch.testing.assert_close(logits[b], linears[-1](z), atol=1e-5, rtol=1e-4)
