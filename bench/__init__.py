"""The launch-day throughput benchmark: `python -m bench` (issue 13); see bench/__main__.py."""
