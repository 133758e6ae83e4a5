"""nEMO (Polish acted emotional speech, LREC-COLING 2024), read from its release layout.

Layout (GitHub ``amu-cai/nEMO``)::

    samples/<speaker>_<emotion>_<n>.wav      e.g. samples/EB0_anger_10.wav
    data.tsv                                 file_id, emotion, raw_text, normalized_text,
                                             speaker_id, gender, age

``data.tsv`` is the label source: one row per file. Its quirks are handled on purpose:
``speaker_id`` values carry leading spaces (stripped here), and the emotion names mix
nouns (``anger``, ``happiness``) with one adjective (``surprised``); raw labels keep the
release's spelling and the label maps give classes their serbench names. A row whose
file name disagrees with its ``emotion`` or ``speaker_id`` column is an error; files in
``samples/`` without a row are logged and left out; rows without a file are kept so that
manifest validation reports each missing file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from serbench.components import CorpusSpec, LabelMap
from serbench.corpora.releases import common
from serbench.errors import ManifestError

if TYPE_CHECKING:
    from serbench.corpora.base import Corpus

NAME = "nemo"
OBTAIN = (
    "nEMO (Christop, LREC-COLING 2024) is free under CC BY-NC-SA 4.0: clone "
    "https://github.com/amu-cai/nEMO (with `git lfs pull`) or download the Hugging Face "
    "dataset amu-cai/nEMO; the folder must hold samples/*.wav and data.tsv."
)
RAW_LABELS = ("anger", "fear", "happiness", "neutral", "sadness", "surprised")
LABEL_MAPS = {
    "6class": LabelMap(
        name="6class",
        mapping={
            "anger": "angry",
            "fear": "fear",
            "happiness": "happy",
            "neutral": "neutral",
            "sadness": "sad",
            "surprised": "surprise",
        },
        classes=("angry", "fear", "happy", "neutral", "sad", "surprise"),
        description="all six nEMO emotions",
    ),
    "4class": LabelMap(
        name="4class",
        mapping={"anger": "angry", "happiness": "happy", "neutral": "neutral", "sadness": "sad"},
        classes=("angry", "happy", "neutral", "sad"),
        description="angry, happy, neutral, sad (the IEMOCAP-style four classes)",
    ),
}
SPEC = CorpusSpec(
    name=NAME,
    version=1,
    description="nEMO: Polish acted emotional speech, 9 actors, six emotions (release layout)",
    citation=(
        "Christop, I. (2024). nEMO: Dataset of Emotional Speech in Polish. "
        "Proc. LREC-COLING 2024."
    ),
    loader="serbench.corpora.releases.nemo:load",
    label_maps=tuple(LABEL_MAPS),
    default_label_map="6class",
    default_protocol="loso-speaker",
    obtain=OBTAIN,
    licence="CC BY-NC-SA 4.0",
)

_FILE_NAME = re.compile(r"^(?P<speaker>[A-Z]+\d+)_(?P<emotion>[a-z]+)_(?P<n>\d+)\.wav$")
_COLUMNS = ("file_id", "emotion", "raw_text", "normalized_text", "speaker_id", "gender", "age")


def _looks_right(path: Path) -> bool:
    return (path / "data.tsv").is_file() or (path / "samples").is_dir()


def load(data: Path | None, options: Mapping[str, str]) -> Corpus:
    """Build nEMO's manifest from ``data`` (``None``: ``SERBENCH_DATA/nemo``).

    Columns: utt_id (file stem), path, speaker, label (raw emotion), gender, age,
    sentence (the ``n`` of the file name), transcript (``raw_text``),
    transcript_normalized.
    """
    import polars as pl

    common.check_options(NAME, options, {})
    root = common.find_root(NAME, data, OBTAIN, _looks_right, "samples/*.wav and data.tsv")
    tsv, samples = root / "data.tsv", root / "samples"
    if not tsv.is_file():
        raise common.incomplete(NAME, root, "data.tsv (the labels) is missing", OBTAIN)
    if not samples.is_dir():
        raise common.incomplete(NAME, root, "the samples/ folder (the audio) is missing", OBTAIN)
    table = pl.read_csv(tsv, separator="\t", infer_schema=False, quote_char=None)
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        raise ManifestError(
            str(tsv), [f"missing column(s) {missing}; nEMO's data.tsv has {list(_COLUMNS)}"]
        )
    audio = common.wavs(samples)
    common.check_not_lfs(NAME, root, audio)
    rows, problems = [], []
    for i, rec in enumerate(table.iter_rows(named=True)):
        file_id = (rec["file_id"] or "").strip()
        speaker = (rec["speaker_id"] or "").strip()  # the release pads these with spaces
        emotion = (rec["emotion"] or "").strip()
        match = _FILE_NAME.match(file_id)
        where = f"{tsv} row {i + 2} ({file_id!r})"
        if match is None:
            problems.append(f"{where}: file_id is not <speaker>_<emotion>_<n>.wav")
            continue
        if match["emotion"] != emotion or match["speaker"] != speaker:
            problems.append(
                f"{where}: the file name says {match['speaker']}/{match['emotion']} but the "
                f"row says speaker_id {speaker!r}, emotion {emotion!r}"
            )
            continue
        age = (rec["age"] or "").strip()
        rows.append(
            {
                "utt_id": file_id[: -len(".wav")],
                "path": str(samples / file_id),
                "speaker": speaker,
                "label": emotion,
                "gender": (rec["gender"] or "").strip().lower() or None,
                "age": int(age) if age.isdigit() else None,
                "sentence": int(match["n"]),
                "transcript": (rec["raw_text"] or "").strip(),
                "transcript_normalized": (rec["normalized_text"] or "").strip(),
            }
        )
    if problems:
        raise ManifestError(str(tsv), problems)
    listed = {r["utt_id"] for r in rows}
    common.warn_unlabelled(NAME, [p for p in audio if p.stem not in listed], str(tsv))
    schema = {
        "utt_id": pl.String, "path": pl.String, "speaker": pl.String, "label": pl.String,
        "gender": pl.String, "age": pl.Int64, "sentence": pl.Int64, "transcript": pl.String,
        "transcript_normalized": pl.String,
    }
    return common.build_corpus(SPEC, common.make_manifest(rows, schema), LABEL_MAPS, root)
