"""Featurizers: turn tokens into sparse or dense features for classifiers and extractors."""
