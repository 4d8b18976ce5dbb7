"""Questionnaires as data, and the runner that asks them."""
