import numpy as np
import pytest

from models.defaults import EMBEDDER_NAME, MODEL_NAME
from models.embedding import SentenceEmbedder
from models.pair import Pair
from models.predictor import StancePredictor
from models.registry import find, register
from serving.model_archive import (
    ArchiveError,
    ExportModelConfig,
    ImportModelConfig,
    archive_path,
    export_models,
    import_models,
)
from tests.helpers import taught_pairs


def answers(tag: str) -> tuple[list[str], np.ndarray]:
    folder, full_tag = find(tag)
    predictor = StancePredictor.served(folder, full_tag, num_threads=1)
    results = predictor.predict([Pair(claim, text) for claim, text, _ in taught_pairs()])
    return [r.label for r in results], np.array([[r.scores[label] for label in predictor.labels] for r in results])


def test_an_exported_archive_serves_elsewhere_as_the_original_does(
    onnx_model_dir, embedder_dir, model_store_at, tmp_path
):
    archives = tmp_path / "archives"
    with model_store_at(tmp_path / "trained" / "models"):
        tag = register(onnx_model_dir)
        register(embedder_dir, EMBEDDER_NAME)
        labels, scores = answers(tag)
        written = export_models(ExportModelConfig(output=str(archives)))
    assert sorted(written) == sorted(archive_path(str(archives), name) for name in (MODEL_NAME, EMBEDDER_NAME))

    with model_store_at(tmp_path / "elsewhere" / "models"):
        imported = import_models(ImportModelConfig(input=str(archives)))
        assert imported[0] == tag and imported[1].startswith(f"{EMBEDDER_NAME}:")
        imported_labels, imported_scores = answers(f"{MODEL_NAME}:latest")
        embedder = SentenceEmbedder.served(*find(f"{EMBEDDER_NAME}:latest"), num_threads=1)
        assert embedder.embed(["Russia is bombing Syria."]).shape[0] == 1
        again = import_models(ImportModelConfig(input=str(archives)))  # already there: kept, not an error
    assert imported_labels == labels and {label for _, _, label in taught_pairs()} <= set(labels)
    np.testing.assert_allclose(imported_scores, scores, atol=1e-6)
    assert again == []


def test_a_missing_archive_is_refused_naming_it(model_store_at, tmp_path):
    with model_store_at(tmp_path / "store" / "models"), pytest.raises(ArchiveError) as refused:
        import_models(ImportModelConfig(input=str(tmp_path / "nothing")))
    assert str(tmp_path / "nothing" / f"{MODEL_NAME}.bentomodel") in str(refused.value)


def test_a_corrupt_archive_is_refused_naming_it(model_store_at, tmp_path):
    folder = tmp_path / "archives"
    folder.mkdir()
    (folder / f"{MODEL_NAME}.bentomodel").write_bytes(b"not a model archive" * 100)
    with model_store_at(tmp_path / "store" / "models"), pytest.raises(ArchiveError) as refused:
        import_models(ImportModelConfig(input=str(folder)))
    assert f"{folder / MODEL_NAME}.bentomodel: not a readable BentoML model archive" in str(refused.value)


def test_exporting_a_model_the_store_lacks_is_refused_naming_it(model_store_at, tmp_path):
    with model_store_at(tmp_path / "store" / "models"), pytest.raises(ArchiveError, match="claimstance:latest"):
        export_models(ExportModelConfig(output=str(tmp_path / "archives")))
