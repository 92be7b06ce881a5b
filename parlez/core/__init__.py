"""Dialogue management: policies that choose the next action, the actions, and the processor."""
