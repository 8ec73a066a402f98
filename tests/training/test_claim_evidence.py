import shutil

import pandas as pd
import pytest

from models.encoding import ClaimLimit
from models.labels import SIDED_STANCES
from models.sources import CLAIM_EVIDENCE_SOURCES
from training.claim_evidence import (
    READERS,
    detokenize,
    read_claim_evidence,
    read_fever,
    read_fever_symmetric,
    within_claim_limit,
)
from training.data import COLUMNS, DataFileError


@pytest.fixture(scope="module")
def corpora(synthetic_corpus):
    return {source: READERS[source](synthetic_corpus.path) for source in CLAIM_EVIDENCE_SOURCES}


def test_every_corpus_has_the_news_columns_and_two_sides(corpora):
    for source, (train, test) in corpora.items():
        for part in (train, test):
            assert tuple(part.columns) == COLUMNS, source
            assert len(part), source
            assert set(part.label) == set(SIDED_STANCES), source
            assert set(part.source) == {source}


def test_not_enough_info_and_neutral_are_left_out(synthetic_corpus, corpora):
    """Each claim of these fixtures has one support, one refute and one left-out pair."""
    for source, left_out in synthetic_corpus.claim_evidence.left_out.items():
        train, test = corpora[source]
        assert (train.label == "asserting").sum() + (test.label == "asserting").sum() == left_out
        assert len(train) + len(test) == 2 * left_out


def test_no_claim_group_or_text_is_on_both_sides(corpora):
    for source, (train, test) in corpora.items():
        assert not set(train.group) & set(test.group), source
        assert not set(train.claim) & set(test.claim), source
        if source not in ("ibm_claim_stance", "perspectrum"):  # their texts are one claim's arguments
            assert not set(train.text) & set(test.text), source


def test_corpora_with_a_split_of_their_own_keep_it(synthetic_corpus, corpora):
    for source, claims in synthetic_corpus.claim_evidence.own_test_claims.items():
        train, test = corpora[source]
        assert set(test.claim) == claims, source
        assert not set(train.claim) & claims


def test_corpora_without_a_split_hold_out_a_fixed_share_of_claims(corpora):
    for source in ("fever", "climate_fever", "healthver"):
        train, test = corpora[source]
        assert 0 < test.group.nunique() < train.group.nunique()


def test_fever_text_is_detokenized(synthetic_corpus, corpora):
    texts = pd.concat([part.text for part in corpora["fever"]])
    assert synthetic_corpus.claim_evidence.fever_detokenized in set(texts)
    assert not texts.str.contains(r"-LRB-| ,| \.|``").any()


@pytest.mark.parametrize(
    ("tokenized", "text"),
    [
        ("Paris -LRB- France -RRB- is n't small , it 's big .", "Paris (France) isn't small, it's big."),
        ("`` Quoted '' -- and -LSB- bracketed -RSB- ; done !", '"Quoted" -- and [bracketed]; done!'),
        ("Plain text stays plain.", "Plain text stays plain."),
    ],
)
def test_detokenize(tokenized, text):
    assert detokenize(tokenized) == text


def test_an_unknown_label_names_file_row_and_column(synthetic_corpus, tmp_path):
    (tmp_path / "ibm_claim_stance").mkdir()
    frame = pd.read_csv(synthetic_corpus.path / "ibm_claim_stance/claim_stance_dataset_v1.csv")
    frame.loc[2, "claims.stance"] = "MAYBE"
    frame.to_csv(tmp_path / "ibm_claim_stance/claim_stance_dataset_v1.csv", index=False)
    with pytest.raises(DataFileError, match=r"claim_stance_dataset_v1.csv, row 3, column 'claims.stance'.*MAYBE"):
        READERS["ibm_claim_stance"](tmp_path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DataFileError, match=r"fever/dev.raw.input1: missing file"):
        READERS["fever"](tmp_path)


def test_read_claim_evidence_concatenates_and_refuses_unknown_corpora(synthetic_corpus, corpora):
    train, test = read_claim_evidence(synthetic_corpus.path, ("fever", "perspectrum"))
    assert len(train) == len(corpora["fever"][0]) + len(corpora["perspectrum"][0])
    assert set(test.source) == {"fever", "perspectrum"}
    with pytest.raises(ValueError, match="unknown claim–evidence corpora"):
        read_claim_evidence(synthetic_corpus.path, ("snopes",))


def test_claims_the_service_would_refuse_are_left_out(tokenizer, corpora):
    train, _ = corpora["ibm_claim_stance"]
    long_claim = train.assign(claim=train.claim + " and more" * 100)
    kept = within_claim_limit(pd.concat([train, long_claim.iloc[:2]]), ClaimLimit(tokenizer, 64))
    assert len(kept) == len(train)


def test_a_reader_for_each_claim_evidence_source_named_in_models():
    from models.sources import CLAIM_EVIDENCE_SOURCES
    from training.claim_evidence import READERS

    assert tuple(READERS) == CLAIM_EVIDENCE_SOURCES


def test_fever_symmetric_reads_as_twins_of_both_sides(synthetic_corpus):
    twins = read_fever_symmetric(synthetic_corpus.path)
    assert set(twins.claim) == synthetic_corpus.claim_evidence.fever_symmetric_claims
    assert (
        twins.groupby("group").label.apply(sorted).tolist()
        == [["asserting", "asserting", "disputing", "disputing"]] * 2
    )
    assert not twins.text.str.contains(" ,").any()  # detokenized as the FEVER corpus is


def test_fevers_training_pairs_leave_out_fever_symmetrics_claims_and_evidence(synthetic_corpus, tmp_path):
    symmetric = synthetic_corpus.claim_evidence.fever_symmetric_claims
    without = tmp_path / "data"
    shutil.copytree(synthetic_corpus.path / "fever", without / "fever")
    train_without, _ = read_fever(without)
    assert set(train_without.claim) & symmetric  # without the file, the shared claim trains
    train, test = read_fever(synthetic_corpus.path)
    assert not set(train.claim) & symmetric
    assert len(train) < len(train_without) and len(test) == len(read_fever(without)[1])
