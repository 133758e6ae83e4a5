"""serbench-ssl: self-supervised speech features and a SUPERB/EmoBox-style head.

A serbench plugin, registered through the ``serbench`` entry-point group by
:mod:`serbench_ssl.plugin`: the feature ``ssl`` (WavLM, HuBERT, wav2vec 2.0,
data2vec-audio and the Whisper encoder through Hugging Face ``transformers``) and the model
``ssl_head`` (learnable softmax weights over layers, projection, pooling, classifier).
Importing this package imports neither torch nor transformers.
"""

__version__ = "0.1.0"
