"""Natural language understanding: the component contract, components and pipeline."""
