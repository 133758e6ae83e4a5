"""The corpus design: dialogues, turns, emotions and every utterance's cue values.

Everything random is drawn here, in the parent process, from generators keyed by
``(seed, what)`` (:func:`serbench.corpora.synthetic.voices.rng_for`), so the plan does not
depend on the order or the process in which audio is rendered.

How emotion is carried: each cue of an utterance is ``speaker baseline + expressiveness *
emotion effect * EFFECT_SCALE + per-utterance noise``. The effects follow the vocal
correlates of emotion reviewed by Scherer (2003) and Juslin & Laukka (2003): high arousal
(angry, excited, happy) raises rate, pitch level and range, loudness and high-frequency
energy; sad lowers them, adds breathiness and pauses; frustrated sits between neutral and
angry. Noise and speaker baselines are large enough that classes overlap.

Dialogue dynamics: a speaker keeps their previous emotion with probability ``P_STAY``,
else takes up the interlocutor's last emotion with probability ``P_FOLLOW``, else draws
from the dialogue scenario's prior; previous turns therefore carry information.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from serbench.corpora.synthetic import sentences
from serbench.corpora.synthetic.voices import N_SESSIONS, Speaker, make_speakers, rng_for

EMOTIONS = ("angry", "happy", "excited", "neutral", "sad", "frustrated")
#: IEMOCAP's codes for the raw labels (used by the IEMOCAP layout writer).
IEMOCAP_CODES = {"angry": "ang", "happy": "hap", "excited": "exc", "neutral": "neu",
                 "sad": "sad", "frustrated": "fru"}

#: Mean shift of each cue per emotion, before EFFECT_SCALE and a speaker's expressiveness.
#: rate: relative change of words per minute; pitch/range: espeak-ng points (0..100);
#: loud/tilt: dB; breath/jitter: natural-log factors; gap: extra word gap (10 ms units);
#: pause: mean length (s) of a mid-utterance pause.
EFFECTS: dict[str, dict[str, float]] = {
    "neutral":    dict(rate=0.00, pitch=0, range=0, loud=0.0, tilt=0.0, breath=0.0, jitter=0.0, gap=0, pause=0.15),
    "angry":      dict(rate=0.12, pitch=12, range=18, loud=6.0, tilt=4.0, breath=-0.3, jitter=0.4, gap=0, pause=0.10),
    "excited":    dict(rate=0.15, pitch=16, range=20, loud=4.5, tilt=2.0, breath=0.0, jitter=0.2, gap=0, pause=0.08),
    "happy":      dict(rate=0.06, pitch=10, range=14, loud=2.5, tilt=1.0, breath=0.1, jitter=0.0, gap=0, pause=0.12),
    "frustrated": dict(rate=-0.02, pitch=3, range=5, loud=2.0, tilt=1.5, breath=0.4, jitter=0.3, gap=2, pause=0.30),
    "sad":        dict(rate=-0.20, pitch=-8, range=-16, loud=-5.0, tilt=-4.0, breath=0.7, jitter=0.2, gap=5, pause=0.45),
}  # fmt: skip
#: Per-utterance standard deviation of each cue (same units as EFFECTS).
NOISE = dict(rate=0.08, pitch=6.0, range=10.0, loud=2.5, tilt=2.0, breath=0.35, jitter=0.3, gap=2.0)
#: Global strength of emotion effects: the corpus's difficulty knob (calibrated, see README).
EFFECT_SCALE = 0.65

#: Valence, arousal, dominance means (IEMOCAP's 1..5 scale).
VAD = {"angry": (1.8, 4.0, 3.9), "happy": (4.0, 3.0, 3.1), "excited": (4.0, 3.9, 3.4),
       "neutral": (3.0, 2.5, 2.9), "sad": (1.9, 2.1, 2.0), "frustrated": (2.0, 3.2, 3.1)}

P_STAY, P_FOLLOW = 0.55, 0.25
#: Scenario -> prior over EMOTIONS (angry, happy, excited, neutral, sad, frustrated).
SCENARIOS: dict[str, tuple[float, ...]] = {
    "argument": (0.35, 0.02, 0.03, 0.20, 0.05, 0.35),
    "good_news": (0.01, 0.35, 0.40, 0.20, 0.01, 0.03),
    "loss": (0.05, 0.03, 0.02, 0.25, 0.55, 0.10),
    "everyday": (0.05, 0.15, 0.10, 0.45, 0.05, 0.20),
}


@dataclass(frozen=True)
class SizeSpec:
    """How big a corpus is: dialogues per session and turns per dialogue."""

    scripted: int
    improvised: int
    turns: tuple[int, int]  # inclusive range of turns per dialogue
    scripts: int  # distinct scripts (shared across sessions, as in IEMOCAP)


SIZES: dict[str, SizeSpec] = {
    # tiny: for tests; 5 sessions x 2 dialogues x 6 turns = 60 utterances
    "tiny": SizeSpec(scripted=1, improvised=1, turns=(6, 6), scripts=1),
    # small: the default (README demo, quick on 2 cores): about 320 utterances
    "small": SizeSpec(scripted=2, improvised=2, turns=(14, 18), scripts=1),
    # full: like IEMOCAP's 5,531: about 5,100 utterances
    "full": SizeSpec(scripted=12, improvised=18, turns=(26, 42), scripts=3),
}


@dataclass(frozen=True)
class UtterancePlan:
    """Everything needed to render one utterance, and its manifest row."""

    utt_id: str
    dialog: str
    dialog_kind: str  # "scripted" or "improvised"
    session: int
    speaker: str
    gender: str  # "F" or "M", as in the utterance id
    turn: int
    transcript: str
    label: str
    valence: float
    arousal: float
    dominance: float
    # rendering
    rate: int
    pitch: int
    range: int
    wordgap: int
    loudness_db: float
    tilt_db: float
    breath: float
    jitter: float
    pause_s: float  # mid-utterance pause (0: none)
    lead_s: float
    trail_s: float
    noise_db: float
    seed: int

    def row(self) -> dict[str, object]:
        """The manifest columns of this utterance (path added by the generator)."""
        d = asdict(self)
        keep = ("utt_id", "speaker", "dialog", "dialog_kind", "turn", "transcript", "label",
                "valence", "arousal", "dominance")
        row = {k: d[k] for k in keep}
        # the same values as the iemocap reader's manifest
        row["gender"] = "female" if self.gender == "F" else "male"
        row["session"] = f"Ses{self.session:02d}"
        return row


@dataclass(frozen=True)
class DialogPlan:
    name: str
    session: int
    kind: str
    utterances: tuple[UtterancePlan, ...]


def _vad(r: np.random.Generator, label: str) -> tuple[float, float, float]:
    # mean of two evaluators' integer ratings, like IEMOCAP's averaged scores
    out = []
    for mean in VAD[label]:
        ratings = np.clip(np.rint(r.normal(mean, 0.6, size=2)), 1, 5)
        out.append(float(ratings.mean()))
    return out[0], out[1], out[2]


def _next_emotion(r: np.random.Generator, own: str | None, other: str | None,
                  prior: np.ndarray) -> str:
    u = r.random()
    if own is not None and u < P_STAY:
        return own
    if other is not None and u < P_STAY + P_FOLLOW:
        return other
    return EMOTIONS[int(r.choice(len(EMOTIONS), p=prior))]


def _text(r: np.random.Generator, label: str) -> str:
    bank = (sentences.NEUTRAL_CONTENT if r.random() < sentences.NEUTRAL_CONTENT_SHARE
            else sentences.BY_EMOTION[label])
    return bank[int(r.integers(len(bank)))]


def _script_lines(seed: int, script: int, part: int, size: SizeSpec) -> list[str]:
    """A script's fixed lines, the same in every session (drawn from every bank)."""
    r = rng_for(seed, "script", script, part)
    n = int(r.integers(size.turns[0], size.turns[1] + 1))
    pools = [sentences.NEUTRAL_CONTENT, *sentences.BY_EMOTION.values()]
    lines = []
    for _ in range(n):
        pool = pools[int(r.integers(len(pools)))]
        lines.append(pool[int(r.integers(len(pool)))])
    return lines


