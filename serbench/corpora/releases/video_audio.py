"""Audio tracks of video files, extracted once with the ffmpeg that ships in the
``imageio-ffmpeg`` wheel (never a system binary the user may lack) and cached.

The cache lives under ``SERBENCH_CACHE/video-audio/``; a file's entry is keyed by the
video's absolute path, size and modification time, so an edited or replaced video is
extracted again. Extraction writes to a temporary name and renames it into place, so an
interrupted run never leaves a truncated wav behind.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from serbench.paths import cache_dir

#: Bump when the extraction command changes the audio (part of every cache key).
EXTRACTION_VERSION = 1


def cached_wav(video: Path, name: str) -> Path:
    """Where the audio of ``video`` is cached (``name``: a readable stem)."""
    stat = video.stat()
    key = f"{video.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{EXTRACTION_VERSION}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return cache_dir() / "video-audio" / f"{name}-{digest}.wav"


def extract(video: Path, target: Path) -> str | None:
    """Write ``video``'s audio track to ``target`` (mono, 16-bit PCM, original rate).

    Returns None on success, else why it failed (ffmpeg's message).
    """
    import imageio_ffmpeg

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.stem}.{os.getpid()}.partial.wav")
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y",
        "-i", str(video), "-vn", "-ac", "1", "-acodec", "pcm_s16le", str(partial),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not partial.is_file() or partial.stat().st_size <= 44:
        partial.unlink(missing_ok=True)
        message = (result.stderr or "").strip().splitlines()
        return message[-1] if message else f"ffmpeg exited with {result.returncode}"
    os.replace(partial, target)
    return None


def audio_for(
    videos: Sequence[tuple[Path, str]], *, workers: int = 2
) -> tuple[dict[Path, Path], dict[Path, str]]:
    """The audio file of each ``(video, name)``: a sibling ``.wav`` when there is one,
    else the cached extraction (made now if missing).

    Returns:
        ``(audio, failures)``: video -> audio path for those that worked, and
        video -> reason for those ffmpeg could not extract.
    """
    audio: dict[Path, Path] = {}
    todo: list[tuple[Path, Path]] = []
    for video, name in videos:
        sibling = video.with_suffix(".wav")
        if sibling.is_file():
            audio[video] = sibling
            continue
        target = cached_wav(video, name)
        audio[video] = target
        if not target.is_file():
            todo.append((video, target))
    failures: dict[Path, str] = {}
    if todo:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for (video, _), error in zip(todo, pool.map(lambda vt: extract(*vt), todo), strict=True):
                if error is not None:
                    failures[video] = error
                    audio.pop(video, None)
    return audio, failures
