from __future__ import annotations

from pathlib import Path

import numpy as np

from parlez.config import ComponentConfig
from parlez.diagnostics import collect
from parlez.nlu.encoder import packaged_model_path, resolve_weights
from parlez.nlu.message import Message
from parlez.nlu.pipeline import Pipeline
from tests.nlu.helpers import data, run, trained

DATA = """
- intent: greet
  examples: |
    - hi
    - hello there
- intent: sad
  examples: |
    - I am very sad
    - not good
"""


def test_language_model_features_give_every_token_and_the_sentence_a_vector() -> None:
    pipeline = trained(["WhitespaceTokenizer", "LanguageModelFeaturizer"], DATA)
    features = run(pipeline, "book a haircut, please").features[pipeline.steps[1].key]
    assert features.sequence.shape == (4, 384)
    assert np.all(np.abs(features.sequence).sum(axis=1) > 0)
    assert features.sentence.shape == (1, 384)
    assert abs(float(np.linalg.norm(features.sentence)) - 1.0) < 1e-4


def test_similar_sentences_get_similar_sentence_vectors() -> None:
    pipeline = trained(["WhitespaceTokenizer", "LanguageModelFeaturizer"], DATA)
    key = pipeline.steps[1].key

    def vector(text: str) -> np.ndarray:
        return run(pipeline, text).features[key].sentence[0]

    hours, open_, pizza = (
        vector("when do you open?"),
        vector("what are your opening hours"),
        vector("I like pizza"),
    )
    assert float(hours @ open_) > float(hours @ pizza)


def test_a_model_that_is_not_available_offline_falls_back_with_one_warning() -> None:
    with collect() as warnings:
        path = resolve_weights("rasa/LaBSE")
    assert path == packaged_model_path()
    assert [w.code for w in warnings] == ["P189"]


def test_a_project_folder_holding_a_model_is_used_as_it_is() -> None:
    folder = packaged_model_path()
    with collect() as warnings:
        assert resolve_weights(str(folder)) == folder
    assert warnings == []


def test_spacy_nlp_without_its_package_uses_the_blank_pipeline_with_one_warning() -> None:
    items = [
        ComponentConfig("SpacyNLP", {"model": "en_core_web_md"}),
        ComponentConfig("SpacyTokenizer"),
        ComponentConfig("SpacyFeaturizer"),
    ]
    with collect() as warnings:
        pipeline = Pipeline.from_config(items).train(data(DATA))
    assert [w.code for w in warnings].count("P184") <= 1
    message = Message("Hello, world!")
    pipeline.process([message])
    assert [(t.text, t.start) for t in message.tokens] == [
        ("Hello", 0),
        (",", 5),
        ("world", 7),
        ("!", 12),
    ]
    assert message.features[pipeline.steps[2].key].sequence.shape == (4, 384)


def test_the_knowledge_base_reuses_the_sentence_vector_of_a_message_just_parsed() -> None:
    from parlez.nlu.encoder import encoder_at
    from parlez.nlu.tokenizers.whitespace import WhitespaceTokenizer

    encoder = encoder_at(packaged_model_path())
    text = "can I park near the studio on a saturday"
    searched = encoder.embed([text])  # not parsed yet: computed
    message = Message(text)
    WhitespaceTokenizer({}).process([message])
    ((_, sentence),) = encoder.encode([text], [message.tokens])
    assert text in encoder._recent
    reused = encoder.embed([text])
    assert np.allclose(reused, searched, atol=1e-5)
    assert np.allclose(reused[0], sentence[0])


def test_the_exported_encoder_gives_the_eager_encoders_vectors_alone_and_in_padded_batches() -> (
    None
):
    """Its weights are in 8 bits: each word piece's vector keeps the eager one's direction."""
    import torch

    from parlez.nlu.encoder import TOKEN_LAYERS, WEIGHT_COSINE, encoder_at

    def close(ours: np.ndarray, theirs: np.ndarray) -> bool:
        norms = np.linalg.norm(ours, axis=-1) * np.linalg.norm(theirs, axis=-1)
        return bool(((ours * theirs).sum(-1) / norms >= WEIGHT_COSINE).all())

    encoder = encoder_at(packaged_model_path())
    texts = ["hi", "book a beard trim for friday afternoon at two", "what does it cost?"]
    for batch in ([texts[1]], texts):
        ids, mask, _ = encoder.tokenizer(batch)
        last, layers = encoder._forward(ids, mask)
        assert encoder._session is not False, "the packaged encoder should export to ONNX"
        with torch.inference_mode():
            output = encoder.model(
                input_ids=torch.from_numpy(ids),
                attention_mask=torch.from_numpy(mask),
                output_hidden_states=True,
            )
        kept = mask.astype(bool)
        assert close(last[kept], output.last_hidden_state.numpy()[kept])
        eager_layers = torch.stack(output.hidden_states[-TOKEN_LAYERS:]).mean(0).numpy()
        assert close(layers[kept], eager_layers[kept])


def test_a_message_encodes_the_same_alone_as_in_a_batch_of_longer_ones() -> None:
    """Training featurizes in padded batches, parsing one message at a time."""
    pipeline = trained(["WhitespaceTokenizer", "LanguageModelFeaturizer"], DATA)
    key = pipeline.steps[1].key
    texts = ["not good", "I am very sad about the haircut I got on monday"]
    batch = [Message(text=t) for t in texts]
    pipeline.process(batch)
    alone = run(pipeline, texts[0]).features[key]
    assert np.allclose(alone.sequence, batch[0].features[key].sequence, atol=1e-5)
    assert np.allclose(alone.sentence, batch[0].features[key].sentence, atol=1e-5)


def test_diets_linear_intent_model_reads_the_sentence_vector_and_the_pooled_token_vectors(
    tmp_path: Path,
) -> None:
    pipeline = trained(
        [
            "WhitespaceTokenizer",
            "CountVectorsFeaturizer",
            "LanguageModelFeaturizer",
            ("DIETClassifier", {"epochs": 1, "minimum_training_steps": 0}),
        ],
        DATA,
    )
    diet = pipeline.steps[3]
    sparse_width = len(diet.linear_.idf_)
    assert diet.linear_.dense_blocks_ == 2
    assert diet.linear_.coef_.shape[1] == sparse_width + 2 * 384
    pipeline.persist(tmp_path)
    loaded = Pipeline.load(tmp_path)
    assert (
        loaded.parse("I feel sad")["intent_ranking"]
        == pipeline.parse("I feel sad")["intent_ranking"]
    )
