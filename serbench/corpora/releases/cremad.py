"""CREMA-D (Crowd-sourced Emotional Multimodal Actors Dataset), read from its release.

Layout (GitHub ``CheyneyComputerScience/CREMA-D``, audio in Git LFS)::

    AudioWAV/1001_DFA_ANG_XX.wav      actor, sentence, emotion, intensity
    VideoDemographics.csv             ActorID, Age, Sex, Race, Ethnicity (optional here)

Emotion codes: ANG, DIS, FEA, HAP, NEU, SAD (the actors' intended emotion, which is the
label used by nearly all SER work). Intensity codes: LO, MD, HI, and XX (unspecified:
every sentence but IEO was recorded with XX only); kept in the ``intensity`` column and
selectable with ``--corpus-option intensity=HI,MD``.

Two clips are documented as broken by the corpus's authors and left out by default
(``--corpus-option keep_broken=true`` keeps them): ``1076_MTI_SAD_XX`` has no audio and
``1064_IEO_DIS_MD`` is a long recording of several emotions.

Default protocol: ``kfold`` with ``k=5, grouped=speaker`` (91 leave-one-speaker-out
folds would cost 18 times more for little gain).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from serbench.components import CorpusSpec, LabelMap
from serbench.corpora.releases import common
from serbench.errors import ConfigError

if TYPE_CHECKING:
    from serbench.corpora.base import Corpus

logger = logging.getLogger(__name__)

NAME = "cremad"
OBTAIN = (
    "CREMA-D (Cao et al., 2014) is free under the Open Database License: "
    "`git clone https://github.com/CheyneyComputerScience/CREMA-D` then `git lfs pull` "
    "inside it (the audio is stored in Git LFS); the folder must hold AudioWAV/."
)
EMOTIONS = {
    "ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad",
}
INTENSITIES = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
SENTENCES = {
    "IEO": "It's eleven o'clock.",
    "TIE": "That is exactly what happened.",
    "IOM": "I'm on my way to the meeting.",
    "IWW": "I wonder what this is about.",
    "TAI": "The airplane is almost full.",
    "MTI": "Maybe tomorrow it will be cold.",
    "IWL": "I would like a new alarm clock.",
    "ITH": "I think I have a doctor's appointment.",
    "DFA": "Don't forget a jacket.",
    "ITS": "I think I've seen this before.",
    "TSI": "The surface is slick.",
    "WSI": "We'll stop in a couple of minutes.",
}
BROKEN = {"1076_MTI_SAD_XX": "no audio", "1064_IEO_DIS_MD": "a long take of several emotions"}
LABEL_MAPS = {
    "6class": LabelMap(
        name="6class",
        mapping={
            "anger": "angry", "disgust": "disgust", "fear": "fear",
            "happy": "happy", "neutral": "neutral", "sad": "sad",
        },
        classes=("angry", "disgust", "fear", "happy", "neutral", "sad"),
        description="all six CREMA-D emotions (intended by the actor)",
    ),
    "4class": LabelMap(
        name="4class",
        mapping={"anger": "angry", "happy": "happy", "neutral": "neutral", "sad": "sad"},
        classes=("angry", "happy", "neutral", "sad"),
        description="angry, happy, neutral, sad",
    ),
}
SPEC = CorpusSpec(
    name=NAME,
    version=1,
    description="CREMA-D: English acted speech, 91 actors, 12 sentences, six emotions",
    citation=(
        "Cao, H., Cooper, D. G., Keutmann, M. K., Gur, R. C., Nenkova, A., Verma, R. (2014). "
        "CREMA-D: Crowd-sourced Emotional Multimodal Actors Dataset. IEEE Transactions on "
        "Affective Computing 5(4), 377-390."
    ),
    loader="serbench.corpora.releases.cremad:load",
    label_maps=tuple(LABEL_MAPS),
    default_label_map="6class",
    default_protocol="kfold",
    obtain=OBTAIN,
    licence="Open Database License (ODbL) v1.0; contents: Database Contents License",
)

_NAME = re.compile(r"^(?P<actor>\d{4})_(?P<sentence>[A-Z]{3})_(?P<emotion>[A-Z]{3})_(?P<level>[A-Z]{2})$")


def _looks_right(path: Path) -> bool:
    return (path / "AudioWAV").is_dir()


def _genders(path: Path) -> dict[str, str]:
    """ActorID -> gender from VideoDemographics.csv, when the release has it."""
    import polars as pl

    if not path.is_file():
        return {}
    table = pl.read_csv(path, infer_schema=False)
    if not {"ActorID", "Sex"} <= set(table.columns):
        logger.warning("corpus %r: %s lacks ActorID/Sex columns; gender left empty", NAME, path)
        return {}
    return {
        str(a).strip(): str(s).strip().lower()
        for a, s in zip(table["ActorID"], table["Sex"], strict=True)
        if a is not None and s is not None
    }


def load(data: Path | None, options: Mapping[str, str]) -> Corpus:
    """Build CREMA-D's manifest from ``data`` (``None``: ``SERBENCH_DATA/cremad``).

    Options: ``intensity`` (comma-separated codes LO, MD, HI, XX; default all),
    ``keep_broken`` (default false).
    Columns: utt_id (file stem), path, speaker (actor id), label, gender, sentence,
    intensity, transcript.
    """
    import polars as pl

    allowed = {
        "intensity": "comma-separated intensity codes to keep (LO, MD, HI, XX); default all",
        "keep_broken": "true keeps the two clips documented as broken; default false",
    }
    common.check_options(NAME, options, allowed)
    levels = {c.strip().upper() for c in options.get("intensity", ",".join(INTENSITIES)).split(",")}
    if not levels or levels - set(INTENSITIES):
        raise ConfigError(
            f"corpus {NAME!r}: option intensity={options.get('intensity')!r} must list codes "
            f"among {list(INTENSITIES)}, e.g. intensity=HI,MD"
        )
    keep_broken = common.option_bool(NAME, options, "keep_broken", False)
    root = common.find_root(NAME, data, OBTAIN, _looks_right, "AudioWAV/1001_DFA_ANG_XX.wav")
    audio = common.wavs(root / "AudioWAV")
    if not audio:
        raise common.incomplete(NAME, root, "AudioWAV/ holds no .wav files", OBTAIN)
    common.check_not_lfs(NAME, root, audio)
    genders = _genders(root / "VideoDemographics.csv")
    rows, odd = [], []
    for path in audio:
        match = _NAME.match(path.stem)
        if match is None or match["emotion"] not in EMOTIONS or match["level"] not in INTENSITIES:
            odd.append(path)
            continue
        if path.stem in BROKEN and not keep_broken:
            logger.info("corpus %r: leaving out %s (%s)", NAME, path, BROKEN[path.stem])
            continue
        if match["level"] not in levels:
            continue
        rows.append(
            {
                "utt_id": path.stem,
                "path": str(path),
                "speaker": match["actor"],
                "label": EMOTIONS[match["emotion"]],
                "gender": genders.get(match["actor"]),
                "sentence": match["sentence"],
                "intensity": INTENSITIES[match["level"]],
                "transcript": SENTENCES.get(match["sentence"]),
            }
        )
    common.warn_unlabelled(NAME, odd, "CREMA-D's file-name code")
    schema = {
        "utt_id": pl.String, "path": pl.String, "speaker": pl.String, "label": pl.String,
        "gender": pl.String, "sentence": pl.String, "intensity": pl.String,
        "transcript": pl.String,
    }
    return common.build_corpus(
        SPEC, common.make_manifest(rows, schema), LABEL_MAPS, root,
        protocol_options={"kfold": {"k": 5, "grouped": "speaker"}},
    )
