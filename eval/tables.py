"""The Markdown of an evaluation report: one table per question, one row per system, "–" where a system has no
figure for a column."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from models.labels import DISPUTING, LABELS, UNRELATED
from models.sources import CLAIM_EVIDENCE_SOURCES

Figures = dict[str, dict[str, dict]]
"""system → set → figures, as report.json holds them."""


@dataclass(frozen=True)
class Column:
    header: str
    dataset: str
    value: Callable[[dict], float | str | None]
    format: str = "{:.3f}"

    def cell(self, by_set: dict[str, dict]) -> str:
        figures = by_set.get(self.dataset)
        value = self.value(figures) if figures is not None else None
        if value is None:
            return "–"
        return value if isinstance(value, str) else self.format.format(value)


def markdown_table(rows: dict[str, dict[str, dict]], columns: list[Column]) -> str:
    """Rows of systems that have a figure in at least one column."""
    lines = ["| system | " + " | ".join(c.header for c in columns) + " |", "|---" * (1 + len(columns)) + "|"]
    for system, by_set in rows.items():
        cells = [column.cell(by_set) for column in columns]
        if any(cell != "–" for cell in cells):
            lines.append(f"| {system} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def f1_of(label: str) -> Callable[[dict], float | None]:
    return lambda figures: figures.get("per_class", {}).get(label, {}).get("f1")


def key(name: str, scale: float = 1.0) -> Callable[[dict], float | str | None]:
    def value(figures: dict) -> float | str | None:
        found = figures.get(name)
        return found * scale if isinstance(found, float | int) else found

    return value


def all_unrelated(figures: dict) -> bool:
    per_class = figures.get("per_class", {})
    return bool(per_class) and per_class.get(UNRELATED, {}).get("support") == sum(
        c["support"] for c in per_class.values()
    )


def set_names(results: Figures, has: Callable[[dict], bool]) -> list[str]:
    """Sets, in the order the model's figures list them, whose figures pass `has`."""
    names: dict[str, None] = {}
    for by_set in results.values():
        for name, figures in by_set.items():
            if has(figures):
                names.setdefault(name)
    return list(names)


def labels_in(results: Figures) -> list[str]:
    present = {label for by_set in results.values() for f in by_set.values() for label in f.get("per_class", {})}
    return [label for label in LABELS if label in present]


def is_claim_evidence(name: str) -> bool:
    return name.startswith(CLAIM_EVIDENCE_SOURCES)


def stance_table(results: Figures) -> str:
    """Sets of news pairs that are all about their claim: accuracy, macro-F1 and F1 per stance."""
    names = [
        name
        for name in set_names(
            results, lambda f: "accuracy" in f and not f.get("per_class", {}).get(UNRELATED, {}).get("support")
        )
        if not is_claim_evidence(name)
    ]
    stances = [label for label in labels_in(results) if label != UNRELATED]
    columns = []
    for name in names:
        columns += [
            Column(f"{name} acc", name, key("accuracy"), "{:.2%}"),
            Column(f"{name} macro-F1", name, key("macro_f1")),
        ]
        columns += [Column(f"{name} {label} F1", name, f1_of(label)) for label in stances]
    return markdown_table(results, columns)


def sided_table(results: Figures) -> str:
    """Asserting against disputing alone, on the news sets whose pairs take sides."""
    names = [name for name in set_names(results, lambda f: "sided_accuracy" in f) if not is_claim_evidence(name)]
    columns = [Column(f"{name}", name, key("sided_accuracy"), "{:.2%}") for name in names]
    return markdown_table(results, columns)


def claim_evidence_table(results: Figures) -> str:
    """Each claim–evidence corpus's held-out pairs: accuracy and macro-F1 over the two sides they have (a pair called
    `reporting` or `unrelated` counts as wrong), disputing F1, and asserting against disputing alone (the figure
    that compares with their published two-way results; chance is about 0.5)."""
    columns = []
    for name in [name for name in set_names(results, lambda f: "accuracy" in f) if is_claim_evidence(name)]:
        columns += [
            Column(f"{name} acc", name, key("accuracy"), "{:.2%}"),
            Column(f"{name} macro-F1", name, key("macro_f1")),
            Column(f"{name} disputing F1", name, f1_of(DISPUTING)),
            Column(f"{name} 2-way acc", name, key("sided_accuracy"), "{:.2%}"),
        ]
    return markdown_table(results, columns)


def fnc_table(results: Figures, published: dict[str, str]) -> str:
    """Sets mixing related and unrelated pairs, on FNC-1's terms; published competition-test scores beside."""
    names = set_names(results, lambda f: "fnc_relative_score" in f)
    columns = []
    for name in names:
        columns.append(Column(f"{name} relative score", name, key("fnc_relative_score", 100), "{:.2f}"))
        columns += [Column(f"{name} {label} F1", name, f1_of(label)) for label in labels_in(results)]
        columns += [Column(f"{name} F1m", name, key("f1m")), Column(f"{name} related/unrelated acc", name,
                    key("relatedness_accuracy"), "{:.2%}")]  # fmt: skip
    rows = dict(results)
    if names:
        rows |= {
            f"{system} [published, FNC-1 competition test, not this split]": {names[0]: {"fnc_relative_score": score}}
            for system, score in published.items()
        }
    return markdown_table(rows, columns)


def relevance_table(results: Figures) -> str:
    """How often a text about another claim is called unrelated, and how well relevance is calibrated."""
    mismatched = set_names(results, all_unrelated)
    calibrated = set_names(results, lambda f: "relevance_ece" in f)
    columns = [Column(f"{name} unrelated recall", name, key("accuracy"), "{:.2%}") for name in mismatched]
    columns += [Column(f"{name} relevance ECE", name, key("relevance_ece"), "{:.4f}") for name in calibrated]
    return markdown_table(results, columns)


