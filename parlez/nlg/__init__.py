"""Natural language generation: responses from the domain, or from an NLG server."""

from parlez.nlg.generator import NaturalLanguageGenerator, TemplatedGenerator

__all__ = ["NaturalLanguageGenerator", "TemplatedGenerator"]
