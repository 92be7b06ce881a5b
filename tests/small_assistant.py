"""A small assistant (greet, goodbye, a city slot) that server and channel tests serve."""

DOMAIN = """
version: "3.1"
intents: [greet, goodbye, inform]
entities: [city]
slots:
  city:
    type: text
    mappings:
      - type: from_entity
        entity: city
responses:
  utter_greet:
    - text: "Hello! Where are you?"
      buttons:
        - title: Paris
          payload: '/inform{"city": "Paris"}'
  utter_goodbye:
    - text: "Bye"
  utter_city:
    - text: "You are in {city}."
session_config:
  session_expiration_time: 60
  carry_over_slots_to_new_session: true
"""

NLU = """
version: "3.1"
nlu:
  - intent: greet
    examples: |
      - hello
      - hi there
      - good morning
      - hey
  - intent: goodbye
    examples: |
      - bye
      - goodbye
      - see you later
      - ciao
  - intent: inform
    examples: |
      - I am in [Paris](city)
      - I live in [Berlin](city)
      - from [Rome](city)
      - [Lisbon](city)
"""

RULES = """
version: "3.1"
rules:
  - rule: greet
    steps:
      - intent: greet
      - action: utter_greet
  - rule: goodbye
    steps:
      - intent: goodbye
      - action: utter_goodbye
  - rule: city
    steps:
      - intent: inform
      - action: utter_city
"""

CONFIG = """
recipe: default.v1
language: en
assistant_id: server_test
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: LogisticRegressionClassifier
  - name: RegexEntityExtractor
  - name: CRFEntityExtractor
policies:
  - name: RulePolicy
"""

#: a test story the small assistant passes
TEST_STORIES = """\
version: "3.1"
stories:
- story: hello and bye
  steps:
  - user: |
      hello
    intent: greet
  - action: utter_greet
  - user: |
      bye
    intent: goodbye
  - action: utter_goodbye
"""
