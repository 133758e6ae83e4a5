"""What a missing previous turn becomes (``absent_context``): serbench's zero vector, or
the published IAAN code's encoding of an unmasked zero "pad" frame."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from serbench.data.batch import InputSpec
from serbench.data.dataset import collate
from serbench.errors import ConfigError

from serbench_ar_gru.iaan import build
from serbench_ar_gru.plugin import DEFAULTS

SMALL = {**DEFAULTS, "hidden_size": 5, "attention_size": 3, "fc_size": 6,
         "gru_implementation": "reference"}
SPEC = InputSpec(feature_dim=3, num_classes=4)


def _batch():
    rng = np.random.default_rng(0)
    frames = lambda n: rng.normal(size=(n, 3)).astype(np.float32)  # noqa: E731
    items = [
        {"utt_id": "a", "x": frames(4), "targets": {"emotion": 0},
         "prev_self": frames(3), "prev_other": None},
        {"utt_id": "b", "x": frames(2), "targets": {"emotion": 1},
         "prev_self": None, "prev_other": frames(5)},
    ]
    return collate(items, "frames")


def test_default_is_a_zero_vector() -> None:
    assert DEFAULTS["absent_context"] == "zero"
    torch.manual_seed(0)
    model = build(SPEC, SMALL).eval()
    batch = _batch()
    with torch.no_grad():
        enc = model._encode(batch)
    assert torch.all(enc["h_r"][0] == 0) and torch.all(enc["h_p"][1] == 0)
    assert enc["h_p"][0].abs().sum() > 0 and enc["h_r"][1].abs().sum() > 0


def test_pad_frame_is_the_gru_encoding_of_one_zero_frame() -> None:
    """By hand: the context GRU run over a single zero frame, and self-attention over one
    frame (weight 1), is the missing turn's vector; present turns are unchanged."""
    torch.manual_seed(0)
    zero = build(SPEC, SMALL).eval()
    torch.manual_seed(0)
    pad = build(SPEC, {**SMALL, "absent_context": "pad_frame"}).eval()
    batch = _batch()
    with torch.no_grad():
        enc_zero, enc_pad = zero._encode(batch), pad._encode(batch)
        frame = torch.zeros(1, 1, 3)
        expected_r, _ = pad.prev_other.gru(frame, torch.tensor([1]))
        expected_p, _ = pad.prev_self.gru(frame, torch.tensor([1]))
    torch.testing.assert_close(enc_pad["h_r"][0], expected_r[0, 0])
    torch.testing.assert_close(enc_pad["h_p"][1], expected_p[0, 0])
    assert expected_r.abs().sum() > 0  # the GRU's biases make it non-zero
    torch.testing.assert_close(enc_pad["h_p"][0], enc_zero["h_p"][0])
    torch.testing.assert_close(enc_pad["h_r"][1], enc_zero["h_r"][1])


def test_unknown_choice_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError, match="zero, pad_frame"):
        build(SPEC, {**SMALL, "absent_context": "mean"})
