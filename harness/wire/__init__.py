"""Talking to a panel: the HTTP client, its pacing, and the mock's control API. It returns
exchanges and never judges them.
"""
