"""IEMOCAP (``IEMOCAP_full_release``), read from its release layout.

Layout::

    Session1/sentences/wav/<dialog>/<utt>.wav          one file per utterance
    Session1/dialog/EmoEvaluation/<dialog>.txt         labels, times, V/A/D
    Session1/dialog/transcriptions/<dialog>.txt        transcripts
    ... Session5/

An EmoEvaluation file holds, per utterance, a summary line
``[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]``
(start and end in the dialogue, id, majority label, valence/arousal/dominance) followed
by each evaluator's lines (``C-E2: Neutral; ()``, ``A-E3: val 3; act 2; dom 2; ()``),
which are skipped: the summary line is the consensus label. The labels ``xxx`` (the
evaluators did not agree) and ``oth`` (other) are kept as raw labels; the label maps
other than ``all`` drop them.

Speaker: session + the gender letter of the utterance id (the speaker of
``Ses01F_impro01_M003`` is ``Ses01M``; the ``F`` after ``Ses01`` is who wore the motion
capture markers, not who speaks). ``turn`` is the utterance's rank by start time within
its dialogue; ``dialog_start``/``dialog_end`` keep those times (they are not ``start``/
``end``: the sentence wavs are already cut). ``dialog_kind`` is ``improvised`` or
``scripted`` from the dialogue name.

Wavs without a label line are logged and left out; labelled utterances whose wav is
missing stay in, so manifest validation reports each missing file. When all five
sessions are present the four-class count is checked against the complete release
(5,531 utterances) and a shortfall stops the load (``check_counts=false`` skips it).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from serbench.components import CorpusSpec, LabelMap
from serbench.corpora.releases import common
from serbench.errors import DataNotFoundError, ManifestError

if TYPE_CHECKING:
    from serbench.corpora.base import Corpus

logger = logging.getLogger(__name__)

NAME = "iemocap"
OBTAIN = (
    "IEMOCAP (Busso et al., 2008) is released by USC SAIL on request: fill in the release "
    "form at https://sail.usc.edu/iemocap/ and unpack IEMOCAP_full_release (Session1..5/)."
)
RAW_LABELS = ("ang", "hap", "exc", "neu", "sad", "fru", "sur", "fea", "dis", "oth", "xxx")
_FOUR = {"ang": "angry", "hap": "happy", "exc": "happy", "neu": "neutral", "sad": "sad"}
_CLASSES4 = ("angry", "happy", "neutral", "sad")
LABEL_MAPS = {
    "4class": LabelMap(
        name="4class",
        mapping=_FOUR,
        classes=_CLASSES4,
        description="angry, happy (+ excited), neutral, sad: 5,531 utterances",
    ),
    "4class-nomerge": LabelMap(
        name="4class-nomerge",
        mapping={k: v for k, v in _FOUR.items() if k != "exc"},
        classes=_CLASSES4,
        description="angry, happy, neutral, sad without excited: 4,490 utterances",
    ),
    "5class": LabelMap(
        name="5class",
        mapping={
            "ang": "angry", "exc": "excited", "fru": "frustrated", "neu": "neutral", "sad": "sad",
        },
        classes=("angry", "excited", "frustrated", "neutral", "sad"),
        description="angry, excited, frustrated, neutral, sad: 6,785 utterances",
    ),
    "4class-improvised": LabelMap(
        name="4class-improvised",
        mapping=_FOUR,
        classes=_CLASSES4,
        description="the 4class map on improvised dialogues only",
        where={"dialog_kind": ("improvised",)},
    ),
    "all": LabelMap(
        name="all",
        mapping={
            "ang": "angry", "hap": "happy", "exc": "excited", "neu": "neutral", "sad": "sad",
            "fru": "frustrated", "sur": "surprise", "fea": "fear", "dis": "disgust",
            "oth": "other", "xxx": "no-agreement",
        },
        classes=(
            "angry", "disgust", "excited", "fear", "frustrated", "happy", "neutral",
            "no-agreement", "other", "sad", "surprise",
        ),
        description="every label as released, including other and no-agreement (analysis)",
    ),
}
#: 4class utterances per session on the complete release (sum 5,531).
EXPECTED_4CLASS = {"Ses01": 1085, "Ses02": 1023, "Ses03": 1151, "Ses04": 1031, "Ses05": 1241}
SPEC = CorpusSpec(
    name=NAME,
    version=1,
    description="IEMOCAP: English dyadic acted speech, 5 sessions x 2 speakers (full release)",
    citation=(
        "Busso, C., Bulut, M., Lee, C.-C., Kazemzadeh, A., Mower, E., Kim, S., Chang, J. N., "
        "Lee, S., Narayanan, S. S. (2008). IEMOCAP: Interactive emotional dyadic motion "
        "capture database. Language Resources and Evaluation 42(4), 335-359."
    ),
    loader="serbench.corpora.releases.iemocap:load",
    label_maps=tuple(LABEL_MAPS),
    default_label_map="4class",
    default_protocol="loso",
    obtain=OBTAIN,
    licence="USC SAIL IEMOCAP release agreement (research use only; no redistribution)",
)

_SUMMARY = re.compile(
    r"^\[\s*(?P<start>\d+(?:\.\d+)?)\s*-\s*(?P<end>\d+(?:\.\d+)?)\s*\]\s+(?P<utt>\S+)\s+"
    r"(?P<label>\S+)\s+\[\s*(?P<v>[\d.]+)\s*,\s*(?P<a>[\d.]+)\s*,\s*(?P<d>[\d.]+)\s*\]\s*$"
)
_UTT = re.compile(r"^(?P<session>Ses0\d)[MF]_(?P<dialog_rest>.+)_(?P<gender>[MF])\d{3}$")
_TRANSCRIPT = re.compile(r"^(?P<utt>Ses\S+)\s+\[[^\]]*\]:\s?(?P<text>.*)$")
_SESSION = re.compile(r"^Session(\d)$")


def _looks_right(path: Path) -> bool:
    return any((path / f"Session{i}").is_dir() for i in range(1, 6))


def _text_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.glob("*.txt") if p.is_file() and not p.name.startswith("._")
    )


def _read_evaluation(path: Path, problems: list[str]) -> list[dict[str, Any]]:
    """The summary lines of one EmoEvaluation file (evaluator lines are skipped)."""
    found = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if not line.startswith("["):
            continue  # header (%), blank, and the evaluators' C-/A- lines
        match = _SUMMARY.match(line.strip())
        if match is None:
            problems.append(f"{path} line {number}: not '[start - end] utt label [V, A, D]'")
            continue
        utt = match["utt"]
        if _UTT.match(utt) is None or not utt.startswith(path.stem + "_"):
            problems.append(f"{path} line {number}: utterance id {utt!r} is not of {path.stem}")
            continue
        found.append(
            {
                "utt_id": utt,
                "label": match["label"],
                "dialog_start": float(match["start"]),
                "dialog_end": float(match["end"]),
                "valence": float(match["v"]),
                "arousal": float(match["a"]),
                "dominance": float(match["d"]),
            }
        )
    return found


def _read_transcripts(folder: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in _text_files(folder):
        for line in path.read_text(errors="replace").splitlines():
            match = _TRANSCRIPT.match(line.strip())
            if match:
                texts[match["utt"]] = match["text"].strip()
    return texts


def _check_counts(root: Path, rows: list[dict[str, Any]]) -> None:
    """Stop when a complete-looking release has fewer 4class utterances than it should."""
    found = dict.fromkeys(EXPECTED_4CLASS, 0)
    for row in rows:
        if row["label"] in _FOUR and row["_has_wav"] and row["session"] in found:
            found[row["session"]] += 1
    if found == EXPECTED_4CLASS:
        return
    total, expected = sum(found.values()), sum(EXPECTED_4CLASS.values())
    detail = ", ".join(
        f"{s}: {found[s]:,} of {n:,}" for s, n in EXPECTED_4CLASS.items() if found[s] != n
    )
    raise DataNotFoundError(
        f"corpus {NAME!r}: found {total:,} of {expected:,} four-class utterances (angry, "
        f"happy + excited, neutral, sad with a wav) in {root} ({detail}). Some "
        "EmoEvaluation files or wavs are missing or altered: unpack IEMOCAP_full_release "
        "again, or pass --corpus-option check_counts=false to use this copy as it is."
    )


def load(data: Path | None, options: Mapping[str, str]) -> Corpus:
    """Build IEMOCAP's manifest from ``data`` (``None``: ``SERBENCH_DATA/iemocap``).

    Options: ``check_counts`` (default true: check a complete release's counts).
    Columns: utt_id, path, speaker, label (raw code), gender, session, dialog, turn,
    dialog_kind, dialog_start, dialog_end, transcript, valence, arousal, dominance.
    """
    import polars as pl

    allowed = {"check_counts": "false skips the 5,531-utterance check of a complete release"}
    common.check_options(NAME, options, allowed)
    check_counts = common.option_bool(NAME, options, "check_counts", True)
    root = common.find_root(NAME, data, OBTAIN, _looks_right, "Session1..5/ of IEMOCAP_full_release")
    sessions = sorted(c for c in root.iterdir() if c.is_dir() and _SESSION.match(c.name))
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    unlabelled: list[Path] = []
    for session_dir in sessions:
        evaluation = session_dir / "dialog" / "EmoEvaluation"
        wav_root = session_dir / "sentences" / "wav"
        if not evaluation.is_dir():
            raise common.incomplete(
                NAME, root, f"{evaluation} (the labels) is missing",
                "Unpack the whole IEMOCAP_full_release archive, not only sentences/.",
            )
        if not wav_root.is_dir():
            raise common.incomplete(
                NAME, root, f"{wav_root} (the utterance audio) is missing",
                "Unpack the whole IEMOCAP_full_release archive, including sentences/wav/.",
            )
        texts = _read_transcripts(session_dir / "dialog" / "transcriptions")
        labelled: set[str] = set()
        for path in _text_files(evaluation):
            entries = _read_evaluation(path, problems)
            dialog = path.stem
            order = sorted(entries, key=lambda e: (e["dialog_start"], e["utt_id"]))
            for turn, entry in enumerate(order):
                utt = _UTT.match(entry["utt_id"])
                assert utt is not None  # checked by _read_evaluation
                wav = wav_root / dialog / f"{entry['utt_id']}.wav"
                labelled.add(entry["utt_id"])
                rows.append(
                    {
                        **entry,
                        "path": str(wav),
                        "speaker": utt["session"] + utt["gender"],
                        "gender": "male" if utt["gender"] == "M" else "female",
                        "session": utt["session"],
                        "dialog": dialog,
                        "turn": turn,
                        "dialog_kind": "improvised" if "_impro" in dialog else "scripted",
                        "transcript": texts.get(entry["utt_id"]),
                        "_has_wav": wav.is_file(),
                    }
                )
        unlabelled += [p for p in common.wavs(wav_root, "*/*.wav") if p.stem not in labelled]
    if problems:
        raise ManifestError(f"corpus {NAME!r} EmoEvaluation files", problems)
    if not rows:
        raise common.incomplete(NAME, root, "no labelled utterance in Session*/dialog/EmoEvaluation/", OBTAIN)
    common.warn_unlabelled(NAME, unlabelled, "Session*/dialog/EmoEvaluation")
    present = {s.name for s in sessions}
    absent = sorted({f"Session{i}" for i in range(1, 6)} - present)
    if not absent:
        if check_counts:
            _check_counts(root, rows)
    else:  # a subset is allowed (e.g. for a quick look), but never silently
        logger.warning(
            "corpus %r: %s not in %s; using the %d session(s) present (the 4class count "
            "is checked only on a complete release)", NAME, ", ".join(absent), root, len(present),
        )
    schema = {
        "utt_id": pl.String, "path": pl.String, "speaker": pl.String, "label": pl.String,
        "gender": pl.String, "session": pl.String, "dialog": pl.String, "turn": pl.Int64,
        "dialog_kind": pl.String, "dialog_start": pl.Float64, "dialog_end": pl.Float64,
        "transcript": pl.String, "valence": pl.Float64, "arousal": pl.Float64,
        "dominance": pl.Float64,
    }
    clean = [{k: r[k] for k in schema} for r in rows]
    return common.build_corpus(SPEC, common.make_manifest(clean, schema), LABEL_MAPS, root)
