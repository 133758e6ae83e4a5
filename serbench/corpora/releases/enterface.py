"""eNTERFACE'05 (audio-visual emotion database), read from its release layout.

Layout (``enterface database`` archive from enterface.net)::

    subject 1/anger/sentence 1/s1_an_1.avi
    ...      /disgust, fear, happiness, sadness, surprise

Labels, speakers and sentence numbers come from the folders, not from the file names,
which are inconsistent in the release (subject 11's files are named ``s12_*``, some are
``s_3_*`` or ``*avi.avi``). A video lying directly in the emotion folder (no
``sentence M`` folder) takes its sentence number from the end of its file name.

Audio: a ``.wav`` beside the ``.avi`` (same stem) is used when present; otherwise the
audio track is extracted from the video with imageio-ffmpeg's bundled ffmpeg and cached
under ``SERBENCH_CACHE/video-audio/`` (see :mod:`serbench.corpora.releases.video_audio`).
The first load of the full release therefore takes a few minutes; later loads are quick.

Default protocol: ``kfold`` with ``k=5, grouped=speaker`` (speaker-disjoint folds).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from serbench.components import CorpusSpec, LabelMap
from serbench.corpora.releases import common, video_audio
from serbench.errors import ConfigError, ManifestError

if TYPE_CHECKING:
    from serbench.corpora.base import Corpus

NAME = "enterface"
OBTAIN = (
    "eNTERFACE'05 (Martin et al., 2006) is free for research from "
    "https://enterface.net/enterface05/ (the emotion database archive); unpack it so that "
    "the folder holds 'subject 1/' .. 'subject 44/'."
)
#: emotion folder -> (raw label, two-letter code of the release's file names)
EMOTIONS = {
    "anger": "an", "disgust": "di", "fear": "fe", "happiness": "ha", "sadness": "sa",
    "surprise": "su",
}
LABEL_MAPS = {
    "6class": LabelMap(
        name="6class",
        mapping={
            "anger": "angry", "disgust": "disgust", "fear": "fear", "happiness": "happy",
            "sadness": "sad", "surprise": "surprise",
        },
        classes=("angry", "disgust", "fear", "happy", "sad", "surprise"),
        description="the six eNTERFACE'05 emotions",
    ),
}
SPEC = CorpusSpec(
    name=NAME,
    version=1,
    description="eNTERFACE'05: English induced emotional speech (video), 43 subjects, six emotions",
    citation=(
        "Martin, O., Kotsia, I., Macq, B., Pitas, I. (2006). The eNTERFACE'05 Audio-Visual "
        "Emotion Database. Proc. 22nd International Conference on Data Engineering "
        "Workshops (ICDEW'06), p. 8."
    ),
    loader="serbench.corpora.releases.enterface:load",
    label_maps=tuple(LABEL_MAPS),
    default_label_map="6class",
    default_protocol="kfold",
    obtain=OBTAIN,
    licence="free for research use (enterface.net)",
)

_SUBJECT = re.compile(r"^subject\s*(\d+)$", re.IGNORECASE)
_SENTENCE = re.compile(r"^sentence\s*(\d+)$", re.IGNORECASE)
_TRAILING_NUMBER = re.compile(r"(\d+)(?:\D*)$")


def _looks_right(path: Path) -> bool:
    return any(_SUBJECT.match(c.name) for c in path.iterdir() if c.is_dir())


def _sentence(video: Path, emotion_dir: Path) -> int | None:
    for part in video.relative_to(emotion_dir).parts[:-1]:
        match = _SENTENCE.match(part)
        if match:
            return int(match[1])
    match = _TRAILING_NUMBER.search(video.stem)
    return int(match[1]) if match else None


def _videos(root: Path) -> tuple[list[dict[str, Any]], list[Path]]:
    """One entry per .avi under subject/emotion folders, and videos that fit nowhere."""
    found, odd = [], []
    for subject_dir in sorted(c for c in root.iterdir() if c.is_dir() and _SUBJECT.match(c.name)):
        subject = int(_SUBJECT.match(subject_dir.name)[1])  # type: ignore[index]
        for emotion_dir in sorted(c for c in subject_dir.iterdir() if c.is_dir()):
            emotion = emotion_dir.name.strip().lower()
            videos = sorted(
                p for p in emotion_dir.rglob("*")
                if p.suffix.lower() == ".avi" and not p.name.startswith("._") and p.is_file()
            )
            if emotion not in EMOTIONS:
                odd += videos
                continue
            for video in videos:
                sentence = _sentence(video, emotion_dir)
                if sentence is None:
                    odd.append(video)
                    continue
                found.append(
                    {
                        "utt_id": f"s{subject}_{EMOTIONS[emotion]}_{sentence}",
                        "video": video,
                        "speaker": f"s{subject}",
                        "label": emotion,
                        "sentence": sentence,
                    }
                )
    counts = Counter(v["utt_id"] for v in found)
    for entry in found:  # two videos for one sentence: keep both, told apart by file stem
        if counts[entry["utt_id"]] > 1:
            entry["utt_id"] = f"{entry['utt_id']}_{entry['video'].stem}"
    return found, odd


def load(data: Path | None, options: Mapping[str, str]) -> Corpus:
    """Build eNTERFACE'05's manifest from ``data`` (``None``: ``SERBENCH_DATA/enterface``).

    Options: ``workers`` (parallel ffmpeg extractions, default 2).
    Columns: utt_id (``s<subject>_<code>_<sentence>``), path (a wav), speaker, label,
    sentence, video (the .avi), audio_source (``wav`` beside it or ``extracted``).
    """
    import polars as pl

    common.check_options(NAME, options, {"workers": "parallel ffmpeg extractions (default 2)"})
    try:
        workers = int(options.get("workers", 2))
    except ValueError as exc:
        raise ConfigError(f"corpus {NAME!r}: option workers={options['workers']!r} is not an integer") from exc
    root = common.find_root(NAME, data, OBTAIN, _looks_right, "'subject N/<emotion>/sentence M/*.avi'")
    videos, odd = _videos(root)
    if not videos:
        raise common.incomplete(NAME, root, "no .avi under subject N/<emotion>/", OBTAIN)
    common.warn_unlabelled(NAME, odd, "an emotion folder (anger, disgust, fear, happiness, sadness, surprise)")
    audio, failures = video_audio.audio_for([(v["video"], v["utt_id"]) for v in videos], workers=workers)
    if failures:
        raise ManifestError(
            f"corpus {NAME!r} ({root})",
            [f"cannot extract the audio of {video}: {why}" for video, why in sorted(failures.items())],
        )
    rows = [
        {
            "utt_id": v["utt_id"],
            "path": str(audio[v["video"]]),
            "speaker": v["speaker"],
            "label": v["label"],
            "sentence": v["sentence"],
            "video": str(v["video"]),
            "audio_source": "wav" if audio[v["video"]] == v["video"].with_suffix(".wav")
            else "extracted",
        }
        for v in videos
    ]
    schema = {
        "utt_id": pl.String, "path": pl.String, "speaker": pl.String, "label": pl.String,
        "sentence": pl.Int64, "video": pl.String, "audio_source": pl.String,
    }
    return common.build_corpus(
        SPEC, common.make_manifest(rows, schema), LABEL_MAPS, root,
        protocol_options={"kfold": {"k": 5, "grouped": "speaker"}},
        fingerprint_extra={"extraction_version": video_audio.EXTRACTION_VERSION},
    )
