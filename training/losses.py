"""The training loss: the news head's cross-entropy, and the claim–evidence pairs' two-way task beside it.

A claim–evidence pair (its target past the news labels, see training/features.py) is scored either by a two-way
head of its own on the encoder's first token (`multitask`: the news head's label balance is untouched, as in the
per-dataset heads of Schiller et al. 2021 and Hardalov et al. 2021) or by the news head itself (`mix`); its loss is
weighted against the news pairs'. The side head lives on the model only while it trains.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import torch
from torch import nn
from transformers import PreTrainedModel

from models.labels import SIDED_STANCES

SIDE_HEAD = "claim_evidence_head"
"""The attribute the side head is attached under while training (so the optimizer and checkpoints carry it)."""


class FirstTokenCapture:
    """Keeps the encoder's last hidden state at the first token of each pair, via a forward hook on the base model,
    so the side head reads the same encoder pass as the news head."""

    def __init__(self, model: PreTrainedModel):
        self.first_token: torch.Tensor | None = None
        self.handle = model.base_model.register_forward_hook(self.keep)

    def keep(self, module: nn.Module, args: tuple, output) -> None:
        self.first_token = output[0][:, 0]

    def remove(self) -> None:
        self.handle.remove()


def attach_side_head(model: PreTrainedModel) -> nn.Module:
    dropout = getattr(model.config, "hidden_dropout_prob", 0.1)
    head = nn.Sequential(nn.Dropout(dropout), nn.Linear(model.config.hidden_size, len(SIDED_STANCES)))
    model.add_module(SIDE_HEAD, head)
    return head


def detach_side_head(model: PreTrainedModel) -> None:
    """Leave the saved model exactly the news classifier the service loads."""
    if hasattr(model, SIDE_HEAD):
        delattr(model, SIDE_HEAD)


class StanceLoss:
    """compute_loss_func for Trainer: the news pairs' cross-entropy (class-weighted by their own label counts when
    asked), and the claim–evidence pairs' two-way cross-entropy, averaged with `side_weight` per such pair."""

    def __init__(
        self,
        labels: Sequence[str],
        news_labels: Sequence[str],
        class_weighted: bool,
        side_weight: float = 1.0,
        side_head: nn.Module | None = None,
        capture: FirstTokenCapture | None = None,
    ):
        self.n_labels = len(labels)
        counts = Counter(news_labels)
        self.class_weights = (
            torch.tensor([len(news_labels) / (len(labels) * counts.get(label, 1)) for label in labels])
            if class_weighted
            else None
        )
        self.side_in_news_head = torch.tensor([list(labels).index(side) for side in SIDED_STANCES])
        self.side_weight = side_weight
        self.side_head = side_head
        self.capture = capture

    def __call__(self, outputs, targets: torch.Tensor, num_items_in_batch=None) -> torch.Tensor:
        logits = outputs["logits"].float()
        is_side = targets >= self.n_labels
        losses, weights = [], []
        if (~is_side).any():
            weight = None if self.class_weights is None else self.class_weights.to(logits.device)
            losses.append(nn.functional.cross_entropy(logits[~is_side], targets[~is_side], weight=weight))
            weights.append(float((~is_side).sum()))
        if is_side.any():
            side_targets = targets[is_side] - self.n_labels
            if self.side_head is not None:
                side_logits = self.side_head(self.capture.first_token[is_side]).float()
            else:
                side_logits, side_targets = logits[is_side], self.side_in_news_head.to(targets.device)[side_targets]
            losses.append(nn.functional.cross_entropy(side_logits, side_targets))
            weights.append(self.side_weight * float(is_side.sum()))
        return sum(loss * w for loss, w in zip(losses, weights, strict=True)) / sum(weights)
