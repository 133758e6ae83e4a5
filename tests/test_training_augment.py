"""Training-batch augmentation (serbench/training/augment.py), by hand on tiny batches.

Every expected value is computed here from the definition: noise is ``sigma * N(0, 1)``
drawn from the same seeded generator, masks zero whole frames (time) or one band of
feature dimensions (feature), and padding after ``lengths`` is never touched.
"""

from __future__ import annotations

import numpy as np
import torch
from _training_helpers import CLASSES, toy_problem

import serbench.training.trainer as trainer_module
from serbench.data.batch import Batch, InputSpec
from serbench.data.dataset import UtteranceDataset
from serbench.testing.dummy import DummyModel
from serbench.training.augment import augment_batch, augmentation_active
from serbench.training.config import TrainingConfig
from serbench.training.trainer import MultiTaskLoss, evaluate, predict, train

torch.set_num_threads(1)

SEEDS = range(40)


def frames_batch(lengths=(5, 3), dim=4, *, ones=False) -> Batch:
    """(B, T, D) frames, zero after each row's length; arange values (or ones) on valid frames."""
    B, T = len(lengths), max(lengths)
    lengths_t = torch.tensor(lengths)
    mask = torch.arange(T)[None, :] < lengths_t[:, None]
    x = torch.ones(B, T, dim) if ones else torch.arange(B * T * dim, dtype=torch.float32)
    x = x.reshape(B, T, dim) * mask[..., None]
    return Batch(x=x, lengths=lengths_t, mask=mask,
                 targets={"emotion": torch.zeros(B, dtype=torch.long)},
                 utt_ids=[f"u{i}" for i in range(B)])


def functionals_batch(B=3, dim=6, *, ones=False) -> Batch:
    x = torch.ones(B, dim) if ones else torch.arange(B * dim, dtype=torch.float32).reshape(B, dim)
    return Batch(x=x, lengths=torch.ones(B, dtype=torch.long),
                 mask=torch.ones(B, 1, dtype=torch.bool),
                 targets={"emotion": torch.zeros(B, dtype=torch.long)},
                 utt_ids=[f"u{i}" for i in range(B)])


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_noise_is_sigma_times_randn_on_valid_frames_only():
    batch = frames_batch((5, 3))
    out = augment_batch(batch, TrainingConfig(feature_noise=0.5), gen(7))
    draws = torch.randn(2, 5, 4, generator=gen(7))  # the only draw when masks are off
    # utterance 0 is full length: every frame moved by 0.5 * its draw
    torch.testing.assert_close(out.x[0], batch.x[0] + 0.5 * draws[0])
    # utterance 1 has 3 valid frames; its 2 padding frames stay exactly zero
    torch.testing.assert_close(out.x[1, :3], batch.x[1, :3] + 0.5 * draws[1, :3])
    assert torch.equal(out.x[1, 3:], torch.zeros(2, 4))
    # the input is not modified and the other fields are the batch's own
    assert torch.equal(batch.x, frames_batch((5, 3)).x)
    assert out.mask is batch.mask and out.lengths is batch.lengths
    assert out.utt_ids == batch.utt_ids and out.targets is batch.targets


def test_padding_stays_exactly_zero_with_everything_on():
    config = TrainingConfig(feature_noise=1.0, time_masks=2, time_mask_width=0.5,
                            feature_masks=2, feature_mask_width=0.5)
    batch = frames_batch((6, 2, 4), dim=5)
    for seed in SEEDS:
        out = augment_batch(batch, config, gen(seed))
        assert out.x.shape == batch.x.shape
        assert torch.equal(out.x[~batch.mask], torch.zeros(int((~batch.mask).sum()), 5)), seed


