"""Evaluating trained models: NLU (including cross-validation) and, later, stories."""
