"""Training data: NLU examples, stories, rules and test stories, and their file formats."""

from parlez.training_data.message import Entity, Message
from parlez.training_data.training_data import LookupTable, RegexFeature, TrainingData

__all__ = ["Entity", "LookupTable", "Message", "RegexFeature", "TrainingData"]
