"""Token ids: vocabulary on the training fold, 0 = padding, 1 = unknown."""

from __future__ import annotations

from serbench.features.tokens import PAD, UNK, Vocabulary, build, tokenize


def test_vocabulary_is_built_on_training_text_only():
    vocab = Vocabulary().build(["I am so happy", "so happy today", "Don't go"])
    assert vocab.encode("so happy") == [vocab.stoi["so"], vocab.stoi["happy"]]
    assert vocab.encode("completely unseen words") == [UNK, UNK, UNK]
    assert min(vocab.stoi.values()) == 2 and PAD not in vocab.encode("i am happy")
    assert vocab.itos[:2] == ["<pad>", "<unk>"] and len(vocab) == 2 + 7


def test_order_is_frequency_then_alphabetical_and_deterministic():
    texts = ["b a", "a c", "a b"]
    v1, v2 = Vocabulary().build(texts), Vocabulary().build(list(reversed(texts)))
    assert v1.itos == v2.itos == ["<pad>", "<unk>", "a", "b", "c"]


def test_min_count_max_size_and_empty_text():
    vocab = build({"min_count": 2, "max_size": 3}).build(["x y y z z z", "y"])
    assert vocab.itos == ["<pad>", "<unk>", "y"]
    assert vocab.encode("") == [UNK] and vocab.encode(None) == [UNK]
    assert vocab.info()["pretrained_vectors"] is None


def test_tokenize_keeps_apostrophes_and_lowercases():
    assert tokenize("Don't STOP [LAUGHTER]!") == ["don't", "stop", "laughter"]
    assert tokenize("Dzień dobry") == ["dzień", "dobry"]