def _utterance(r: np.random.Generator, spk: Speaker, label: str, *, noise_db: float,
               n_words: int) -> dict[str, float | int]:
    e = {k: v * EFFECT_SCALE * spk.expressiveness for k, v in EFFECTS[label].items()}

    def draw(cue: str) -> float:
        return float(r.normal(e[cue], NOISE[cue]))

    pause = 0.0
    if n_words >= 4 and r.random() < 0.5:
        pause = float(r.gamma(2.0, EFFECTS[label]["pause"] / 2.0)) + 0.05
    return dict(
        rate=int(np.clip(round(spk.rate * (1.0 + draw("rate"))), 90, 400)),
        pitch=int(np.clip(round(spk.pitch + draw("pitch")), 0, 99)),
        range=int(np.clip(round(spk.range + draw("range")), 0, 99)),
        wordgap=int(np.clip(round(draw("gap")), 0, 20)),
        loudness_db=round(spk.loudness_db + draw("loud"), 3),
        tilt_db=round(spk.tilt_db + draw("tilt"), 3),
        breath=round(spk.breath * float(np.exp(draw("breath"))), 5),
        jitter=round(spk.jitter * float(np.exp(draw("jitter"))), 6),
        pause_s=round(pause, 3),
        lead_s=round(float(r.uniform(0.05, 0.6)), 3),
        trail_s=round(float(r.uniform(0.05, 0.6)), 3),
        noise_db=noise_db,
        seed=int(r.integers(2**31 - 1)),
    )


