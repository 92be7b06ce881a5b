from __future__ import annotations

from parlez.diagnostics import collect
from parlez.project import Project
from parlez.training import load_nlu, train_nlu
from tests.conftest import ProjectFactory, nlu_file

NLU = nlu_file("""
- intent: greet
  examples: |
    - hi
    - hello there
    - good morning
- intent: faq/ask_parking
  examples: |
    - where can I park
    - is there parking nearby
    - can I leave my car somewhere
- intent: faq/ask_wifi
  examples: |
    - do you have wifi
    - what is the wifi password
    - is there internet
""")
CONFIG = """
assistant_id: faqbot
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: LogisticRegressionClassifier
  - name: ResponseSelector
    epochs: 5
policies: []
"""
DOMAIN = """
intents: [greet, faq]
responses:
  utter_faq/ask_parking:
  - text: Park behind the shop.
"""


def test_the_response_selector_picks_the_answer_of_a_retrieval_intent(
    tmp_project: ProjectFactory,
) -> None:
    project: Project = tmp_project(
        domain=DOMAIN,
        nlu=NLU,
        config=CONFIG,
        files={
            "data/responses.yml": 'version: "3.1"\nresponses:\n  utter_faq/ask_wifi:\n  - text: "Yes, the password is maple."\n'
        },
    )
    with collect():
        result = train_nlu(project, project.root / "models")
    parsed = load_nlu(result.archive).parse("is there somewhere to park my car?")
    assert parsed["intent"]["name"] == "faq"
    selector = parsed["response_selector"]
    assert selector["all_retrieval_intents"] == ["faq"]
    response = selector["default"]["response"]
    assert response["intent_response_key"] == "faq/ask_parking"
    assert response["utter_action"] == "utter_faq/ask_parking"
    assert response["responses"] == [{"text": "Park behind the shop."}]
    assert [r["intent_response_key"] for r in selector["default"]["ranking"]] == [
        "faq/ask_parking",
        "faq/ask_wifi",
    ]
    wifi = load_nlu(result.archive).parse("what's the wifi password?")["response_selector"][
        "default"
    ]["response"]
    assert wifi["responses"] == [{"text": "Yes, the password is maple."}]


def test_test_nlu_writes_the_response_selection_report(tmp_project: ProjectFactory) -> None:
    import json

    from parlez.evaluation.nlu import evaluate
    from parlez.evaluation.reports import write_nlu_reports

    project: Project = tmp_project(
        domain=DOMAIN.replace(
            "Park behind the shop.", "Park behind the shop.\n  utter_faq/ask_wifi:\n  - text: maple"
        ),
        nlu=NLU,
        config=CONFIG,
    )
    with collect():
        result = train_nlu(project, project.root / "models")
    evaluation = evaluate(load_nlu(result.archive), project.nlu_training_data())
    written = write_nlu_reports(evaluation, project.root / "results")
    report = json.loads((project.root / "results" / "response_selection_report.json").read_text())
    assert report["faq/ask_parking"]["support"] == 3 and report["accuracy"] == 1.0
    assert project.root / "results" / "response_selection_errors.json" in written
