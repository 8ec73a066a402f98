from eval.tables import Column, key, markdown_table, results_markdown

FIGURES = {
    "model": {
        "a_test": {
            "accuracy": 0.5,
            "macro_f1": 0.4,
            "sided_accuracy": 0.75,
            "per_class": {"disputing": {"f1": 0.25, "support": 2}},
        },
        "fever_test": {
            "accuracy": 0.625,
            "macro_f1": 0.6,
            "sided_accuracy": 0.875,
            "per_class": {"asserting": {"f1": 0.5, "support": 4}, "disputing": {"f1": 0.7, "support": 4}},
        },
        "b_test": {
            "accuracy": 0.125,
            "fnc_relative_score": 0.8352,
            "per_class": {"unrelated": {"f1": 1.0, "support": 1}},
        },
    },
    "published": {"a_test": {"accuracy": 0.7328, "macro_f1": 0.723}},
}


def test_markdown_table_has_dashes_for_missing_cells_and_skips_empty_rows():
    columns = [
        Column("a acc", "a_test", key("accuracy"), "{:.2%}"),
        Column("b score", "b_test", key("fnc_relative_score", 100), "{:.2f}"),
    ]
    assert markdown_table(FIGURES | {"nothing": {"c_test": {}}}, columns).splitlines() == [
        "| system | a acc | b score |",
        "|---|---|---|",
        "| model | 50.00% | 83.52 |",
        "| published | 73.28% | – |",
    ]


def test_results_markdown_puts_each_set_in_the_table_that_fits_it():
    markdown = results_markdown({"results": FIGURES, "published_fnc1_competition_test": {"Talos": "82.02"}})
    stance, sided, claim_evidence, fnc, relevance = (part for part in markdown.split("### ")[1:])
    assert "a_test acc" in stance and "b_test" not in stance and "fever_test" not in stance
    assert "| model | 75.00% |" in sided and "fever_test" not in sided
    assert "| fever_test acc | fever_test macro-F1 | fever_test disputing F1 | fever_test 2-way acc |" in claim_evidence
    assert "| model | 62.50% | 0.600 | 0.700 | 87.50% |" in claim_evidence
    assert (
        "b_test relative score" in fnc
        and "| Talos [published, FNC-1 competition test, not this split] | 82.02 |" in fnc
    )
    assert "b_test unrelated recall" in relevance