def _dialog(seed: int, session: int, name: str, kind: str, speakers: dict[str, Speaker],
            lines: list[str] | None, size: SizeSpec, scenario: str) -> DialogPlan:
    """One dialogue: who starts, each turn's emotion (the chain), text and cues."""
    r = rng_for(seed, "dialog", name)
    prior = np.asarray(SCENARIOS[scenario])
    n_turns = len(lines) if lines is not None else int(r.integers(size.turns[0], size.turns[1] + 1))
    first = "F" if r.random() < 0.5 else "M"
    noise_db = round(float(rng_for(seed, "room", session).uniform(-62, -52)), 2)
    last: dict[str, str | None] = {"F": None, "M": None}
    counts = {"F": 0, "M": 0}
    utts = []
    for turn in range(n_turns):
        g = first if turn % 2 == 0 else ("M" if first == "F" else "F")
        other = "M" if g == "F" else "F"
        label = _next_emotion(r, last[g], last[other], prior)
        last[g] = label
        text = lines[turn] if lines is not None else _text(r, label)
        spk = speakers[g]
        valence, arousal, dominance = _vad(r, label)
        cues = _utterance(r, spk, label, noise_db=noise_db, n_words=len(text.split()))
        utts.append(UtterancePlan(
            utt_id=f"{name}_{g}{counts[g]:03d}", dialog=name, dialog_kind=kind, session=session,
            speaker=spk.speaker_id, gender=g, turn=turn, transcript=text, label=label,
            valence=valence, arousal=arousal, dominance=dominance, **cues))
        counts[g] += 1
    return DialogPlan(name=name, session=session, kind=kind, utterances=tuple(utts))


def plan_corpus(size: str, seed: int) -> tuple[list[Speaker], list[DialogPlan]]:
    """The speakers and every dialogue of a corpus of ``size`` (see :data:`SIZES`)."""
    spec = SIZES[size]
    speakers = make_speakers(seed)
    dialogs: list[DialogPlan] = []
    scenario_names = list(SCENARIOS)
    # the lead letter in a dialogue's name (Ses01F_/Ses01M_) alternates, as in IEMOCAP
    # where it names who wore the motion-capture markers, not who speaks first
    for session in range(1, N_SESSIONS + 1):
        pair = {s.gender: s for s in speakers if s.session == session}
        for i in range(spec.scripted):
            lead = "F" if i % 2 == 0 else "M"
            script = (i // 2) % spec.scripts + 1
            part = i // (2 * spec.scripts) + 1
            name = f"Ses{session:02d}{lead}_script{script:02d}_{part}"
            scenario = scenario_names[(i + session) % len(scenario_names)]
            dialogs.append(_dialog(seed, session, name, "scripted", pair,
                                   _script_lines(seed, script, part, spec), spec, scenario))
        for j in range(spec.improvised):
            lead = "F" if j % 2 == 0 else "M"
            name = f"Ses{session:02d}{lead}_impro{j // 2 + 1:02d}"
            scenario = scenario_names[(spec.scripted + j + session) % len(scenario_names)]
            dialogs.append(_dialog(seed, session, name, "improvised", pair, None, spec, scenario))
    return speakers, dialogs