def test_time_masks_zero_whole_frames_inside_the_utterance_at_most_width_times_length():
    lengths = (20, 10, 4)
    batch = frames_batch(lengths, dim=3, ones=True)
    config = TrainingConfig(time_masks=1, time_mask_width=0.5)
    masked_somewhere = [0, 0, 0]
    for seed in SEEDS:
        out = augment_batch(batch, config, gen(seed)).x
        for row, length in enumerate(lengths):
            valid = out[row, :length]
            # whole frames: a frame is either untouched (all ones) or zeroed (all zeros)
            zeroed = (valid == 0).all(-1)
            assert torch.equal(zeroed | (valid == 1).all(-1), torch.ones(length, dtype=torch.bool))
            where = zeroed.nonzero().flatten().tolist()
            # one mask: a single contiguous span of at most floor(0.5 * length) frames
            assert len(where) <= int(0.5 * length), (seed, row, where)
            assert where == list(range(where[0], where[0] + len(where))) if where else True
            assert torch.equal(out[row, length:], torch.zeros(20 - length, 3))
            masked_somewhere[row] += bool(where)
    # the masks do land inside every utterance (not only in the padding)
    assert all(n > 0 for n in masked_somewhere), masked_somewhere


def test_two_time_masks_zero_at_most_twice_the_width():
    lengths = (12, 6)
    batch = frames_batch(lengths, dim=2, ones=True)
    config = TrainingConfig(time_masks=2, time_mask_width=0.25)
    for seed in SEEDS:
        out = augment_batch(batch, config, gen(seed)).x
        for row, length in enumerate(lengths):
            assert int((out[row, :length] == 0).all(-1).sum()) <= 2 * int(0.25 * length)


def test_feature_masks_zero_the_same_band_on_every_frame_of_an_utterance():
    lengths = (6, 3)
    D = 8
    batch = frames_batch(lengths, dim=D, ones=True)
    config = TrainingConfig(feature_masks=1, feature_mask_width=0.5)
    bands = []
    for seed in SEEDS:
        out = augment_batch(batch, config, gen(seed)).x
        per_row = []
        for row, length in enumerate(lengths):
            valid = out[row, :length]
            band = (valid[0] == 0).nonzero().flatten().tolist()
            # every valid frame has exactly this band zeroed and the rest untouched
            expected = torch.ones(D)
            expected[band] = 0
            assert torch.equal(valid, expected.expand(length, D)), (seed, row)
            assert len(band) <= int(0.5 * D)
            assert band == list(range(band[0], band[0] + len(band))) if band else True
            assert torch.equal(out[row, length:], torch.zeros(6 - length, D))
            per_row.append(tuple(band))
        bands.append(per_row)
    assert any(b for rows in bands for b in rows)  # some band is drawn at all
    assert any(rows[0] != rows[1] for rows in bands)  # each utterance draws its own


def test_functionals_take_noise_and_feature_masks():
    batch = functionals_batch(3, 6)
    out = augment_batch(batch, TrainingConfig(feature_noise=0.25), gen(3))
    assert out.x.shape == (3, 6)
    # functionals are one frame each: the draw is (B, 1, D)
    torch.testing.assert_close(out.x, batch.x + 0.25 * torch.randn(3, 1, 6, generator=gen(3))[:, 0])

    ones = functionals_batch(3, 6, ones=True)
    config = TrainingConfig(feature_masks=1, feature_mask_width=0.5)
    zeroed_any = False
    for seed in SEEDS:
        masked = augment_batch(ones, config, gen(seed)).x
        assert masked.shape == (3, 6)
        for row in masked:
            band = (row == 0).nonzero().flatten().tolist()
            assert set(row.tolist()) <= {0.0, 1.0} and len(band) <= 3
            assert band == list(range(band[0], band[0] + len(band))) if band else True
            zeroed_any |= bool(band)
    assert zeroed_any
    # time masks need frames: on functionals they change nothing
    timed = augment_batch(batch, TrainingConfig(time_masks=3, time_mask_width=1.0), gen(0))
    assert torch.equal(timed.x, batch.x)


def test_waveform_batches_are_left_alone():
    # level "waveform": x (B, N) audio, mask (B, N); the module says nothing applies
    lengths = torch.tensor([6, 3])
    mask = torch.arange(6)[None, :] < lengths[:, None]
    batch = Batch(x=torch.ones(2, 6) * mask, lengths=lengths, mask=mask)
    out = augment_batch(batch, TrainingConfig(feature_noise=0.1, feature_masks=1), gen(0))
    assert torch.equal(out.x, batch.x)


