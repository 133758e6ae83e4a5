"""The pluggable-activation GRU: equal to torch.nn.GRU with tanh, padding-invariant,
backward direction starting at each row's last valid step, swappable recurrence."""

from __future__ import annotations

import pytest
import torch
from serbench.errors import ConfigError
from torch import nn

from serbench_ar_gru import recurrence
from serbench_ar_gru.activations import activation_names
from serbench_ar_gru.gru import GRU
from serbench_ar_gru.recurrence import reference_recurrence, register_recurrence

torch.set_num_threads(1)
AREL = {"alpha": 0.01, "beta": 1.0}


def _torch_gru_packed(gru: nn.GRU, x: torch.Tensor, lengths: torch.Tensor):
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, h_n = gru(packed)
    out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return out, h_n


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_tanh_matches_torch_gru(bidirectional: bool, num_layers: int) -> None:
    torch.manual_seed(0)
    ref = nn.GRU(5, 7, num_layers=num_layers, batch_first=True, bidirectional=bidirectional)
    ours = GRU(5, 7, activation="tanh", num_layers=num_layers, bidirectional=bidirectional)
    ours.copy_weights_from(ref)
    x = torch.randn(4, 9, 5)
    lengths = torch.tensor([9, 4, 1, 6])
    out_ref, h_ref = _torch_gru_packed(ref, x, lengths)
    out, h = ours(x, lengths)
    torch.testing.assert_close(out, out_ref, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(h, h_ref, atol=1e-6, rtol=1e-5)
    # gradients agree too
    (out_ref.square().sum() + h_ref.sum()).backward()
    (out.square().sum() + h.sum()).backward()
    for name, p in ref.named_parameters():
        torch.testing.assert_close(getattr(ours, name).grad, p.grad, atol=1e-5, rtol=1e-4)


def test_tanh_matches_torch_gru_without_padding_and_with_h0() -> None:
    torch.manual_seed(1)
    ref = nn.GRU(3, 6, batch_first=True, bidirectional=True)
    ours = GRU(3, 6, bidirectional=True)
    ours.copy_weights_from(ref)
    x, h0 = torch.randn(2, 5, 3), torch.randn(2, 2, 6)
    out_ref, h_ref = ref(x, h0)
    out, h = ours(x, torch.tensor([5, 5]), h0)
    torch.testing.assert_close(out, out_ref, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(h, h_ref, atol=1e-6, rtol=1e-5)


def test_parameter_names_match_torch() -> None:
    ours = {n for n, _ in GRU(3, 4, bidirectional=True, num_layers=2).named_parameters(recurse=False)}
    theirs = {n for n, _ in nn.GRU(3, 4, bidirectional=True, num_layers=2).named_parameters()}
    assert ours == theirs


def test_candidate_activation_replaces_tanh() -> None:
    # One step by hand: n = act(W_in x + b_in + r * (W_hn h + b_hn)), h0 = 0.
    torch.manual_seed(2)
    gru = GRU(3, 4, activation="relu")
    x = torch.randn(1, 1, 3)
    out, _ = gru(x, torch.tensor([1]))
    gi = x[0, 0] @ gru.weight_ih_l0.t() + gru.bias_ih_l0
    gh = gru.bias_hh_l0
    r = torch.sigmoid(gi[:4] + gh[:4])
    z = torch.sigmoid(gi[4:8] + gh[4:8])
    n = torch.relu(gi[8:] + r * gh[8:])
    torch.testing.assert_close(out[0, 0], (1 - z) * n)


@pytest.mark.parametrize("activation", ["tanh", "relu", "arelu", "leaky_relu", "selu", "mish"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_does_not_change_results(activation: str, bidirectional: bool) -> None:
    torch.manual_seed(3)
    gru = GRU(4, 5, activation=activation, activation_hparams=AREL, bidirectional=bidirectional)
    lengths = torch.tensor([6, 1, 3])
    x = torch.randn(3, 6, 4)
    out, h = gru(x, lengths)
    # garbage in the padding and extra padded steps change nothing
    noisy = torch.cat([x, torch.randn(3, 4, 4) * 100], dim=1)
    for b, n in enumerate(lengths.tolist()):
        noisy[b, n:] = torch.randn_like(noisy[b, n:]) * 100
    out2, h2 = gru(noisy, lengths)
    torch.testing.assert_close(out2[:, :6], out)
    assert out2[:, 6:].abs().max() == 0
    torch.testing.assert_close(h2, h)
    for b, n in enumerate(lengths.tolist()):  # each row alone, unpadded
        alone, h_alone = gru(x[b : b + 1, :n], torch.tensor([n]))
        torch.testing.assert_close(out[b : b + 1, :n], alone)
        torch.testing.assert_close(h[:, b : b + 1], h_alone)
        if n < out.shape[1]:
            assert out[b, n:].abs().max() == 0


def test_backward_direction_starts_at_last_valid_step() -> None:
    torch.manual_seed(4)
    bi = GRU(3, 4, activation="arelu", activation_hparams=AREL, bidirectional=True)
    lengths = torch.tensor([5, 2])
    x = torch.randn(2, 5, 3)
    out, h = bi(x, lengths)
    # the backward half equals a forward GRU (the _reverse weights) run over each row's
    # valid frames in reverse order
    fwd = GRU(3, 4, activation="arelu", activation_hparams=AREL)
    with torch.no_grad():
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(fwd, f"{kind}_l0").copy_(getattr(bi, f"{kind}_l0_reverse"))
        fwd.activations["l0"].load_state_dict(bi.activations["l0_reverse"].state_dict())
    for b, n in enumerate(lengths.tolist()):
        rev_out, rev_h = fwd(x[b : b + 1, :n].flip(1), torch.tensor([n]))
        torch.testing.assert_close(out[b, :n, 4:], rev_out[0].flip(0))
        torch.testing.assert_close(h[1, b], rev_h[0, 0])
        # the backward state at the last valid step has seen only that step
        step, _ = fwd(x[b : b + 1, n - 1 : n], torch.tensor([1]))
        torch.testing.assert_close(out[b, n - 1, 4:], step[0, 0])


def test_each_direction_and_layer_has_its_own_activation() -> None:
    gru = GRU(3, 4, activation="arelu", activation_hparams=AREL, bidirectional=True, num_layers=2)
    assert sorted(gru.activations) == ["l0", "l0_reverse", "l1", "l1_reverse"]
    alphas = {id(m.alpha) for m in gru.activations.values()}
    assert len(alphas) == 4
    assert all(m.alpha.item() == pytest.approx(0.01) for m in gru.activations.values())


def test_all_registered_activations_build() -> None:
    for name in activation_names():
        GRU(2, 3, activation=name, activation_hparams=AREL)(torch.randn(1, 2, 2), torch.tensor([2]))


def test_unknown_activation_and_implementation_say_what_is_known() -> None:
    with pytest.raises(ConfigError, match="known: .*arelu"):
        GRU(2, 3, activation="swishy")
    gru = GRU(2, 3, implementation="nope")
    with pytest.raises(ConfigError, match="reference"):
        gru(torch.randn(1, 2, 2), torch.tensor([2]))


def test_fast_path_is_swapped_in_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # without serbench's own fast path, so that the fakes below are the only candidates
    registry = {k: v for k, v in recurrence._registry.items() if k != "fast"}
    monkeypatch.setattr(recurrence, "_registry", registry)
    monkeypatch.setattr(recurrence, "_warned", set())
    calls = []

    def fast(*args):
        calls.append(args[0].shape)
        return reference_recurrence(*args)

    register_recurrence("fake", fast, supports=lambda act, dev: act.activation_name == "relu")
    torch.manual_seed(5)
    x, lengths = torch.randn(2, 3, 2), torch.tensor([3, 1])
    GRU(2, 3, activation="tanh")(x, lengths)
    assert calls == []  # unsupported activation: reference
    GRU(2, 3, activation="relu", bidirectional=True)(x, lengths)
    assert len(calls) == 2  # both directions
    # a broken fast path (e.g. an extension that did not compile) warns and falls back
    register_recurrence("broken", "serbench_ar_gru.no_such_module:fn", priority=10)
    with pytest.warns(RuntimeWarning, match="broken"):
        out, _ = GRU(2, 3, activation="tanh")(x, lengths)
    assert out.shape == (2, 3, 3)


def test_bad_lengths_are_rejected() -> None:
    gru = GRU(2, 3)
    with pytest.raises(ValueError, match=r"in \[1, 4\]"):
        gru(torch.randn(2, 4, 2), torch.tensor([0, 4]))
    with pytest.raises(ValueError, match=r"in \[1, 4\]"):
        gru(torch.randn(2, 4, 2), torch.tensor([5, 4]))