def designs_table(designs: dict) -> str:
    """Relatedness on the validation sets, by relevance design: accuracy everywhere, and the unrelated F1 where a
    set mixes related and unrelated pairs (in a set of one kind, accuracy says it all)."""
    results = designs["results"]
    names = set_names(results, lambda f: True)
    mixed = set_names(results, lambda f: f.get("mixed", False))
    columns = []
    for name in names:
        columns.append(Column(f"{name} related/unrelated acc", name, key("accuracy"), "{:.2%}"))
        if name in mixed:
            columns.append(Column(f"{name} unrelated F1", name, key("unrelated_f1")))
    thresholds = ", ".join(f"{design} >= {t:.3f}" for design, t in designs["thresholds"].items())
    return markdown_table(results, columns) + f"\n\nThresholds, chosen on a sample of training pairs: {thresholds}."


def evidence_table(faithfulness: Figures) -> str:
    """Whether the evidence is what each reading's answer rests on (ERASER's two tests, eval/faithfulness.py)."""
    columns = []
    for name in set_names(faithfulness, lambda f: True):
        columns += [
            Column(f"{name} texts", name, key("texts"), "{:.0f}"),
            Column(f"{name} sufficiency", name, key("sufficiency")),
            Column(f"{name} comprehensiveness", name, key("comprehensiveness")),
            Column(f"{name} ERASER suff. (lower is better)", name, key("sufficiency_drop")),
            Column(f"{name} ERASER comp. (higher is better)", name, key("comprehensiveness_drop")),
        ]
    return markdown_table(faithfulness, columns)


def evidence_labels_table(by_set: dict[str, dict]) -> str:
    """One row per set: its first evidence sentence's own label against the gold one, and its two sides alone."""
    lines = ["| set | pairs | evidence label acc | evidence asserting vs disputing acc |", "|---|---|---|---|"]
    lines += [
        f"| {name} | {f['pairs']} | {f['evidence_label_accuracy']:.2%} | {f['evidence_sided_accuracy']:.2%} |"
        for name, f in by_set.items()
    ]
    return "\n".join(lines)


def polarity_table(polarity: dict[str, dict], results: Figures) -> str:
    """One row per system: the probe's accuracy on the original and the negated pairs, the share of sided pairs whose
    answer flips with the claim or keeps its side, and FEVER Symmetric's asserting against disputing."""
    lines = [
        "| system | pairs | accuracy | negated accuracy | flips with the claim | same side | FEVER Symmetric 2-way |",
        "|---|---|---|---|---|---|---|",
    ]
    for system, f in polarity.items():
        twins = results.get(system, {}).get("fever_symmetric_dev", {}).get("sided_accuracy")
        lines.append(
            f"| {system} | {f['pairs']} | {f['accuracy']:.2%} | {f['negated_accuracy']:.2%} | {f['flipped']:.2%} | "
            f"{f['same_side']:.2%} | {'–' if twins is None else f'{twins:.2%}'} |"
        )
    first = next(iter(polarity.values()), None)
    if first is not None:
        rules = ", ".join(f"{rule} {n}" for rule, n in first["by_rule"].items())
        lines.append(
            f"\n{first['claims']} validation claims, {first['left_out']} left out (no rule negates them); pairs by the "
            f"rule that negated their claim: {rules}."
        )
    return "\n".join(lines)


def worked_examples_table(examples: dict[str, list[dict]]) -> str:
    lines = [
        "| system | claim | text | expected | answer | score of the answer | as expected |",
        "|---|---|---|---|---|---|---|",
    ]
    for system, rows in examples.items():
        lines += [
            f"| {system} | {r['claim']} | {r['text']} | {r['expected']} | {r['answer']} | "
            f"{r['scores'][r['answer']]:.3f} | {'yes' if r['holds'] else 'no'} |"
            for r in rows
        ]
    return "\n".join(lines)


def results_markdown(report: dict) -> str:
    results: Figures = report["results"]
    parts = [
        "### Stance, on pairs about their claim",
        stance_table(results),
        "### Asserting against disputing alone (accuracy over the pairs that take a side)",
        sided_table(results),
        "### Claim–evidence corpora, held-out parts (other genres: Wikipedia, science, health, debate)",
        claim_evidence_table(results),
        "### FNC-1 on its own terms (related and unrelated pairs)",
        fnc_table(results, report.get("published_fnc1_competition_test", {})),
        "### Relevance",
        relevance_table(results),
    ]
    if "faithfulness" in report:
        parts += [
            "### Evidence: is the answer what its sentences say? (texts of more than one sentence)",
            evidence_table(report["faithfulness"]),
        ]
    if report.get("evidence_labels"):
        parts += [
            "### Evidence labels on the claim–evidence sets (the first evidence sentence, scored alone)",
            evidence_labels_table(report["evidence_labels"]),
        ]
    if "polarity" in report:
        parts += [
            "### Polarity: does the answer follow the claim? (validation claims beside their negations)",
            polarity_table(report["polarity"], results),
        ]
    if report.get("worked_examples"):
        parts += ["### Worked examples", worked_examples_table(report["worked_examples"])]
    if "recipe_score" in report:
        scores = ", ".join(f"{source} {value:.4f}" for source, value in report["recipe_score"].items())
        parts += ["### What recipes are chosen on", f"Validation macro-F1 by source, and their mean: {scores}."]
    if "relevance_designs" in report:
        parts += ["### Relevance designs on validation", designs_table(report["relevance_designs"])]
    return "\n\n".join(parts)
