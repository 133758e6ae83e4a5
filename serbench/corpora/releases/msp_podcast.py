"""MSP-Podcast (naturalistic podcast speech, UT Dallas MSP lab), read from its release.

Layout (``MSP-PODCAST-Publish-1.x``)::

    Audios/MSP-PODCAST_0001_0008.wav
    Labels/labels_consensus.csv      FileName, EmoClass, EmoAct, EmoVal, EmoDom, SpkrID,
                                     Gender, Split_Set   (``labels_concensus.csv`` in
                                     releases before 1.9)

``EmoClass`` codes: A anger, S sadness, H happiness, U surprise, F fear, D disgust,
C contempt, N neutral, O other, X no agreement. ``Split_Set`` is the official partition;
it becomes the ``split`` column used by the ``official`` protocol: Train -> ``train``,
Development -> ``valid``, Test1 (``Test`` in early releases) -> ``test``, Test2 ->
``test2``, Test3 -> ``test3``. By default ``official`` tests on Test1 and leaves the other
test sets out; ``--protocol-option test=test2 --protocol-option exclude=test,test3``
tests on Test2. Rows without a class (Test3's labels are withheld) are left out.

Many segments have ``SpkrID`` ``Unknown``; their speaker is set to ``podcast<NNNN>`` (the
podcast number of the file name), so that speaker-grouped protocols and per-speaker
normalisation never pool all unknown speakers into one.
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

NAME = "msp-podcast"
OBTAIN = (
    "MSP-Podcast (Lotfian & Busso, 2019) is licensed by UT Dallas's MSP lab (free academic "
    "licence agreement): request it at https://ecs.utdallas.edu/research/researchlabs/"
    "msp-lab/MSP-Podcast.html and unpack it (Audios/ and Labels/)."
)
EMOTIONS = {
    "A": "anger", "S": "sadness", "H": "happiness", "U": "surprise", "F": "fear",
    "D": "disgust", "C": "contempt", "N": "neutral", "O": "other", "X": "no-agreement",
}
SPLITS = {
    "train": "train", "development": "valid", "test": "test", "test1": "test",
    "test2": "test2", "test3": "test3",
}
_EIGHT = {
    "anger": "angry", "sadness": "sad", "happiness": "happy", "surprise": "surprise",
    "fear": "fear", "disgust": "disgust", "contempt": "contempt", "neutral": "neutral",
}
LABEL_MAPS = {
    "4class": LabelMap(
        name="4class",
        mapping={k: v for k, v in _EIGHT.items() if v in ("angry", "happy", "neutral", "sad")},
        classes=("angry", "happy", "neutral", "sad"),
        description="angry, happy, neutral, sad (consensus labels)",
    ),
    "8class": LabelMap(
        name="8class",
        mapping=_EIGHT,
        classes=tuple(sorted(_EIGHT.values())),
        description="the eight primary emotions of the MSP-Podcast challenge",
    ),
    "all": LabelMap(
        name="all",
        mapping={**_EIGHT, "other": "other", "no-agreement": "no-agreement"},
        classes=tuple(sorted([*_EIGHT.values(), "other", "no-agreement"])),
        description="every consensus label, including other and no-agreement (analysis)",
    ),
}
SPEC = CorpusSpec(
    name=NAME,
    version=1,
    description="MSP-Podcast: English podcast speech with consensus labels and official splits",
    citation=(
        "Lotfian, R., Busso, C. (2019). Building Naturalistic Emotionally Balanced Speech "
        "Corpus by Retrieving Emotional Speech from Existing Podcast Recordings. IEEE "
        "Transactions on Affective Computing 10(4), 471-483."
    ),
    loader="serbench.corpora.releases.msp_podcast:load",
    label_maps=tuple(LABEL_MAPS),
    default_label_map="4class",
    default_protocol="official",
    obtain=OBTAIN,
    licence="UT Dallas MSP-Podcast academic licence agreement (no redistribution)",
)

LABEL_FILES = ("labels_consensus.csv", "labels_concensus.csv")
_COLUMNS = ("FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set")
_PODCAST = re.compile(r"^MSP-PODCAST_(\d+)_")


def _looks_right(path: Path) -> bool:
    return (path / "Audios").is_dir() or (path / "Labels").is_dir()


def _audio_folder(audios: Path, first: list[str]) -> Path:
    """``Audios/``, or its one sub-folder holding the files (some copies nest them)."""
    if not first or (audios / first[0]).is_file():
        return audios
    nested = [d for d in audios.iterdir() if d.is_dir() and (d / first[0]).is_file()]
    return nested[0] if len(nested) == 1 else audios


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def load(data: Path | None, options: Mapping[str, str]) -> Corpus:
    """Build MSP-Podcast's manifest from ``data`` (``None``: ``SERBENCH_DATA/msp-podcast``).

    Columns: utt_id (file stem), path, speaker, label, gender, podcast, split, valence,
    arousal, dominance (the 1-7 consensus ratings).
    """
    import polars as pl

    common.check_options(NAME, options, {})
    root = common.find_root(NAME, data, OBTAIN, _looks_right, "Audios/ and Labels/labels_consensus.csv")
    audios = root / "Audios"
    labels = next((root / "Labels" / f for f in LABEL_FILES if (root / "Labels" / f).is_file()), None)
    if labels is None:
        raise common.incomplete(
            NAME, root, f"Labels/{LABEL_FILES[0]} (the labels CSV) is missing",
            "Unpack the Labels/ folder of the release next to Audios/.",
        )
    if not audios.is_dir():
        raise common.incomplete(NAME, root, "the Audios/ folder is missing", "Unpack Audios/ next to Labels/.")
    table = pl.read_csv(labels, infer_schema=False)
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        raise ManifestError(str(labels), [f"missing column(s) {missing}; expected {list(_COLUMNS)}"])
    audios = _audio_folder(audios, table["FileName"].drop_nulls().head(1).to_list())
    rows, problems = [], []
    for i, rec in enumerate(table.iter_rows(named=True)):
        name = (rec["FileName"] or "").strip()
        code = (rec["EmoClass"] or "").strip()
        if not code:
            continue  # labels withheld (Test3)
        where = f"{labels} row {i + 2} ({name!r})"
        split = SPLITS.get((rec["Split_Set"] or "").strip().lower())
        if code not in EMOTIONS or split is None:
            problems.append(
                f"{where}: EmoClass {code!r} / Split_Set {rec['Split_Set']!r} not among "
                f"{sorted(EMOTIONS)} / Train, Development, Test1, Test2, Test3"
            )
            continue
        podcast = _PODCAST.match(name)
        speaker = (rec["SpkrID"] or "").strip()
        if not speaker or speaker.lower() == "unknown":
            speaker = f"podcast{podcast[1]}" if podcast else f"unknown-{Path(name).stem}"
        gender = (rec["Gender"] or "").strip().lower()
        rows.append(
            {
                "utt_id": Path(name).stem,
                "path": str(audios / name),
                "speaker": speaker,
                "label": EMOTIONS[code],
                "gender": gender if gender in ("male", "female") else None,
                "podcast": podcast[1] if podcast else None,
                "split": split,
                "valence": _float(rec["EmoVal"]),
                "arousal": _float(rec["EmoAct"]),
                "dominance": _float(rec["EmoDom"]),
            }
        )
    if problems:
        raise ManifestError(str(labels), problems)
    listed = {r["utt_id"] for r in rows}
    common.warn_unlabelled(NAME, [p for p in common.wavs(audios) if p.stem not in listed], str(labels))
    schema = {
        "utt_id": pl.String, "path": pl.String, "speaker": pl.String, "label": pl.String,
        "gender": pl.String, "podcast": pl.String, "split": pl.String, "valence": pl.Float64,
        "arousal": pl.Float64, "dominance": pl.Float64,
    }
    manifest = common.make_manifest(rows, schema)
    other_tests = sorted({r["split"] for r in rows} & {"test2", "test3"})
    protocol_options = {"official": {"exclude": ",".join(other_tests)}} if other_tests else {}
    return common.build_corpus(
        SPEC, manifest, LABEL_MAPS, root, protocol_options=protocol_options
    )
