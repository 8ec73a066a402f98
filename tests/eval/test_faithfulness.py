from dataclasses import replace

import numpy as np
import pytest

from eval.faithfulness import evidence_alone, measure, without_evidence
from models.predictor import StancePredictor

CLAIM = "A meteorite crashed near the airport in Managua"
TEXTS = [
    "Officials confirmed that a meteorite crashed near the airport.",  # one sentence: not measured
    "Farmers planted barley. Officials denied that a meteorite hit Managua. The airport stayed open. Rain fell.",
    "The meteorite story spread fast. Nobody was hurt.",
    " ".join(f"Week {i} of the barley season passed quietly near the airport." for i in range(12)),
]


def test_evidence_alone_keeps_text_order_and_without_evidence_keeps_the_rest_as_it_was():
    text = "One. Two is here.\nThree!"
    spans = [(18, 24), (0, 4)]
    assert evidence_alone(text, spans) == "One. Three!"
    assert without_evidence(text, spans) == "Two is here."
    assert without_evidence("One. Two.", [(0, 4), (5, 9)]) == ""


def test_measure_rescoring_the_evidence_and_the_rest(tiny_model, tokenizer):
    predictor = StancePredictor.from_model(tiny_model, tokenizer, num_threads=1)
    claims = [CLAIM] * len(TEXTS)
    scored = predictor.score(claims, TEXTS)
    result = measure(predictor, claims, TEXTS, scored)
    multi = [1, 2, 3]
    assert result.texts == len(multi)
    spans = {i: [(e.start, e.end) for e in scored.evidence[i]] for i in multi}
    alone = predictor.score([CLAIM] * 3, [evidence_alone(TEXTS[i], spans[i]) for i in multi])
    labels = scored.label_ids[multi]
    assert result.sufficiency == pytest.approx(np.mean(alone.label_ids == labels))
    full = scored.probabilities[multi, labels]
    assert result.sufficiency_drop == pytest.approx(np.mean(full - alone.probabilities[np.arange(3), labels]))
    emptied = [i for i in multi if not without_evidence(TEXTS[i], spans[i])]
    assert emptied == [2] and result.emptied == 1  # two sentences, both evidence: nothing left
    kept = [i for i in multi if i not in emptied]
    rest = predictor.score([CLAIM] * len(kept), [without_evidence(TEXTS[i], spans[i]) for i in kept])
    kept_labels = scored.label_ids[kept]
    lost = [*(rest.label_ids != kept_labels), True]  # an emptied text has lost its label
    assert result.comprehensiveness == pytest.approx(np.mean(lost))
    rest_probability = [*rest.probabilities[np.arange(len(kept)), kept_labels], 0.0]
    assert result.comprehensiveness_drop == pytest.approx(np.mean(full[[0, 2, 1]] - rest_probability))


def test_answers_without_evidence_are_refused(tiny_model, tokenizer):
    predictor = StancePredictor.from_model(tiny_model, tokenizer, num_threads=1)
    scored = predictor.score([CLAIM], [TEXTS[1]])
    with pytest.raises(ValueError, match="no evidence"):
        measure(predictor, [CLAIM], [TEXTS[1]], replace(scored, evidence=None))
