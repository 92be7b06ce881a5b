"""Every built-in NLU component, imported so that the registry knows their names."""

from parlez.nlu.classifiers.diet import DIETClassifier
from parlez.nlu.classifiers.fallback import FallbackClassifier
from parlez.nlu.classifiers.keyword import KeywordIntentClassifier
from parlez.nlu.classifiers.knowledge_router import KnowledgeBaseRouter
from parlez.nlu.classifiers.logistic_regression import LogisticRegressionClassifier
from parlez.nlu.classifiers.multilingual_intent import MultilingualIntentClassifier
from parlez.nlu.classifiers.sentiment import SentimentAnalyzer
from parlez.nlu.classifiers.sklearn_intent import SklearnIntentClassifier
from parlez.nlu.extractors.crf import CRFEntityExtractor
from parlez.nlu.extractors.duckling import DucklingEntityExtractor
from parlez.nlu.extractors.regex import RegexEntityExtractor
from parlez.nlu.extractors.synonyms import EntitySynonymMapper
from parlez.nlu.featurizers.count_vectors import CountVectorsFeaturizer
from parlez.nlu.featurizers.language_model import LanguageModelFeaturizer
from parlez.nlu.featurizers.lexical_syntactic import LexicalSyntacticFeaturizer
from parlez.nlu.featurizers.multilingual import MultilingualSentenceFeaturizer
from parlez.nlu.featurizers.regex import RegexFeaturizer
from parlez.nlu.selectors.response_selector import ResponseSelector
from parlez.nlu.spacy_components import (
    SpacyEntityExtractor,
    SpacyFeaturizer,
    SpacyNLP,
    SpacyTokenizer,
)
from parlez.nlu.tokenizers.jieba import JiebaTokenizer
from parlez.nlu.tokenizers.whitespace import WhitespaceTokenizer

__all__ = [
    "CRFEntityExtractor",
    "CountVectorsFeaturizer",
    "DIETClassifier",
    "DucklingEntityExtractor",
    "EntitySynonymMapper",
    "FallbackClassifier",
    "JiebaTokenizer",
    "KeywordIntentClassifier",
    "KnowledgeBaseRouter",
    "LanguageModelFeaturizer",
    "LexicalSyntacticFeaturizer",
    "LogisticRegressionClassifier",
    "MultilingualIntentClassifier",
    "MultilingualSentenceFeaturizer",
    "RegexEntityExtractor",
    "RegexFeaturizer",
    "ResponseSelector",
    "SentimentAnalyzer",
    "SklearnIntentClassifier",
    "SpacyEntityExtractor",
    "SpacyFeaturizer",
    "SpacyNLP",
    "SpacyTokenizer",
    "WhitespaceTokenizer",
]
