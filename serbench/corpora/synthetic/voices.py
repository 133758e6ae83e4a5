"""The ten speakers: one espeak-ng voice file and one prosodic baseline each.

Each session has a female and a male speaker (IEMOCAP's ``Ses01F``/``Ses01M``). A speaker is
an espeak-ng voice (pitch range in Hz, formant scaling = vocal-tract timbre) plus a baseline
for every cue the generator varies (rate, pitch, loudness, tilt, breathiness, jitter) and
an ``expressiveness`` that scales how strongly emotion moves that speaker's cues. Baselines
differ between speakers by about as much as emotions move them, so a speaker's own
baseline matters and per-speaker normalisation helps, as on real data.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from serbench.corpora.synthetic.espeak import copy_espeak_data

N_SESSIONS = 5


def rng_for(seed: int, *tags: str | int) -> np.random.Generator:
    """A generator determined by ``seed`` and ``tags`` alone (stable across machines)."""
    words = [seed & 0xFFFFFFFF] + [
        zlib.crc32(t.encode()) if isinstance(t, str) else int(t) & 0xFFFFFFFF for t in tags
    ]
    return np.random.default_rng(np.random.SeedSequence(words))


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker and its baseline cues (emotion effects are added to these)."""

    speaker_id: str  # e.g. "Ses01F"
    session: int  # 1..5
    gender: str  # "F" or "M"
    pitch_hz: tuple[int, int]  # espeak-ng voice "pitch <base> <max>"
    formants: tuple[float, float, float, float]  # frequency scale (%) of formants 0..3
    rate: float  # words per minute
    pitch: float  # espeak-ng pitch parameter 0..100
    range: float  # espeak-ng pitch range parameter 0..100
    loudness_db: float
    tilt_db: float  # high-band gain, + brighter / - darker
    breath: float  # aspiration-noise level relative to the speech envelope
    jitter: float  # relative depth of the fast time warp
    expressiveness: float  # scales the emotion effects for this speaker

    def voice_file_text(self) -> str:
        """The espeak-ng voice file: timbre and pitch range; nothing stateful.

        ``flutter 0`` and no echo/breath/roughness: those keep state inside libespeak-ng
        between utterances and would make the output depend on synthesis order.
        """
        lines = [
            f"name serbench_{self.speaker_id.lower()}",
            "language en",
            f"gender {'female' if self.gender == 'F' else 'male'}",
            f"pitch {self.pitch_hz[0]} {self.pitch_hz[1]}",
            "flutter 0",
        ]
        for i, scale in enumerate(self.formants):
            lines.append(f"formant {i} {round(scale)} 100 100")
        return "\n".join(lines) + "\n"


def make_speakers(seed: int) -> list[Speaker]:
    """The 10 speakers of the corpus, session by session (female first)."""
    speakers = []
    for session in range(1, N_SESSIONS + 1):
        for gender in ("F", "M"):
            r = rng_for(seed, "speaker", session, gender)
            female = gender == "F"
            base = r.uniform(150, 215) if female else r.uniform(82, 125)
            shift = (r.uniform(112, 126) if female else r.uniform(93, 104))
            formants = (
                shift + r.uniform(-4, 4),
                shift + r.uniform(-5, 5),
                shift + r.uniform(-6, 6),
                shift + r.uniform(-6, 6),
            )
            speakers.append(
                Speaker(
                    speaker_id=f"Ses{session:02d}{gender}",
                    session=session,
                    gender=gender,
                    pitch_hz=(int(round(base)), int(round(base * r.uniform(1.35, 1.7)))),
                    formants=formants,
                    rate=float(r.uniform(140, 200)),
                    pitch=float(r.uniform(33, 67)),
                    range=float(r.uniform(33, 67)),
                    loudness_db=float(r.uniform(-5.0, 5.0)),
                    tilt_db=float(r.uniform(-4.0, 4.0)),
                    breath=float(r.uniform(0.01, 0.07)),
                    jitter=float(r.uniform(0.002, 0.008)),
                    expressiveness=float(r.uniform(0.7, 1.3)),
                )
            )
    return speakers


def write_voice_files(speakers: list[Speaker], data_dir: Path) -> dict[str, str]:
    """Prepare a private espeak-ng data folder holding the speakers' voice files.

    Returns:
        speaker id -> espeak-ng voice name (``serbench/ses01f``: espeak-ng lower-cases
        voice names).
    """
    copy_espeak_data(data_dir)
    folder = data_dir / "voices" / "serbench"
    folder.mkdir(parents=True, exist_ok=True)
    names = {}
    for spk in speakers:
        name = spk.speaker_id.lower()
        path = folder / name
        text = spk.voice_file_text()
        if not path.is_file() or path.read_text() != text:
            tmp = path.with_name(f".{name}.tmp")
            tmp.write_text(text)
            tmp.replace(path)
        names[spk.speaker_id] = f"serbench/{name}"
    return names
