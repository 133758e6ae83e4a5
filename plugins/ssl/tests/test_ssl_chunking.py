"""Window planning and stitching (serbench_ssl.chunking), on plain arrays."""

from __future__ import annotations

import numpy as np
import pytest

from serbench_ssl.chunking import plan_windows, stitch

HOP = 320


def test_a_short_signal_is_one_window() -> None:
    assert plan_windows(1000, 6400, 640, HOP) == [(0, 1000)]
    assert plan_windows(6400, 6400, 640, HOP) == [(0, 6400)]


@pytest.mark.parametrize("n", [6401, 10000, 12160, 50000, 123457])
def test_windows_cover_the_signal_on_frame_boundaries(n) -> None:
    window, overlap = 6400, 640
    spans = plan_windows(n, window, overlap, HOP)
    assert spans[0][0] == 0 and spans[-1][1] == n
    assert all(s % HOP == 0 for s, _ in spans)
    assert all(e - s == window for s, e in spans[:-1])
    assert window <= spans[-1][1] - spans[-1][0] < window + HOP  # never a short scrap
    for (s0, e0), (s1, _) in zip(spans, spans[1:], strict=False):
        assert e0 - s1 >= overlap and s1 > s0


def test_stitching_frame_indices_gives_each_frame_once() -> None:
    """Windows of 'frames' that are their own global indices must stitch to 0..T-1."""
    n, window, overlap = 50000, 6400, 640
    spans = plan_windows(n, window, overlap, HOP)
    # a conv front end with a 400-sample receptive field: floor((len - 400) / 320) + 1 frames
    frames = [np.arange(s // HOP, s // HOP + (e - s - 400) // HOP + 1) for s, e in spans]
    out = stitch([s for s, _ in spans], frames, HOP)
    np.testing.assert_array_equal(out, np.arange((n - 400) // HOP + 1))


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="multiples of the hop"):
        plan_windows(10000, 6400, 100, HOP)
    with pytest.raises(ValueError, match="2 \\* overlap < window"):
        plan_windows(10000, 1280, 640, HOP)
    with pytest.raises(ValueError, match="share no frame"):
        stitch([0, 6400], [np.zeros(19), np.zeros(19)], HOP)
