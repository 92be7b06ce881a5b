"""Training data: NLU examples, stories, rules and test stories, and their file formats."""

from parlez.training_data.example import Entity, Example
from parlez.training_data.training_data import LookupTable, RegexFeature, TrainingData

__all__ = ["Entity", "Example", "LookupTable", "RegexFeature", "TrainingData"]