def test_all_off_changes_nothing():
    config = TrainingConfig()
    assert not augmentation_active(config)
    assert augmentation_active(TrainingConfig(feature_noise=0.1))
    assert augmentation_active(TrainingConfig(time_masks=1))
    assert augmentation_active(TrainingConfig(feature_masks=1))
    for batch in (frames_batch((5, 3)), functionals_batch()):
        out = augment_batch(batch, config, gen(0))
        assert torch.equal(out.x, batch.x) and out.x.shape == batch.x.shape


def test_same_seed_same_output_other_seed_other_output():
    config = TrainingConfig(feature_noise=0.3, time_masks=1, time_mask_width=0.5,
                            feature_masks=1, feature_mask_width=0.5)
    batch = frames_batch((7, 4), dim=6)
    a = augment_batch(batch, config, gen(11)).x
    b = augment_batch(batch, config, gen(11)).x
    c = augment_batch(batch, config, gen(12)).x
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


# --- the trainer augments training batches only -------------------------------------


def _splits():
    manifest, fold, table = toy_problem(level="frames")
    label = {u: CLASSES.index(x) for u, x in zip(manifest["utt_id"], manifest["label"], strict=True)}

    def ds(ids):
        return UtteranceDataset(ids, table, "frames", {"emotion": np.array([label[u] for u in ids])})

    return ds(fold.train), ds(fold.valid), ds(fold.test)


def _model():
    torch.manual_seed(0)
    return DummyModel(InputSpec(feature_dim=4, num_classes=3), hidden=8)


AUGMENTED = TrainingConfig(batch_size=8, max_epochs=3, patience=50, feature_noise=0.5,
                           time_masks=1, time_mask_width=0.3, feature_masks=1)


def test_trainer_augments_every_training_batch_and_never_a_validation_one(monkeypatch):
    tr, va, te = _splits()
    seen: list[list[str]] = []
    real = trainer_module.augment_batch

    def spy(batch, config, generator):
        seen.append(list(batch.utt_ids))
        return real(batch, config, generator)

    monkeypatch.setattr(trainer_module, "augment_batch", spy)
    net = _model()
    train(net, tr, va, AUGMENTED, num_classes=3, seed=0)
    augmented = [u for ids in seen for u in ids]
    assert sorted(augmented) == sorted(tr.utt_ids * AUGMENTED.max_epochs)  # each, each epoch
    assert not set(augmented) & set(va.utt_ids)

    seen.clear()
    cpu = torch.device("cpu")
    predict(net, te, batch_size=8, device=cpu)
    predict(net, va, batch_size=8, device=cpu)
    evaluate(net, va, MultiTaskLoss({}), batch_size=8, device=cpu)
    assert seen == []  # inference never augments

    seen.clear()
    train(_model(), tr, va, TrainingConfig(batch_size=8, max_epochs=2), num_classes=3, seed=0)
    assert seen == []  # off by default: never called


def test_validation_scores_during_training_are_those_of_unaugmented_batches():
    """The curve's validation loss and UA equal evaluate() on clean batches (heavy noise
    on validation batches would change the loss), and inference is deterministic."""
    tr, va, te = _splits()
    cpu = torch.device("cpu")
    net = _model()
    # one epoch, window 1: the kept weights are the ones validation scored
    result = train(net, tr, va, TrainingConfig(batch_size=8, max_epochs=1, feature_noise=5.0,
                                               feature_masks=2, feature_mask_width=0.5),
                   num_classes=3, seed=0)
    loss, ua = evaluate(net, va, MultiTaskLoss({}), batch_size=8, device=cpu)
    assert result.curve[0]["valid_loss"] == loss and result.curve[0]["valid_ua"] == ua
    first, _ = predict(net, te, batch_size=8, device=cpu)
    again, _ = predict(net, te, batch_size=8, device=cpu)
    assert np.array_equal(first, again)
