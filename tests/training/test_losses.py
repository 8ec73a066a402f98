import pytest
import torch

from models.labels import LABELS
from training.losses import SIDE_HEAD, FirstTokenCapture, StanceLoss, attach_side_head, detach_side_head

NEWS = ["asserting", "disputing", "reporting", "reporting", "unrelated", "unrelated", "unrelated", "unrelated"]
SIDE = len(LABELS)
"""A claim–evidence pair's target: len(labels) plus its side (0 asserting, 1 disputing)."""


def logits_for(n: int) -> torch.Tensor:
    return torch.randn(n, len(LABELS), generator=torch.Generator().manual_seed(n), requires_grad=True)


def test_news_pairs_alone_get_the_class_weighted_cross_entropy():
    loss = StanceLoss(LABELS, NEWS, class_weighted=True)
    logits, targets = logits_for(4), torch.tensor([0, 1, 2, 3])
    weights = torch.tensor([8 / (4 * 1), 8 / (4 * 1), 8 / (4 * 2), 8 / (4 * 4)])
    expected = torch.nn.functional.cross_entropy(logits, targets, weight=weights)
    assert loss({"logits": logits}, targets).item() == pytest.approx(expected.item())
    unweighted = StanceLoss(LABELS, NEWS, class_weighted=False)
    assert unweighted({"logits": logits}, targets).item() == pytest.approx(
        torch.nn.functional.cross_entropy(logits, targets).item()
    )


def test_mix_scores_claim_evidence_pairs_in_the_news_head_with_their_weight():
    loss = StanceLoss(LABELS, NEWS, class_weighted=False, side_weight=0.5)
    logits = logits_for(3)
    targets = torch.tensor([2, SIDE + 0, SIDE + 1])  # reporting; a claim–evidence pair of each side
    news = torch.nn.functional.cross_entropy(logits[:1], torch.tensor([2]))
    side = torch.nn.functional.cross_entropy(logits[1:], torch.tensor([LABELS.index("asserting"), 1]))
    expected = (news * 1 + side * 0.5 * 2) / (1 + 0.5 * 2)
    assert loss({"logits": logits}, targets).item() == pytest.approx(expected.item())


def test_multitask_leaves_the_news_head_to_news_pairs(tiny_model):
    """The claim–evidence pairs train the encoder through their own head: the news head's logits of those pairs
    get no gradient, so its label balance is the news pairs' alone."""
    head = attach_side_head(tiny_model)
    capture = FirstTokenCapture(tiny_model)
    try:
        loss = StanceLoss(LABELS, NEWS, class_weighted=True, side_head=head, capture=capture)
        ids = torch.randint(5, 100, (3, 12), generator=torch.Generator().manual_seed(0))
        outputs = tiny_model(input_ids=ids, attention_mask=torch.ones_like(ids))
        outputs.logits.retain_grad()
        loss(outputs, torch.tensor([1, SIDE + 0, SIDE + 1])).backward()
        assert outputs.logits.grad[1:].abs().sum() == 0
        assert outputs.logits.grad[0].abs().sum() > 0
        assert head[1].weight.grad.abs().sum() > 0
    finally:
        capture.remove()
        detach_side_head(tiny_model)
        tiny_model.zero_grad()
    assert not hasattr(tiny_model, SIDE_HEAD)
    assert not any(name.startswith(SIDE_HEAD) for name in tiny_model.state_dict())
