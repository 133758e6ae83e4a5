"""How much the conv front end's eval-mode output still depends on its input, per dropout.

    python docs/experiments/frontend_dropout.py      # the numbers in docs/training.md, Open

For each ``drn`` variant and ``conv_dropout``: build the model (LSTM width 64 instead of
the 9.9 M balancing, which does not touch the front end), run 40 train-mode batches of
random frames (B=16, T=300, D=17) so batch norm learns its running statistics, then
encode one more batch in train mode and in eval mode. Printed: the spread of the outputs
across utterances relative to their size, ``mean_c std_b(m) / mean |m|``. Dropout before
batch norm makes the eval-mode value collapse (the statistics were learnt with dropout on).
"""

from __future__ import annotations

import torch
from serbench_drn.model import build
from serbench_drn.plugin import DEFAULTS, VARIANTS

from serbench.data.batch import InputSpec


def spread(m: torch.Tensor) -> float:
    """(B, N, C) -> std over the batch, averaged, relative to the mean magnitude."""
    return (m.std(0).mean() / m.abs().mean()).item()


def main() -> None:
    spec = InputSpec(feature_dim=17, num_classes=4)
    batch, frames = 16, 300
    lengths = torch.full((batch,), frames, dtype=torch.long)
    print("variant  conv_dropout  train  eval")
    for variant in ("baseline", "s4"):
        for p in (0.5, 0.2, 0.1, 0.0):
            torch.manual_seed(0)
            net = build(spec, {**DEFAULTS, **VARIANTS[variant], "params": None,
                               "hidden_size": 64, "conv_dropout": p})
            net.train()
            with torch.no_grad():
                for _ in range(40):
                    net.frontend(torch.randn(batch, frames, 17), lengths)
                x = torch.randn(batch, frames, 17)
                train_out, _ = net.frontend(x, lengths)
                net.eval()
                eval_out, _ = net.frontend(x, lengths)
            print(f"{variant:8s} {p:12.1f} {spread(train_out):6.3f} {spread(eval_out):6.3f}")


if __name__ == "__main__":
    main()
