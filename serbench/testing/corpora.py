"""A tiny on-disk corpus for tests: short synthetic WAVs and a manifest CSV.

Each label has its own tone (fundamental frequency, loudness and vibrato) and each
speaker its own pitch factor, plus noise, so even a small model learns something in a
few epochs. Speakers are nested in sessions (IEMOCAP-like: consecutive speakers share a
session, so with the defaults each session has one female and one male speaker), so
``loso`` folds are speaker-independent. Utterances of one
session form dialogues whose turns alternate between that session's speakers.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
COLUMNS = ("utt_id", "path", "speaker", "label", "gender", "session", "dialog", "turn",
           "transcript")
DIALOG_LENGTH = 6
WORDS = ("today", "really", "the", "meeting", "again", "well", "now", "maybe")


def _tone(label_index: int, speaker_factor: float, duration: float,
          rng: np.random.Generator) -> np.ndarray:
    """A label-dependent harmonic tone with vibrato and noise, float32 in [-1, 1]."""
    t = np.arange(int(duration * SAMPLE_RATE)) / SAMPLE_RATE
    f0 = (110.0 + 70.0 * label_index) * speaker_factor
    vibrato = 1.0 + 0.02 * (label_index + 1) * np.sin(2 * np.pi * (2.0 + label_index) * t)
    phase = 2 * np.pi * f0 * np.cumsum(vibrato) / SAMPLE_RATE
    amplitude = 0.15 + 0.1 * (label_index % 3)
    wave = sum(np.sin(k * phase) / k for k in (1, 2, 3))
    envelope = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.02 + 1e-3)
    signal = amplitude * envelope * wave / 1.8 + 0.01 * rng.standard_normal(t.size)
    return np.clip(signal, -1.0, 1.0).astype(np.float32)


def write_tiny_corpus(
    root: Path,
    *,
    speakers: int = 4,
    per_speaker: int = 12,
    labels: Sequence[str] = ("angry", "happy", "neutral", "sad"),
    sessions: int = 2,
    seed: int = 0,
) -> Path:
    """Write ``speakers * per_speaker`` WAVs (0.5-1.0 s, 16 kHz) and ``manifest.csv``.

    Labels are balanced within each speaker (``per_speaker`` a multiple of
    ``len(labels)`` gives exactly equal counts); genders alternate F, M; paths in the
    CSV are relative to ``root``.

    Returns:
        The path of the manifest CSV (``root / "manifest.csv"``).
    """
    import soundfile

    if speakers < 1 or per_speaker < 1 or not labels or sessions < 1:
        raise ValueError("speakers, per_speaker, labels and sessions must be non-empty")
    rng = np.random.default_rng(seed)
    root = Path(root)
    sessions = min(sessions, speakers)
    speaker_ids = [f"spk{i + 1:02d}" for i in range(speakers)]
    per_session = -(-speakers // sessions)  # ceil
    session_of = {s: f"Ses{i // per_session + 1:02d}" for i, s in enumerate(speaker_ids)}
    factor = {s: (1.35 if i % 2 == 0 else 1.0) * (1.0 + 0.03 * i)
              for i, s in enumerate(speaker_ids)}
    rows: list[dict[str, object]] = []
    for session in sorted(set(session_of.values())):
        members = [s for s in speaker_ids if session_of[s] == session]
        # interleave the session's speakers so that dialogues alternate turns
        order = [(k, s) for k in range(per_speaker) for s in members]
        for position, (k, speaker) in enumerate(order):
            index = speaker_ids.index(speaker)
            label_index = (k + index) % len(labels)
            label = labels[label_index]
            utt_id = f"{speaker}_{k:03d}"
            rel = Path("wav") / speaker / f"{utt_id}.wav"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            duration = float(rng.uniform(0.5, 1.0))
            soundfile.write(root / rel, _tone(label_index, factor[speaker], duration, rng),
                            SAMPLE_RATE, subtype="PCM_16")
            words = rng.choice(WORDS, size=3).tolist()
            rows.append({
                "utt_id": utt_id,
                "path": rel.as_posix(),
                "speaker": speaker,
                "label": label,
                "gender": "F" if index % 2 == 0 else "M",
                "session": session,
                "dialog": f"{session}_d{position // DIALOG_LENGTH + 1:02d}",
                "turn": position % DIALOG_LENGTH,
                "transcript": " ".join([words[0], "i", "feel", label, *words[1:]]),
            })
    csv_path = root / "manifest.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return csv_path
