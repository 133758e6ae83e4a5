"""EmoDB (Berlin Database of Emotional Speech), read from its release layout.

Layout (``download.zip`` of emodb.bilderbar.info, also audb's ``emodb``)::

    wav/03a01Fa.wav        speaker (2 digits), text (a01..b10), emotion letter, version

Everything is coded in the file name: emotion letters W (Ärger, anger), L (Langeweile,
boredom), E (Ekel, disgust), A (Angst, fear), F (Freude, happiness), T (Trauer, sadness),
N (neutral). Speaker gender and age and the ten German sentences come from the release's
documentation. A folder holding the coded files directly (no ``wav/``, e.g. a sample of
the corpus) is read too: ``wav/`` is used when it exists, else the folder itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from serbench.components import CorpusSpec, LabelMap
from serbench.corpora.releases import common

if TYPE_CHECKING:
    from serbench.corpora.base import Corpus

NAME = "emodb"
OBTAIN = (
    "EmoDB (Burkhardt et al., Interspeech 2005) is free to download from "
    "http://emodb.bilderbar.info/ (download.zip; unpack it and keep its wav/ folder) or "
    "as the audb database 'emodb' (CC0-1.0)."
)
EMOTIONS = {
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}
#: speaker -> (gender, age), from the EmoDB documentation.
SPEAKERS = {
    "03": ("male", 31), "08": ("female", 34), "09": ("female", 21), "10": ("male", 32),
    "11": ("male", 26), "12": ("male", 30), "13": ("female", 32), "14": ("female", 35),
    "15": ("male", 25), "16": ("female", 31),
}
TEXTS = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}
LABEL_MAPS = {
    "7class": LabelMap(
        name="7class",
        mapping={
            "anger": "angry", "boredom": "boredom", "disgust": "disgust", "fear": "fear",
            "happiness": "happy", "neutral": "neutral", "sadness": "sad",
        },
        classes=("angry", "boredom", "disgust", "fear", "happy", "neutral", "sad"),
        description="all seven EmoDB emotions",
    ),
    "4class": LabelMap(
        name="4class",
        mapping={"anger": "angry", "happiness": "happy", "neutral": "neutral", "sadness": "sad"},
        classes=("angry", "happy", "neutral", "sad"),
        description="angry, happy, neutral, sad",
    ),
}
SPEC = CorpusSpec(
    name=NAME,
    version=1,
    description="EmoDB: Berlin acted emotional speech, 10 speakers, seven emotions",
    citation=(
        "Burkhardt, F., Paeschke, A., Rolfes, M., Sendlmeier, W., Weiss, B. (2005). "
        "A Database of German Emotional Speech. Proc. Interspeech 2005, 1517-1520."
    ),
    loader="serbench.corpora.releases.emodb:load",
    label_maps=tuple(LABEL_MAPS),
    default_label_map="7class",
    default_protocol="loso-speaker",
    obtain=OBTAIN,
    licence="free for research (emodb.bilderbar.info); CC0-1.0 in the audb release",
)

_NAME = re.compile(r"^(?P<speaker>\d\d)(?P<text>[ab]\d\d)(?P<emotion>[A-Z])(?P<version>[a-z])$")


def _audio_folder(path: Path) -> Path:
    return path / "wav" if (path / "wav").is_dir() else path


def _looks_right(path: Path) -> bool:
    return (path / "wav").is_dir() or any(
        _NAME.match(p.stem) for p in common.wavs(path)
    )


def load(data: Path | None, options: Mapping[str, str]) -> Corpus:
    """Build EmoDB's manifest from ``data`` (``None``: ``SERBENCH_DATA/emodb``).

    Columns: utt_id (file stem), path, speaker, label (English emotion name), gender,
    age, sentence (a01..b10), version (the take letter), transcript (German).
    """
    import polars as pl

    common.check_options(NAME, options, {})
    root = common.find_root(NAME, data, OBTAIN, _looks_right, "wav/03a01Fa.wav-style files")
    folder = _audio_folder(root)
    audio = common.wavs(folder)
    if not audio:
        raise common.incomplete(NAME, root, f"{folder} holds no .wav files", OBTAIN)
    rows, unknown = [], []
    for path in audio:
        match = _NAME.match(path.stem)
        if match is None or match["emotion"] not in EMOTIONS:
            unknown.append(path)
            continue
        gender, age = SPEAKERS.get(match["speaker"], (None, None))
        rows.append(
            {
                "utt_id": path.stem,
                "path": str(path),
                "speaker": match["speaker"],
                "label": EMOTIONS[match["emotion"]],
                "gender": gender,
                "age": age,
                "sentence": match["text"],
                "version": match["version"],
                "transcript": TEXTS.get(match["text"]),
            }
        )
    common.warn_unlabelled(NAME, unknown, "their EmoDB-coded file names")
    schema = {
        "utt_id": pl.String, "path": pl.String, "speaker": pl.String, "label": pl.String,
        "gender": pl.String, "age": pl.Int64, "sentence": pl.String, "version": pl.String,
        "transcript": pl.String,
    }
    return common.build_corpus(SPEC, common.make_manifest(rows, schema), LABEL_MAPS, root)
