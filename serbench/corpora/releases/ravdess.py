"""RAVDESS (Ryerson Audio-Visual Database of Emotional Speech and Song), audio release.

Layout (Zenodo record 1188976, ``Audio_Speech_Actors_01-24.zip``; the song archive
``Audio_Song_Actors_01-24.zip`` unpacks into the same ``Actor_NN`` folders)::

    Actor_01/03-01-05-02-01-01-01.wav

The seven codes: modality (03 audio-only), vocal channel (01 speech, 02 song), emotion
(01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful, 07 disgust, 08 surprised),
intensity (01 normal, 02 strong), statement (01 "Kids are talking by the door",
02 "Dogs are sitting by the door"), repetition, actor (odd male, even female).

Speech files only by default (``--corpus-option channel=song`` or ``all`` to change it):
sung emotions are a different task, and the song set lacks disgust and surprise.
Default protocol: ``kfold`` with ``k=5, grouped=speaker`` (five speaker-disjoint folds of
the 24 actors; ``--protocol loso-speaker`` gives 24 folds).
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

NAME = "ravdess"
OBTAIN = (
    "RAVDESS (Livingstone & Russo, 2018) is free under CC BY-NC-SA 4.0 from "
    "https://zenodo.org/record/1188976: download Audio_Speech_Actors_01-24.zip (and "
    "Audio_Song_Actors_01-24.zip for song) and unpack into one folder of Actor_NN/."
)
EMOTIONS = {
    "01": "neutral", "02": "calm", "03": "happy", "04": "sad",
    "05": "angry", "06": "fearful", "07": "disgust", "08": "surprised",
}
CHANNELS = {"01": "speech", "02": "song"}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
LABEL_MAPS = {
    "8class": LabelMap(
        name="8class",
        mapping={
            "neutral": "neutral", "calm": "calm", "happy": "happy", "sad": "sad",
            "angry": "angry", "fearful": "fear", "disgust": "disgust", "surprised": "surprise",
        },
        classes=("angry", "calm", "disgust", "fear", "happy", "neutral", "sad", "surprise"),
        description="all eight RAVDESS emotions",
    ),
    "4class": LabelMap(
        name="4class",
        mapping={"angry": "angry", "happy": "happy", "neutral": "neutral", "sad": "sad"},
        classes=("angry", "happy", "neutral", "sad"),
        description="angry, happy, neutral, sad",
    ),
}
SPEC = CorpusSpec(
    name=NAME,
    version=1,
    description="RAVDESS: North-American acted speech (and song), 24 actors, eight emotions",
    citation=(
        "Livingstone, S. R., Russo, F. A. (2018). The Ryerson Audio-Visual Database of "
        "Emotional Speech and Song (RAVDESS). PLoS ONE 13(5): e0196391."
    ),
    loader="serbench.corpora.releases.ravdess:load",
    label_maps=tuple(LABEL_MAPS),
    default_label_map="8class",
    default_protocol="kfold",
    obtain=OBTAIN,
    licence="CC BY-NC-SA 4.0",
)

_ACTOR = re.compile(r"^Actor_(\d\d)$")
_CODE = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")


def _looks_right(path: Path) -> bool:
    return any(_ACTOR.match(c.name) for c in path.iterdir() if c.is_dir())


def load(data: Path | None, options: Mapping[str, str]) -> Corpus:
    """Build RAVDESS's manifest from ``data`` (``None``: ``SERBENCH_DATA/ravdess``).

    Options: ``channel`` = ``speech`` (default), ``song`` or ``all``.
    Columns: utt_id (file stem), path, speaker (actor number), label, gender, channel,
    intensity, statement, repetition, transcript.
    """
    import polars as pl

    allowed = {"channel": "speech (default), song or all"}
    common.check_options(NAME, options, allowed)
    channel = common.option_choice(NAME, options, "channel", ("speech", "song", "all"), "speech")
    root = common.find_root(NAME, data, OBTAIN, _looks_right, "Actor_NN/03-01-EE-II-SS-RR-NN.wav")
    actors = sorted(c for c in root.iterdir() if c.is_dir() and _ACTOR.match(c.name))
    rows, odd = [], []
    for actor_dir in actors:
        for path in common.wavs(actor_dir):
            match = _CODE.match(path.stem)
            if match is None:
                odd.append(path)
                continue
            _modality, chan, emo, inten, stmt, rep, actor = match.groups()
            if emo not in EMOTIONS or chan not in CHANNELS or actor != actor_dir.name[-2:]:
                odd.append(path)
                continue
            if channel != "all" and CHANNELS[chan] != channel:
                continue
            rows.append(
                {
                    "utt_id": path.stem,
                    "path": str(path),
                    "speaker": actor,
                    "label": EMOTIONS[emo],
                    "gender": "male" if int(actor) % 2 else "female",
                    "channel": CHANNELS[chan],
                    "intensity": INTENSITIES.get(inten, inten),
                    "statement": stmt,
                    "repetition": int(rep),
                    "transcript": STATEMENTS.get(stmt),
                }
            )
    common.warn_unlabelled(NAME, odd, "RAVDESS's file-name code (or the actor folder)")
    if not rows:
        raise common.incomplete(
            NAME, root, f"no {channel} files (vocal channel code "
            f"{'01' if channel == 'speech' else '02'}) under Actor_NN/",
            "Unpack Audio_Speech_Actors_01-24.zip (speech) or Audio_Song_Actors_01-24.zip "
            "(song) there, or choose another --corpus-option channel=...",
        )
    schema = {
        "utt_id": pl.String, "path": pl.String, "speaker": pl.String, "label": pl.String,
        "gender": pl.String, "channel": pl.String, "intensity": pl.String,
        "statement": pl.String, "repetition": pl.Int64, "transcript": pl.String,
    }
    return common.build_corpus(
        SPEC, common.make_manifest(rows, schema), LABEL_MAPS, root,
        protocol_options={"kfold": {"k": 5, "grouped": "speaker"}},
    )
