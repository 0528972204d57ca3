"""Offline evaluation of the matcher: the reviewer-assignment gold standard and ranking sets."""
