"""Reader benchmarks: run from the project root, ``python -m benchmarks.<script>`` (see README)."""
