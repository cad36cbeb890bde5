"""Datasets and statistics of captured data (never the data itself: that stays in ../shared/data)."""
