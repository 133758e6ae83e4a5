"""Real SER corpora read in their release layouts: one module per release (``iemocap``,
``enterface``, ``emodb``, ``ravdess``, ``cremad``, ``msp_podcast``, ``nemo``), each with
its ``SPEC``, ``LABEL_MAPS`` and ``load(data, options) -> Corpus``; ``common`` holds what
they share and ``video_audio`` extracts audio from video. See ``docs/corpora.md``."""
