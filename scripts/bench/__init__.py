"""The course benchmark's parts; ``scripts/benchmark.py`` is its command line.

- ``headlines``: ``HEADLINES``, the figures each lesson asserts, and reading them from the lesson's kernel;
- ``lessons``: running a lesson headless and polling its kernel's memory;
- ``micro``: the paired speed micro-benchmarks;
- ``report``: machine info, the course's targets and the Markdown report.
"""
