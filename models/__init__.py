"""Integrated Mesa models built on the ``sim`` engine."""
